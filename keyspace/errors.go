package keyspace

import "errors"

// Errors returned by keyspace operations. The resp package turns each into
// Redis's exact reply text in one place.
var (
	// ErrWrongType is returned when an operation meets a key holding the
	// other kind of value (WRONGTYPE).
	ErrWrongType = errors.New("keyspace: wrong kind of value")
	// ErrNotInteger is returned when INCR and friends meet a value that is
	// not a 64-bit decimal integer.
	ErrNotInteger = errors.New("keyspace: value is not an integer")
	// ErrNotFloat is returned when INCRBYFLOAT meets a value that is not a number.
	ErrNotFloat = errors.New("keyspace: value is not a valid float")
	// ErrOverflow is returned when an increment would overflow int64.
	ErrOverflow = errors.New("keyspace: increment or decrement would overflow")
	// ErrNaN is returned when INCRBYFLOAT would produce NaN or Infinity.
	ErrNaN = errors.New("keyspace: increment would produce NaN or Infinity")
	// ErrNoSuchKey is returned by Rename when the source does not exist.
	ErrNoSuchKey = errors.New("keyspace: no such key")
	// ErrTooLarge is returned when a string would exceed MaxStringLen.
	ErrTooLarge = errors.New("keyspace: string exceeds maximum allowed size")
	// ErrNotHLL is returned by the PF commands for a string that is not a
	// HyperLogLog (its header is not one).
	ErrNotHLL = errors.New("keyspace: not a HyperLogLog value")
	// ErrHLLCorrupt is returned by the PF commands for a HyperLogLog whose
	// sparse encoding is damaged.
	ErrHLLCorrupt = errors.New("keyspace: corrupted HyperLogLog")
)

// MaxStringLen is the largest string value (Redis's proto-max-bulk-len default).
const MaxStringLen = 512 << 20
