package main

// memberlist 0.2.2 reports suspicions and deaths only as go-metrics counters; this sink keeps the
// two the benchmarks compare with isopeer's Memberlist.metrics() (suspicions raised: a member
// turned suspect in this process's view, by its own probe or by gossip; deaths: turned dead).
// The counters are per process: with --count they add up every node of the process.

import (
	"strings"
	"sync/atomic"

	metrics "github.com/armon/go-metrics"
)

type countingSink struct {
	metrics.BlackholeSink
	suspects, deaths int64
}

func (s *countingSink) IncrCounter(key []string, val float32) {
	s.IncrCounterWithLabels(key, val, nil)
}

func (s *countingSink) IncrCounterWithLabels(key []string, val float32, _ []metrics.Label) {
	switch strings.Join(key, ".") {
	case "memberlist.msg.suspect":
		atomic.AddInt64(&s.suspects, 1)
	case "memberlist.msg.dead":
		atomic.AddInt64(&s.deaths, 1)
	}
}

var processMetrics = &countingSink{}

func init() {
	conf := metrics.DefaultConfig("")
	conf.EnableHostname = false
	conf.EnableRuntimeMetrics = false
	metrics.NewGlobal(conf, processMetrics)
}
