-- POST /list: answers the whole document (2 peers stored by run.mjs before the run).
wrk.method = "POST"
wrk.path = "/list"
