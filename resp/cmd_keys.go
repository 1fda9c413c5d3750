package resp

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"sessiond/keyspace"
)

func keyCommands() []*command {
	const g = "generic"
	return []*command{
		{name: "del", arity: -2, flags: flagWrite, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Delete a key", run: cmdDel},
		{name: "unlink", arity: -2, flags: flagWrite | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "4.0.0", summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", run: cmdDel},
		{name: "exists", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "1.0.0", summary: "Determine if a key exists", run: cmdExists},
		{name: "touch", arity: -2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: -1, step: 1, group: g, since: "3.2.1", summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", run: cmdTouch},
		{name: "type", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Determine the type stored at key", run: cmdType},
		{name: "expire", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Set a key's time to live in seconds", run: cmdExpire},
		{name: "pexpire", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Set a key's time to live in milliseconds", run: cmdExpire},
		{name: "expireat", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.2.0", summary: "Set the expiration for a key as a UNIX timestamp", run: cmdExpire},
		{name: "pexpireat", arity: -3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", run: cmdExpire},
		{name: "ttl", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Get the time to live for a key in seconds", run: cmdTTL},
		{name: "pttl", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Get the time to live for a key in milliseconds", run: cmdTTL},
		{name: "expiretime", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "7.0.0", summary: "Get the expiration Unix timestamp for a key", run: cmdTTL},
		{name: "pexpiretime", arity: 2, flags: flagReadonly | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "7.0.0", summary: "Get the expiration Unix timestamp for a key in milliseconds", run: cmdTTL},
		{name: "persist", arity: 2, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.2.0", summary: "Remove the expiration from a key", run: cmdPersist},
		{name: "keys", arity: 2, flags: flagReadonly, group: g, since: "1.0.0", summary: "Find all keys matching the given pattern", run: cmdKeys},
		{name: "scan", arity: -2, flags: flagReadonly, group: g, since: "2.8.0", summary: "Incrementally iterate the keys space", run: cmdScan},
		{name: "randomkey", arity: 1, flags: flagReadonly, group: g, since: "1.0.0", summary: "Return a random key from the keyspace", run: cmdRandomkey},
		{name: "rename", arity: 3, flags: flagWrite, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Rename a key", run: cmdRename},
		{name: "renamenx", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 2, step: 1, group: g, since: "1.0.0", summary: "Rename a key, only if the new key does not exist", run: cmdRename},
		{name: "copy", arity: -3, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: g, since: "6.2.0", summary: "Copy a key", run: cmdCopy},
		{name: "move", arity: 3, flags: flagWrite | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "1.0.0", summary: "Move a key to another database", run: cmdMove},
		{name: "dbsize", arity: 1, flags: flagReadonly | flagFast, group: "server", since: "1.0.0", summary: "Return the number of keys in the selected database", run: cmdDbsize},
		{name: "flushdb", arity: -1, flags: flagWrite, group: "server", since: "1.0.0", summary: "Remove all keys from the current database", run: cmdFlush},
		{name: "flushall", arity: -1, flags: flagWrite, group: "server", since: "1.0.0", summary: "Remove all keys from all databases", run: cmdFlush},
		{name: "swapdb", arity: 3, flags: flagWrite | flagFast, group: "server", since: "4.0.0", summary: "Swaps two Redis databases", run: cmdSwapdb},
	}
}

func cmdDel(x *call) {
	x.r.int(int64(x.s.ks.Del(x.c.db, x.args[1:])))
}

func cmdExists(x *call) {
	x.r.int(int64(x.s.ks.Exists(x.c.db, x.args[1:])))
}

func cmdType(x *call) {
	x.r.status(x.s.ks.Type(x.c.db, x.args[1]).String())
}

func cmdExpire(x *call) {
	var cond keyspace.ExpireCond
	for _, a := range x.args[3:] {
		switch strings.ToLower(string(a)) {
		case "nx":
			cond |= keyspace.ExpireNX
		case "xx":
			cond |= keyspace.ExpireXX
		case "gt":
			cond |= keyspace.ExpireGT
		case "lt":
			cond |= keyspace.ExpireLT
		default:
			x.r.error("ERR " + formatErr("Unsupported option "+cstr(a)))
			return
		}
	}
	if cond&keyspace.ExpireNX != 0 && cond&(keyspace.ExpireXX|keyspace.ExpireGT|keyspace.ExpireLT) != 0 {
		x.r.error("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if cond&keyspace.ExpireGT != 0 && cond&keyspace.ExpireLT != 0 {
		x.r.error("ERR GT and LT options at the same time are not compatible")
		return
	}
	when, ok := x.intArg(2)
	if !ok {
		return
	}
	name := x.cmd.name
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			x.expireErr()
			return
		}
		when *= 1000
	}
	if name == "expire" || name == "pexpire" {
		now := x.now()
		if when > math.MaxInt64-now {
			x.expireErr()
			return
		}
		when += now
	}
	x.r.boolInt(x.s.ks.Expire(x.c.db, x.args[1], when, cond))
}

func cmdTTL(x *call) {
	d, now := x.s.ks.Deadline(x.c.db, x.args[1])
	if d < 0 {
		x.r.int(d)
		return
	}
	switch x.cmd.name {
	case "ttl":
		x.r.int(roundSeconds(max(d-now, 0)))
	case "pttl":
		x.r.int(max(d-now, 0))
	case "expiretime":
		x.r.int(roundSeconds(d)) // rounded like TTL, as Redis does (ttlGenericCommand)
	default:
		x.r.int(d)
	}
}

// roundSeconds is Redis's (ms+500)/1000 for ms >= 0, without overflowing
// near math.MaxInt64.
func roundSeconds(ms int64) int64 { return ms/1000 + (ms%1000+500)/1000 }

func cmdPersist(x *call) {
	x.r.boolInt(x.s.ks.Persist(x.c.db, x.args[1]))
}

func cmdKeys(x *call) {
	x.r.bulks(x.s.ks.Keys(x.c.db, pattern(x.args[1])))
}

// pattern is a pattern given as an argument, never nil: to the keyspace,
// nil means none given (match everything), and "" matches only "".
func pattern(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanArgs parses SCAN-style options from args: MATCH, COUNT, and TYPE when
// allowType is set.
func (x *call) scanArgs(args [][]byte, allowType bool) (keyspace.ScanArgs, bool) {
	a := keyspace.ScanArgs{Count: 10}
	for j := 0; j < len(args); j += 2 {
		opt := strings.ToLower(string(args[j]))
		if j+1 >= len(args) {
			x.r.error(msgSyntax)
			return a, false
		}
		switch {
		case opt == "count":
			n, ok := keyspace.ParseInt(args[j+1])
			if !ok {
				x.r.error(msgNotInteger)
				return a, false
			}
			if n < 1 {
				x.r.error(msgSyntax)
				return a, false
			}
			a.Count = int(min(n, 1<<30))
		case opt == "match":
			a.Match = pattern(args[j+1])
		case opt == "type" && allowType:
			a.TypeFilter = true
			switch strings.ToLower(string(args[j+1])) {
			case "string":
				a.Type = keyspace.KindString
			case "set":
				a.Type = keyspace.KindSet
			case "hash":
				a.Type = keyspace.KindHash
			case "zset":
				a.Type = keyspace.KindZSet
			case "list":
				a.Type = keyspace.KindList
			case "stream":
				a.Type = keyspace.KindStream
			default:
				a.Type = keyspace.KindNone // matches nothing, as Redis 7.0 does
			}
		default:
			x.r.error(msgSyntax)
			return a, false
		}
	}
	return a, true
}

// cursorArg parses a SCAN cursor as Redis does with strtoul: an empty
// string is 0, a sign is accepted ("-1" wraps around), and the argument
// ends at a NUL byte, as a C string does.
func (x *call) cursorArg(b []byte) (uint64, bool) {
	c, ok := parseStrtoul(b)
	if !ok {
		x.r.error("ERR invalid cursor")
	}
	return c, ok
}

func parseStrtoul(b []byte) (uint64, bool) {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) == 0 {
		return 0, true
	}
	neg := false
	d := b
	if d[0] == '+' || d[0] == '-' {
		neg, d = d[0] == '-', d[1:]
	}
	c, err := strconv.ParseUint(string(d), 10, 64)
	if err != nil || d[0] == '+' || d[0] == '-' {
		return 0, false
	}
	if neg {
		c = -c
	}
	return c, true
}

func cmdScan(x *call) {
	cur, ok := x.cursorArg(x.args[1])
	if !ok {
		return
	}
	a, ok := x.scanArgs(x.args[2:], true)
	if !ok {
		return
	}
	next, keys := x.s.ks.Scan(x.c.db, cur, a)
	x.r.array(2)
	x.r.bulkString(strconv.FormatUint(next, 10))
	x.r.bulks(keys)
}

func cmdRandomkey(x *call) {
	k, ok := x.s.ks.RandomKey(x.c.db)
	if !ok {
		x.r.null()
		return
	}
	x.r.bulk(k)
}

func cmdRename(x *call) {
	nx := x.cmd.name == "renamenx"
	done, err := x.s.ks.Rename(x.c.db, x.args[1], x.args[2], nx)
	switch {
	case err != nil:
		x.ksError(err)
	case nx:
		x.r.boolInt(done)
	default:
		x.r.ok()
	}
}

// dbArg parses a database number as getIntFromObjectOrReply does, with
// msg as the error for a non-integer (or the generic one if empty).
func (x *call) dbArg(b []byte, msg string) (int, bool) {
	n, ok := x.int32Arg(b, msg)
	if !ok {
		return 0, false
	}
	if n < 0 || n >= keyspace.NumDBs {
		x.r.error(msgDBIndex)
		return 0, false
	}
	return n, true
}

// int32Arg parses an int as getIntFromObjectOrReply does, with msg as the
// error for a non-integer or out of range (or the generic ones if empty).
func (x *call) int32Arg(b []byte, msg string) (int, bool) {
	n, ok := keyspace.ParseInt(b)
	if !ok {
		if msg == "" {
			msg = msgNotInteger
		}
		x.r.error(msg)
		return 0, false
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		if msg == "" {
			msg = "ERR value is out of range, value must between -2147483648 and 2147483647"
		}
		x.r.error(msg)
		return 0, false
	}
	return int(n), true
}

func cmdCopy(x *call) {
	dst := x.c.db
	replace := false
	for j := 3; j < len(x.args); j++ {
		opt := strings.ToLower(string(x.args[j]))
		switch {
		case opt == "replace":
			replace = true
		case opt == "db" && j+1 < len(x.args):
			d, ok := x.dbArg(x.args[j+1], "")
			if !ok {
				return
			}
			dst = d
			j++
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if dst == x.c.db && string(x.args[1]) == string(x.args[2]) {
		x.r.error(msgSameObject)
		return
	}
	x.r.boolInt(x.s.ks.Copy(x.c.db, x.args[1], dst, x.args[2], replace))
}

func cmdMove(x *call) {
	dst, ok := x.dbArg(x.args[2], "")
	if !ok {
		return
	}
	if dst == x.c.db {
		x.r.error(msgSameObject)
		return
	}
	x.r.boolInt(x.s.ks.Move(x.c.db, x.args[1], dst))
}

func cmdDbsize(x *call) {
	n, _ := x.s.ks.Size(x.c.db)
	x.r.int(int64(n))
}

func cmdFlush(x *call) {
	if len(x.args) > 2 {
		x.r.error(msgSyntax)
		return
	}
	if len(x.args) == 2 {
		switch strings.ToLower(string(x.args[1])) {
		case "sync", "async":
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if x.cmd.name == "flushall" {
		x.s.ks.FlushAll()
	} else {
		x.s.ks.Flush(x.c.db)
	}
	x.r.ok()
}

func cmdSwapdb(x *call) {
	// Both indexes are parsed before either is range checked, as in Redis.
	a, ok := x.int32Arg(x.args[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := x.int32Arg(x.args[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	if a < 0 || a >= keyspace.NumDBs || b < 0 || b >= keyspace.NumDBs {
		x.r.error(msgDBIndex)
		return
	}
	x.s.ks.Swap(a, b)
	if a != b {
		// Every key name may have a new value: tracking clients are told
		// as for a flush (Redis 7.0 tells them nothing: tracking.go).
		x.s.trackFlush()
	}
	x.r.ok()
}
