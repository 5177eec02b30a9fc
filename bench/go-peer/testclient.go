package main

// A test-server client of our own (the protocol of docs/testkit.md, "The test server"), so this
// peer can be driven by `isopeer test` like any other program:
//
//	go-peer -test NAME -name alice [-test-server URL] [-bootstrap URL] [-bind ADDR]
//	        [-test-protocol next|original]
//
// It runs this peer's script lines with a small chat (chat.go): init, msg, quit, sleep, echo,
// members, and the test commands testfilter and testwait. Every line it shows goes to stdout.
// `-test-protocol original` speaks only the endpoints the prototype's clients used (/getcommand
// polling, /putresult, /removecommand, /putevent), the way the original `cli-chat -test` does.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/ioutil"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type dispatch struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Seq         int    `json:"seq"`
	Command     string `json:"command"`
	RemainingMs int    `json:"remainingMs"`
}

type runDoc struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Commands    []string `json:"commands"`
	CurrentPeer string   `json:"currentpeer"`
	Status      string   `json:"status"`
}

type seenLine struct{ text, source string }

type testClient struct {
	server, peer, test string
	http               *http.Client
	chat               *chatNode
	run                runDoc

	mu      sync.Mutex
	filters []*localFilter
	seen    []seenLine
	changed chan struct{} // closed and replaced whenever a line is seen
	posts   chan func()   // reports to the server, sent one at a time in order
	quit    bool
}

type localFilter struct {
	*lineFilter
	received int
}

const seenLimit = 20000

func newTestClient(server, peer, test string) *testClient {
	c := &testClient{
		server: strings.TrimRight(server, "/"), peer: peer, test: test,
		http:    &http.Client{Timeout: 30 * time.Second},
		changed: make(chan struct{}), posts: make(chan func(), 1024),
	}
	go func() {
		for post := range c.posts {
			post()
		}
	}()
	return c
}

func (c *testClient) call(method, path string, body []byte, out interface{}) (int, error) {
	req, err := http.NewRequest(method, c.server+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, err := ioutil.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return res.StatusCode, err
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Errorf("%s: HTTP %d: %s", path, res.StatusCode, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		return res.StatusCode, json.Unmarshal(data, out)
	}
	return res.StatusCode, nil
}

func (c *testClient) postJSON(path string, doc interface{}) error {
	b, _ := json.Marshal(doc)
	_, err := c.call("POST", path, b, nil)
	return err
}

// show is the messages view: every line goes to stdout, is counted by the filters and kept for
// testwait; membership lines are also reported for the timeline.
func (c *testClient) show(text, source string) {
	fmt.Println(text)
	c.mu.Lock()
	c.seen = append(c.seen, seenLine{text, source})
	if len(c.seen) > seenLimit {
		c.seen = c.seen[len(c.seen)-seenLimit:]
	}
	close(c.changed)
	c.changed = make(chan struct{})
	for _, f := range c.filters {
		if f.matches(text, source) {
			f.received++
			c.posts <- c.eventPost(f, text)
		}
	}
	c.mu.Unlock()
	if kind := membershipKind(text); kind != "" {
		entry := map[string]interface{}{"id": c.run.ID, "peer": c.peer, "kind": kind, "text": text,
			"ts": float64(time.Now().UnixNano()) / 1e6}
		c.posts <- func() { c.postJSON("/putlog", entry) }
	}
}

func membershipKind(text string) string {
	switch {
	case strings.HasPrefix(text, "<joined>"):
		return "joined"
	case strings.HasPrefix(text, "<left>") && strings.Contains(text, " has failed"):
		return "failed"
	case strings.HasPrefix(text, "<left>"):
		return "left"
	}
	return ""
}

// eventPost reports one counted line, or (event "") registers the filter.
func (c *testClient) eventPost(f *localFilter, event string) func() {
	doc := map[string]interface{}{"id": c.run.ID, "name": c.run.Name, "peer": c.peer,
		"source": f.source, "filter": f.text, "num_expected_events": int(f.count.min),
		"num_received_events": f.received}
	if event != "" {
		doc["event"] = event
	}
	if !f.count.exact() {
		doc["expected"] = f.count.text
	}
	return func() {
		if err := c.postJSON("/putevent", doc); err != nil {
			fmt.Fprintf(os.Stderr, "go-peer: reporting an event: %v\n", err)
		}
	}
}

// flush waits until every report queued so far was sent.
func (c *testClient) flush() {
	done := make(chan struct{})
	c.posts <- func() { close(done) }
	<-done
}

// execute runs one script line; the error is its FAILED reason.
func (c *testClient) execute(line string, deadline time.Time) error {
	words, err := splitWords(strings.TrimPrefix(line, "/"))
	if err != nil || len(words) == 0 {
		return fmt.Errorf("cannot read %q: %v", line, err)
	}
	args := words[1:]
	switch words[0] {
	case "init":
		return c.chat.init()
	case "msg":
		return c.chat.msg(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), words[0])))
	case "quit":
		c.quit = true
		return c.chat.quit()
	case "members":
		c.show(c.chat.memberList(), "members")
	case "echo":
		c.show(strings.Join(args, " "), "echo")
	case "sleep":
		s, err := strconv.ParseFloat(strings.Join(args, ""), 64)
		if err != nil || s < 0 {
			return fmt.Errorf("usage: sleep <seconds>")
		}
		time.Sleep(time.Duration(s * float64(time.Second)))
	case "testfilter":
		f, err := parseFilter(args)
		if err != nil {
			return err
		}
		c.mu.Lock()
		var lf *localFilter
		for _, old := range c.filters {
			if old.key() == f.key() {
				lf = old
			}
		}
		if lf == nil {
			lf = &localFilter{lineFilter: f}
			c.filters = append(c.filters, lf)
		}
		// Queued under the lock, so the registration reaches the server before its events.
		c.posts <- c.eventPost(lf, "")
		c.mu.Unlock()
		c.flush()
	case "testwait":
		f, timeout, err := parseWait(args)
		if err != nil {
			return err
		}
		if deadline.Before(time.Now().Add(timeout)) {
			timeout = time.Until(deadline)
		}
		return c.wait(f, timeout)
	default:
		return fmt.Errorf("go-peer does not know %q (init, msg, quit, members, echo, sleep, testfilter, testwait)", words[0])
	}
	return nil
}

// wait blocks until the lines seen since start satisfy the filter's count.
func (c *testClient) wait(f *lineFilter, timeout time.Duration) error {
	limit := time.After(timeout)
	for {
		c.mu.Lock()
		n := 0
		for _, l := range c.seen {
			if f.matches(l.text, l.source) {
				n++
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if f.count.ok(n) {
			return nil
		}
		if f.count.passed(n) {
			return fmt.Errorf("saw %d matching lines, expected %s", n, f.count.text)
		}
		select {
		case <-changed:
		case <-limit:
			return fmt.Errorf("saw %d matching lines within %v, expected %s", n, timeout, f.count.text)
		}
	}
}

// connect is /init, retried while the server cannot be reached yet (it may still be starting).
func (c *testClient) connect() error {
	deadline := time.Now().Add(10 * time.Second)
	for delay := 50 * time.Millisecond; ; delay *= 2 {
		status, err := c.call("POST", "/init", []byte(c.test), &c.run)
		if err == nil || status != 0 || time.Now().After(deadline) {
			return err
		}
		if delay > time.Second {
			delay = time.Second
		}
		time.Sleep(delay)
	}
}

// runNext speaks our protocol: long-poll /next for this peer's lines, /complete with the result.
func (c *testClient) runNext() error {
	after := 0
	failingSince := time.Time{}
	for !c.quit {
		q := fmt.Sprintf("/next?peer=%s&after=%d&wait=20000&run=%s",
			url.QueryEscape(c.peer), after, url.QueryEscape(c.run.ID))
		var d dispatch
		status, err := c.call("GET", q, nil, &d)
		if err != nil {
			// A server gone for long (the runner ended) ends the client.
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > 30*time.Second {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		failingSince = time.Time{}
		if status == http.StatusNoContent {
			continue
		}
		if d.Type == "end" {
			return nil
		}
		if d.Type == "line" {
			after = d.Seq
		}
		result := map[string]interface{}{"id": d.ID, "seq": d.Seq, "peer": c.peer, "type": d.Type, "status": "OK"}
		var runErr error
		if d.Type == "control" {
			runErr = errors.New("go-peer cannot cut its own traffic; run isopeer test as root (--net netns)")
		} else {
			runErr = c.execute(d.Command, time.Now().Add(time.Duration(d.RemainingMs)*time.Millisecond))
		}
		if runErr != nil {
			result["status"] = "FAILED"
			result["error"] = strings.SplitN(runErr.Error(), "\n", 2)[0]
			c.show("<error> "+result["error"].(string), "test")
		}
		c.flush()
		if err := c.postJSON("/complete", result); err != nil {
			fmt.Fprintf(os.Stderr, "go-peer: %v\n", err) // 409: the deadline passed first
		}
	}
	return nil
}

// runOriginal speaks only what the prototype's clients used: poll /getcommand, run the first line
// when it is this peer's, /putresult and /removecommand.
func (c *testClient) runOriginal() error {
	prefix := c.peer + " "
	for !c.quit {
		var doc runDoc
		if _, err := c.call("POST", "/getcommand", nil, &doc); err != nil {
			return err
		}
		if doc.Status == "EMPTY" || doc.ID != c.run.ID {
			return nil
		}
		if doc.CurrentPeer != c.peer || len(doc.Commands) == 0 || !strings.HasPrefix(doc.Commands[0], prefix) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		command := strings.TrimPrefix(doc.Commands[0], prefix)
		status := "OK"
		if err := c.execute(command, time.Now().Add(time.Hour)); err != nil {
			status = "FAILED"
			c.show("<error> "+err.Error(), "test")
		}
		c.flush()
		body := strings.Join([]string{doc.ID, doc.Name, c.peer, status, command}, " ")
		if _, err := c.call("POST", "/putresult", []byte(body), nil); err != nil {
			fmt.Fprintf(os.Stderr, "go-peer: %v\n", err)
			continue
		}
		if _, err := c.call("POST", "/removecommand", []byte(c.peer), nil); err != nil {
			fmt.Fprintf(os.Stderr, "go-peer: %v\n", err)
		}
	}
	return nil
}

// runTestPeer is main for -test: returns the exit code.
func runTestPeer(o *options, stop <-chan struct{}) int {
	server := o.testServer
	if server == "" {
		server = os.Getenv("TEST_SIDECAR_SERVER")
	}
	bootstrapURL := o.bootstrap
	if bootstrapURL == "" {
		bootstrapURL = os.Getenv("BOOTSTRAP_DATA_SERVER")
	}
	if server == "" {
		fmt.Fprintln(os.Stderr, "go-peer: -test needs -test-server URL or TEST_SIDECAR_SERVER")
		return 2
	}
	if o.testProtocol != "next" && o.testProtocol != "original" {
		fmt.Fprintf(os.Stderr, "go-peer: -test-protocol must be next or original, got %q\n", o.testProtocol)
		return 2
	}
	c := newTestClient(server, o.name, strings.TrimSuffix(o.test, ".cmd"))
	c.chat = newChatNode(o.name, o.bind, o.config, bootstrapURL, c.show)
	if err := c.connect(); err != nil {
		fmt.Fprintf(os.Stderr, "go-peer: test server %s: %v\n", server, err)
		return 1
	}
	done := make(chan error, 1)
	go func() {
		if o.testProtocol == "original" {
			done <- c.runOriginal()
		} else {
			done <- c.runNext()
		}
	}()
	code := 0
	select {
	case err := <-done:
		if err != nil {
			fmt.Fprintf(os.Stderr, "go-peer: %v\n", err)
			code = 1
		}
		if !c.quit {
			// The run is over but the runner may still wait for events: stay until stopped.
			<-stop
		}
	case <-stop:
	}
	c.flush()
	c.chat.close()
	return code
}
