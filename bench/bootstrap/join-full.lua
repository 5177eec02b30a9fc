-- POST /join with a fresh id each time while the list is full (maxpeers 2, 2 stored): the
-- original's usual case once a group exists. Nothing changes, but every join must still wait
-- for writes queued before it to be durable before it is answered.
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
  local body = "t" .. tid .. "-" .. counter .. " bench 127.0.0.1 7946 tcp 0 1557509977"
  return wrk.format("POST", "/join", nil, body)
end
