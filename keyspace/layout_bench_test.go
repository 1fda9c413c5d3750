package keyspace

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// BenchmarkLayout measures a random GET (lookup plus copying the 256-byte
// value out) at sizes that miss the CPU caches, for the keyspace and for two
// bare layouts beside it: the keyspace's own (a map keyed by string, the key
// in its own allocation) and the candidate of the project's design notes (a map
// keyed by the 64-bit xxhash that already picks the stripe, the key's bytes
// in the value's allocation, compared after the lookup). The candidate
// saves the key string's cache miss, but the CPU overlaps that miss with
// the value's (it loads the value speculatively while the key compares):
// on the VM measured the hash-keyed layout was not faster (its medians of
// 5 alternated runs 7-8% above, bench/README.md), so it was not built.
// The key looked up is computed into a buffer, as a request's key is in
// the read buffer, so that the benchmark's own key list adds no misses.
func BenchmarkLayout(b *testing.B) {
	val := bytes.Repeat([]byte("x"), 256)
	for _, n := range []int{100_000, 1_000_000} {
		kb := make([]byte, 0, 64)
		out := make([]byte, 0, 512)
		pick := func(i int) []byte { return layoutKey(kb[:0], int(splitmix(uint64(i))%uint64(n))) }

		b.Run(fmt.Sprintf("layout=keyspace/keys=%d", n), func(b *testing.B) {
			ks, err := New(Options{})
			if err != nil {
				b.Fatal(err)
			}
			for i := range n {
				_, _ = ks.Set(0, layoutKey(nil, i), val, SetArgs{})
			}
			for i := 0; b.Loop(); i++ {
				v, ok, _ := ks.Get(0, pick(i))
				if !ok {
					b.Fatal("miss")
				}
				out = append(out[:0], v...)
			}
		})

		b.Run(fmt.Sprintf("layout=string-keyed/keys=%d", n), func(b *testing.B) {
			m := make(map[string]entry)
			for i := range n {
				m[string(layoutKey(nil, i))] = bytesEntry(KindString, bytes.Clone(val), 0)
			}
			for i := 0; b.Loop(); i++ {
				k := pick(i)
				_ = xxhash.Sum64(k) // the stripe
				e, ok := m[string(k)]
				if !ok {
					b.Fatal("miss")
				}
				out = append(out[:0], e.bytes()...)
			}
		})

		b.Run(fmt.Sprintf("layout=hash-keyed/keys=%d", n), func(b *testing.B) {
			m := make(map[uint64]entry)
			for i := range n {
				k := layoutKey(nil, i)
				blk := append(append([]byte{byte(len(k))}, k...), val...) // one allocation: key length, key, value
				m[xxhash.Sum64(k)] = bytesEntry(KindString, bytes.Clone(blk), 0)
			}
			for i := 0; b.Loop(); i++ {
				k := pick(i)
				e, ok := m[xxhash.Sum64(k)]
				if !ok {
					b.Fatal("miss")
				}
				blk := e.bytes()
				kl := int(blk[0])
				if string(blk[1:1+kl]) != string(k) {
					b.Fatal("another key with the same hash")
				}
				out = append(out[:0], blk[1+kl:]...)
			}
		})
	}
}

// layoutKey appends session key i ("sess:" and 32 hex digits) to buf.
func layoutKey(buf []byte, i int) []byte {
	var id [16]byte
	a, c := splitmix(uint64(i)), splitmix(uint64(i)|1<<62)
	for j := range 8 {
		id[j], id[8+j] = byte(a>>(8*j)), byte(c>>(8*j))
	}
	return hex.AppendEncode(append(buf, "sess:"...), id[:])
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
