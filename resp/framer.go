package resp

import (
	"bytes"
	"math"
)

// The framer is a streaming parser of client requests, run on the bytes of
// a connection before redcon sees them (see doc.go). It applies Redis's
// rules and limits (networking.c processMultibulkBuffer and
// processInlineBuffer) as bytes arrive, before anything is allocated for
// them, and emits the requests in canonical RESP: "*<n>\r\n" then n times
// "$<len>\r\n<bytes>\r\n". Inline lines are translated to that form with
// sdssplitargs's rules; "*0" and "*-1" headers, which Redis ignores, are
// dropped; the two bytes after a bulk, which Redis skips unread, become
// CRLF. redcon therefore only ever parses well-formed requests.

const (
	stCmd     = iota // at the start of a request
	stHdr            // a "*<n>" or "$<len>" line, up to its '\r'
	stHdrLF          // the byte after the header's '\r' (skipped, as Redis does)
	stPayload        // bulk bytes
	stTrail1         // the first byte after a bulk
	stTrail2         // the second byte after a bulk
	stInline         // an inline request, up to its '\n'
)

// Limits Redis applies before allocating (server.h).
const (
	protoInlineMax = 64 * 1024 // PROTO_INLINE_MAX_SIZE
	unauthMaxCount = 10        // multibulk length before AUTH
	unauthMaxBulk  = 16384     // bulk length before AUTH
	// argOverhead is what one argument costs beyond its bytes once redcon
	// has parsed it (a mark pair and a slice header), counted against the
	// query buffer limit so that millions of empty arguments cannot
	// outgrow it.
	argOverhead = 40
	// holdCount: a request announcing more arguments than this is kept
	// by the framer until it is complete. redcon loops over the announced
	// count every time it looks at an incomplete request, so it must never
	// see a huge announced count with only part of the request behind it.
	holdCount = 1024
)

// parse events.
const (
	evNone   = iota // all input consumed
	evOne           // stopped after one complete request (unauthenticated client)
	evInline        // stopped at an inline request (in-place parsing cannot expand)
	evError         // protocol error: errMsg is the reply ("" closes without one)
)

type framer struct {
	st       uint8
	multi    bool // the header line is a multibulk count (else a bulk length)
	hdr      [24]byte
	hdrN     int   // bytes of the header line before its '\r' (after the '*' of a count)
	args     int64 // bulks still expected in this request
	bulk     int64 // payload bytes left
	size     int64 // the request so far, for the query buffer limit
	hold     bool  // this request is held until complete (holdCount)
	line     []byte
	boundary int    // len(dst) at the end of the last complete request, -1 if none in this call
	errMsg   string // set with evError

	// Set by the connection before each parse.
	maxBulk  int64
	maxQuery int64
	unauth   bool
}

// parse consumes src, appending canonical RESP to dst. dst may share
// memory with src, ending at or before src's start (parsing in place): the
// output never outgrows the input then, because in-place parsing stops
// at an inline request (evInline) instead of expanding it. It returns the
// new dst, how many bytes of src it used, and why it stopped.
func (f *framer) parse(dst, src []byte, inPlace bool) ([]byte, int, int) {
	f.boundary = -1
	i := 0
	for i < len(src) {
		switch f.st {
		case stCmd:
			f.size, f.hold = 0, false
			if src[i] != '*' {
				if inPlace {
					return dst, i, evInline
				}
				f.st, f.line = stInline, f.line[:0]
				continue
			}
			f.st, f.multi, f.hdrN = stHdr, true, 0
			i++
		case stHdr:
			j := bytes.IndexByte(src[i:], '\r')
			end := len(src)
			if j >= 0 {
				end = i + j
			}
			if f.hdrN < len(f.hdr) {
				copy(f.hdr[f.hdrN:], src[i:end])
			}
			f.hdrN += end - i
			if j < 0 && f.hdrN+b2i(f.multi) > protoInlineMax {
				if f.multi {
					return f.fail(dst, "Protocol error: too big mbulk count string")
				}
				return f.fail(dst, "Protocol error: too big bulk count string")
			}
			i = end
			if j >= 0 {
				f.st = stHdrLF
				i++
			}
		case stHdrLF:
			i++ // Redis skips the byte after '\r' without looking at it
			var ev int
			if dst, ev = f.header(dst); ev != evNone {
				return dst, i, ev
			}
		case stPayload:
			n := int64(len(src) - i)
			if n > f.bulk {
				n = f.bulk
			}
			dst = appendRun(dst, src[i:i+int(n)])
			i += int(n)
			f.bulk -= n
			if f.bulk == 0 {
				f.st = stTrail1
			}
		case stTrail1:
			dst = append(dst, '\r')
			f.st = stTrail2
			i++
		case stTrail2:
			dst = append(dst, '\n')
			i++
			f.args--
			if f.args > 0 {
				f.st, f.multi, f.hdrN = stHdr, false, 0
				continue
			}
			f.st = stCmd
			f.boundary = len(dst)
			if f.unauth {
				return dst, i, evOne
			}
		case stInline:
			j := bytes.IndexByte(src[i:], '\n')
			if j < 0 {
				f.line = append(f.line, src[i:]...)
				i = len(src)
				if len(f.line) > protoInlineMax {
					return f.fail(dst, "Protocol error: too big inline request")
				}
				continue
			}
			f.line = append(f.line, src[i:i+j]...)
			i += j + 1
			line := f.line
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1]
			}
			args, ok := splitArgs(line)
			if !ok {
				return f.fail(dst, "Protocol error: unbalanced quotes in request")
			}
			f.st = stCmd
			if cap(f.line) > protoInlineMax {
				f.line = nil
			}
			if len(args) == 0 {
				continue
			}
			dst = appendCommand(dst, args...)
			f.boundary = len(dst)
			if f.unauth {
				return dst, i, evOne
			}
		}
	}
	return dst, i, evNone
}

// pendingHeader reports a header line read in part: its bytes are
// consumed but not emitted yet.
func (f *framer) pendingHeader() bool {
	return f.st == stHdrLF || (f.st == stHdr && (f.multi || f.hdrN > 0))
}

// header evaluates a complete header line (f.hdr) as Redis does.
func (f *framer) header(dst []byte) ([]byte, int) {
	digits := f.hdr[:min(f.hdrN, len(f.hdr))]
	full := f.hdrN
	if !f.multi {
		first := byte('\r') // an empty line: Redis sees its '\r' as the first byte
		if full > 0 {
			first, digits, full = digits[0], digits[1:], full-1
		}
		if first != '$' {
			switch first {
			case '\r', '\n':
				first = ' ' // addReplyErrorFormat makes newlines spaces
			case 0: // "%c" of NUL ends the C string there
				return f.failHdr(dst, "Protocol error: expected '$', got '")
			}
			return f.failHdr(dst, "Protocol error: expected '$', got '"+string([]byte{first})+"'")
		}
	}
	n, ok := string2ll(digits, full)
	if f.multi {
		switch {
		case !ok || n > math.MaxInt32:
			return f.failHdr(dst, "Protocol error: invalid multibulk length")
		case n > unauthMaxCount && f.unauth:
			return f.failHdr(dst, "Protocol error: unauthenticated multibulk length")
		case n <= 0:
			f.st = stCmd // Redis ignores an empty or null request
			f.boundary = len(dst)
			return dst, evNone
		}
		f.args = n
		f.hold = n > holdCount
		f.size = 3 + int64(len(digits))
		dst = append(dst, '*')
		dst = append(dst, digits...)
		dst = append(dst, '\r', '\n')
		f.st, f.multi, f.hdrN = stHdr, false, 0
		return dst, evNone
	}
	switch {
	case !ok || n < 0 || n > f.maxBulk:
		return f.failHdr(dst, "Protocol error: invalid bulk length")
	case n > unauthMaxBulk && f.unauth:
		return f.failHdr(dst, "Protocol error: unauthenticated bulk length")
	}
	f.size += 3 + int64(len(digits)) + n + 2 + argOverhead
	if f.size > f.maxQuery {
		// Redis closes such a client without a reply ("closing client that
		// reached max query buffer length").
		return f.failHdr(dst, "")
	}
	dst = append(dst, '$')
	dst = append(dst, digits...)
	dst = append(dst, '\r', '\n')
	f.bulk = n
	f.st = stPayload
	if n == 0 {
		f.st = stTrail1
	}
	return dst, evNone
}

func (f *framer) fail(dst []byte, msg string) ([]byte, int, int) {
	f.errMsg = msg
	return dst, 0, evError
}

func (f *framer) failHdr(dst []byte, msg string) ([]byte, int) {
	f.errMsg = msg
	return dst, evError
}

// string2ll is Redis's util.c string2ll: an optional '-', then digits
// without a leading zero (or exactly "0"), within int64. full is the
// length of the text, which may be longer than s (only a prefix is kept).
func string2ll(s []byte, full int) (int64, bool) {
	if full != len(s) || len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// appendRun appends b to dst, without copying when b already sits right
// after dst in the same array (parsing in place, nothing dropped so far).
func appendRun(dst, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	if cap(dst)-len(dst) >= len(b) && &dst[:len(dst)+1][len(dst)] == &b[0] {
		return dst[:len(dst)+len(b)]
	}
	return append(dst, b...)
}
