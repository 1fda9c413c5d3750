package resp_test

// Hash commands: exact raw replies, pinned where short, and compared byte
// for byte with a real redis-server (TestHashRepliesRedis) in RESP2 and
// RESP3. Small hashes keep insertion order in both servers (a listpack in
// Redis), so even HGETALL compares exactly.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

const (
	hashNotIntR = "-ERR hash value is not an integer\r\n"
	hashNotFltR = "-ERR hash value is not a float\r\n"
	overflowR   = "-ERR increment or decrement would overflow\r\n"
	syntaxR     = "-ERR syntax error\r\n"
)

// hstep is one command line (split on spaces) and its pinned reply in
// RESP2 and RESP3 ("" = not pinned; r3 "" = same as RESP2).
type hstep struct {
	line   string
	r2, r3 string
	args   []string // instead of line, for odd bytes
}

func hs(line, r2 string) hstep            { return hstep{line: line, r2: r2} }
func hs3(line, r2, r3 string) hstep       { return hstep{line: line, r2: r2, r3: r3} }
func hsArgs(r2 string, a ...string) hstep { return hstep{args: a, r2: r2} }

func (s hstep) argv() []string {
	if s.args != nil {
		return s.args
	}
	return strings.Fields(s.line)
}

var hashCases = []struct {
	name  string
	steps []hstep
}{
	{"hset hget hmget", []hstep{
		hs("HSET h a 1 b 2 c 3", ":3\r\n"), hs("HSET h a 9 d 4", ":1\r\n"),
		hs3("HGET h a", rbulk("9"), ""), hs3("HGET h zz", nilR, "_\r\n"), hs3("HGET nokey a", nilR, "_\r\n"),
		hs3("HMGET h a zz d", "*3\r\n$1\r\n9\r\n$-1\r\n$1\r\n4\r\n", "*3\r\n$1\r\n9\r\n_\r\n$1\r\n4\r\n"),
		hs3("HMGET nokey a b", "*2\r\n$-1\r\n$-1\r\n", "*2\r\n_\r\n_\r\n"),
		hs("HSET h a", "-ERR wrong number of arguments for 'hset' command\r\n"),
		hs("HSET h a 1 b", "-ERR wrong number of arguments for 'hset' command\r\n"),
		hs("HMSET h a", "-ERR wrong number of arguments for 'hmset' command\r\n"),
		hs("HMSET h x 1 y 2", okR), hs("HSET h", "-ERR wrong number of arguments for 'hset' command\r\n"),
	}},
	{"hgetall keeps insertion order", []hstep{
		hs("HSET h z 1 a 2 m 3", ":3\r\n"), hs("HSET h a longer-value", ":0\r\n"), hs("HDEL h z", ":1\r\n"), hs("HSET h z 4", ":1\r\n"),
		hs3("HGETALL h", "*6\r\n$1\r\na\r\n$12\r\nlonger-value\r\n$1\r\nm\r\n$1\r\n3\r\n$1\r\nz\r\n$1\r\n4\r\n",
			"%3\r\n$1\r\na\r\n$12\r\nlonger-value\r\n$1\r\nm\r\n$1\r\n3\r\n$1\r\nz\r\n$1\r\n4\r\n"),
		hs("HKEYS h", "*3\r\n$1\r\na\r\n$1\r\nm\r\n$1\r\nz\r\n"),
		hs("HVALS h", "*3\r\n$12\r\nlonger-value\r\n$1\r\n3\r\n$1\r\n4\r\n"),
		hs3("HGETALL nokey", "*0\r\n", "%0\r\n"), hs("HKEYS nokey", "*0\r\n"), hs("HVALS nokey", "*0\r\n"),
	}},
	{"empty field and value", []hstep{
		hsArgs(":1\r\n", "HSET", "h", "", ""), hsArgs("$0\r\n\r\n", "HGET", "h", ""), hsArgs(":1\r\n", "HEXISTS", "h", ""),
		hsArgs(":0\r\n", "HSTRLEN", "h", ""), hs3("HGETALL h", "*2\r\n$0\r\n\r\n$0\r\n\r\n", "%1\r\n$0\r\n\r\n$0\r\n\r\n"), hs("HSCAN h 0", "*2\r\n$1\r\n0\r\n*2\r\n$0\r\n\r\n$0\r\n\r\n"),
		hsArgs("$0\r\n\r\n", "HRANDFIELD", "h"),
	}},
	{"binary fields", []hstep{
		hsArgs(":2\r\n", "HSET", "h", "\x00\xff", "\r\n", "a b", "\x00"), hsArgs(rbulk("\r\n"), "HGET", "h", "\x00\xff"),
		hs("HGETALL h", ""), hs("HLEN h", ":2\r\n"),
	}},
	{"hsetnx", []hstep{
		hs("HSETNX h f v", ":1\r\n"), hs("HSETNX h f w", ":0\r\n"), hs("HGET h f", rbulk("v")),
		hs("HSETNX h", "-ERR wrong number of arguments for 'hsetnx' command\r\n"), hs("SET s x", okR), hs("HSETNX s f v", wrongR),
	}},
	{"hdel removes the key with its last field", []hstep{
		hs("HSET h a 1 b 2", ":2\r\n"), hs("HDEL h a a zz", ":1\r\n"), hs("HDEL nokey a", ":0\r\n"), hs("HDEL h b c", ":1\r\n"),
		hs("EXISTS h", ":0\r\n"), hs("TYPE h", "+none\r\n"), hs("HLEN h", ":0\r\n"), hs("HDEL h", "-ERR wrong number of arguments for 'hdel' command\r\n"),
	}},
	{"hexists hlen hstrlen", []hstep{
		hs("HSET h a hello b 12345", ":2\r\n"), hs("HEXISTS h a", ":1\r\n"), hs("HEXISTS h z", ":0\r\n"), hs("HEXISTS nokey a", ":0\r\n"),
		hs("HLEN h", ":2\r\n"), hs("HLEN nokey", ":0\r\n"), hs("HSTRLEN h a", ":5\r\n"), hs("HSTRLEN h b", ":5\r\n"), hs("HSTRLEN h z", ":0\r\n"),
		hs("HSTRLEN nokey z", ":0\r\n"),
	}},
	{"hincrby", []hstep{
		hs("HINCRBY h n 5", ":5\r\n"), hs("HINCRBY h n -10", ":-5\r\n"), hs("HGET h n", rbulk("-5")), hs("HINCRBY h n abc", notIntR),
		hs("HINCRBY h n 1.5", notIntR), hs("HSET h s abc f 1.5 sp 01 big 9223372036854775807 small -9223372036854775808", ":5\r\n"),
		hs("HINCRBY h s 1", hashNotIntR), hs("HINCRBY h f 1", hashNotIntR), hs("HINCRBY h sp 1", hashNotIntR),
		hs("HINCRBY h big 1", overflowR), hs("HINCRBY h big 0", ":9223372036854775807\r\n"), hs("HINCRBY h small -1", overflowR),
		hs("HINCRBY h small 9223372036854775807", ":-1\r\n"), hs("SET str x", okR), hs("HINCRBY str n abc", notIntR), hs("HINCRBY str n 1", wrongR),
	}},
	{"hincrbyfloat", []hstep{
		hs("HINCRBYFLOAT h n 1.5", rbulk("1.5")), hs("HINCRBYFLOAT h n 0.1", rbulk("1.6")), hs("HINCRBYFLOAT h n -1.6", rbulk("0")),
		hs("HINCRBYFLOAT h n 1e2", rbulk("100")), hs("HINCRBYFLOAT h n abc", notFltR), hs("HINCRBYFLOAT h n inf", "-ERR value is NaN or Infinity\r\n"),
		hs("HINCRBYFLOAT h n nan", notFltR), hs("HSET h s abc i inf", ":2\r\n"), hs("HINCRBYFLOAT h s 1", hashNotFltR),
		hs("HINCRBYFLOAT h i 1", nanR), hs("HINCRBYFLOAT h x 0x10", rbulk("16")), hs("HINCRBYFLOAT h big 1e4932", ""),
		hs("HINCRBYFLOAT h big 1e4932", nanR), hs("HINCRBYFLOAT h big 1", ""), hs("HGET h big", ""),
		hs("SET str x", okR), hs("HINCRBYFLOAT str n abc", notFltR), hs("HINCRBYFLOAT str n -inf", "-ERR value is NaN or Infinity\r\n"),
		hs("HINCRBYFLOAT str n 1", wrongR),
	}},
	{"hrandfield", []hstep{
		hs3("HRANDFIELD nokey", nilR, "_\r\n"), hs("HRANDFIELD nokey 3", "*0\r\n"), hs("HRANDFIELD nokey -3 WITHVALUES", "*0\r\n"),
		hs("HSET h a 1 b 2 c 3", ":3\r\n"),
		hs3("HRANDFIELD h 3 WITHVALUES", "*6\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n",
			"*3\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n"),
		hs("HRANDFIELD h 10", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"), hs("HRANDFIELD h 0", "*0\r\n"), hs("HRANDFIELD h 0 withvalues", "*0\r\n"),
		hs("HRANDFIELD h abc", notIntR), hs("HRANDFIELD h 1 WITHVALUE", syntaxR), hs("HRANDFIELD h 1 WITHVALUES x", syntaxR),
		hs("HRANDFIELD h -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"),
		hs("HRANDFIELD h -9223372036854775807 WITHVALUES", "-ERR value is out of range\r\n"),
		hs("HRANDFIELD h 4611686018427387904 WITHVALUES", "-ERR value is out of range\r\n"),
		hs("SET s x", okR), hs("HRANDFIELD s", wrongR), hs("HRANDFIELD s 0", wrongR), hs("HRANDFIELD s abc", notIntR),
		hs("HSET one f v", ":1\r\n"), hs("HRANDFIELD one -3", "*3\r\n$1\r\nf\r\n$1\r\nf\r\n$1\r\nf\r\n"),
		hs3("HRANDFIELD one -2 withvalues", "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\nf\r\n$1\r\nv\r\n",
			"*2\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"),
		hs("HRANDFIELD one", rbulk("f")), hs("HRANDFIELD one 1", "*1\r\n$1\r\nf\r\n"),
	}},
	{"hscan", []hstep{
		hs("HSCAN nokey 0", emptyScR), hs("HSCAN nokey 0 bogus", emptyScR), hs("HSCAN nokey abc", "-ERR invalid cursor\r\n"),
		hs("HSET h a1 1 b1 2 a2 3", ":3\r\n"),
		hs("HSCAN h 0", "*2\r\n$1\r\n0\r\n*6\r\n$2\r\na1\r\n$1\r\n1\r\n$2\r\nb1\r\n$1\r\n2\r\n$2\r\na2\r\n$1\r\n3\r\n"),
		hs("HSCAN h 0 MATCH a* COUNT 1", "*2\r\n$1\r\n0\r\n*4\r\n$2\r\na1\r\n$1\r\n1\r\n$2\r\na2\r\n$1\r\n3\r\n"),
		hs("HSCAN h 0 NOVALUES", syntaxR), hs("HSCAN h 0 COUNT 0", syntaxR), hs("HSCAN h 0 COUNT abc", notIntR), hs("HSCAN h 0 MATCH", syntaxR),
		hs("HSCAN h 0 TYPE string", syntaxR), hs("SET s x", okR), hs("HSCAN s 0", wrongR), hs("HSCAN s abc", "-ERR invalid cursor\r\n"),
	}},
	{"wrong type", []hstep{
		hs("SADD s m", ":1\r\n"), hs("HSET s a 1", wrongR), hs("HMSET s a 1", wrongR), hs("HGET s a", wrongR), hs("HMGET s a", wrongR),
		hs("HGETALL s", wrongR), hs("HKEYS s", wrongR), hs("HVALS s", wrongR), hs("HDEL s a", wrongR), hs("HEXISTS s a", wrongR),
		hs("HLEN s", wrongR), hs("HSTRLEN s a", wrongR), hs("HINCRBY s a 1", wrongR), hs("HINCRBYFLOAT s a 1", wrongR),
		hs("HSET h a 1", ":1\r\n"), hs("GET h", wrongR), hs("SADD h m", wrongR), hs("SMEMBERS h", wrongR), hs("INCR h", wrongR),
		hs("APPEND h x", wrongR), hs("SET h x GET", wrongR), hs("STRLEN h", wrongR), hs("SINTER h", wrongR),
	}},
	{"large hashes", []hstep{
		hs("HSET big f "+strings.Repeat("v", 65), ":1\r\n"), hs("HSTRLEN big f", ":65\r\n"), hs("HSET big g 1", ":1\r\n"),
		hs("HLEN big", ":2\r\n"), hs("HDEL big f", ":1\r\n"), hs3("HGETALL big", "*2\r\n$1\r\ng\r\n$1\r\n1\r\n", "%1\r\n$1\r\ng\r\n$1\r\n1\r\n"), hs("HDEL big g", ":1\r\n"),
		hs("EXISTS big", ":0\r\n"), hs("HINCRBYFLOAT big n 1e100", ""), hs("HSTRLEN big n", ""),
	}},
	{"generic commands on hashes", []hstep{
		hs("HSET h a 1 b 2", ":2\r\n"), hs("TYPE h", "+hash\r\n"), hs("SCAN 0 TYPE hash", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\nh\r\n"),
		hs("SCAN 0 TYPE set", emptyScR), hs("COPY h h2", ":1\r\n"), hs("HSET h2 a 9", ":0\r\n"), hs("HGET h a", rbulk("1")),
		hs("RENAME h2 h3", okR), hs("HGET h3 a", rbulk("9")), hs("EXISTS h2 h3", ":1\r\n"), hs("MOVE h3 1", ":1\r\n"),
		hs("SELECT 1", okR), hs3("HGETALL h3", "*4\r\n$1\r\na\r\n$1\r\n9\r\n$1\r\nb\r\n$1\r\n2\r\n", "%2\r\n$1\r\na\r\n$1\r\n9\r\n$1\r\nb\r\n$1\r\n2\r\n"), hs("SELECT 0", okR),
		hs("PEXPIREAT h 4102444800000", ":1\r\n"), hs("HSET h c 3", ":1\r\n"), hs("EXPIRETIME h", ":4102444800\r\n"),
		hs("HDEL h c", ":1\r\n"), hs("EXPIRETIME h", ":4102444800\r\n"), hs("PERSIST h", ":1\r\n"), hs("COPY h h4 DB 2", ":1\r\n"), hs("DEL h", ":1\r\n"), hs("UNLINK h4", ":0\r\n"),
		hs("SELECT 2", okR), hs("UNLINK h4", ":1\r\n"),
	}},
}

// runHashCases runs the cases on sessiond and, if redisAddr is set, on
// redis too, comparing every reply byte for byte and with its pin.
func runHashCases(t *testing.T, addr, redisAddr string, resp3 bool) {
	for _, tc := range hashCases {
		t.Run(tc.name, func(t *testing.T) {
			s := dialRaw(t, addr)
			var r *rconn
			if redisAddr != "" {
				r = dialRaw(t, redisAddr)
			}
			for _, c := range []*rconn{s, r} {
				if c == nil {
					continue
				}
				v, err := c.do("FLUSHALL")
				require.NoError(t, err)
				require.Equal(t, okR, string(v.raw))
				if resp3 {
					_, err := c.do("HELLO", "3")
					require.NoError(t, err)
				}
			}
			for i, st := range tc.steps {
				v, err := s.do(st.argv()...)
				require.NoError(t, err, "step %d %q", i, st.argv())
				want := st.r2
				if resp3 && st.r3 != "" {
					want = st.r3
				}
				if want != "" {
					require.Equal(t, want, string(v.raw), "step %d %q", i, st.argv())
				}
				if r != nil {
					rv, err := r.do(st.argv()...)
					require.NoError(t, err, "redis step %d %q", i, st.argv())
					require.Equal(t, string(rv.raw), string(v.raw), "step %d %q: sessiond differs from redis", i, st.argv())
				}
			}
		})
	}
}

func TestHashRepliesSessiond(t *testing.T) {
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runHashCases(t, srv.Addr, "", false) })
	t.Run("resp3", func(t *testing.T) { runHashCases(t, srv.Addr, "", true) })
}

// TestHashRepliesRedis proves the pins against real Redis and compares
// every reply, pinned or not, with it.
func TestHashRepliesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	srv := testserver.Start(t)
	t.Run("resp2", func(t *testing.T) { runHashCases(t, srv.Addr, red.Addr, false) })
	t.Run("resp3", func(t *testing.T) { runHashCases(t, srv.Addr, red.Addr, true) })
}
