package resp_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// waitBusy sends PING on c until the reply is -BUSY, which happens once
// the script on another connection has run past busy-reply-threshold.
func waitBusy(t *testing.T, c *rconn) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		v, err := c.do("PING")
		require.NoError(t, err)
		if strings.HasPrefix(string(v.raw), "-BUSY") {
			return string(v.raw)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the server never reported BUSY")
	return ""
}

// killFlow runs a script that never ends, waits for BUSY, checks what is
// allowed while busy, and kills it. It returns every reply, in order.
func killFlow(t *testing.T, addr string) []string {
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	var out []string
	rec := func(v rv, err error) {
		require.NoError(t, err)
		out = append(out, string(v.raw))
	}
	rec(b.do("CONFIG", "SET", "busy-reply-threshold", "100"))
	rec(b.do("SET", "x", "1"))
	_, err := a.c.Write(encodeCommand(ev(`local n = 0 while true do n = n + 1 end`, "0")))
	require.NoError(t, err)
	out = append(out, waitBusy(t, b))
	rec(b.do("GET", "x"))
	rec(b.do("EVAL", "return 1", "0"))
	rec(b.do("SHUTDOWN"))
	rec(b.do("MULTI"))
	rec(b.do("INCR", "x"))
	rec(b.do("DISCARD"))
	rec(b.do("SCRIPT", "KILL"))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	rec(readReply(a.br))
	rec(b.do("GET", "x"))
	rec(b.do("SCRIPT", "KILL"))
	rec(a.do("PING"))
	// Time runs again after the killed script (a time left frozen at its
	// start would keep this key forever).
	rec(b.do("SET", "p", "v", "PX", "20"))
	time.Sleep(100 * time.Millisecond)
	rec(b.do("EXISTS", "p"))
	return out
}

// unkillableFlow runs a script that writes, then loops for a while:
// SCRIPT KILL refuses, and the script's writes are all there at the end.
func unkillableFlow(t *testing.T, addr string) []string {
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	var out []string
	rec := func(v rv, err error) {
		require.NoError(t, err)
		out = append(out, string(v.raw))
	}
	rec(b.do("CONFIG", "SET", "busy-reply-threshold", "100"))
	script := `redis.call("set", "w", "1")
` + busyScript(2000) + `
redis.call("incr", "w")
return redis.call("get", "w")`
	_, err := a.c.Write(encodeCommand(ev(script, "0")))
	require.NoError(t, err)
	out = append(out, waitBusy(t, b))
	rec(b.do("SCRIPT", "KILL"))
	a.c.SetDeadline(time.Now().Add(5 * time.Second))
	rec(readReply(a.br))
	rec(b.do("GET", "w"))
	return out
}

func TestScriptKillMatchesRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	require.Equal(t, killFlow(t, r.Addr), killFlow(t, s.Addr))
	require.Equal(t, unkillableFlow(t, r.Addr), unkillableFlow(t, s.Addr))
}

// TestScriptBlocksUntilBusy: before the threshold other clients wait (the
// script is atomic), they are not refused.
func TestScriptBlocksUntilBusy(t *testing.T) {
	s := testserver.Start(t, testserver.WithConfig("busy-reply-threshold", "0"))
	a, b := dialRaw(t, s.Addr), dialRaw(t, s.Addr)
	start := time.Now()
	_, err := a.c.Write(encodeCommand(ev(busyScript(200)+`
return redis.call("set", "k", "v")`, "0")))
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	v, err := b.do("GET", "k") // waits for the script: sees its write
	require.NoError(t, err)
	require.Equal(t, "$1\r\nv\r\n", string(v.raw))
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	v, err = readReply(a.br)
	require.NoError(t, err)
	require.Equal(t, okR, string(v.raw))
	v, err = b.do("SCRIPT", "KILL")
	require.NoError(t, err)
	require.Equal(t, "-NOTBUSY No scripts in execution right now.\r\n", string(v.raw))
}

// TestScriptAtomicAgainstIncr: a script's GET-then-SET races with INCRs
// from other clients and loses none of them.
func TestScriptAtomicAgainstIncr(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, PoolSize: 16})
	defer rdb.Close()
	const workers, each = 4, 200
	script := redis.NewScript(`local v = tonumber(redis.call("get", KEYS[1]) or "0")
for i = 1, 50 do local _ = redis.call("get", KEYS[1]) end
redis.call("set", KEYS[1], v + 1)
return v + 1`)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range each {
				if err := script.Run(ctx, rdb, []string{"counter"}).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range each {
				if err := rdb.Incr(ctx, "counter").Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, err := rdb.Get(ctx, "counter").Int()
	require.NoError(t, err)
	require.Equal(t, 2*workers*each, n)
}

// TestScriptLaravelLockGoRedis: the lock Laravel (and many others) build
// on SET NX EX and a compare-and-delete script, through go-redis's Script
// (EVALSHA, falling back to EVAL on NOSCRIPT).
func TestScriptLaravelLockGoRedis(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	release := redis.NewScript(releaseLock)
	ok, err := rdb.SetNX(ctx, "lock:job", "owner-a", 10*time.Second).Result()
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = rdb.SetNX(ctx, "lock:job", "owner-b", 10*time.Second).Result()
	require.NoError(t, err)
	require.False(t, ok)
	n, err := release.Run(ctx, rdb, []string{"lock:job"}, "owner-b").Int()
	require.NoError(t, err)
	require.Equal(t, 0, n, "someone else's release leaves the lock")
	n, err = release.Run(ctx, rdb, []string{"lock:job"}, "owner-a").Int()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, int64(0), rdb.Exists(ctx, "lock:job").Val())
	exists, err := release.Exists(ctx, rdb).Result()
	require.NoError(t, err)
	require.Equal(t, []bool{true}, exists)
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	n, err = release.Run(ctx, rdb, []string{"lock:job"}, "owner-a").Int() // NOSCRIPT, then EVAL
	require.NoError(t, err)
	require.Equal(t, 0, n)
}

// TestScriptInfoAndConfig: INFO counts cached scripts; lua-time-limit is
// busy-reply-threshold under its old name.
func TestScriptInfoAndConfig(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	require.NoError(t, rdb.ScriptLoad(ctx, "return 1").Err())
	require.NoError(t, rdb.ScriptLoad(ctx, "return 2").Err())
	info := rdb.Info(ctx, "memory").Val()
	require.Contains(t, info, "number_of_cached_scripts:2\r\n")
	require.NoError(t, rdb.ConfigSet(ctx, "lua-time-limit", "1234").Err())
	require.Equal(t, map[string]string{"busy-reply-threshold": "1234"}, rdb.ConfigGet(ctx, "busy-reply-threshold").Val())
	require.NoError(t, rdb.ConfigSet(ctx, "busy-reply-threshold", "77").Err())
	require.Equal(t, map[string]string{"lua-time-limit": "77"}, rdb.ConfigGet(ctx, "lua-time-limit").Val())
	require.NoError(t, rdb.ScriptFlush(ctx).Err())
	require.Contains(t, rdb.Info(ctx, "memory").Val(), "number_of_cached_scripts:0\r\n")
}

// TestScriptCommandInfoMatchesRedis: COMMAND INFO's name, arity, flags,
// key positions and categories for the scripting commands.
func TestScriptCommandInfoMatchesRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	s := testserver.Start(t)
	names := []string{"eval", "evalsha", "eval_ro", "evalsha_ro", "script"}
	get := func(addr string) []string {
		c := dialRaw(t, addr)
		var out []string
		for _, n := range names {
			v, err := c.do("COMMAND", "INFO", n)
			require.NoError(t, err)
			require.Len(t, v.elems, 1)
			info := v.elems[0]
			var parts []string
			for _, e := range info.elems[:7] {
				parts = append(parts, string(e.raw))
			}
			if n == "script" { // subcommands, in name order: name, arity, flags, categories
				var subs []string
				for _, sub := range info.elems[9].elems {
					subs = append(subs, string(sub.elems[0].raw)+string(sub.elems[1].raw)+string(sub.elems[2].raw)+string(sub.elems[6].raw))
				}
				slices.Sort(subs)
				parts = append(parts, subs...)
			}
			out = append(out, strconv.Quote(strings.Join(parts, "")))
		}
		return out
	}
	require.Equal(t, get(r.Addr), get(s.Addr))
}

// TestTTLCountsFromWhenTheCommandRuns: a SET ... PX that waited behind a
// script counts its TTL from when it ran, not from when it arrived (the
// command's time is the dispatch's clock reading only if nothing made it
// wait). Redis 7.2 takes the command's time in call(), after such waits;
// 7.0 reads the clock for the TTL.
func TestTTLCountsFromWhenTheCommandRuns(t *testing.T) {
	s := testserver.Start(t, testserver.WithConfig("busy-reply-threshold", "0"))
	r := testserver.StartRedis(t, "--busy-reply-threshold", "0")
	for _, addr := range []string{s.Addr, r.Addr} {
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		_, err := a.c.Write(encodeCommand(ev(busyScript(1200)+`
return 1`, "0")))
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		t0 := time.Now()
		v, err := b.do("SET", "k", "v", "PX", "800") // waits about 1.1 s for the script
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw), addr)
		require.Greater(t, time.Since(t0), 900*time.Millisecond, "%s: the SET waited for the script", addr)
		ms := pttl(t, b, "k")
		require.Greater(t, ms, 400, "%s: the TTL must not have run while the SET waited", addr)
		_, err = readReply(a.br)
		require.NoError(t, err)
	}
}

// TestTTLCountsFromAfterAPause: likewise for a SET held by CLIENT PAUSE.
func TestTTLCountsFromAfterAPause(t *testing.T) {
	s := testserver.Start(t)
	r := testserver.StartRedis(t)
	for _, addr := range []string{s.Addr, r.Addr} {
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		v, err := a.do("CLIENT", "PAUSE", "1000", "WRITE")
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw), addr)
		t0 := time.Now()
		v, err = b.do("SET", "k", "v", "PX", "700") // waits about 1 s for the pause
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw), addr)
		require.Greater(t, time.Since(t0), 600*time.Millisecond, "%s: the SET waited for the pause", addr)
		ms := pttl(t, b, "k")
		require.Greater(t, ms, 300, "%s: the TTL must not have run while the SET waited", addr)
	}
}

// pttl is PTTL key on b, as a number.
func pttl(t *testing.T, b *rconn, key string) int {
	t.Helper()
	v, err := b.do("PTTL", key)
	require.NoError(t, err)
	ms, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(string(v.raw), ":"), "\r\n"))
	require.NoError(t, err, string(v.raw))
	return ms
}

// busyScript is a script that runs for about ms milliseconds of wall time.
func busyScript(ms int) string {
	return `local s = redis.call("time")
repeat local n = redis.call("time") until (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > ` + strconv.Itoa(ms*1000)
}

// TestScriptJudgesExpiryAtItsStart: inside a script a key expires only as
// of the script's start (Redis's scriptTimeSnapshot), even after its
// deadline has passed by the clock and the expiry wheel has ticked.
func TestScriptJudgesExpiryAtItsStart(t *testing.T) {
	s := testserver.Start(t)
	r := testserver.StartRedis(t)
	script := `redis.call("set", KEYS[1], "v", "px", 1)
` + busyScript(40) + `
return {redis.call("get", KEYS[1]), redis.call("exists", KEYS[1])}`
	for _, addr := range []string{s.Addr, r.Addr} {
		c := dialRaw(t, addr)
		v, err := c.do(ev(script, "1", "k")...)
		require.NoError(t, err)
		require.Equal(t, "*2\r\n$1\r\nv\r\n:1\r\n", string(v.raw), "%s: the key expired inside the script", addr)
		v, err = c.do("GET", "k")
		require.NoError(t, err)
		require.Equal(t, "$-1\r\n", string(v.raw), "%s: expired after the script", addr)
	}
}

// TestExecJudgesExpiryAtItsStart: likewise for the commands of a
// transaction, at the EXEC's start (Redis's call() caches the time once for
// nested calls).
func TestExecJudgesExpiryAtItsStart(t *testing.T) {
	s := testserver.Start(t)
	r := testserver.StartRedis(t)
	for _, addr := range []string{s.Addr, r.Addr} {
		c := dialRaw(t, addr)
		for _, cmd := range [][]string{{"MULTI"}, {"SET", "k", "v", "PX", "1"}, ev(busyScript(40), "0"), {"GET", "k"}, {"PTTL", "k"}} {
			_, err := c.do(cmd...)
			require.NoError(t, err)
		}
		v, err := c.do("EXEC")
		require.NoError(t, err)
		// PTTL: 1 at the EXEC's time, as in Redis 7.2 and sessiond; Redis
		// 7.0 counts it from the clock (0, never negative).
		pttl := ":1"
		if addr == r.Addr {
			pttl = ":[01]"
		}
		require.Regexp(t, `^\*4\r\n\+OK\r\n\$-1\r\n\$1\r\nv\r\n`+pttl+`\r\n$`, string(v.raw), "%s: the key expired inside the transaction", addr)
		v, err = c.do("GET", "k")
		require.NoError(t, err)
		require.Equal(t, "$-1\r\n", string(v.raw), "%s: expired after the transaction", addr)
	}
}

// TestPauseWriteHoldsScriptsAndPublish: CLIENT PAUSE WRITE holds EVAL,
// EVALSHA and PUBLISH as well as writes (Redis holds what it may
// propagate), but not a script that declares no-writes, EVAL_RO or reads.
// A held command gets no reply until UNPAUSE; the others reply during the
// pause (10 s, so that a slow machine cannot end it early).
func TestPauseWriteHoldsScriptsAndPublish(t *testing.T) {
	s := testserver.Start(t)
	r := testserver.StartRedis(t)
	for _, addr := range []string{s.Addr, r.Addr} {
		a, b := dialRaw(t, addr), dialRaw(t, addr)
		sha, err := b.do("SCRIPT", "LOAD", "return 1")
		require.NoError(t, err)
		roSHA, err := b.do("SCRIPT", "LOAD", "#!lua flags=no-writes\nreturn 1")
		require.NoError(t, err)
		for _, tc := range []struct {
			args []string
			held bool
		}{
			{[]string{"EVAL", "return 1", "0"}, true},
			{[]string{"EVALSHA", sha.str, "0"}, true},
			{[]string{"PUBLISH", "ch", "m"}, true},
			{[]string{"SET", "k", "v"}, true},
			{[]string{"EVAL", "#!lua flags=no-writes\nreturn 1", "0"}, false},
			{[]string{"EVALSHA", roSHA.str, "0"}, false},
			{[]string{"EVAL_RO", "return 1", "0"}, false},
			{[]string{"GET", "k"}, false},
		} {
			v, err := a.do("CLIENT", "PAUSE", "10000", "WRITE")
			require.NoError(t, err)
			require.Equal(t, okR, string(v.raw), addr)
			_, err = b.c.Write(encodeCommand(tc.args))
			require.NoError(t, err)
			if tc.held {
				b.c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
				_, err = readReply(b.br)
				require.Error(t, err, "%s: %q ran during the pause", addr, tc.args)
			}
			b.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if !tc.held {
				v, err = readReply(b.br)
				require.NoError(t, err, "%s: %q waits for the pause", addr, tc.args)
				require.False(t, v.isErr(), "%s: %q: %s", addr, tc.args, v)
			}
			_, err = a.do("CLIENT", "UNPAUSE")
			require.NoError(t, err)
			if tc.held {
				v, err = readReply(b.br)
				require.NoError(t, err, "%s: %q after UNPAUSE", addr, tc.args)
				require.False(t, v.isErr(), "%s: %q: %s", addr, tc.args, v)
			}
		}
	}
}
