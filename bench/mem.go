//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MemResult is the memory-per-session measurement for one server.
type MemResult struct {
	Label     string
	Sessions  int
	Users     int
	RSSBefore int64
	RSSAfter  int64 // after the settle time
	// RSSEarly is the RSS earlyRSSAt after loading (or at the settle time
	// if that is shorter), before either allocator has returned idle pages.
	RSSEarly   int64
	PeakRSS    int64 // VmHWM after loading
	UsedBefore int64 // INFO memory used_memory; -1 when not reported
	UsedAfter  int64
	DBSize     int64
	Load       time.Duration
	Err        string
	// Runtime lists server-specific INFO memory fields after loading
	// (sessiond's go_* fields), for the report's notes.
	Runtime string
}

// PerSession is the RSS growth per loaded session, in bytes.
func (m MemResult) PerSession() float64 {
	if m.Sessions == 0 {
		return 0
	}
	return float64(m.RSSAfter-m.RSSBefore) / float64(m.Sessions)
}

// EarlyPerSession is the RSS growth per session earlyRSSAt after loading.
func (m MemResult) EarlyPerSession() float64 {
	if m.Sessions == 0 {
		return 0
	}
	return float64(m.RSSEarly-m.RSSBefore) / float64(m.Sessions)
}

// earlyRSSAt is when the memory test takes its early RSS reading. Both
// servers return idle heap pages to the system over about 10 s after a
// load (jemalloc's dirty_decay_ms in redis, heapDecayAfter in sessiond),
// so the default settle time is past that, and this reading shows the
// figure before it.
const earlyRSSAt = 2 * time.Second

// UsedPerSession is the used_memory growth per session, or -1.
func (m MemResult) UsedPerSession() float64 {
	if m.Sessions == 0 || m.UsedBefore < 0 || m.UsedAfter < 0 {
		return -1
	}
	return float64(m.UsedAfter-m.UsedBefore) / float64(m.Sessions)
}

// splitmix64 gives well-mixed 64-bit values from a counter, for session
// ids that are deterministic, unique and cheap to generate.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func memSessionID(i int) string {
	var b [16]byte
	a, c := splitmix64(uint64(i)), splitmix64(uint64(i)^0x5bd1e9955bd1e995)
	for j := 0; j < 8; j++ {
		b[j] = byte(a >> (8 * j))
		b[8+j] = byte(c >> (8 * j))
	}
	return hex.EncodeToString(b[:])
}

// memBlob fills dst with a printable blob distinct per session, so a server
// cannot share storage between sessions.
func memBlob(dst []byte, i int) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}:\","
	x := uint64(i) * 0x2545f4914f6cdd1d
	for j := range dst {
		if j%8 == 0 {
			x = splitmix64(x)
		}
		dst[j] = alphabet[(x>>(8*(j%8)))&0xff%uint64(len(alphabet))]
	}
}

// loadSessions loads n sessions sess:<32 hex> with distinct valueSize-byte
// blobs and TTL 1800, plus n/5 user_sess:<uid> sets of 5 sessions each with
// their own EXPIRE 1800.
func loadSessions(ctx context.Context, addr string, n, valueSize int) error {
	bufs := make(chan []byte, 64)
	if err := pipelineLoad(ctx, addr, n, 4, 512, func(i int, c *conn) {
		var v []byte
		select {
		case v = <-bufs:
		default:
			v = make([]byte, valueSize)
		}
		memBlob(v, i)
		c.Send("SETEX", "sess:"+memSessionID(i), "1800", v)
		// Send copied v into the write buffer; reuse it.
		select {
		case bufs <- v:
		default:
		}
	}, isOK); err != nil {
		return fmt.Errorf("loading sessions: %w", err)
	}
	users := n / 5
	if err := pipelineLoad(ctx, addr, 2*users, 4, 512, func(i int, c *conn) {
		u := i / 2
		key := "user_sess:" + strconv.Itoa(u)
		if i%2 == 1 {
			c.Send("EXPIRE", key, "1800")
			return
		}
		args := []any{"SADD", key}
		for j := 0; j < 5; j++ {
			args = append(args, memSessionID(u*5+j))
		}
		c.Send(args...)
	}, func(i int, r Reply) bool {
		if i%2 == 1 {
			return r.Kind == ':' && r.Int == 1
		}
		return r.Kind == ':' && r.Int == 5
	}); err != nil {
		return fmt.Errorf("loading user index sets: %w", err)
	}
	return nil
}

func usedMemory(addr string) int64 {
	m, err := info(addr, "memory")
	if err != nil {
		return -1
	}
	return usedFrom(m)
}

func usedFrom(m map[string]string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(m["used_memory"]), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func dbsize(addr string) (int64, error) {
	c, err := dial(addr, 2*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	r, err := c.Do("DBSIZE")
	if err != nil {
		return 0, err
	}
	if r.Kind != ':' {
		return 0, fmt.Errorf("DBSIZE answered %s", r)
	}
	return r.Int, nil
}

func readHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// runMem starts a fresh server, loads n sessions and measures it.
func runMem(ctx context.Context, label, kind, bin, base string, n, valueSize int, settle time.Duration, progress func(string, ...any)) (MemResult, error) {
	res := MemResult{Label: label, Sessions: n, Users: n / 5}
	s, err := startServer(ctx, label+"-mem", kind, bin, base, nil)
	if err != nil {
		return res, err
	}
	defer s.Stop()
	time.Sleep(300 * time.Millisecond)
	if res.RSSBefore, err = s.RSS(); err != nil {
		return res, err
	}
	res.UsedBefore = usedMemory(s.Addr())
	t0 := time.Now()
	if err := loadSessions(ctx, s.Addr(), n, valueSize); err != nil {
		if !s.Alive() {
			err = fmt.Errorf("%w; %s died (%s); log tail:\n%s", err, label, s.ExitStatus(), s.LogTail(1500))
		}
		return res, err
	}
	res.Load = time.Since(t0)
	progress("mem %s: loaded %d sessions + %d sets in %v; settling %v", label, n, n/5, res.Load.Round(time.Millisecond), settle)
	// Wait out the settle time, logging RSS every 5 seconds of a long one
	// (both servers return freed heap to the OS some seconds after a load).
	for waited := time.Duration(0); waited < settle; {
		step := min(5*time.Second, settle-waited)
		if waited < earlyRSSAt {
			step = min(earlyRSSAt, settle)
		}
		select {
		case <-time.After(step):
		case <-ctx.Done():
			return res, ctx.Err()
		}
		waited += step
		if waited == settle {
			break // RSSAfter, below
		}
		rss, err := s.RSS()
		if err != nil {
			return res, err
		}
		if res.RSSEarly == 0 {
			res.RSSEarly = rss
		}
		progress("mem %s: RSS %s after %v", label, mib(rss), waited)
	}
	if res.RSSAfter, err = s.RSS(); err != nil {
		return res, err
	}
	if res.RSSEarly == 0 { // no settle time
		res.RSSEarly = res.RSSAfter
	}
	res.PeakRSS = readHWM(s.Pid())
	if profileDir != "" && s.PprofAddr != "" {
		if err := fetchProfile(ctx, s.PprofAddr, "heap", "heap-mem.pprof"); err != nil {
			progress("heap profile: %v", err)
		} else {
			progress("heap profile after loading: %s", filepath.Join(profileDir, "heap-mem.pprof"))
		}
	}
	res.UsedAfter = -1
	if m, err := info(s.Addr(), "memory"); err == nil {
		res.UsedAfter = usedFrom(m)
		var extra []string
		for k, v := range m {
			if strings.HasPrefix(k, "go_") {
				extra = append(extra, k+"="+v)
			}
		}
		slices.Sort(extra)
		res.Runtime = strings.Join(extra, " ")
	}
	if res.UsedAfter < 0 {
		res.UsedBefore = -1
	}
	if res.DBSize, err = dbsize(s.Addr()); err != nil {
		return res, err
	}
	if want := int64(n + n/5); res.DBSize != want {
		res.Err = fmt.Sprintf("DBSIZE %d after loading, want %d", res.DBSize, want)
	}
	return res, nil
}
