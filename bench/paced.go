package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// reqRec is one request of the paced driver: when it was due to be sent
// (Unix ns) and how long after that its reply arrived.
type reqRec struct {
	sched int64
	lat   int64
	bad   bool
}

// pacedDriver sends GET (90%) and SETEX 1800 (10%) on keys at a fixed total
// rate over conns connections, pipeline 1, open loop: each connection has
// its own schedule and a request's latency is counted from its scheduled
// send time, so a server stall shows up in every request it delayed
// (no coordinated omission).
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
			for ctx.Err() == nil {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
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
				recs = append(recs, reqRec{sched: next.UnixNano(), lat: int64(now.Sub(next)), bad: bad})
				next = next.Add(interval)
			}
		}()
	}
	return p, nil
}

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

// pssTree returns the proportional set size of pid and its children
// (Redis's BGSAVE child shares pages with its parent copy-on-write: PSS
// counts each shared page once across the two), and the pid's own RSS.
func pssTree(pid int) (pss int64, rss int64) {
	pids := []int{pid}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid)); err == nil {
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", e.Name(), "children"))
			if err != nil {
				continue
			}
			for _, c := range strings.Fields(string(b)) {
				if n, err := strconv.Atoi(c); err == nil {
					pids = append(pids, n)
				}
			}
		}
	}
	for _, p := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			continue
		}
		pss += smapsField(string(b), "Pss:")
	}
	rss, _ = readRSS(pid)
	return pss, rss
}

func smapsField(s, name string) int64 {
	for _, l := range strings.Split(s, "\n") {
		if rest, ok := strings.CutPrefix(l, name); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
