-- GET of an unknown path: the 404 error body, the cheapest answer the service gives.
local bench = require("bench")

function init(args)
  bench.prepare(1, function()
    return "GET", "/no/such/endpoint"
  end)
end

done = bench.done
