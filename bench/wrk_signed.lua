-- wrk script for bench/ingest.py: replays pre-signed WhatsApp webhook bodies.
--
--   wrk -t<T> -c<C> -d<S>s --latency -s bench/wrk_signed.lua <url> -- <pool> <result.json> <T> [rate]
--
-- <pool>.<tid> holds the bodies of wrk thread <tid>, one per line: "<hex signature>\t<body>".
-- Each thread sends its bodies in file order and starts over at the end (a body sent twice is
-- a redelivery), so bench/ingest.py knows exactly which bodies were sent from the per-thread
-- send counts that done() writes to <result.json>, together with wrk's totals and latencies.
--
-- With [rate] (requests per second over all threads), delay() paces the requests: each thread
-- hands out send slots every <T>/rate seconds to whichever of its connections is free. A slot
-- that is already past when a connection asks for it is sent at once and counted as late, so
-- the summary shows whether the schedule was kept (wrk measures latency from the actual send).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])

local CLOCK_MONOTONIC = 1

-- main state: one handle per wrk thread, for done()
local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- thread state ---------------------------------------------------------------------------

local requests = {}
local count = 0
-- wrk calls request() once on thread 0 before any connection exists, to check the request
-- parses (script_verify_request); that call sends nothing and must not count as a send.
local verifying = false
sent = 0
late = 0
max_lag_ms = 0
result_path = ""

local timespec = ffi.new("bench_timespec")

local function now_ms()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
   return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

local function paced(interval_ms)
   local next_slot = nil
   return function()
      local now = now_ms()
      local slot = next_slot or now
      if slot < now then
         local lag = now - slot
         if lag > 1 then
            late = late + 1
         end
         if lag > max_lag_ms then
            max_lag_ms = lag
         end
      end
      next_slot = slot + interval_ms
      local wait = slot - now
      if wait < 0 then
         return 0
      end
      return math.floor(wait + 0.5)
   end
end

function init(args)
   local pool = args[1]
   result_path = args[2]
   local nthreads = tonumber(args[3])
   local rate = tonumber(args[4])
   local path = pool .. "." .. tid
   for line in io.lines(path) do
      local signature, body = line:match("^(%x+)\t(.+)$")
      if signature == nil then
         error("malformed line in " .. path)
      end
      count = count + 1
      requests[count] = wrk.format("POST", nil, {
         ["Content-Type"] = "application/json",
         ["X-Hub-Signature-256"] = "sha256=" .. signature,
      }, body)
   end
   if count == 0 then
      error("no bodies in " .. path)
   end
   verifying = (tid == 0)
   if rate ~= nil and rate > 0 then
      delay = paced(1000 * nthreads / rate)
   end
end

function request()
   if verifying then
      verifying = false
      return requests[1]
   end
   local index = sent % count + 1
   sent = sent + 1
   return requests[index]
end

-- main state again --------------------------------------------------------------------------

local function int(x)
   return string.format("%d", math.floor(x))
end

function done(summary, latency, requests_stats)
   local per_thread = {}
   for _, thread in ipairs(threads) do
      table.insert(per_thread, string.format(
         '{"tid":%s,"sent":%s,"late":%s,"max_lag_ms":%.3f}',
         int(thread:get("tid")), int(thread:get("sent")), int(thread:get("late")),
         thread:get("max_lag_ms")
      ))
   end
   local errors = summary.errors
   local out = string.format(
      '{"duration_us":%s,"requests":%s,"bytes":%s,' ..
      '"errors":{"connect":%s,"read":%s,"write":%s,"status":%s,"timeout":%s},' ..
      '"latency_us":{"p50":%s,"p90":%s,"p99":%s,"p999":%s,"max":%s,"mean":%.1f},' ..
      '"threads":[%s]}\n',
      int(summary.duration), int(summary.requests), int(summary.bytes),
      int(errors.connect), int(errors.read), int(errors.write), int(errors.status),
      int(errors.timeout),
      int(latency:percentile(50)), int(latency:percentile(90)), int(latency:percentile(99)),
      int(latency:percentile(99.9)), int(latency.max), latency.mean,
      table.concat(per_thread, ",")
   )
   local path = threads[1]:get("result_path")
   local file = assert(io.open(path, "w"))
   file:write(out)
   file:close()
end
