package resp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/keyspace"
)

// TestMonitorOverflowDoesNotDeadlock: a monitor that never reads is closed
// at its output limit while other clients keep being served. Closing it
// once happened under the monitor set's lock, which close takes again, and
// every later command hung.
func TestMonitorOverflowDoesNotDeadlock(t *testing.T) {
	old := monitorMaxPending
	monitorMaxPending = 64 << 10
	defer func() { monitorMaxPending = old }()

	ks, err := keyspace.New(keyspace.Options{Stripes: 4})
	require.NoError(t, err)
	s := NewServer(Options{Keyspace: ks})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go s.Serve(ln)
	defer s.Close()

	mon, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer mon.Close()
	mon.(*net.TCPConn).SetReadBuffer(4 << 10) // never read: the kernel fills, then sessiond's buffer
	fmt.Fprint(mon, "MONITOR\r\n")
	line, err := bufio.NewReader(mon).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", line)

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	big := strings.Repeat("v", 100<<10)
	done := make(chan error, 1)
	go func() {
		for i := range 300 { // 30 MB of monitor output
			fmt.Fprintf(c, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n", len(big), big)
			if l, err := r.ReadString('\n'); err != nil || l != "+OK\r\n" {
				done <- fmt.Errorf("SET %d: %q %v", i, l, err)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("commands stopped being served after a monitor overflowed")
	}
	require.Eventually(t, func() bool { return s.monitors.Load() == 0 }, 5*time.Second, 10*time.Millisecond,
		"the overflowing monitor is dropped")
}
