package resp_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestClientListWhileClientsChange: CLIENT LIST, CLIENT KILL USER and ACL
// DELUSER read other connections' state (db, protocol, user, name,
// MULTI queue) while those connections change it. Under -race this fails
// if any of those fields is read without the client's lock. Goroutine
// connections: on one event loop the connections would take turns.
func TestClientListWhileClientsChange(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("event-loops", "-1"))
	admin := dialRaw(t, sd.Addr)
	_, err := admin.do("ACL", "SETUSER", "other", "on", "nopass", "+@all", "~*")
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 2 {
		c := dialRaw(t, sd.Addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 150 {
				for _, cmd := range [][]string{
					{"SELECT", "1"}, {"SELECT", "0"}, {"CLIENT", "SETNAME", "n"},
					{"MULTI"}, {"GET", "k"}, {"DISCARD"}, {"CLIENT", "NO-EVICT", "on"},
					{"CLIENT", "NO-TOUCH", "on"}, {"HELLO", "3"}, {"HELLO", "2"},
					{"AUTH", "other", "x"}, {"AUTH", "default", "x"},
				} {
					if _, err := c.do(cmd...); err != nil {
						t.Errorf("round %d %v: %v", i, cmd, err)
						return
					}
				}
				if i%50 == 0 {
					if _, err := c.do("RESET"); err != nil {
						t.Errorf("RESET: %v", err)
						return
					}
				}
			}
		}()
	}
	for i := range 300 {
		v, err := admin.do("CLIENT", "LIST")
		require.NoError(t, err)
		require.Contains(t, v.str, "cmd=")
		if i%20 == 0 {
			_, err = admin.do("CLIENT", "KILL", "USER", "nosuch")
			require.NoError(t, err)
		}
	}
	wg.Wait()
	v, err := admin.do("ACL", "DELUSER", "nosuch")
	require.NoError(t, err)
	require.Equal(t, "0", v.str, v)
}
