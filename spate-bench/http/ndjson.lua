-- wrk script: each request POSTs BATCH records as NDJSON to /topics/TOPIC/records (acks=all, the
-- HTTP default); each record a VALUE_BYTES-character value, like ProducerPerformance's records.
local batch = tonumber(os.getenv("BATCH") or "100")
local size = tonumber(os.getenv("VALUE_BYTES") or "100")
local topic = os.getenv("TOPIC") or "ingest"
local line = '{"value":"' .. string.rep("x", size) .. '"}\n'
wrk.method = "POST"
wrk.path = "/topics/" .. topic .. "/records"
wrk.headers["Content-Type"] = "application/x-ndjson"
wrk.body = string.rep(line, batch)

-- Answers of status >= 400 (wrk counts them); a 207, some records refused, shows as fewer records
-- in the topic than sent, which the script checks.
function done(summary, latency, requests)
  io.write(string.format("NOT_200 %d\n", summary.errors.status))
end
