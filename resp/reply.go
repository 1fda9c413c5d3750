package resp

import (
	"math"
	"strconv"

	"github.com/tidwall/redcon"
)

// rawWriter is the part of redcon.Conn that replies need. *redcon.Writer
// satisfies it too, so tests and the fuzzer capture replies in a buffer.
type rawWriter interface {
	WriteString(s string)
	WriteBulk(b []byte)
	WriteBulkString(s string)
	WriteInt64(n int64)
	WriteError(msg string)
	WriteArray(n int)
	WriteNull()
	WriteRaw(b []byte)
}

var (
	_ rawWriter = redcon.Conn(nil)
	_ rawWriter = (*redcon.Writer)(nil)
)

// reply writes replies in the connection's protocol version. RESP3 types
// are only ever sent to a connection that asked for them with HELLO 3:
// redigo, phpredis and hiredis reject them otherwise.
type reply struct {
	w     rawWriter
	resp3 bool
	err   string   // the last error written, for error stats
	cmd   *command // the command being answered, if known (for rejected_calls)
}

func (r *reply) ok()                 { r.w.WriteString("OK") }
func (r *reply) status(s string)     { r.w.WriteString(s) }
func (r *reply) bulk(b []byte)       { r.w.WriteBulk(b) }
func (r *reply) bulkString(s string) { r.w.WriteBulkString(s) }
func (r *reply) int(n int64)         { r.w.WriteInt64(n) }
func (r *reply) array(n int)         { r.w.WriteArray(n) }

// error writes msg, which must start with an error code such as "ERR ".
func (r *reply) error(msg string) {
	r.err = msg
	r.w.WriteError(msg)
}

// null is a missing value: $-1 in RESP2, _ in RESP3.
func (r *reply) null() {
	if r.resp3 {
		r.w.WriteRaw([]byte("_\r\n"))
		return
	}
	r.w.WriteNull()
}

// nullArray is an aborted EXEC: *-1 in RESP2, _ in RESP3.
func (r *reply) nullArray() {
	if r.resp3 {
		r.w.WriteRaw([]byte("_\r\n"))
		return
	}
	r.w.WriteRaw([]byte("*-1\r\n"))
}

// mapLen starts a map of n pairs: %n in RESP3, a flat *2n array in RESP2.
func (r *reply) mapLen(n int) {
	if r.resp3 {
		r.w.WriteRaw(strconv.AppendInt([]byte{'%'}, int64(n), 10))
		r.w.WriteRaw([]byte("\r\n"))
		return
	}
	r.w.WriteArray(2 * n)
}

// setLen starts a set of n members: ~n in RESP3, *n in RESP2.
func (r *reply) setLen(n int) {
	if r.resp3 {
		r.w.WriteRaw(strconv.AppendInt([]byte{'~'}, int64(n), 10))
		r.w.WriteRaw([]byte("\r\n"))
		return
	}
	r.w.WriteArray(n)
}

// verbatim is a long text such as INFO: a verbatim string of format txt in
// RESP3, a bulk string in RESP2.
func (r *reply) verbatim(s string) {
	if !r.resp3 {
		r.w.WriteBulkString(s)
		return
	}
	b := strconv.AppendInt([]byte{'='}, int64(len(s)+4), 10)
	b = append(b, "\r\ntxt:"...)
	b = append(b, s...)
	b = append(b, "\r\n"...)
	r.w.WriteRaw(b)
}

// formatScore is a score as Redis 7.0 prints it (d2string, and the
// RESP3 double and bulk string of addReplyDouble): %.17g, inf, -inf.
func formatScore(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// double writes a floating-point number: a RESP3 double, or a bulk string.
func (r *reply) double(f float64) { r.doubleText(formatScore(f)) }

// doubleText writes s, a number's text, as a RESP3 double or a bulk string.
func (r *reply) doubleText(s string) {
	if r.resp3 {
		r.w.WriteRaw([]byte("," + s + "\r\n"))
		return
	}
	r.w.WriteBulkString(s)
}

// bulks writes an array of bulk strings.
func (r *reply) bulks(items [][]byte) {
	r.w.WriteArray(len(items))
	for _, b := range items {
		if b == nil {
			r.null()
			continue
		}
		r.w.WriteBulk(b)
	}
}

// set writes members as a set reply.
func (r *reply) set(items [][]byte) {
	r.setLen(len(items))
	for _, b := range items {
		r.w.WriteBulk(b)
	}
}

// boolInt writes 1 or 0.
func (r *reply) boolInt(b bool) {
	if b {
		r.w.WriteInt64(1)
	} else {
		r.w.WriteInt64(0)
	}
}
