//go:build linux

package main

import (
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Row collects every round of one workload for both sides.
type Row struct {
	Workload string
	Desc     string
	Pipeline int
	A, B     []Sample // A is sessiond (or whatever plays it), B is redis
	AErr     []string
	BErr     []string
	// Pairs holds A/B for each round where both sides completed: A and B
	// ran back to back, so their ratio is less exposed to drift.
	Pairs []float64
	// CPUPairs holds A/B server CPU per request for each round where both
	// sides have it.
	CPUPairs []float64
}

// Summary is a Row reduced to medians.
type Summary struct {
	Workload             string
	Desc                 string
	AOps, BOps           float64
	Ratio                float64 // AOps / BOps; NaN when either is missing
	PairLo, PairHi       float64 // range of the per-round ratios; NaN when none
	AP50, AP99, AP999    time.Duration
	BP50, BP99, BP999    time.Duration
	ARounds, BRounds     int
	AErrors, BErrors     int64
	AFailures, BFailures int
	// Server CPU time per request, µs, median over rounds; NaN when unknown.
	ACPU, BCPU           float64
	CPURatio             float64 // ACPU / BCPU: below 1, A needs less CPU per request
	CPUPairLo, CPUPairHi float64 // range of the per-round CPU ratios
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func medianDur(samples []Sample, f func(Sample) time.Duration) time.Duration {
	var xs []float64
	for _, s := range samples {
		if d := f(s); d > 0 {
			xs = append(xs, float64(d))
		}
	}
	if len(xs) == 0 {
		return 0
	}
	return time.Duration(median(xs))
}

// compared is one measure of both sides: each side's median over rounds,
// their ratio (NaN when either is unknown), and the range of the per-round
// ratios (NaN without pairs).
type compared struct{ a, b, ratio, lo, hi float64 }

func compare(a, b []Sample, val func(Sample) float64, pairs []float64) compared {
	med := func(ss []Sample) float64 {
		var xs []float64
		for _, s := range ss {
			if v := val(s); !math.IsNaN(v) {
				xs = append(xs, v)
			}
		}
		return median(xs)
	}
	c := compared{a: med(a), b: med(b), ratio: math.NaN(), lo: math.NaN(), hi: math.NaN()}
	if !math.IsNaN(c.a) && !math.IsNaN(c.b) && c.b > 0 {
		c.ratio = c.a / c.b
	}
	if len(pairs) > 0 {
		c.lo, c.hi = slices.Min(pairs), slices.Max(pairs)
	}
	return c
}

func summarize(r Row) Summary {
	errs := func(ss []Sample) (n int64) {
		for _, s := range ss {
			n += s.Errors
		}
		return n
	}
	s := Summary{
		Workload: r.Workload, Desc: r.Desc,
		AP50:    medianDur(r.A, func(s Sample) time.Duration { return s.P50 }),
		AP99:    medianDur(r.A, func(s Sample) time.Duration { return s.P99 }),
		AP999:   medianDur(r.A, func(s Sample) time.Duration { return s.P999 }),
		BP50:    medianDur(r.B, func(s Sample) time.Duration { return s.P50 }),
		BP99:    medianDur(r.B, func(s Sample) time.Duration { return s.P99 }),
		BP999:   medianDur(r.B, func(s Sample) time.Duration { return s.P999 }),
		ARounds: len(r.A), BRounds: len(r.B),
		AErrors: errs(r.A), BErrors: errs(r.B),
		AFailures: len(r.AErr), BFailures: len(r.BErr),
	}
	ops := compare(r.A, r.B, func(s Sample) float64 { return s.OpsPerSec }, r.Pairs)
	s.AOps, s.BOps, s.Ratio, s.PairLo, s.PairHi = ops.a, ops.b, ops.ratio, ops.lo, ops.hi
	cpu := compare(r.A, r.B, cpuPerOp, r.CPUPairs)
	s.ACPU, s.BCPU, s.CPURatio, s.CPUPairLo, s.CPUPairHi = cpu.a, cpu.b, cpu.ratio, cpu.lo, cpu.hi
	return s
}

func fmtOps(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	// thousands separators, no decimals
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtRatio(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v)
}

// fmtMs prints a latency in milliseconds with 3 decimals, "-" when absent.
// fmtRange prints the spread of the per-round ratios.
func fmtRange(lo, hi float64) string {
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return "-"
	}
	return fmt.Sprintf("%.2f-%.2f", lo, hi)
}

func fmtMs(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond))
}

func fmtLat(p50, p99, p999 time.Duration) string {
	return fmtMs(p50) + " / " + fmtMs(p99) + " / " + fmtMs(p999)
}

// Report is everything the harness prints and writes.
type Report struct {
	ALabel, BLabel string
	Header         []string // run description lines
	Rows           []Summary
	Mem            []MemResult // [A, B] when run
	Problems       []string
}

func (r *Report) notes(s Summary) string {
	var n []string
	if s.AFailures > 0 {
		n = append(n, fmt.Sprintf("%s failed %d round(s)", r.ALabel, s.AFailures))
	}
	if s.BFailures > 0 {
		n = append(n, fmt.Sprintf("%s failed %d round(s)", r.BLabel, s.BFailures))
	}
	if s.AErrors > 0 {
		n = append(n, fmt.Sprintf("%s: %d bad replies", r.ALabel, s.AErrors))
	}
	if s.BErrors > 0 {
		n = append(n, fmt.Sprintf("%s: %d bad replies", r.BLabel, s.BErrors))
	}
	return strings.Join(n, "; ")
}

// WriteText prints the aligned table for a terminal.
func (r *Report) WriteText(w io.Writer) {
	for _, h := range r.Header {
		fmt.Fprintln(w, h)
	}
	if len(r.Rows) > 0 {
		fmt.Fprintln(w)
		r.writeRowsText(w)
	}
	if len(r.Mem) > 0 {
		fmt.Fprintln(w)
		r.writeMemText(w)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Problems:")
		for _, p := range r.Problems {
			fmt.Fprintln(w, "  - "+strings.ReplaceAll(p, "\n", "\n      "))
		}
	}
}

func (r *Report) writeRowsText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "workload\t%s ops/s\t%s ops/s\tratio\tround ratios\t%s p50/p99/p99.9 ms\t%s p50/p99/p99.9 ms\t%s CPU µs/req\t%s CPU µs/req\t%s\tCPU round ratios\t\n",
		r.ALabel, r.BLabel, r.ALabel, r.BLabel, r.ALabel, r.BLabel, r.cpuRatioHeader())
	for _, s := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", s.Workload, fmtOps(s.AOps), fmtOps(s.BOps), fmtRatio(s.Ratio), fmtRange(s.PairLo, s.PairHi),
			fmtLat(s.AP50, s.AP99, s.AP999), fmtLat(s.BP50, s.BP99, s.BP999),
			fmtCPU(s.ACPU), fmtCPU(s.BCPU), fmtRatio(s.CPURatio), fmtRange(s.CPUPairLo, s.CPUPairHi))
		if n := r.notes(s); n != "" {
			fmt.Fprintf(tw, "  %s", n)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func (r *Report) memRatio() float64 {
	if len(r.Mem) != 2 || r.Mem[1].PerSession() <= 0 {
		return math.NaN()
	}
	return r.Mem[0].PerSession() / r.Mem[1].PerSession()
}

func (r *Report) writeMemText(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "memory\tsessions\tRSS before\tRSS after\tpeak RSS\tRSS B/session\tat %v\tused_memory B/session\tload time\t\n", earlyRSSAt)
	for _, m := range r.Mem {
		used := "-"
		if u := m.UsedPerSession(); u >= 0 {
			used = fmt.Sprintf("%.0f", u)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%.0f\t%.0f\t%s\t%v\t", m.Label, m.Sessions, mib(m.RSSBefore), mib(m.RSSAfter), mib(m.PeakRSS),
			m.PerSession(), m.EarlyPerSession(), used, m.Load.Round(time.Millisecond))
		if m.Err != "" {
			fmt.Fprintf(tw, "  %s", m.Err)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(r.Mem) == 2 {
		fmt.Fprintf(w, "RSS per session %s/%s: %s (lower is better)\n", r.ALabel, r.BLabel, fmtRatio(r.memRatio()))
	}
	for _, m := range r.Mem {
		if m.Runtime != "" {
			fmt.Fprintf(w, "%s INFO memory after loading: %s\n", m.Label, m.Runtime)
		}
	}
}

// WriteMarkdown writes the same content as a markdown document.
func (r *Report) WriteMarkdown(w io.Writer) {
	fmt.Fprintf(w, "# sessiond vs redis-server\n\n")
	for _, h := range r.Header {
		fmt.Fprintf(w, "- %s\n", h)
	}
	fmt.Fprintln(w)
	if len(r.Rows) > 0 {
		fmt.Fprintf(w, "| workload | %s ops/s | %s ops/s | ratio | round ratios | %s p50 / p99 / p99.9 ms | %s p50 / p99 / p99.9 ms | %s CPU µs/req | %s CPU µs/req | %s | CPU round ratios | notes |\n",
			r.ALabel, r.BLabel, r.ALabel, r.BLabel, r.ALabel, r.BLabel, r.cpuRatioHeader())
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		for _, s := range r.Rows {
			fmt.Fprintf(w, "| %s | %s | %s | **%s** | %s | %s | %s | %s | %s | **%s** | %s | %s |\n", s.Workload, fmtOps(s.AOps), fmtOps(s.BOps), fmtRatio(s.Ratio), fmtRange(s.PairLo, s.PairHi),
				fmtLat(s.AP50, s.AP99, s.AP999), fmtLat(s.BP50, s.BP99, s.BP999),
				fmtCPU(s.ACPU), fmtCPU(s.BCPU), fmtRatio(s.CPURatio), fmtRange(s.CPUPairLo, s.CPUPairHi), r.notes(s))
		}
		fmt.Fprintln(w)
	}
	if len(r.Mem) > 0 {
		fmt.Fprintf(w, "| memory | sessions | RSS before | RSS after | peak RSS | RSS B/session | RSS B/session at %v | used_memory B/session | load time |\n", earlyRSSAt)
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
		for _, m := range r.Mem {
			used := "-"
			if u := m.UsedPerSession(); u >= 0 {
				used = fmt.Sprintf("%.0f", u)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %.0f | %.0f | %s | %v |\n", m.Label, m.Sessions, mib(m.RSSBefore), mib(m.RSSAfter), mib(m.PeakRSS),
				m.PerSession(), m.EarlyPerSession(), used, m.Load.Round(time.Millisecond))
		}
		if len(r.Mem) == 2 {
			fmt.Fprintf(w, "\nRSS per session %s/%s: **%s** (lower is better)\n", r.ALabel, r.BLabel, fmtRatio(r.memRatio()))
		}
		for _, m := range r.Mem {
			if m.Runtime != "" {
				fmt.Fprintf(w, "\n%s INFO memory after loading: `%s`\n", m.Label, m.Runtime)
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.Problems) > 0 {
		fmt.Fprintln(w, "## Problems")
		fmt.Fprintln(w)
		for _, p := range r.Problems {
			head, rest, multi := strings.Cut(p, "\n")
			fmt.Fprintf(w, "- %s\n", head)
			if multi {
				fmt.Fprintf(w, "\n  ```\n  %s\n  ```\n", strings.ReplaceAll(rest, "\n", "\n  "))
			}
		}
	}
}

// WriteCSV writes one line per workload (and per memory result).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	ms := func(d time.Duration) string {
		if d <= 0 {
			return ""
		}
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 3, 64)
	}
	_ = cw.Write([]string{"workload", "a_server", "b_server", "a_ops_per_sec", "b_ops_per_sec", "ratio", "round_ratio_min", "round_ratio_max",
		"a_p50_ms", "a_p99_ms", "a_p999_ms", "b_p50_ms", "b_p99_ms", "b_p999_ms", "a_rounds", "b_rounds", "a_bad_replies", "b_bad_replies", "notes",
		"a_cpu_us_per_req", "b_cpu_us_per_req", "cpu_ratio", "cpu_round_ratio_min", "cpu_round_ratio_max"})
	for _, s := range r.Rows {
		_ = cw.Write([]string{s.Workload, r.ALabel, r.BLabel, f(s.AOps), f(s.BOps), f(s.Ratio), f(s.PairLo), f(s.PairHi),
			ms(s.AP50), ms(s.AP99), ms(s.AP999), ms(s.BP50), ms(s.BP99), ms(s.BP999),
			strconv.Itoa(s.ARounds), strconv.Itoa(s.BRounds), strconv.FormatInt(s.AErrors, 10), strconv.FormatInt(s.BErrors, 10), r.notes(s),
			f(s.ACPU), f(s.BCPU), f(s.CPURatio), f(s.CPUPairLo), f(s.CPUPairHi)})
	}
	if len(r.Mem) == 2 {
		a, b := r.Mem[0], r.Mem[1]
		_ = cw.Write([]string{fmt.Sprintf("mem-rss-bytes-per-session-%d", a.Sessions), r.ALabel, r.BLabel,
			f(a.PerSession()), f(b.PerSession()), f(r.memRatio()), "", "", "", "", "", "", "", "", "1", "1", "", "", "lower is better", "", "", "", "", ""})
		if a.UsedPerSession() >= 0 && b.UsedPerSession() >= 0 {
			_ = cw.Write([]string{fmt.Sprintf("mem-used_memory-bytes-per-session-%d", a.Sessions), r.ALabel, r.BLabel,
				f(a.UsedPerSession()), f(b.UsedPerSession()), f(a.UsedPerSession() / b.UsedPerSession()), "", "", "", "", "", "", "", "", "1", "1", "", "", "lower is better", "", "", "", "", ""})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteSVG draws a horizontal bar chart of the throughput ratios with a
// line at 1.0, and, when measured, the memory ratio below it.
func (r *Report) WriteSVG(w io.Writer) error {
	type bar struct {
		label string
		v     float64
		mem   bool
	}
	var bars []bar
	for _, s := range r.Rows {
		bars = append(bars, bar{s.Workload, s.Ratio, false})
	}
	memR := r.memRatio()
	if !math.IsNaN(memR) {
		bars = append(bars, bar{"RSS per session", memR, true})
	}
	maxV := 1.5
	for _, b := range bars {
		if !math.IsNaN(b.v) && b.v*1.1 > maxV {
			maxV = b.v * 1.1
		}
	}
	maxV = math.Ceil(maxV*2) / 2 // round up to 0.5
	const (
		left, right, top = 170.0, 80.0, 56.0
		barH, gap        = 20.0, 8.0
		plotW            = 520.0
	)
	extra := 0.0
	if !math.IsNaN(memR) {
		extra = 30
	}
	height := top + float64(len(bars))*(barH+gap) + extra + 50
	width := left + plotW + right
	x := func(v float64) float64 { return left + v/maxV*plotW }
	var sb strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&sb, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%.0f" y="20" font-size="15" font-weight="bold">%s / %s throughput (median ops/s ratio)</text>`+"\n", left, html.EscapeString(r.ALabel), html.EscapeString(r.BLabel))
	p(`<text x="%.0f" y="38" fill="#555">right of the 1.0 line: %s faster</text>`+"\n", left, html.EscapeString(r.ALabel))
	// grid
	for v := 0.0; v <= maxV+1e-9; v += 0.5 {
		p(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`+"\n", x(v), top-6, x(v), height-40)
		p(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%.1f</text>`+"\n", x(v), height-26, v)
	}
	y := top
	for i, b := range bars {
		if b.mem {
			y += extra
			p(`<text x="%.0f" y="%.0f" fill="#555">memory: RSS growth per session, %s / %s (left of 1.0: %s smaller)</text>`+"\n",
				left, y-8, html.EscapeString(r.ALabel), html.EscapeString(r.BLabel), html.EscapeString(r.ALabel))
		}
		p(`<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+barH*0.7, html.EscapeString(b.label))
		if math.IsNaN(b.v) {
			p(`<text x="%.0f" y="%.1f" fill="#a00">no result</text>`+"\n", left+4, y+barH*0.7)
		} else {
			good := b.v >= 1
			if b.mem {
				good = b.v <= 1
			}
			color := "#c0392b"
			if good {
				color = "#27ae60"
			}
			p(`<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s: %.3f</title></rect>`+"\n",
				left, y, x(b.v)-left, barH, color, html.EscapeString(b.label), b.v)
			p(`<text x="%.1f" y="%.1f">%.2fx</text>`+"\n", x(b.v)+4, y+barH*0.7, b.v)
		}
		_ = i
		y += barH + gap
	}
	p(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="black" stroke-width="2" stroke-dasharray="5,3"/>`+"\n", x(1), top-10, x(1), height-40)
	p(`<text x="%.1f" y="%.0f" text-anchor="middle" font-weight="bold">1.0</text>`+"\n", x(1), top-12)
	p("</svg>\n")
	_, err := io.WriteString(w, sb.String())
	return err
}

// benchName is the benchstat-style name of one result line (style.md
// convention 15): key=value parts so `benchstat -col /server` compares the
// two servers.
func benchName(server, workload string, pipeline, conns, value int) string {
	return fmt.Sprintf("BenchmarkServer/server=%s/workload=%s/pipeline=%d/conns=%d/value=%d", server, workload, pipeline, conns, value)
}

// gobenchLine formats one round in Go benchmark format.
func gobenchLine(name string, s Sample) string {
	if s.OpsPerSec <= 0 {
		return ""
	}
	n := s.Ops
	if n <= 0 {
		n = 1
	}
	line := fmt.Sprintf("%s\t%d\t%.1f ns/op\t%.0f ops/s", name, n, 1e9/s.OpsPerSec, s.OpsPerSec)
	if s.P50 > 0 {
		line += fmt.Sprintf("\t%d p50-ns\t%d p99-ns", s.P50.Nanoseconds(), s.P99.Nanoseconds())
	}
	if s.P999 > 0 {
		line += fmt.Sprintf("\t%d p99.9-ns", s.P999.Nanoseconds())
	}
	if c := cpuPerOp(s); !math.IsNaN(c) {
		line += fmt.Sprintf("\t%.3f server-cpu-us/op", c)
	}
	return line
}
