package expiry_test

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"sessiond/expiry"
)

// stripedStore is a keyspace-shaped Store for benchmarks: 256 stripes, each
// a mutex and a map, one stripe lock per ExpireIfDue call.
type stripedStore struct {
	seed    maphash.Seed
	stripes [256]struct {
		mu sync.Mutex
		m  map[string]int64
		_  [40]byte // keep stripes on separate cache lines
	}
	late func(deadline int64) // if set, called for each deleted key
}

func newStripedStore() *stripedStore {
	s := &stripedStore{seed: maphash.MakeSeed()}
	for i := range s.stripes {
		s.stripes[i].m = make(map[string]int64)
	}
	return s
}

func (s *stripedStore) stripe(key string) int {
	return int(maphash.String(s.seed, key) % uint64(len(s.stripes)))
}

func (s *stripedStore) set(key string, deadline int64) {
	st := &s.stripes[s.stripe(key)]
	st.mu.Lock()
	st.m[key] = deadline
	st.mu.Unlock()
}

func (s *stripedStore) ExpireIfDue(db int, key string, nowMs int64) (bool, int64) {
	st := &s.stripes[s.stripe(key)]
	st.mu.Lock()
	d, ok := st.m[key]
	switch {
	case !ok || d == 0:
		st.mu.Unlock()
		return false, 0
	case nowMs > d:
		delete(st.m, key)
		st.mu.Unlock()
		if s.late != nil {
			s.late(d)
		}
		return true, 0
	}
	st.mu.Unlock()
	return false, d
}

// nopStore deletes everything without locking, to measure the wheel alone.
type nopStore struct{}

func (nopStore) ExpireIfDue(int, string, int64) (bool, int64) { return true, 0 }

func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = fmt.Sprintf("session:%016x", i)
	}
	return ks
}

func BenchmarkSchedule(b *testing.B) {
	ks := keys(1 << 16)
	b.Run("serial", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		w := newWheel(b, nopStore{}, expiry.Options{})
		i := 0
		cpu := threadCPU()
		for b.Loop() {
			// 100k sessions per second with a 30-minute TTL.
			w.Schedule(0, ks[i&(len(ks)-1)], epochMs+1_800_000+int64(i/100))
			i++
		}
		if cpu := threadCPU() - cpu; cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	})
	b.Run("parallel", func(b *testing.B) {
		w := newWheel(b, nopStore{}, expiry.Options{})
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(ks))
			for pb.Next() {
				w.Schedule(0, ks[i&(len(ks)-1)], epochMs+1_800_000+int64(i/100))
				i++
			}
		})
	})
}

// BenchmarkAdvance schedules N keys expiring within one second, then times
// the Advance that fires all of them, with the wheel alone (nop) and with a
// 256-stripe map store (striped).
func BenchmarkAdvance(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		ks := keys(n)
		for _, store := range []string{"nop", "striped"} {
			b.Run(fmt.Sprintf("keys=%d/store=%s", n, store), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				var total, cpu time.Duration
				for b.Loop() {
					b.StopTimer()
					var s expiry.Store = nopStore{}
					ss := newStripedStore()
					if store == "striped" {
						s = ss
					}
					w := newWheel(b, s, expiry.Options{})
					for i, k := range ks {
						d := epochMs + 60_000 + int64(i*1000/n)
						if store == "striped" {
							ss.set(k, d)
						}
						w.Schedule(0, k, d)
					}
					w.Advance(epochMs + 59_000) // cascade from level 1 into level 0
					b.StartTimer()
					start, startCPU := time.Now(), threadCPU()
					if got := w.Advance(epochMs + 61_010); got != n {
						b.Fatalf("deleted %d of %d", got, n)
					}
					total += time.Since(start)
					cpu += threadCPU() - startCPU
				}
				b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "keys/s")
				if cpu > 0 {
					b.ReportMetric(float64(n)*float64(b.N)/cpu.Seconds(), "keys/cpu-s")
				}
			})
		}
	}
}

// BenchmarkMemoryPerEntry measures the heap the wheel uses per scheduled
// entry: HeapAlloc after a GC, before and after scheduling 1M keys whose
// strings already exist (as the keyspace's map keys do).
func BenchmarkMemoryPerEntry(b *testing.B) {
	const n = 1_000_000
	ks := keys(n)
	cases := []struct {
		name     string
		db       func(i int) int
		deadline func(i int) int64
	}{
		// 1M sessions created over 10 s with a 30-minute TTL.
		{"fixed-ttl", func(int) int { return 0 }, func(i int) int64 { return epochMs + 1_800_000 + int64(i/100) }},
		// 1M keys expiring in the same second, 10 s from now (level 0).
		{"storm-1s", func(int) int { return 0 }, func(i int) int64 { return epochMs + 9_000 + int64(i/1000) }},
		// Fixed TTL but alternating databases: every entry is a single.
		{"alternating-db", func(i int) int { return i % 2 }, func(i int) int64 { return epochMs + 1_800_000 + int64(i/100) }},
		// TTL of an hour with up to 5 minutes of random jitter: singles.
		{"jittered-ttl", func(int) int { return 0 }, func(i int) int64 {
			return epochMs + 3_600_000 + int64(i/100) + rand.Int64N(300_000)
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var perEntry float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				w := newWheel(b, nopStore{}, expiry.Options{})
				for i, k := range ks {
					w.Schedule(c.db(i), k, c.deadline(i))
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				if got := w.Stats().Scheduled; got != n {
					b.Fatalf("scheduled %d", got)
				}
				perEntry = float64(after.HeapAlloc-before.HeapAlloc) / n
				runtime.KeepAlive(w)
			}
			b.ReportMetric(perEntry, "B/entry")
		})
	}
}

// BenchmarkStorm runs the real loop on the real clock: 300k (or 1M) keys
// whose deadlines are spread over one second, and reports how late after
// its deadline each key was deleted (p50, p99, max in ms) and how often the
// tick budget was hit. It takes a few seconds of wall time per iteration.
func BenchmarkStorm(b *testing.B) {
	for _, n := range []int{300_000, 1_000_000} {
		ks := keys(n)
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			var lateness []float64
			var capped int64
			for b.Loop() {
				s := newStripedStore()
				var mu sync.Mutex
				lateness = lateness[:0]
				s.late = func(d int64) {
					l := float64(time.Now().UnixNano()-d*1e6) / 1e6
					mu.Lock()
					lateness = append(lateness, l)
					mu.Unlock()
				}
				w, err := expiry.New(expiry.Options{Store: s})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); w.Run(ctx) }()
				// Schedule while the loop runs, as the keyspace does; the
				// deadlines start late enough that setup is over by then.
				base := time.Now().UnixMilli() + max(3000, int64(n/100))
				for i, k := range ks {
					d := base + int64(i*1000/n)
					s.set(k, d)
					w.Schedule(0, k, d)
				}
				if time.Now().UnixMilli() > base {
					cancel()
					<-done
					b.Skip("setup took too long (machine overloaded); deadlines already passed")
				}
				for w.Stats().Scheduled > 0 {
					time.Sleep(50 * time.Millisecond)
				}
				cancel()
				<-done
				capped = w.Stats().TimeCapReached
			}
			slices.Sort(lateness)
			q := func(p float64) float64 { return lateness[int(p*float64(len(lateness)-1))] }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(lateness[len(lateness)-1], "max-ms")
			b.ReportMetric(float64(capped), "time-caps")
		})
	}
}
