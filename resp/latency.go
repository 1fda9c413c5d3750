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
		{name: "latency|graph", arity: 3, flags: f, group: g, since: "2.8.13", summary: "Return a latency graph for the event.", run: cmdLatencyGraph},
		{name: "latency|histogram", arity: -2, flags: f, group: g, since: "7.0.0", summary: "Return the cumulative distribution of latencies of a subset of commands or all.", run: cmdLatencyHistogram},
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
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
	)
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...]: for each command
// with recorded latencies, every one or those named (a container names its
// subcommands; unknown names are skipped, a name given twice is listed
// twice), its calls and its cumulative histogram_usec (latencyCDF). Redis
// lists every command in its table's hash order, sessiond by name.
func cmdLatencyHistogram(x *call) {
	var cmds []*command
	if len(x.args) == 2 {
		cmds = x.s.table.allCommands()
	} else {
		for _, a := range x.args[2:] {
			if c := x.s.table.lookupName(string(a)); c != nil {
				cmds = append(cmds, c)
				cmds = append(cmds, c.sortedSubs()...)
			}
		}
	}
	type entry struct {
		name  string
		calls int64
		cdf   [][2]int64
	}
	var out []entry
	for _, c := range cmds {
		counts, total := c.stats.hist.counts()
		if total > 0 {
			out = append(out, entry{c.name, total, latencyCDF(&counts)})
		}
	}
	x.r.mapLen(len(out))
	for _, e := range out {
		x.r.bulkString(e.name)
		x.r.mapLen(2)
		x.r.bulkString("calls")
		x.r.int(e.calls)
		x.r.bulkString("histogram_usec")
		x.r.mapLen(len(e.cdf))
		for _, kv := range e.cdf {
			x.r.int(kv[0])
			x.r.int(kv[1])
		}
	}
}

func cmdLatencyGraph(x *call) {
	s := x.s
	event := string(x.args[2])
	s.latMu.Lock()
	ts := s.latEvents[event]
	var graph string
	if ts != nil {
		graph = latencyGraph(event, ts, s.ks.ClockNow().Unix())
	}
	s.latMu.Unlock()
	if ts == nil {
		x.r.error("ERR No samples available for event '" + sanitize(cstr(x.args[2])) + "'")
		return
	}
	x.r.verbatim(graph)
}

const (
	latencyGraphCols = 80 // Redis's LATENCY_GRAPH_COLS
	sparkRows        = 4
	sparkFill        = "_o#" // a row's levels, low to high; '|' fills below
)

// latencyGraph is LATENCY GRAPH's text as Redis draws it
// (latencyCommandGenSparkeline and sparkline.c): a line naming the event,
// its samples' highest and lowest latency and its all-time highest, 80
// dashes, then the samples oldest first in blocks of 80 columns (a blank
// line between blocks). A block is four rows of a filled sparkline of 12
// levels between the lowest and highest sample, a row of spaces, and each
// sample's age at now written downwards below it ("7s", "12m", "3h", "2d").
func latencyGraph(event string, ts *latencySeries, now int64) string {
	var vals []int64
	var ages []string
	for j := range latencyTSLen {
		sm := ts.samples[(ts.idx+j)%latencyTSLen]
		if sm.time == 0 {
			continue
		}
		vals = append(vals, sm.latency)
		switch age := now - sm.time; {
		case age < 60:
			ages = append(ages, strconv.FormatInt(age, 10)+"s")
		case age < 3600:
			ages = append(ages, strconv.FormatInt(age/60, 10)+"m")
		case age < 3600*24:
			ages = append(ages, strconv.FormatInt(age/3600, 10)+"h")
		default:
			ages = append(ages, strconv.FormatInt(age/(3600*24), 10)+"d")
		}
	}
	var lo, hi int64
	if len(vals) > 0 {
		lo, hi = slices.Min(vals), slices.Max(vals)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, ts.max)
	b.WriteString(strings.Repeat("-", latencyGraphCols) + "\n")
	// A sample's level: sparkline.c's (int)(relval*steps)/relmax, both
	// truncations included.
	levels := len(sparkFill) * sparkRows
	span := float64(hi - lo)
	if span == 0 {
		span = 1
	}
	for off := 0; off < len(vals); off += latencyGraphCols {
		if off > 0 {
			b.WriteByte('\n')
		}
		end := min(off+latencyGraphCols, len(vals))
		line := make([]byte, end-off)
		for row := range sparkRows {
			for j, v := range vals[off:end] {
				level := min(max(int(float64(int(float64(v-lo)*float64(levels)))/span), 0), levels-1)
				switch c := level - (sparkRows-row-1)*len(sparkFill); {
				case c >= len(sparkFill):
					line[j] = '|'
				case c >= 0:
					line[j] = sparkFill[c]
				default:
					line[j] = ' '
				}
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		for r := -1; ; r++ { // r -1: the row between the graph and the ages
			more := r < 0
			for j, a := range ages[off:end] {
				line[j] = ' '
				if r >= 0 && r < len(a) {
					line[j] = a[r]
					more = true
				}
			}
			if !more {
				break
			}
			b.Write(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
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
