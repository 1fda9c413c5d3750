package resp_test

// Exact raw replies, one table, run against sessiond and (to prove each
// expectation) against a real redis-server. Every difference the
// differential test (diff_test.go) found has a deterministic case here.

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// step is one command; conn 1 is a second connection (WATCH cases). An
// empty want is not checked.
type step struct {
	conn  int
	args  []string
	want  string
	sleep time.Duration // instead of a command
}

// pause waits, for cases about keys expiring (their TTLs are 100 ms).
func pause() step { return step{sleep: 300 * time.Millisecond} }

type replyCase struct {
	name  string
	steps []step
}

// s builds a step on the first connection from a command line split on
// spaces; use st for arguments with spaces or odd bytes.
func s(line, want string) step { return step{args: strings.Fields(line), want: want} }

func st(want string, args ...string) step { return step{args: args, want: want} }

// on2 runs line on the second connection.
func on2(line, want string) step { return step{conn: 1, args: strings.Fields(line), want: want} }

const (
	okR      = "+OK\r\n"
	nilR     = "$-1\r\n"
	wrongR   = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	notFltR  = "-ERR value is not a valid float\r\n"
	nanR     = "-ERR increment would produce NaN or Infinity\r\n"
	notIntR  = "-ERR value is not an integer or out of range\r\n"
	int32R   = "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"
	dbRangeR = "-ERR DB index is out of range\r\n"
	emptyScR = "*2\r\n$1\r\n0\r\n*0\r\n"
	pongExec = "*1\r\n+PONG\r\n"
)

// bulk is a bulk string reply.
func bulk(v string) string { return "$" + itoa(len(v)) + "\r\n" + v + "\r\n" }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

var replyCases = []replyCase{
	// INCRBYFLOAT: long double arithmetic and format, strtold parsing, and
	// the order of the checks (type, stored value, increment).
	{"incrbyfloat hex increment", []step{s("SET k 1", okR), s("INCRBYFLOAT k 0x10", bulk("17"))}},
	{"incrbyfloat hex with exponent", []step{s("INCRBYFLOAT k 0x1.8p1", bulk("3"))}},
	{"incrbyfloat inf is NaN or Infinity", []step{s("SET k 1", okR), s("INCRBYFLOAT k inf", nanR)}},
	{"incrbyfloat -infinity", []step{s("INCRBYFLOAT k -Infinity", nanR)}},
	{"incrbyfloat stored inf", []step{s("SET k inf", okR), s("INCRBYFLOAT k 1", nanR)}},
	{"incrbyfloat nan", []step{s("INCRBYFLOAT k nan", notFltR)}},
	{"incrbyfloat beyond double range", []step{s("INCRBYFLOAT k 1e30", bulk("1000000000000000000024696061952"))}},
	{"incrbyfloat double max twice", []step{
		s("INCRBYFLOAT k 1e308", ""),
		s("INCRBYFLOAT k 1e308", bulk("199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096")),
	}},
	{"incrbyfloat overflow of long double", []step{s("INCRBYFLOAT k 1e4932", ""), s("INCRBYFLOAT k 1e4932", nanR)}},
	{"incrbyfloat out of long double range", []step{s("INCRBYFLOAT k 1e5000", notFltR)}},
	{"incrbyfloat underflow to zero", []step{s("INCRBYFLOAT k 1e-5000", notFltR)}},
	{"incrbyfloat precision of a large value", []step{s("SET k 100000000000000000", okR), s("INCRBYFLOAT k 0.1", bulk("100000000000000000.1015625"))}},
	{"incrbyfloat tenths", []step{s("SET k 10.5", okR), s("INCRBYFLOAT k 0.1", bulk("10.6")), s("INCRBYFLOAT k -10.6", bulk("0"))}},
	{"incrbyfloat forms", []step{
		s("INCRBYFLOAT k .5", bulk("0.5")), s("INCRBYFLOAT k 5.", bulk("5.5")), s("INCRBYFLOAT k +2", bulk("7.5")),
		s("INCRBYFLOAT k 1e", notFltR), s("INCRBYFLOAT k 0x", notFltR), st(notFltR, "INCRBYFLOAT", "k", " 1"),
		st(notFltR, "INCRBYFLOAT", "k", "1 "), st(notFltR, "INCRBYFLOAT", "k", ""), s("INCRBYFLOAT k 0b1", notFltR),
		s("INCRBYFLOAT k 1_0", notFltR), s("GET k", bulk("7.5")),
	}},
	{"incrbyfloat wrong type before a bad increment", []step{s("SADD k m", ":1\r\n"), s("INCRBYFLOAT k abc", wrongR)}},
	{"incrbyfloat bad stored value before a bad increment", []step{s("SET k abc", okR), s("INCRBYFLOAT k xyz", notFltR)}},

	// Integer arguments: the messages of getPositiveLong, getRangeLong and
	// getInt (object.c), which differ from the generic one.
	{"spop count not an integer", []step{s("SPOP k abc", "-ERR value is out of range, must be positive\r\n")}},
	{"spop count negative", []step{s("SPOP k -1", "-ERR value is out of range, must be positive\r\n")}},
	{"srandmember count LONG_MIN", []step{s("SRANDMEMBER k -9223372036854775808",
		"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")}},
	{"sintercard numkeys not an integer", []step{s("SINTERCARD abc k", "-ERR numkeys should be greater than 0\r\n")}},
	{"sintercard limit not an integer", []step{s("SINTERCARD 1 k LIMIT abc", "-ERR LIMIT can't be negative\r\n")}},
	{"select not an integer", []step{s("SELECT abc", notIntR)}},
	{"select beyond int32", []step{s("SELECT 4294967296", int32R)}},
	{"select out of range", []step{s("SELECT 16", dbRangeR)}},
	{"move beyond int32", []step{s("MOVE k 4294967296", int32R)}},
	{"swapdb parses both before the range check", []step{s("SWAPDB 16 abc", "-ERR invalid second DB index\r\n")}},
	{"swapdb first beyond int32", []step{s("SWAPDB 4294967296 0", "-ERR invalid first DB index\r\n")}},
	{"swapdb out of range", []step{s("SWAPDB 0 99", dbRangeR)}},

	// Scan cursors are parsed with strtoul.
	{"scan empty cursor is 0", []step{st(emptyScR, "SCAN", "")}},
	{"scan signed cursor", []step{s("SCAN +0", emptyScR)}},
	{"scan sign alone", []step{s("SCAN -", "-ERR invalid cursor\r\n")}},
	{"scan cursor overflow", []step{s("SCAN 99999999999999999999", "-ERR invalid cursor\r\n")}},
	{"scan leading space", []step{st("-ERR invalid cursor\r\n", "SCAN", " 0")}},
	{"scan cursor ends at NUL", []step{st(emptyScR, "SCAN", "0\x00junk")}},

	// SSCAN looks the key up before it parses the options.
	{"sscan missing key ignores bad options", []step{s("SSCAN nokey 0 COUNT 0", emptyScR)}},
	{"sscan wrong type before bad options", []step{s("SET k v", okR), s("SSCAN k 0 COUNT 0", wrongR)}},
	{"sscan bad options on a set", []step{s("SADD k m", ":1\r\n"), s("SSCAN k 0 COUNT 0", "-ERR syntax error\r\n")}},
	{"sscan empty cursor", []step{s("SADD k m", ":1\r\n"), st("*2\r\n$1\r\n0\r\n*1\r\n$1\r\nm\r\n", "SSCAN", "k", "")}},

	// SMOVE: a missing source is 0 whatever the destination holds.
	{"smove missing source, string destination", []step{s("SET d v", okR), s("SMOVE nosrc d m", ":0\r\n")}},
	{"smove string source", []step{s("SET src v", okR), s("SMOVE src d m", wrongR)}},

	// GETEX looks the key up before it validates the time.
	{"getex missing key, bad time", []step{s("GETEX k PX -5", nilR)}},
	{"getex set key, bad time", []step{s("SADD k m", ":1\r\n"), s("GETEX k EX 0", wrongR)}},
	{"getex string, bad time", []step{s("SET k v", okR), s("GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n")}},

	// MGET of an empty string is an empty bulk, not a miss.
	{"mget empty string", []step{st(okR, "SET", "k", ""), s("MGET k nokey", "*2\r\n$0\r\n\r\n$-1\r\n")}},
	{"mget empty string set in MULTI", []step{
		s("MULTI", okR), st("+QUEUED\r\n", "SET", "k", ""), s("EXEC", "*1\r\n+OK\r\n"), s("MGET k", "*1\r\n$0\r\n\r\n"),
	}},
	{"mget empty string from append", []step{st(":0\r\n", "APPEND", "k", ""), s("MGET k", "*1\r\n$0\r\n\r\n")}},

	// SETRANGE with a huge offset is an error (it used to crash sessiond).
	{"setrange offset overflow", []step{
		s("SETRANGE k 9223372036854775807 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"),
		s("PING", "+PONG\r\n"),
	}},

	// Error texts are formatted as C strings: arguments end at NUL, CR and
	// LF become spaces, and addReplyErrorFormat trims them at the ends.
	{"unknown command with NUL, 0xff and CRLF", []step{st(
		"-ERR unknown command 'nosuchcmd', with args beginning with: 'a' '\xff' 'c  d' \r\n",
		"nosuchcmd", "a\x00b", "\xff", "c\r\nd")}},
	{"unknown command name with NUL", []step{st("-ERR unknown command 'x', with args beginning with: \r\n", "x\x00y")}},
	{"unknown subcommand with NUL", []step{st("-ERR unknown subcommand 'a'. Try CLIENT HELP.\r\n", "CLIENT", "a\x00b")}},
	{"expire unsupported option with CRLF", []step{s("SET k v", okR), st("-ERR Unsupported option foo\r\n", "EXPIRE", "k", "10", "foo\r\n")}},
	{"expire unsupported option with NUL", []step{s("SET k v", okR), st("-ERR Unsupported option a\r\n", "EXPIRE", "k", "10", "a\x00b")}},
	{"expire unsupported option with inner LF", []step{s("SET k v", okR), st("-ERR Unsupported option a b\r\n", "EXPIRE", "k", "10", "a\nb")}},

	// WATCH: only keys that really changed abort EXEC.
	{"watch: multi-key DEL dirties only deleted keys", []step{
		s("SET u 1", okR), s("WATCH b", okR), on2("UNLINK c b u", ":1\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
	{"watch: multi-key DEL dirties a deleted key", []step{
		s("SET u 1", okR), s("WATCH u", okR), on2("DEL c u", ":1\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: FLUSHALL of a missing key", []step{
		s("SET other 1", okR), s("WATCH x", okR), on2("FLUSHALL", okR),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
	{"watch: FLUSHDB of an existing key", []step{
		s("SET x 1", okR), s("WATCH x", okR), on2("FLUSHDB", okR),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: SWAPDB of a key missing on both sides", []step{
		s("SET other 1", okR), s("WATCH x", okR), on2("SWAPDB 0 1", okR),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
	{"watch: SWAPDB brings the key in", []step{
		s("SELECT 1", okR), s("SET x 1", okR), s("SELECT 0", okR), s("WATCH x", okR), on2("SWAPDB 0 1", okR),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: empty SUNIONSTORE into a missing key", []step{
		s("WATCH d", okR), on2("SUNIONSTORE d nokey", ":0\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
	{"watch: empty SINTERSTORE deletes the key", []step{
		s("SADD d m", ":1\r\n"), s("WATCH d", okR), on2("SINTERSTORE d nokey", ":0\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: SMOVE of a member already in the destination", []step{
		s("SADD s m n", ":2\r\n"), s("SADD d m", ":1\r\n"), s("WATCH d", okR), on2("SMOVE s d m", ":1\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
	{"watch: SMOVE adds to the destination", []step{
		s("SADD s m n", ":2\r\n"), s("WATCH d", okR), on2("SMOVE s d m", ":1\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},

	// EXPIRETIME rounds to the nearest second, like TTL.
	{"expiretime rounds", []step{
		s("SET k v", okR), s("PEXPIREAT k 17000000000000499", ":1\r\n"), s("EXPIRETIME k", ":17000000000000\r\n"),
		s("PEXPIREAT k 17000000000000500", ":1\r\n"), s("EXPIRETIME k", ":17000000000001\r\n"),
	}},
	{"expiretime near the int64 limit", []step{
		s("SET k v PXAT 9223372036854775807", okR), s("EXPIRETIME k", ":9223372036854776\r\n"),
		s("PEXPIRETIME k", ":9223372036854775807\r\n"),
	}},

	// Expired keys are gone for every command, and a watched key that
	// expires aborts EXEC (Redis: isWatchedKeyExpired, and the deletion of
	// an expired key signals a modification).
	{"expired keys are gone", []step{
		s("SET k v PX 100", okR), s("SADD s m", ":1\r\n"), s("PEXPIRE s 100", ":1\r\n"), s("SET live 1", okR), pause(),
		s("EXISTS k s live", ":1\r\n"), s("TYPE k", "+none\r\n"), s("TTL s", ":-2\r\n"), s("GET k", nilR),
		s("MGET k live", "*2\r\n$-1\r\n$1\r\n1\r\n"), s("SMEMBERS s", "*0\r\n"), s("SCARD s", ":0\r\n"),
		s("KEYS *", "*1\r\n$4\r\nlive\r\n"), s("SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n"),
		s("RENAME k x", "-ERR no such key\r\n"), s("INCR k", ":1\r\n"), s("TTL k", ":-1\r\n"),
		s("SADD s m2", ":1\r\n"), s("TTL s", ":-1\r\n"), s("SMEMBERS s", "*1\r\n$2\r\nm2\r\n"),
	}},
	{"watch: the watched key expires", []step{
		s("SET k v PX 100", okR), s("WATCH k", okR), pause(),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: the watched key expires and is read", []step{
		s("SET k v PX 100", okR), s("WATCH k", okR), pause(), on2("GET k", nilR),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: the watched key expires and is written", []step{
		s("SET k v PX 100", okR), s("WATCH k", okR), pause(), on2("SETRANGE k 0 x", ":1\r\n"),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", "*-1\r\n"),
	}},
	{"watch: a key already expired when watched", []step{
		s("SET k v PX 100", okR), pause(), s("WATCH k", okR),
		s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
	{"watch: a missing key stays missing", []step{
		s("WATCH k", okR), on2("GET k", nilR), s("MULTI", okR), s("PING", "+QUEUED\r\n"), s("EXEC", pongExec),
	}},
}

func runReplyCases(t *testing.T, addr string) {
	for _, tc := range replyCases {
		t.Run(tc.name, func(t *testing.T) {
			conns := []*rconn{dialRaw(t, addr), dialRaw(t, addr)}
			v, err := conns[0].do("FLUSHALL")
			require.NoError(t, err)
			require.Equal(t, okR, string(v.raw))
			for i, stp := range tc.steps {
				if stp.sleep > 0 {
					time.Sleep(stp.sleep)
					continue
				}
				v, err := conns[stp.conn].do(stp.args...)
				require.NoError(t, err, "step %d %q", i, stp.args)
				if stp.want != "" {
					require.Equal(t, stp.want, string(v.raw), "step %d %q", i, stp.args)
				}
			}
		})
	}
}

func TestRepliesSessiond(t *testing.T) {
	srv := testserver.Start(t)
	runReplyCases(t, srv.Addr)
}

// TestRepliesRedis proves the expectations against real Redis.
func TestRepliesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	runReplyCases(t, red.Addr)
}
