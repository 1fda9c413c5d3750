package resp

import (
	"errors"
	"math"
	"strings"

	"sessiond/keyspace"
)

func hashCommands() []*command {
	const g = "hash"
	key1 := func(c *command) *command { c.firstKey, c.lastKey, c.step, c.group = 1, 1, 1, g; return c }
	return []*command{
		key1(&command{name: "hset", arity: -4, flags: flagWrite | flagDenyOOM | flagFast, since: "2.0.0", summary: "Set the string value of a hash field", run: cmdHset}),
		key1(&command{name: "hmset", arity: -4, flags: flagWrite | flagDenyOOM | flagFast, since: "2.0.0", summary: "Set multiple hash fields to multiple values", run: cmdHset}),
		key1(&command{name: "hsetnx", arity: 4, flags: flagWrite | flagDenyOOM | flagFast, since: "2.0.0", summary: "Set the value of a hash field, only if the field does not exist", run: cmdHsetnx}),
		key1(&command{name: "hget", arity: 3, flags: flagReadonly | flagFast, since: "2.0.0", summary: "Get the value of a hash field", run: cmdHget}),
		key1(&command{name: "hmget", arity: -3, flags: flagReadonly | flagFast, since: "2.0.0", summary: "Get the values of all the given hash fields", run: cmdHmget}),
		key1(&command{name: "hgetall", arity: 2, flags: flagReadonly, since: "2.0.0", summary: "Get all the fields and values in a hash", run: cmdHgetall}),
		key1(&command{name: "hkeys", arity: 2, flags: flagReadonly, since: "2.0.0", summary: "Get all the fields in a hash", run: cmdHgetall}),
		key1(&command{name: "hvals", arity: 2, flags: flagReadonly, since: "2.0.0", summary: "Get all the values in a hash", run: cmdHgetall}),
		key1(&command{name: "hdel", arity: -3, flags: flagWrite | flagFast, since: "2.0.0", summary: "Delete one or more hash fields", run: cmdHdel}),
		key1(&command{name: "hexists", arity: 3, flags: flagReadonly | flagFast, since: "2.0.0", summary: "Determine if a hash field exists", run: cmdHexists}),
		key1(&command{name: "hlen", arity: 2, flags: flagReadonly | flagFast, since: "2.0.0", summary: "Get the number of fields in a hash", run: cmdHlen}),
		key1(&command{name: "hstrlen", arity: 3, flags: flagReadonly | flagFast, since: "3.2.0", summary: "Get the length of the value of a hash field", run: cmdHstrlen}),
		key1(&command{name: "hincrby", arity: 4, flags: flagWrite | flagDenyOOM | flagFast, since: "2.0.0", summary: "Increment the integer value of a hash field by the given number", run: cmdHincrby}),
		key1(&command{name: "hincrbyfloat", arity: 4, flags: flagWrite | flagDenyOOM | flagFast, since: "2.6.0", summary: "Increment the float value of a hash field by the given amount", run: cmdHincrbyfloat}),
		key1(&command{name: "hrandfield", arity: -2, flags: flagReadonly, since: "6.2.0", summary: "Get one or multiple random fields from a hash", run: cmdHrandfield}),
		key1(&command{name: "hscan", arity: -3, flags: flagReadonly, since: "2.8.0", summary: "Incrementally iterate hash fields and associated values", run: cmdHscan}),
	}
}

// hashError writes the reply for an error of a hash operation: the hash
// commands' own texts, else the common ones.
func (x *call) hashError(err error) {
	switch {
	case errors.Is(err, keyspace.ErrHashNotInteger):
		x.r.error("ERR hash value is not an integer")
	case errors.Is(err, keyspace.ErrHashNotFloat):
		x.r.error("ERR hash value is not a float")
	case errors.Is(err, keyspace.ErrIncrNaN):
		x.r.error("ERR value is NaN or Infinity")
	default:
		x.ksError(err)
	}
}

func cmdHset(x *call) {
	if len(x.args)%2 == 1 {
		x.r.error(msgArity(x.cmd.name))
		return
	}
	n, err := x.s.ks.HSet(x.c.db, x.args[1], x.args[2:])
	switch {
	case err != nil:
		x.hashError(err)
	case x.cmd.name == "hmset":
		x.r.ok()
	default:
		x.r.int(int64(n))
	}
}

func cmdHsetnx(x *call) {
	ok, err := x.s.ks.HSetNX(x.c.db, x.args[1], x.args[2], x.args[3])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.boolInt(ok)
}

func cmdHget(x *call) {
	v, ok, err := x.s.ks.HGet(x.c.db, x.args[1], x.args[2])
	switch {
	case err != nil:
		x.hashError(err)
	case !ok:
		x.r.null()
	default:
		x.r.bulk(v)
	}
}

func cmdHmget(x *call) {
	vs, err := x.s.ks.HMGet(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.bulks(vs)
}

// cmdHgetall serves HGETALL (a map in RESP3), HKEYS and HVALS (arrays).
func cmdHgetall(x *call) {
	pairs, err := x.s.ks.HGetAll(x.c.db, x.args[1])
	if err != nil {
		x.hashError(err)
		return
	}
	n := len(pairs) / 2
	switch x.cmd.name {
	case "hgetall":
		x.r.mapLen(n)
		for _, b := range pairs {
			x.r.bulk(b)
		}
	default:
		x.r.array(n)
		skip := 0
		if x.cmd.name == "hvals" {
			skip = 1
		}
		for i := skip; i < len(pairs); i += 2 {
			x.r.bulk(pairs[i])
		}
	}
}

func cmdHdel(x *call) {
	n, err := x.s.ks.HDel(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdHexists(x *call) {
	ok, err := x.s.ks.HExists(x.c.db, x.args[1], x.args[2])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.boolInt(ok)
}

func cmdHlen(x *call) {
	n, err := x.s.ks.HLen(x.c.db, x.args[1])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdHstrlen(x *call) {
	n, err := x.s.ks.HStrlen(x.c.db, x.args[1], x.args[2])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdHincrby(x *call) {
	delta, ok := x.intArg(3) // parsed before the key is looked up, as in Redis
	if !ok {
		return
	}
	n, err := x.s.ks.HIncrBy(x.c.db, x.args[1], x.args[2], delta)
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.int(n)
}

func cmdHincrbyfloat(x *call) {
	v, err := x.s.ks.HIncrByFloat(x.c.db, x.args[1], x.args[2], x.args[3])
	if err != nil {
		x.hashError(err)
		return
	}
	x.r.bulk(v)
}

func cmdHrandfield(x *call) {
	if len(x.args) == 2 {
		pairs, err := x.s.ks.HRandField(x.c.db, x.args[1], 1, false)
		switch {
		case err != nil:
			x.hashError(err)
		case len(pairs) == 0:
			x.r.null()
		default:
			x.r.bulk(pairs[0])
		}
		return
	}
	n, ok := x.intArg(2)
	if !ok {
		return
	}
	if n < -math.MaxInt64 {
		x.r.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	withValues := false
	if len(x.args) > 4 || (len(x.args) == 4 && !strings.EqualFold(string(x.args[3]), "withvalues")) {
		x.r.error(msgSyntax)
		return
	}
	if len(x.args) == 4 {
		withValues = true
		if n < -math.MaxInt64/2 || n > math.MaxInt64/2 {
			x.r.error("ERR value is out of range")
			return
		}
	}
	pairs, err := x.s.ks.HRandField(x.c.db, x.args[1], n, withValues)
	if err != nil {
		x.hashError(err)
		return
	}
	if !withValues {
		x.r.bulks(pairs)
		return
	}
	if !x.r.resp3 { // RESP2: flat; RESP3: an array of [field, value] pairs
		x.r.bulks(pairs)
		return
	}
	x.r.array(len(pairs) / 2)
	for i := 0; i+1 < len(pairs); i += 2 {
		x.r.array(2)
		x.r.bulk(pairs[i])
		x.r.bulk(pairs[i+1])
	}
}

func cmdHscan(x *call) {
	x.scanWhole(keyspace.KindHash, func(match []byte) ([][]byte, error) {
		return x.s.ks.HScan(x.c.db, x.args[1], match)
	}, x.hashError)
}
