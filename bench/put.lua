-- PUT /addresses/{id}: replaces the preloaded entries with varied valid bodies.
local bench = require("bench")
local ids, bodies, i = nil, nil, 0

function init(args)
  ids = bench.ids()
  bodies = bench.entries(997)
end

function request()
  i = i + 1
  return wrk.format("PUT", "/addresses/" .. ids[i % #ids + 1], bench.json_headers, bodies[i % #bodies + 1])
end

done = bench.done
