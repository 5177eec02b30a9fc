-- POST /ping with an empty body, like the original client.
wrk.method = "POST"
wrk.path = "/ping"
