-- GET /addresses/{id}, cycling over the preloaded ids.
local bench = require("bench")

function init(args)
  local ids = bench.ids()
  bench.prepare(#ids, function(n)
    return "GET", "/addresses/" .. ids[n]
  end)
end

done = bench.done
