package resp

import (
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cmdStats are one command's counters for INFO commandstats and
// latencystats and for the Prometheus collector. They live in the command
// table entry, so commands on different connections only share a counter
// when they run the same command; recording is a few atomic adds and never
// allocates.
type cmdStats struct {
	calls    atomic.Int64
	nanos    atomic.Int64 // total execution time
	rejected atomic.Int64 // refused before running (arity, NOAUTH, LOADING...)
	failed   atomic.Int64 // ran and replied with an error
	hist     latencyHist
}

// latencyHist is a log-linear histogram of durations in nanoseconds:
// every power of two from 2^histMinExp ns (about 0.5 µs) to 2^histMaxExp ns
// (about 2 s) is split into histSub equal buckets, so a bucket is at most
// 12.5% wide. Like Redis's HdrHistogram, values below 1 µs count as 1 µs.
type latencyHist struct {
	b [histBuckets]atomic.Int64
}

const (
	histSubBits = 3
	histSub     = 1 << histSubBits
	histMinExp  = 9
	histMaxExp  = 30
	histBuckets = (histMaxExp - histMinExp + 1) * histSub
	histMinNs   = 1000 // Redis's LATENCY_HISTOGRAM_MIN_VALUE
)

func histIndex(ns int64) int {
	if ns < histMinNs {
		ns = histMinNs
	}
	if ns >= 1<<(histMaxExp+1) {
		return histBuckets - 1
	}
	e := bits.Len64(uint64(ns)) - 1
	sub := int(ns>>(e-histSubBits)) & (histSub - 1)
	return (e-histMinExp)*histSub + sub
}

// histUpper is the highest value bucket i holds, as HdrHistogram reports
// a percentile (its "highest equivalent value").
func histUpper(i int) int64 {
	e := i/histSub + histMinExp
	sub := int64(i % histSub)
	return ((histSub+sub+1)<<(e-histSubBits) - 1)
}

func (h *latencyHist) record(ns int64) { h.b[histIndex(ns)].Add(1) }

// counts copies the buckets (each read atomically; the copy as a whole is
// not a snapshot, which is fine for monitoring).
func (h *latencyHist) counts() (c [histBuckets]int64, total int64) {
	for i := range h.b {
		c[i] = h.b[i].Load()
		total += c[i]
	}
	return c, total
}

// percentile returns the value at percentile p (0..100) in nanoseconds.
func percentile(c *[histBuckets]int64, total int64, p float64) int64 {
	if total == 0 {
		return 0
	}
	want := int64(p/100*float64(total) + 0.5)
	if want < 1 {
		want = 1
	}
	var n int64
	for i, v := range c {
		n += v
		if n >= want {
			return histUpper(i)
		}
	}
	return histUpper(histBuckets - 1)
}

func (st *cmdStats) reset() {
	st.calls.Store(0)
	st.nanos.Store(0)
	st.rejected.Store(0)
	st.failed.Store(0)
	for i := range st.hist.b {
		st.hist.b[i].Store(0)
	}
}

// errorStats counts error replies by their prefix ("ERR", "WRONGTYPE"...)
// for INFO errorstats. Errors are off the fast path, so a mutex is enough.
type errorStats struct {
	mu sync.Mutex
	m  map[string]int64
}

// errorStatsLimit is Redis's ERRORSTATS_LIMIT: past that many distinct
// prefixes new ones are not tracked.
const errorStatsLimit = 128

func (e *errorStats) add(msg string) {
	prefix := "ERR"
	if i := strings.IndexByte(msg, ' '); i > 0 && i < 32 {
		prefix = msg[:i]
	}
	e.mu.Lock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	if _, ok := e.m[prefix]; ok || len(e.m) < errorStatsLimit {
		e.m[prefix]++
	}
	e.mu.Unlock()
}

func (e *errorStats) snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

func (e *errorStats) reset() {
	e.mu.Lock()
	e.m = nil
	e.mu.Unlock()
}

// allCommands returns every command and subcommand of the table, sorted
// by name.
func (t commandTable) allCommands() []*command {
	var out []*command
	for _, c := range t {
		if c.run != nil {
			out = append(out, c)
		}
		for _, sub := range c.subs {
			out = append(out, sub)
		}
	}
	slices.SortFunc(out, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	return out
}

// afterCall records a command that ran: its statistics, and the slow log,
// latency monitor and MONITOR feeds when they are on. With all of them off
// it costs a few atomic operations and does not allocate.
func (s *Server) afterCall(c *client, cmd *command, args [][]byte, r *reply, d time.Duration) {
	ns := int64(d)
	st := &cmd.stats
	st.calls.Add(1)
	st.nanos.Add(ns)
	if s.latencyTracking.Load() {
		st.hist.record(ns)
	}
	if r.err != "" {
		st.failed.Add(1)
		s.errorReplies.Add(1)
		s.errStats.add(r.err)
	}
	if ns >= s.slowMinNs.Load() {
		s.slowCall(c, cmd, args, d)
	}
	if s.monitors.Load() > 0 && cmd.flags&(flagAdmin|flagSkipMonitor) == 0 {
		s.feedMonitors(c.db, c.addr, cmd, args)
	}
}

// rejectedCall records a command refused before it ran.
func (s *Server) rejectedCall(cmd *command) {
	if cmd != nil {
		cmd.stats.rejected.Add(1)
	}
}

// totalCommands is total_commands_processed: the commands that ran, summed
// from the per-command counters (no shared counter on the command path).
func (s *Server) totalCommands() int64 {
	n := s.totalCmds.Load() // commands counted elsewhere, if any
	for _, c := range s.table.allCommands() {
		n += c.stats.calls.Load()
	}
	return n
}

func (s *Server) resetCommandStats() {
	for _, c := range s.table.allCommands() {
		c.stats.reset()
	}
	s.errStats.reset()
}

func writeCommandStats(b *strings.Builder, cmds []*command) {
	b.WriteString("# Commandstats\r\n")
	for _, c := range cmds {
		calls, rej, failed := c.stats.calls.Load(), c.stats.rejected.Load(), c.stats.failed.Load()
		if calls == 0 && rej == 0 && failed == 0 {
			continue
		}
		usec := c.stats.nanos.Load() / 1000
		per := 0.0
		if calls > 0 {
			per = float64(c.stats.nanos.Load()) / 1000 / float64(calls)
		}
		b.WriteString("cmdstat_" + c.name + ":calls=" + strconv.FormatInt(calls, 10) + ",usec=" + strconv.FormatInt(usec, 10) +
			",usec_per_call=" + strconv.FormatFloat(per, 'f', 2, 64) + ",rejected_calls=" + strconv.FormatInt(rej, 10) +
			",failed_calls=" + strconv.FormatInt(failed, 10) + "\r\n")
	}
}

func writeErrorStats(b *strings.Builder, m map[string]int64) {
	b.WriteString("# Errorstats\r\n")
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString("errorstat_" + k + ":count=" + strconv.FormatInt(m[k], 10) + "\r\n")
	}
}

// latencyPercentiles are those Redis reports by default
// (latency-tracking-info-percentiles "50 99 99.9").
var latencyPercentiles = []float64{50, 99, 99.9}

func writeLatencyStats(b *strings.Builder, cmds []*command) {
	b.WriteString("# Latencystats\r\n")
	for _, c := range cmds {
		counts, total := c.stats.hist.counts()
		if total == 0 {
			continue
		}
		b.WriteString("latency_percentiles_usec_" + c.name + ":")
		for i, p := range latencyPercentiles {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("p" + strconv.FormatFloat(p, 'f', -1, 64) + "=")
			b.WriteString(strconv.FormatFloat(float64(percentile(&counts, total, p))/1000, 'f', 3, 64))
		}
		b.WriteString("\r\n")
	}
}
