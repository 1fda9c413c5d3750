package resp

import "math"

// HyperLogLog commands: the values and their arithmetic are package hll's,
// the read-modify-writes keyspace's (hll.go). PFDEBUG and PFSELFTEST,
// Redis's internal debugging commands, are not implemented.
func hllCommands() []*command {
	const g = "hyperloglog"
	return []*command{
		{name: "pfadd", arity: -2, flags: flagWrite | flagDenyOOM | flagFast, firstKey: 1, lastKey: 1, step: 1, group: g, since: "2.8.9", summary: "Adds the specified elements to the specified HyperLogLog.", run: cmdPfadd},
		// PFCOUNT is read-only in Redis's table although it may write the
		// cached cardinality, which Redis propagates: hence may-replicate.
		{name: "pfcount", arity: -2, flags: flagReadonly | flagMayReplicate, firstKey: 1, lastKey: -1, step: 1, group: g, since: "2.8.9", summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", run: cmdPfcount},
		{name: "pfmerge", arity: -2, flags: flagWrite | flagDenyOOM, firstKey: 1, lastKey: -1, step: 1, group: g, since: "2.8.9", summary: "Merge N different HyperLogLogs into a single one.", run: cmdPfmerge},
	}
}

// initHLL keeps hll-sparse-max-bytes where PFADD and PFMERGE read it
// without taking the configuration's lock.
func (s *Server) initHLL() {
	load := func(string) { s.hllSparseMax.Store(s.cfg.Int("hll-sparse-max-bytes")) }
	s.cfg.OnSet("hll-sparse-max-bytes", load)
	load("")
}

// sparseMax is hll-sparse-max-bytes as an int (a larger setting than an
// int holds means no limit either way).
func (s *Server) sparseMax() int { return int(min(s.hllSparseMax.Load(), math.MaxInt32)) }

func cmdPfadd(x *call) {
	ok, err := x.s.ks.PFAdd(x.c.db, x.args[1], x.args[2:], x.s.sparseMax())
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.boolInt(ok)
}

func cmdPfcount(x *call) {
	n, wrote, err := x.s.ks.PFCount(x.c.db, x.args[1:])
	if wrote {
		// The cache written into the value is a change of the string a
		// tracking client may hold (Redis: signalModifiedKey); PFCOUNT
		// being read-only, the dispatcher does not announce it.
		x.s.invalidate(x.c, x.args[1])
	}
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(n)
}

func cmdPfmerge(x *call) {
	x.okReply(x.s.ks.PFMerge(x.c.db, x.args[1], x.args[2:], x.s.sparseMax()))
}
