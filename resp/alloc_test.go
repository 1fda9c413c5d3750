package resp

import (
	"io"
	"testing"

	"github.com/tidwall/redcon"

	"sessiond/keyspace"
)

// TestGetDispatchDoesNotAllocate pins the zero-allocation read path from
// the command table to the reply buffer (redcon's own parsing aside).
func TestGetDispatchDoesNotAllocate(t *testing.T) {
	ks, err := keyspace.New(keyspace.Options{Stripes: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Set(0, []byte("sess:1"), make([]byte, 256), keyspace.SetArgs{}); err != nil {
		t.Fatal(err)
	}
	s := NewServer(Options{Keyspace: ks})
	c := &client{id: 1, authed: true, aclUser: s.users.Default()}
	w := redcon.NewWriter(io.Discard)
	args := [][]byte{[]byte("GET"), []byte("sess:1")}
	allocs := testing.AllocsPerRun(1000, func() {
		s.serve(c, w, args)
		w.Flush()
	})
	if allocs != 0 {
		t.Fatalf("GET dispatch allocates %.1f times per command", allocs)
	}
}
