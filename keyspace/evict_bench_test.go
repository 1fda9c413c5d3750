package keyspace

import (
	"fmt"
	"testing"
)

// BenchmarkSetUnderEviction is one SET that must evict one key first.
func BenchmarkSetUnderEviction(b *testing.B) {
	for _, pol := range []Policy{AllKeysLRU, AllKeysLFU, AllKeysRandom, VolatileTTL} {
		b.Run(pol.String(), func(b *testing.B) {
			ks, _ := New(Options{})
			val := make([]byte, 400)
			fill(ks, 5000, 400, func(int) int64 { return 1 << 50 })
			ks.SetEvictParams(EvictParams{MaxMemory: ks.UsedMemory(), Policy: pol, Samples: 5, LFULogFactor: 10, LFUDecayTime: 1})
			b.ResetTimer()
			for i := range b.N {
				ks.Evict(256)
				ks.Set(0, fmt.Appendf(nil, "new:%d", i), val, SetArgs{Deadline: 1 << 50})
			}
		})
	}
}
