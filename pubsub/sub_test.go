package pubsub

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pipeSub returns a Sub writing into one end of a synchronous pipe: the
// subscriber "reads" only when the test reads the other end.
func pipeSub(t *testing.T, h *Hub) (*Sub, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	s := h.NewSub(a, false, nil)
	t.Cleanup(s.Close)
	return s, b
}

func TestConfirmationPrecedesMessages(t *testing.T) {
	h := New(nil)
	s, peer := pipeSub(t, h)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // publish continuously while subscribing
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				h.Publish(Channel, []byte("c"), []byte("m"))
			}
		}
	}()
	s.Subscribe(Channel, [][]byte{[]byte("c")})
	br := bufio.NewReader(peer)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "*3\r\n", line)
	word, err := br.ReadString('\n')
	require.NoError(t, err)
	word, err = br.ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "subscribe\r\n", word, "the confirmation comes before any message")
	close(stop)
	wg.Wait()
}

// TestSlowSubscriberHardLimit: a subscriber that never reads is dropped at
// the hard limit, and publishing never waits for it.
func TestSlowSubscriberHardLimit(t *testing.T) {
	h := New(nil)
	h.SetLimits(Limits{Hard: 64 << 10})
	s, peer := pipeSub(t, h)
	s.Subscribe(Channel, [][]byte{[]byte("c")})
	msg := []byte(strings.Repeat("x", 1000))
	start := time.Now()
	delivered := 0
	for range 1000 {
		delivered += h.Publish(Channel, []byte("c"), msg)
	}
	require.Less(t, time.Since(start), 2*time.Second, "publishing must not block on the subscriber")
	require.Less(t, delivered, 100, "the subscriber is dropped near 64 KiB")
	require.Greater(t, delivered, 50)
	require.Equal(t, int64(1), h.Stats().LimitDisconnections)
	// The connection was closed: the peer sees EOF after what was written.
	peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err := io.Copy(io.Discard, peer)
	require.NoError(t, err) // io.Copy treats EOF as success
	s.Close()
	require.Equal(t, 0, h.NumSub(Channel, []byte("c")))
	require.Zero(t, h.Stats().Clients)
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestSlowSubscriberSoftLimit: over the soft limit for longer than its
// seconds, the subscriber is dropped; under it, the timer resets.
func TestSlowSubscriberSoftLimit(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	h := New(clk.Now)
	h.SetLimits(Limits{Soft: 10 << 10, SoftFor: 60 * time.Second})
	s, _ := pipeSub(t, h)
	s.Subscribe(Channel, [][]byte{[]byte("c")})
	msg := []byte(strings.Repeat("x", 1000))
	for range 20 {
		require.Equal(t, 1, h.Publish(Channel, []byte("c"), msg))
	}
	clk.advance(59 * time.Second)
	require.Equal(t, 1, h.Publish(Channel, []byte("c"), msg), "still within the soft seconds")
	clk.advance(2 * time.Second)
	require.Equal(t, 1, h.Publish(Channel, []byte("c"), msg), "counted, then dropped")
	require.Equal(t, 0, h.Publish(Channel, []byte("c"), msg), "a dropped subscriber receives nothing")
	require.Equal(t, int64(1), h.Stats().LimitDisconnections)
}

func TestEventsParseAndString(t *testing.T) {
	for in, want := range map[string]string{"Egx": "gxE", "AKE": "AKE", "KEA$": "AKE", "Kd": "dK", "Km": "Km", "": "", "KEAn": "AnKE", "nE": "nE"} {
		e, err := ParseEvents(in)
		require.NoError(t, err, in)
		require.Equal(t, want, e.String(), in)
	}
	_, err := ParseEvents("gQ")
	require.ErrorIs(t, err, ErrEvents)
}
