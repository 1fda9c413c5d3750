//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Dataset is the deterministic data both servers are loaded with, so the
// two sides of a comparison hold exactly the same keys and values.
type Dataset struct {
	Keys      int    // sess:%012d strings (what redis-benchmark's __rand_int__ hits)
	Users     int    // user_sess:%012d sets, 5 members each
	ValueSize int    // bytes per session blob
	TTL       int    // seconds
	Value     []byte // the blob used by redis-benchmark and for numbered keys
	HexIDs    []string
	SessKeys  []string // "sess:" + HexIDs[i]
	UserKeys  []string // user_sess:%012d
}

func newDataset(keys, valueSize int) *Dataset {
	d := &Dataset{Keys: keys, Users: max(keys/5, 1), ValueSize: valueSize, TTL: 1800}
	d.Value = blob(rand.New(rand.NewPCG(1, 2)), valueSize)
	rng := rand.New(rand.NewPCG(3, 4))
	d.HexIDs = make([]string, keys)
	d.SessKeys = make([]string, keys)
	for i := range d.HexIDs {
		d.HexIDs[i] = hexID(rng)
		d.SessKeys[i] = "sess:" + d.HexIDs[i]
	}
	d.UserKeys = make([]string, d.Users)
	for u := range d.UserKeys {
		d.UserKeys[u] = numKey("user_sess:", u)
	}
	return d
}

// blob returns printable pseudo-random bytes (a serialized session is
// usually text: JSON, PHP serialize...).
func blob(rng *rand.Rand, n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789{}:\","
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return b
}

func hexID(rng *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

func numKey(prefix string, i int) string {
	return fmt.Sprintf("%s%012d", prefix, i)
}

// pipelineLoad issues total commands over conns connections in pipelined
// batches; gen(i, c) must Send exactly one command for item i. Every reply
// is checked with ok; the first bad reply aborts the load.
func pipelineLoad(ctx context.Context, addr string, total, conns, batch int, gen func(i int, c *conn), ok func(i int, r Reply) bool) error {
	if total == 0 {
		return nil
	}
	conns = max(1, min(conns, total))
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	per := (total + conns - 1) / conns
	for w := 0; w < conns; w++ {
		lo, hi := w*per, min((w+1)*per, total)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dial(addr, 2*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for start := lo; start < hi; start += batch {
				if ctx.Err() != nil {
					errs <- ctx.Err()
					return
				}
				end := min(start+batch, hi)
				for i := start; i < end; i++ {
					gen(i, c)
				}
				_ = c.nc.SetDeadline(time.Now().Add(30 * time.Second))
				if err := c.Flush(); err != nil {
					errs <- err
					return
				}
				for i := start; i < end; i++ {
					r, err := c.Read()
					if err != nil {
						errs <- fmt.Errorf("reading reply %d: %w", i, err)
						return
					}
					if !ok(i, r) {
						errs <- fmt.Errorf("unexpected reply to item %d: %s", i, r)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func isOK(_ int, r Reply) bool  { return r.Kind == '+' && string(r.Str) == "OK" }
func isInt(_ int, r Reply) bool { return r.Kind == ':' }

// preload loads the throughput dataset: numbered sessions for
// redis-benchmark, hex-id sessions for the mix, and user index sets.
func preload(ctx context.Context, addr string, d *Dataset) error {
	ttl := strconv.Itoa(d.TTL)
	if err := pipelineLoad(ctx, addr, d.Keys, 8, 256, func(i int, c *conn) {
		c.Send("SETEX", numKey("sess:", i), ttl, d.Value)
	}, isOK); err != nil {
		return fmt.Errorf("preload sess:<n>: %w", err)
	}
	if err := pipelineLoad(ctx, addr, d.Keys, 8, 256, func(i int, c *conn) {
		c.Send("SETEX", d.SessKeys[i], ttl, d.Value)
	}, isOK); err != nil {
		return fmt.Errorf("preload sess:<hex>: %w", err)
	}
	// Each user's set holds 5 of the hex sessions.
	if err := pipelineLoad(ctx, addr, d.Users, 8, 256, func(u int, c *conn) {
		args := []any{"SADD", numKey("user_sess:", u)}
		for j := 0; j < 5; j++ {
			args = append(args, d.SessKeys[(u*5+j)%d.Keys])
		}
		c.Send(args...)
	}, isInt); err != nil {
		return fmt.Errorf("preload user_sess: %w", err)
	}
	return nil
}

// verify spot-checks that a server returns what was loaded. Any mismatch is
// a correctness problem worth reporting, so it returns a descriptive error.
func verify(addr string, d *Dataset) error {
	c, err := dial(addr, 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	check := func(what string, r Reply, err error, want func(Reply) bool) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if !want(r) {
			return fmt.Errorf("%s: unexpected reply %s", what, r)
		}
		return nil
	}
	for _, i := range []int{0, d.Keys / 2, d.Keys - 1} {
		k := numKey("sess:", i)
		r, err := c.Do("GET", k)
		if err := check("GET "+k, r, err, func(r Reply) bool { return r.Kind == '$' && bytes.Equal(r.Str, d.Value) }); err != nil {
			return err
		}
		k = d.SessKeys[i]
		r, err = c.Do("GET", k)
		if err := check("GET "+k, r, err, func(r Reply) bool { return r.Kind == '$' && bytes.Equal(r.Str, d.Value) }); err != nil {
			return err
		}
		r, err = c.Do("TTL", k)
		if err := check("TTL "+k, r, err, func(r Reply) bool { return r.Kind == ':' && r.Int > 1700 && r.Int <= int64(d.TTL) }); err != nil {
			return err
		}
	}
	k := numKey("user_sess:", d.Users-1)
	r, err := c.Do("SMEMBERS", k)
	if err := check("SMEMBERS "+k, r, err, func(r Reply) bool { return r.Kind == '*' && len(r.Elems) == 5 }); err != nil {
		return err
	}
	r, err = c.Do("DBSIZE")
	want := int64(2*d.Keys + d.Users)
	if err := check("DBSIZE", r, err, func(r Reply) bool { return r.Kind == ':' && r.Int == want }); err != nil {
		return fmt.Errorf("%w (want %d)", err, want)
	}
	return nil
}

// Mix operations, in percent of commands.
const (
	mixGet      = 80
	mixSetex    = 10
	mixExpire   = 5
	mixSadd     = 2
	mixSmembers = 2
	mixDel      = 1
)

type mixOp uint8

const (
	opGet mixOp = iota
	opSetex
	opExpire
	opSadd
	opSmembers
	opDel
)

var mixOpNames = [...]string{"GET", "SETEX", "EXPIRE", "SADD", "SMEMBERS", "DEL"}

func pickOp(n int) mixOp {
	switch {
	case n < mixGet:
		return opGet
	case n < mixGet+mixSetex:
		return opSetex
	case n < mixGet+mixSetex+mixExpire:
		return opExpire
	case n < mixGet+mixSetex+mixExpire+mixSadd:
		return opSadd
	case n < mixGet+mixSetex+mixExpire+mixSadd+mixSmembers:
		return opSmembers
	default:
		return opDel
	}
}

// replyOK says whether r is a well-formed answer to op.
func replyOK(op mixOp, r Reply, valueSize int) bool {
	switch op {
	case opGet:
		return r.Kind == '$' && (r.Nil || len(r.Str) == valueSize)
	case opSetex:
		return r.Kind == '+' && string(r.Str) == "OK"
	case opExpire, opDel:
		return r.Kind == ':' && (r.Int == 0 || r.Int == 1)
	case opSadd:
		return r.Kind == ':' && r.Int >= 0
	case opSmembers:
		return r.Kind == '*' && !r.Nil
	}
	return false
}

// MixResult adds detail the table does not show.
type MixResult struct {
	Sample
	Hist      *Histogram
	Misses    int64 // GETs answered nil (sessions deleted by the 1% DEL)
	Gets      int64
	FirstErrs []string
}

// runMix drives the session mix over conns connections for dur, each
// connection sending pipeline commands per round trip.
func runMix(ctx context.Context, addr string, d *Dataset, conns, pipeline int, dur time.Duration, seed uint64) (MixResult, error) {
	cs := make([]*conn, conns)
	for i := range cs {
		c, err := dial(addr, 2*time.Second)
		if err != nil {
			for _, c := range cs[:i] {
				c.Close()
			}
			return MixResult{}, err
		}
		cs[i] = c
	}
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	hists := make([]Histogram, conns)
	var ops, errCount, misses, gets atomic.Int64
	var errMu sync.Mutex
	var firstErrs []string
	var fatal atomic.Pointer[error]
	ttl := strconv.Itoa(d.TTL)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for ci := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[ci]
			c.reuse = true
			h := &hists[ci]
			rng := rand.New(rand.NewPCG(seed, uint64(ci)+1))
			setVal := blob(rng, d.ValueSize)
			batch := make([]mixOp, pipeline)
			<-start
			deadline := time.Now().Add(dur)
			var n, nerr, nmiss, nget int64
			defer func() { ops.Add(n); errCount.Add(nerr); misses.Add(nmiss); gets.Add(nget) }()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				for j := range batch {
					op := pickOp(rng.IntN(100))
					batch[j] = op
					sid := d.SessKeys[rng.IntN(d.Keys)]
					switch op {
					case opGet:
						c.SendStrings("GET", sid)
					case opSetex:
						c.SendSetex(sid, ttl, setVal)
					case opExpire:
						c.SendStrings("EXPIRE", sid, ttl)
					case opSadd:
						c.SendStrings("SADD", d.UserKeys[rng.IntN(d.Users)], sid)
					case opSmembers:
						c.SendStrings("SMEMBERS", d.UserKeys[rng.IntN(d.Users)])
					case opDel:
						c.SendStrings("DEL", sid)
					}
				}
				_ = c.nc.SetDeadline(time.Now().Add(10 * time.Second))
				t0 := time.Now()
				if err := c.Flush(); err != nil {
					e := fmt.Errorf("write: %w", err)
					fatal.CompareAndSwap(nil, &e)
					return
				}
				for _, op := range batch {
					r, err := c.Read()
					if err != nil {
						e := fmt.Errorf("read reply to %s: %w", mixOpNames[op], err)
						fatal.CompareAndSwap(nil, &e)
						return
					}
					if op == opGet {
						nget++
						if r.Nil {
							nmiss++
						}
					}
					if !replyOK(op, r, d.ValueSize) {
						nerr++
						errMu.Lock()
						if len(firstErrs) < 5 {
							firstErrs = append(firstErrs, fmt.Sprintf("%s -> %s", mixOpNames[op], r))
						}
						errMu.Unlock()
					}
				}
				h.RecordN(time.Since(t0), uint64(len(batch)))
				n += int64(len(batch))
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	if p := fatal.Load(); p != nil {
		return MixResult{}, *p
	}
	if err := ctx.Err(); err != nil {
		return MixResult{}, err
	}
	var all Histogram
	for i := range hists {
		all.Merge(&hists[i])
	}
	res := MixResult{Hist: &all, Misses: misses.Load(), Gets: gets.Load(), FirstErrs: firstErrs}
	res.Ops = ops.Load()
	res.Errors = errCount.Load()
	if elapsed <= 0 || res.Ops == 0 {
		return res, errors.New("mix: no operations completed")
	}
	res.OpsPerSec = float64(res.Ops) / elapsed.Seconds()
	res.P50 = all.Percentile(50)
	res.P99 = all.Percentile(99)
	res.P999 = all.Percentile(99.9)
	return res, nil
}
