package resp_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
	"sessiond/resp"
	"sessiond/snapshot"
)

// Tests of REPLCONF, SYNC and PSYNC (cmd_sync.go): backups with the real
// `redis-cli --rdb`, checked by redis-check-rdb and loaded by a real
// redis-server, and the replies compared with redis-server's.

// redisTool returns the path of a Redis binary, skipping the test loudly
// when it is missing, or failing it under CI=true (CI must run these).
func redisTool(t *testing.T, name string) string {
	t.Helper()
	if name == "redis-server" {
		return testserver.RedisServerPath(t)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("SKIPPING: %s is not on PATH, so redis-cli --rdb compatibility is NOT verified "+
			"(apt-get install redis-tools redis-server); with CI=true this is a failure", name)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// runRedisCLI runs redis-cli against addr and returns its combined output.
func runRedisCLI(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	bin := redisTool(t, "redis-cli")
	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	return string(out), err
}

// fillForSync writes strings, sets, hashes, sorted sets and lists, some
// with TTLs, small and large (several list nodes, a hash and a sorted set
// past Redis's listpack limits), into databases 0, 1, 7 and 15.
func fillForSync(t *testing.T, addr string) {
	t.Helper()
	ctx := context.Background()
	big := strings.Repeat("0123456789abcdef", 1300) // over a list node's 8 KiB
	for _, db := range []int{0, 1, 7, 15} {
		c := goredis.NewClient(&goredis.Options{Addr: addr, DB: db, Protocol: 2})
		p := c.Pipeline()
		pre := fmt.Sprintf("db%d:", db)
		p.Set(ctx, pre+"str", "session-value", 0)
		p.Set(ctx, pre+"int", "12345", 0)
		p.Set(ctx, pre+"neg", "-7", 0)
		p.Set(ctx, pre+"lead0", "00012", 0)
		p.Set(ctx, pre+"bin", "a\x00b\r\n\xff", 0)
		p.Set(ctx, pre+"empty", "", 0)
		p.Set(ctx, pre+"big", big, 0)
		p.Set(ctx, pre+"ttl", "expiring", 90*time.Minute)
		p.SAdd(ctx, pre+"set", "a", "b", "c", "1", "2")
		var many []any
		for i := range 600 {
			many = append(many, strconv.Itoa(i*7))
		}
		p.SAdd(ctx, pre+"intset", many...)
		p.HSet(ctx, pre+"hash", "user", "alice", "cart", "3 items", "n", "42")
		var fields []any
		for i := range 600 {
			fields = append(fields, fmt.Sprintf("f%d", i), strings.Repeat("v", i%90))
		}
		p.HSet(ctx, pre+"bighash", fields...)
		p.ZAdd(ctx, pre+"zset", goredis.Z{Score: 1.5, Member: "a"}, goredis.Z{Score: -2, Member: "b"},
			goredis.Z{Score: 0.1, Member: "c"}, goredis.Z{Score: math.Inf(1), Member: "inf"},
			goredis.Z{Score: math.Inf(-1), Member: "-inf"}, goredis.Z{Score: 1e300, Member: "huge"})
		var zs []goredis.Z
		for i := range 300 {
			zs = append(zs, goredis.Z{Score: float64(i) / 3, Member: fmt.Sprintf("m%03d", i)})
		}
		p.ZAdd(ctx, pre+"bigzset", zs...)
		p.RPush(ctx, pre+"list", "x", "1", "", "-3", big, "y")
		var elems []any
		for i := range 2000 {
			elems = append(elems, fmt.Sprintf("job-%d", i))
		}
		p.RPush(ctx, pre+"queue", elems...)
		p.PExpire(ctx, pre+"set", 2*time.Hour+123*time.Millisecond)
		p.Expire(ctx, pre+"bighash", 24*time.Hour)
		p.PExpire(ctx, pre+"zset", 3*time.Hour+7*time.Millisecond)
		p.Expire(ctx, pre+"queue", 30*24*time.Hour)
		p.ExpireAt(ctx, pre+"int", time.Now().Add(400*24*time.Hour))
		_, err := p.Exec(ctx)
		require.NoError(t, err)
		c.Close()
	}
}

// dumpDataset describes every key of every database at addr: its type,
// its whole value (sets and hashes sorted, sorted sets and lists in order)
// and its absolute expiry in ms (PEXPIRETIME, which a transfer keeps
// exactly).
func dumpDataset(t *testing.T, addr string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for db := range 16 {
		c := goredis.NewClient(&goredis.Options{Addr: addr, DB: db, Protocol: 2})
		keys, err := c.Keys(ctx, "*").Result()
		require.NoError(t, err)
		for _, k := range keys {
			typ, err := c.Type(ctx, k).Result()
			require.NoError(t, err)
			var v any
			switch typ {
			case "string":
				v, err = c.Get(ctx, k).Result()
			case "set":
				var m []string
				m, err = c.SMembers(ctx, k).Result()
				slices.Sort(m)
				v = m
			case "hash":
				v, err = c.HGetAll(ctx, k).Result() // a map: printed sorted
			case "zset":
				v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
			case "list":
				v, err = c.LRange(ctx, k, 0, -1).Result()
			default:
				t.Fatalf("db %d key %q: unexpected type %s", db, k, typ)
			}
			require.NoError(t, err)
			exp, err := c.Do(ctx, "PEXPIRETIME", k).Int64()
			require.NoError(t, err)
			out[fmt.Sprintf("%d/%q", db, k)] = fmt.Sprintf("%s %d %q", typ, exp, fmt.Sprint(v))
		}
		c.Close()
	}
	return out
}

// loadInRedis starts a redis-server on the RDB file at path.
func loadInRedis(t *testing.T, path string) *testserver.Redis {
	t.Helper()
	return testserver.StartRedis(t, "--dir", filepath.Dir(path), "--dbfilename", filepath.Base(path))
}

// TestSyncRedisCLIRdb backs sessiond up with the real `redis-cli --rdb`,
// with event loops and with a goroutine per connection: redis-check-rdb
// accepts the file, and a real redis-server loading it holds every key,
// value and TTL sessiond holds.
func TestSyncRedisCLIRdb(t *testing.T) {
	checker := redisTool(t, "redis-check-rdb")
	redisTool(t, "redis-server")
	for _, loops := range []string{"0", "-1"} {
		t.Run("event-loops="+loops, func(t *testing.T) {
			sess := testserver.Start(t, testserver.WithConfig("event-loops", loops))
			fillForSync(t, sess.Addr)
			want := dumpDataset(t, sess.Addr)
			require.Len(t, want, 4*16)
			before := infoField(t, sess.Addr, "persistence", "rdb_changes_since_last_save")

			path := filepath.Join(t.TempDir(), "backup.rdb")
			out, err := runRedisCLI(t, sess.Addr, "--rdb", path)
			require.NoError(t, err, out)
			require.Contains(t, out, "Transfer finished with success")
			require.Contains(t, out, "until EOF marker") // the diskless form, as redis-cli asks for

			chk, err := exec.Command(checker, path).CombinedOutput()
			require.NoError(t, err, "%s", chk)
			require.Contains(t, string(chk), "RDB looks OK")
			require.Contains(t, string(chk), fmt.Sprintf("%d keys read", len(want)))

			red := loadInRedis(t, path)
			have := dumpDataset(t, red.Addr)
			assert.Equal(t, want, have)

			// The server goes on; the transfer counts as a full sync and
			// is not a save.
			require.Equal(t, "1", infoField(t, sess.Addr, "stats", "sync_full"))
			require.Equal(t, before, infoField(t, sess.Addr, "persistence", "rdb_changes_since_last_save"))
		})
	}
}

// TestSyncRedisCLIFunctionsRdb: `redis-cli --functions-rdb` gets an RDB
// with the function libraries and no keys, which redis-check-rdb and
// redis-server accept; `redis-cli --rdb` gets both.
func TestSyncRedisCLIFunctionsRdb(t *testing.T) {
	checker := redisTool(t, "redis-check-rdb")
	redisTool(t, "redis-server")
	sess := testserver.Start(t)
	fillForSync(t, sess.Addr)
	c := dialRaw(t, sess.Addr)
	v, err := c.do("FUNCTION", "LOAD", "#!lua name=backup\nredis.register_function('bf', function(keys, args) return 'backed up' end)")
	require.NoError(t, err)
	require.Equal(t, "backup", v.str)
	for _, flag := range []string{"--functions-rdb", "--rdb"} {
		path := filepath.Join(t.TempDir(), "functions.rdb")
		out, err := runRedisCLI(t, sess.Addr, flag, path)
		require.NoError(t, err, out)
		require.Contains(t, out, "Transfer finished with success")
		chk, err := exec.Command(checker, path).CombinedOutput()
		require.NoError(t, err, "%s", chk)
		require.Contains(t, string(chk), "RDB looks OK")
		red := loadInRedis(t, path)
		if flag == "--functions-rdb" {
			require.Contains(t, string(chk), "0 keys read")
			require.Empty(t, dumpDataset(t, red.Addr))
		} else {
			require.NotEmpty(t, dumpDataset(t, red.Addr))
		}
		rc := dialRaw(t, red.Addr)
		v, err = rc.do("FCALL", "bf", "0")
		require.NoError(t, err)
		require.Equal(t, "backed up", v.str)
	}
	// A filter without "functions" leaves them out, as Redis does.
	raw := dialRaw(t, sess.Addr)
	for _, args := range [][]string{{"REPLCONF", "capa", "eof"}, {"REPLCONF", "rdb-only", "1"}, {"REPLCONF", "rdb-filter-only", ""}} {
		v, err := raw.do(args...)
		require.NoError(t, err)
		require.Equal(t, okR, string(v.raw))
	}
	_, err = raw.c.Write(encodeCommand([]string{"SYNC"}))
	require.NoError(t, err)
	line, err := raw.br.ReadString('\n')
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(line, "$EOF:"), line)
	mark := strings.TrimSpace(line[5:])
	body, err := io.ReadAll(raw.br)
	require.NoError(t, err)
	body = bytes.TrimSuffix(body, []byte(mark))
	d, err := snapshot.NewDecoder(bytes.NewReader(body), snapshot.DecoderOptions{OnFunction: func(code []byte) error {
		t.Errorf("a library in a transfer without functions: %q", code)
		return nil
	}})
	require.NoError(t, err)
	_, err = d.Next()
	require.ErrorIs(t, err, io.EOF)
}

// TestSyncRedisCLIReplicaRefused: `redis-cli --replica` asks for a
// replication stream, which sessiond does not have: it exits with
// sessiond's error instead of waiting for writes that never come.
func TestSyncRedisCLIReplicaRefused(t *testing.T) {
	sess := testserver.Start(t)
	out, err := runRedisCLI(t, sess.Addr, "--replica")
	require.Error(t, err, out)
	require.Contains(t, out, "SYNC with master failed: -ERR sessiond does not support replication")
	c := dialRaw(t, sess.Addr)
	v, err := c.do("PING")
	require.NoError(t, err)
	require.Equal(t, "PONG", v.str)
}

// infoField returns one field of an INFO section.
func infoField(t *testing.T, addr, section, field string) string {
	t.Helper()
	c := dialRaw(t, addr)
	defer c.close()
	v, err := c.do("INFO", section)
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(field) + `:(.*)\r$`).FindStringSubmatch(v.str)
	require.NotNil(t, m, "INFO %s has no %s:\n%s", section, field, v.str)
	return m[1]
}

// decodeRDB reads an RDB payload with sessiond's reader and returns its
// AUX fields and the number of keys per database.
func decodeRDB(t *testing.T, payload []byte) (map[string]string, map[int]int) {
	t.Helper()
	d, err := snapshot.NewDecoder(bytes.NewReader(payload), snapshot.DecoderOptions{})
	require.NoError(t, err)
	defer d.Close()
	keys := map[int]int{}
	for {
		r, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		keys[r.DB]++
	}
	return d.Aux(), keys
}

// readToEOF reads what is left on the connection and requires that the
// server then closes it, as Redis closes an rdb-only replica.
func readToEOF(t *testing.T, c *rconn) []byte {
	t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(c.br)
	require.NoError(t, err, "the server must close the connection after the RDB")
	return rest
}

// TestSyncPsyncFullResync: PSYNC after REPLCONF rdb-only 1 answers
// +FULLRESYNC with the replication id INFO reports and offset 0, then
// "$<len>" and an RDB of that length (no capa eof), and closes; SYNC with
// capa eof sends "$EOF:<mark>", the RDB and the mark. Pipelined REPLCONFs
// are answered before the payload.
func TestSyncPsyncFullResync(t *testing.T) {
	sess := testserver.Start(t)
	fillForSync(t, sess.Addr)
	replid := infoField(t, sess.Addr, "replication", "master_replid")
	require.Regexp(t, `^[0-9a-f]{40}$`, replid)
	wantKeys := map[int]int{0: 16, 1: 16, 7: 16, 15: 16}

	t.Run("psync sized", func(t *testing.T) {
		c := dialRaw(t, sess.Addr)
		v, err := c.do("REPLCONF", "listening-port", "6380", "rdb-only", "1")
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", string(v.raw))
		v, err = c.do("PSYNC", "?", "-1")
		require.NoError(t, err)
		require.Equal(t, "+FULLRESYNC "+replid+" 0\r\n", string(v.raw))
		line, err := c.br.ReadString('\n')
		require.NoError(t, err)
		require.Regexp(t, `^\$[0-9]+\r\n$`, line)
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		rest := readToEOF(t, c)
		require.Len(t, rest, n)
		aux, keys := decodeRDB(t, rest)
		require.Equal(t, wantKeys, keys)
		require.Equal(t, replid, aux["repl-id"])
		require.Equal(t, "0", aux["repl-offset"])
		left, err := filepath.Glob(filepath.Join(sess.Config.Get("dir"), "temp-*"))
		require.NoError(t, err)
		require.Empty(t, left, "the temporary RDB file is removed")
	})

	t.Run("sized without a usable dir", func(t *testing.T) {
		dir := sess.Config.Get("dir")
		file := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(file, nil, 0o644))
		require.NoError(t, sess.Config.Set("dir", filepath.Join(file, "sub")))
		defer sess.Config.Set("dir", dir)
		c := dialRaw(t, sess.Addr)
		v, err := c.do("REPLCONF", "rdb-only", "1")
		require.NoError(t, err)
		require.Equal(t, "+OK\r\n", string(v.raw))
		v, err = c.do("SYNC")
		require.NoError(t, err)
		require.True(t, v.isErr())
		require.Contains(t, v.str, "ERR RDB transfer failed: ")
		require.Empty(t, readToEOF(t, c))
	})

	t.Run("sync eof mark pipelined", func(t *testing.T) {
		c := dialRaw(t, sess.Addr)
		_, err := c.c.Write([]byte("REPLCONF capa eof capa psync2\r\nREPLCONF rdb-only 1\r\nSYNC\r\n"))
		require.NoError(t, err)
		for range 2 {
			v, err := readReply(c.br)
			require.NoError(t, err)
			require.Equal(t, "+OK\r\n", string(v.raw))
		}
		line, err := c.br.ReadString('\n')
		require.NoError(t, err)
		require.Regexp(t, `^\$EOF:[0-9a-f]{40}\r\n$`, line)
		mark := line[5:45]
		rest := readToEOF(t, c)
		require.True(t, bytes.HasSuffix(rest, []byte(mark)), "the payload ends with the mark")
		_, keys := decodeRDB(t, rest[:len(rest)-len(mark)])
		require.Equal(t, wantKeys, keys)
	})

	t.Run("filtered psync", func(t *testing.T) {
		c := dialRaw(t, sess.Addr)
		for _, cmd := range [][]string{{"REPLCONF", "capa", "eof"}, {"REPLCONF", "rdb-only", "1"}, {"REPLCONF", "rdb-filter-only", "functions"}} {
			v, err := c.do(cmd...)
			require.NoError(t, err)
			require.Equal(t, "+OK\r\n", string(v.raw))
		}
		v, err := c.do("PSYNC", "?", "-1")
		require.NoError(t, err)
		require.Equal(t, "+FULLRESYNC "+replid+" 0\r\n", string(v.raw))
		line, err := c.br.ReadString('\n')
		require.NoError(t, err)
		mark := strings.TrimSuffix(strings.TrimPrefix(line, "$EOF:"), "\r\n")
		rest := readToEOF(t, c)
		_, keys := decodeRDB(t, bytes.TrimSuffix(rest, []byte(mark)))
		require.Empty(t, keys)
	})

	require.Equal(t, "4", infoField(t, sess.Addr, "stats", "sync_full"))
	c := dialRaw(t, sess.Addr)
	_, err := c.do("CONFIG", "RESETSTAT")
	require.NoError(t, err)
	require.Equal(t, "0", infoField(t, sess.Addr, "stats", "sync_full"))
}

// TestSyncWithoutRdbOnlyRefused: SYNC and PSYNC without REPLCONF rdb-only 1
// (a replica that wants the replication stream) get an error, and the
// connection goes on.
func TestSyncWithoutRdbOnlyRefused(t *testing.T) {
	sess := testserver.Start(t)
	c := dialRaw(t, sess.Addr)
	const msg = "-ERR sessiond does not support replication: only REPLCONF rdb-only 1 transfers (redis-cli --rdb) are served\r\n"
	for _, cmd := range [][]string{{"SYNC"}, {"PSYNC", "?", "-1"}, {"REPLCONF", "capa", "eof", "rdb-only", "0"}, {"PSYNC", "0123", "5"}} {
		v, err := c.do(cmd...)
		require.NoError(t, err)
		if cmd[0] != "REPLCONF" {
			require.Equal(t, msg, string(v.raw), "%q", cmd)
		}
	}
	v, err := c.do("PING")
	require.NoError(t, err)
	require.Equal(t, "PONG", v.str)
	require.Equal(t, "0", infoField(t, sess.Addr, "stats", "sync_full"))
}

// TestSyncReplconfMatchesRedis compares REPLCONF's replies, and the errors
// of SYNC and PSYNC that Redis gives before any transfer (in MULTI, from a
// script, a filter without capa eof, a bad offset, wrong arity), with
// redis-server's, byte for byte. ACK and GETACK answer nothing, so each is
// followed by a PING whose reply must come next.
func TestSyncReplconfMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sess := testserver.Start(t)
	long := strings.Repeat("h", 256)
	sequences := [][][]string{
		{{"REPLCONF"}, {"REPLCONF", "a"}, {"REPLCONF", "foo", "bar"}, {"REPLCONF", "listening-port", "x"},
			{"REPLCONF", "listening-port", "99999999999999999999"}, {"REPLCONF", "listening-port", "+1"},
			{"REPLCONF", "listening-port", "6380"}, {"REPLCONF", "LISTENING-PORT", "-1"},
			{"REPLCONF", "ip-address", long}, {"REPLCONF", "ip-address", long[1:]},
			{"REPLCONF", "rdb-only", "2"}, {"REPLCONF", "rdb-only", "x"}, {"REPLCONF", "rdb-only", "-1"},
			{"REPLCONF", "rdb-only", "01"}, {"REPLCONF", "rdb-only", "1", "foo", "bar"}, {"REPLCONF", "rdb-only", "0"},
			{"REPLCONF", "rdb-filter-only", "a b"}, {"REPLCONF", "rdb-filter-only", "\"x"},
			{"REPLCONF", "rdb-filter-only", "functions nope"}, {"REPLCONF", "rdb-filter-only", "\"bad\\nline\""},
			{"REPLCONF", "rdb-filter-only", "bad\x00nul"}, {"REPLCONF", "unknown\nopt", "1"},
			{"REPLCONF", "capa", "foo", "capa", "eof"}, {"REPLCONF", "capa", "psync2"},
			{"REPLCONF", "ack", "5"}, {"PING"}, {"REPLCONF", "ack", "x"}, {"PING"}, {"REPLCONF", "ack"},
			{"REPLCONF", "getack", "*"}, {"PING"}, {"REPLCONF", "capa", "eof", "ack", "1", "foo", "bar"}, {"PING"},
			{"REPLCONF", "rdb-filter-only", ""}, {"REPLCONF", "rdb-filter-only", "FUNCTIONS"},
			{"SYNC", "x"}, {"PSYNC"}, {"PSYNC", "?"}},
		// A filtered replica needs capa eof, before anything else is looked at.
		{{"REPLCONF", "rdb-filter-only", "functions"}, {"SYNC"}, {"PSYNC", "?", "x"}},
		{{"REPLCONF", "capa", "eof"}, {"PSYNC", "?", "x"}, {"PSYNC", "?", "1.5"}},
		{{"MULTI"}, {"SYNC"}, {"PSYNC", "?", "-1"}, {"REPLCONF", "rdb-only", "1"}, {"EXEC"}},
		{{"EVAL", "return redis.call('sync')", "0"}, {"EVAL", "return redis.pcall('psync', '?', '-1')", "0"},
			{"EVAL", "return redis.call('replconf', 'rdb-only', '1')", "0"}},
	}
	for i, seq := range sequences {
		rc, sc := dialRaw(t, red.Addr), dialRaw(t, sess.Addr)
		for _, cmd := range seq {
			send := func(c *rconn) string {
				c.c.SetDeadline(time.Now().Add(5 * time.Second))
				_, err := c.c.Write(encodeCommand(cmd))
				require.NoError(t, err)
				if strings.EqualFold(cmd[0], "replconf") && len(cmd) > 1 && slices.ContainsFunc(cmd[1:], func(a string) bool {
					return strings.EqualFold(a, "ack") || strings.EqualFold(a, "getack")
				}) && len(cmd)%2 == 1 {
					return "" // no reply: the PING that follows tells
				}
				v, err := readReply(c.br)
				require.NoError(t, err)
				return string(v.raw)
			}
			want, have := send(rc), send(sc)
			assert.Equal(t, want, have, "sequence %d: %q", i, cmd)
		}
		rc.close()
		sc.close()
	}
}

// TestSyncClientGoneMidTransfer: while a client that asked for a large RDB
// does not read it, other clients are served (plain commands and EXEC,
// which would wait for a global lock); when it disconnects mid-transfer
// the transfer's goroutine ends, and the server goes on. A client that
// stays connected but reads nothing is dropped after the write timeout.
func TestSyncClientGoneMidTransfer(t *testing.T) {
	const keys = 3000
	for _, loops := range []string{"0", "-1"} {
		t.Run("event-loops="+loops, func(t *testing.T) {
			sess := testserver.Start(t, testserver.WithConfig("event-loops", loops))
			val := bytes.Repeat([]byte("s"), 4000)
			for i := range keys { // 12 MB of RDB: far more than the socket buffers hold
				sess.Keyspace.RestoreString(i%3, []byte(fmt.Sprintf("sess:%06d", i)), val, 0)
			}
			ctl := dialRaw(t, sess.Addr)
			v, err := ctl.do("PING")
			require.NoError(t, err)
			require.Equal(t, "PONG", v.str)
			base := runtime.NumGoroutine()

			startStalled := func() *rconn {
				c := dialSmallWindow(t, sess.Addr)
				_, err := c.c.Write([]byte("REPLCONF capa eof\r\nREPLCONF rdb-only 1\r\nSYNC\r\n"))
				require.NoError(t, err)
				c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 64<<10)
				_, err = io.ReadFull(c.br, buf) // the transfer has started
				require.NoError(t, err)
				require.Contains(t, string(buf), "$EOF:")
				return c
			}

			// Gone: the client closes with most of the RDB unsent.
			c := startStalled()
			time.Sleep(50 * time.Millisecond) // let the server fill the socket and block
			require.True(t, inTransfer(), "the transfer must wait for the client")
			for i := range 20 {
				ctl.c.SetDeadline(time.Now().Add(2 * time.Second))
				v, err := ctl.do("SET", "k", strconv.Itoa(i))
				require.NoError(t, err)
				require.Equal(t, "OK", v.str)
				_, err = ctl.c.Write([]byte("MULTI\r\nINCR n\r\nEXEC\r\n"))
				require.NoError(t, err)
				for range 3 {
					_, err := readReply(ctl.br)
					require.NoError(t, err, "EXEC must not wait for the transfer")
				}
			}
			c.close()
			waitNoTransfer(t, base)

			// Stalled: the client keeps the connection open and reads nothing.
			restore := resp.SetSyncWriteTimeout(200 * time.Millisecond)
			c = startStalled()
			waitNoTransfer(t, base)
			restore()
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.Copy(io.Discard, c.br) // what the kernel held, then the end
			require.NoError(t, err)

			v, err = ctl.do("DBSIZE")
			require.NoError(t, err)
			require.Equal(t, strconv.Itoa((keys+2)/3+2), v.str, "db 0's sessions, k and n")
			require.Equal(t, "2", infoField(t, sess.Addr, "clients", "connected_clients"), "ctl and INFO's own")

			// Closing the server ends a transfer in progress, and Close
			// waits for it (the test's cleanup closes it again).
			startStalled()
			require.Equal(t, 1, resp.ActiveTransfers(sess.Server))
			start := time.Now()
			require.NoError(t, sess.Server.Close())
			require.Less(t, time.Since(start), 2*time.Second)
			require.Zero(t, resp.ActiveTransfers(sess.Server), "Close returned with a transfer running")
		})
	}
}

// dialSmallWindow connects with a 64 KB receive buffer, so that a client
// that stops reading stops a transfer soon (a loopback connection's buffer
// may otherwise grow to tcp_rmem's maximum, tens of MB).
func dialSmallWindow(t *testing.T, addr string) *rconn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.(*net.TCPConn).SetReadBuffer(64<<10)) // before the server sends anything
	return &rconn{c: c, br: bufio.NewReader(c)}
}

// inTransfer reports whether a goroutine is in an RDB transfer.
func inTransfer() bool {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return bytes.Contains(buf[:n], []byte("resp.(*Server).transfer"))
}

// waitNoTransfer waits until no goroutine is in an RDB transfer or serves
// its connection, and the goroutine count is back to base.
func waitNoTransfer(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if !inTransfer() && runtime.NumGoroutine() <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("transfer goroutine still running (goroutines %d, base %d):\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
