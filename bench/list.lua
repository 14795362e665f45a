-- GET /addresses: the whole book (the harness preloads 1,000 or 10,000 entries).
local bench = require("bench")

function init(args)
  bench.prepare(1, function()
    return "GET", "/addresses"
  end)
end

done = bench.done
