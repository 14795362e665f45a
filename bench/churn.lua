-- DELETE and POST in turn: each DELETE removes an entry that exists (a preloaded one, then the ones the
-- POSTs made, taken from their Location headers), so the store keeps its size. The ids come from the
-- answers, so this is the one workload with a response() callback (wrk then hands every answer's headers
-- to Lua) and requests put together during the run: it costs wrk more per request than the others, which
-- the round's nginx CPU shows. The POSTs are formatted once, and a DELETE is three strings joined.
local bench = require("bench")
local queue, head, posts, step = nil, 1, {}, 0
local delete_line, delete_rest = "DELETE /addresses/", nil

function init(args)
  queue = bench.ids()
  for n, body in ipairs(bench.entries(1000)) do
    posts[n] = wrk.format("POST", "/addresses", bench.json_headers, body)
  end
  delete_rest = " HTTP/1.1\r\nHost: " .. wrk.headers["Host"] .. "\r\n\r\n"
end

local function next_request()
  step = step + 1
  if step % 2 == 0 and head <= #queue then
    local id = queue[head]
    queue[head] = nil
    head = head + 1
    return delete_line .. id .. delete_rest
  end
  return bench.cycle(posts, step)
end

function request()
  if bench.pipeline == 1 then
    return next_request()
  end
  local batch = {}
  for k = 1, bench.pipeline do
    batch[k] = next_request()
  end
  return table.concat(batch)
end

function response(status, headers, body)
  local location = headers["Location"]
  if status == 201 and location then
    queue[#queue + 1] = location:match("[%w-]+$")
  end
end

done = bench.done
