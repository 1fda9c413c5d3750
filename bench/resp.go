//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is a minimal RESP2 client: commands are written into a bufio.Writer
// and flushed once per pipelined batch; replies are read one at a time.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
	// scratch for integer formatting
	num []byte
	// reuse makes Read return top-level bulk strings in a buffer that is
	// overwritten by the next Read (the mix driver only checks lengths), so
	// the driver does not make garbage that the GC then collects during the
	// other server's run.
	reuse bool
	bulk  []byte
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &conn{nc: nc}
	c.r, c.w = newBufs(nc)
	return c, nil
}

func newBufs(nc net.Conn) (*bufio.Reader, *bufio.Writer) {
	return bufio.NewReaderSize(nc, 64*1024), bufio.NewWriterSize(nc, 64*1024)
}

func (c *conn) Close() error { return c.nc.Close() }

func (c *conn) writeLen(prefix byte, n int) {
	c.w.WriteByte(prefix)
	c.num = strconv.AppendInt(c.num[:0], int64(n), 10)
	c.w.Write(c.num)
	c.w.WriteString("\r\n")
}

// Send buffers one command. Arguments are string or []byte or int.
func (c *conn) Send(args ...any) {
	c.writeLen('*', len(args))
	for _, a := range args {
		switch v := a.(type) {
		case string:
			c.writeLen('$', len(v))
			c.w.WriteString(v)
		case []byte:
			c.writeLen('$', len(v))
			c.w.Write(v)
		case int:
			var b [20]byte
			s := strconv.AppendInt(b[:0], int64(v), 10)
			c.writeLen('$', len(s))
			c.w.Write(s)
		default:
			panic(fmt.Sprintf("resp: unsupported argument type %T", a))
		}
		c.w.WriteString("\r\n")
	}
}

// SendStrings buffers one command of string arguments without boxing them.
func (c *conn) SendStrings(args ...string) {
	c.writeLen('*', len(args))
	for _, a := range args {
		c.writeLen('$', len(a))
		c.w.WriteString(a)
		c.w.WriteString("\r\n")
	}
}

// SendSetex buffers SETEX key ttl value.
func (c *conn) SendSetex(key, ttl string, value []byte) {
	c.w.WriteString("*4\r\n$5\r\nSETEX\r\n")
	c.writeLen('$', len(key))
	c.w.WriteString(key)
	c.w.WriteString("\r\n")
	c.writeLen('$', len(ttl))
	c.w.WriteString(ttl)
	c.w.WriteString("\r\n")
	c.writeLen('$', len(value))
	c.w.Write(value)
	c.w.WriteString("\r\n")
}

func (c *conn) Flush() error { return c.w.Flush() }

// Reply is a decoded RESP value. Kind is the type byte: '+', '-', ':', '$'
// or '*'. Nil bulk strings and arrays have Nil set.
type Reply struct {
	Kind  byte
	Str   []byte // simple string, error, bulk string
	Int   int64
	Elems []Reply
	Nil   bool
}

func (r Reply) String() string {
	switch r.Kind {
	case '+':
		return "+" + string(r.Str)
	case '-':
		return "-" + string(r.Str)
	case ':':
		return ":" + strconv.FormatInt(r.Int, 10)
	case '$':
		if r.Nil {
			return "(nil)"
		}
		if len(r.Str) > 40 {
			return fmt.Sprintf("$%d %q...", len(r.Str), r.Str[:40])
		}
		return fmt.Sprintf("%q", r.Str)
	case '*':
		if r.Nil {
			return "(nil array)"
		}
		return fmt.Sprintf("array of %d", len(r.Elems))
	}
	return fmt.Sprintf("reply kind %q", r.Kind)
}

var errProtocol = errors.New("resp: protocol error")

func (c *conn) readLine() ([]byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: bad line %q", errProtocol, line)
	}
	return line[:len(line)-2], nil
}

// Read reads one reply. RESP3 types that a RESP2 connection never sees
// (maps, sets, doubles, nulls) are accepted too, so a misbehaving server is
// reported as a wrong reply rather than a protocol error where possible.
func (c *conn) Read() (Reply, error) { return c.read(0) }

func (c *conn) read(depth int) (Reply, error) {
	line, err := c.readLine()
	if err != nil {
		return Reply{}, err
	}
	kind := line[0]
	body := line[1:]
	switch kind {
	case '+', '-':
		if c.reuse && depth == 0 {
			return Reply{Kind: kind, Str: body}, nil // valid until the next Read
		}
		return Reply{Kind: kind, Str: append([]byte(nil), body...)}, nil
	case ':':
		n, err := strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return Reply{}, fmt.Errorf("%w: integer %q", errProtocol, body)
		}
		return Reply{Kind: ':', Int: n}, nil
	case '_':
		return Reply{Kind: '$', Nil: true}, nil
	case '$':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return Reply{}, fmt.Errorf("%w: bulk length %q", errProtocol, body)
		}
		if n < 0 {
			return Reply{Kind: '$', Nil: true}, nil
		}
		var buf []byte
		if c.reuse && depth == 0 {
			if cap(c.bulk) < n+2 {
				c.bulk = make([]byte, n+2)
			}
			buf = c.bulk[:n+2]
		} else {
			buf = make([]byte, n+2)
		}
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return Reply{}, err
		}
		return Reply{Kind: '$', Str: buf[:n]}, nil
	case '*', '~', '%':
		n, err := strconv.Atoi(string(body))
		if err != nil {
			return Reply{}, fmt.Errorf("%w: array length %q", errProtocol, body)
		}
		if n < 0 {
			return Reply{Kind: '*', Nil: true}, nil
		}
		if kind == '%' {
			n *= 2
		}
		r := Reply{Kind: '*', Elems: make([]Reply, 0, n)}
		for i := 0; i < n; i++ {
			e, err := c.read(depth + 1)
			if err != nil {
				return Reply{}, err
			}
			r.Elems = append(r.Elems, e)
		}
		return r, nil
	}
	return Reply{}, fmt.Errorf("%w: unexpected type byte %q in %q", errProtocol, kind, line)
}

// Do sends one command and reads its reply.
func (c *conn) Do(args ...any) (Reply, error) {
	c.Send(args...)
	if err := c.Flush(); err != nil {
		return Reply{}, err
	}
	return c.Read()
}
