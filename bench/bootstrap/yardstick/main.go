// A yardstick for the bootstrap load benchmark: Go's net/http answering /ping with "OK" and
// /list with a fixed document held in memory, the least work an HTTP server can do for these
// endpoints. run.mjs --yardstick measures it right after our server, with the same wrk scripts, so
// a reader can tell a slow moment of the machine from a slow server. It is not the original
// bootstrap server (that one also read its state file); other paths answer 200 "OK" so that
// run.mjs's state preparation succeeds.
//
// Build (no modules, standard library only): GO111MODULE=off go build -o yardstick main.go
// Run: yardstick 127.0.0.1:PORT
package main

import (
	"fmt"
	"net/http"
	"os"
	"sync"
)

const document = `{
  "peers": {
    "a": {
      "id": "a",
      "name": "bench-a",
      "address": "127.0.0.1",
      "port": 7946,
      "protocol": "tcp",
      "numrefilled": 0,
      "timestamp": "1557509977"
    }
  },
  "maxpeers": 2,
  "minrefillcandidates": 2,
  "numpeers": 1
}
`

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: yardstick HOST:PORT")
		os.Exit(2)
	}
	var mu sync.Mutex
	state := []byte(document)
	http.HandleFunc("/list", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body := state
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(body)
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("OK"))
	})
	if err := http.ListenAndServe(os.Args[1], nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
