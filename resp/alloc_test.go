package resp

import (
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/tidwall/redcon"

	"sessiond/keyspace"
)

// newSessionServer is a server over a keyspace holding one 256-byte
// session, sess:1.
func newSessionServer(t *testing.T) *Server {
	t.Helper()
	ks, err := keyspace.New(keyspace.Options{Stripes: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Set(0, []byte("sess:1"), make([]byte, 256), keyspace.SetArgs{}); err != nil {
		t.Fatal(err)
	}
	return NewServer(Options{Keyspace: ks})
}

// TestGetDispatchDoesNotAllocate pins the zero-allocation read path from
// the command table to the reply buffer (redcon's own parsing aside).
func TestGetDispatchDoesNotAllocate(t *testing.T) {
	s := newSessionServer(t)
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

// TestServerGetDoesNotAllocate pins the whole path of a pipelined GET over
// TCP, from the socket read through parsing, dispatch and the reply flush:
// the process (server and this raw client) allocates nothing per command
// once the connection is warm.
func TestServerGetDoesNotAllocate(t *testing.T) {
	poison := poisonReads
	poisonReads = false // the test measures the production path
	defer func() { poisonReads = poison }()
	s := newSessionServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const depth = 16
	req := bytes.Repeat([]byte("*2\r\n$3\r\nGET\r\n$6\r\nsess:1\r\n"), depth)
	reply := make([]byte, depth*len("$256\r\n\r\n")+depth*256)
	roundTrip := func() {
		if _, err := nc.Write(req); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(nc, reply); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		roundTrip()
	}
	allocs := testing.AllocsPerRun(500, roundTrip)
	if allocs >= 1 { // AllocsPerRun truncates: under one in total per 16 GETs
		t.Fatalf("a pipeline of %d GETs allocates %.1f times", depth, allocs)
	}
	if !bytes.HasPrefix(reply, []byte("$256\r\n")) {
		t.Fatalf("unexpected reply %q", reply[:16])
	}
}

// TestSmembersDispatchDoesNotAllocate: SMEMBERS writes its reply from the
// set under the stripe's read lock, copying no member.
func TestSmembersDispatchDoesNotAllocate(t *testing.T) {
	s := newSessionServer(t)
	members := [][]byte{[]byte("sess:0123456789abcdef0123456789abcdef"), []byte("sess:fedcba9876543210fedcba9876543210"), []byte("sess:00000000000000000000000000000000")}
	if _, err := s.ks.SAdd(0, []byte("user_sess:1"), members); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &client{id: 1, authed: true, aclUser: s.users.Default()}
	w := redcon.NewWriter(&out)
	args := [][]byte{[]byte("SMEMBERS"), []byte("user_sess:1")}
	s.serve(c, w, args)
	w.Flush()
	for _, m := range members {
		if !bytes.Contains(out.Bytes(), m) {
			t.Fatalf("SMEMBERS reply %q lacks %s", out.Bytes(), m)
		}
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("*3\r\n")) {
		t.Fatalf("SMEMBERS reply %q is not a 3-element array", out.Bytes())
	}
	w = redcon.NewWriter(io.Discard)
	allocs := testing.AllocsPerRun(1000, func() {
		s.serve(c, w, args)
		w.Flush()
	})
	if allocs != 0 {
		t.Fatalf("SMEMBERS dispatch allocates %.1f times per command", allocs)
	}
}
