-- A mix of GET by id, PUT and POST in the percentages of BENCH_MIX ("get,put,post"; default 80,15,5).
-- The put workload is this script with BENCH_MIX=0,100,0: PUTs replacing the preloaded entries.
local bench = require("bench")
local ids, bodies, i = nil, nil, 0
local get_below, put_below = 80, 95

function init(args)
  ids, bodies = bench.ids(), bench.entries(997)
  local get, put = (os.getenv("BENCH_MIX") or "80,15,5"):match("^(%d+),(%d+),%d+$")
  get_below, put_below = tonumber(get), tonumber(get) + tonumber(put)
end

function request()
  i = i + 1
  local slot = i % 100
  if slot < get_below then
    return wrk.format("GET", "/addresses/" .. bench.id(ids, i))
  elseif slot < put_below then
    return wrk.format("PUT", "/addresses/" .. bench.id(ids, i), bench.json_headers, bench.body(bodies, i))
  end
  return wrk.format("POST", "/addresses", bench.json_headers, bench.body(bodies, i))
end

done = bench.done
