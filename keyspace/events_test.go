package keyspace

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type recordingNotifier struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingNotifier) Notify(db int, class EventClass, event string, key []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%d %s %s", db, event, key))
}

func (r *recordingNotifier) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// TestLazyExpiryEventsPrecedeTheWrite checks that a writer finding an
// expired key reports "expired" before its own events, in the right
// database even after SWAPDB, and that the expiry wheel's path reports it too.
func TestLazyExpiryEventsPrecedeTheWrite(t *testing.T) {
	ks, clk, _ := newTestKeyspace(t)
	rec := &recordingNotifier{}
	ks.SetNotifier(rec)
	now := clk.Now().UnixMilli()

	_, err := ks.Set(3, []byte("k"), []byte("v"), SetArgs{Deadline: now + 100})
	require.NoError(t, err)
	require.Equal(t, []string{"3 new k", "3 set k", "3 expire k"}, rec.take())

	ks.Swap(3, 5) // the key now lives in database 5
	clk.Advance(200 * time.Millisecond)
	_, err = ks.SAdd(5, []byte("k"), [][]byte{[]byte("m")})
	require.NoError(t, err)
	require.Equal(t, []string{"5 expired k", "5 new k", "5 sadd k"}, rec.take())

	require.True(t, ks.Expire(5, []byte("k"), clk.Now().UnixMilli()+10, 0))
	clk.Advance(20 * time.Millisecond)
	deleted, _ := ks.ExpireIfDue(5, "k", clk.Now().UnixMilli())
	require.True(t, deleted)
	require.Equal(t, []string{"5 expire k", "5 expired k"}, rec.take())

	// A read of an expired key is a miss; the wheel reports the expiry.
	_, err = ks.Set(0, []byte("r"), []byte("v"), SetArgs{Deadline: clk.Now().UnixMilli() + 1})
	require.NoError(t, err)
	rec.take()
	clk.Advance(10 * time.Millisecond)
	_, ok, err := ks.Get(0, []byte("r"))
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, []string{"0 keymiss r"}, rec.take())

	ks.SetNotifier(nil)
	_, err = ks.Set(0, []byte("quiet"), []byte("v"), SetArgs{})
	require.NoError(t, err)
	require.Empty(t, rec.take())
}
