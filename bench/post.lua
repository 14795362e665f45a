-- POST /addresses of varied valid entries (every one is validated against the schema and stored).
local bench = require("bench")
local bodies, i = nil, 0

function init(args)
  bodies = bench.entries(1000)
end

function request()
  i = i + 1
  return wrk.format("POST", "/addresses", bench.json_headers, bench.body(bodies, i))
end

done = bench.done
