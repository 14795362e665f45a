-- 80 % GET by id, 15 % PUT, 5 % POST.
local bench = require("bench")
local ids, bodies, i = nil, nil, 0

function init(args)
  ids = bench.ids()
  bodies = bench.entries(1000)
end

function request()
  i = i + 1
  local slot = i % 20
  if slot < 16 then
    return wrk.format("GET", "/addresses/" .. ids[i % #ids + 1])
  elseif slot < 19 then
    return wrk.format("PUT", "/addresses/" .. ids[i % #ids + 1], bench.json_headers, bodies[i % #bodies + 1])
  end
  return wrk.format("POST", "/addresses", bench.json_headers, bodies[i % #bodies + 1])
end

done = bench.done
