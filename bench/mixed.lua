-- A mix of GET by id, PUT and POST in the percentages of BENCH_MIX ("get,put,post"; default 80,15,5).
-- The put workload is this script with BENCH_MIX=0,100,0: PUTs replacing the preloaded entries.
local bench = require("bench")

function init(args)
  local ids, bodies = bench.ids(), bench.entries(997)
  local get, put = (os.getenv("BENCH_MIX") or "80,15,5"):match("^(%d+),(%d+),%d+$")
  local get_below, put_below = tonumber(get), tonumber(get) + tonumber(put)
  -- Each run of 100 requests has the mix; 2,000 of them go over the ids twice and vary the bodies.
  bench.prepare(2000, function(n)
    local slot = n % 100
    if slot < get_below then
      return "GET", "/addresses/" .. bench.cycle(ids, n)
    elseif slot < put_below then
      return "PUT", "/addresses/" .. bench.cycle(ids, n), bench.json_headers, bench.cycle(bodies, n)
    end
    return "POST", "/addresses", bench.json_headers, bench.cycle(bodies, n)
  end)
end

done = bench.done
