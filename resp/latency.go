package resp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The latency monitor (LATENCY ...): with latency-monitor-threshold > 0,
// every command that takes at least that many milliseconds adds a sample
// to the "command" event ("fast-command" for commands flagged fast). As in
// Redis, an event keeps its latest latencyTSLen samples, one per second
// (the highest of that second), and its all-time maximum. Samples are
// stamped, and LATENCY DOCTOR and GRAPH measure their age, by the
// keyspace's clock (ClockNow: the wall clock, or a test's).

const latencyTSLen = 160 // Redis's LATENCY_TS_LEN

type latencySample struct {
	time    int64 // Unix seconds; 0: unused slot
	latency int64 // ms
}

type latencySeries struct {
	idx     int
	max     int64
	samples [latencyTSLen]latencySample
}

func (s *Server) addLatencySample(event string, ms int64) {
	now := s.ks.ClockNow().Unix()
	s.latMu.Lock()
	defer s.latMu.Unlock()
	if s.latEvents == nil {
		s.latEvents = map[string]*latencySeries{}
	}
	ts := s.latEvents[event]
	if ts == nil {
		ts = &latencySeries{}
		s.latEvents[event] = ts
	}
	if ms > ts.max {
		ts.max = ms
	}
	prev := (ts.idx + latencyTSLen - 1) % latencyTSLen
	if ts.samples[prev].time == now {
		if ms > ts.samples[prev].latency {
			ts.samples[prev].latency = ms
		}
		return
	}
	ts.samples[ts.idx] = latencySample{now, ms}
	ts.idx = (ts.idx + 1) % latencyTSLen
}

// AddLatencySample records an event from outside the command path (the
// snapshot writer) when it reaches latency-monitor-threshold.
func (s *Server) AddLatencySample(event string, d time.Duration) {
	if thr := s.latencyMs.Load(); thr > 0 && d.Milliseconds() >= thr {
		s.addLatencySample(event, d.Milliseconds())
	}
}

func latencyCommands() []*command {
	const g = "server"
	f := flagAdmin | flagNoScript | flagLoading | flagStale
	return []*command{
		{name: "latency", arity: -2, group: g, since: "2.8.13", summary: "A container for latency diagnostics commands"},
		{name: "latency|latest", arity: 2, flags: f, group: g, since: "2.8.13", summary: "Return the latest latency samples for all events.", run: cmdLatencyLatest},
		{name: "latency|history", arity: 3, flags: f, group: g, since: "2.8.13", summary: "Return timestamp-latency samples for the event.", run: cmdLatencyHistory},
		{name: "latency|reset", arity: -2, flags: f, group: g, since: "2.8.13", summary: "Reset latency data for one or more events.", run: cmdLatencyReset},
		{name: "latency|doctor", arity: 2, flags: f, group: g, since: "2.8.13", summary: "Return a human readable latency analysis report.", run: cmdLatencyDoctor},
		{name: "latency|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Show helpful text about the different subcommands.", run: cmdLatencyHelp},
	}
}

// latencyEventNames returns the recorded events, sorted.
func (s *Server) latencyEventNames() []string {
	names := make([]string, 0, len(s.latEvents))
	for n := range s.latEvents {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func cmdLatencyLatest(x *call) {
	s := x.s
	s.latMu.Lock()
	defer s.latMu.Unlock()
	names := s.latencyEventNames()
	x.r.array(len(names))
	for _, n := range names {
		ts := s.latEvents[n]
		last := ts.samples[(ts.idx+latencyTSLen-1)%latencyTSLen]
		x.r.array(4)
		x.r.bulkString(n)
		x.r.int(last.time)
		x.r.int(last.latency)
		x.r.int(ts.max)
	}
}

func cmdLatencyHistory(x *call) {
	s := x.s
	s.latMu.Lock()
	defer s.latMu.Unlock()
	ts := s.latEvents[string(x.args[2])]
	if ts == nil {
		x.r.array(0)
		return
	}
	var out []latencySample
	for j := range latencyTSLen {
		if sm := ts.samples[(ts.idx+j)%latencyTSLen]; sm.time != 0 {
			out = append(out, sm)
		}
	}
	x.r.array(len(out))
	for _, sm := range out {
		x.r.array(2)
		x.r.int(sm.time)
		x.r.int(sm.latency)
	}
}

func cmdLatencyReset(x *call) {
	s := x.s
	s.latMu.Lock()
	defer s.latMu.Unlock()
	n := 0
	if len(x.args) == 2 {
		n = len(s.latEvents)
		s.latEvents = nil
	} else {
		for _, a := range x.args[2:] {
			if _, ok := s.latEvents[string(a)]; ok {
				delete(s.latEvents, string(a))
				n++
			}
		}
	}
	x.r.int(int64(n))
}

func cmdLatencyHelp(x *call) {
	x.help("LATENCY",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
	)
}

// cmdLatencyDoctor writes Redis's report (createLatencyReport) for the
// events sessiond records.
func cmdLatencyDoctor(x *call) {
	x.r.verbatim(x.s.latencyReport())
}

func (s *Server) latencyReport() string {
	s.latMu.Lock()
	defer s.latMu.Unlock()
	thr := s.latencyMs.Load()
	if len(s.latEvents) == 0 && thr == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	var slowEnable, slowTune, slowInspect, scheduler, largeObjects bool
	advices := 0
	now := s.ks.ClockNow().Unix()
	for i, name := range s.latencyEventNames() {
		ts := s.latEvents[name]
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		var n, sum, oldest int64
		for _, sm := range ts.samples {
			if sm.time == 0 {
				continue
			}
			n++
			sum += sm.latency
			if oldest == 0 || sm.time < oldest {
				oldest = sm.time
			}
		}
		var avg, mad, period int64
		if n > 0 {
			avg = sum / n
			period = max(now-oldest, 1)
			var dev int64
			for _, sm := range ts.samples {
				if sm.time != 0 {
					d := avg - sm.latency
					dev += max(d, -d)
				}
			}
			mad = dev / n
		}
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, name, n, avg, mad, float64(period)/float64(max(n, 1)), ts.max)
		switch name {
		case "command":
			if s.slowlogUs.Load() < 0 {
				slowEnable = true
				advices++
			} else if s.slowlogUs.Load()/1000 > thr {
				slowTune = true
				advices++
			}
			slowInspect, largeObjects = true, true
			advices += 2
		case "fast-command":
			scheduler = true
			advices++
		}
		b.WriteString("\n")
	}
	switch {
	case len(s.latEvents) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	case advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n")
	default:
		b.WriteString("\nI have a few advices for you:\n\n")
		if slowEnable {
			b.WriteString("- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than " + strconv.FormatInt(thr*1000, 10) + "'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n")
		}
		if slowTune {
			b.WriteString("- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than " + strconv.FormatInt(thr*1000, 10) + "'.\n")
		}
		if slowInspect {
			b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
		}
		if scheduler {
			b.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
				"  1) Lower the system load.\n" +
				"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
				"  3) Check if you have a \"noisy neighbour\" problem.\n" +
				"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n")
		}
		if largeObjects {
			b.WriteString("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n")
		}
	}
	return b.String()
}
