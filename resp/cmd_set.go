package resp

import (
	"strings"

	"sessiond/keyspace"
)

func setCommands() []*command {
	const g = "set"
	return []*command{
		{name: "sadd", arity: -3, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Add one or more members to a set", run: cmdSadd},
		{name: "srem", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Remove one or more members from a set", run: cmdSrem},
		{name: "smembers", arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get all the members in a set", run: cmdSmembers},
		{name: "sismember", arity: 3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Determine if a given value is a member of a set", run: cmdSismember},
		{name: "smismember", arity: -3, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "6.2.0", summary: "Returns the membership associated with the given elements for a set", run: cmdSismember},
		{name: "scard", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get the number of members in a set", run: cmdScard},
		{name: "spop", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Remove and return one or multiple random members from a set", run: cmdSpop},
		{name: "srandmember", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get one or multiple random members from a set", run: cmdSrandmember},
		{name: "smove", arity: 4, flags: flagWrite | flagFast, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Move a member from one set to another", run: cmdSmove},
		{name: "sinter", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Intersect multiple sets", run: cmdSetop},
		{name: "sunion", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Add multiple sets", run: cmdSetop},
		{name: "sdiff", arity: -2, flags: flagReadonly, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Subtract multiple sets", run: cmdSetop},
		{name: "sinterstore", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Intersect multiple sets and store the resulting set in a key", run: cmdSetopStore},
		{name: "sunionstore", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Add multiple sets and store the resulting set in a key", run: cmdSetopStore},
		{name: "sdiffstore", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Subtract multiple sets and store the resulting set in a key", run: cmdSetopStore},
		{name: "sintercard", arity: -3, flags: flagReadonly | flagMovableKeys, group: g, since: "7.0.0", summary: "Intersect multiple sets and return the cardinality of the result", run: cmdSintercard},
		{name: "sscan", arity: -3, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.8.0", summary: "Incrementally iterate Set elements", run: cmdSscan},
	}
}

func cmdSadd(x *call) {
	n, err := x.s.ks.SAdd(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdSrem(x *call) {
	n, err := x.s.ks.SRem(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

// cmdSmembers writes the reply from the set itself, under its stripe's
// read lock (keyspace.ViewMembers): the reply is only appended to the
// connection's buffer there, and flushed after the command.
func cmdSmembers(x *call) {
	err := x.s.ks.ViewMembers(x.c.db, x.args[1], func(m keyspace.Members) {
		x.r.setLen(m.Len())
		m.Each(func(b []byte) bool { x.r.bulk(b); return true })
	})
	if err != nil {
		x.ksError(err)
	}
}

func cmdSismember(x *call) {
	res, err := x.s.ks.SIsMember(x.c.db, x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	if x.cmd.name == "sismember" {
		x.r.boolInt(res[0])
		return
	}
	x.r.array(len(res))
	for _, b := range res {
		x.r.boolInt(b)
	}
}

func cmdScard(x *call) {
	n, err := x.s.ks.SCard(x.c.db, x.args[1])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdSpop(x *call) {
	if len(x.args) > 3 {
		x.r.error(msgSyntax)
		return
	}
	count, ok := x.popCount()
	if !ok {
		return
	}
	m, err := x.s.ks.SPop(x.c.db, x.args[1], count)
	switch {
	case err != nil:
		x.ksError(err)
	case len(x.args) == 3:
		x.r.set(m)
	case len(m) == 0:
		x.r.null()
	default:
		x.r.bulk(m[0])
	}
}

func cmdSrandmember(x *call) {
	if len(x.args) > 3 {
		x.r.error(msgSyntax)
		return
	}
	if len(x.args) == 2 {
		m, err := x.s.ks.SRandMember(x.c.db, x.args[1], 1)
		switch {
		case err != nil:
			x.ksError(err)
		case len(m) == 0:
			x.r.null()
		default:
			x.r.bulk(m[0])
		}
		return
	}
	n, ok := x.intArg(2)
	if !ok {
		return
	}
	if n < -(1<<63 - 1) {
		x.r.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	}
	m, err := x.s.ks.SRandMember(x.c.db, x.args[1], n)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.bulks(m)
}

func cmdSmove(x *call) {
	ok, err := x.s.ks.SMove(x.c.db, x.args[1], x.args[2], x.args[3])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.boolInt(ok)
}

func setOpOf(name string) keyspace.SetOp {
	switch {
	case strings.HasPrefix(name, "sinter"):
		return keyspace.SetInter
	case strings.HasPrefix(name, "sunion"):
		return keyspace.SetUnion
	}
	return keyspace.SetDiff
}

func cmdSetop(x *call) {
	m, err := x.s.ks.SetCombine(x.c.db, setOpOf(x.cmd.name), x.args[1:], 0)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.set(m)
}

func cmdSetopStore(x *call) {
	n, err := x.s.ks.SetCombineStore(x.c.db, setOpOf(x.cmd.name), x.args[1], x.args[2:])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(n))
}

func cmdSintercard(x *call) {
	nk, ok := keyspace.ParseInt(x.args[1])
	if !ok || nk <= 0 { // Redis gives this message for a non-integer too
		x.r.error("ERR numkeys should be greater than 0")
		return
	}
	if nk > int64(len(x.args)-2) {
		x.r.error("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := x.args[2 : 2+nk]
	limit := int64(0)
	for j := 2 + int(nk); j < len(x.args); j += 2 {
		if strings.ToLower(string(x.args[j])) != "limit" || j+1 >= len(x.args) {
			x.r.error(msgSyntax)
			return
		}
		l, ok := keyspace.ParseInt(x.args[j+1])
		if !ok || l < 0 { // Redis gives this message for a non-integer too
			x.r.error("ERR LIMIT can't be negative")
			return
		}
		limit = l
	}
	m, err := x.s.ks.SetCombine(x.c.db, keyspace.SetInter, keys, int(min(limit, 1<<31)))
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(int64(len(m)))
}

func cmdSscan(x *call) {
	x.scanWhole(keyspace.KindSet, func(match []byte) ([][]byte, error) {
		return x.s.ks.SScan(x.c.db, x.args[1], match)
	}, x.ksError)
}

// scanWhole answers SSCAN and HSCAN: the key's whole value (filtered by
// MATCH) in one call, with cursor 0.
func (x *call) scanWhole(kind keyspace.Kind, scan func(match []byte) ([][]byte, error), fail func(error)) {
	if _, ok := x.cursorArg(x.args[2]); !ok {
		return
	}
	// As in Redis: the key is looked up before the options are parsed.
	switch x.s.ks.Type(x.c.db, x.args[1]) {
	case keyspace.KindNone:
		x.r.array(2)
		x.r.bulkString("0")
		x.r.array(0)
		return
	case kind:
	default:
		x.r.error(msgWrongType)
		return
	}
	a, ok := x.scanArgs(x.args[3:], false)
	if !ok {
		return
	}
	items, err := scan(a.Match)
	if err != nil {
		fail(err)
		return
	}
	x.r.array(2)
	x.r.bulkString("0")
	x.r.bulks(items)
}
