-- GET /addresses: the whole book (the harness preloads 1,000 or 10,000 entries).
local bench = require("bench")
wrk.method = "GET"
wrk.path = "/addresses"
done = bench.done
