package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/redcon"

	"sessiond/keyspace"
)

// fuzzWords are arguments the dispatch fuzzer picks from, besides raw
// bytes of its input: keys of each type, numbers at the edges, options.
var fuzzWords = []string{
	"k", "s", "n", "f", "", "0", "1", "-1", "2", "10", "100", "9223372036854775807", "-9223372036854775808",
	"9223372036854775808", "1.5", "inf", "-inf", "nan", "NX", "XX", "GT", "LT", "EX", "PX", "EXAT", "PXAT",
	"KEEPTTL", "GET", "MATCH", "COUNT", "TYPE", "*", "k*", "[", "\\", "string", "set", "WITHSCORES", "ASYNC",
	"SYNC", "LIMIT", "3", "AUTH", "SETNAME", "default", "HELP", "DB", "REPLACE", "ENCODING", "FREQ", "USAGE",
	"z", "zset", "(1", "[a", "(a", "-", "+", "BYSCORE", "BYLEX", "REV", "WEIGHTS", "AGGREGATE", "MIN", "MAX",
	"INCR", "CH", "-0", "1e-320", "0x10", "l", "list", "LEFT", "RIGHT", "BEFORE", "AFTER", "RANK", "MAXLEN",
	"0.01", "BY", "STORE", "ALPHA", "ASC", "DESC", "nosort", "*->f", "#", "h*->f", "u8", "i64", "u63", "#2", "OVERFLOW", "WRAP", "SAT", "FAIL", "INCRBY", "BIT", "BYTE", "AND", "NOT",
}

// FuzzDispatch runs sequences of commands with random arguments through
// the dispatcher: every command must produce exactly one well-formed reply
// (RESP2 or RESP3), and nothing may panic.
func FuzzDispatch(f *testing.F) {
	f.Add([]byte("\x10\x01k\x02v\x00\x11\x01k"))
	f.Add([]byte("\x20\x03\x04\x05\x00\x21\x01\x02"))
	f.Add([]byte("\x30hello\x00\x40\x01\x02\x03"))
	ks, err := keyspace.New(keyspace.Options{Stripes: 4})
	if err != nil {
		f.Fatal(err)
	}
	s := NewServer(Options{Keyspace: ks})
	names := s.table.sortedNames()
	var cmds [][]string // every command and subcommand
	for _, n := range names {
		if n == "quit" || n == "shutdown" || n == "monitor" {
			continue // they end the connection, which the fuzzer has none of
		}
		if n == "migrate" {
			continue // it connects to the host and port it is given: tested in migrate_test.go
		}
		cmds = append(cmds, []string{n})
		for sub := range s.table[n].subs {
			cmds = append(cmds, []string{n, sub})
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ks.FlushAll()
		c := &client{id: 1, authed: true, denyBlocking: true} // BLPOP with no connection must not wait
		var out bytes.Buffer
		w := redcon.NewWriter(&out)
		for len(in) > 0 {
			// One command: a selector byte, then arguments until a 0 byte.
			sel := int(in[0])
			in = in[1:]
			args := [][]byte{}
			for _, a := range cmds[sel*len(cmds)/256] {
				args = append(args, []byte(a))
			}
			for len(in) > 0 && in[0] != 0 {
				b := in[0]
				in = in[1:]
				if b < 0x80 {
					args = append(args, []byte(fuzzWords[int(b)%len(fuzzWords)]))
					continue
				}
				n := min(int(b-0x80), len(in)) // raw bytes from the input
				args = append(args, append([]byte{}, in[:n]...))
				in = in[n:]
			}
			if len(in) > 0 {
				in = in[1:]
			}
			out.Reset()
			muted := c.replyOff || c.replySkip // CLIENT REPLY OFF or SKIP: no reply is the reply
			s.serve(c, w, args)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if c.inMulti && len(c.queue) > 64 {
				c.inMulti, c.queue = false, nil
			}
			if out.Len() == 0 && strings.EqualFold(string(args[0]), "replconf") && !c.inMulti {
				continue // REPLCONF ACK and GETACK answer nothing, as in Redis (cmd_sync.go)
			}
			if out.Len() == 0 && (muted || c.replyOff || c.replySkip) {
				continue
			}
			rd := bufio.NewReader(bytes.NewReader(out.Bytes()))
			if err := readReply(rd); err != nil {
				t.Fatalf("%q: malformed reply %q: %v", args, out.Bytes(), err)
			}
			if rest, _ := io.ReadAll(rd); len(rest) > 0 {
				t.Fatalf("%q: more than one reply: %q", args, out.Bytes())
			}
		}
	})
}

// readReply reads one RESP2 or RESP3 reply.
func readReply(rd *bufio.Reader) error {
	line, err := rd.ReadString('\n')
	if err != nil {
		return err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("bad line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', '(', '_', ',', '#':
		return nil
	case ':':
		_, err := strconv.ParseInt(body, 10, 64)
		return err
	case '$', '=', '!':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return fmt.Errorf("bad length %q", line)
		}
		if n == -1 {
			return nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(rd, b); err != nil {
			return err
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return fmt.Errorf("bulk not followed by CRLF")
		}
		return nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return fmt.Errorf("bad count %q", line)
		}
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for range n {
			if err := readReply(rd); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown type %q", line)
}
