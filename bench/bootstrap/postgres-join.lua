-- wrk script: POST /join with ids drawn from a pool of 64 (the bench sets maxpeers 32), so about
-- half the joins find their id stored (a write: record replaced or lease refreshed) and half find
-- the list full (nothing to write). Prints one JSON line with the totals at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
request = function()
  n = n + 1
  local id = "peer" .. math.random(0, 63)
  local body = id .. " " .. id .. "-bench 127.0.0.1 " .. (10000 + n % 50000) .. " tcp 0 1557509977"
  return wrk.format(nil, "/join", nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
