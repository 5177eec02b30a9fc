// Command go-peer is isopeer's reference peer: a bare HashiCorp memberlist 0.2.2 node speaking
// the node line protocol (docs/node-line-protocol.md in the shared docs, plus
// docs/node-line-protocol-extensions.md), so the interop tests and benchmarks drive it exactly
// like `isopeer node`. With -test NAME it is instead a scripted chat peer driven by a test server
// (testclient.go, chat.go), for `isopeer test --peer-cmd`. Build in GOPATH mode against Debian's
// sources:
//
//	GO111MODULE=off GOPATH=$scratch:/usr/share/gocode go build -o go-peer .
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

type event map[string]interface{}

// emitter writes one JSON object per line; the mutex keeps lines from different goroutines whole.
type emitter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (e *emitter) emit(ev event) {
	ev["ts"] = float64(time.Now().UnixNano()) / 1e6
	b, err := json.Marshal(ev)
	if err != nil {
		b, _ = json.Marshal(event{"event": "error", "ts": ev["ts"], "message": err.Error()})
	}
	e.mu.Lock()
	e.w.Write(b)
	e.w.WriteByte('\n')
	e.w.Flush()
	e.mu.Unlock()
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type options struct {
	name, bind, join, config, meta string
	port, count                    int
	countSet                       bool
	keys                           stringList
	// With --count: node i > 0 starts its join to node 0 i × joinStaggerMs after start (0 = all at once).
	joinStaggerMs int

	// -test: a scripted chat peer driven by a test server (testclient.go) instead of the line protocol.
	test, testServer, bootstrap, testProtocol string
}

// maxJoinStaggerMs is the largest --join-stagger-ms, as in `isopeer node`.
const maxJoinStaggerMs = 60000

func parseFlags() (*options, error) {
	o := &options{}
	host, _ := os.Hostname()
	fs := flag.NewFlagSet("go-peer", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.StringVar(&o.name, "name", host, "node name (unique in the cluster)")
	fs.StringVar(&o.bind, "bind", "127.0.0.1", "bind address")
	fs.IntVar(&o.port, "port", 0, "UDP and TCP port, 0 = ephemeral")
	fs.StringVar(&o.join, "join", "", "H:P[,H:P...] to join after start")
	fs.StringVar(&o.config, "config", "local", "local|lan|wan preset")
	fs.StringVar(&o.meta, "meta", "", "node metadata")
	fs.Var(&o.keys, "key", "base64 encryption key, repeatable, first is primary")
	fs.IntVar(&o.count, "count", 1, "run K nodes in this process")
	fs.IntVar(&o.joinStaggerMs, "join-stagger-ms", 0, "with --count: node i > 0 starts its join to node 0 i*MS ms after start (0 = all at once)")
	fs.StringVar(&o.test, "test", "", "run this peer's lines of test NAME from a test server (chat peer)")
	fs.StringVar(&o.testServer, "test-server", "", "test server URL (default $TEST_SIDECAR_SERVER)")
	fs.StringVar(&o.bootstrap, "bootstrap", "", "bootstrap service URL for -test (default $BOOTSTRAP_DATA_SERVER)")
	fs.StringVar(&o.testProtocol, "test-protocol", "next", "next (long-poll) or original (the prototype's /getcommand polling)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.countSet = o.countSet || f.Name == "count" })
	if o.count < 1 {
		return nil, fmt.Errorf("--count must be at least 1, got %d", o.count)
	}
	if o.joinStaggerMs < 0 || o.joinStaggerMs > maxJoinStaggerMs {
		return nil, fmt.Errorf("--join-stagger-ms must be a whole number from 0 to %d, got %d", maxJoinStaggerMs, o.joinStaggerMs)
	}
	if o.port < 0 || o.port+o.count-1 > 65535 {
		return nil, fmt.Errorf("--port %d out of range", o.port)
	}
	if len(o.meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("--meta is %d bytes, the limit is %d", len(o.meta), memberlist.MetaMaxSize)
	}
	return o, nil
}

func baseConfig(preset string) (*memberlist.Config, error) {
	switch preset {
	case "local":
		return memberlist.DefaultLocalConfig(), nil
	case "lan":
		return memberlist.DefaultLANConfig(), nil
	case "wan":
		return memberlist.DefaultWANConfig(), nil
	}
	return nil, fmt.Errorf("--config must be local, lan or wan, got %q", preset)
}

func decodeKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("key %q is not base64: %v", s, err)
	}
	if err := memberlist.ValidateKey(k); err != nil {
		return nil, fmt.Errorf("key %q: %v", s, err)
	}
	return k, nil
}

// keyring always returns a keyring, empty without keys, so that `key install` can turn
// encryption on later (memberlist encrypts only when the keyring holds a key).
func keyring(encoded []string) (*memberlist.Keyring, error) {
	if len(encoded) == 0 {
		return memberlist.NewKeyring(nil, nil)
	}
	keys := make([][]byte, 0, len(encoded))
	for _, s := range encoded {
		k, err := decodeKey(s)
		if err != nil {
			return nil, fmt.Errorf("--%v", err)
		}
		keys = append(keys, k)
	}
	return memberlist.NewKeyring(keys, keys[0])
}

// startPeer creates one memberlist node; the caller joins it to the cluster.
func startPeer(o *options, name string, port int, out *emitter, g *group) (*peer, error) {
	conf, err := baseConfig(o.config)
	if err != nil {
		return nil, err
	}
	conf.Name = name
	conf.BindAddr = o.bind
	conf.BindPort = port
	conf.AdvertisePort = port
	// Each node needs its own Keyring: memberlist mutates it on key rotation.
	if conf.Keyring, err = keyring(o.keys); err != nil {
		return nil, err
	}
	if os.Getenv("GO_PEER_QUIET") != "" {
		conf.LogOutput = ioutil.Discard
	}
	p := newPeer(name, []byte(o.meta), out, g)
	p.conf = conf
	conf.Delegate = p
	conf.Events = p
	p.queue = &memberlist.TransmitLimitedQueue{RetransmitMult: conf.RetransmitMult}
	ml, err := memberlist.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("node %s: %v", name, err)
	}
	p.ml = ml
	p.queue.NumNodes = ml.NumMembers
	ln := ml.LocalNode()
	out.emit(event{"event": "ready", "name": name, "addr": ln.Addr.String(), "port": ln.Port})
	return p, nil
}

func splitAddrs(s string) []string {
	var addrs []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// join reports its outcome as a `joined` event (extension) besides the membership events.
func (p *peer) join(addrs []string) {
	n, err := p.ml.Join(addrs)
	ev := event{"event": "joined", "self": p.name, "contacted": n, "ok": err == nil}
	if err != nil {
		ev["error"] = err.Error()
	}
	p.out.emit(ev)
}

type runner struct {
	out      *emitter
	peers    []*peer
	stopOnce sync.Once
	stopped  chan struct{}
}

func (r *runner) shutdown(reason string) {
	r.stopOnce.Do(func() {
		for _, p := range r.peers {
			p.ml.Shutdown()
		}
		r.out.emit(event{"event": "shutdown", "reason": reason})
		close(r.stopped)
	})
}

func (r *runner) fail(format string, a ...interface{}) {
	r.out.emit(event{"event": "error", "message": fmt.Sprintf(format, a...)})
}

func (p *peer) findMember(name string) *memberlist.Node {
	for _, n := range p.ml.Members() {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// command runs one input line. Commands that may block (network waits) run in their own
// goroutine so the input keeps flowing; their answers carry enough fields to match them up.
func (r *runner) command(line string) {
	line = strings.TrimSpace(line)
	if line == "" {
		return
	}
	p := r.peers[0]
	if strings.HasPrefix(line, "@") {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			sp = len(line)
		}
		i, err := strconv.Atoi(line[1:sp])
		if err != nil || i < 0 || i >= len(r.peers) {
			r.fail("bad node prefix %q: expected @0..@%d", line[:sp], len(r.peers)-1)
			return
		}
		p = r.peers[i]
		line = strings.TrimSpace(line[sp:])
	}
	verb, rest := line, ""
	if sp := strings.IndexByte(line, ' '); sp >= 0 {
		verb, rest = line[:sp], line[sp+1:]
	}
	switch verb {
	case "members":
		var list []event
		for _, n := range p.ml.Members() {
			list = append(list, event{"name": n.Name, "addr": n.Addr.String(), "port": n.Port,
				"state": stateName(viewOf(n).State), "meta": string(n.Meta)})
		}
		if list == nil {
			list = []event{}
		}
		r.out.emit(event{"event": "members", "self": p.name, "count": len(list), "members": list})
	case "broadcast":
		msg := p.payload('B', rest)
		parts := strings.SplitN(string(msg), "|", 4)
		p.mu.Lock()
		p.seen[parts[1]+"|"+parts[2]] = true
		p.mu.Unlock()
		p.queue.QueueBroadcast(&appBroadcast{msg: msg})
		atomic.AddInt64(&p.c.broadcastsSent, 1)
		r.out.emit(event{"event": "broadcast-queued", "self": p.name, "data": rest, "id": parts[2]})
	case "send", "sendbest":
		sp := strings.IndexByte(rest, ' ')
		to, text := rest, ""
		if sp >= 0 {
			to, text = rest[:sp], rest[sp+1:]
		}
		if to == "" {
			r.fail("%s needs a node name: %s <node> <text>", verb, verb)
			return
		}
		go p.send(verb == "send", to, text)
	case "meta":
		if len(rest) > memberlist.MetaMaxSize {
			r.fail("meta is %d bytes, the limit is %d", len(rest), memberlist.MetaMaxSize)
			return
		}
		p.mu.Lock()
		p.meta = []byte(rest)
		p.mu.Unlock()
		go func() {
			if err := p.ml.UpdateNode(5 * time.Second); err != nil {
				r.fail("meta: %v", err)
			}
		}()
	case "health":
		r.out.emit(event{"event": "health", "self": p.name, "score": p.ml.GetHealthScore()})
	case "stats":
		r.out.emit(p.stats())
	case "join":
		addrs := splitAddrs(rest)
		if len(addrs) == 0 {
			r.fail("join needs addresses: join H:P[,H:P...]")
			return
		}
		go p.join(addrs)
	case "leave":
		ms, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil || ms < 0 {
			r.fail("leave needs a timeout in ms: leave <ms>, got %q", rest)
			return
		}
		go func() {
			err := p.ml.Leave(time.Duration(ms) * time.Millisecond)
			ev := event{"event": "left", "self": p.name, "ok": err == nil}
			if err != nil {
				ev["error"] = err.Error()
			}
			r.out.emit(ev)
		}()
	case "key":
		r.keyCommand(p, rest)
	case "verify":
		r.verifyCommand(p, rest)
	case "shutdown":
		r.shutdown("command")
	default:
		r.fail("unknown command %q (members, broadcast, send, sendbest, meta, health, stats, join, leave, key, verify, shutdown)", verb)
	}
}

// keyCommand: `key list|install|use|remove [<base64>]`, answered with `keys`.
func (r *runner) keyCommand(p *peer, args string) {
	f := strings.Fields(args)
	if len(f) == 0 || (f[0] != "list" && len(f) != 2) {
		r.fail("usage: key list | key install|use|remove <base64>")
		return
	}
	kr := p.conf.Keyring
	var err error
	switch f[0] {
	case "list":
	case "install", "use", "remove":
		var k []byte
		if k, err = decodeKey(f[1]); err != nil {
			break
		}
		switch f[0] {
		case "install":
			err = kr.AddKey(k)
		case "use":
			err = kr.UseKey(k)
		default:
			err = kr.RemoveKey(k)
		}
	default:
		err = fmt.Errorf("unknown key operation %q (list, install, use, remove)", f[0])
	}
	if err != nil {
		r.fail("key %s: %v", f[0], err)
		return
	}
	keys := []string{}
	for _, k := range kr.GetKeys() {
		keys = append(keys, base64.StdEncoding.EncodeToString(k))
	}
	var primary interface{}
	if pk := kr.GetPrimaryKey(); pk != nil {
		primary = base64.StdEncoding.EncodeToString(pk)
	}
	r.out.emit(event{"event": "keys", "self": p.name, "keys": keys, "primary": primary})
}

// verifyCommand: `verify [incoming|outgoing on|off]`, answered with `verify`. memberlist reads
// these two Config fields on every packet, which is how Go applications flip them live.
func (r *runner) verifyCommand(p *peer, args string) {
	f := strings.Fields(args)
	if len(f) != 0 {
		if len(f) != 2 || (f[0] != "incoming" && f[0] != "outgoing") || (f[1] != "on" && f[1] != "off") {
			r.fail("usage: verify [incoming|outgoing on|off]")
			return
		}
		if f[0] == "incoming" {
			p.conf.GossipVerifyIncoming = f[1] == "on"
		} else {
			p.conf.GossipVerifyOutgoing = f[1] == "on"
		}
	}
	r.out.emit(event{"event": "verify", "self": p.name,
		"incoming": p.conf.GossipVerifyIncoming, "outgoing": p.conf.GossipVerifyOutgoing})
}

func (p *peer) send(reliable bool, to, text string) {
	mode, kind := "besteffort", byte('U')
	if reliable {
		mode, kind = "reliable", 'R'
	}
	ev := event{"event": "sent", "self": p.name, "mode": mode, "to": to}
	n := p.findMember(to)
	var err error
	if n == nil {
		err = errors.New("unknown or dead node")
	} else if reliable {
		err = p.ml.SendReliable(n, p.payload(kind, text))
	} else {
		err = p.ml.SendBestEffort(n, p.payload(kind, text))
	}
	ev["ok"] = err == nil
	if err != nil {
		ev["error"] = err.Error()
		atomic.AddInt64(&p.c.sendFailed, 1)
	} else {
		atomic.AddInt64(&p.c.sendOK, 1)
	}
	p.out.emit(ev)
}

func (p *peer) stats() event {
	ln := p.ml.LocalNode()
	return event{
		"event": "stats", "self": p.name, "members": p.ml.NumMembers(),
		"health": p.ml.GetHealthScore(), "incarnation": viewOf(ln).Incarnation,
		"queued": p.queue.NumQueued(),
		"msgsIn": atomic.LoadInt64(&p.c.msgsIn), "broadcastsIn": atomic.LoadInt64(&p.c.broadcastsIn),
		"broadcastsRelayed": atomic.LoadInt64(&p.c.broadcastsRelayed),
		"broadcastsSent":    atomic.LoadInt64(&p.c.broadcastsSent),
		"sendOk":            atomic.LoadInt64(&p.c.sendOK), "sendFailed": atomic.LoadInt64(&p.c.sendFailed),
		"merges": atomic.LoadInt64(&p.c.merges), "joins": atomic.LoadInt64(&p.c.joins),
		"leaves": atomic.LoadInt64(&p.c.leaves), "updates": atomic.LoadInt64(&p.c.updates),
		"processSuspicionsRaised": atomic.LoadInt64(&processMetrics.suspects),
		"processDeathsDeclared":   atomic.LoadInt64(&processMetrics.deaths),
	}
}

func main() {
	out := &emitter{w: bufio.NewWriter(os.Stdout)}
	o, err := parseFlags()
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "go-peer: %v\n", err)
		os.Exit(2)
	}
	if _, err := baseConfig(o.config); err != nil {
		fmt.Fprintf(os.Stderr, "go-peer: %v\n", err)
		os.Exit(2)
	}
	if _, err := keyring(o.keys); err != nil {
		fmt.Fprintf(os.Stderr, "go-peer: %v\n", err)
		os.Exit(2)
	}

	// Signals are caught before anything is announced: a SIGTERM arriving right after `ready`
	// must still produce `shutdown` rather than the default abrupt exit.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if o.test != "" {
		// Stopped by a signal, or when the runner that holds our stdin is gone.
		stop := make(chan struct{})
		var once sync.Once
		go func() { <-sigs; once.Do(func() { close(stop) }) }()
		go func() { io.Copy(ioutil.Discard, os.Stdin); once.Do(func() { close(stop) }) }()
		os.Exit(runTestPeer(o, stop))
	}
	r := &runner{out: out, stopped: make(chan struct{})}
	var g *group
	if o.countSet {
		g = &group{size: o.count, out: out}
	}
	for i := 0; i < o.count; i++ {
		name, port := o.name, o.port
		if o.countSet {
			name = fmt.Sprintf("%s-%d", o.name, i)
		}
		if o.port != 0 {
			port = o.port + i
		}
		p, err := startPeer(o, name, port, out, g)
		if err != nil {
			out.emit(event{"event": "error", "message": err.Error()})
			for _, q := range r.peers {
				q.ml.Shutdown()
			}
			os.Exit(1)
		}
		r.peers = append(r.peers, p)
	}
	first := r.peers[0].ml.LocalNode()
	seed := net.JoinHostPort(first.Addr.String(), strconv.Itoa(int(first.Port)))
	if addrs := splitAddrs(o.join); len(addrs) > 0 {
		go r.peers[0].join(addrs)
	}
	for i, p := range r.peers {
		if i == 0 {
			continue
		}
		// --join-stagger-ms: node i starts its join i × MS from here (0 = all at once, as before).
		delay := time.Duration(i*o.joinStaggerMs) * time.Millisecond
		go func(p *peer, delay time.Duration) {
			if delay > 0 {
				t := time.NewTimer(delay)
				defer t.Stop()
				select {
				case <-t.C:
				case <-r.stopped:
					return
				}
			}
			p.join([]string{seed})
		}(p, delay)
	}

	go func() {
		s := <-sigs
		r.shutdown("signal " + s.String())
	}()
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			select {
			case <-r.stopped:
				return
			default:
			}
			r.command(sc.Text())
		}
		if err := sc.Err(); err != nil {
			r.fail("reading input: %v", err)
		}
		r.shutdown("end of input")
	}()
	<-r.stopped
}
