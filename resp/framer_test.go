package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tidwall/redcon"
)

// refParse is a whole-buffer reading of Redis's processInputBuffer (the
// reference the streaming framer is checked against): the requests Redis
// runs for in, then the error it replies ("" for none) and whether it
// closes. Differences kept on purpose: a NUL byte is an ordinary byte
// (Redis's strchr stops at it), and the query buffer limit counts one
// request's bytes plus argOverhead per argument.
func refParse(in []byte, unauth bool, maxBulk, maxQuery int64) (cmds [][]string, errMsg string, closed bool) {
	pos := 0
	for pos < len(in) {
		if in[pos] != '*' {
			nl := bytes.IndexByte(in[pos:], '\n')
			if nl < 0 {
				if len(in)-pos > protoInlineMax {
					return cmds, "Protocol error: too big inline request", true
				}
				return cmds, "", false
			}
			line := in[pos : pos+nl]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			args, ok := splitArgs(line)
			if !ok {
				return cmds, "Protocol error: unbalanced quotes in request", true
			}
			pos += nl + 1
			if len(args) > 0 {
				var c []string
				for _, a := range args {
					c = append(c, string(a))
				}
				cmds = append(cmds, c)
			}
			continue
		}
		// header line: up to '\r', which must be followed by one more byte
		line := func(from int, tooBig string) (string, int, string, bool) {
			cr := bytes.IndexByte(in[from:], '\r')
			if cr < 0 {
				if len(in)-from > protoInlineMax {
					return "", 0, tooBig, true
				}
				return "", 0, "", false
			}
			if from+cr+1 >= len(in) {
				return "", 0, "", false
			}
			return string(in[from : from+cr]), from + cr + 2, "", true
		}
		l, next, e, ok := line(pos, "Protocol error: too big mbulk count string")
		if e != "" {
			return cmds, e, true
		}
		if !ok {
			return cmds, "", false
		}
		n, ok2 := string2ll([]byte(l[1:]), len(l)-1)
		if !ok2 || n > math.MaxInt32 {
			return cmds, "Protocol error: invalid multibulk length", true
		}
		if n > unauthMaxCount && unauth {
			return cmds, "Protocol error: unauthenticated multibulk length", true
		}
		p := next
		if n <= 0 {
			pos = p
			continue
		}
		size := int64(3 + len(l) - 1)
		var c []string
		for range n {
			l, next, e, ok := line(p, "Protocol error: too big bulk count string")
			if e != "" {
				return cmds, e, true
			}
			if !ok {
				return cmds, "", false
			}
			first := byte('\r')
			if len(l) > 0 {
				first = l[0]
			}
			if first != '$' {
				if first == '\r' || first == '\n' {
					first = ' '
				}
				if first == 0 {
					return cmds, "Protocol error: expected '$', got '", true
				}
				return cmds, "Protocol error: expected '$', got '" + string([]byte{first}) + "'", true
			}
			bl, ok2 := string2ll([]byte(l[1:]), len(l)-1)
			if !ok2 || bl < 0 || bl > maxBulk {
				return cmds, "Protocol error: invalid bulk length", true
			}
			if bl > unauthMaxBulk && unauth {
				return cmds, "Protocol error: unauthenticated bulk length", true
			}
			size += int64(len(l)+2) + bl + 2 + argOverhead
			if size > maxQuery {
				return cmds, "", true
			}
			if int64(len(in)-next) < bl+2 {
				return cmds, "", false
			}
			c = append(c, string(in[next:next+int(bl)]))
			p = next + int(bl) + 2
		}
		cmds = append(cmds, c)
		pos = p
	}
	return cmds, "", false
}

// chunkConn serves in as reads of the sizes sizes cycles through, then EOF,
// and records what is written.
type chunkConn struct {
	net.Conn
	in    []byte
	sizes []byte
	i     int
	out   bytes.Buffer
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := len(c.in)
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)]) + 1
		c.i++
	}
	n = min(n, len(p), len(c.in))
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}
func (c *chunkConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *chunkConn) Close() error                     { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }

// runFramer feeds in through a frameConn into redcon's reader, returning
// the requests redcon parsed, the error reply written and whether the
// connection ended with a protocol error.
func runFramer(in, sizes []byte, unauth bool, maxBulk int64) ([][]string, string, bool) {
	cc := &chunkConn{in: in, sizes: sizes}
	lim := &limits{}
	lim.protoMaxBulk.Store(maxBulk)
	lim.queryLimit.Store(1 << 30)
	fc := &frameConn{Conn: cc, lim: lim, c: &client{authed: !unauth}}
	rd := redcon.NewReader(fc)
	var cmds [][]string
	for {
		cmd, err := rd.ReadCommand()
		if err != nil {
			msg := cc.out.String()
			if msg != "" {
				msg = msg[len("-ERR ") : len(msg)-2]
			}
			return cmds, msg, errors.Is(err, errProtocolClose)
		}
		var c []string
		for _, a := range cmd.Args {
			c = append(c, string(a))
		}
		cmds = append(cmds, c)
	}
}

func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$4\r\nPING\r\n", "*0\r\n*-1\r\nPING\r\n", "*1\r\n$4\r\nPINGxx", "*1\rX$4\rYPING\r\n",
		"*x\r\n", "*1\r\nx4\r\n", "*1\r\n\r4\r\n", "GET 'a b' \"c\\x41\"\r\n", "\"unbal\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nGET k\n*1\r\n$4\r\nPING\r\n", "*11\r\n", "*1\r\n$20000\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
	} {
		f.Add([]byte(s), []byte{0}, false)
		f.Add([]byte(s), []byte{}, true)
		f.Add([]byte(s), []byte{2, 0, 5}, false)
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte, unauth bool) {
		wantCmds, wantErr, wantClosed := refParse(in, unauth, 1<<20, 1<<30)
		gotCmds, gotErr, gotClosed := runFramer(in, sizes, unauth, 1<<20)
		if !slices.EqualFunc(wantCmds, gotCmds, slices.Equal) || wantErr != gotErr || wantClosed != gotClosed {
			t.Fatalf("input %q sizes %v unauth %v\nwant %q %q closed=%v\ngot  %q %q closed=%v",
				in, sizes, unauth, wantCmds, wantErr, wantClosed, gotCmds, gotErr, gotClosed)
		}
	})
}

// BenchmarkFramerGet: the framer's cost per pipelined GET, parsed in place.
func BenchmarkFramerGet(b *testing.B) {
	one := []byte("*2\r\n$3\r\nGET\r\n$10\r\nsess:12345\r\n")
	batch := bytes.Repeat(one, 100)
	buf := make([]byte, len(batch))
	var f framer
	f.maxBulk, f.maxQuery = 512<<20, 1<<30
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		copy(buf, batch)
		if _, n, ev := f.parse(buf[:0], buf, true); n != len(buf) || ev != evNone {
			b.Fatal(n, ev)
		}
	}
}
