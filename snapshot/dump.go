package snapshot

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// A DUMP payload (Redis's DUMP and RESTORE, and MIGRATE, which sends
// RESTORE) is one value as it appears in an RDB file, without its key:
//
//	type byte | value | RDB version (2 bytes, little-endian) | CRC64 (8 bytes, little-endian)
//
// The checksum is Redis's CRC64 of everything before it. Redis accepts a
// payload of its own RDB version or older; so does RESTORE here, up to
// MaxVersion, which lets keys move from Redis 7.2 and 7.4 too.

// ErrDumpPayload is returned by ParseDump for a payload whose version is
// newer than MaxVersion, whose checksum does not match, or that is too
// short to hold either. Its text is Redis's reply text.
var ErrDumpPayload = errors.New("DUMP payload version or checksum are wrong")

// dumpFooter is the version and checksum after the value.
const dumpFooter = 2 + 8

// ErrDumpTooDense is returned by ParseDump for a payload whose compact
// encodings hold more elements than dumpElemsBase plus dumpElemsPerByte
// per payload byte: LZF lets a small payload stand for tens of millions
// of one-byte elements, each of which costs the decoder a slice header
// (Redis keeps them packed). Payloads Redis or sessiond write of real data
// stay far below it.
var ErrDumpTooDense = errors.New("payload holds too many elements for its size")

const (
	dumpElemsBase    = 1 << 20
	dumpElemsPerByte = 1
)

// Dump returns the DUMP payload of r's value, in the encodings WriteRecord
// uses, with version WriteVersion, so that Redis 7.0 and later RESTORE it.
// r.Key, r.DB and r.ExpireMs are not part of it. It fails for the records
// WriteRecord refuses.
func Dump(r *Record) ([]byte, error) {
	v := *r
	v.DB, v.ExpireMs = 0, 0
	if err := checkRecord(&v); err != nil {
		return nil, err
	}
	size := len(r.Str)
	for _, m := range r.Members {
		size += len(m) + 2
	}
	for _, f := range r.Fields {
		size += len(f) + 2
	}
	size += 9*len(r.Scores) + 32
	var out bytes.Buffer
	e := &Encoder{w: &out, buf: make([]byte, 0, min(size, encBufSize)), state: encBody}
	e.buf = append(e.buf, valueType(v.Kind))
	e.writeValue(&v)
	e.buf = binary.LittleEndian.AppendUint16(e.buf, WriteVersion)
	if err := e.flush(); err != nil {
		return nil, err
	}
	return binary.LittleEndian.AppendUint64(out.Bytes(), e.crc), nil
}

// dumpBody checks a DUMP or FUNCTION DUMP payload's footer, the RDB
// version and CRC64 after the body (ErrDumpPayload), and returns the body
// and that version.
func dumpBody(payload []byte) (body []byte, version uint16, err error) {
	if len(payload) < dumpFooter {
		return nil, 0, ErrDumpPayload
	}
	body = payload[:len(payload)-dumpFooter]
	footer := payload[len(body):]
	version = binary.LittleEndian.Uint16(footer)
	if version > MaxVersion || crc64Update(0, payload[:len(payload)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return nil, 0, ErrDumpPayload
	}
	return body, version, nil
}

// dumpDecoder reads body, a payload's value(s) at version; the element
// budget is by the whole payload's size (dumpElemsPerByte).
func dumpDecoder(body []byte, version uint16, payloadLen int) *Decoder {
	return &Decoder{rd: newReader(bytes.NewReader(body)), version: int(max(version, 1)),
		maxElems: dumpElemsBase + dumpElemsPerByte*payloadLen}
}

// ParseDump checks a DUMP payload's version and checksum (ErrDumpPayload)
// and decodes its value, as RESTORE does. The Record has no key, DB 0 and
// no expiry; its slices point into memory the caller owns from then on.
// A value that is not well formed, or is empty (Redis drops empty values,
// and RESTORE refuses them), is an error wrapping ErrCorrupt; a module
// value a *DecodeError wrapping ErrUnsupportedType, whose Reason
// names the type. Bytes after the value, before
// the footer, are ignored, as Redis ignores them.
func ParseDump(payload []byte) (*Record, error) {
	body, version, err := dumpBody(payload)
	if err != nil {
		return nil, err
	}
	if len(body) == 0 {
		return nil, &DecodeError{Offset: 0, Reason: "no value type", Err: ErrCorrupt}
	}
	t := body[0]
	if !isObjectType(t) {
		return nil, &DecodeError{Offset: 0, Reason: fmt.Sprintf("unknown value type 0x%02x", t), Err: ErrCorrupt}
	}
	d := dumpDecoder(body[1:], version, len(payload))
	d.rec = Record{Key: []byte{}}
	rec, err := d.readValue(1, t, &d.rec)
	if d.overBudget {
		return nil, ErrDumpTooDense
	}
	if errors.Is(err, ErrUnsupportedType) {
		return nil, &DecodeError{Offset: 0, Reason: "a " + typeName(t) + " value", Err: ErrUnsupportedType}
	}
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, &DecodeError{Offset: 1, Reason: "empty " + typeName(t), Err: ErrCorrupt}
	}
	return rec, nil
}
