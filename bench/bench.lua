-- Shared by the workload scripts: entry bodies from bench/entry.json, the preloaded ids the harness
-- wrote, the requests made once before the run, and one JSON line of results that tools/run.py bench reads.
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

-- count different entry bodies.
function bench.entries(count)
  local bodies = {}
  for n = 1, count do
    bodies[n] = bench.entry(n)
  end
  return bodies
end

bench.json_headers = {["Content-Type"] = "application/json"}

-- The n-th item of a list, cycling over it.
function bench.cycle(list, n)
  return list[(n - 1) % #list + 1]
end

-- Requests wrk sends in one write (tools/run.py bench --pipeline; 1 unless pipelining).
bench.pipeline = tonumber(os.getenv("BENCH_PIPELINE") or "1")

local function gcd(a, b)
  while b ~= 0 do
    a, b = b, a % b
  end
  return a
end

-- Writes "METHOD path" of each request to the file BENCH_PATHS names (the open-loop runs replay them).
local function write_paths(lines)
  local path = os.getenv("BENCH_PATHS")
  if path and path ~= "" then
    local file = assert(io.open(path, "w"))
    file:write(table.concat(lines, "\n"), "\n")
    file:close()
  end
end

-- Makes the workload's count requests once, before the run: make(n) returns the n-th as method, path,
-- headers, body. During the run request() hands them out in that order, cycling, bench.pipeline to a write,
-- so that wrk's core spends its time sending and reading rather than formatting in Lua. A single request
-- sent alone is left to wrk itself (no request() at all), its fastest path. Call it from init().
function bench.prepare(count, make)
  local formatted, lines = {}, {}
  for n = 1, count do
    local method, path, headers, body = make(n)
    formatted[n] = wrk.format(method, path, headers, body)
    lines[n] = method .. " " .. path
  end
  write_paths(lines)
  if count == 1 and bench.pipeline == 1 then
    local headers
    wrk.method, wrk.path, headers, wrk.body = make(1)
    for name, value in pairs(headers or {}) do
      wrk.headers[name] = value
    end
    return
  end
  -- Whole cycles of the sequence in whole batches, so that it is sent in order however many a batch holds.
  local per = bench.pipeline
  local batches = {}
  for b = 1, count / gcd(count, per) do
    local parts = {}
    for k = 1, per do
      parts[k] = bench.cycle(formatted, (b - 1) * per + k)
    end
    batches[b] = table.concat(parts)
  end
  -- wrk calls request() once before the run to count the requests in a batch, and never sends that one:
  -- that call gets the first batch without moving on, so what is sent starts at the beginning.
  local next_batch, counted = 1, false
  request = function()
    if not counted then
      counted = true
      return batches[1]
    end
    local batch = batches[next_batch]
    next_batch = next_batch % #batches + 1
    return batch
  end
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
