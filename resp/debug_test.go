package resp_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/clocktest"
	"sessiond/internal/testserver"
	"sessiond/resp"
	"sessiond/snapshot"
)

// debugObjectVolatile matches the fields of a DEBUG OBJECT line that
// differ between servers: the address, and the access clock with the idle
// seconds (compared separately, as small).
var debugObjectVolatile = regexp.MustCompile(`^Value at:0x[0-9a-f]+ (.*) lru:\d+ lru_seconds_idle:(\d+)(.*)$`)

// TestDebugMatchesRedis: with enable-debug-command yes on both, DEBUG's
// subcommands answer as Redis 7.0.15's: SLEEP, SET-ACTIVE-EXPIRE, ERROR,
// LOG, the argument and unknown-subcommand errors, DIGEST and
// DIGEST-VALUE byte for byte, and DEBUG OBJECT's line for every type and
// encoding (refcount, encoding, serializedlength and the ql_ fields; the
// address and clock aside) for values whose RDB strings Redis does not
// compress. RESP2 and RESP3.
func TestDebugMatchesRedis(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("enable-debug-command", "yes"))
	red := testserver.StartRedis(t, "--enable-debug-command", "yes")
	p := newPair(t, sd.Addr, red.Addr)
	// Values: small ones, and strings of distinct bytes, which LZF cannot
	// shorten (Redis tries it on RDB strings over 20 bytes; sessiond never).
	distinct := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	setup := [][]string{
		{"SET", "embstr", "hello"}, {"SET", "raw", distinct}, {"SET", "int", "123456"}, {"SET", "bigint", "-9223372036854775808"},
		{"SET", "shared", "12"}, {"SET", "empty", ""},
		{"RPUSH", "list", "a", "b", "c", "12", "-7"},
		{"SADD", "intset", "1", "2", "3"}, {"SADD", "intset32", "1", "100000"}, {"SADD", "intset64", "-1", "5000000000"},
		{"HSET", "hash", "f", "v", "n", "1234567"},
		{"ZADD", "zset", "1", "a", "1.5", "b", "1e20", "c", "-3", "d", "0", "e"},
		{"XADD", "stream", "1-1", "a", "b"},
		{"SET", "volatile", "v", "EX", "1000"},
	}
	big := []string{"SADD", "bigset"}
	hbig := []string{"HSET", "bighash"}
	zbig := []string{"ZADD", "bigzset"}
	for i := range 600 {
		big = append(big, fmt.Sprintf("m%d", i))
		hbig = append(hbig, fmt.Sprintf("f%d", i), fmt.Sprintf("v%d", i))
		zbig = append(zbig, strconv.Itoa(i%50), fmt.Sprintf("m%d", i))
	}
	setup = append(setup, big, hbig, zbig)
	for _, args := range setup {
		p.same(t, args...)
	}
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3")
		}
		for _, args := range []string{
			"DEBUG SLEEP 0", "DEBUG SLEEP -1", "DEBUG SLEEP abc", "DEBUG SLEEP 0.001", "DEBUG SLEEP", "DEBUG SLEEP 0 1",
			"DEBUG SET-ACTIVE-EXPIRE 1", "DEBUG SET-ACTIVE-EXPIRE", "DEBUG JMAP", "DEBUG nosuch", "DEBUG RELOAD x",
			"DEBUG OBJECT", "DEBUG OBJECT nokey", "DEBUG OBJECT a b", "DEBUG LOG hello", "DEBUG LOG",
			"DEBUG ERROR", "DEBUG DIGEST x", "DEBUG DIGEST-VALUE",
			"DEBUG DIGEST", "DEBUG DIGEST-VALUE nokey embstr raw int list intset hash zset stream volatile bigset bighash bigzset",
		} {
			p.same(t, strings.Fields(args)...)
		}
		for _, msg := range []string{"ERR my error", "WRONGTYPE x", "no code", "a\r\nb", ""} {
			p.same(t, "DEBUG", "ERROR", msg)
		}
		for _, args := range setup {
			key := args[1]
			a, b := p.do(t, "DEBUG", "OBJECT", key)
			ma, mb := debugObjectVolatile.FindStringSubmatch(a.str), debugObjectVolatile.FindStringSubmatch(b.str)
			require.NotNil(t, ma, "sessiond %s: %s", key, a)
			require.NotNil(t, mb, "redis %s: %s", key, b)
			assert.Equal(t, mb[1]+mb[3], ma[1]+ma[3], key)
			assert.Equal(t, b.typ, a.typ, key)
			if key != "shared" { // Redis's shared integer has its own clock
				assert.LessOrEqual(t, atoi(t, ma[2]), 2, key)
				assert.LessOrEqual(t, atoi(t, mb[2]), 2, key)
			}
		}
	}
	// A list of several quicklist nodes, as RPUSH fills them; its RDB
	// strings are listpacks that Redis may compress, so serializedlength
	// is not compared.
	rng := rand.New(rand.NewPCG(1, 2))
	push := []string{"RPUSH", "biglist"}
	for range 400 {
		b := make([]byte, 20+rng.IntN(200))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		push = append(push, string(b))
	}
	p.same(t, push...)
	a, b := p.do(t, "DEBUG", "OBJECT", "biglist")
	ql := regexp.MustCompile(` ql_.*`)
	assert.Equal(t, ql.FindString(b.str), ql.FindString(a.str))
	assert.Contains(t, a.str, " encoding:quicklist ")
	p.same(t, "DEBUG", "DIGEST")
	p.same(t, "DEBUG", "DIGEST-VALUE", "biglist")
	p.same(t, "SELECT", "3")
	p.same(t, "SET", "k", "v")
	p.same(t, "DEBUG", "DIGEST") // the database's number counts
	p.same(t, "FLUSHALL")
	v := p.same(t, "DEBUG", "DIGEST")
	require.Equal(t, "+0000000000000000000000000000000000000000\r\n", string(v.raw))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

// TestDebugHelp: DEBUG HELP lists the subcommands sessiond has, in
// Redis's words.
func TestDebugHelp(t *testing.T) {
	s := dialRaw(t, testserver.Start(t, testserver.WithConfig("enable-debug-command", "yes")).Addr)
	v, err := s.do("DEBUG", "HELP")
	require.NoError(t, err)
	var lines []string
	for _, e := range v.elems {
		lines = append(lines, e.str)
	}
	require.Equal(t, "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", lines[0])
	var subs []string
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, " ") {
			subs = append(subs, strings.Fields(l)[0])
		}
	}
	require.Equal(t, []string{"DIGEST", "DIGEST-VALUE", "ERROR", "LOG", "OBJECT", "RELOAD", "SET-ACTIVE-EXPIRE", "SLEEP", "HELP"}, subs)
}

// TestDebugObjectIdle: DEBUG OBJECT's lru_seconds_idle is OBJECT
// IDLETIME's, and DEBUG OBJECT touches nothing.
func TestDebugObjectIdle(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	s := dialRaw(t, testserver.Start(t, testserver.WithClock(clk), testserver.WithConfig("enable-debug-command", "yes")).Addr)
	do := func(args ...string) string {
		v, err := s.do(args...)
		require.NoError(t, err)
		return v.str
	}
	do("SET", "k", "v")
	clk.Advance(30 * time.Second)
	require.Contains(t, do("DEBUG", "OBJECT", "k"), " lru_seconds_idle:30")
	clk.Advance(5 * time.Second)
	require.Contains(t, do("DEBUG", "OBJECT", "k"), " lru_seconds_idle:35")
	require.Equal(t, "35", do("OBJECT", "IDLETIME", "k"))
	lru := regexp.MustCompile(` lru:(\d+) `).FindStringSubmatch(do("DEBUG", "OBJECT", "k"))
	require.NotNil(t, lru)
	require.Equal(t, strconv.FormatInt((1_700_000_000_000/1000)&(1<<24-1), 10), lru[1]) // LRU_CLOCK at the SET
	// A key past its deadline, not yet reclaimed, is found, as in Redis.
	do("DEBUG", "SET-ACTIVE-EXPIRE", "0")
	do("SET", "gone", "v", "PX", "10")
	clk.Advance(time.Second)
	require.Contains(t, do("DEBUG", "OBJECT", "gone"), " encoding:embstr ")
}

// TestDebugSleepBlocksOthers: DEBUG SLEEP stops the server as Redis's
// does: a command another client sends meanwhile waits for it. Inside
// MULTI it sleeps at EXEC. Close ends a long sleep.
func TestDebugSleepBlocksOthers(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("enable-debug-command", "yes"))
	a, b := dialRaw(t, sd.Addr), dialRaw(t, sd.Addr)
	const sleep = 600 * time.Millisecond
	start := time.Now()
	_, err := a.c.Write(encodeCommand([]string{"DEBUG", "SLEEP", "0.6"}))
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // DEBUG has the server by now
	v, err := b.do("PING")
	require.NoError(t, err)
	require.Equal(t, "+PONG\r\n", string(v.raw))
	require.GreaterOrEqual(t, time.Since(start), sleep, "PING was answered during the sleep")
	v, err = readReply(a.br)
	require.NoError(t, err)
	require.Equal(t, "+OK\r\n", string(v.raw))

	for _, args := range [][]string{{"MULTI"}, {"DEBUG", "SLEEP", "0.2"}, {"PING"}} {
		_, err := a.do(args...)
		require.NoError(t, err)
	}
	start = time.Now()
	v, err = a.do("EXEC")
	require.NoError(t, err)
	require.Equal(t, "*2\r\n+OK\r\n+PONG\r\n", string(v.raw))
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)

	_, err = a.c.Write(encodeCommand([]string{"DEBUG", "SLEEP", "3600"}))
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	sd.Server.Close()
	require.Less(t, time.Since(start), 5*time.Second)
}

// TestDebugSetActiveExpire: with DEBUG SET-ACTIVE-EXPIRE 0 the expiry
// wheel reclaims nothing, so expired keys stay counted (DBSIZE) until a
// command reaches them (reads see them absent; a write reclaims them); 1
// turns it back on.
func TestDebugSetActiveExpire(t *testing.T) {
	clk := clocktest.NewFake(time.UnixMilli(1_700_000_000_000))
	s := dialRaw(t, testserver.Start(t, testserver.WithClock(clk), testserver.WithConfig("enable-debug-command", "yes")).Addr)
	do := func(args ...string) string {
		v, err := s.do(args...)
		require.NoError(t, err)
		return string(v.raw)
	}
	require.Equal(t, "+OK\r\n", do("DEBUG", "SET-ACTIVE-EXPIRE", "0"))
	do("SET", "a", "v", "PX", "100")
	do("SET", "b", "v", "PX", "100")
	do("SET", "c", "v", "PX", "100")
	clk.Advance(time.Second)
	time.Sleep(200 * time.Millisecond) // the wheel ticks every 10 ms of real time
	require.Equal(t, ":3\r\n", do("DBSIZE"))
	require.Equal(t, "$-1\r\n", do("GET", "a"))
	require.Equal(t, ":0\r\n", do("DEL", "a"))
	require.Equal(t, ":2\r\n", do("DBSIZE"))

	require.Equal(t, "+OK\r\n", do("DEBUG", "SET-ACTIVE-EXPIRE", "1"))
	require.Eventually(t, func() bool { return do("DBSIZE") == ":0\r\n" }, 5*time.Second, 10*time.Millisecond)
	do("SET", "d", "v", "PX", "100")
	clk.Advance(time.Second)
	require.Eventually(t, func() bool { return do("DBSIZE") == ":0\r\n" }, 5*time.Second, 10*time.Millisecond)
}

// TestDebugSetActiveExpireMatchesRedis: the same with Redis, on real time.
func TestDebugSetActiveExpireMatchesRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t, testserver.WithConfig("enable-debug-command", "yes")).Addr,
		testserver.StartRedis(t, "--enable-debug-command", "yes").Addr)
	p.same(t, "DEBUG", "SET-ACTIVE-EXPIRE", "0")
	p.same(t, "SET", "a", "v", "PX", "20")
	p.same(t, "SET", "b", "v", "PX", "20")
	time.Sleep(300 * time.Millisecond) // Redis's active expiry runs 10 times a second
	p.same(t, "DBSIZE")
	p.same(t, "GET", "a")
	p.same(t, "DEL", "a")
	p.same(t, "DBSIZE")
	p.same(t, "DEBUG", "SET-ACTIVE-EXPIRE", "1")
	time.Sleep(300 * time.Millisecond)
	p.same(t, "DBSIZE")
}

// testPersistence is cmd/sessiond's adapter of the snapshot manager.
type testPersistence struct{ m *snapshot.Manager }

func (p testPersistence) Save() error   { return p.m.Save() }
func (p testPersistence) BGSave() error { return p.m.BGSave() }
func (p testPersistence) Exclusive(save bool, fn func() error) error {
	return p.m.Exclusive(save, fn)
}
func (p testPersistence) LastSave() int64 { return p.m.LastSave() }
func (p testPersistence) Info() resp.PersistInfo {
	return resp.PersistInfo{LastSaveTime: p.m.LastSave()}
}

// TestDebugReloadMatchesRedis: DEBUG RELOAD saves, flushes and loads the
// snapshot back, with its options, as Redis does: the dataset's digest is
// unchanged, and the same as Redis's, and the function libraries are
// back; a missing file fails the load after the flush.
func TestDebugReloadMatchesRedis(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("enable-debug-command", "yes"))
	sd.Server.SetPersistence(testPersistence{snapshot.NewManager(snapshot.ManagerOptions{
		Keyspace: sd.Keyspace, Dir: func() string { return sd.Config.Get("dir") },
		File: func() string { return sd.Config.Get("dbfilename") }, Functions: sd.Server.Functions,
	})})
	red := testserver.StartRedis(t, "--enable-debug-command", "yes")
	p := newPair(t, sd.Addr, red.Addr)
	lib := "#!lua name=lib\nredis.register_function('f', function() return 1 end)"
	for _, args := range [][]string{
		{"SET", "s", "v"}, {"SET", "n", "12"}, {"SET", "t", "v", "EX", "1000"}, {"RPUSH", "l", "a", "b"},
		{"SADD", "set", "1", "x"}, {"HSET", "h", "f", "v"}, {"ZADD", "z", "1.5", "m"}, {"XADD", "x", "1-1", "f", "v"},
		{"SELECT", "2"}, {"SET", "other", "db"}, {"SELECT", "0"}, {"FUNCTION", "LOAD", lib},
	} {
		p.same(t, args...)
	}
	before := p.same(t, "DEBUG", "DIGEST")
	for _, args := range []string{"DEBUG RELOAD x", "DEBUG RELOAD MERGE bad", "DEBUG RELOAD", "DEBUG RELOAD NOSAVE"} {
		p.same(t, strings.Fields(args)...)
		require.Equal(t, string(before.raw), string(p.same(t, "DEBUG", "DIGEST").raw), args)
	}
	p.same(t, "FCALL", "f", "0")
	p.same(t, "DEBUG", "RELOAD", "NOSAVE", "NOFLUSH") // the library is loaded already
	p.same(t, "DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE")
	p.same(t, "FCALL", "f", "0")
	p.same(t, "DBSIZE")
	p.same(t, "TTL", "t")

	// A file that is gone: the flush happens, the load fails.
	require.NoError(t, os.Remove(filepath.Join(sd.Config.Get("dir"), sd.Config.Get("dbfilename"))))
	require.NoError(t, os.Remove(filepath.Join(red.Dir, "dump.rdb")))
	p.same(t, "DEBUG", "RELOAD", "NOSAVE")
	p.same(t, "DBSIZE")
}

// TestDebugReloadWaitsForSaves: a background save that walked the keyspace
// while DEBUG RELOAD emptied and refilled it wrote a partial snapshot (the
// next reload then had 36k of 200k keys), and a DEBUG RELOAD while one
// ran answered a bare "ERR". The reload now waits for the save and holds
// new ones off until it is done.
func TestDebugReloadWaitsForSaves(t *testing.T) {
	sd := testserver.Start(t, testserver.WithConfig("enable-debug-command", "yes"))
	m := snapshot.NewManager(snapshot.ManagerOptions{
		Keyspace: sd.Keyspace, Dir: func() string { return sd.Config.Get("dir") },
		File: func() string { return sd.Config.Get("dbfilename") }, Functions: sd.Server.Functions,
	})
	sd.Server.SetPersistence(testPersistence{m})
	c := dialRaw(t, sd.Addr)
	do := func(want string, args ...string) {
		t.Helper()
		v, err := c.do(args...)
		require.NoError(t, err)
		require.Equal(t, want, string(v.raw), "%q", args)
	}
	const keys = "200000"
	do(":"+keys+"\r\n", "EVAL", "for i = 1, tonumber(ARGV[1]) do redis.call('SET', 'k' .. i, i) end return redis.call('DBSIZE')", "0", keys)
	do("+OK\r\n", "SAVE")
	for _, reload := range [][]string{{"DEBUG", "RELOAD", "NOSAVE"}, {"DEBUG", "RELOAD"}} {
		do("+Background saving started\r\n", "BGSAVE")
		do("+OK\r\n", reload...)
		do(":"+keys+"\r\n", "DBSIZE")
		m.Wait()
		do("+OK\r\n", "DEBUG", "RELOAD", "NOSAVE") // what the save wrote
		do(":"+keys+"\r\n", "DBSIZE")
	}
}
