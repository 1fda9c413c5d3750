package resp_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/resp"
)

// TestStoppedLoopGetsNoConnections: new connections skip a loop that has
// stopped (one that failed) and go to the others, instead of being closed.
func TestStoppedLoopGetsNoConnections(t *testing.T) {
	srv := testserver.Start(t, testserver.WithConfig("event-loops", "2"))
	resp.StopLoopForTest(srv.Server, 0)
	for i := range 6 {
		c := dialRaw(t, srv.Addr)
		v, err := c.do("PING")
		require.NoError(t, err, "connection %d", i)
		require.Equal(t, "+PONG\r\n", string(v.raw))
	}
	requireLoopConns(t, srv, 6)
}
