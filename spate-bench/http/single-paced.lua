-- wrk script: single-record requests (the raw body is one record's value, acks=all) sent at a
-- fixed rate: each thread keeps a schedule of RATE/threads requests per second and delays each
-- request until its slot, whatever the previous answers took (with enough connections, a slow
-- answer does not slow the schedule: the open-loop rate wrk2 gives, which Debian does not ship).
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } timespec_t;
int clock_gettime(int clk_id, timespec_t *tp);
]]
local ts = ffi.new("timespec_t")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local size = tonumber(os.getenv("VALUE_BYTES") or "100")
local topic = os.getenv("TOPIC") or "ingest"
local rate = tonumber(os.getenv("RATE") or "10000")
local threads = tonumber(os.getenv("THREADS") or "2")
wrk.method = "POST"
wrk.path = "/topics/" .. topic .. "/records"
wrk.headers["Content-Type"] = "application/octet-stream"
wrk.body = string.rep("x", size)

local interval = 1000 * threads / rate
local next_slot = nil
function delay()
  local t = now_ms()
  if next_slot == nil then next_slot = t end
  next_slot = next_slot + interval
  local wait = next_slot - t
  if wait < 0 then return 0 end
  return wait
end
function done(summary, latency, requests)
  io.write(string.format("NOT_200 %d\n", summary.errors.status))
end
