-- POST /refill of fresh candidates, each OLDER than every stored peer (timestamps count down,
-- zero-padded so string order is numeric order): every refill replaces the newest stored peer,
-- so every request changes the state and needs a durable write. The worst case for refill.
local counter = 0
local tid = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init()
  tid = wrk.thread:get("tid")
end
function request()
  counter = counter + 1
  local ts = string.format("%012d", 999999999999 - counter * 16 - tid)
  local body = "r" .. tid .. "-" .. counter .. " bench 127.0.0.1 7946 tcp 0 " .. ts
  return wrk.format("POST", "/refill", nil, body)
end
