package resp

import (
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/keyspace"
)

// TestCloseRightAfterServe closes the server while Serve may not have
// started accepting yet. Serve must still return (it once blocked forever:
// redcon's Close does nothing before its own Serve has begun).
func TestCloseRightAfterServe(t *testing.T) {
	for range 200 {
		ks, err := keyspace.New(keyspace.Options{Stripes: 1})
		require.NoError(t, err)
		s := NewServer(Options{Keyspace: ks})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		errc := make(chan error, 1)
		go func() { errc <- s.Serve(ln) }()
		for { // close as soon as Serve has taken the listener: the racy moment
			s.mu.Lock()
			l := s.ln
			s.mu.Unlock()
			if l != nil {
				break
			}
			runtime.Gosched()
		}
		s.Close()
		select {
		case err := <-errc:
			require.ErrorIs(t, err, ErrServerClosed)
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return after Close")
		}
	}
}
