-- Alternating POST /join and POST /leave of fresh ids with room to spare: EVERY request changes
-- the state, so every request needs a durable write (temp file, fsync, rename, fsync dir).
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
  local id = "t" .. tid .. "-" .. math.floor((counter + 1) / 2)
  if counter % 2 == 1 then
    return wrk.format("POST", "/join", nil, id .. " bench 127.0.0.1 7946 tcp 0 1557509977")
  end
  return wrk.format("POST", "/leave", nil, id)
end
