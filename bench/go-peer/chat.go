package main

// The chat layer of the original prototype, as far as a scripted test needs it: chat-member
// records over memberlist (gossip and push/pull state), one TCP connection per chat line, the
// bootstrap service to find the group. Wire formats as in docs/chat.md ("Chat-layer wire
// format"), so this peer and `isopeer chat` peers chat with each other.

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// pbTimestamp and chatRecord are the prototype's protobuf structs as Go's encoding/json writes
// them: zero values are left out, so a JOIN (0) carries no msgType.
type pbTimestamp struct {
	Seconds int64 `json:"seconds,omitempty"`
	Nanos   int32 `json:"nanos,omitempty"`
}

type chatRecord struct {
	MsgType   int          `json:"msgType,omitempty"`
	Name      string       `json:"name,omitempty"`
	Sender    string       `json:"sender,omitempty"`
	Timestamp *pbTimestamp `json:"timestamp,omitempty"`
}

const (
	recordJoin  = 0
	recordLeave = 1
	// Limits on untrusted input: one chat line, and the time a connection may take to deliver it.
	maxLineBytes    = 16 * 1024
	lineReadTimeout = 5 * time.Second
	// Time for one chat line to one member: outlasts two lost TCP handshakes (resent at 1 s, 3 s).
	lineSendTimeout = 5 * time.Second
	joinGossipWait  = 3 * time.Second
)

// namedBroadcast replaces a queued broadcast of the same name (a newer record of one member).
type namedBroadcast struct {
	name string
	msg  []byte
}

func (b *namedBroadcast) Invalidates(o memberlist.Broadcast) bool {
	other, ok := o.(*namedBroadcast)
	return ok && other.name == b.name
}
func (b *namedBroadcast) Message() []byte { return b.msg }
func (b *namedBroadcast) Finished()       {}
func (b *namedBroadcast) Name() string    { return b.name }

type chatNode struct {
	name, nodeName, id string
	bind, config       string
	bootstrapURL       string
	show               func(line, source string)

	ml       *memberlist.Memberlist
	queue    *memberlist.TransmitLimitedQueue
	listener net.Listener
	started  time.Time

	mu      sync.Mutex
	members map[string]*chatRecord // by node name, this node's own record included
	live    map[string]bool        // node names memberlist reports alive (from its events)
	self    *chatRecord
}

func newChatNode(name, bind, config, bootstrapURL string, show func(line, source string)) *chatNode {
	host, _ := os.Hostname()
	id := newUUID()
	return &chatNode{
		name: name, nodeName: fmt.Sprintf("%s-%s-%s", name, host, id), id: id,
		bind: bind, config: config, bootstrapURL: bootstrapURL, show: show,
		members: map[string]*chatRecord{}, live: map[string]bool{},
	}
}

func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// shortName is what people see: the member's metadata (our peers and isopeer's announce their
// name there) when it is a prefix of the node name, else the text before the first `-`.
func shortName(n *memberlist.Node) string {
	meta := string(n.Meta)
	if meta != "" && strings.HasPrefix(n.Name, meta+"-") {
		return meta
	}
	return strings.SplitN(n.Name, "-", 2)[0]
}

// ---- memberlist.Delegate and EventDelegate ----

func (c *chatNode) NodeMeta(limit int) []byte {
	if len(c.name) > limit {
		return nil
	}
	return []byte(c.name)
}

func (c *chatNode) NotifyMsg(b []byte) {
	if len(b) == 0 || b[0] == 'd' {
		return // key/value items of broadcastadd: not kept by this peer
	}
	var r chatRecord
	if err := json.Unmarshal(b, &r); err != nil || r.Name == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.MsgType {
	case recordJoin:
		if r.Name == c.nodeName {
			return
		}
		_, known := c.members[r.Name]
		c.members[r.Name] = &r
		if !known {
			// Pass news on, and answer a newcomer with one's own record, as isopeer peers do.
			c.queueRecord("chat-member:"+r.Name, &r)
			if c.self != nil {
				c.queueRecord("chat-self", c.self)
			}
		}
	case recordLeave:
		if _, known := c.members[r.Name]; known && r.Name != c.nodeName {
			delete(c.members, r.Name)
			c.queueRecord("chat-member:"+r.Name, &r)
		}
	}
}

// queueRecord gossips a record; called with c.mu held or before the node is shared.
func (c *chatNode) queueRecord(name string, r *chatRecord) {
	if c.queue == nil {
		return
	}
	b, err := json.Marshal(r)
	if err == nil {
		c.queue.QueueBroadcast(&namedBroadcast{name: name, msg: b})
	}
}

func (c *chatNode) GetBroadcasts(overhead, limit int) [][]byte {
	if c.queue == nil {
		return nil
	}
	return c.queue.GetBroadcasts(overhead, limit)
}

func (c *chatNode) LocalState(join bool) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, _ := json.Marshal(c.members)
	return b
}

// MergeRemoteState takes the other side's records over on a join (as the prototype did); on
// periodic exchanges it only fills gaps: members alive in memberlist whose record never came.
func (c *chatNode) MergeRemoteState(buf []byte, join bool) {
	var remote map[string]*chatRecord
	if len(buf) == 0 || json.Unmarshal(buf, &remote) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, r := range remote {
		if r == nil || name == c.nodeName || r.MsgType != recordJoin {
			continue
		}
		if _, known := c.members[name]; join || (!known && c.live[name]) {
			c.members[name] = r
		}
	}
}

// Event callbacks run with memberlist's node table locked: no calls back into memberlist here.
func (c *chatNode) NotifyJoin(n *memberlist.Node) {
	c.mu.Lock()
	c.live[n.Name] = true
	c.mu.Unlock()
}

func (c *chatNode) NotifyLeave(n *memberlist.Node) {
	c.mu.Lock()
	delete(c.live, n.Name)
	delete(c.members, n.Name)
	c.mu.Unlock()
	if n.Name == c.nodeName {
		return
	}
	how := "failed"
	if viewOf(n).State == memberlist.StateLeft {
		how = "left"
	}
	c.show(fmt.Sprintf("<left> %s has %s", shortName(n), how), "chat")
}

func (c *chatNode) NotifyUpdate(n *memberlist.Node) {}

// ---- bootstrap service ----

type bootstrapPeer struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IP   string `json:"ip"`
	Port string `json:"port"`
}

type bootstrapData struct {
	Peers map[string]bootstrapPeer `json:"Peers"`
}

func (c *chatNode) bootstrap(path, body string) (*bootstrapData, error) {
	if c.bootstrapURL == "" {
		return nil, errors.New("no bootstrap service: give -bootstrap URL or set BOOTSTRAP_DATA_SERVER")
	}
	client := http.Client{Timeout: 5 * time.Second}
	res, err := client.Post(strings.TrimRight(c.bootstrapURL, "/")+path,
		"application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s: %v", path, err)
	}
	defer res.Body.Close()
	text, err := ioutil.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("bootstrap %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bootstrap %s: HTTP %d: %s", path, res.StatusCode, strings.TrimSpace(string(text)))
	}
	if path == "/ping" {
		return nil, nil
	}
	var data bootstrapData
	if err := json.Unmarshal(text, &data); err != nil {
		return nil, fmt.Errorf("bootstrap %s: answer is not a bootstrap document: %v", path, err)
	}
	return &data, nil
}

// ---- commands ----

// init is the prototype's start-up sequence: memberlist node, bootstrap join, memberlist join of
// the bootstrap peers, chat listener, JOIN record, greeting.
func (c *chatNode) init() error {
	if c.ml != nil {
		return errors.New("already initialised")
	}
	conf, err := baseConfig(c.config)
	if err != nil {
		return err
	}
	conf.Name = c.nodeName
	conf.BindAddr = c.bind
	conf.BindPort = 0
	conf.Delegate = c
	conf.Events = c
	conf.LogOutput = os.Stderr
	c.queue = &memberlist.TransmitLimitedQueue{RetransmitMult: 3}
	ml, err := memberlist.Create(conf)
	if err != nil {
		return fmt.Errorf("memberlist: %v", err)
	}
	c.ml = ml
	c.queue.NumNodes = ml.NumMembers
	c.started = time.Now()
	local := ml.LocalNode()
	if _, err := c.bootstrap("/ping", ""); err != nil {
		return err
	}
	data, err := c.bootstrap("/join", strings.Join([]string{c.id, c.nodeName, local.Addr.String(),
		strconv.Itoa(int(local.Port)), "tcp", "0", strconv.FormatInt(c.started.Unix(), 10)}, " "))
	if err != nil {
		return err
	}
	var contacts []string
	for _, p := range data.Peers {
		if p.ID != c.id && p.Name != c.nodeName {
			contacts = append(contacts, net.JoinHostPort(p.IP, p.Port))
		}
	}
	if len(contacts) > 0 {
		if _, err := ml.Join(contacts); err != nil {
			return fmt.Errorf("memberlist join: %v", err)
		}
	}
	if c.listener, err = net.Listen("tcp", net.JoinHostPort(c.bind, "0")); err != nil {
		return fmt.Errorf("chat listener: %v", err)
	}
	go c.accept(c.listener)
	now := time.Now()
	self := &chatRecord{Name: c.nodeName, Sender: c.listener.Addr().String(),
		Timestamp: &pbTimestamp{Seconds: now.Unix(), Nanos: int32(now.Nanosecond())}}
	c.mu.Lock()
	c.self = self
	c.members[c.nodeName] = self
	c.queueRecord("chat-self", self)
	c.mu.Unlock()
	c.sendToMembers(fmt.Sprintf("<joined> %s has joined", c.name))
	// A message sent right after init must reach those who learn of us only from this record.
	deadline := time.Now().Add(joinGossipWait)
	for ml.NumMembers() > 1 && c.queue.NumQueued() > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func (c *chatNode) accept(l net.Listener) {
	for {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(lineReadTimeout))
			line, err := bufio.NewReader(io.LimitReader(conn, maxLineBytes+1)).ReadString('\n')
			if (err != nil && err != io.EOF) || len(line) > maxLineBytes {
				return
			}
			if line = strings.TrimRight(line, "\r\n"); line != "" {
				c.show(line, "chat")
			}
		}()
	}
}

// sendToMembers writes `line` to every other chat member, one connection each, in parallel, and
// names those it could not reach.
func (c *chatNode) sendToMembers(line string) []string {
	c.mu.Lock()
	var targets []*chatRecord
	for name, r := range c.members {
		if name != c.nodeName && r.Sender != "" {
			targets = append(targets, r)
		}
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed []string
	for _, r := range targets {
		wg.Add(1)
		go func(r *chatRecord) {
			defer wg.Done()
			if err := sendLine(r.Sender, line); err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s (%v)", strings.SplitN(r.Name, "-", 2)[0], err))
				mu.Unlock()
			}
		}(r)
	}
	wg.Wait()
	return failed
}

func sendLine(addr, line string) error {
	conn, err := net.DialTimeout("tcp", addr, lineSendTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(lineSendTimeout))
	if _, err := io.WriteString(conn, line+"\n"); err != nil {
		return err
	}
	conn.(*net.TCPConn).CloseWrite()
	// The receiver closes once it has the line; a reset after our write means the same.
	_, err = io.Copy(ioutil.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return errors.New("no answer in time")
	}
	return nil
}

func (c *chatNode) msg(text string) error {
	if c.self == nil {
		return errors.New("the chat is not started: run init")
	}
	for _, f := range c.sendToMembers(fmt.Sprintf("<%s> %s", c.name, text)) {
		c.show("<warn> not delivered to "+f, "chat")
	}
	return nil
}

// quit is the prototype's leave sequence: bootstrap leave, goodbye line, LEAVE record, memberlist
// leave. The caller exits afterwards.
func (c *chatNode) quit() error {
	if c.ml == nil {
		return nil
	}
	_, berr := c.bootstrap("/leave", c.id)
	c.sendToMembers(fmt.Sprintf("<left> %s is leaving", c.name))
	c.mu.Lock()
	if c.self != nil {
		leave := *c.self
		leave.MsgType = recordLeave
		c.queueRecord("chat-self", &leave)
	}
	c.mu.Unlock()
	c.ml.Leave(2 * time.Second)
	c.close()
	return berr
}

func (c *chatNode) memberList() string {
	if c.ml == nil {
		return "no memberlist yet: run init"
	}
	var names []string
	for _, n := range c.ml.Members() {
		names = append(names, shortName(n))
	}
	return fmt.Sprintf("%d members: %s", len(names), strings.Join(names, " "))
}

func (c *chatNode) close() {
	if c.listener != nil {
		c.listener.Close()
	}
	if c.ml != nil {
		c.ml.Shutdown()
	}
}
