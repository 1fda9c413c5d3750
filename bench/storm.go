//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Flags of the expiry and snapshot workloads. They run only when named in
// --workloads (expiry, expiry-reclaim, expiry-storm, expiry-cpu, snapshot),
// never as part of the default or --quick set.
var (
	stormKeys       = flag.Int("storm-keys", 300000, "expiry-reclaim: keys expiring within one second")
	stormPersistent = flag.Int("storm-persistent", 100000, "expiry-reclaim and expiry-storm: keys without a TTL (expiry-storm: the sessions the paced driver hits)")
	stormLoadKeys   = flag.Int("storm-load-keys", 1000000, "expiry-storm: keys expiring within one second while the paced driver runs")
	expiryCPURate   = flag.Int("expiry-cpu-rate", 100000, "expiry-cpu: keys expiring per second")
	expiryCPUWindow = flag.Duration("expiry-cpu-window", 3*time.Second, "expiry-cpu: length of the idle and the expiring window")
	snapSessions    = flag.Int("snapshot-sessions", 1000000, "snapshot: sessions resident during BGSAVE")
	pacedRate       = flag.Float64("paced-rate", 20000, "expiry-storm and snapshot: offered load of the paced GET/SETEX driver, requests/s over --clients connections")
	extraRounds     = flag.Int("extra-rounds", 2, "rounds (A B A B) of the expiry and snapshot workloads")
	baselineWindow  = flag.Duration("baseline-window", 3*time.Second, "expiry-storm and snapshot: length of the no-storm / no-save baseline window")
)

var extraNames = []string{"expiry-reclaim", "expiry-storm", "expiry-cpu", "snapshot", "soak"}

// extraSelected reports whether the --workloads filter names this extra
// workload explicitly (an empty filter or "all" does not).
func extraSelected(filter, name string) bool {
	if strings.TrimSpace(filter) == "" || filter == "all" {
		return false
	}
	return selected(filter, name)
}

func anyExtraSelected(filter string) bool {
	for _, n := range extraNames {
		if extraSelected(filter, n) {
			return true
		}
	}
	return false
}

type extraSide struct{ label, kind, bin string }

// runExtraWorkloads runs the selected expiry and snapshot workloads,
// prints their tables and writes them to --out/extra.txt.
func runExtraWorkloads(ctx context.Context, o *options, rep *Report, tmp, aLabel, aBin, redisServer string) error {
	sides := []extraSide{{aLabel, o.target, aBin}, {rep.BLabel, kindRedis, redisServer}}
	var out strings.Builder
	fmt.Fprintf(&out, "## expiry and snapshot workloads\n\n")
	for _, h := range header(o, aBin, redisServer) {
		if strings.HasPrefix(h, "mode:") || strings.HasPrefix(h, "latencies are") {
			continue
		}
		fmt.Fprintln(&out, h)
	}
	fmt.Fprintf(&out, "extra rounds %d (A B A B); paced driver %.0f req/s over %d conns, pipeline 1, 90%% GET / 10%% SETEX, latency from the scheduled send time when sent late, from sending when the driver slept for it\n\n", *extraRounds, *pacedRate, o.clients)
	problem := func(format string, args ...any) {
		p := fmt.Sprintf(format, args...)
		rep.Problems = append(rep.Problems, p)
		progress("PROBLEM: %s", p)
	}
	if extraSelected(o.workloads, "expiry-reclaim") {
		if err := runReclaim(ctx, o, sides, tmp, &out, problem); err != nil {
			return err
		}
	}
	if extraSelected(o.workloads, "expiry-storm") {
		if err := runStorm(ctx, o, sides, tmp, &out, problem); err != nil {
			return err
		}
	}
	if extraSelected(o.workloads, "expiry-cpu") {
		if err := runExpiryCPU(ctx, o, sides, tmp, &out, problem); err != nil {
			return err
		}
	}
	if extraSelected(o.workloads, "snapshot") {
		if err := runSnapshot(ctx, o, sides, tmp, &out, problem); err != nil {
			return err
		}
	}
	if extraSelected(o.workloads, "soak") { // bad input and limits: soak.go (side A only)
		if err := runSoak(ctx, o, sides[0], tmp, &out, problem); err != nil {
			return err
		}
	}
	fmt.Fprintf(&out, "load average at end: %s\n", loadAvg())
	fmt.Print(out.String())
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.out, "extra.txt"), []byte(out.String()), 0o644)
}

// forRounds runs f for each round and side, sides alternating, each on a
// fresh server that is stopped afterwards.
func forRounds(ctx context.Context, sides []extraSide, tmp, what string, problem func(string, ...any), f func(r int, sd extraSide, srv *Server) error) error {
	for r := 0; r < *extraRounds; r++ {
		for _, sd := range sides {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			runtime.GC()
			srv, err := startServer(ctx, sd.label, sd.kind, sd.bin, tmp, nil)
			if err != nil {
				return err
			}
			err = f(r, sd, srv)
			if err != nil {
				if ctx.Err() != nil {
					srv.Stop()
					return ctx.Err()
				}
				msg := fmt.Sprintf("%s round %d on %s: %v", what, r+1, sd.label, err)
				if !srv.Alive() {
					msg += fmt.Sprintf("; died (%s); log tail:\n%s", srv.ExitStatus(), srv.LogTail(1500))
				}
				problem("%s", msg)
			}
			srv.Stop()
			_ = os.RemoveAll(srv.Dir)
		}
	}
	return nil
}

func nowMs() int64 { return time.Now().UnixMilli() }

// loadPlain loads n keys prefix<i> with a 64-byte value and no TTL and
// returns the load rate in keys/s.
func loadPlain(ctx context.Context, addr, prefix string, n int) (float64, error) {
	v := make([]byte, 64)
	memBlob(v, 1)
	t0 := time.Now()
	err := pipelineLoad(ctx, addr, n, 4, 512, func(i int, c *conn) {
		c.SendStrings("SET", prefix+strconv.Itoa(i), string(v))
	}, isOK)
	return float64(n) / max(time.Since(t0).Seconds(), 1e-3), err
}

// loadSessionsPlain loads n sessions sess:<32 hex> with a valueSize-byte
// blob and TTL 1800 (no index sets) and returns the keys and the rate.
func loadSessionsPlain(ctx context.Context, addr string, n, valueSize int) ([]string, float64, error) {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "sess:" + memSessionID(i)
	}
	t0 := time.Now()
	err := pipelineLoad(ctx, addr, n, 4, 512, func(i int, c *conn) {
		v := make([]byte, valueSize)
		memBlob(v, i)
		c.SendSetex(keys[i], "1800", v)
	}, isOK)
	return keys, float64(n) / max(time.Since(t0).Seconds(), 1e-3), err
}

// loadExpiring loads keys exp:<i> with deadlines (PXAT) and a 64-byte value.
func loadExpiring(ctx context.Context, addr string, deadlines []int64) error {
	v := make([]byte, 64)
	memBlob(v, 2)
	return pipelineLoad(ctx, addr, len(deadlines), 4, 512, func(i int, c *conn) {
		c.SendStrings("SET", "exp:"+strconv.Itoa(i), string(v), "PXAT", strconv.FormatInt(deadlines[i], 10))
	}, isOK)
}

// pollDBSize polls DBSIZE every interval from now until the count minus
// persistent reaches 0 or until the Unix ms stopAt, and returns the curve.
func pollDBSize(ctx context.Context, addr string, persistent int64, interval time.Duration, stopAt int64) ([]DBSizePoll, error) {
	c, err := dial(addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var polls []DBSizePoll
	for ctx.Err() == nil {
		t0 := time.Now()
		_ = c.nc.SetDeadline(t0.Add(10 * time.Second))
		r, err := c.Do("DBSIZE")
		t1 := time.Now()
		if err != nil {
			return polls, err
		}
		if r.Kind != ':' {
			return polls, fmt.Errorf("DBSIZE answered %s", r)
		}
		mid := float64(t0.UnixNano()+t1.UnixNano()) / 2e6
		polls = append(polls, DBSizePoll{AtMs: mid, Present: r.Int - persistent,
			StartMs: float64(t0.UnixNano()) / 1e6, EndMs: float64(t1.UnixNano()) / 1e6})
		if r.Int-persistent <= 0 || t1.UnixMilli() > stopAt {
			return polls, nil
		}
		if d := interval - time.Since(t0); d > 0 {
			time.Sleep(d)
		}
	}
	return polls, ctx.Err()
}

func sleepUntilMs(ctx context.Context, ms int64) error {
	d := time.Until(time.UnixMilli(ms))
	if d <= 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func fmtMsF(v float64) string {
	if math.IsNaN(v) {
		return "never"
	}
	return fmt.Sprintf("%.1f", v)
}

func medianF(xs []float64) float64 {
	var ys []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			ys = append(ys, x)
		}
	}
	if len(ys) == 0 {
		return math.NaN()
	}
	return median(ys)
}

// ---- expiry-reclaim ----

func runReclaim(ctx context.Context, o *options, sides []extraSide, tmp string, out io.Writer, problem func(string, ...any)) error {
	n, pers := *stormKeys, *stormPersistent
	progress("expiry-reclaim: %d persistent keys, %d keys with PXAT deadlines spread over one second; DBSIZE polled every 1 ms", pers, n)
	res := map[string][]LagStats{}
	err := forRounds(ctx, sides, tmp, "expiry-reclaim", problem, func(r int, sd extraSide, srv *Server) error {
		rate, err := loadPlain(ctx, srv.Addr(), "keep:", pers)
		if err != nil {
			return err
		}
		t0 := nowMs() + int64(1.5*float64(n)/rate*1000) + 1000
		dl := spreadDeadlines(n, t0, 1000)
		if err := loadExpiring(ctx, srv.Addr(), dl); err != nil {
			return err
		}
		if lead := t0 - nowMs(); lead < 100 {
			return fmt.Errorf("loading took too long: done %d ms before the first deadline", lead)
		}
		if err := sleepUntilMs(ctx, t0-50); err != nil {
			return err
		}
		polls, err := pollDBSize(ctx, srv.Addr(), int64(pers), time.Millisecond, t0+1000+15000)
		if err != nil {
			return err
		}
		if len(polls) == 0 {
			return fmt.Errorf("no DBSIZE polls")
		}
		if early, p := EarlyExpired(dl, polls, 1); early > 0 {
			problem("expiry-reclaim round %d on %s: %d keys gone before their deadline (DBSIZE %d at %.1f ms after the first deadline)",
				r+1, sd.label, early, p.Present+int64(pers), p.EndMs-float64(t0))
		}
		if polls[0].Present != int64(n) {
			progress("expiry-reclaim round %d on %s: first poll %.1f ms after the first deadline saw %d of %d (the harness was late)",
				r+1, sd.label, polls[0].StartMs-float64(t0), polls[0].Present, n)
		}
		st := EstimateLag(dl, polls)
		res[sd.label] = append(res[sd.label], st)
		progress("expiry-reclaim round %d %-9s lag p50 %s p99 %s max %s ms; all gone %s ms after the last deadline; %d polls, max gap %.1f ms, unresolved %d",
			r+1, sd.label, fmtMsF(st.P50), fmtMsF(st.P99), fmtMsF(st.Max), fmtMsF(st.AllGoneMs), st.Polls, st.MaxGapMs, st.Unresolved)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "### expiry-reclaim: %d keys expiring within one second, %d persistent keys, no other load\n\n", n, pers)
	fmt.Fprintf(out, "Per-key reclaim lag estimated from the DBSIZE curve (polled every 1 ms), assuming deadline-order reclaim; ms, median over rounds (each round's value in brackets). Target: p99 <= tick+10 ms (20 ms), max <= 100 ms.\n\n")
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tlag p50\tlag p99\tlag max\tall gone after last deadline\tmax poll gap\t\n")
	for _, sd := range sides {
		ss := res[sd.label]
		col := func(f func(LagStats) float64) string {
			var xs []float64
			var each []string
			for _, s := range ss {
				xs = append(xs, f(s))
				each = append(each, fmtMsF(f(s)))
			}
			return fmt.Sprintf("%s [%s]", fmtMsF(medianF(xs)), strings.Join(each, " "))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", sd.label, col(func(s LagStats) float64 { return s.P50 }), col(func(s LagStats) float64 { return s.P99 }),
			col(func(s LagStats) float64 { return s.Max }), col(func(s LagStats) float64 { return s.AllGoneMs }), col(func(s LagStats) float64 { return s.MaxGapMs }))
	}
	tw.Flush()
	fmt.Fprintln(out)
	return nil
}

// ---- expiry-storm ----

type stormResult struct {
	base, storm LatWindow
	lag         LagStats
}

func runStorm(ctx context.Context, o *options, sides []extraSide, tmp string, out io.Writer, problem func(string, ...any)) error {
	n, pers := *stormLoadKeys, *stormPersistent
	progress("expiry-storm: %d sessions + %d keys expiring within one second, paced driver %.0f req/s", pers, n, *pacedRate)
	res := map[string][]stormResult{}
	err := forRounds(ctx, sides, tmp, "expiry-storm", problem, func(r int, sd extraSide, srv *Server) error {
		keys, rate, err := loadSessionsPlain(ctx, srv.Addr(), pers, o.valueSize)
		if err != nil {
			return err
		}
		base := *baselineWindow
		t0 := nowMs() + int64(1.5*float64(n)/rate*1000) + 500 + base.Milliseconds()
		dl := spreadDeadlines(n, t0, 1000)
		if err := loadExpiring(ctx, srv.Addr(), dl); err != nil {
			return err
		}
		runtime.GC()
		loadEnd := time.Now()
		if lead := t0 - loadEnd.UnixMilli(); lead < 1500 {
			return fmt.Errorf("loading took too long: done %d ms before the first deadline", lead)
		}
		value := make([]byte, o.valueSize)
		memBlob(value, 3)
		drv, err := startPaced(ctx, srv.Addr(), keys, value, o.clients, *pacedRate)
		if err != nil {
			return err
		}
		if err := sleepUntilMs(ctx, t0-50); err != nil {
			drv.stop()
			return err
		}
		polls, perr := pollDBSize(ctx, srv.Addr(), int64(pers), 2*time.Millisecond, t0+1000+5000)
		// The same fixed window on both servers: the storm second and 200 ms.
		stormEnd := time.UnixMilli(t0 + 1200)
		if err := sleepUntilMs(ctx, t0+1200+300); err != nil {
			drv.stop()
			return err
		}
		recs, derr := drv.stop()
		if perr != nil {
			return perr
		}
		if derr != nil {
			return fmt.Errorf("paced driver: %w", derr)
		}
		st := stormResult{
			base:  window(recs, max(loadEnd.Add(500*time.Millisecond).UnixNano(), time.UnixMilli(t0).Add(-base).UnixNano()), time.UnixMilli(t0).UnixNano()),
			storm: window(recs, time.UnixMilli(t0).UnixNano(), stormEnd.UnixNano()),
			lag:   EstimateLag(dl, polls),
		}
		if st.storm.Bad+st.base.Bad > 0 {
			problem("expiry-storm round %d on %s: %d bad replies", r+1, sd.label, st.storm.Bad+st.base.Bad)
		}
		res[sd.label] = append(res[sd.label], st)
		progress("expiry-storm round %d %-9s baseline %s; storm %s; reclaim p99 %s ms, all gone %s ms after the last deadline, %d left at the last poll",
			r+1, sd.label, st.base, st.storm, fmtMsF(st.lag.P99), fmtMsF(st.lag.AllGoneMs), st.lag.Unresolved)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "### expiry-storm: %d keys expiring within one second while the paced driver runs on %d sessions\n\n", n, pers)
	fmt.Fprintf(out, "Request latency p50 / p99 / p99.9 / max in ms, median over rounds; baseline = the %v before the first deadline (starting at least 0.5 s after the load), storm = from the first deadline to 200 ms after the last. Reclaim: DBSIZE polled every 2 ms until back to %d or 5 s after the last deadline (left = expired keys still counted then). Target (design): storm p99 <= 2x baseline.\n\n", *baselineWindow, pers)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tbaseline p50/p99/p99.9/max\tstorm p50/p99/p99.9/max\tstorm/base p99\treclaim lag p99\tall gone after last deadline\tleft\trequests base/storm\t\n")
	for _, sd := range sides {
		ss := res[sd.label]
		if len(ss) == 0 {
			fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\t\t\t\n", sd.label)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fx\t%s\t%s\t%.0f\t%d/%d\t\n", sd.label,
			latCell(ss, func(s stormResult) LatWindow { return s.base }), latCell(ss, func(s stormResult) LatWindow { return s.storm }),
			medianF(mapF(ss, func(s stormResult) float64 { return float64(s.storm.P99) / float64(max(s.base.P99, 1)) })),
			fmtMsF(medianF(mapF(ss, func(s stormResult) float64 { return s.lag.P99 }))),
			fmtMsF(medianF(mapF(ss, func(s stormResult) float64 { return s.lag.AllGoneMs }))),
			medianF(mapF(ss, func(s stormResult) float64 { return float64(s.lag.Unresolved) })),
			ss[0].base.N, ss[0].storm.N)
	}
	tw.Flush()
	fmt.Fprintln(out)
	return nil
}

func mapF[T any](xs []T, f func(T) float64) []float64 {
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = f(x)
	}
	return ys
}

// latCell formats the median over rounds of each latency percentile.
func latCell[T any](xs []T, f func(T) LatWindow) string {
	ms := func(g func(LatWindow) time.Duration) string {
		return fmt.Sprintf("%.3f", medianF(mapF(xs, func(x T) float64 { return float64(g(f(x))) / 1e6 })))
	}
	return ms(func(w LatWindow) time.Duration { return w.P50 }) + " / " + ms(func(w LatWindow) time.Duration { return w.P99 }) + " / " +
		ms(func(w LatWindow) time.Duration { return w.P999 }) + " / " + ms(func(w LatWindow) time.Duration { return w.Max })
}

// ---- expiry-cpu ----

type cpuResult struct{ idle, busy float64 }

func runExpiryCPU(ctx context.Context, o *options, sides []extraSide, tmp string, out io.Writer, problem func(string, ...any)) error {
	win := *expiryCPUWindow
	n := int(float64(*expiryCPURate) * win.Seconds())
	progress("expiry-cpu: %d keys expiring at %d/s over %v, no other load; CPU from /proc/<pid>/stat", n, *expiryCPURate, win)
	hz := clkTck()
	res := map[string][]cpuResult{}
	err := forRounds(ctx, sides, tmp, "expiry-cpu", problem, func(r int, sd extraSide, srv *Server) error {
		rate, err := loadPlain(ctx, srv.Addr(), "keep:", *stormPersistent)
		if err != nil {
			return err
		}
		t0 := nowMs() + int64(1.5*float64(n)/rate*1000) + 1000 + win.Milliseconds()
		dl := spreadDeadlines(n, t0, win.Milliseconds())
		if err := loadExpiring(ctx, srv.Addr(), dl); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
		idleStart := time.Now()
		if t0-idleStart.UnixMilli() < win.Milliseconds() {
			return fmt.Errorf("loading took too long for an idle window")
		}
		a, err := procTicks(srv.Pid())
		if err != nil {
			return err
		}
		time.Sleep(win)
		b, _ := procTicks(srv.Pid())
		idle := cpuPercent(b-a, hz, time.Since(idleStart).Seconds())
		if err := sleepUntilMs(ctx, t0); err != nil {
			return err
		}
		busyStart := time.Now()
		a, _ = procTicks(srv.Pid())
		// The window plus 100 ms so the last keys' reclaim is in it.
		time.Sleep(win + 100*time.Millisecond)
		b, _ = procTicks(srv.Pid())
		busy := cpuPercent(b-a, hz, time.Since(busyStart).Seconds())
		polls, err := pollDBSize(ctx, srv.Addr(), int64(*stormPersistent), time.Millisecond, nowMs()+5000)
		if err != nil {
			return err
		}
		if left := polls[len(polls)-1].Present; left > 0 {
			problem("expiry-cpu round %d on %s: %d keys still present 5 s after the window", r+1, sd.label, left)
		}
		res[sd.label] = append(res[sd.label], cpuResult{idle, busy})
		progress("expiry-cpu round %d %-9s idle %.1f%% of a core, while expiring %.1f%%", r+1, sd.label, idle, busy)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "### expiry-cpu: %d keys/s expiring for %v (%d keys), %d persistent keys, no requests\n\n", *expiryCPURate, win, n, *stormPersistent)
	fmt.Fprintf(out, "CPU of the server process (utime+stime), %% of one core, median over rounds [each round].\n\n")
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tidle\twhile expiring\textra\tµs per expired key\t\n")
	for _, sd := range sides {
		ss := res[sd.label]
		idle := medianF(mapF(ss, func(c cpuResult) float64 { return c.idle }))
		busy := medianF(mapF(ss, func(c cpuResult) float64 { return c.busy }))
		each := strings.Join(func() []string {
			var e []string
			for _, c := range ss {
				e = append(e, fmt.Sprintf("%.1f", c.busy))
			}
			return e
		}(), " ")
		fmt.Fprintf(tw, "%s\t%.1f%%\t%.1f%% [%s]\t%.1f%%\t%.2f\t\n", sd.label, idle, busy, each, busy-idle, (busy-idle)/100*1e6/float64(*expiryCPURate))
	}
	tw.Flush()
	fmt.Fprintln(out)
	return nil
}
