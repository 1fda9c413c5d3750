package resp

import (
	"errors"
	"strings"

	"sessiond/keyspace"
	"sessiond/snapshot"
)

// DUMP and RESTORE (Redis's cluster.c): a value out as an RDB payload and
// back in. Payloads are version 10, what Redis 7.0 writes, so Redis 7.0
// and later RESTORE what sessiond DUMPs; RESTORE takes payloads up to
// snapshot.MaxVersion (Redis 7.4), so Redis's MIGRATE, and tools that copy
// keys with DUMP and RESTORE, move keys in both directions.

func dumpCommands() []*command {
	const g = "generic"
	return []*command{
		{name: "dump", arity: 2, flags: flagReadonly, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Return a serialized version of the value stored at the specified key.", run: cmdDump},
		{name: "restore", arity: -4, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.6.0", summary: "Create a key using the provided serialized value, previously obtained using DUMP.", run: cmdRestore},
	}
}

func cmdDump(x *call) {
	it, ok := x.s.ks.Dump(x.c.db, x.args[1])
	if !ok {
		x.r.null()
		return
	}
	p, err := snapshot.DumpItem(&it)
	if err != nil { // a value the encoder refuses: a bug, not the client's
		x.r.error("ERR " + err.Error())
		return
	}
	x.r.bulk(p)
}

// cmdRestore checks as Redis 7.0 does, in its order: the options, then
// that the key is free (unless REPLACE), then the TTL, then the payload.
func cmdRestore(x *call) {
	a := keyspace.RestoreArgs{IdleSecs: -1, Freq: -1}
	absTTL := false
	for j := 4; j < len(x.args); j++ {
		opt := strings.ToLower(string(x.args[j]))
		more := j+1 < len(x.args)
		switch {
		case opt == "replace":
			a.Replace = true
		case opt == "absttl":
			absTTL = true
		case opt == "idletime" && more && a.Freq == -1:
			n, ok := keyspace.ParseInt(x.args[j+1])
			if !ok {
				x.r.error(msgNotInteger)
				return
			}
			if n < 0 {
				x.r.error("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			a.IdleSecs = n
			j++
		case opt == "freq" && more && a.IdleSecs == -1:
			n, ok := keyspace.ParseInt(x.args[j+1])
			if !ok {
				x.r.error(msgNotInteger)
				return
			}
			if n < 0 || n > 255 {
				x.r.error("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			a.Freq = int(n)
			j++
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	key := x.args[1]
	if !a.Replace && x.s.ks.Has(x.c.db, key) {
		x.r.error(keyspace.ErrBusyKey.Error())
		return
	}
	ttl, ok := keyspace.ParseInt(x.args[2])
	if !ok {
		x.r.error(msgNotInteger)
		return
	}
	if ttl < 0 {
		x.r.error("ERR Invalid TTL value, must be >= 0")
		return
	}
	rec, err := snapshot.ParseDump(x.args[3])
	if err != nil {
		x.r.error(restoreError(err))
		return
	}
	if ttl != 0 && !absTTL {
		ttl += x.now() // wraps for a huge TTL, which then counts as past, as in Redis
	}
	a.Deadline = ttl
	if ttl < 0 {
		a.Deadline = 1 // past, but not "no deadline"
	}
	v := keyspace.Value{Str: rec.Str, Elems: rec.Members, Scores: rec.Scores}
	switch rec.Kind {
	case snapshot.KindString:
		v.Kind = keyspace.KindString
	case snapshot.KindSet:
		v.Kind = keyspace.KindSet
	case snapshot.KindHash:
		v.Kind, v.Elems = keyspace.KindHash, rec.Fields
	case snapshot.KindZSet:
		v.Kind = keyspace.KindZSet
	case snapshot.KindList:
		v.Kind = keyspace.KindList
	case snapshot.KindStream:
		v.Kind, v.Stream = keyspace.KindStream, rec.Stream
	}
	if err := x.s.ks.Restore(x.c.db, key, v, a); err != nil {
		x.ksError(err)
		return
	}
	x.r.ok()
}

// restoreError is the reply to a payload ParseDump refused: Redis's texts,
// and for a type sessiond cannot hold, one that says so.
func restoreError(err error) string {
	var de *snapshot.DecodeError
	switch {
	case errors.Is(err, snapshot.ErrDumpPayload):
		return "ERR " + err.Error()
	case errors.Is(err, snapshot.ErrUnsupportedType) && errors.As(err, &de):
		return "ERR Bad data format: sessiond does not support " + de.Reason
	case errors.Is(err, snapshot.ErrDumpTooDense):
		return "ERR Bad data format: the " + err.Error()
	}
	return "ERR Bad data format"
}
