//go:build linux

package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSelected(t *testing.T) {
	assert.True(t, selected("", "get-p1"))
	assert.True(t, selected("all", "mem"))
	assert.True(t, selected("get", "get-p1"))
	assert.True(t, selected("get", "get-p1-gomaxprocs1"))
	assert.True(t, selected("setex, get-p16", "get-p16"))
	assert.False(t, selected("get-p1", "get-p16"))
	assert.True(t, selected("get-p1", "get-p1-gomaxprocs1"))
	assert.False(t, selected("get", "mem"))
	assert.True(t, selected("gomaxprocs1", "setex-p1-gomaxprocs1"))
	assert.False(t, selected("gomaxprocs1", "setex-p1"))
	assert.False(t, selected("se", "setex-p1"), "prefixes end at a dash")
}

func TestParseVmRSS(t *testing.T) {
	n, err := parseVmRSS(strings.NewReader("Name:\tredis-server\nVmPeak:\t  1000 kB\nVmRSS:\t   12345 kB\n"))
	require.NoError(t, err)
	assert.EqualValues(t, 12345*1024, n)
	_, err = parseVmRSS(strings.NewReader("Name:\tx\n"))
	assert.Error(t, err)
}

func TestParseInfo(t *testing.T) {
	m := parseInfo("# Memory\r\nused_memory:1234\r\nused_memory_human:1.21K\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n")
	assert.Equal(t, "1234", m["used_memory"])
	assert.Equal(t, "keys=1,expires=0", m["db0"])
}

func TestMemSessionIDsAndBlobs(t *testing.T) {
	seen := map[string]bool{}
	for i := range 10000 {
		id := memSessionID(i)
		require.Len(t, id, 32)
		require.False(t, seen[id], "duplicate id at %d", i)
		seen[id] = true
	}
	a, b := make([]byte, 256), make([]byte, 256)
	memBlob(a, 1)
	memBlob(b, 2)
	assert.NotEqual(t, a, b)
	memBlob(b, 1)
	assert.Equal(t, a, b, "deterministic")
}

func TestPickOpProportions(t *testing.T) {
	var counts [6]int
	for n := range 100 {
		counts[pickOp(n)]++
	}
	assert.Equal(t, [6]int{mixGet, mixSetex, mixExpire, mixSadd, mixSmembers, mixDel}, counts)
	assert.Equal(t, 100, mixGet+mixSetex+mixExpire+mixSadd+mixSmembers+mixDel)
}

// TestConnRoundTrip checks the RESP encoder and decoder against a fake
// server on a pipe: what Send writes, and every reply type Read accepts.
func TestConnRoundTrip(t *testing.T) {
	cli, srv := net.Pipe()
	defer srv.Close()
	c := &conn{nc: cli}
	c.r, c.w = newBufs(cli)
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4096)
		var all []byte
		want := "*3\r\n$5\r\nSETEX\r\n$4\r\n1800\r\n$2\r\nab\r\n" + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" + "*4\r\n$5\r\nSETEX\r\n$1\r\nk\r\n$2\r\n60\r\n$1\r\nv\r\n"
		for len(all) < len(want) {
			n, err := srv.Read(buf)
			if err != nil {
				break
			}
			all = append(all, buf[:n]...)
		}
		got <- string(all)
		_, _ = srv.Write([]byte("+OK\r\n-ERR wrong\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\na\r\n:1\r\n*-1\r\n_\r\n~1\r\n+x\r\n"))
	}()
	c.Send("SETEX", 1800, []byte("ab"))
	c.SendStrings("GET", "k")
	c.SendSetex("k", "60", []byte("v"))
	require.NoError(t, c.Flush())
	assert.Equal(t, "*3\r\n$5\r\nSETEX\r\n$4\r\n1800\r\n$2\r\nab\r\n"+"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"+"*4\r\n$5\r\nSETEX\r\n$1\r\nk\r\n$2\r\n60\r\n$1\r\nv\r\n", <-got)
	_ = cli.SetDeadline(time.Now().Add(5 * time.Second))
	want := []string{"+OK", "-ERR wrong", ":42", `"abc"`, "(nil)", "array of 2", "(nil array)", "(nil)", "array of 1"}
	for _, w := range want {
		r, err := c.Read()
		require.NoError(t, err)
		assert.Equal(t, w, r.String())
	}
}
