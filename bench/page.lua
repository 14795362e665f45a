-- GET /addresses?limit=100: the first page of 100 entries (the harness preloads 1,000).
local bench = require("bench")
wrk.method = "GET"
wrk.path = "/addresses?limit=100"
done = bench.done
