-- wrk script for bench/load.py: POST bodies from a file, count failures, print JSON.
--
--   wrk -s bench/wrk.lua URL -- BODIES_FILE
--
-- BODIES_FILE holds one request body per line; each thread cycles through
-- them from its own offset. A response other than 200 counts as a bad status,
-- a 200 whose body holds an "errors" key as a GraphQL error. With the
-- environment variable BENCH_THREAD_RATE (requests/s per wrk thread) set, a
-- delay() paces the requests to that rate (wrk has no rate option; wrk2 is
-- not in Debian). done() prints one line: WRK_JSON {...}.

local threads = {}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("index", started)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, nil, line)
    end
  end
  assert(#requests > 0, "no request bodies in " .. args[1])
  position = (index * 7919) % #requests
  bad_status = 0
  graphql_errors = 0
  statuses = {}
end

function request()
  position = position % #requests + 1
  return requests[position]
end

function response(status, headers, body)
  if status ~= 200 then
    bad_status = bad_status + 1
    statuses[status] = (statuses[status] or 0) + 1
  elseif body:find('"errors"', 1, true) then
    graphql_errors = graphql_errors + 1
  end
end

local rate = tonumber(os.getenv("BENCH_THREAD_RATE") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock_id, bench_timespec *tp);
  ]]
  local now = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, now) -- CLOCK_MONOTONIC
    return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
  end
  local interval = 1000 / rate
  local slot -- this thread's next send time, ms

  -- A schedule of evenly spaced slots per thread; each connection, once its
  -- response is in, takes the next slot. Late slots fire at once, up to one
  -- second of backlog, so short stalls do not lower the average rate.
  function delay()
    local t = now_ms()
    if slot == nil or slot < t - 1000 then
      slot = t
    end
    local wait = slot - t
    slot = slot + interval
    return wait > 0 and math.floor(wait) or 0
  end
end

function done(summary, latency, _)
  local bad, errors, by_status = 0, 0, {}
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("bad_status")
    errors = errors + thread:get("graphql_errors")
    for status, n in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(by_status) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,'
      .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"bad_status":%d,'
      .. '"graphql_errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,'
      .. '"mean_us":%.1f,"max_us":%d,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.timeout, bad, errors, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, latency.max, table.concat(parts, ",")
  ))
end
