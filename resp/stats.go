package resp

import (
	"math"
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
//
// One bucket of each power of two from 2^10 to 2^29 ns is cut in two again
// at the edge of LATENCY HISTOGRAM's bucket in that power of two
// (latencyCDFKeys), so that its cumulative counts are exact: recording
// stays one atomic add, and the powers of two the Prometheus histogram
// exports stay bucket edges.
type latencyHist struct {
	b [histBuckets]atomic.Int64
}

const (
	histSubBits = 3
	histSub     = 1 << histSubBits
	histMinExp  = 9
	histMaxExp  = 30
	histBuckets = (histMaxExp-histMinExp+1)*histSub + len(latencyCDFKeys) - 1
	histMinNs   = 1000 // Redis's LATENCY_HISTOGRAM_MIN_VALUE
)

// latencyCDFKeys are the buckets of LATENCY HISTOGRAM's histogram_usec, in
// µs: Redis walks its HdrHistogram (1 ns to 1 s, 2 significant digits) in
// steps of powers of two from 1024 ns and prints, for each step v, the
// highest value of v's HdrHistogram bucket in whole µs,
// (v + v/128 - 1)/1000. As Redis records whole µs (times 1000), a command
// counts in key k when its µs are at most k. The walk ends at the end of
// the HdrHistogram's buckets, 2^30-1 ns, before reaching 2^30: the last
// key, 1073741, holds everything above 541065 µs.
var latencyCDFKeys = [...]int64{1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056, 2113, 4227, 8454, 16908,
	33816, 67633, 135266, 270532, 541065, 1073741}

// histOctave is where a power of two of histLayout starts in the buckets,
// and where its cut is.
type histOctave struct {
	base int   // index of its first bucket
	cut  int64 // ns: its bucket holding cut is split there; MaxInt64: none
}

var histLayout, histUppers = buildHistLayout()

// buildHistLayout places the cuts: latencyCDFKeys[k]+1 µs, the first
// duration past key k, falls inside a bucket of the power of two 2^(10+k).
func buildHistLayout() (oct [histMaxExp - histMinExp + 1]histOctave, uppers [histBuckets]int64) {
	for j := range oct {
		oct[j].cut = math.MaxInt64
	}
	for _, k := range latencyCDFKeys[:len(latencyCDFKeys)-1] {
		cut := (k + 1) * 1000
		j := bits.Len64(uint64(cut)) - 1 - histMinExp
		if oct[j].cut != math.MaxInt64 || cut&(1<<(j+histMinExp-histSubBits)-1) == 0 {
			panic("resp: latency histogram cut on an edge or twice in a power of two")
		}
		oct[j].cut = cut
	}
	i := 0
	for j := range oct {
		oct[j].base = i
		e := j + histMinExp
		for sub := range int64(histSub) {
			lo, hi := (histSub+sub)<<(e-histSubBits), (histSub+sub+1)<<(e-histSubBits)
			if lo < oct[j].cut && oct[j].cut < hi {
				uppers[i] = oct[j].cut - 1
				i++
			}
			uppers[i] = hi - 1
			i++
		}
	}
	if i != histBuckets {
		panic("resp: latency histogram layout")
	}
	return oct, uppers
}

func histIndex(ns int64) int {
	if ns < histMinNs {
		ns = histMinNs
	}
	if ns >= 1<<(histMaxExp+1) {
		return histBuckets - 1
	}
	e := bits.Len64(uint64(ns)) - 1
	o := &histLayout[e-histMinExp]
	i := o.base + int(ns>>(e-histSubBits))&(histSub-1)
	if ns >= o.cut {
		i++
	}
	return i
}

// histUpper is the highest value bucket i holds, as HdrHistogram reports
// a percentile (its "highest equivalent value").
func histUpper(i int) int64 { return histUppers[i] }

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

// latencyCDF is LATENCY HISTOGRAM's histogram_usec for counts: each key
// of latencyCDFKeys whose cumulative count grew, with that count.
func latencyCDF(c *[histBuckets]int64) [][2]int64 {
	var out [][2]int64
	var n, prev int64
	i := 0
	for k, key := range latencyCDFKeys {
		end := histBuckets
		if k < len(latencyCDFKeys)-1 {
			end = histIndex((key + 1) * 1000)
		}
		for ; i < end; i++ {
			n += c[i]
		}
		if n > prev {
			out = append(out, [2]int64{key, n})
		}
		prev = n
	}
	return out
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
