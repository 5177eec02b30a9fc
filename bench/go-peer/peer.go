package main

// One cluster member: the memberlist instance plus the delegates that turn its callbacks into
// line-protocol events and implement the application payload rules.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/hashicorp/memberlist"
)

// stateView mirrors memberlist 0.2.2's unexported nodeState. Every Node pointer handed to the
// event delegate is &nodeState.Node, and Node is nodeState's first field, so the pointer also
// addresses the whole record. memberlist 0.2.2 never fills Node.State (the outer State field
// shadows it), and without the outer one a leave cannot be told apart from a failure, which
// interop case (h) is all about. Layout must match state.go of the pinned 0.2.2 sources.
type stateView struct {
	memberlist.Node
	Incarnation uint32
	State       memberlist.NodeStateType
}

func viewOf(n *memberlist.Node) *stateView {
	return (*stateView)(unsafe.Pointer(n))
}

func stateName(s memberlist.NodeStateType) string {
	switch s {
	case memberlist.StateAlive:
		return "alive"
	case memberlist.StateSuspect:
		return "suspect"
	case memberlist.StateDead:
		return "dead"
	case memberlist.StateLeft:
		return "left"
	}
	return "unknown"
}

type counters struct {
	msgsIn            int64
	broadcastsIn      int64
	broadcastsRelayed int64
	broadcastsSent    int64
	sendOK            int64
	sendFailed        int64
	merges            int64
	joins             int64
	leaves            int64
	updates           int64
}

type peer struct {
	name  string
	out   *emitter
	group *group // nil unless --count
	ml    *memberlist.Memberlist
	conf  *memberlist.Config // live: the keyring and verify switches are changed through it
	queue *memberlist.TransmitLimitedQueue

	mu     sync.Mutex
	meta   []byte
	seen   map[string]bool // broadcast keys "<from>|<id>" already reported
	live   map[string]bool // names currently alive or suspect, from join/leave events
	conv   bool
	nextID uint64
	c      counters
}

func newPeer(name string, meta []byte, out *emitter, g *group) *peer {
	return &peer{name: name, meta: meta, out: out, group: g, seen: map[string]bool{}, live: map[string]bool{}}
}

// payload builds an application payload and returns it with its id.
func (p *peer) payload(kind byte, text string) []byte {
	id := atomic.AddUint64(&p.nextID, 1)
	return []byte(fmt.Sprintf("%c|%s|%d|%s", kind, p.name, id, text))
}

// ---- memberlist.Delegate ----

func (p *peer) NodeMeta(limit int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.meta) > limit {
		return p.meta[:limit]
	}
	return append([]byte(nil), p.meta...)
}

func (p *peer) NotifyMsg(b []byte) {
	buf := append([]byte(nil), b...) // memberlist reuses the buffer after we return
	atomic.AddInt64(&p.c.msgsIn, 1)
	parts := strings.SplitN(string(buf), "|", 4)
	kinds := map[string]string{"B": "broadcast", "R": "reliable", "U": "besteffort"}
	kind, known := "", false
	if len(parts) == 4 {
		kind, known = kinds[parts[0]]
		if _, err := strconv.ParseUint(parts[2], 10, 64); err != nil {
			known = false
		}
	}
	if !known {
		p.out.emit(event{"event": "msg", "self": p.name, "kind": "raw", "from": nil, "data": string(buf)})
		return
	}
	if kind == "broadcast" {
		key := parts[1] + "|" + parts[2]
		p.mu.Lock()
		dup := p.seen[key]
		p.seen[key] = true
		p.mu.Unlock()
		if dup {
			return
		}
		atomic.AddInt64(&p.c.broadcastsIn, 1)
		// Re-broadcast once so delivery spreads epidemically, as the protocol prescribes.
		p.queue.QueueBroadcast(&appBroadcast{msg: buf})
		atomic.AddInt64(&p.c.broadcastsRelayed, 1)
	}
	p.out.emit(event{"event": "msg", "self": p.name, "kind": kind, "from": parts[1], "data": parts[3]})
}

func (p *peer) GetBroadcasts(overhead, limit int) [][]byte {
	return p.queue.GetBroadcasts(overhead, limit)
}

type delegateState struct {
	Node  string                 `json:"node"`
	Items map[string]interface{} `json:"items"`
}

func (p *peer) LocalState(join bool) []byte {
	b, _ := json.Marshal(delegateState{Node: p.name, Items: map[string]interface{}{}})
	return b
}

func (p *peer) MergeRemoteState(buf []byte, join bool) {
	atomic.AddInt64(&p.c.merges, 1)
	var st delegateState
	var from interface{}
	if err := json.Unmarshal(buf, &st); err == nil && st.Node != "" {
		from = st.Node
	}
	p.out.emit(event{"event": "merge", "self": p.name, "from": from, "join": join})
}

// ---- memberlist.EventDelegate (called with memberlist's node table locked: no calls back) ----

func (p *peer) nodeEvent(kind string, n *memberlist.Node) {
	v := viewOf(n)
	p.out.emit(event{
		"event": kind, "self": p.name, "name": n.Name, "addr": n.Addr.String(), "port": n.Port,
		"meta": string(n.Meta), "state": stateName(v.State), "incarnation": v.Incarnation,
	})
}

func (p *peer) NotifyJoin(n *memberlist.Node) {
	atomic.AddInt64(&p.c.joins, 1)
	p.nodeEvent("join", n)
	p.trackLive(n.Name, true)
}

func (p *peer) NotifyLeave(n *memberlist.Node) {
	atomic.AddInt64(&p.c.leaves, 1)
	p.nodeEvent("leave", n)
	p.trackLive(n.Name, false)
}

func (p *peer) NotifyUpdate(n *memberlist.Node) {
	atomic.AddInt64(&p.c.updates, 1)
	p.nodeEvent("update", n)
}

// trackLive keeps the live set that --count convergence is judged by; NumMembers cannot be
// used here because the event delegate runs under memberlist's node lock.
func (p *peer) trackLive(name string, alive bool) {
	if p.group == nil {
		return
	}
	p.mu.Lock()
	if alive {
		p.live[name] = true
	} else {
		delete(p.live, name)
	}
	reached := !p.conv && len(p.live) == p.group.size
	if reached {
		p.conv = true
	}
	p.mu.Unlock()
	if reached {
		p.out.emit(event{"event": "converged", "self": p.name, "members": p.group.size})
		p.group.nodeConverged(p.name)
	}
}

// ---- application broadcasts ----

type appBroadcast struct{ msg []byte }

func (b *appBroadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b *appBroadcast) Message() []byte                       { return b.msg }
func (b *appBroadcast) Finished()                             {}

// group counts converged nodes of one --count process.
type group struct {
	size int
	out  *emitter
	done int64
}

func (g *group) nodeConverged(self string) {
	if atomic.AddInt64(&g.done, 1) == int64(g.size) {
		g.out.emit(event{"event": "all-converged", "self": self, "members": g.size})
	}
}
