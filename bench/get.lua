-- GET /addresses/{id}, cycling over the preloaded ids.
local bench = require("bench")
local ids, i = nil, 0

function init(args)
  ids = bench.ids()
end

function request()
  i = i + 1
  return wrk.format("GET", "/addresses/" .. bench.id(ids, i))
end

done = bench.done
