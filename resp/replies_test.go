package resp_test

// Exact raw replies, one table, run against sessiond and (to prove each
// expectation) against a real redis-server. Every difference the
// differential test (diff_test.go) found has a deterministic case here.

import (
	"io"
	"net"
	"strconv"
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

// rpause waits, for cases about keys expiring (their TTLs are 100 ms).
func rpause() step { return step{sleep: 300 * time.Millisecond} }

type replyCase struct {
	name  string
	steps []step
}

// rcmd builds a step on the first connection from a command line split on
// spaces; rcmdArgs takes the arguments as they are (spaces, odd bytes).
func rcmd(line, want string) step { return step{args: strings.Fields(line), want: want} }

func rcmdArgs(want string, args ...string) step { return step{args: args, want: want} }

// rcmd2 runs line on the second connection.
func rcmd2(line, want string) step { return step{conn: 1, args: strings.Fields(line), want: want} }

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

// rbulk is a bulk string reply.
func rbulk(v string) string { return "$" + ritoa(len(v)) + "\r\n" + v + "\r\n" }

// ritoa formats a non-negative int.
func ritoa(n int) string {
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
	{"incrbyfloat hex increment", []step{rcmd("SET k 1", okR), rcmd("INCRBYFLOAT k 0x10", rbulk("17"))}},
	{"incrbyfloat hex with exponent", []step{rcmd("INCRBYFLOAT k 0x1.8p1", rbulk("3"))}},
	{"incrbyfloat inf is NaN or Infinity", []step{rcmd("SET k 1", okR), rcmd("INCRBYFLOAT k inf", nanR)}},
	{"incrbyfloat -infinity", []step{rcmd("INCRBYFLOAT k -Infinity", nanR)}},
	{"incrbyfloat stored inf", []step{rcmd("SET k inf", okR), rcmd("INCRBYFLOAT k 1", nanR)}},
	{"incrbyfloat nan", []step{rcmd("INCRBYFLOAT k nan", notFltR)}},
	{"incrbyfloat beyond double range", []step{rcmd("INCRBYFLOAT k 1e30", rbulk("1000000000000000000024696061952"))}},
	{"incrbyfloat double max twice", []step{
		rcmd("INCRBYFLOAT k 1e308", ""),
		rcmd("INCRBYFLOAT k 1e308", rbulk("199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096")),
	}},
	{"incrbyfloat overflow of long double", []step{rcmd("INCRBYFLOAT k 1e4932", ""), rcmd("INCRBYFLOAT k 1e4932", nanR)}},
	{"incrbyfloat out of long double range", []step{rcmd("INCRBYFLOAT k 1e5000", notFltR)}},
	{"incrbyfloat underflow to zero", []step{rcmd("INCRBYFLOAT k 1e-5000", notFltR)}},
	{"incrbyfloat precision of a large value", []step{rcmd("SET k 100000000000000000", okR), rcmd("INCRBYFLOAT k 0.1", rbulk("100000000000000000.1015625"))}},
	{"incrbyfloat tenths", []step{rcmd("SET k 10.5", okR), rcmd("INCRBYFLOAT k 0.1", rbulk("10.6")), rcmd("INCRBYFLOAT k -10.6", rbulk("0"))}},
	{"incrbyfloat forms", []step{
		rcmd("INCRBYFLOAT k .5", rbulk("0.5")), rcmd("INCRBYFLOAT k 5.", rbulk("5.5")), rcmd("INCRBYFLOAT k +2", rbulk("7.5")),
		rcmd("INCRBYFLOAT k 1e", notFltR), rcmd("INCRBYFLOAT k 0x", notFltR), rcmdArgs(notFltR, "INCRBYFLOAT", "k", " 1"),
		rcmdArgs(notFltR, "INCRBYFLOAT", "k", "1 "), rcmdArgs(notFltR, "INCRBYFLOAT", "k", ""), rcmd("INCRBYFLOAT k 0b1", notFltR),
		rcmd("INCRBYFLOAT k 1_0", notFltR), rcmd("GET k", rbulk("7.5")),
	}},
	{"incrbyfloat wrong type before a bad increment", []step{rcmd("SADD k m", ":1\r\n"), rcmd("INCRBYFLOAT k abc", wrongR)}},
	{"incrbyfloat bad stored value before a bad increment", []step{rcmd("SET k abc", okR), rcmd("INCRBYFLOAT k xyz", notFltR)}},

	// Integer arguments: the messages of getPositiveLong, getRangeLong and
	// getInt (object.c), which differ from the generic one.
	{"spop count not an integer", []step{rcmd("SPOP k abc", "-ERR value is out of range, must be positive\r\n")}},
	{"spop count negative", []step{rcmd("SPOP k -1", "-ERR value is out of range, must be positive\r\n")}},
	{"srandmember count LONG_MIN", []step{rcmd("SRANDMEMBER k -9223372036854775808",
		"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n")}},
	{"sintercard numkeys not an integer", []step{rcmd("SINTERCARD abc k", "-ERR numkeys should be greater than 0\r\n")}},
	{"sintercard limit not an integer", []step{rcmd("SINTERCARD 1 k LIMIT abc", "-ERR LIMIT can't be negative\r\n")}},
	{"select not an integer", []step{rcmd("SELECT abc", notIntR)}},
	{"select beyond int32", []step{rcmd("SELECT 4294967296", int32R)}},
	{"select out of range", []step{rcmd("SELECT 16", dbRangeR)}},
	{"move beyond int32", []step{rcmd("MOVE k 4294967296", int32R)}},
	{"swapdb parses both before the range check", []step{rcmd("SWAPDB 16 abc", "-ERR invalid second DB index\r\n")}},
	{"swapdb first beyond int32", []step{rcmd("SWAPDB 4294967296 0", "-ERR invalid first DB index\r\n")}},
	{"swapdb out of range", []step{rcmd("SWAPDB 0 99", dbRangeR)}},

	// Scan cursors are parsed with strtoul.
	{"scan empty cursor is 0", []step{rcmdArgs(emptyScR, "SCAN", "")}},
	{"scan signed cursor", []step{rcmd("SCAN +0", emptyScR)}},
	{"scan sign alone", []step{rcmd("SCAN -", "-ERR invalid cursor\r\n")}},
	{"scan cursor overflow", []step{rcmd("SCAN 99999999999999999999", "-ERR invalid cursor\r\n")}},
	{"scan leading space", []step{rcmdArgs("-ERR invalid cursor\r\n", "SCAN", " 0")}},
	{"scan cursor ends at NUL", []step{rcmdArgs(emptyScR, "SCAN", "0\x00junk")}},

	// SSCAN looks the key up before it parses the options.
	{"sscan missing key ignores bad options", []step{rcmd("SSCAN nokey 0 COUNT 0", emptyScR)}},
	{"sscan wrong type before bad options", []step{rcmd("SET k v", okR), rcmd("SSCAN k 0 COUNT 0", wrongR)}},
	{"sscan bad options on a set", []step{rcmd("SADD k m", ":1\r\n"), rcmd("SSCAN k 0 COUNT 0", "-ERR syntax error\r\n")}},
	{"sscan empty cursor", []step{rcmd("SADD k m", ":1\r\n"), rcmdArgs("*2\r\n$1\r\n0\r\n*1\r\n$1\r\nm\r\n", "SSCAN", "k", "")}},

	// SMOVE: a missing source is 0 whatever the destination holds.
	{"smove missing source, string destination", []step{rcmd("SET d v", okR), rcmd("SMOVE nosrc d m", ":0\r\n")}},
	{"smove string source", []step{rcmd("SET src v", okR), rcmd("SMOVE src d m", wrongR)}},

	// GETEX looks the key up before it validates the time.
	{"getex missing key, bad time", []step{rcmd("GETEX k PX -5", nilR)}},
	{"getex set key, bad time", []step{rcmd("SADD k m", ":1\r\n"), rcmd("GETEX k EX 0", wrongR)}},
	{"getex string, bad time", []step{rcmd("SET k v", okR), rcmd("GETEX k EX 0", "-ERR invalid expire time in 'getex' command\r\n")}},

	// MGET of an empty string is an empty bulk, not a miss.
	{"mget empty string", []step{rcmdArgs(okR, "SET", "k", ""), rcmd("MGET k nokey", "*2\r\n$0\r\n\r\n$-1\r\n")}},
	{"mget empty string set in MULTI", []step{
		rcmd("MULTI", okR), rcmdArgs("+QUEUED\r\n", "SET", "k", ""), rcmd("EXEC", "*1\r\n+OK\r\n"), rcmd("MGET k", "*1\r\n$0\r\n\r\n"),
	}},
	{"mget empty string from append", []step{rcmdArgs(":0\r\n", "APPEND", "k", ""), rcmd("MGET k", "*1\r\n$0\r\n\r\n")}},

	// SETRANGE with a huge offset is an error (it used to crash sessiond).
	{"setrange offset overflow", []step{
		rcmd("SETRANGE k 9223372036854775807 x", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"),
		rcmd("PING", "+PONG\r\n"),
	}},

	// Error texts are formatted as C strings: arguments end at NUL, CR and
	// LF become spaces, and addReplyErrorFormat trims them at the ends.
	{"unknown command with NUL, 0xff and CRLF", []step{rcmdArgs(
		"-ERR unknown command 'nosuchcmd', with args beginning with: 'a' '\xff' 'c  d' \r\n",
		"nosuchcmd", "a\x00b", "\xff", "c\r\nd")}},
	{"unknown command name with NUL", []step{rcmdArgs("-ERR unknown command 'x', with args beginning with: \r\n", "x\x00y")}},
	{"unknown subcommand with NUL", []step{rcmdArgs("-ERR unknown subcommand 'a'. Try CLIENT HELP.\r\n", "CLIENT", "a\x00b")}},
	{"expire unsupported option with CRLF", []step{rcmd("SET k v", okR), rcmdArgs("-ERR Unsupported option foo\r\n", "EXPIRE", "k", "10", "foo\r\n")}},
	{"expire unsupported option with NUL", []step{rcmd("SET k v", okR), rcmdArgs("-ERR Unsupported option a\r\n", "EXPIRE", "k", "10", "a\x00b")}},
	{"expire unsupported option with inner LF", []step{rcmd("SET k v", okR), rcmdArgs("-ERR Unsupported option a b\r\n", "EXPIRE", "k", "10", "a\nb")}},

	// WATCH: only keys that really changed abort EXEC.
	{"watch: multi-key DEL dirties only deleted keys", []step{
		rcmd("SET u 1", okR), rcmd("WATCH b", okR), rcmd2("UNLINK c b u", ":1\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
	}},
	{"watch: multi-key DEL dirties a deleted key", []step{
		rcmd("SET u 1", okR), rcmd("WATCH u", okR), rcmd2("DEL c u", ":1\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: FLUSHALL of a missing key", []step{
		rcmd("SET other 1", okR), rcmd("WATCH x", okR), rcmd2("FLUSHALL", okR),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
	}},
	{"watch: FLUSHDB of an existing key", []step{
		rcmd("SET x 1", okR), rcmd("WATCH x", okR), rcmd2("FLUSHDB", okR),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: SWAPDB of a key missing on both sides", []step{
		rcmd("SET other 1", okR), rcmd("WATCH x", okR), rcmd2("SWAPDB 0 1", okR),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
	}},
	{"watch: SWAPDB brings the key in", []step{
		rcmd("SELECT 1", okR), rcmd("SET x 1", okR), rcmd("SELECT 0", okR), rcmd("WATCH x", okR), rcmd2("SWAPDB 0 1", okR),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: empty SUNIONSTORE into a missing key", []step{
		rcmd("WATCH d", okR), rcmd2("SUNIONSTORE d nokey", ":0\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
	}},
	{"watch: empty SINTERSTORE deletes the key", []step{
		rcmd("SADD d m", ":1\r\n"), rcmd("WATCH d", okR), rcmd2("SINTERSTORE d nokey", ":0\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: SMOVE of a member already in the destination", []step{
		rcmd("SADD s m n", ":2\r\n"), rcmd("SADD d m", ":1\r\n"), rcmd("WATCH d", okR), rcmd2("SMOVE s d m", ":1\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
	}},
	{"watch: SMOVE adds to the destination", []step{
		rcmd("SADD s m n", ":2\r\n"), rcmd("WATCH d", okR), rcmd2("SMOVE s d m", ":1\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},

	// EXPIRETIME rounds to the nearest second, like TTL.
	{"expiretime rounds", []step{
		rcmd("SET k v", okR), rcmd("PEXPIREAT k 17000000000000499", ":1\r\n"), rcmd("EXPIRETIME k", ":17000000000000\r\n"),
		rcmd("PEXPIREAT k 17000000000000500", ":1\r\n"), rcmd("EXPIRETIME k", ":17000000000001\r\n"),
	}},
	{"expiretime near the int64 limit", []step{
		rcmd("SET k v PXAT 9223372036854775807", okR), rcmd("EXPIRETIME k", ":9223372036854776\r\n"),
		rcmd("PEXPIRETIME k", ":9223372036854775807\r\n"),
	}},

	// Expired keys are gone for every command, and a watched key that
	// expires aborts EXEC (Redis: isWatchedKeyExpired, and the deletion of
	// an expired key signals a modification).
	{"expired keys are gone", []step{
		rcmd("SET k v PX 100", okR), rcmd("SADD s m", ":1\r\n"), rcmd("PEXPIRE s 100", ":1\r\n"), rcmd("SET live 1", okR), rpause(),
		rcmd("EXISTS k s live", ":1\r\n"), rcmd("TYPE k", "+none\r\n"), rcmd("TTL s", ":-2\r\n"), rcmd("GET k", nilR),
		rcmd("MGET k live", "*2\r\n$-1\r\n$1\r\n1\r\n"), rcmd("SMEMBERS s", "*0\r\n"), rcmd("SCARD s", ":0\r\n"),
		rcmd("KEYS *", "*1\r\n$4\r\nlive\r\n"), rcmd("SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nlive\r\n"),
		rcmd("RENAME k x", "-ERR no such key\r\n"), rcmd("INCR k", ":1\r\n"), rcmd("TTL k", ":-1\r\n"),
		rcmd("SADD s m2", ":1\r\n"), rcmd("TTL s", ":-1\r\n"), rcmd("SMEMBERS s", "*1\r\n$2\r\nm2\r\n"),
	}},
	{"watch: the watched key expires", []step{
		rcmd("SET k v PX 100", okR), rcmd("WATCH k", okR), rpause(),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: the watched key expires and is read", []step{
		rcmd("SET k v PX 100", okR), rcmd("WATCH k", okR), rpause(), rcmd2("GET k", nilR),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: the watched key expires and is written", []step{
		rcmd("SET k v PX 100", okR), rcmd("WATCH k", okR), rpause(), rcmd2("SETRANGE k 0 x", ":1\r\n"),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", "*-1\r\n"),
	}},
	{"watch: a key already expired when watched", []step{
		rcmd("SET k v PX 100", okR), rpause(), rcmd("WATCH k", okR),
		rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
	}},
	{"watch: a missing key stays missing", []step{
		rcmd("WATCH k", okR), rcmd2("GET k", nilR), rcmd("MULTI", okR), rcmd("PING", "+QUEUED\r\n"), rcmd("EXEC", pongExec),
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

// inlineCases are inline commands (telnet) and what Redis replies, up to
// and including the QUIT appended to each (or the connection closing).
// Not here: a NUL byte in an inline line, after which Redis (strchr) does
// not see the newline and waits; sessiond ends the line's last argument
// at the NUL instead.
var inlineCases = []struct{ in, want string }{
	{"PING", "+PONG\r\n"},
	{"   PING   ", "+PONG\r\n"},
	{"", ""},
	{"\r\n\r\nPING", "+PONG\r\n"},
	{"ECHO \"a b\"", "$3\r\na b\r\n"},
	{"ECHO \"a\\x41b\"", "$3\r\naAb\r\n"},
	{"ECHO \"a\\x4\"", "$3\r\nax4\r\n"},
	{"ECHO 'a\\nb'", "$4\r\na\\nb\r\n"},
	{"ECHO \"a\\nb\"", "$3\r\na\nb\r\n"},
	{"ECHO \"\\b\\a\\t\\r\\\\\\\"\\q\"", "$7\r\n\b\a\t\r\\\"q\r\n"},
	{"ECHO 'it\\'s'", "$4\r\nit's\r\n"},
	{"ECHO a\"b c\"", "$4\r\nab c\r\n"},
	{"ECHO a'b c'd", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	{"PING\tx", "$1\r\nx\r\n"},
	{"ECHO \"\"", "$0\r\n\r\n"},
	{"ECHO ''", "$0\r\n\r\n"},
	{"SET k \"\"\r\nMGET k", "+OK\r\n*1\r\n$0\r\n\r\n"},
	{"ECHO \"abc", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	{"ECHO \"a\"b", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	{"ECHO 'abc", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	{"*1\r\n$4\r\nPING\r\nECHO 'a b'", "+PONG\r\n$3\r\na b\r\n"},
	{"PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING", "+PONG\r\n$2\r\nhi\r\n+PONG\r\n"},
}

func runInlineCases(t *testing.T, addr string) {
	for _, tc := range inlineCases {
		t.Run(strconv.Quote(tc.in), func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = c.Write([]byte(tc.in + "\r\nQUIT\r\n"))
			require.NoError(t, err)
			got, _ := io.ReadAll(c)
			want := tc.want + "+OK\r\n"
			if strings.HasPrefix(tc.want, "-ERR Protocol error") {
				want = tc.want // the connection is closed
			}
			require.Equal(t, want, string(got))
		})
	}
}

func TestInlineSessiond(t *testing.T) { runInlineCases(t, testserver.Start(t).Addr) }

// TestInlineRedis proves the inline expectations against real Redis.
func TestInlineRedis(t *testing.T) { runInlineCases(t, testserver.StartRedis(t).Addr) }
