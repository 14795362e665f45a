-- POST /addresses of varied valid entries (every one is validated against the schema and stored).
local bench = require("bench")

function init(args)
  local bodies = bench.entries(1000)
  bench.prepare(#bodies, function(n)
    return "POST", "/addresses", bench.json_headers, bodies[n]
  end)
end

done = bench.done
