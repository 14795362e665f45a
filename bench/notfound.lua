-- GET of an unknown path: the 404 error body, the cheapest answer the service gives.
local bench = require("bench")
wrk.method = "GET"
wrk.path = "/no/such/endpoint"
done = bench.done
