-- Shared by the workload scripts: entry bodies from bench/entry.json, the preloaded ids the harness
-- wrote, and one JSON line of results that tools/run.py bench reads.
local bench = {}

local function read_file(path)
  local file = assert(io.open(path, "r"))
  local text = file:read("*a")
  file:close()
  return text
end

-- The preloaded ids, one per line, from the file the harness names in BENCH_IDS.
function bench.ids()
  local ids = {}
  for id in read_file(os.getenv("BENCH_IDS")):gmatch("[%w-]+") do
    ids[#ids + 1] = id
  end
  assert(#ids > 0, "no preloaded ids")
  return ids
end

-- A valid entry of about 0.9 KB, different for each n (the same template the harness preloads).
local template = read_file(os.getenv("BENCH_DIR") .. "/entry.json"):gsub("%s+$", "")

function bench.entry(n)
  local values = {n = n, unit = n % 500, street = 1000 + n % 9000, phone = 5550000 + n % 10000}
  return (template:gsub("{(%w+)}", function(key) return tostring(values[key]) end))
end

-- count different entry bodies, made once so that wrk spends its time sending them.
function bench.entries(count)
  local bodies = {}
  for n = 1, count do
    bodies[n] = bench.entry(n)
  end
  return bodies
end

bench.json_headers = {["Content-Type"] = "application/json"}

-- The request body for the n-th request, cycling over the bodies.
function bench.body(bodies, n)
  return bodies[n % #bodies + 1]
end

-- The id for the n-th request, cycling over the ids.
function bench.id(ids, n)
  return ids[n % #ids + 1]
end

function bench.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

return bench
