package resp

import (
	"errors"
	"math"
	"time"

	"sessiond/keyspace"
)

// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP) try their non-blocking form first. If there is
// nothing for them they block, as in Redis: not in MULTI or a script
// (there they reply as if the timeout had passed), not on an event loop
// (the connection moves to a goroutine first and the command runs again
// there), and never holding the gate, so that EXEC and scripts run while
// clients wait. keyspace.Blocked decides who is woken, in the order the
// clients blocked.

func blockingCommands() []*command {
	const fl = flagWrite | flagBlocking | flagOwnGate
	const ns = fl | flagNoScript // Redis refuses these in scripts; BLMPOP and BZMPOP it runs there without blocking
	return []*command{
		{name: "blpop", arity: -3, flags: ns, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0", summary: "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", run: cmdBpop},
		{name: "brpop", arity: -3, flags: ns, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0", summary: "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", run: cmdBpop},
		{name: "blmove", arity: 6, flags: ns | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "6.2.0", summary: "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", run: cmdBlmove},
		{name: "brpoplpush", arity: 4, flags: ns | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "2.2.0", summary: "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", run: cmdBlmove},
		{name: "blmpop", arity: -5, flags: fl | flagMovableKeys, group: "list", since: "7.0.0", summary: "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", run: cmdBlmpop},
		{name: "bzpopmin", arity: -3, flags: ns | flagFast, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", since: "5.0.0", summary: "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", run: cmdBzpop},
		{name: "bzpopmax", arity: -3, flags: ns | flagFast, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", since: "5.0.0", summary: "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", run: cmdBzpop},
		{name: "bzmpop", arity: -5, flags: fl | flagMovableKeys, group: "sorted-set", since: "7.0.0", summary: "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", run: cmdBzmpop},
	}
}

// timeoutArg parses a blocking command's timeout, in seconds, as Redis's
// getTimeoutFromObjectOrReply does (keyspace.TimeoutMs): 0 for none.
func (x *call) timeoutArg(b []byte) (time.Duration, bool) {
	ms, ok := keyspace.TimeoutMs(b)
	switch {
	case !ok:
		x.r.error("ERR timeout is not a float or out of range")
	case ms < 0:
		x.r.error("ERR timeout is negative")
	default:
		return time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond, true
	}
	return 0, false
}

// block runs a blocking command: try is its non-blocking form, which
// replies and returns true when it served the client (or failed), else
// writes nothing. Where the client may not block, denied replies instead;
// otherwise it waits for keys (of kind) until try serves it, or until the
// timeout passes (0: none), counted from now in real time (the keyspace's
// clock stands still while a script runs), when timedOut replies. The
// time spent waiting is not the command's (SLOWLOG, commandstats). Once blocked, try is given one key
// at a time with woken set, the keys written in the order they were, as
// Redis serves a blocked client from the key that was written; a key of
// the wrong type then does not serve it (it blocks on), where the first
// try replies WRONGTYPE.
func (x *call) block(keys [][]byte, kind keyspace.Kind, timeout time.Duration, try func(keys [][]byte, woken bool) bool, denied, timedOut func()) {
	start := time.Now()
	if x.tryOnce(func() bool { return try(keys, false) }, false) {
		return
	}
	if x.inExec || x.noBlock {
		denied()
		return
	}
	if x.c.onLoop {
		x.c.deferred = true // the loop hands the connection over; it runs again
		return
	}
	b := x.s.ks.Block(x.c.db, keys, kind)
	var pass [][]byte // the key it was served from, and those it did not look at
	x.c.blocked.Store(true)
	var waitStart time.Time
	defer func() {
		x.c.blocked.Store(false)
		x.s.ks.Unblock(b, pass)
		if !waitStart.IsZero() {
			x.waited = time.Since(waitStart)
		}
	}()
	// Once more, now that a write would wake it: one between the first
	// try and Block went unseen.
	if i := x.tryWoken(keys, try); i >= 0 {
		pass = keys[i : i+1]
		return
	}
	x.flushBefore() // the replies before this one, pipelined, must not wait with it
	gone, stop := watchHangup(x.c.netConn)
	defer stop()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Until(start.Add(timeout)))
		defer t.Stop()
		expired = t.C
	}
	waitStart = time.Now()
	for {
		select {
		case <-b.Ready():
			fired := x.s.ks.Fired(b)
			if i := x.tryWoken(fired, try); i >= 0 {
				pass = fired[i:]
				return
			}
		case <-expired:
			timedOut()
			return
		case <-gone:
			return // nobody to reply to: the read loop sees the connection end
		}
	}
}

// tryWoken tries keys one at a time, in order, and returns the index of
// the one that served the client, or -1.
func (x *call) tryWoken(keys [][]byte, try func(keys [][]byte, woken bool) bool) int {
	for i := range keys {
		if x.tryOnce(func() bool { return try(keys[i:i+1], true) }, true) {
			return i
		}
	}
	return -1
}

// tryOnce runs try as dispatch runs a command: holding the gate, unless
// EXEC or a script already holds all of it, and refused while a script is
// busy, except once the client is blocked (woken): Redis serves it when
// the script is over, so it waits for that.
func (x *call) tryOnce(try func() bool, woken bool) bool {
	if x.inExec || x.noBlock {
		return try()
	}
	for {
		x.s.gate.rlock(x.c.id)
		if !x.s.scripts.busy.Load() {
			break
		}
		if !woken {
			defer x.s.gate.runlock(x.c.id)
			if x.s.busyRefused(x.cmd, x.args, x.r) {
				return true
			}
			return try()
		}
		x.s.gate.runlock(x.c.id)
		x.s.waitScript()
	}
	defer x.s.gate.runlock(x.c.id)
	x.nowMs = 0 // each try is a new moment
	return try()
}

// flushBefore sends the replies written so far.
func (x *call) flushBefore() {
	if w := baseWriter(x.c.conn); w != nil && w.Flush() != nil {
		x.c.closing.Store(true)
	}
}

func cmdBpop(x *call) {
	timeout, ok := x.timeoutArg(x.args[len(x.args)-1])
	if !ok {
		return
	}
	keys := x.args[1 : len(x.args)-1]
	front := x.cmd.name == "blpop"
	x.block(keys, keyspace.KindList, timeout, func(keys [][]byte, woken bool) bool {
		key, vs, err := x.s.ks.LMPop(x.c.db, keys, front, 1)
		switch {
		case err != nil && woken:
			return false // not a list (any more): Redis serves only from one
		case err != nil:
			x.ksError(err)
		case key == nil:
			return false
		default:
			x.r.array(2)
			x.r.bulk(key)
			x.r.bulk(vs[0])
		}
		return true
	}, x.r.nullArray, x.r.nullArray)
}

func cmdBlmove(x *call) {
	from, to := false, true // BRPOPLPUSH
	if x.cmd.name == "blmove" {
		var ok bool
		if from, ok = x.listEnd(x.args[3]); !ok {
			return
		}
		if to, ok = x.listEnd(x.args[4]); !ok {
			return
		}
	}
	timeout, ok := x.timeoutArg(x.args[len(x.args)-1])
	if !ok {
		return
	}
	x.block(x.args[1:2], keyspace.KindList, timeout, func(_ [][]byte, woken bool) bool {
		v, ok, err := x.s.ks.LMove(x.c.db, x.args[1], x.args[2], from, to)
		if !ok && (err == nil || woken && errors.Is(err, keyspace.ErrSourceWrongType)) {
			return false // a wrong destination fails a woken client; a wrong source does not serve it
		}
		x.valueReply(v, ok, err)
		return true
	}, x.r.null, x.r.nullArray) // Redis: a null in MULTI, a null array on timeout
}

func cmdBlmpop(x *call) {
	keys, left, count, ok := x.mpopArgs(2, "left", "right")
	if !ok {
		return
	}
	timeout, ok := x.timeoutArg(x.args[1])
	if !ok {
		return
	}
	x.block(keys, keyspace.KindList, timeout, func(keys [][]byte, woken bool) bool {
		key, vs, err := x.s.ks.LMPop(x.c.db, keys, left, count)
		switch {
		case err != nil && woken:
			return false
		case err != nil:
			x.ksError(err)
		case key == nil:
			return false
		default:
			x.r.array(2)
			x.r.bulk(key)
			x.r.bulks(vs)
		}
		return true
	}, x.r.nullArray, x.r.nullArray)
}

func cmdBzpop(x *call) {
	timeout, ok := x.timeoutArg(x.args[len(x.args)-1])
	if !ok {
		return
	}
	keys := x.args[1 : len(x.args)-1]
	popMax := x.cmd.name == "bzpopmax"
	x.block(keys, keyspace.KindZSet, timeout, func(keys [][]byte, woken bool) bool {
		key, es, err := x.s.ks.ZMPop(x.c.db, keys, popMax, 1)
		switch {
		case err != nil && woken:
			return false
		case err != nil:
			x.ksError(err)
		case key == nil:
			return false
		default:
			x.r.array(3)
			x.r.bulk(key)
			x.r.bulk(es[0].Member)
			x.r.double(es[0].Score)
		}
		return true
	}, x.r.nullArray, x.r.nullArray)
}

func cmdBzmpop(x *call) {
	keys, popMin, count, ok := x.mpopArgs(2, "min", "max")
	if !ok {
		return
	}
	timeout, ok := x.timeoutArg(x.args[1])
	if !ok {
		return
	}
	x.block(keys, keyspace.KindZSet, timeout, func(keys [][]byte, woken bool) bool {
		key, es, err := x.s.ks.ZMPop(x.c.db, keys, !popMin, count)
		switch {
		case err != nil && woken:
			return false
		case err != nil:
			x.ksError(err)
		case key == nil:
			return false
		default:
			x.r.array(2)
			x.r.bulk(key)
			x.scoredReply(es, true, true)
		}
		return true
	}, x.r.nullArray, x.r.nullArray)
}
