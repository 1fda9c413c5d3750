package keyspace_test

import (
	"encoding/hex"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"time"

	"sessiond/expiry"
	"sessiond/keyspace"
)

// BenchmarkSessionMemory reports the live heap bytes per session of the
// bench's memory workload (bench/mem.go) loaded straight into a keyspace
// with the default stripes and an expiry wheel: n sessions sess:<32 hex>
// of 256 bytes with a deadline, and n/5 sets of 5 session ids, each with
// its own deadline. It counts what the keyspace and the wheel hold (the
// server's RSS adds GC headroom and connection buffers on top). The
// per-stripe map load depends on n, so compare runs at the same n.
func BenchmarkSessionMemory(b *testing.B) {
	for _, n := range []int{100000, 500000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			for b.Loop() {
				b.ReportMetric(sessionHeapBytes(b, n), "B/session")
			}
		})
	}
}

func sessionHeapBytes(b *testing.B, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ks, err := keyspace.New(keyspace.Options{})
	if err != nil {
		b.Fatal(err)
	}
	w, err := expiry.New(expiry.Options{Store: ks})
	if err != nil {
		b.Fatal(err)
	}
	ks.SetScheduler(w)
	deadline := time.Now().Add(1800 * time.Second).UnixMilli()
	key := make([]byte, 0, 64)
	val := make([]byte, 256)
	for i := range n {
		id := sessionID(i)
		for j := range val {
			val[j] = byte(i + j)
		}
		key = append(append(key[:0], "sess:"...), id...)
		if _, err := ks.Set(0, key, val, keyspace.SetArgs{Deadline: deadline}); err != nil {
			b.Fatal(err)
		}
	}
	members := make([][]byte, 5)
	for u := range n / 5 {
		for j := range members {
			members[j] = []byte(sessionID(u*5 + j))
		}
		key = strconv.AppendInt(append(key[:0], "user_sess:"...), int64(u), 10)
		if _, err := ks.SAdd(0, key, members); err != nil {
			b.Fatal(err)
		}
		ks.Expire(0, key, deadline, 0)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ks)
	runtime.KeepAlive(w)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// sessionID is 32 hex digits, distinct for each i (bench/mem.go's
// memSessionID is splitmix64-based; any distinct ids do here).
func sessionID(i int) string {
	var b [16]byte
	x := uint64(i)*0x9e3779b97f4a7c15 + 1
	for j := range b {
		x ^= x >> 31
		x *= 0xbf58476d1ce4e5b9
		b[j] = byte(x >> 24)
	}
	return hex.EncodeToString(b[:])
}
