//go:build linux

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reqRec is one request of the paced driver: when it was due to be sent
// (Unix ns) and how long its reply took (see pacedDriver for from when).
type reqRec struct {
	sched int64
	lat   int64
	bad   bool
}

// pacedDriver sends GET (90%) and SETEX 1800 (10%) on keys at a fixed total
// rate over conns connections, pipeline 1, open loop: each connection has
// its own schedule and a request's latency is counted from its scheduled
// send time, so a server stall shows up in every request it delayed
// (no coordinated omission). A request the driver slept for counts from
// when it was sent instead: Go's netpoller waits in whole milliseconds
// when every P is idle, so such a sleep ends about 1 ms late, more when the
// CPU is busy, and that lateness is the driver's, not the server's.
// Measured at 20,000 requests/s over 50 connections, the sleeps overran by
// 0.97 ms at p90 and 1.3-1.6 ms at p99, which had made 10-15% of the
// requests to either server "take" over 1 ms. The requests that follow
// behind schedule count from their schedule moved by that lateness (slip),
// or from their sending if that is earlier: what they would have waited had
// the driver woken on time. (A server stall that overlaps an overrun sleep
// goes uncounted for the overlap.)
type pacedDriver struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	recs   []reqRec
	err    error
}

func startPaced(ctx context.Context, addr string, keys []string, value []byte, conns int, rate float64) (*pacedDriver, error) {
	ctx, cancel := context.WithCancel(ctx)
	p := &pacedDriver{cancel: cancel}
	cs := make([]*conn, conns)
	for i := range cs {
		c, err := dial(addr, 2*time.Second)
		if err != nil {
			for _, c := range cs[:i] {
				c.Close()
			}
			cancel()
			return nil, err
		}
		c.reuse = true
		cs[i] = c
	}
	interval := time.Duration(float64(conns) / rate * float64(time.Second))
	start := time.Now().Add(20 * time.Millisecond)
	for ci, c := range cs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer c.Close()
			rng := rand.New(rand.NewPCG(77, uint64(ci)))
			recs := make([]reqRec, 0, 1<<14)
			next := start.Add(interval * time.Duration(ci) / time.Duration(conns))
			defer func() {
				p.mu.Lock()
				p.recs = append(p.recs, recs...)
				p.mu.Unlock()
			}()
			var slip time.Duration // how late the last sleep ended
			for ctx.Err() == nil {
				var sent time.Time
				if d := time.Until(next); d > 0 {
					pacedSleep(d)
					sent = time.Now()
					slip = sent.Sub(next)
				} else { // behind schedule: count the wait for the last reply
					sent = next.Add(slip)
					if now := time.Now(); now.Before(sent) {
						sent = now
					}
				}
				k := keys[rng.IntN(len(keys))]
				isGet := rng.IntN(10) != 0
				if isGet {
					c.SendStrings("GET", k)
				} else {
					c.SendSetex(k, "1800", value)
				}
				_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := c.Flush(); err != nil {
					p.fail(err)
					return
				}
				r, err := c.Read()
				now := time.Now()
				if err != nil {
					p.fail(err)
					return
				}
				bad := false
				if isGet {
					bad = r.Kind != '$' || (!r.Nil && len(r.Str) != len(value))
				} else {
					bad = r.Kind != '+'
				}
				recs = append(recs, reqRec{sched: next.UnixNano(), lat: int64(now.Sub(sent)), bad: bad})
				next = next.Add(interval)
			}
		}()
	}
	return p, nil
}

// pacedSleep is time.Sleep; a test makes it oversleep.
var pacedSleep = time.Sleep

func (p *pacedDriver) fail(err error) {
	p.mu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.mu.Unlock()
}

// stop ends the driver and returns every request it made.
func (p *pacedDriver) stop() ([]reqRec, error) {
	p.cancel()
	p.wg.Wait()
	return p.recs, p.err
}

// LatWindow is the latency of the requests scheduled inside one window.
type LatWindow struct {
	N, Bad               int
	P50, P99, P999, Max  time.Duration
	Over1ms              int
	FromUnixNs, ToUnixNs int64
	OfferedRate, GotRate float64
}

// window summarises recs scheduled in [from, to) (Unix ns).
func window(recs []reqRec, from, to int64) LatWindow {
	var h Histogram
	w := LatWindow{FromUnixNs: from, ToUnixNs: to}
	for _, r := range recs {
		if r.sched < from || r.sched >= to {
			continue
		}
		w.N++
		if r.bad {
			w.Bad++
		}
		if r.lat > int64(time.Millisecond) {
			w.Over1ms++
		}
		h.Record(time.Duration(r.lat))
	}
	if w.N > 0 {
		w.P50, w.P99, w.P999, w.Max = h.Percentile(50), h.Percentile(99), h.Percentile(99.9), h.Max()
		if to > from {
			w.GotRate = float64(w.N) / (float64(to-from) / 1e9)
		}
	}
	return w
}

// latTimeline lists the latency of recs in 50 ms windows by schedule,
// from 1 s before from to 500 ms after to (Unix ns), one line each, times
// relative to from: where in a save or a storm the slow requests were.
func latTimeline(recs []reqRec, from, to int64) string {
	const step = int64(50 * time.Millisecond)
	var b strings.Builder
	for t := from - 20*step; t < to+10*step; t += step {
		fmt.Fprintf(&b, "%+6d ms  %s\n", (t-from)/int64(time.Millisecond), window(recs, t, t+step))
	}
	return b.String()
}

func (w LatWindow) String() string {
	return fmt.Sprintf("%s / %s / %s / %s ms (n=%d, >1ms %d)", fmtMs(w.P50), fmtMs(w.P99), fmtMs(w.P999), fmtMs(w.Max), w.N, w.Over1ms)
}

// procTicks returns utime+stime of pid in clock ticks (/proc/<pid>/stat
// fields 14 and 15).
func procTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(b))
}

func parseStatTicks(s string) (int64, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc stat line %q", s)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime is field 14 -> f[11], stime f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc stat line %q", s)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime in %q", s)
	}
	return u + st, nil
}
