package expiry_test

import (
	"fmt"
	"sync"

	"sessiond/expiry"
)

// mapStore is the smallest possible keyspace: one map of deadlines.
type mapStore struct {
	mu sync.Mutex
	m  map[string]int64
}

func (s *mapStore) ExpireIfDue(db int, key string, nowMs int64) (bool, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.m[key]
	switch {
	case !ok || d == 0:
		return false, 0
	case nowMs > d: // the keyspace's one expiry predicate
		delete(s.m, key)
		return true, 0
	}
	return false, d
}

func Example() {
	s := &mapStore{m: map[string]int64{}}
	w, err := expiry.New(expiry.Options{Store: s, Clock: fixedClock{}})
	if err != nil {
		panic(err)
	}
	// SET session:1 ... PXAT epoch+1500, then schedule after unlocking.
	s.m["session:1"] = epochMs + 1500
	w.Schedule(0, "session:1", epochMs+1500)
	// SETEX session:2 with a 1 s TTL, then EXPIRE extends it: the keyspace
	// does not schedule an extension; the first entry fires early and is
	// re-filed at the new deadline.
	w.Schedule(0, "session:2", epochMs+1000)
	s.m["session:2"] = epochMs + 60_000

	// Run(ctx) would do this every 10 ms; here time is explicit.
	fmt.Println("deleted:", w.Advance(epochMs+2000))
	st := w.Stats()
	fmt.Println("expired:", st.ExpiredKeys, "stale:", st.StaleEntries, "scheduled:", st.Scheduled)
	// Output:
	// deleted: 1
	// expired: 1 stale: 1 scheduled: 1
}
