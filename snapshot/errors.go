package snapshot

import (
	"errors"
	"fmt"
)

var (
	// ErrNotRDB is returned by NewDecoder when the input does not start with
	// the "REDIS" magic.
	ErrNotRDB = errors.New("snapshot: not an RDB file")

	// ErrVersion is returned by NewDecoder when the header's version is not
	// one this package reads (1 to MaxVersion).
	ErrVersion = errors.New("snapshot: unsupported RDB version")

	// ErrCorrupt is returned when the file is damaged: it ends early, holds
	// an unknown opcode or encoding, a length that does not fit what
	// remains, an invalid intset, listpack, ziplist or zipmap, a bad
	// quicklist node, a duplicate set member, hash field or sorted set
	// member, a hash or sorted set of unpaired elements, a NaN or
	// non-numeric sorted set score, or a database number outside 0..15.
	ErrCorrupt = errors.New("snapshot: corrupt RDB file")

	// ErrChecksum is returned when the CRC64 trailer is non-zero and does not
	// match the bytes before it.
	ErrChecksum = errors.New("snapshot: RDB checksum mismatch")

	// ErrUnsupportedType is returned when the file holds a value sessiond
	// cannot represent (stream, module, function) and
	// DecoderOptions.SkipUnsupported is false, or when such a value cannot
	// be skipped (streams, pre-release module and function formats, Redis
	// 7.4 hashes with field expiry).
	ErrUnsupportedType = errors.New("snapshot: unsupported RDB value type")

	// ErrFunction is returned when DecoderOptions.OnFunction refuses a
	// function library (it does not load, or collides with another); the
	// DecodeError's Cause is OnFunction's error.
	ErrFunction = errors.New("snapshot: function library not loaded")
)

// DecodeError describes why a file could not be decoded and where. It wraps
// one of the sentinels above (or an I/O error from the underlying reader),
// so callers test it with errors.Is and may extract the offset with
// errors.As.
type DecodeError struct {
	Offset int64  // byte offset in the file where the bad item starts
	Reason string // human-readable, lower-case, no package prefix
	Err    error  // the sentinel (ErrCorrupt, ...) or the reader's I/O error
	Cause  error  // optional underlying cause, e.g. io.ErrUnexpectedEOF
}

func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("snapshot: offset %d: %s", e.Offset, e.Reason)
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the sentinel and the cause, for errors.Is and errors.As.
func (e *DecodeError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
