package resp

import (
	"errors"

	"sessiond/keyspace"
)

// Reply texts that clients match byte for byte (Redis 7 server.c, t_string.c...).
const (
	msgWrongType   = "WRONGTYPE Operation against a key holding the wrong kind of value"
	msgNotInteger  = "ERR value is not an integer or out of range"
	msgNotFloat    = "ERR value is not a valid float"
	msgSyntax      = "ERR syntax error"
	msgNoSuchKey   = "ERR no such key"
	msgSameObject  = "ERR source and destination objects are the same"
	msgDBIndex     = "ERR DB index is out of range"
	msgOverflow    = "ERR increment or decrement would overflow"
	msgNaN         = "ERR increment would produce NaN or Infinity"
	msgTooLarge    = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
	msgOffsetRange = "ERR offset is out of range"
)

// ksError writes the reply for an error from the keyspace. It is the only
// place keyspace errors become wire text.
func (x *call) ksError(err error) {
	switch {
	case errors.Is(err, keyspace.ErrWrongType):
		x.r.error(msgWrongType)
	case errors.Is(err, keyspace.ErrNotInteger):
		x.r.error(msgNotInteger)
	case errors.Is(err, keyspace.ErrNotFloat):
		x.r.error(msgNotFloat)
	case errors.Is(err, keyspace.ErrOverflow):
		x.r.error(msgOverflow)
	case errors.Is(err, keyspace.ErrNaN):
		x.r.error(msgNaN)
	case errors.Is(err, keyspace.ErrNoSuchKey):
		x.r.error(msgNoSuchKey)
	case errors.Is(err, keyspace.ErrTooLarge):
		x.r.error(msgTooLarge)
	case errors.Is(err, keyspace.ErrIndexOutOfRange):
		x.r.error("ERR index out of range")
	case errors.Is(err, keyspace.ErrBusyKey):
		x.r.error(err.Error())
	case errors.Is(err, keyspace.ErrNotHLL):
		x.r.error("WRONGTYPE Key is not a valid HyperLogLog string value.")
	case errors.As(err, new(keyspace.StreamError)):
		x.r.error(err.Error())
	case errors.Is(err, keyspace.ErrHLLCorrupt):
		x.r.error("INVALIDOBJ Corrupted HLL object detected")
	default:
		x.r.error("ERR " + err.Error())
	}
}

// intReply replies with n, or with err if the keyspace failed.
func (x *call) intReply(n int, err error) {
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

// okReply replies +OK, or with err if the keyspace failed.
func (x *call) okReply(err error) {
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.ok()
}

// msgArity is Redis's wrong-arity error for the command (or
// "container|sub") name.
func msgArity(name string) string {
	return "ERR wrong number of arguments for '" + name + "' command"
}

// popCount is the count of SPOP, ZPOPMIN/ZPOPMAX, LPOP/RPOP: args[2] if
// given, else 1, capped where no reply could be bigger. It replies as
// Redis's getPositiveLongFromObjectOrReply does (one message for a
// negative count and for no number).
func (x *call) popCount() (int, bool) {
	if len(x.args) < 3 {
		return 1, true
	}
	n, ok := keyspace.ParseInt(x.args[2])
	if !ok || n < 0 {
		x.r.error("ERR value is out of range, must be positive")
		return 0, false
	}
	return int(min(n, 1<<31)), true
}

// intArg parses args[i] as an integer, replying with Redis's error if it is not one.
func (x *call) intArg(i int) (int64, bool) {
	n, ok := keyspace.ParseInt(x.args[i])
	if !ok {
		x.r.error(msgNotInteger)
	}
	return n, ok
}

// expireErr is Redis's addReplyErrorExpireTime.
func (x *call) expireErr() {
	x.r.error("ERR invalid expire time in '" + x.cmd.name + "' command")
}
