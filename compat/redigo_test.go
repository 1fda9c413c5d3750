package compat

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

func redigoDial(t testing.TB, addr string, opts ...redis.DialOption) redis.Conn {
	t.Helper()
	opts = append([]redis.DialOption{redis.DialConnectTimeout(2 * time.Second), redis.DialReadTimeout(2 * time.Second)}, opts...)
	c, err := redis.Dial("tcp", addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRedigoDial: redigo's RESP2 handshake (AUTH, CLIENT SETNAME, SELECT)
// and its failure modes.
func TestRedigoDial(t *testing.T) {
	srv, px := startSessiond(t, testserver.WithConfig("requirepass", "pw"))
	c := redigoDial(t, px.Addr, redis.DialPassword("pw"), redis.DialDatabase(2), redis.DialClientName("redigo-app"))
	assert.Equal(t, []string{"AUTH pw", "CLIENT SETNAME redigo-app", "SELECT 2"}, px.All()[:3])

	_, err := c.Do("SET", "k", "in-db-2")
	require.NoError(t, err)
	name, err := redis.String(c.Do("CLIENT", "GETNAME"))
	require.NoError(t, err)
	assert.Equal(t, "redigo-app", name)

	other := redigoDial(t, srv.Addr, redis.DialPassword("pw"))
	_, err = redis.String(other.Do("GET", "k"))
	assert.ErrorIs(t, err, redis.ErrNil, "db 2 key visible from db 0")
	_, err = other.Do("SELECT", 2)
	require.NoError(t, err)
	v, err := redis.String(other.Do("GET", "k"))
	require.NoError(t, err)
	assert.Equal(t, "in-db-2", v)

	// Username + password sends the two-argument AUTH.
	redigoDial(t, srv.Addr, redis.DialUsername("default"), redis.DialPassword("pw"))

	_, err = redis.Dial("tcp", srv.Addr, redis.DialPassword("wrong"))
	require.Error(t, err)
	assert.Equal(t, "WRONGPASS invalid username-password pair or user is disabled.", err.Error())
	_, err = redis.Dial("tcp", srv.Addr, redis.DialPassword("pw"), redis.DialDatabase(16))
	require.Error(t, err)
	assert.Equal(t, "ERR DB index is out of range", err.Error())

	noauth := redigoDial(t, srv.Addr)
	_, err = noauth.Do("GET", "k")
	require.Error(t, err)
	assert.Equal(t, "NOAUTH Authentication required.", err.Error())

	// AUTH pw on a server without requirepass: the Redis error text that
	// ioredis tolerates.
	open := startServer(t)
	_, err = redis.Dial("tcp", open.Addr, redis.DialPassword("pw"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "called without any password configured for the default user")
}

func TestRedigoPipelining(t *testing.T) {
	srv := startServer(t)
	c := redigoDial(t, srv.Addr)
	for i := 0; i < 50; i++ {
		require.NoError(t, c.Send("SET", fmt.Sprintf("rp:%d", i), i, "EX", 60))
	}
	for i := 0; i < 50; i++ {
		require.NoError(t, c.Send("INCR", fmt.Sprintf("rp:%d", i)))
	}
	require.NoError(t, c.Flush())
	for i := 0; i < 50; i++ {
		s, err := redis.String(c.Receive())
		require.NoError(t, err)
		assert.Equal(t, "OK", s)
	}
	for i := 0; i < 50; i++ {
		n, err := redis.Int(c.Receive())
		require.NoError(t, err)
		assert.Equal(t, i+1, n)
	}
	// An error in the middle of a pipeline is returned for that reply only.
	require.NoError(t, c.Send("GET", "rp:1"))
	require.NoError(t, c.Send("SADD", "rp:1", "x"))
	require.NoError(t, c.Send("GET", "rp:2"))
	require.NoError(t, c.Flush())
	v, err := redis.String(c.Receive())
	require.NoError(t, err)
	assert.Equal(t, "2", v)
	_, err = c.Receive()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "WRONGTYPE"))
	v, err = redis.String(c.Receive())
	require.NoError(t, err)
	assert.Equal(t, "3", v)
}

// TestRedigoMultiExec sends MULTI/SET/PEXPIREAT with Send and reads
// everything with Do("EXEC"), exactly as scs redisstore does.
func TestRedigoMultiExec(t *testing.T) {
	srv := startServer(t)
	c := redigoDial(t, srv.Addr)
	at := time.Now().Add(90 * time.Second)
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Send("SET", "scs:session:tok", []byte("payload\x00\xff")))
	require.NoError(t, c.Send("PEXPIREAT", "scs:session:tok", at.UnixMilli()))
	vals, err := redis.Values(c.Do("EXEC"))
	require.NoError(t, err)
	assert.Equal(t, []any{"OK", int64(1)}, vals)
	b, err := redis.Bytes(c.Do("GET", "scs:session:tok"))
	require.NoError(t, err)
	assert.Equal(t, []byte("payload\x00\xff"), b)
	pttl, err := redis.Int64(c.Do("PTTL", "scs:session:tok"))
	require.NoError(t, err)
	within(t, time.Duration(pttl)*time.Millisecond, 89*time.Second, 90*time.Second, "PTTL")

	// A command rejected while queueing aborts the transaction: redigo's
	// Do returns the first error among the pending replies.
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Send("SET", "scs:session:tok"))
	_, err = c.Do("EXEC")
	require.Error(t, err)
	assert.Equal(t, "ERR wrong number of arguments for 'set' command", err.Error())
	b, err = redis.Bytes(c.Do("GET", "scs:session:tok"))
	require.NoError(t, err)
	assert.Equal(t, []byte("payload\x00\xff"), b, "an aborted transaction must not write")
	_, err = c.Do("EXEC")
	require.Error(t, err)
	assert.Equal(t, "ERR EXEC without MULTI", err.Error())

	// DISCARD.
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Send("DEL", "scs:session:tok"))
	_, err = c.Do("DISCARD")
	require.NoError(t, err)
	n, err := redis.Int(c.Do("EXISTS", "scs:session:tok"))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// TestRedigoPool: a pool with TestOnBorrow PING (redistore's setup) and
// the cleanup redigo sends when a dirty connection goes back to the pool.
func TestRedigoPool(t *testing.T) {
	_, px := startSessiond(t)
	pings := 0
	pool := &redis.Pool{
		MaxIdle: 2,
		Dial:    func() (redis.Conn, error) { return redis.Dial("tcp", px.Addr) },
		TestOnBorrow: func(c redis.Conn, _ time.Time) error {
			pings++
			s, err := redis.String(c.Do("PING"))
			if err == nil && s != "PONG" {
				err = fmt.Errorf("PING reply %q", s)
			}
			return err
		},
	}
	defer pool.Close()
	for i := 0; i < 5; i++ {
		c := pool.Get()
		_, err := c.Do("SET", "pool", i)
		require.NoError(t, err)
		c.Close()
	}
	assert.Equal(t, 4, pings, "every borrow of an idle connection is tested")
	assert.Len(t, px.Conns(), 1, "the pooled connection is reused")

	// A connection returned while WATCHing (or inside MULTI) is cleaned up
	// with UNWATCH/DISCARD, then reused.
	c := pool.Get()
	_, err := c.Do("WATCH", "pool")
	require.NoError(t, err)
	require.NoError(t, c.Close())
	c = pool.Get()
	require.NoError(t, c.Send("MULTI"))
	require.NoError(t, c.Flush())
	require.NoError(t, c.Close())
	c = pool.Get()
	defer c.Close()
	v, err := redis.Int(c.Do("GET", "pool"))
	require.NoError(t, err)
	assert.Equal(t, 4, v)
	all := px.All()
	assert.Contains(t, all, "UNWATCH")
	assert.Contains(t, all, "DISCARD")
	assert.Len(t, px.Conns(), 1, "cleanup must leave the connection usable")
	assert.Zero(t, pool.Stats().ActiveCount-1)
}

// TestRedigoConversions: reply types as redigo's helpers convert them.
func TestRedigoConversions(t *testing.T) {
	srv := startServer(t)
	c := redigoDial(t, srv.Addr)
	_, err := c.Do("MSET", "a", "1", "b", "two")
	require.NoError(t, err)

	strs, err := redis.Strings(c.Do("MGET", "a", "missing", "b"))
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "", "two"}, strs)
	vals, err := redis.Values(c.Do("MGET", "a", "missing"))
	require.NoError(t, err)
	assert.Equal(t, []any{[]byte("1"), nil}, vals, "a miss is a nil bulk, not an empty string")
	bs, err := redis.ByteSlices(c.Do("MGET", "a", "b"))
	require.NoError(t, err)
	assert.Equal(t, [][]byte{[]byte("1"), []byte("two")}, bs)

	n, err := redis.Int(c.Do("GET", "a"))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ttl, err := redis.Int(c.Do("TTL", "a"))
	require.NoError(t, err)
	assert.Equal(t, -1, ttl)
	ttl, err = redis.Int(c.Do("TTL", "missing"))
	require.NoError(t, err)
	assert.Equal(t, -2, ttl)
	ok, err := redis.Bool(c.Do("EXISTS", "a"))
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = redis.Bool(c.Do("EXPIRE", "missing", 10))
	require.NoError(t, err)
	assert.False(t, ok)
	s, err := redis.String(c.Do("SETEX", "se", 100, "v"))
	require.NoError(t, err)
	assert.Equal(t, "OK", s)
	s, err = redis.String(c.Do("TYPE", "se"))
	require.NoError(t, err)
	assert.Equal(t, "string", s)
	_, err = redis.String(c.Do("GET", "missing"))
	assert.ErrorIs(t, err, redis.ErrNil)
	_, err = redis.String(c.Do("SET", "a", "x", "NX"))
	assert.ErrorIs(t, err, redis.ErrNil, "SET NX failure is a nil bulk")

	// SCAN through redis.Scan into a cursor and keys.
	for i := 0; i < 30; i++ {
		_, err := c.Do("SET", fmt.Sprintf("session_%d", i), "v")
		require.NoError(t, err)
	}
	var keys []string
	cursor := 0
	for i := 0; ; i++ {
		require.Less(t, i, 100)
		reply, err := redis.Values(c.Do("SCAN", cursor, "MATCH", "session_*", "COUNT", 7))
		require.NoError(t, err)
		var page []string
		_, err = redis.Scan(reply, &cursor, &page)
		require.NoError(t, err)
		keys = append(keys, page...)
		if cursor == 0 {
			break
		}
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	assert.Len(t, keys, 30)

	members, err := redis.Strings(c.Do("SMEMBERS", "nothing"))
	require.NoError(t, err)
	assert.Empty(t, members)
	m, err := redis.StringMap(c.Do("CONFIG", "GET", "databases"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"databases": "16"}, m)
	e, err := redis.String(c.Do("ECHO", "hello"))
	require.NoError(t, err)
	assert.Equal(t, "hello", e)
}
