-- DELETE and POST in turn: each DELETE removes an entry that exists (a preloaded one, then the ones the
-- POSTs made, taken from their Location headers), so the store keeps its size.
local bench = require("bench")
local queue, head, bodies, i = nil, 1, nil, 0

function init(args)
  queue, bodies = bench.ids(), bench.entries(1000)
end

function request()
  i = i + 1
  if i % 2 == 0 and head <= #queue then
    local id = queue[head]
    queue[head] = nil
    head = head + 1
    return wrk.format("DELETE", "/addresses/" .. id)
  end
  return wrk.format("POST", "/addresses", bench.json_headers, bench.body(bodies, i))
end

function response(status, headers, body)
  local location = headers["Location"]
  if status == 201 and location then
    queue[#queue + 1] = location:match("[%w-]+$")
  end
end

done = bench.done
