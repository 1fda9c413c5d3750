package resp

import (
	"math"
	"strings"

	"sessiond/keyspace"
)

func stringCommands() []*command {
	const g = "string"
	return []*command{
		{name: "get", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get the value of a key", run: cmdGet},
		{name: "set", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Set the string value of a key", run: cmdSet},
		{name: "setex", arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Set the value and expiration of a key", run: cmdSetex},
		{name: "psetex", arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Set the value and expiration in milliseconds of a key", run: cmdSetex},
		{name: "setnx", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Set the value of a key, only if the key does not exist", run: cmdSetnx},
		{name: "getex", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Get the value of a key and optionally set its expiration", run: cmdGetex},
		{name: "getdel", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Get the value of a key and delete the key", run: cmdGetdel},
		{name: "getset", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Set the string value of a key and return its old value", run: cmdGetset},
		{name: "mget", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Get the values of all the given keys", run: cmdMget},
		{name: "mset", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 2, group: g, since: "1.0.1", summary: "Set multiple keys to multiple values", run: cmdMset},
		{name: "msetnx", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 2, group: g, since: "1.0.1", summary: "Set multiple keys to multiple values, only if none of the keys exist", run: cmdMset},
		{name: "append", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.0.0", summary: "Append a value to a key", run: cmdAppend},
		{name: "strlen", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Get the length of the value stored in a key", run: cmdStrlen},
		{name: "getrange", arity: 4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.4.0", summary: "Get a substring of the string stored at a key", run: cmdGetrange},
		{name: "lcs", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 2, step: 1, group: g, since: "7.0.0", summary: "Find longest common substring", run: cmdLcs},
		{name: "substr", arity: 4, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get a substring of the string stored at a key", run: cmdGetrange},
		{name: "setrange", arity: 4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Overwrite part of a string at key starting at the specified offset", run: cmdSetrange},
		{name: "incr", arity: 2, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Increment the integer value of a key by one", run: cmdIncr},
		{name: "decr", arity: 2, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Decrement the integer value of a key by one", run: cmdIncr},
		{name: "incrby", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Increment the integer value of a key by the given amount", run: cmdIncr},
		{name: "decrby", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Decrement the integer value of a key by the given number", run: cmdIncr},
		{name: "incrbyfloat", arity: 3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Increment the float value of a key by the given amount", run: cmdIncrbyfloat},
	}
}

// valueReply writes a looked-up string value: the error, a null for a
// missing key, or the bulk string.
func (x *call) valueReply(v []byte, ok bool, err error) {
	switch {
	case err != nil:
		x.ksError(err)
	case !ok:
		x.r.null()
	default:
		x.r.bulk(v)
	}
}

func cmdGet(x *call) {
	v, ok, err := x.s.ks.Get(x.c.db, x.args[1])
	x.valueReply(v, ok, err)
}

// expireArg parses an expire argument as Redis's getExpireMillisecondsOrReply
// does and returns the absolute deadline in Unix ms.
func (x *call) expireArg(arg []byte, seconds, relative bool) (int64, bool) {
	n, ok := keyspace.ParseInt(arg)
	if !ok {
		x.r.error(msgNotInteger)
		return 0, false
	}
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		x.expireErr()
		return 0, false
	}
	if seconds {
		n *= 1000
	}
	if relative {
		now := x.now()
		if n > math.MaxInt64-now {
			x.expireErr()
			return 0, false
		}
		n += now
	}
	return n, true
}

type expireOpt struct {
	arg      []byte
	seconds  bool
	relative bool
	set      bool
}

func cmdSet(x *call) {
	var a keyspace.SetArgs
	var exp expireOpt
	persist := false
	for j := 3; j < len(x.args); j++ {
		opt := strings.ToLower(string(x.args[j]))
		hasNext := j+1 < len(x.args)
		switch {
		case opt == "nx" && !a.XX:
			a.NX = true
		case opt == "xx" && !a.NX:
			a.XX = true
		case opt == "get":
			a.Get = true
		case opt == "keepttl" && !exp.set:
			a.KeepTTL = true
		case (opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat") && !a.KeepTTL && !persist && hasNext &&
			(!exp.set || expKind(opt) == expKind2(exp)):
			exp = expireOpt{arg: x.args[j+1], seconds: opt == "ex" || opt == "exat", relative: opt == "ex" || opt == "px", set: true}
			j++
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if exp.set {
		d, ok := x.expireArg(exp.arg, exp.seconds, exp.relative)
		if !ok {
			return
		}
		a.Deadline = d
	}
	x.doSet(a)
}

// expKind and expKind2 let the same expire option repeat (EX 1 EX 2, as
// Redis allows) while rejecting two different ones.
func expKind(opt string) string { return opt }

func expKind2(e expireOpt) string {
	switch {
	case e.seconds && e.relative:
		return "ex"
	case e.seconds:
		return "exat"
	case e.relative:
		return "px"
	}
	return "pxat"
}

func (x *call) doSet(a keyspace.SetArgs) {
	a.Now = x.now()
	res, err := x.s.ks.Set(x.c.db, x.args[1], x.args[2], a)
	switch {
	case err != nil:
		x.ksError(err)
	case a.Get && res.HadOld:
		x.r.bulk(res.Old)
	case a.Get || !res.Done:
		x.r.null()
	default:
		x.r.ok()
	}
}

func cmdSetex(x *call) {
	d, ok := x.expireArg(x.args[2], x.cmd.name == "setex", true)
	if !ok {
		return
	}
	_, err := x.s.ks.Set(x.c.db, x.args[1], x.args[3], keyspace.SetArgs{Deadline: d, Now: x.now()})
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.ok()
}

func cmdSetnx(x *call) {
	res, err := x.s.ks.Set(x.c.db, x.args[1], x.args[2], keyspace.SetArgs{NX: true, Now: x.now()})
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.boolInt(res.Done)
}

func cmdGetset(x *call) {
	x.doSet(keyspace.SetArgs{Get: true})
}

func cmdGetex(x *call) {
	var a keyspace.GetExArgs
	var exp expireOpt
	for j := 2; j < len(x.args); j++ {
		opt := strings.ToLower(string(x.args[j]))
		hasNext := j+1 < len(x.args)
		switch {
		case opt == "persist" && !exp.set:
			a.Persist = true
		case (opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat") && !a.Persist && hasNext &&
			(!exp.set || expKind(opt) == expKind2(exp)):
			exp = expireOpt{arg: x.args[j+1], seconds: opt == "ex" || opt == "exat", relative: opt == "ex" || opt == "px", set: true}
			j++
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if exp.set {
		// Redis looks the key up before it validates the time: a missing
		// key is nil and a set is WRONGTYPE whatever the time says.
		switch x.s.ks.Type(x.c.db, x.args[1]) {
		case keyspace.KindNone:
			x.r.null()
			return
		case keyspace.KindString:
		default:
			x.r.error(msgWrongType)
			return
		}
		d, ok := x.expireArg(exp.arg, exp.seconds, exp.relative)
		if !ok {
			return
		}
		a.Deadline = d
	}
	v, ok, err := x.s.ks.GetEx(x.c.db, x.args[1], a)
	x.valueReply(v, ok, err)
}

func cmdGetdel(x *call) {
	v, ok, err := x.s.ks.GetDel(x.c.db, x.args[1])
	x.valueReply(v, ok, err)
}

func cmdMget(x *call) {
	x.r.bulks(x.s.ks.MGet(x.c.db, x.args[1:]))
}

func cmdMset(x *call) {
	if len(x.args)%2 == 0 {
		x.r.error(msgArity(x.cmd.name))
		return
	}
	nx := x.cmd.name == "msetnx"
	done := x.s.ks.MSet(x.c.db, x.args[1:], nx)
	if nx {
		x.r.boolInt(done)
		return
	}
	x.r.ok()
}

func cmdAppend(x *call) {
	n, err := x.s.ks.Append(x.c.db, x.args[1], x.args[2])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdStrlen(x *call) {
	n, err := x.s.ks.Strlen(x.c.db, x.args[1])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdGetrange(x *call) {
	start, ok := x.intArg(2)
	if !ok {
		return
	}
	end, ok := x.intArg(3)
	if !ok {
		return
	}
	v, err := x.s.ks.GetRange(x.c.db, x.args[1], start, end)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.bulk(v)
}

func cmdSetrange(x *call) {
	off, ok := x.intArg(2)
	if !ok {
		return
	}
	if off < 0 {
		x.r.error(msgOffsetRange)
		return
	}
	n, err := x.s.ks.SetRange(x.c.db, x.args[1], off, x.args[3])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdIncr(x *call) {
	delta := int64(1)
	switch x.cmd.name {
	case "decr":
		delta = -1
	case "incrby", "decrby":
		n, ok := x.intArg(2)
		if !ok {
			return
		}
		delta = n
		if x.cmd.name == "decrby" {
			if n == math.MinInt64 {
				x.r.error("ERR decrement would overflow")
				return
			}
			delta = -n
		}
	}
	n, err := x.s.ks.IncrBy(x.c.db, x.args[1], delta)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(n)
}

func cmdIncrbyfloat(x *call) {
	v, err := x.s.ks.IncrByFloat(x.c.db, x.args[1], x.args[2])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.bulk(v)
}
