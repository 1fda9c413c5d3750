package resp_test

// Client-side caching (CLIENT TRACKING and its invalidation messages) over
// real TCP, compared with redis-server byte for byte. Every scenario runs
// against sessiond on an event loop ("1"), with a goroutine per connection
// ("-1") (SESSIOND_TEST_EVENT_LOOPS replaces the two with the one it
// names), and against a real redis-server, each on a fresh server, and
// writes a transcript: every command a connection sends and every frame it
// receives (replies and push messages), in order. The sessiond transcripts
// must equal Redis's. Without redis-server the comparison is skipped
// loudly (a failure under CI=true); the explicit checks in the scenarios
// still run against sessiond.
//
// Timing is made deterministic by the order of events, never by sleeping:
// a write's invalidation is queued for the tracking client before the
// writer gets its reply (in Redis too), so a PING the tracking client sends
// afterwards (sync) is answered after the message; sync records what came
// before the PONG. Expiry is waited for (waitPush).
//
// Where sessiond intentionally differs the transcript records the set of
// invalidated keys instead of the frames (syncKeys), and says why:
//   - BCAST: Redis sends, per prefix, one message with every key written
//     in an event-loop iteration (in key order); sessiond sends one
//     message per written key.
//   - eviction: which keys go is random in both.
//
// and where sessiond sends what Redis does not, it is checked unrecorded
// (syncUnrecorded): SWAPDB sends the flush's null (Redis 7.0 nothing).
// Scenarios avoid writes that change nothing (SET NX on an existing key,
// DEL of a missing key): Redis announces only real changes, sessiond every
// write's key arguments (a spurious invalidation costs a cache miss only).
//
// At the end, sessiond alone: a tracking client that does not read must
// not hold up writers; and a stress test (also run against Redis, to check
// the test) in which readers keep a client-side cache while writers change
// the keys, after which no cached value may be stale.

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// trkEnv is one server under test and the transcript of a scenario.
type trkEnv struct {
	t     *testing.T
	addr  string
	redis bool
	mu    sync.Mutex
	log   []string
	ids   map[string]string // client id -> connection name
	ctl   *trkConn          // an untracked connection for set-up and waiting
}

// trkConn is one raw connection of a scenario.
type trkConn struct {
	e     *trkEnv
	name  string
	id    string
	nc    net.Conn
	br    *bufio.Reader
	resp3 bool
	last  string // the last command sent
}

const trkWait = 5 * time.Second

// trkScenario runs f against each sessiond mode and redis-server, in
// parallel, and compares the transcripts.
func trkScenario(t *testing.T, f func(e *trkEnv)) {
	t.Parallel()
	var mu sync.Mutex
	logs := map[string][]string{}
	t.Run("run", func(t *testing.T) {
		for _, m := range blkModes() {
			t.Run("sessiond-event-loops="+m, func(t *testing.T) {
				t.Parallel()
				e := newTrkEnv(t, testserver.Start(t, testserver.WithConfig("event-loops", m)).Addr, false)
				f(e)
				mu.Lock()
				logs["sessiond-event-loops="+m] = e.log
				mu.Unlock()
			})
		}
		t.Run("redis", func(t *testing.T) {
			t.Parallel()
			e := newTrkEnv(t, testserver.StartRedis(t).Addr, true)
			f(e)
			mu.Lock()
			logs["redis"] = e.log
			mu.Unlock()
		})
	})
	want, ok := logs["redis"]
	if !ok {
		return
	}
	for name, got := range logs {
		if name == "redis" || t.Failed() {
			continue
		}
		if !slices.Equal(want, got) {
			i := 0
			for i < len(want) && i < len(got) && want[i] == got[i] {
				i++
			}
			var b strings.Builder
			for j := max(0, i-12); j < i; j++ {
				fmt.Fprintf(&b, "    %s\n", want[j])
			}
			at := func(l []string) string {
				if i < len(l) {
					return l[i]
				}
				return "(end of transcript)"
			}
			t.Errorf("%s differs from redis-server after:\n%s  redis:    %s\n  sessiond: %s", name, b.String(), at(want), at(got))
		}
	}
}

func newTrkEnv(t *testing.T, addr string, redis bool) *trkEnv {
	e := &trkEnv{t: t, addr: addr, redis: redis, ids: map[string]string{}}
	e.ctl = e.dial("ctl", 2)
	return e
}

// dial connects a connection called name, in RESP3 after HELLO 3 when
// proto is 3, and learns its client id (neither is recorded).
func (e *trkEnv) dial(name string, proto int) *trkConn {
	e.t.Helper()
	nc, err := net.DialTimeout("tcp", e.addr, 2*time.Second)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { nc.Close() })
	c := &trkConn{e: e, name: name, nc: nc, br: bufio.NewReader(nc)}
	if proto == 3 {
		v := c.raw("HELLO", "3")
		require.Equal(e.t, byte('%'), v.typ, "HELLO 3: %s", v)
		c.resp3 = true
	}
	v := c.raw("CLIENT", "ID")
	require.Equal(e.t, byte(':'), v.typ)
	c.id = v.str
	e.mu.Lock()
	e.ids[c.id] = name
	e.mu.Unlock()
	return c
}

func (e *trkEnv) record(format string, args ...any) {
	e.mu.Lock()
	e.log = append(e.log, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

// note records a line of the scenario's own (a value it computed).
func (e *trkEnv) note(format string, args ...any) { e.record("# "+format, args...) }

var trkIDRef = regexp.MustCompile(`\{([A-Za-z0-9]+)\}`)

// args splits cmd into arguments (blkFields), replacing {name} by the
// client id of the connection called name.
func (e *trkEnv) args(cmd string) []string {
	e.t.Helper()
	args := blkFields(cmd)
	for i, a := range args {
		args[i] = trkIDRef.ReplaceAllStringFunc(a, func(m string) string {
			name := m[1 : len(m)-1]
			e.mu.Lock()
			defer e.mu.Unlock()
			for id, n := range e.ids {
				if n == name {
					return id
				}
			}
			e.t.Fatalf("no connection %q", name)
			return ""
		})
	}
	return args
}

// names replaces client ids in the integers of a reply by {name}.
func (e *trkEnv) names(raw string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, n := range e.ids {
		raw = strings.ReplaceAll(raw, "\r\n:"+id+"\r\n", "\r\n:{"+n+"}\r\n")
		if strings.HasPrefix(raw, ":"+id+"\r\n") {
			raw = ":{" + n + "}" + raw[len(id)+1:]
		}
	}
	return raw
}

// raw sends args and reads the reply, unrecorded (set-up).
func (c *trkConn) raw(args ...string) rv {
	c.e.t.Helper()
	c.write(encodeCommand(args))
	v, err := c.read()
	require.NoError(c.e.t, err, "%s: no reply to %q", c.name, args)
	return v
}

func (c *trkConn) write(b []byte) {
	c.e.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(trkWait))
	_, err := c.nc.Write(b)
	require.NoError(c.e.t, err)
}

func (c *trkConn) read() (rv, error) {
	c.nc.SetReadDeadline(time.Now().Add(trkWait))
	return readReply(c.br)
}

// frame reads one frame and records it.
func (c *trkConn) frame() rv {
	c.e.t.Helper()
	v, err := c.read()
	require.NoError(c.e.t, err, "%s: nothing arrived", c.name)
	raw := string(v.raw)
	// Client ids are replaced by names where they are ids (GETREDIR,
	// TRACKINGINFO, tracking-redir-broken), not where they are counts.
	if f := strings.Fields(strings.ToUpper(c.last)); len(f) == 2 && f[0] == "CLIENT" && (f[1] == "GETREDIR" || f[1] == "TRACKINGINFO") ||
		strings.Contains(raw, "tracking-redir-broken") {
		raw = c.e.names(raw)
	}
	c.e.record("%s< %q", c.name, raw)
	return v
}

// send writes one command (blkFields, {name} for an id) without reading.
func (c *trkConn) send(cmd string) {
	c.e.t.Helper()
	c.e.record("%s> %s", c.name, cmd)
	c.last = cmd
	c.write(encodeCommand(c.e.args(cmd)))
}

// do sends cmd and reads frames up to its reply (push messages before it
// are recorded too), returning the reply.
func (c *trkConn) do(cmd string) rv {
	c.e.t.Helper()
	c.send(cmd)
	for {
		if v := c.frame(); v.typ != '>' {
			return v
		}
	}
}

// doArgs is do of a command given as its arguments (which may hold any
// byte), recorded as label.
func (c *trkConn) doArgs(label string, args ...string) rv {
	c.e.t.Helper()
	c.e.record("%s> %s", c.name, label)
	c.last = label
	c.write(encodeCommand(args))
	for {
		if v := c.frame(); v.typ != '>' {
			return v
		}
	}
}

// doOne sends cmd and reads one frame (a RESP3 SUBSCRIBE's push reply).
func (c *trkConn) doOne(cmd string) rv {
	c.e.t.Helper()
	c.send(cmd)
	return c.frame()
}

// doStr is do returning the reply's string (or "ERR..." of an error).
func (c *trkConn) doStr(cmd string) string {
	c.e.t.Helper()
	return c.do(cmd).str
}

// trkPongs are PING's replies: plain, and in RESP2's subscriber mode.
var trkPongs = []string{"+PONG\r\n", "*2\r\n$4\r\npong\r\n$0\r\n\r\n"}

// sync sends PING and reads up to its reply, recording the messages that
// came before it, and returns the keys they invalidate (pushKeys).
func (c *trkConn) sync() []string {
	c.e.t.Helper()
	c.send("PING")
	var keys []string
	for {
		v := c.frame()
		if slices.Contains(trkPongs, string(v.raw)) {
			return keys
		}
		keys = append(keys, pushKeys(c.e.t, v)...)
	}
}

// syncKeys is sync that records only the sorted set of invalidated keys,
// where sessiond's messages may be shaped differently from Redis's.
func (c *trkConn) syncKeys() []string {
	c.e.t.Helper()
	c.e.record("%s> PING", c.name)
	c.write(encodeCommand([]string{"PING"}))
	var keys []string
	for {
		v, err := c.read()
		require.NoError(c.e.t, err)
		if slices.Contains(trkPongs, string(v.raw)) {
			break
		}
		keys = append(keys, pushKeys(c.e.t, v)...)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	c.e.record("%s< keys %q then PONG", c.name, keys)
	return keys
}

// syncUnrecorded is sync recording nothing (where Redis differs).
func (c *trkConn) syncUnrecorded() []string {
	c.e.t.Helper()
	c.write(encodeCommand([]string{"PING"}))
	var keys []string
	for {
		v, err := c.read()
		require.NoError(c.e.t, err)
		if slices.Contains(trkPongs, string(v.raw)) {
			return keys
		}
		keys = append(keys, pushKeys(c.e.t, v)...)
	}
}

// waitPush waits for one message (expiry, eviction) and records it.
func (c *trkConn) waitPush() []string {
	c.e.t.Helper()
	return pushKeys(c.e.t, c.frame())
}

// pushKeys returns the keys an invalidation message names: "*" for a
// flush (null), "!broken" for tracking-redir-broken.
func pushKeys(t *testing.T, v rv) []string {
	t.Helper()
	var payload rv
	switch {
	case v.typ == '>' && len(v.elems) == 2 && v.elems[0].str == "invalidate":
		payload = v.elems[1]
	case v.typ == '>' && len(v.elems) == 2 && v.elems[0].str == "tracking-redir-broken":
		return []string{"!broken"}
	case v.typ == '*' && len(v.elems) == 3 && v.elems[0].str == "message" && v.elems[1].str == "__redis__:invalidate":
		payload = v.elems[2]
	default:
		t.Fatalf("not an invalidation message: %s", v)
	}
	if payload.null {
		return []string{"*"}
	}
	var keys []string
	for _, k := range payload.elems {
		keys = append(keys, k.str)
	}
	return keys
}

// waitGone waits until the server has let go of client id (a closed
// connection is cleaned up asynchronously).
func (e *trkEnv) waitGone(c *trkConn) {
	e.t.Helper()
	deadline := time.Now().Add(trkWait)
	for time.Now().Before(deadline) {
		v := e.ctl.raw("CLIENT", "LIST", "ID", c.id)
		if strings.TrimSpace(v.str) == "" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("client %s (%s) still listed", c.id, c.name)
}

// clientFields returns fields of c's CLIENT LIST line, as asked by ctl.
func (e *trkEnv) clientFields(c *trkConn, names ...string) string {
	e.t.Helper()
	v := e.ctl.raw("CLIENT", "LIST", "ID", c.id)
	var out []string
	for _, f := range strings.Fields(v.str) {
		k, val, _ := strings.Cut(f, "=")
		if slices.Contains(names, k) {
			if k == "redir" {
				if n, ok := e.ids[val]; ok {
					val = "{" + n + "}"
				}
			}
			out = append(out, k+"="+val)
		}
	}
	return strings.Join(out, " ")
}

// info returns the named fields of INFO section, as asked by ctl.
func (e *trkEnv) info(section string, names ...string) string {
	e.t.Helper()
	v := e.ctl.raw("INFO", section)
	var out []string
	for _, l := range strings.Split(v.str, "\r\n") {
		k, _, _ := strings.Cut(l, ":")
		if slices.Contains(names, k) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}

// ---------------------------------------------------------------------------
// Scenarios.

func TestTrackingDefaultMode(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				// A RESP2 client gets its messages through a redirection
				// to a subscriber of __redis__:invalidate.
				a, to := e.trackingClient(proto, "")
				b := e.dial("B", 2)
				b.do("SET k v1")
				a.do("GET k")
				b.do("SET k v2")
				require.Equal(e.t, []string{"k"}, to.sync(), "one invalidation")
				b.do("SET k v3")
				require.Empty(e.t, to.sync(), "no more until read again")
				a.do("GET k")
				a.do("GET k") // read twice: still one message
				b.do("APPEND k x")
				require.Equal(e.t, []string{"k"}, to.sync())

				// MGET of several keys, some missing; reads of missing keys.
				b.do("MSET m1 1 m2 2")
				a.do("MGET m1 m2 m3")
				a.do("GET nokey")
				a.do("EXISTS e1 e2")
				a.do("STRLEN s1")
				a.do("HGET h f")
				a.do("SMEMBERS set")
				b.do("MSET m2 x m3 y m1 z")
				require.Equal(e.t, []string{"m2", "m3", "m1"}, to.sync())
				b.do("SET nokey 1")
				b.do("SET e2 1")
				b.do("SET s1 1")
				b.do("HSET h f v")
				b.do("SADD set a")
				require.Equal(e.t, []string{"nokey", "e2", "s1", "h", "set"}, to.sync())
				b.do("SET e1 1")
				b.do("DEL nokey")
				require.Equal(e.t, []string{"e1"}, to.sync())

				// Keys are names, not per database.
				a.do("GET dbkey")
				b.do("SELECT 3")
				b.do("SET dbkey 1")
				require.Equal(e.t, []string{"dbkey"}, to.sync())
				b.do("SELECT 0")

				// Other writes: expiry changes, renames, deletions, a
				// write to a key the writer also reads.
				b.do("MSET r1 1 x1 1 x2 1 src a")
				a.do("MGET r1 x1 x2 dst")
				b.do("EXPIRE r1 100")
				b.do("RENAME x1 x3")
				b.do("GETDEL x2")
				b.do("COPY src dst")
				require.Equal(e.t, []string{"r1", "x1", "x2", "dst"}, to.sync())
				a.do("GET src2")
				b.do("SUNIONSTORE out src2 src3") // reads src2, src3 only
				require.Empty(e.t, to.sync())
			})
		})
	}
}

// trackingClient returns a tracking client A (CLIENT TRACKING ON opts)
// and the connection its messages arrive on: A itself in RESP3; in RESP2 a
// subscriber S of __redis__:invalidate that A redirects to.
func (e *trkEnv) trackingClient(proto int, opts string) (a, to *trkConn) {
	e.t.Helper()
	if proto == 3 {
		a = e.dial("A", 3)
		require.Equal(e.t, "OK", a.doStr(strings.TrimSpace("CLIENT TRACKING ON "+opts)))
		return a, a
	}
	s := e.dial("S", 2)
	s.do("SUBSCRIBE __redis__:invalidate")
	a = e.dial("A", 2)
	require.Equal(e.t, "OK", a.doStr(strings.TrimSpace("CLIENT TRACKING ON REDIRECT {S} "+opts)))
	return a, s
}

func TestTrackingOwnWritesAndNoloop(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				a, to := e.trackingClient(proto, "")
				b := e.dial("B", 2)
				a.do("GET k")
				a.do("SET k mine") // the message comes after the reply
				require.Equal(e.t, []string{"k"}, to.sync())
				a.do("GET k")
				a.do("MULTI")
				a.do("SET k again")
				a.do("GET k")
				a.do("EXEC") // after EXEC's reply
				require.Equal(e.t, []string{"k"}, to.sync())
				a.do("GET k")
				a.do("FLUSHALL")
				require.Equal(e.t, []string{"*"}, to.sync())

				// NOLOOP: the client's own writes are not announced to it,
				// and the key is forgotten all the same.
				require.Equal(e.t, "OK", a.doStr("CLIENT TRACKING ON NOLOOP"+map[bool]string{true: "", false: " REDIRECT {S}"}[proto == 3]))
				a.do("GET n")
				a.do("SET n mine")
				require.Empty(e.t, to.sync())
				b.do("SET n theirs")
				require.Empty(e.t, to.sync(), "forgotten at the client's own write")
				a.do("GET n")
				b.do("SET n theirs2")
				require.Equal(e.t, []string{"n"}, to.sync())
				a.do("CLIENT TRACKINGINFO")
			})
		})
	}
}

func TestTrackingOptinOptout(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		a := e.dial("A", 3)
		b := e.dial("B", 2)
		a.do("CLIENT TRACKING ON OPTIN")
		a.do("GET a") // not tracked
		a.do("CLIENT CACHING YES")
		a.do("CLIENT TRACKINGINFO")
		a.do("GET b") // tracked
		a.do("GET c") // not: CACHING lasts one command
		a.do("CLIENT TRACKINGINFO")
		b.do("MSET a 1 b 2 c 3")
		require.Equal(e.t, []string{"b"}, a.sync())

		// CACHING YES persists through a transaction, cleared after it.
		a.do("CLIENT CACHING YES")
		a.do("MULTI")
		a.do("GET d")
		a.do("PTTL e")
		a.do("GET e")
		a.do("EXEC")
		a.do("GET f")
		b.do("MSET d 1 e 2 f 3")
		require.Equal(e.t, []string{"d", "e"}, a.sync())
		// Through other CLIENT subcommands too; not through others.
		a.do("CLIENT CACHING YES")
		a.do("CLIENT GETREDIR")
		a.do("CLIENT GETNAME")
		a.do("GET g")
		a.do("CLIENT CACHING YES")
		a.do("PING")
		a.do("GET h")
		b.do("MSET g 1 h 2")
		require.Equal(e.t, []string{"g"}, a.sync())
		// So does a command refused (unknown, wrong arity), in Redis's
		// resetClient; inside MULTI a refused command keeps it.
		a.do("CLIENT CACHING YES")
		a.do("NOSUCHCOMMAND x")
		a.do("GET u1")
		a.do("CLIENT CACHING YES")
		a.do("GET")
		a.do("GET u2")
		a.do("CLIENT CACHING YES")
		a.do("MULTI")
		a.do("GET")
		a.do("DISCARD")
		a.do("GET u3")
		b.do("MSET u1 1 u2 2 u3 3")
		require.Empty(e.t, a.sync())
		a.do("CLIENT CACHING YES")
		a.do("MULTI")
		a.do("NOSUCHCOMMAND")
		a.do("GET u4")
		a.do("EXEC")
		a.do("CLIENT TRACKINGINFO")
		// DISCARD ends it too.
		a.do("CLIENT CACHING YES")
		a.do("MULTI")
		a.do("GET i")
		a.do("DISCARD")
		a.do("GET i")
		a.do("CLIENT TRACKINGINFO")
		b.do("SET i 1")
		require.Empty(e.t, a.sync())
		// Scripts' reads are tracked for the caller under CACHING YES.
		a.do("CLIENT CACHING YES")
		a.do(`EVAL_RO "return redis.call('get', KEYS[1])" 1 j`)
		a.do(`EVAL_RO "return redis.call('get', KEYS[1])" 1 l`)
		b.do("MSET j 1 l 2")
		require.Equal(e.t, []string{"j"}, a.sync())

		// OPTOUT: everything but the command after CACHING NO.
		o := e.dial("O", 3)
		o.do("CLIENT TRACKING ON OPTOUT")
		o.do("GET oa")
		o.do("CLIENT CACHING NO")
		o.do("CLIENT TRACKINGINFO")
		o.do("GET ob")
		o.do("GET oc")
		b.do("MSET oa 1 ob 2 oc 3")
		require.Equal(e.t, []string{"oa", "oc"}, o.sync())
		o.do("CLIENT CACHING NO")
		o.do("MULTI")
		o.do("GET od")
		o.do("GET oe")
		o.do("EXEC")
		o.do("GET of")
		b.do("MSET od 1 oe 2 of 3")
		require.Equal(e.t, []string{"of"}, o.sync())
	})
}

func TestTrackingBcast(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				// Redis batches a BCAST client's keys per event-loop
				// iteration, sessiond sends one message per key: the sets
				// of keys are compared (syncKeys).
				a, to := e.trackingClient(proto, "BCAST")
				b := e.dial("B", 2)
				b.do("SET x 1")
				require.Equal(e.t, []string{"x"}, to.syncKeys())
				b.do("MSET y 1 z 2")
				require.Equal(e.t, []string{"y", "z"}, to.syncKeys())
				b.do("SET x 2") // no read needed
				require.Equal(e.t, []string{"x"}, to.syncKeys())
				a.do("SET own 1") // its own writes too
				require.Equal(e.t, []string{"own"}, to.syncKeys())
				a.do("CLIENT TRACKINGINFO")
				e.record("# %s", e.clientFields(a, "flags", "redir"))
				e.record("# %s", e.info("stats", "tracking_total_prefixes"))

				p, pto := e.trackingClientNamed("P", "T", proto, "BCAST PREFIX user: PREFIX sess: NOLOOP")
				b.do("MSET user:1 a other b sess:9 c")
				require.Equal(e.t, []string{"sess:9", "user:1"}, pto.syncKeys())
				p.do("SET user:2 own") // NOLOOP
				b.do("SET user:3 theirs")
				require.Equal(e.t, []string{"user:3"}, pto.syncKeys())
				p.do("CLIENT TRACKING ON BCAST PREFIX cart:" + map[bool]string{true: "", false: " REDIRECT {T}"}[proto == 3])
				p.do("CLIENT TRACKINGINFO")
				b.do("SET cart:1 x")
				require.Equal(e.t, []string{"cart:1"}, pto.syncKeys())
				e.record("# %s", e.info("stats", "tracking_total_prefixes"))
				b.do("FLUSHALL")
				require.Equal(e.t, []string{"*"}, pto.sync())
				to.syncKeys()
			})
		})
	}
}

// trackingClientNamed is trackingClient with other names.
func (e *trkEnv) trackingClientNamed(name, subName string, proto int, opts string) (a, to *trkConn) {
	e.t.Helper()
	if proto == 3 {
		a = e.dial(name, 3)
		require.Equal(e.t, "OK", a.doStr("CLIENT TRACKING ON "+opts))
		return a, a
	}
	s := e.dial(subName, 2)
	s.do("SUBSCRIBE __redis__:invalidate")
	a = e.dial(name, 2)
	require.Equal(e.t, "OK", a.doStr("CLIENT TRACKING ON REDIRECT {"+subName+"} "+opts))
	return a, s
}

func TestTrackingOptionErrors(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				a := e.dial("A", proto)
				for _, cmd := range []string{
					"CLIENT TRACKING", "CLIENT TRACKING maybe", "CLIENT TRACKING ON foo",
					"CLIENT TRACKING ON REDIRECT", "CLIENT TRACKING ON PREFIX", "CLIENT TRACKING ON BCAST PREFIX",
					"CLIENT TRACKING ON REDIRECT abc", "CLIENT TRACKING ON REDIRECT 0", "CLIENT TRACKING ON REDIRECT -1",
					"CLIENT TRACKING ON REDIRECT 999999", "CLIENT TRACKING ON REDIRECT {A} REDIRECT {A}",
					"CLIENT TRACKING OFF foo", "CLIENT TRACKING OFF BCAST", "CLIENT TRACKING maybe BCAST",
					"CLIENT TRACKING ON PREFIX a", "CLIENT TRACKING ON BCAST OPTIN", "CLIENT TRACKING ON BCAST OPTOUT",
					"CLIENT TRACKING ON OPTIN OPTOUT", "CLIENT TRACKING ON BCAST PREFIX a PREFIX ab",
					"CLIENT TRACKING ON BCAST PREFIX ab PREFIX a", "CLIENT TRACKING ON BCAST PREFIX a PREFIX a",
					"CLIENT GETREDIR x", "CLIENT TRACKINGINFO x", "CLIENT CACHING", "CLIENT CACHING YES x",
					"CLIENT CACHING YES", "CLIENT CACHING NO", "CLIENT CACHING maybe",
					"CLIENT TRACKINGINFO", "CLIENT GETREDIR",
				} {
					a.do(cmd)
				}
				// Prefixes in errors: CR and LF become spaces, a NUL ends them (C
				// strings in Redis).
				a.doArgs("prefixes with CRLF", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a\r\nb", "PREFIX", "a")
				a.doArgs("prefixes with NUL", "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "x\x00y", "PREFIX", "x")
				// Switching modes while tracking.
				a.do("CLIENT TRACKING on")
				a.do("CLIENT CACHING YES")
				a.do("CLIENT CACHING NO")
				a.do("CLIENT CACHING maybe")
				a.do("CLIENT TRACKING ON BCAST")
				a.do("CLIENT TRACKING ON OPTIN")
				a.do("CLIENT CACHING NO")
				a.do("CLIENT CACHING maybe")
				a.do("CLIENT TRACKING ON OPTOUT")
				a.do("CLIENT TRACKING ON OPTIN OPTOUT")
				a.do("CLIENT TRACKING ON") // the flags are replaced: default mode again
				a.do("CLIENT TRACKINGINFO")
				a.do("CLIENT TRACKING ON OPTOUT")
				a.do("CLIENT TRACKING ON OPTIN")
				a.do("CLIENT TRACKING off")
				a.do("CLIENT TRACKING ON BCAST PREFIX b PREFIX a")
				a.do("CLIENT TRACKINGINFO") // prefixes in key order
				a.do("CLIENT TRACKING ON")
				a.do("CLIENT TRACKING ON BCAST PREFIX ab")
				a.do("CLIENT TRACKING ON BCAST PREFIX c PREFIX bb")
				a.do("CLIENT TRACKING ON BCAST PREFIX c")
				a.do("CLIENT TRACKING ON BCAST") // adds "" in Redis, overlapping
				a.do("CLIENT TRACKINGINFO")
				a.do("CLIENT TRACKING ON BCAST")
				a.do("CLIENT TRACKINGINFO")
				a.do("CLIENT TRACKING ON BCAST OPTIN")
				a.do("CLIENT TRACKING OFF")
				a.do("CLIENT TRACKING OFF")
				a.do("CLIENT TRACKINGINFO")
				a.do("CLIENT TRACKING ON BCAST")
				a.do("CLIENT TRACKING ON BCAST PREFIX x")
				a.do("CLIENT TRACKINGINFO")
				// Inside MULTI: the errors come with EXEC.
				a.do("CLIENT TRACKING OFF")
				a.do("MULTI")
				a.do("CLIENT TRACKING ON OPTIN")
				a.do("CLIENT TRACKING ON OPTOUT")
				a.do("CLIENT CACHING YES")
				a.do("CLIENT TRACKINGINFO")
				a.do("EXEC")
				a.do("CLIENT TRACKINGINFO")
				// Not from scripts.
				a.do(`EVAL "return redis.pcall('client', 'tracking', 'on')" 0`)
				a.do(`EVAL "return redis.pcall('client', 'caching', 'yes')" 0`)
			})
		})
	}
}

func TestTrackingInfoReplies(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				a := e.dial("A", proto)
				e.dial("S", 2)
				fields := func() {
					a.do("CLIENT GETREDIR")
					a.do("CLIENT TRACKINGINFO")
					e.note("%s", e.clientFields(a, "flags", "redir"))
				}
				fields()
				for _, opts := range []string{
					"", "OPTIN", "OPTOUT", "NOLOOP", "OPTIN NOLOOP", "OPTOUT NOLOOP", "BCAST", "BCAST NOLOOP",
					"BCAST PREFIX a PREFIX b NOLOOP", "REDIRECT {S}", "REDIRECT {S} OPTIN NOLOOP",
					"REDIRECT {S} BCAST PREFIX p", "REDIRECT {A}",
				} {
					a.do("CLIENT TRACKING OFF")
					a.do(strings.TrimSpace("CLIENT TRACKING ON " + opts))
					fields()
					switch {
					case strings.Contains(opts, "OPTIN"):
						a.do("CLIENT CACHING YES")
						fields()
					case strings.Contains(opts, "OPTOUT"):
						a.do("CLIENT CACHING NO")
						fields()
					}
				}
				// Changing the options of a tracking client: the redirection
				// goes when not given again; flags are replaced.
				a.do("CLIENT TRACKING OFF")
				a.do("CLIENT TRACKING ON REDIRECT {S} NOLOOP")
				a.do("CLIENT TRACKING ON")
				fields()
				a.do("CLIENT TRACKING ON OPTIN")
				a.do("CLIENT CACHING YES")
				a.do("CLIENT TRACKING ON OPTIN REDIRECT {S}") // CACHING survives
				fields()
				a.do("CLIENT TRACKING OFF")
				fields()
				a.do("CLIENT TRACKING ON BCAST PREFIX a")
				a.do("RESET")
				fields()
			})
		})
	}
}

func TestTrackingRedirect(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		s := e.dial("S", 2)
		s.do("SUBSCRIBE __redis__:invalidate")
		a := e.dial("A", 2)
		b := e.dial("B", 2)
		a.do("CLIENT TRACKING ON REDIRECT {S}")
		a.do("GET k")
		a.do("GET j")
		b.do("SET k 1")
		require.Equal(e.t, []string{"k"}, s.sync())
		b.do("FLUSHALL") // a null message, in the tracking client's protocol
		require.Equal(e.t, []string{"*"}, s.sync())
		b.do("SET j 1") // forgotten by the flush
		require.Empty(e.t, s.sync())

		// A RESP3 client redirecting to a RESP2 subscriber: RESP2 messages;
		// its flush message carries its own RESP3 null (as Redis does).
		a3 := e.dial("A3", 3)
		a3.do("CLIENT TRACKING ON REDIRECT {S}")
		a3.do("GET k3")
		b.do("SET k3 1")
		require.Equal(e.t, []string{"k3"}, s.sync())
		require.Empty(e.t, a3.sync())
		b.do("FLUSHDB")
		s.sync()
		a3.sync()

		// A redirection to a RESP2 client that is not subscribed, or to
		// itself in RESP2: nowhere to say it.
		n := e.dial("N", 2)
		c := e.dial("C", 2)
		c.do("CLIENT TRACKING ON REDIRECT {N}")
		c.do("GET q")
		b.do("SET q 1")
		require.Empty(e.t, n.sync())
		c.do("CLIENT TRACKING ON REDIRECT {C}")
		c.do("GET q")
		b.do("SET q 2")
		require.Empty(e.t, c.sync())

		// A RESP3 subscriber gets pushes.
		s3 := e.dial("S3", 3)
		s3.doOne("SUBSCRIBE __redis__:invalidate")
		a.do("CLIENT TRACKING ON REDIRECT {S3}")
		a.do("GET k")
		b.do("SET k 2")
		require.Equal(e.t, []string{"k"}, s3.sync())
		b.do("FLUSHALL")
		require.Equal(e.t, []string{"*"}, s3.sync())
	})
}

func TestTrackingRedirectBroken(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				s := e.dial("S", 2)
				s.do("SUBSCRIBE __redis__:invalidate")
				a := e.dial("A", proto)
				b := e.dial("B", 2)
				a.do("CLIENT TRACKING ON REDIRECT {S}")
				a.do("GET k")
				e.note("%s", e.clientFields(a, "flags", "redir"))
				s.nc.Close()
				e.waitGone(s)
				b.do("SET k 1")
				keys := a.sync() // RESP3: tracking-redir-broken; RESP2: nothing
				if proto == 3 {
					require.Equal(e.t, []string{"!broken"}, keys)
				}
				a.do("CLIENT TRACKINGINFO")
				a.do("CLIENT GETREDIR")
				e.note("%s", e.clientFields(a, "flags", "redir"))
				a.do("GET k")
				a.do("GET j")
				b.do("MSET k 2 j 3") // one per key
				a.sync()
				b.do("FLUSHALL")
				a.sync()
				// Re-enabling clears the broken flag.
				a.do("CLIENT TRACKING ON")
				a.do("CLIENT TRACKINGINFO")
				e.note("%s", e.clientFields(a, "flags", "redir"))
				if proto == 2 {
					// A RESP2 tracking client that switches to RESP3 gets
					// pushes from then on.
					a.do("GET h")
					a.raw("HELLO", "3")
					e.note("A: HELLO 3")
					b.do("SET h 1")
					require.Equal(e.t, []string{"h"}, a.sync())
				}
			})
		})
	}
}

func TestTrackingFlush(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				a, to := e.trackingClient(proto, "")
				bc, bto := e.trackingClientNamed("BC", "T", proto, "BCAST PREFIX zz")
				b := e.dial("B", 2)
				a.do("GET k")
				b.do("FLUSHALL")
				require.Equal(e.t, []string{"*"}, to.sync())
				require.Equal(e.t, []string{"*"}, bto.sync())
				b.do("SET k 1") // forgotten
				require.Empty(e.t, to.sync())
				a.do("GET k")
				b.do("FLUSHDB ASYNC")
				require.Equal(e.t, []string{"*"}, to.sync())
				bto.sync()
				b.do("SELECT 5")
				b.do("FLUSHDB") // another database: all the same
				to.sync()
				bto.sync()
				b.do("FLUSHALL SYNC")
				to.sync()
				bto.sync()
				a.do("FLUSHALL") // the flusher's own: after the reply
				to.sync()
				bc.do("FLUSHDB")
				bto.sync()
				to.sync()
				// In a transaction and a script.
				b.do("MULTI")
				b.do("SET x 1")
				b.do("FLUSHALL")
				b.do("EXEC")
				to.sync()
				bto.sync()
				b.do(`EVAL "return redis.call('flushdb')" 0`)
				to.sync()
				bto.sync()
				e.note("%s", e.info("stats", "tracking_total_keys", "tracking_total_items"))
				// SWAPDB changes the value of every key as a flush does:
				// sessiond sends the flush's null; Redis 7.0 sends nothing
				// (its clients keep stale values). Not recorded.
				b.do("SET k db5")
				a.do("GET k")
				b.do("SWAPDB 0 5")
				want := []string{"*"}
				if e.redis {
					want = nil
				}
				require.Equal(e.t, want, to.syncUnrecorded())
				require.Equal(e.t, want, bto.syncUnrecorded())
				b.do("SWAPDB 0 99")
				b.do("SWAPDB 5 5")
				to.sync()
			})
		})
	}
}

func TestTrackingExpiry(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				a, to := e.trackingClient(proto, "")
				b := e.dial("B", 2)
				b.do("SET k v PX 300") // long enough for the GET to come first
				b.do("SET other v PX 50")
				a.do("GET k")
				require.Equal(e.t, []string{"k"}, to.waitPush(), "the expiry of a key read")
				require.Empty(e.t, to.sync())
				b.do("SET k v2") // forgotten at the expiry
				require.Empty(e.t, to.sync())
				// BCAST clients hear about expiries too.
				_, bto := e.trackingClientNamed("BC", "T", proto, "BCAST PREFIX bc:")
				b.do("SET bc:1 v PX 100")
				require.Equal(e.t, []string{"bc:1"}, bto.syncKeys())
				require.Equal(e.t, []string{"bc:1"}, bto.waitPush())
			})
		})
	}
}

func TestTrackingEviction(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		// Which keys go is random: the invalidated keys must be exactly
		// the tracked keys that are gone.
		a := e.dial("A", 3)
		b := e.dial("B", 2)
		b.raw("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
		val := strings.Repeat("v", 10000)
		var keys []string
		for i := range 50 {
			k := "ev:" + strconv.Itoa(i)
			keys = append(keys, k)
			b.raw("SET", k, val)
		}
		a.do("CLIENT TRACKING ON")
		a.raw(append([]string{"MGET"}, keys[:20]...)...)
		b.raw("CONFIG", "SET", "maxmemory", "1")
		deadline := time.Now().Add(trkWait)
		for b.raw("DBSIZE").str != "0" && time.Now().Before(deadline) {
			b.raw("SET", "x", "y")
			time.Sleep(10 * time.Millisecond)
		}
		b.raw("CONFIG", "SET", "maxmemory", "0")
		var gone []string
		for _, k := range keys[:20] {
			if b.raw("EXISTS", k).str == "0" {
				gone = append(gone, k)
			}
		}
		require.NotEmpty(e.t, gone)
		slices.Sort(gone)
		got := a.syncKeys()
		require.Equal(e.t, gone, got, "invalidated keys: the tracked keys evicted")
	})
}

func TestTrackingTransactionsAndScripts(t *testing.T) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			trkScenario(t, func(e *trkEnv) {
				a, to := e.trackingClient(proto, "")
				b := e.dial("B", 2)
				b.do("MSET a 1 b 2 c 3")
				a.do("MGET a b c")
				b.do("MULTI")
				b.do("SET a x")
				b.do("GET c")
				b.do("DEL b")
				b.do("EXEC")
				require.Equal(e.t, []string{"a", "b"}, to.sync())
				a.do("MGET a b c")
				b.do(`EVAL "redis.call('set', KEYS[1], 'y'); redis.call('del', KEYS[2]); return redis.call('get', KEYS[3])" 3 a c b`)
				require.Equal(e.t, []string{"a", "c"}, to.sync())

				// The tracking client's reads in scripts are tracked for it.
				a.do(`EVAL_RO "return redis.call('get', KEYS[1])" 1 r1`)
				a.do(`EVAL "return redis.call('get', KEYS[1])" 1 r2`)
				a.do(`EVALSHA_RO 1b936e3fe509bcbc9cd0664897bbe8fd0ac95a8d 1 r3`) // absent: an error, nothing tracked
				b.do("MSET r1 1 r2 2 r3 3")
				require.Equal(e.t, []string{"r1", "r2"}, to.sync())
				// Its writes in scripts: after the reply.
				a.do("GET w")
				a.do(`EVAL "return redis.call('set', KEYS[1], 'x')" 1 w`)
				require.Equal(e.t, []string{"w"}, to.sync())
				// A read inside its own transaction.
				a.do("MULTI")
				a.do("GET t1")
				a.do("EXEC")
				b.do("SET t1 1")
				require.Equal(e.t, []string{"t1"}, to.sync())
			})
		})
	}
}

func TestTrackingOffAndReset(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		a := e.dial("A", 3)
		b := e.dial("B", 2)
		a.do("CLIENT TRACKING ON")
		a.do("GET k")
		a.do("CLIENT TRACKING OFF")
		b.do("SET k 1")
		require.Empty(e.t, a.sync())
		a.do("GET j")
		a.do("CLIENT TRACKING ON") // off and on again: j was not tracked, k is forgotten
		b.do("MSET k 2 j 3")
		require.Empty(e.t, a.sync())
		a.do("GET k")
		a.do("CLIENT TRACKING OFF")
		a.do("CLIENT TRACKING ON")
		b.do("SET k 3") // still remembered from before OFF, as in Redis
		require.Equal(e.t, []string{"k"}, a.sync())
		a.do("CLIENT TRACKING OFF")
		b.do("FLUSHALL") // not tracking: nothing
		require.Empty(e.t, a.sync())

		a.do("CLIENT TRACKING ON BCAST")
		a.do("GET r")
		a.do("RESET") // tracking off, back to RESP2
		b.do("SET r 1")
		a.do("CLIENT TRACKINGINFO")
		require.Empty(e.t, a.sync())
		e.note("%s", e.info("clients", "tracking_clients"))

		// HELLO 2 while tracking: nowhere to send them (no redirection).
		h := e.dial("H", 3)
		h.do("CLIENT TRACKING ON")
		h.do("GET hk")
		h.raw("HELLO", "2")
		e.note("H: HELLO 2")
		b.do("SET hk 1")
		require.Empty(e.t, h.sync())
		h.do("GET hk")
		h.raw("HELLO", "3")
		e.note("H: HELLO 3")
		b.do("SET hk 2")
		require.Equal(e.t, []string{"hk"}, h.sync())
	})
}

func TestTrackingInfoAndClientList(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		fields := func() {
			e.note("%s", e.info("clients", "tracking_clients"))
			e.note("%s", e.info("stats", "tracking_total_keys", "tracking_total_items", "tracking_total_prefixes"))
		}
		fields()
		a := e.dial("A", 3)
		c := e.dial("C", 3)
		d := e.dial("D", 3)
		b := e.dial("B", 2)
		a.do("CLIENT TRACKING ON")
		c.do("CLIENT TRACKING ON OPTIN")
		d.do("CLIENT TRACKING ON BCAST PREFIX p1 PREFIX p2")
		fields()
		a.do("MGET k j")
		c.do("GET k")
		c.do("CLIENT CACHING YES")
		c.do("GET k")
		fields()
		for _, x := range []*trkConn{a, c, d, b} {
			e.note("%s %s", x.name, e.clientFields(x, "flags", "redir", "resp"))
		}
		b.do("SET k 1")
		a.sync()
		c.sync()
		fields()
		d.nc.Close()
		e.waitGone(d)
		fields()
		a.do("CLIENT TRACKING OFF")
		fields()
		b.do("SET j 1") // the entry of a client no longer tracking goes at the write
		fields()
		c.do("CLIENT CACHING YES")
		c.do("GET z")
		fields()
		a.nc.Close()
		c.nc.Close()
		e.waitGone(a)
		e.waitGone(c)
		fields()
	})
}

// TestTrackingInMultiSubscribe: replies that follow, inside EXEC, the
// command that made the connection's outbound queue (SUBSCRIBE here, as
// CLIENT TRACKING above) are sent with EXEC's, not held until the next
// command.
func TestTrackingInMultiSubscribe(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		a := e.dial("A", 2)
		a.do("MULTI")
		a.do("SUBSCRIBE ch")
		a.do("PING")
		a.do("EXEC")
		a.sync()
	})
}

// TestTrackingWhileBlocked: a tracking client blocked in BLPOP is told
// of invalidations while it waits, as in Redis.
func TestTrackingWhileBlocked(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		a := e.dial("A", 3)
		b := e.dial("B", 2)
		a.do("CLIENT TRACKING ON")
		a.do("GET k")
		a.send("BLPOP list 0")
		deadline := time.Now().Add(trkWait)
		for !strings.Contains(e.info("clients", "blocked_clients"), ":1") && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		b.do("SET k 1")
		require.Equal(e.t, []string{"k"}, a.waitPush())
		b.do("RPUSH list x")
		a.frame() // BLPOP's reply
		require.Empty(e.t, a.sync())
	})
}

// TestTrackingInMulti turns tracking on inside a transaction (the
// connection leaves its event loop, and gets its queue, in the middle of
// EXEC).
func TestTrackingInMulti(t *testing.T) {
	trkScenario(t, func(e *trkEnv) {
		a := e.dial("A", 3)
		b := e.dial("B", 2)
		a.do("MULTI")
		a.do("SET x 1")
		a.do("CLIENT TRACKING ON")
		a.do("GET k")
		a.do("GET x")
		a.do("EXEC")
		b.do("MSET k 1 x 2")
		require.Equal(e.t, []string{"k", "x"}, a.sync())
		a.do("CLIENT TRACKING OFF")
		a.do("MULTI")
		a.do("CLIENT TRACKING ON BCAST")
		a.do("SET y 1")
		a.do("EXEC") // its own write, after EXEC's reply
		require.Equal(e.t, []string{"y"}, a.syncKeys())
	})
}

// ---------------------------------------------------------------------------
// Concurrency (sessiond, and Redis for the stress test's own sake).

// TestTrackingSlowReaderDoesNotBlockWriters: a tracking client that does
// not read its socket must not hold up the clients whose writes it is told
// about, nor the expiry of keys. Its messages queue up instead (as Redis's
// output buffer grows).
func TestTrackingSlowReaderDoesNotBlockWriters(t *testing.T) {
	for _, m := range blkModes() {
		t.Run("event-loops="+m, func(t *testing.T) {
			t.Parallel()
			s := testserver.Start(t, testserver.WithConfig("event-loops", m))
			e := newTrkEnv(t, s.Addr, false)
			r := e.dial("R", 3)
			r.nc.(*net.TCPConn).SetReadBuffer(4096)
			r.raw("CLIENT", "TRACKING", "ON", "BCAST")
			w := e.dial("W", 2)
			// 1200 messages of 4 KB each: far more than the socket buffers
			// and the queue's own backlog bound (256 KB) take.
			name := strings.Repeat("k", 4096)
			done := make(chan error, 1)
			go func() {
				var b []byte
				for i := range 1200 {
					b = append(b, encodeCommand([]string{"SET", name + strconv.Itoa(i), "v", "PX", "1"})...)
				}
				w.nc.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := w.nc.Write(b); err != nil {
					done <- err
					return
				}
				for range 1200 {
					if _, err := readReply(w.br); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			start := time.Now()
			select {
			case err := <-done:
				require.NoError(t, err)
				t.Logf("writes: %v", time.Since(start))
			case <-time.After(10 * time.Second):
				t.Fatal("the writer is held up by a tracking client that does not read")
			}
			// The keys expire (each another message) without hanging either.
			require.Eventually(t, func() bool { return w.raw("DBSIZE").str == "0" }, 5*time.Second, 10*time.Millisecond)
			t.Logf("expiry: %v", time.Since(start))
			require.Equal(t, "PONG", w.raw("PING").str)
		})
	}
}

// TestTrackingStress runs readers that keep a client-side cache the way a
// client library does (a reply fills it, an invalidation empties it, in
// the order they arrive) against writers changing a small set of keys
// (SET, SET with a short expiry, DEL, MULTI/EXEC, scripts, the odd
// FLUSHALL), and clients that turn tracking off and on or have a broken
// redirection and ask about it. Once the writers stop and every reader has
// drained its messages, every cached value must be the server's: a stale
// cache is the worst bug there is here.
func TestTrackingStress(t *testing.T) {
	targets := map[string]func(t *testing.T) string{
		"redis": func(t *testing.T) string { return testserver.StartRedis(t).Addr },
	}
	for _, m := range blkModes() {
		targets["sessiond-event-loops="+m] = func(t *testing.T) string {
			return testserver.Start(t, testserver.WithConfig("event-loops", m)).Addr
		}
	}
	for name, start := range targets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			trkStress(t, start(t))
		})
	}
}

func trkStress(t *testing.T, addr string) {
	e := newTrkEnv(t, addr, false)
	keys := []string{"s0", "s1", "s2", "s3", "s4", "s5"}
	const readers, writers, rounds = 4, 3, 4
	dur := 200 * time.Millisecond
	var stop chan struct{}
	var wg sync.WaitGroup
	var errs chan error

	type reader struct {
		c     *trkConn
		cache map[string]string
		mode  string
	}
	var rs []*reader
	for i := range readers {
		mode := []string{"", "OPTIN", "", "NOLOOP"}[i%4]
		c := e.dial(fmt.Sprintf("R%d", i), 3)
		c.raw(blkFields(strings.TrimSpace("CLIENT TRACKING ON " + mode))...)
		rs = append(rs, &reader{c: c, cache: map[string]string{}, mode: mode})
	}
	// apply handles one frame: an invalidation empties cache entries.
	apply := func(r *reader, v rv) bool {
		if v.typ != '>' {
			return false
		}
		if len(v.elems) != 2 || v.elems[0].str != "invalidate" {
			errs <- fmt.Errorf("unexpected push %s", v)
			return true
		}
		if v.elems[1].null {
			clear(r.cache)
		}
		for _, k := range v.elems[1].elems {
			delete(r.cache, k.str)
		}
		return true
	}
	// req sends args and returns the reply, applying the pushes before it.
	req := func(r *reader, args ...string) (rv, error) {
		r.c.nc.SetDeadline(time.Now().Add(trkWait))
		if _, err := r.c.nc.Write(encodeCommand(args)); err != nil {
			return rv{}, err
		}
		for {
			v, err := readReply(r.c.br)
			if err != nil || !apply(r, v) {
				return v, err
			}
		}
	}
	// A client whose redirection broke asks about it meanwhile; another
	// turns tracking off and on.
	x := e.dial("X", 3)
	gone := e.dial("G", 2)
	x.raw("CLIENT", "TRACKING", "ON", "REDIRECT", gone.id)
	gone.nc.Close()
	e.waitGone(gone)
	y := e.dial("Y", 3)
	var ws []*trkConn
	for i := range writers {
		ws = append(ws, e.dial(fmt.Sprintf("W%d", i), 2))
	}
	cached := 0
	for round := range rounds {
		stop = make(chan struct{})
		errs = make(chan error, readers+writers+2)
		for i, r := range rs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := uint64(i*7919 + round*31 + 1)
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					rnd = rnd*6364136223846793005 + 1442695040888963407
					k := keys[rnd>>33%uint64(len(keys))]
					if _, ok := r.cache[k]; ok {
						if _, err := req(r, "PING"); err != nil { // let messages in
							errs <- err
							return
						}
						continue
					}
					var v rv
					var err error
					switch {
					case r.mode == "OPTIN": // as rueidis: CACHING YES, MULTI, PTTL, GET, EXEC
						for _, c := range [][]string{{"CLIENT", "CACHING", "YES"}, {"MULTI"}, {"PTTL", k}, {"GET", k}} {
							if _, err = req(r, c...); err != nil {
								break
							}
						}
						if v, err = req(r, "EXEC"); err == nil && len(v.elems) == 2 {
							v = v.elems[1]
						}
					case n%3 == 0:
						k2 := keys[(rnd>>40)%uint64(len(keys))]
						if v, err = req(r, "MGET", k, k2); err == nil && len(v.elems) == 2 {
							if k2 != k {
								r.cache[k2] = trkVal(v.elems[1])
							}
							v = v.elems[0]
						}
					case n%5 == 0:
						v, err = req(r, "EVAL_RO", "return redis.call('get', KEYS[1])", "1", k)
					default:
						v, err = req(r, "GET", k)
					}
					if err != nil {
						errs <- err
						return
					}
					if r.mode == "NOLOOP" && n%7 == 0 { // its own write, not announced to it
						if _, err := req(r, "SET", k, "own"+strconv.Itoa(n)); err != nil {
							errs <- err
							return
						}
						delete(r.cache, k) // a NOLOOP client updates its cache itself
						continue
					}
					r.cache[k] = trkVal(v)
				}
			}()
		}
		for i, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := uint64(i*104729 + round*17 + 7)
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					rnd = rnd*6364136223846793005 + 1442695040888963407
					k := keys[rnd>>33%uint64(len(keys))]
					val := fmt.Sprintf("w%d-%d", i, n)
					var cmds [][]string
					switch rnd >> 20 % 20 {
					case 0:
						cmds = [][]string{{"DEL", k}}
					case 1:
						cmds = [][]string{{"SET", k, val, "PX", "3"}}
					case 2:
						cmds = [][]string{{"MULTI"}, {"SET", k, val}, {"APPEND", keys[0], "x"}, {"EXEC"}}
					case 3:
						cmds = [][]string{{"EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", k, val}}
					case 4:
						if rnd>>10%50 == 0 {
							cmds = [][]string{{"FLUSHALL"}}
						} else {
							cmds = [][]string{{"INCR", "counter"}}
						}
					default:
						cmds = [][]string{{"SET", k, val}}
					}
					w.nc.SetDeadline(time.Now().Add(trkWait))
					for _, c := range cmds {
						if _, err := w.nc.Write(encodeCommand(c)); err != nil {
							errs <- err
							return
						}
						if _, err := readReply(w.br); err != nil {
							errs <- err
							return
						}
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				for _, c := range []*trkConn{x, y} {
					var cmds [][]string
					if c == x {
						cmds = [][]string{{"GET", keys[n%len(keys)]}, {"CLIENT", "TRACKINGINFO"}, {"CLIENT", "INFO"}}
					} else {
						cmds = [][]string{{"CLIENT", "TRACKING", []string{"ON", "OFF"}[n%2], "BCAST"}, {"GET", keys[n%len(keys)]}}
					}
					c.nc.SetDeadline(time.Now().Add(trkWait))
					for _, cmd := range cmds {
						if _, err := c.nc.Write(encodeCommand(cmd)); err != nil {
							errs <- err
							return
						}
						for { // skip pushes
							v, err := readReply(c.br)
							if err != nil {
								errs <- err
								return
							}
							if v.typ != '>' {
								break
							}
						}
					}
				}
			}
		}()
		time.Sleep(dur)
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		// Quiet: the messages already sent arrive before a PING's reply.
		// But a key past its deadline is invalidated only when the server
		// deletes it (Redis: its expiry cycle or a lazy deletion;
		// sessiond: its timing wheel), shortly after; meanwhile clients
		// bound a cached value's life by its PTTL, as rueidis does. So a
		// value cached for a key that is gone gets a second.
		for _, r := range rs {
			_, err := req(r, "PING")
			require.NoError(t, err)
			for k, v := range r.cache {
				cached++
				server := trkVal(e.ctl.raw("GET", k))
				for wait := time.Now(); server == "(nil)" && v != server && time.Since(wait) < time.Second; {
					time.Sleep(5 * time.Millisecond)
					_, err := req(r, "PING")
					require.NoError(t, err)
					v = r.cache[k]
					if _, ok := r.cache[k]; !ok {
						v = server
					}
				}
				require.Equal(t, server, v, "round %d: %s (tracking %q) has a stale cache of %s", round, r.c.name, r.mode, k)
			}
		}
	}
	t.Logf("%d cached values checked", cached)
}

// trkVal is a GET reply as a cached value.
func trkVal(v rv) string {
	if v.null {
		return "(nil)"
	}
	return v.str
}

// TestTrackingTableMaxKeys: past tracking-table-max-keys, keys are
// forgotten and the clients that may cache them told, as Redis's
// trackingLimitUsedSlots does (Redis in its cron, sessiond at the next
// tracked read, so not compared byte for byte).
func TestTrackingTableMaxKeys(t *testing.T) {
	s := testserver.Start(t, testserver.WithConfig("tracking-table-max-keys", "3"))
	a, b := dialRaw(t, s.Addr), dialRaw(t, s.Addr)
	for _, cmd := range [][]string{{"HELLO", "3"}, {"CLIENT", "TRACKING", "ON"}} {
		_, err := a.do(cmd...)
		require.NoError(t, err)
	}
	// untilPong sends PING and returns the keys of the invalidations
	// that came before its PONG.
	untilPong := func(c *rconn) []string {
		c.c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err := c.c.Write(encodeCommand([]string{"PING"}))
		require.NoError(t, err)
		var keys []string
		for {
			v, err := readReply(c.br)
			require.NoError(t, err)
			if v.typ == '+' && v.str == "PONG" {
				return keys
			}
			if v.typ == '>' {
				keys = append(keys, pushKeys(t, v)...)
			}
		}
	}
	var forgotten []string
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5"} {
		a.c.Write(encodeCommand([]string{"GET", k}))
		for {
			v, err := readReply(a.br)
			require.NoError(t, err)
			if v.typ != '>' {
				break // GET's reply
			}
			forgotten = append(forgotten, pushKeys(t, v)...)
		}
	}
	forgotten = append(forgotten, untilPong(a)...)
	require.Len(t, forgotten, 2, "two of five keys over a limit of three")
	v, err := b.do("INFO", "stats")
	require.NoError(t, err)
	require.Contains(t, v.str, "tracking_total_keys:3\r\n")
	_, err = b.do("MSET", "k1", "x", "k2", "x", "k3", "x", "k4", "x", "k5", "x")
	require.NoError(t, err)
	written := untilPong(a)
	require.Len(t, written, 3, "only the keys still remembered are announced")
	require.ElementsMatch(t, []string{"k1", "k2", "k3", "k4", "k5"}, append(forgotten, written...))
	v, err = b.do("CONFIG", "GET", "tracking-table-max-keys")
	require.NoError(t, err)
	require.Equal(t, "*2\r\n$23\r\ntracking-table-max-keys\r\n$1\r\n3\r\n", string(v.raw))
}
