package resp

import (
	"bytes"
	"net"
	"strconv"
)

// Inline commands (a person typing into telnet or nc) are split by Redis
// with sdssplitargs: "double quotes" with \n \r \t \b \a \xHH escapes,
// 'single quotes' where only \' is special, tabs as separators, and a quote
// inside a token starting a quoted part (a"b c" is "ab c"). redcon's own
// inline parser differs on all of these. A connection whose first byte is
// not '*' is such a person: inlineConn rewrites its inline lines into RESP
// with Redis's rules before redcon parses them. A connection that starts
// with RESP, as every client library does, is passed through untouched,
// and so is the rest of a connection once a line starts with '*'.

// inlineMax is Redis's PROTO_INLINE_MAX_SIZE: a longer line without a
// newline is handed to redcon as is.
const inlineMax = 64 * 1024

// inlineListener wraps the connections it accepts in inlineConn.
type inlineListener struct{ net.Listener }

func (l inlineListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &inlineConn{Conn: c}, nil
}

const (
	inlineUndecided = iota
	inlinePassThrough
	inlineTranslating
)

type inlineConn struct {
	net.Conn
	state int
	in    []byte // read, not yet translated (an incomplete line)
	out   []byte // translated, not yet returned by Read
	rerr  error  // the error that ended reading
}

func (c *inlineConn) Read(p []byte) (int, error) {
	if c.state == inlinePassThrough && len(c.out) == 0 {
		return c.Conn.Read(p)
	}
	for len(c.out) == 0 {
		if c.rerr != nil || len(p) == 0 {
			return 0, c.rerr
		}
		n, err := c.Conn.Read(p)
		if c.state == inlineUndecided && n > 0 {
			if p[0] == '*' {
				c.state = inlinePassThrough
				return n, err
			}
			c.state = inlineTranslating
		}
		c.in = append(c.in, p[:n]...)
		c.translate()
		if err != nil {
			c.rerr = err
			c.passThrough()
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = nil
	}
	return n, nil
}

func (c *inlineConn) passThrough() {
	c.out = append(c.out, c.in...)
	c.in = nil
	c.state = inlinePassThrough
}

// translate turns the complete lines in c.in into RESP in c.out.
func (c *inlineConn) translate() {
	for c.state == inlineTranslating {
		if len(c.in) > 0 && c.in[0] == '*' {
			c.passThrough() // RESP from here on: redcon parses it
			return
		}
		i := bytes.IndexByte(c.in, '\n')
		if i < 0 {
			if len(c.in) > inlineMax {
				c.passThrough()
			}
			return
		}
		line := c.in[:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		args, ok := splitArgs(line)
		switch {
		case !ok:
			// A line redcon rejects the way Redis rejects this one:
			// "Protocol error: unbalanced quotes in request", then close.
			c.out = append(c.out, "\"\r\n"...)
		case len(args) > 0:
			c.out = append(c.out, '*')
			c.out = strconv.AppendInt(c.out, int64(len(args)), 10)
			c.out = append(c.out, '\r', '\n')
			for _, a := range args {
				c.out = append(c.out, '$')
				c.out = strconv.AppendInt(c.out, int64(len(a)), 10)
				c.out = append(c.out, '\r', '\n')
				c.out = append(c.out, a...)
				c.out = append(c.out, '\r', '\n')
			}
		}
		c.in = c.in[i+1:]
		if len(c.in) == 0 {
			c.in = nil
		}
	}
}

// isSpace is C's isspace in the C locale.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

func hexVal(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

// splitArgs splits an inline command line as Redis's sdssplitargs does.
// The line is a C string: it ends at a NUL byte. ok is false for
// unbalanced quotes, or a closing quote followed by something other than
// a space.
func splitArgs(line []byte) (args [][]byte, ok bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	at := func(i int) byte { // 0 past the end, as a C string reads
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return args, true
		}
		cur := []byte{}
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				h1, ok1 := hexVal(at(p + 2))
				h2, ok2 := hexVal(at(p + 3))
				switch {
				case c == '\\' && at(p+1) == 'x' && ok1 && ok2:
					cur = append(cur, h1*16+h2)
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					e := at(p)
					switch e {
					case 'n':
						e = '\n'
					case 'r':
						e = '\r'
					case 't':
						e = '\t'
					case 'b':
						e = '\b'
					case 'a':
						e = '\a'
					}
					cur = append(cur, e)
				case c == '"':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if at(p) != 0 {
				p++
			}
		}
		args = append(args, cur)
	}
}

// Write skips empty writes: redcon flushes an empty buffer after every
// batch, and once a subscriber's queue owns the socket (package pubsub)
// that empty write would wait behind a slow client's pending data.
func (c *inlineConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return c.Conn.Write(p)
}
