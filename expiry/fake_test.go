package expiry_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/expiry"
)

// fakeStore is a keyspace stand-in: per-database maps of key -> deadline
// (absolute Unix ms, 0 = no deadline) guarded by one mutex. It implements
// ExpireIfDue with the keyspace's predicate: expired once now > deadline.
type fakeStore struct {
	mu    sync.Mutex
	dbs   [16]map[string]int64
	calls map[dbKey]int // ExpireIfDue calls per key
	total int
	dels  int // keys deleted by ExpireIfDue

	// during, if set, is called from ExpireIfDue without the store's lock,
	// so tests can check what the wheel allows while Store is running.
	during func()
}

type dbKey struct {
	db  int
	key string
}

func newFakeStore() *fakeStore {
	s := &fakeStore{calls: make(map[dbKey]int)}
	for i := range s.dbs {
		s.dbs[i] = make(map[string]int64)
	}
	return s
}

func (s *fakeStore) ExpireIfDue(db int, key string, nowMs int64) (bool, int64) {
	if s.during != nil {
		s.during()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[dbKey{db, key}]++
	s.total++
	d, ok := s.dbs[db][key]
	switch {
	case !ok || d == 0:
		return false, 0
	case nowMs > d:
		delete(s.dbs[db], key)
		s.dels++
		return true, 0
	}
	return false, d
}

// set stores key with deadline (0 = persistent) without scheduling it.
func (s *fakeStore) set(db int, key string, deadline int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dbs[db][key] = deadline
}

func (s *fakeStore) del(db int, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.dbs[db], key)
}

func (s *fakeStore) has(db int, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.dbs[db][key]
	return ok
}

func (s *fakeStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.dbs {
		n += len(m)
	}
	return n
}

func (s *fakeStore) callsFor(db int, key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[dbKey{db, key}]
}

func (s *fakeStore) totalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// setex does what the keyspace does on SET with a TTL: update the record
// under its lock, then schedule after releasing it.
func setex(w *expiry.Wheel, s *fakeStore, db int, key string, deadline int64) {
	s.set(db, key, deadline)
	w.Schedule(db, key, deadline)
}

// epochMs is an arbitrary, realistic start time for tests (2026-11-21).
const epochMs = int64(1_795_219_200_000)

// fixedClock is a Clock that always reads epochMs; tests drive Advance with
// explicit times.
type fixedClock struct{}

func (fixedClock) Now() time.Time { return time.UnixMilli(epochMs) }

// newWheel returns a wheel over s with a 10 ms tick whose clock reads
// epochMs. The budget is an hour so that no test depends on machine speed.
func newWheel(t testing.TB, s expiry.Store, opts expiry.Options) *expiry.Wheel {
	t.Helper()
	opts.Store = s
	if opts.Clock == nil {
		opts.Clock = fixedClock{}
	}
	if opts.Budget == 0 {
		opts.Budget = time.Hour
	}
	w, err := expiry.New(opts)
	require.NoError(t, err)
	return w
}

func (s *fakeStore) deletions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dels
}
