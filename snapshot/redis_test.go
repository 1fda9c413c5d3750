package snapshot

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireTool returns the path of a Redis binary, skipping the test when it
// is missing, or failing it when CI=true (CI must run these tests).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		msg := fmt.Sprintf("%s not on PATH: Redis compatibility NOT verified "+
			"(install redis-server/redis-tools; with CI=true this is a failure)", name)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// startRedis runs redis-server on a free port with dir as its working
// directory (loading dir/dump.rdb if present), and any extra arguments,
// and returns a client. The server is killed when the test ends.
func startRedis(t *testing.T, dir string, extra ...string) *respConn {
	t.Helper()
	bin := requireTool(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())

	var log bytes.Buffer
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--dir", dir, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--protected-mode", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout = &log
	cmd.Stderr = &log
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("redis-server log:\n%s", log.String())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("redis-server exited: %v\n%s", err, log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			rc := &respConn{t: t, c: c, r: bufio.NewReader(c)}
			t.Cleanup(func() { c.Close() })
			if reply, err := rc.do("PING"); err == nil && reply == "PONG" {
				return rc
			}
			c.Close() // still loading
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server not ready on %s:\n%s", addr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// respConn is a minimal RESP2 client: enough for the tests.
type respConn struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

// do sends a command and returns the reply: string (simple or bulk), nil
// (null bulk), int64, []any, or an error for an error reply.
func (rc *respConn) do(args ...string) (any, error) {
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := rc.c.Write(b); err != nil {
		return nil, err
	}
	return rc.read()
}

// must is do that fails the test on any error.
func (rc *respConn) must(args ...string) any {
	rc.t.Helper()
	v, err := rc.do(args...)
	require.NoError(rc.t, err, "%q", args)
	return v
}

func (rc *respConn) read() (any, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, errors.New(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		p := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, p); err != nil {
			return nil, err
		}
		return string(p[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = rc.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply %q", line)
}

func writeRDB(t *testing.T, dir string, aux map[string]string, recs []rec) string {
	t.Helper()
	require.NoError(t, WriteFileAtomic(dir, "dump.rdb", func(w io.Writer) error {
		_, err := w.Write(encode(t, aux, recs))
		return err
	}))
	return filepath.Join(dir, "dump.rdb")
}

// redisRecords returns random records (see randRecords) whose expiries lie in
// the future, plus one already-expired key that Redis must drop on load.
func redisRecords(t *testing.T, n int) []rec {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed=%d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	recs := randRecords(rng, n)
	now := time.Now().UnixMilli()
	for i := range recs {
		if recs[i].ExpireMs != 0 {
			recs[i].ExpireMs = now + 3_600_000 + rng.Int64N(86_400_000)
		}
	}
	recs = append(recs, rec{DB: 15, Key: "already-expired", Str: "x", ExpireMs: now - 10_000})
	return recs
}

func TestRedisCheckRDBAcceptsEncoderOutput(t *testing.T) {
	bin := requireTool(t, "redis-check-rdb")
	dir := t.TempDir()
	path := writeRDB(t, dir, map[string]string{"redis-ver": "7.0.15", "redis-bits": "64",
		"ctime": strconv.FormatInt(time.Now().Unix(), 10), "used-mem": "1000000", "aof-base": "0"},
		redisRecords(t, 400))
	out, err := exec.Command(bin, path).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "RDB looks OK")
	t.Logf("redis-check-rdb:\n%s", out)
}

func TestRedisLoadsEncoderOutput(t *testing.T) {
	requireTool(t, "redis-server")
	dir := t.TempDir()
	recs := redisRecords(t, 400)
	writeRDB(t, dir, map[string]string{"redis-ver": "7.0.15", "redis-bits": "64"}, recs)
	rc := startRedis(t, dir)

	perDB := map[int]int64{}
	for _, r := range recs {
		if r.Key != "already-expired" {
			perDB[r.DB]++
		}
	}
	for db := range NumDBs {
		rc.must("SELECT", strconv.Itoa(db))
		assert.Equal(t, perDB[db], rc.must("DBSIZE"), "db %d", db)
	}
	for _, r := range recs {
		rc.must("SELECT", strconv.Itoa(r.DB))
		if r.Key == "already-expired" {
			assert.Equal(t, int64(0), rc.must("EXISTS", r.Key), "expired key dropped on load")
			continue
		}
		switch r.Kind {
		case KindString:
			assert.Equal(t, r.Str, rc.must("GET", r.Key), "db %d key %q", r.DB, r.Key)
		case KindSet:
			var got []string
			for _, m := range rc.must("SMEMBERS", r.Key).([]any) {
				got = append(got, m.(string))
			}
			assert.ElementsMatch(t, r.Members, got, "db %d key %q", r.DB, r.Key)
		case KindHash:
			assert.Equal(t, pairMap(r.Fields), pairMap(rc.must("HGETALL", r.Key)), "db %d key %q", r.DB, r.Key)
		case KindZSet:
			want := map[string]uint64{}
			for i, m := range r.Members {
				want[m] = zeroUnsigned(r.Scores[i])
			}
			got := map[string]uint64{}
			for _, e := range redisZRange(t, rc, r.Key) {
				got[e.Member] = zeroUnsigned(e.Score)
			}
			assert.Equal(t, want, got, "db %d key %q", r.DB, r.Key)
		case KindList:
			assert.Equal(t, r.Members, redisLRange(t, rc, r.Key), "db %d key %q", r.DB, r.Key)
		}
		// Bracket the PTTL by the clock around it: a loaded machine may take
		// long over this loop, so one "now" for all keys would drift.
		before := time.Now().UnixMilli()
		pttl := rc.must("PTTL", r.Key).(int64)
		after := time.Now().UnixMilli()
		if r.ExpireMs == 0 {
			assert.Equal(t, int64(-1), pttl, "db %d key %q", r.DB, r.Key)
		} else {
			assert.True(t, pttl <= r.ExpireMs-before+1 && pttl >= r.ExpireMs-after-1,
				"db %d key %q: pttl %d, deadline in %d..%d ms", r.DB, r.Key, pttl, r.ExpireMs-after, r.ExpireMs-before)
		}
	}
}

func TestDecodeRedisWrittenFile(t *testing.T) {
	requireTool(t, "redis-server")
	dir := t.TempDir()
	rc := startRedis(t, dir)
	rng := rand.New(rand.NewPCG(3, 4))

	want := map[int]map[string]rec{}
	add := func(r rec) {
		if want[r.DB] == nil {
			want[r.DB] = map[string]rec{}
		}
		want[r.DB][r.Key] = r
	}
	at := time.Now().Add(time.Hour).UnixMilli()
	for _, db := range []int{0, 3, 15} {
		rc.must("SELECT", strconv.Itoa(db))
		strs := map[string]string{
			"int":       "12345",
			"neg":       "-5",
			"big-int":   "9223372036854775807", // longer than int32: stored plain
			"zero-pad":  "00012",
			"empty":     "",
			"hello":     "hello",
			"lzf-run":   strings.Repeat("a", 10000),
			"lzf-text":  strings.Repeat("session:user=42;role=admin;", 50),
			"binary":    randBytes(rng, 200),
			"large-raw": randBytes(rng, 100_000),
			// Keys and members are LZF-compressed too when long enough.
			"long-key-" + strings.Repeat("z", 40): "v",
		}
		for k, v := range strs {
			rc.must("SET", k, v)
			add(rec{DB: db, Key: k, Str: v})
		}
		sets := map[string][]string{
			"intset16":  {"1", "2", "3", "-7"},
			"intset32":  {"-70000", "1", "70000"},
			"intset64":  {"5000000000", "-5000000000", "0"},
			"small-str": {"a", "b", "c", ""},
			"mixed":     {"1", "two", "3"},
			"lzf-members": {strings.Repeat("m", 60), strings.Repeat("n", 60) + "x",
				strings.Repeat("o", 30000)},
		}
		var big, bigInts []string
		for i := range 1000 {
			big = append(big, "member:"+strconv.Itoa(i))
			bigInts = append(bigInts, strconv.Itoa(i*7))
		}
		sets["big"] = big
		sets["big-ints"] = bigInts
		for k, ms := range sets {
			rc.must(append([]string{"SADD", k}, ms...)...)
			add(rec{DB: db, Key: k, Kind: KindSet, Members: ms})
		}
		// Small hashes are listpacks (type 16), with integer entries; a
		// long value or more than 512 fields makes a hash table (type 4).
		hashes := map[string][]string{
			"session": {"creationTime", "1718000000000", "maxInactiveInterval", "1800", "i8", "-5",
				"empty", "", "", "empty-field", "attr:user", `{"id":42,"name":"x"}`, "i64", "-9223372036854775808"},
			"long-value": {"f", strings.Repeat("v", 65), "g", "1"},
			"lzf-value":  {"f", strings.Repeat("session-data;", 100)},
		}
		var bigHash []string
		for i := range 600 {
			bigHash = append(bigHash, "field:"+strconv.Itoa(i), strconv.Itoa(i*13))
		}
		hashes["big-hash"] = bigHash
		for k, pairs := range hashes {
			rc.must(append([]string{"HSET", k}, pairs...)...)
			add(rec{DB: db, Key: k, Kind: KindHash, Fields: pairs})
		}
		// Up to 128 members of up to 64 bytes are a listpack (type 17),
		// with integer entries for integral scores and members; more, or a
		// longer member, make a skiplist (type 5), whose long members are
		// LZF-compressed.
		zsets := map[string]rec{
			"zs-small": zsetRec("", []string{"alice", "bob", "zero", "neg-zero", "tenth", "big", "inf", "ninf", "7", "ts-frac"},
				1718000000123, -1.5, 0, math.Copysign(0, -1), 0.1, 1e300, math.Inf(1), math.Inf(-1), 7, 1718000000123.25),
			"zs-long-member": zsetRec("", []string{strings.Repeat("L", 100), "short"}, 1, 2),
			"zs-lzf-member":  zsetRec("", []string{strings.Repeat("session;", 20)}, -3),
		}
		var bigZ []string
		var bigScores []float64
		for i := range 200 {
			bigZ = append(bigZ, "member:"+strconv.Itoa(i))
			bigScores = append(bigScores, float64(i)*1.5-100+float64(i%7)/3)
		}
		zsets["zs-big"] = zsetRec("", bigZ, bigScores...)
		for k, z := range zsets {
			args := []string{"ZADD", k}
			for i, m := range z.Members {
				args = append(args, redisScore(z.Scores[i]), m)
			}
			rc.must(args...)
			z.DB, z.Key = db, k
			add(z)
		}
		for _, k := range []string{"int", "lzf-run", "intset16", "big", "session", "big-hash", "zs-small", "zs-big"} {
			exp := at + int64(db)*1000
			rc.must("PEXPIREAT", k, strconv.FormatInt(exp, 10))
			r := want[db][k]
			r.ExpireMs = exp
			want[db][k] = r
		}
	}
	// A function library, which sessiond does not hold, to exercise
	// SkipUnsupported.
	rc.must("FUNCTION", "LOAD", "#!lua name=sessionlib\nredis.register_function('noop', function() return 1 end)")
	rc.must("SAVE")

	path := filepath.Join(dir, "dump.rdb")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	t.Logf("dump.rdb: %d bytes, header %q", len(data), data[:9])
	assert.Less(t, len(data), 3*(100_000+200)+100_000, "long values were LZF-compressed")
	assert.True(t, bytes.Contains(data, cat([]byte{typeSetIntset}, rawStr("intset64"))), "intset encoding present")

	var skipped []string
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	got, d, err := decodeFrom(f, DecoderOptions{SkipUnsupported: true, OnSkip: func(db int, key []byte, typ string) {
		skipped = append(skipped, fmt.Sprintf("%d:%s:%s", db, key, typ))
	}})
	require.NoError(t, err)
	assert.Equal(t, 10, d.Version())
	assert.Equal(t, "7.0.15", d.Aux()["redis-ver"])
	assert.Equal(t, "64", d.Aux()["redis-bits"])
	slices.Sort(skipped)
	assert.Equal(t, []string{"0::function"}, skipped)
	assert.True(t, bytes.Contains(data, cat([]byte{typeHashListpack}, rawStr("session"))), "listpack hash present")
	assert.True(t, bytes.Contains(data, cat([]byte{typeHash}, rawStr("big-hash"))), "hash table hash present")
	assert.True(t, bytes.Contains(data, cat([]byte{typeZsetListpack}, rawStr("zs-small"))), "listpack zset present")
	for _, k := range []string{"zs-big", "zs-long-member", "zs-lzf-member"} {
		assert.True(t, bytes.Contains(data, cat([]byte{typeZset2}, rawStr(k))), "skiplist zset %s present", k)
	}

	gotMap := map[int]map[string]rec{}
	for _, r := range got {
		if gotMap[r.DB] == nil {
			gotMap[r.DB] = map[string]rec{}
		}
		require.NotContains(t, gotMap[r.DB], r.Key, "duplicate key")
		if r.Key == "session" { // a listpack keeps insertion order
			assert.Equal(t, want[r.DB][r.Key].Fields, r.Fields)
		}
		if r.Key == "zs-small" { // a listpack is in ascending order
			assertScoredOrder(t, r, 1)
		}
		if r.Key == "zs-big" { // Redis writes a skiplist from its tail
			assertScoredOrder(t, r, -1)
		}
		gotMap[r.DB][r.Key] = normalize(t, r)
	}
	for _, m := range want {
		for k, r := range m {
			m[k] = normalize(t, r)
		}
	}
	assert.Equal(t, want, gotMap)
	// Scores bit for bit, but for the sign of zero (see zeroUnsigned).
	for db, m := range want {
		for k, r := range m {
			for i, s := range r.Scores {
				assert.Equal(t, zeroUnsigned(s), zeroUnsigned(gotMap[db][k].Scores[i]), "db %d key %q member %q", db, k, r.Members[i])
			}
		}
	}

	// Without SkipUnsupported the library is an error.
	_, _, err = decodeAll(data, DecoderOptions{})
	require.ErrorIs(t, err, ErrUnsupportedType)
	assert.Contains(t, err.Error(), "function library")
}

// TestListpackParserOnRedisListpack checks parseListpack against listpacks
// Redis itself wrote. Redis 7.0 does not write listpack sets (7.2 does), but
// its small hashes are listpacks (RDB type 16) with the same entry
// encodings, integers included.
func TestListpackParserOnRedisListpack(t *testing.T) {
	requireTool(t, "redis-server")
	dir := t.TempDir()
	rc := startRedis(t, dir)
	rc.must("CONFIG", "SET", "hash-max-listpack-value", "8192")
	pairs := []string{
		"u7", "5", "u7max", "127", "i13", "-100", "i13b", "4000",
		"i16", "-30000", "i24", "8000000", "i32", "-2000000000", "i64", "1099511627776",
		"s6", "hello", "empty", "", "s12", strings.Repeat("x", 100), "s32", strings.Repeat("y", 4100),
		"bin", "\x00\xff\x80",
	}
	rc.must(append([]string{"HSET", "lp-hash"}, pairs...)...)
	rc.must("SAVE")
	data, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)

	prefix := cat([]byte{typeHashListpack}, rawStr("lp-hash"))
	i := bytes.Index(data, prefix)
	require.GreaterOrEqual(t, i, 0, "Redis wrote lp-hash as a listpack (type 16)")
	d := &Decoder{rd: newReader(bytes.NewReader(data[i+len(prefix):]))}
	blob, err := d.readString("listpack") // Redis may have LZF-compressed it
	require.NoError(t, err)
	require.NoError(t, d.parseListpack(blob))
	var got []string
	for _, m := range d.members {
		got = append(got, string(m))
	}
	assert.Equal(t, pairs, got)
}

// normalize puts a record's unordered parts in a canonical order: set
// members sorted, hash pairs and sorted set elements sorted by field or
// member.
func normalize(t *testing.T, r rec) rec {
	if r.Kind == KindZSet {
		return sortScored(t, r)
	}
	slices.Sort(r.Members)
	r.Fields = sortPairs(r.Fields)
	return r
}

// zeroUnsigned is f's bits, with -0 as 0: Redis 7.0 does not keep the
// sign of a zero score (ZADD of -0 reads back as 0 from a listpack and a
// skiplist alike, and a -0 loaded into a listpack becomes 0). The RDB
// formats carry it, and so does this package (TestZSetRoundTrip).
func zeroUnsigned(f float64) uint64 {
	if f == 0 {
		return 0
	}
	return math.Float64bits(f)
}

// redisScore formats a score for ZADD: exact, and the infinities as Redis
// spells them.
func redisScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "+inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// redisZRange returns a sorted set's elements from Redis in its order.
func redisZRange(t *testing.T, rc *respConn, key string) []scored {
	t.Helper()
	reply := rc.must("ZRANGE", key, "0", "-1", "WITHSCORES").([]any)
	require.Zero(t, len(reply)%2)
	var out []scored
	for i := 0; i < len(reply); i += 2 {
		f, err := strconv.ParseFloat(reply[i+1].(string), 64)
		require.NoError(t, err, "score %q", reply[i+1])
		out = append(out, scored{reply[i].(string), f})
	}
	return out
}

// sortScored orders a sorted set record's elements by member.
func sortScored(t *testing.T, r rec) rec {
	t.Helper()
	require.Len(t, r.Scores, len(r.Members))
	idx := make([]int, len(r.Members))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(r.Members[a], r.Members[b]) })
	out := r
	out.Members, out.Scores = nil, nil
	for _, i := range idx {
		out.Members = append(out.Members, r.Members[i])
		out.Scores = append(out.Scores, r.Scores[i])
	}
	return out
}

// assertScoredOrder checks that r's elements are in ascending (dir 1) or
// descending (dir -1) (score, member) order.
func assertScoredOrder(t *testing.T, r rec, dir int) {
	t.Helper()
	for i := 1; i < len(r.Members); i++ {
		c := cmp.Compare(r.Scores[i-1], r.Scores[i])
		if c == 0 {
			c = strings.Compare(r.Members[i-1], r.Members[i])
		}
		assert.Equal(t, -dir, c, "key %q: element %d (%q %v) after (%q %v)", r.Key, i, r.Members[i], r.Scores[i], r.Members[i-1], r.Scores[i-1])
	}
}

// TestRedisLoadsSavedZSets saves sorted sets from a keyspace with Save,
// as sessiond does, and has redis-check-rdb and redis-server load the file:
// Redis holds every element with its exact score, in the keyspace's order,
// as a listpack when small and a skiplist when over 128 elements or 64-byte
// members, with deadlines kept.
func TestRedisLoadsSavedZSets(t *testing.T) {
	checker := requireTool(t, "redis-check-rdb")
	requireTool(t, "redis-server")
	ks := newKS(t, nil)
	bs := func(ss ...string) [][]byte {
		out := make([][]byte, len(ss))
		for i, s := range ss {
			out[i] = []byte(s)
		}
		return out
	}
	var special []string
	for i := range specialScores {
		special = append(special, "s"+strconv.Itoa(i))
	}
	ks.RestoreZSet(0, []byte("special"), bs(special...), specialScores, 0)
	var m128, m129 []string
	var s128, s129 []float64
	for i := range 129 {
		m := "user:" + strconv.Itoa(i)
		sc := 1718000000000 + float64(i*37%129)*1000.125
		if i < 128 {
			m128, s128 = append(m128, m), append(s128, sc)
		}
		m129, s129 = append(m129, m), append(s129, sc)
	}
	ks.RestoreZSet(0, []byte("lp-128"), bs(m128...), s128, 0)
	ks.RestoreZSet(3, []byte("sl-129"), bs(m129...), s129, ks.NowMs()+3_600_000)
	ks.RestoreZSet(3, []byte("sl-long"), bs(strings.Repeat("L", 65), "short"), []float64{-1.5, 1e300}, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 20 {
		ms, scores := randZSet(rng)
		ks.RestoreZSet(15, []byte("rand:"+strconv.Itoa(i)), bs(ms...), scores, 0)
	}

	dir := t.TempDir()
	require.NoError(t, WriteFileAtomic(dir, "dump.rdb", func(w io.Writer) error {
		_, err := Save(w, ks, map[string]string{"redis-ver": "7.0.15", "redis-bits": "64"})
		return err
	}))
	out, err := exec.Command(checker, filepath.Join(dir, "dump.rdb")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "RDB looks OK")

	rc := startRedis(t, dir)
	want, deadlines := zsetItems(t, ks)
	require.Len(t, want, 24)
	for k, els := range want {
		db, key, _ := strings.Cut(k, "/")
		rc.must("SELECT", db)
		got := redisZRange(t, rc, key)
		require.Len(t, got, len(els), k)
		for i, e := range els {
			assert.Equal(t, e.Member, got[i].Member, "%s element %d", k, i)
			assert.Equal(t, zeroUnsigned(e.Score), zeroUnsigned(got[i].Score), "%s %q: %v, Redis has %v", k, e.Member, e.Score, got[i].Score)
		}
		pttl := rc.must("PTTL", key).(int64)
		if deadlines[k] == 0 {
			assert.Equal(t, int64(-1), pttl, k)
		} else {
			assert.Greater(t, pttl, int64(3_500_000), k)
		}
	}
	for k, enc := range map[string]string{"0/special": "listpack", "0/lp-128": "listpack", "3/sl-129": "skiplist", "3/sl-long": "skiplist"} {
		db, key, _ := strings.Cut(k, "/")
		rc.must("SELECT", db)
		assert.Equal(t, enc, rc.must("OBJECT", "ENCODING", key), k)
	}
}

// redisLRange returns a list's elements from Redis, in order.
func redisLRange(t *testing.T, rc *respConn, key string) []string {
	t.Helper()
	var out []string
	for _, v := range rc.must("LRANGE", key, "0", "-1").([]any) {
		out = append(out, v.(string))
	}
	return out
}

// rpush appends elems to key in Redis, in batches.
func rpush(rc *respConn, key string, elems []string) {
	for i := 0; i < len(elems); i += 1000 {
		rc.must(append([]string{"RPUSH", key}, elems[i:min(i+1000, len(elems))]...)...)
	}
}

// testLists are lists whose quicklist layout is worth comparing with
// Redis's: integers of every listpack width and near misses, elements
// around the 8 KiB node limit and far over it, many small nodes, and
// compressible and incompressible nodes (LZF in the file or not).
func testLists(rng *rand.Rand) map[string][]string {
	ints := []string{"0", "127", "128", "-1", "4095", "4096", "-4096", "-4097", "32767", "32768", "-32769",
		"8388607", "8388608", "-8388609", "2147483647", "2147483648", "-2147483649",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"007", "-0", "+1", " 1", "1e3", ""}
	var many, events []string
	for i := range 5000 {
		switch i % 4 {
		case 0:
			many = append(many, strconv.Itoa(i*7919-20000))
		case 1:
			many = append(many, randBytes(rng, rng.IntN(120)))
		case 2:
			many = append(many, "")
		default:
			many = append(many, "member:"+strconv.Itoa(i))
		}
		events = append(events, "event:"+strconv.Itoa(1718000000000+i*37)+":login:user="+strconv.Itoa(i%50))
	}
	return map[string][]string{
		"l-small":  {"a", "", "7", "a", "\x00\xff", strings.Repeat("s", 64)},
		"l-ints":   ints,
		"l-many":   many,
		"l-events": events,
		"l-big": {"a", strings.Repeat("x", 8180), strings.Repeat("y", 8184), "b", randBytes(rng, 100_000),
			strings.Repeat("session;", 6000), "c", strings.Repeat("z", 8185), "d", "e"},
	}
}

// TestDecodeRedisWrittenLists reads lists redis-server wrote: quicklist
// nodes of listpacks, LZF-compressed on save (long nodes) or kept
// compressed in memory (list-compress-depth), and PLAIN nodes (with the
// packed threshold lowered by DEBUG, as a 1 GiB element would make them).
// Every list decodes with its elements in order, and the Encoder, given
// the same elements, writes the very nodes Redis holds, byte for byte.
func TestDecodeRedisWrittenLists(t *testing.T) {
	requireTool(t, "redis-server")
	dir := t.TempDir()
	rc := startRedis(t, dir, "--enable-debug-command", "yes")
	want := testLists(rand.New(rand.NewPCG(13, 14)))
	for k, elems := range want {
		rpush(rc, k, elems)
	}
	rc.must("SELECT", "1")
	rc.must("CONFIG", "SET", "list-compress-depth", "1")
	want["l-compressed"] = slices.Concat(want["l-events"], want["l-big"])
	rpush(rc, "l-compressed", want["l-compressed"])
	rc.must("CONFIG", "SET", "list-compress-depth", "0")
	rc.must("SELECT", "2")
	rc.must("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
	want["l-plain"] = []string{"a", strings.Repeat("p", 1000), strings.Repeat("q", 999), "b", "c",
		strings.Repeat("r", 5000), strings.Repeat("session;", 200), "d"}
	rpush(rc, "l-plain", want["l-plain"])
	rc.must("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0") // back to 1 GiB
	rc.must("PEXPIREAT", "l-plain", strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10))
	rc.must("SAVE")
	data, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
	require.NoError(t, err)

	got, _, err := decodeAll(data, DecoderOptions{})
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for _, r := range got {
		require.Equal(t, KindList, r.Kind, r.Key)
		assert.Equal(t, want[r.Key], r.Members, r.Key)
		assert.Equal(t, r.Key == "l-plain", r.ExpireMs > 0, r.Key)
	}

	// Redis's nodes, LZF undone, against the Encoder's.
	var sawPlain, sawLZF bool
	for k, elems := range want {
		ours := func() []byte {
			if k == "l-plain" {
				defer func(v int) { packedThreshold = v }(packedThreshold)
				packedThreshold = 1000 // as DEBUG set Redis's
			}
			return encode(t, nil, []rec{listRec(k, elems...)})
		}()
		rcs, rblobs := listNodes(t, data, k)
		ocs, oblobs := listNodes(t, ours, k)
		require.Equal(t, rcs, ocs, "%s: containers", k)
		require.Equal(t, len(rblobs), len(oblobs), k)
		for i := range rblobs {
			require.True(t, bytes.Equal(rblobs[i], oblobs[i]), "%s: node %d differs:\nredis % x\nours  % x", k, i, rblobs[i], oblobs[i])
		}
		sawPlain = sawPlain || slices.Contains(rcs, quicklistPlain)
		prefix := cat([]byte{typeListQuicklist2}, rawStr(k))
		sawLZF = sawLZF || bytes.Contains(data[bytes.Index(data, prefix):], []byte{quicklistPacked, lenEnc<<6 | encLZF})
		t.Logf("%s: %d elements in %d nodes", k, len(elems), len(rblobs))
	}
	assert.True(t, sawPlain, "Redis wrote PLAIN nodes")
	assert.True(t, sawLZF, "Redis wrote LZF-compressed nodes")
}

// TestRedisLoadsSavedLists saves lists from a keyspace with Save, as
// sessiond does, and has redis-check-rdb and redis-server load the file:
// LRANGE gives every list back in order, deadlines are kept, and Redis
// keeps the Encoder's nodes as they are (its own SAVE writes them back
// byte for byte). With the packed threshold lowered, PLAIN nodes load too.
func TestRedisLoadsSavedLists(t *testing.T) {
	checker := requireTool(t, "redis-check-rdb")
	requireTool(t, "redis-server")
	for _, threshold := range []int{1 << 30, 1000} {
		t.Run("threshold "+strconv.Itoa(threshold), func(t *testing.T) {
			defer func(v int) { packedThreshold = v }(packedThreshold)
			packedThreshold = threshold
			rng := rand.New(rand.NewPCG(15, 16))
			ks := newKS(t, nil)
			lists := testLists(rng)
			for k, elems := range lists {
				ks.RestoreList(0, []byte(k), bss(elems...), 0)
			}
			for i := range 20 {
				ks.RestoreList(3, []byte("rand:"+strconv.Itoa(i)), bss(randList(rng)...), 0)
			}
			ks.RestoreList(15, []byte("expiring"), bss("a", "b"), ks.NowMs()+3_600_000)

			dir := t.TempDir()
			require.NoError(t, WriteFileAtomic(dir, "dump.rdb", func(w io.Writer) error {
				_, err := Save(w, ks, map[string]string{"redis-ver": "7.0.15", "redis-bits": "64"})
				return err
			}))
			ours, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
			require.NoError(t, err)
			out, err := exec.Command(checker, filepath.Join(dir, "dump.rdb")).CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "RDB looks OK")

			rc := startRedis(t, dir)
			want, deadlines := listItems(t, ks)
			require.Len(t, want, len(lists)+21)
			for k, elems := range want {
				db, key, _ := strings.Cut(k, "/")
				rc.must("SELECT", db)
				assert.Equal(t, elems, redisLRange(t, rc, key), k)
				assert.Equal(t, "quicklist", rc.must("OBJECT", "ENCODING", key), k)
				pttl := rc.must("PTTL", key).(int64)
				if deadlines[k] == 0 {
					assert.Equal(t, int64(-1), pttl, k)
				} else {
					assert.Greater(t, pttl, int64(3_500_000), k)
				}
			}

			rc.must("SAVE")
			theirs, err := os.ReadFile(filepath.Join(dir, "dump.rdb"))
			require.NoError(t, err)
			for k := range lists {
				ocs, oblobs := listNodes(t, ours, k)
				rcs, rblobs := listNodes(t, theirs, k)
				assert.Equal(t, ocs, rcs, k)
				assert.Equal(t, oblobs, rblobs, "%s: Redis kept the nodes", k)
			}
		})
	}
}
