//go:build linux

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The soak workload (--workloads soak): many clients against one sessiond
// with maxmemory set, for --soak-duration. Valid clients keep their own
// sessions and check every read against what they wrote; hostile clients
// send garbage, malformed and oversized requests, huge announced sizes,
// half requests that stall, and pipelines they never read. It checks that
// the server stays up, its RSS stays bounded, valid clients' data stays
// intact, and hostile clients get Redis's protocol errors.
var (
	soakDuration  = flag.Duration("soak-duration", 2*time.Minute, "soak: how long to run")
	soakValid     = flag.Int("soak-valid", 20, "soak: well-behaved clients")
	soakHostile   = flag.Int("soak-hostile", 12, "soak: hostile clients")
	soakMaxMemory = flag.String("soak-maxmemory", "256mb", "soak: the server's maxmemory")
)

type soakStats struct {
	validOps, validErrs, mismatches, oom atomic.Int64
	hostileOps, protoErrs, closes        atomic.Int64
	byKind                               [soakKinds]atomic.Int64
	firstProblem                         atomic.Pointer[string]
}

func (s *soakStats) problem(format string, args ...any) {
	p := fmt.Sprintf(format, args...)
	s.firstProblem.CompareAndSwap(nil, &p)
}

const soakKinds = 9

var soakKindNames = [soakKinds]string{"garbage", "bad-header", "oversized-bulk", "huge-count", "big-partial", "half-stall", "never-read", "inline-too-big", "many-args"}

func runSoak(ctx context.Context, o *options, side extraSide, tmp string, out io.Writer, problem func(string, ...any)) error {
	srv, err := startServer(ctx, side.label, side.kind, side.bin, tmp, nil)
	if err != nil {
		return err
	}
	defer srv.Stop()
	addr := srv.Addr()
	admin, err := dial(addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer admin.Close()
	if r, err := admin.Do("CONFIG", "SET", "maxmemory", *soakMaxMemory); err != nil || r.Kind == '-' {
		return fmt.Errorf("CONFIG SET maxmemory: %v %v", r, err)
	}
	big := bytes.Repeat([]byte("b"), 100<<10)
	if _, err := admin.Do("SET", "soak:big", big); err != nil {
		return err
	}
	rss0, _ := srv.RSS()
	progress("soak: %s for %v, %d valid and %d hostile clients, maxmemory %s, RSS at start %s",
		side.label, *soakDuration, *soakValid, *soakHostile, *soakMaxMemory, mib(rss0))

	var st soakStats
	sctx, cancel := context.WithTimeout(ctx, *soakDuration)
	defer cancel()
	var wg sync.WaitGroup
	for i := range *soakValid {
		wg.Add(1)
		go func() { defer wg.Done(); soakValidClient(sctx, addr, i, &st) }()
	}
	for i := range *soakHostile {
		wg.Add(1)
		go func() { defer wg.Done(); soakHostileClient(sctx, addr, i, &st) }()
	}
	var maxRSS int64
	var samples []int64
	tick := time.NewTicker(time.Second)
	start := time.Now()
loop:
	for {
		select {
		case <-sctx.Done():
			break loop
		case <-tick.C:
			if !srv.Alive() {
				problem("soak: %s died (%s); log tail:\n%s", side.label, srv.ExitStatus(), srv.LogTail(1500))
				break loop
			}
			rss, err := srv.RSS()
			if err == nil {
				samples = append(samples, rss)
				maxRSS = max(maxRSS, rss)
			}
			if time.Since(start)%(15*time.Second) < time.Second {
				progress("soak: %v: RSS %s (max %s), valid ops %d, hostile ops %d, protocol errors %d",
					time.Since(start).Round(time.Second), mib(rss), mib(maxRSS), st.validOps.Load(), st.hostileOps.Load(), st.protoErrs.Load())
			}
		}
	}
	tick.Stop()
	cancel()
	wg.Wait()
	time.Sleep(2 * time.Second)
	alive := srv.Alive()
	rssEnd, _ := srv.RSS()
	ping, perr := admin.Do("PING")
	info, _ := admin.Do("INFO", "memory")
	used := infoField(string(info.Str), "used_memory")

	fmt.Fprintf(out, "## soak (%s, %v)\n\n", side.label, *soakDuration)
	fmt.Fprintf(out, "clients: %d valid, %d hostile; maxmemory %s\n", *soakValid, *soakHostile, *soakMaxMemory)
	fmt.Fprintf(out, "server alive at end: %v; PING after: %v %v\n", alive, ping, perr)
	fmt.Fprintf(out, "RSS: start %s, max %s, median %s, end (2s after the clients stopped) %s; used_memory %s\n",
		mib(rss0), mib(maxRSS), mib(medianInt(samples)), mib(rssEnd), used)
	fmt.Fprintf(out, "valid: %d commands, %d errors, %d OOM refusals, %d data mismatches\n",
		st.validOps.Load(), st.validErrs.Load(), st.oom.Load(), st.mismatches.Load())
	fmt.Fprintf(out, "hostile: %d attempts, %d protocol error replies, %d closes by the server\n", st.hostileOps.Load(), st.protoErrs.Load(), st.closes.Load())
	var kinds []string
	for k := range soakKinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", soakKindNames[k], st.byKind[k].Load()))
	}
	fmt.Fprintf(out, "hostile kinds: %s\n\n", strings.Join(kinds, ", "))
	if p := st.firstProblem.Load(); p != nil {
		problem("soak: %s", *p)
	}
	if !alive || perr != nil || ping.Kind != '+' {
		problem("soak: %s not answering after the soak", side.label)
	}
	if st.mismatches.Load() > 0 {
		problem("soak: %d data mismatches", st.mismatches.Load())
	}
	if lim, err := parseSize(*soakMaxMemory); err == nil && maxRSS > 4*lim+rss0 {
		problem("soak: RSS reached %s with maxmemory %s", mib(maxRSS), *soakMaxMemory)
	}
	return nil
}

func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	return "?"
}

func medianInt(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	c := append([]int64(nil), xs...)
	for i := range c { // small: insertion sort
		for j := i; j > 0 && c[j] < c[j-1]; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c[len(c)/2]
}

func parseSize(s string) (int64, error) {
	s = strings.ToLower(s)
	mult := int64(1)
	for _, u := range []struct {
		s string
		m int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}} {
		if strings.HasSuffix(s, u.s) {
			s, mult = strings.TrimSuffix(s, u.s), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// soakValidClient writes its own sessions and user sets and checks every
// read against its model. Writes refused at maxmemory (-OOM) leave the
// model unchanged, as they leave the server unchanged.
func soakValidClient(ctx context.Context, addr string, id int, st *soakStats) {
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	var c *conn
	model := map[string][]byte{}
	sets := map[string]map[string]bool{}
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for ctx.Err() == nil {
		if c == nil {
			var err error
			if c, err = dial(addr, 2*time.Second); err != nil {
				st.validErrs.Add(1)
				time.Sleep(100 * time.Millisecond)
				continue
			}
		}
		c.nc.SetDeadline(time.Now().Add(10 * time.Second))
		k := fmt.Sprintf("soak:%d:%d", id, rng.IntN(500))
		var r Reply
		var err error
		switch op := rng.IntN(10); {
		case op < 4:
			v := make([]byte, 200+rng.IntN(2000))
			for i := range v {
				v[i] = byte('a' + rng.IntN(26))
			}
			r, err = c.Do("SETEX", k, 3600, v)
			if err == nil && r.Kind == '+' {
				model[k] = v
			}
		case op < 8:
			r, err = c.Do("GET", k)
			if err == nil && r.Kind != '-' {
				want, ok := model[k]
				if ok == r.Nil || (ok && !bytes.Equal(want, r.Str)) {
					st.mismatches.Add(1)
					st.problem("client %d: GET %s: got %v, want %d bytes (present %v)", id, k, r, len(want), ok)
				}
			}
		case op < 9:
			u := fmt.Sprintf("soak:%d:user", id)
			m := strconv.Itoa(rng.IntN(50))
			r, err = c.Do("SADD", u, m)
			if err == nil && r.Kind == ':' {
				if sets[u] == nil {
					sets[u] = map[string]bool{}
				}
				sets[u][m] = true
			}
		default:
			u := fmt.Sprintf("soak:%d:user", id)
			r, err = c.Do("SCARD", u)
			if err == nil && r.Kind == ':' && r.Int != int64(len(sets[u])) {
				st.mismatches.Add(1)
				st.problem("client %d: SCARD %s = %d, want %d", id, u, r.Int, len(sets[u]))
			}
		}
		st.validOps.Add(1)
		if err != nil {
			if ctx.Err() == nil {
				st.validErrs.Add(1)
				st.problem("valid client %d: %v", id, err)
			}
			c.Close()
			c = nil
			continue
		}
		if r.Kind == '-' {
			if strings.HasPrefix(string(r.Str), "OOM") {
				st.oom.Add(1)
			} else {
				st.validErrs.Add(1)
				st.problem("valid client %d: %s", id, r.Str)
			}
		}
	}
}

// soakHostileClient misbehaves in turn in every way it knows.
func soakHostileClient(ctx context.Context, addr string, id int, st *soakStats) {
	rng := rand.New(rand.NewPCG(uint64(id), 99))
	for ctx.Err() == nil {
		kind := rng.IntN(soakKinds)
		st.hostileOps.Add(1)
		st.byKind[kind].Add(1)
		nc, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		expectErr := ""
		switch kind {
		case 0: // garbage
			b := make([]byte, 1+rng.IntN(4096))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			nc.Write(b)
		case 1:
			h := []string{"*x\r\n", "*1\r\n$-5\r\n", "*1\r\nx4\r\n", "*1\r\n$04\r\n", "\"unbalanced\r\n", "*2147483648\r\n"}
			nc.Write([]byte(h[rng.IntN(len(h))]))
			expectErr = "-ERR Protocol error"
		case 2:
			nc.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$600000000\r\n"))
			expectErr = "-ERR Protocol error: invalid bulk length"
		case 3:
			nc.Write([]byte("*2147483647\r\n"))
			chunk := bytes.Repeat([]byte("$1\r\nx\r\n"), 10000)
			for range 1 + rng.IntN(20) {
				if _, err := nc.Write(chunk); err != nil {
					break
				}
			}
		case 4: // a big value announced, part of it sent, then gone
			nc.Write([]byte("*3\r\n$3\r\nSET\r\n$9\r\nsoak:huge\r\n$400000000\r\n"))
			chunk := bytes.Repeat([]byte("h"), 1<<20)
			for range 1 + rng.IntN(32) {
				if _, err := nc.Write(chunk); err != nil {
					break
				}
			}
		case 5:
			nc.Write([]byte("*3\r\n$5\r\nSETEX\r\n$4\r\nsoak"))
			sleepCtx(ctx, time.Duration(500+rng.IntN(2500))*time.Millisecond)
		case 6: // pipelines GETs of a 100 KB value and never reads
			req := bytes.Repeat([]byte("*2\r\n$3\r\nGET\r\n$8\r\nsoak:big\r\n"), 1000)
			nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
			for range 20 {
				if _, err := nc.Write(req); err != nil {
					break
				}
			}
			sleepCtx(ctx, 2*time.Second)
		case 7:
			nc.Write(bytes.Repeat([]byte("a"), 70000))
			expectErr = "-ERR Protocol error: too big inline request"
		case 8: // many small arguments, complete: a legitimate but large MSET
			var b strings.Builder
			n := 2000
			fmt.Fprintf(&b, "*%d\r\n$4\r\nMSET\r\n", 2*n+1)
			for i := range n {
				k := fmt.Sprintf("soak:m:%d:%d", id, i)
				fmt.Fprintf(&b, "$%d\r\n%s\r\n$1\r\nv\r\n", len(k), k)
			}
			nc.Write([]byte(b.String()))
			expectErr = "+OK"
		}
		if expectErr != "" {
			nc.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 256)
			n, _ := io.ReadAtLeast(nc, buf, len(expectErr))
			got := string(buf[:n])
			if strings.HasPrefix(got, "-ERR Protocol error") {
				st.protoErrs.Add(1)
			}
			if !strings.HasPrefix(got, expectErr) && !(kind == 8 && strings.HasPrefix(got, "-OOM")) {
				st.problem("hostile %s: got %q, want %q", soakKindNames[kind], got, expectErr)
			}
			if expectErr != "+OK" {
				if _, err := nc.Read(buf); err != nil {
					st.closes.Add(1)
				} else {
					st.problem("hostile %s: not closed after the error", soakKindNames[kind])
				}
			}
		}
		nc.Close()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
