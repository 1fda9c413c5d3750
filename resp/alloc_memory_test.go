package resp

import (
	"io"
	"testing"

	"github.com/tidwall/redcon"

	"sessiond/config"
	"sessiond/keyspace"
)

// TestGetDispatchDoesNotAllocateUnderMaxmemory: with a limit and an LRU or
// LFU policy the read path also checks memory and updates the key's access
// clock, still without allocating.
func TestGetDispatchDoesNotAllocateUnderMaxmemory(t *testing.T) {
	for _, pol := range []string{"allkeys-lru", "allkeys-lfu"} {
		ks, err := keyspace.New(keyspace.Options{Stripes: 16})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Set(0, []byte("sess:1"), make([]byte, 256), keyspace.SetArgs{}); err != nil {
			t.Fatal(err)
		}
		cfg := config.New()
		if err := cfg.Set("maxmemory", "100mb"); err != nil {
			t.Fatal(err)
		}
		if err := cfg.Set("maxmemory-policy", pol); err != nil {
			t.Fatal(err)
		}
		s := NewServer(Options{Keyspace: ks, Config: cfg})
		c := &client{id: 1, authed: true, aclUser: s.users.Default()}
		w := redcon.NewWriter(io.Discard)
		args := [][]byte{[]byte("GET"), []byte("sess:1")}
		allocs := testing.AllocsPerRun(1000, func() {
			s.serve(c, w, args)
			w.Flush()
		})
		if allocs != 0 {
			t.Fatalf("%s: GET dispatch allocates %.1f times per command", pol, allocs)
		}
	}
}
