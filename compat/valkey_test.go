package compat

// valkey-go (github.com/valkey-io/valkey-go), rueidis's fork for Valkey,
// with its default options: the same client-side caching handshake and
// cached reads as rueidis (rueidis_test.go), checked more briefly.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valkey-io/valkey-go"
)

func valkeyClient(t testing.TB, addr string, opt valkey.ClientOption) valkey.Client {
	t.Helper()
	opt.InitAddress = []string{addr}
	c, err := valkey.NewClient(opt)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestValkeyGoCache(t *testing.T) {
	_, px := startSessiond(t)
	c := valkeyClient(t, px.Addr, valkey.ClientOption{})
	w := valkeyClient(t, px.Addr, valkey.ClientOption{DisableCache: true})
	ctx := context.Background()
	var all []string
	for _, conn := range px.Conns() {
		for _, cmd := range conn {
			all = append(all, lower(strings.Join(cmd, " ")))
		}
	}
	assert.Contains(t, all, "client tracking on optin")

	get := func(k string) (string, bool) {
		r := c.DoCache(ctx, c.B().Get().Key(k).Cache(), time.Minute)
		v, err := r.ToString()
		if valkey.IsValkeyNil(err) {
			v = "(nil)"
		} else {
			require.NoError(t, err)
		}
		return v, r.IsCacheHit()
	}
	require.NoError(t, w.Do(ctx, w.B().Setex().Key("sess:1").Seconds(600).Value("data1").Build()).Error())
	v, hit := get("sess:1")
	assert.Equal(t, "data1", v)
	assert.False(t, hit)
	v, hit = get("sess:1")
	assert.Equal(t, "data1", v)
	assert.True(t, hit)
	require.NoError(t, w.Do(ctx, w.B().Setex().Key("sess:1").Seconds(600).Value("data2").Build()).Error())
	require.Eventually(t, func() bool { v, _ := get("sess:1"); return v == "data2" }, 3*time.Second, 2*time.Millisecond)
	require.NoError(t, w.Do(ctx, w.B().Del().Key("sess:1").Build()).Error())
	require.Eventually(t, func() bool { v, _ := get("sess:1"); return v == "(nil)" }, 3*time.Second, 2*time.Millisecond)

	res := c.DoMultiCache(ctx, valkey.CT(c.B().Get().Key("a").Cache(), time.Minute), valkey.CT(c.B().Get().Key("b").Cache(), time.Minute))
	require.Len(t, res, 2)
	require.NoError(t, w.Do(ctx, w.B().Set().Key("b").Value("1").Build()).Error())
	require.Eventually(t, func() bool { v, _ := get("b"); return v == "1" }, 3*time.Second, 2*time.Millisecond)

	// Concurrent cached reads and writes; no stale value once quiet.
	keys := []string{"v0", "v1", "v2"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := keys[r.IntN(len(keys))]
				var err error
				if g < 2 {
					err = c.DoCache(ctx, c.B().Get().Key(k).Cache(), time.Minute).Error()
				} else {
					err = []valkey.Client{w, c}[g%2].Do(ctx, c.B().Set().Key(k).Value(fmt.Sprint(g, "-", i)).Build()).Error()
				}
				if err != nil && !valkey.IsValkeyNil(err) {
					t.Error(err)
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	require.NoError(t, c.Do(ctx, c.B().Ping().Build()).Error())
	for _, k := range keys {
		want, err := w.Do(ctx, w.B().Get().Key(k).Build()).ToString()
		if valkey.IsValkeyNil(err) {
			want = "(nil)"
		}
		got, hit := get(k)
		assert.Equal(t, want, got, "%s: stale cached value (hit %v)", k, hit)
	}
}
