package resp

import (
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
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
		{name: "blpop", arity: -3, flags: ns, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0", summary: "Remove and get the first element in a list, or block until one is available", run: cmdBpop},
		{name: "brpop", arity: -3, flags: ns, firstKey: 1, lastKey: -2, step: 1, group: "list", since: "2.0.0", summary: "Remove and get the last element in a list, or block until one is available", run: cmdBpop},
		{name: "blmove", arity: 6, flags: ns | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "6.2.0", summary: "Pop an element from a list, push it to another list and return it; or block until one is available", run: cmdBlmove},
		{name: "brpoplpush", arity: 4, flags: ns | flagDenyOOM, firstKey: 1, lastKey: 2, step: 1, group: "list", since: "2.2.0", summary: "Pop an element from a list, push it to another list and return it; or block until one is available", run: cmdBlmove},
		{name: "blmpop", arity: -5, flags: fl | flagMovableKeys, group: "list", since: "7.0.0", summary: "Pop elements from a list, or block until one is available", run: cmdBlmpop},
		{name: "bzpopmin", arity: -3, flags: ns | flagFast, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", since: "5.0.0", summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", run: cmdBzpop},
		{name: "bzpopmax", arity: -3, flags: ns | flagFast, firstKey: 1, lastKey: -2, step: 1, group: "sorted-set", since: "5.0.0", summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", run: cmdBzpop},
		{name: "wait", arity: 3, flags: flagNoScript | flagOwnGate, group: "generic", since: "3.0.0", summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection", run: cmdWait},
		{name: "bzmpop", arity: -5, flags: fl | flagMovableKeys, group: "sorted-set", since: "7.0.0", summary: "Remove and return members with scores in a sorted set or block until one is available", run: cmdBzmpop},
	}
}

// cmdWait is WAIT numreplicas timeout on a server with no replicas, as
// Redis answers it: at once with 0 when no replica is asked for (or in
// MULTI), else blocked until the timeout (0: none), CLIENT UNBLOCK or the
// client leaves, then 0. Writes are never acknowledged by anyone, so a
// client asking for one replica learns that none has its writes.
func cmdWait(x *call) {
	n, ok := keyspace.ParseInt(x.args[1])
	if !ok {
		x.r.error(msgNotInteger)
		return
	}
	ms, ok := keyspace.ParseInt(x.args[2])
	switch {
	case !ok:
		x.r.error("ERR timeout is not an integer or out of range")
		return
	case ms < 0:
		x.r.error("ERR timeout is negative")
		return
	}
	none := func() { x.r.int(0) }
	if n <= 0 {
		none()
		return
	}
	timeout := time.Duration(min(ms, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
	x.block(nil, keyspace.KindNone, timeout, func([][]byte, bool) bool { return false }, none, none)
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
// timeout passes (0: none), counted in real time from when the command
// ran (the keyspace's clock stands still while a script runs), when
// timedOut replies. The time spent waiting is not the command's (SLOWLOG,
// commandstats). Once blocked, try is given one key at a time with woken
// set, the keys written in the order they were, as Redis serves a blocked
// client from the key that was written; a key of the wrong type then does
// not serve it (it blocks on), where the first try replies WRONGTYPE.
func (x *call) block(keys [][]byte, kind keyspace.Kind, timeout time.Duration, try func(keys [][]byte, woken bool) bool, denied, timedOut func()) {
	if served, _ := x.tryOnce(func() bool { return try(keys, false) }, false); served {
		return
	}
	start := time.Now() // when it ran: after any script or EXEC it waited for
	if x.inExec || x.inScript || x.c.denyBlocking {
		denied()
		return
	}
	if x.c.onLoop {
		x.c.deferred = true // the loop hands the connection over; it runs again
		return
	}
	// The replies before this one, pipelined, must not wait with it. Sent
	// now: once it is registered, the client that serves it may write to
	// the connection (under w.mu).
	x.flushBefore()
	if ps := x.c.ps.Load(); ps != nil {
		// Invalidation messages (tracking.go) need not wait for this
		// reply, which carries no value a client caches: they go while it
		// waits, as in Redis, rather than pile up for as long.
		x.c.pushRelease(ps)
	}
	w := &waiter{x: x, try: try, served: make(chan struct{}), pending: keys, unblock: make(chan bool, 1)}
	w.mu.Lock() // a writer may find w before w.b is set
	w.b = x.s.ks.Block(x.c.db, keys, kind, w)
	w.mu.Unlock()
	x.c.blocked.Store(w)
	var waitStart time.Time
	defer func() {
		w.finish() // timed out or gone, if not served
		x.c.blocked.Store(nil)
		if !waitStart.IsZero() {
			x.waited = time.Since(waitStart)
		}
	}()
	// Once more, now that a write would wake it: one between the first
	// try and Block went unseen.
	if w.serve(false) {
		return
	}
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
		var scriptEnd <-chan struct{}
		if w.isBusy() {
			scriptEnd = x.s.scriptDone()
		}
		select {
		case <-w.served: // by the client whose write woke it
			return
		case <-w.b.Ready():
			// The writer serves it after reporting its own events, as in
			// Redis (an RPUSH's event comes before the pop's); it serves
			// itself only if nobody has it queued to.
			if !x.s.ks.Queued(w.b) && w.serve(false) {
				return
			}
		case <-scriptEnd: // a busy script held it off: try again
			if w.serve(false) {
				return
			}
		case <-expired:
			// Redis times blocked clients out between commands: a script
			// or EXEC running now may still serve it.
			if !x.s.waitGate(x.c.id, gone) {
				return // gone meanwhile
			}
			if w.serve(false) || !w.finish() {
				return
			}
			timedOut()
			return
		case asError := <-w.unblock: // CLIENT UNBLOCK
			if w.finish() {
				if asError {
					x.r.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
				} else {
					timedOut()
				}
			}
			return
		case <-gone:
			return // nobody to reply to: the read loop sees the connection end
		}
	}
}

// waiter is a blocked client as the clients that wake it see it: a write
// to one of its keys queues it (keyspace.PeekReady), and the writer
// serves it before its own next command (serveBlocked), as Redis serves
// blocked clients after each command; failing that, it serves itself
// when woken. mu makes the two exclusive: whoever serves it writes its
// reply and unblocks it.
type waiter struct {
	mu   sync.Mutex
	done bool // served, timed out or gone: nobody else may reply
	// pending is keys to try before those written since (the keys of the
	// command when it blocks; those a busy script held off); busy says a
	// script was busy at the last try.
	pending [][]byte
	busy    bool
	x       *call
	b       *keyspace.Blocked
	try     func(keys [][]byte, woken bool) bool
	served  chan struct{} // closed when another goroutine served it
	unblock chan bool     // CLIENT UNBLOCK: true with an error, false as a timeout
}

// serve tries the client's command on its pending keys and those written
// since it last looked, one at a time, in order, and reports whether it is
// done. Served, it is unblocked at once, passing the key on to the next
// client blocked on it: the same writer serves that one too. byOther: the
// writer of the keys serves it.
func (w *waiter) serve(byOther bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return true
	}
	keys := slices.Concat(w.pending, w.x.s.ks.Fired(w.b)) // pending may be the command's arguments: no append
	w.pending, w.busy = nil, false
	for i := range keys {
		served, busy := w.x.tryOnce(func() bool { return w.try(keys[i:i+1], true) }, true)
		if busy { // Redis serves it when the script is over
			w.pending, w.busy = keys[i:], true
			return false
		}
		if served {
			w.done = true
			w.x.s.ks.Unblock(w.b, keys[i:])
			if byOther {
				close(w.served)
			}
			return true
		}
	}
	return false
}

func (w *waiter) isBusy() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.busy
}

// finish ends the wait for the client's own reason (a timeout, a hang-up)
// and reports whether it may reply: false if it was served meanwhile.
func (w *waiter) finish() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return false
	}
	w.done = true
	w.x.s.ks.Unblock(w.b, w.pending) // keys a busy script held off: the next client's now
	return true
}

// serveBlocked serves the clients that the last command's writes woke,
// in the order they were woken, before the writer's next command. One
// that a busy script holds off goes back in the queue, to be served after
// the script, before its writer's next command; it also serves itself
// once the script is over.
func (s *Server) serveBlocked() {
	var held []*keyspace.Blocked
	for b := s.ks.PeekReady(); b != nil; b = s.ks.PeekReady() {
		w := b.Owner().(*waiter)
		served := w.serve(true)
		w.mu.Lock()
		s.ks.Served(b) // under w.mu: a writer finding b queued waits for this serve
		busy := w.busy
		w.mu.Unlock()
		if !served && busy {
			held = append(held, b)
		}
	}
	for _, b := range held { // not in the loop: it would find them again at once
		s.ks.Requeue(b)
	}
}

// tryOnce runs try as dispatch runs a command: holding the gate, unless
// EXEC or a script already holds all of it. While a script is busy the
// command's first try is refused with -BUSY, as any command; a woken
// client's is not run, and busy says so.
func (x *call) tryOnce(try func() bool, woken bool) (served, busy bool) {
	if x.inExec || x.inScript {
		return try(), false
	}
	x.s.gate.rlock(x.c.id)
	defer x.s.gate.runlock(x.c.id)
	if x.s.scripts.busy.Load() {
		if woken {
			return false, true
		}
		if x.s.busyRefused(x.cmd, x.args, x.r) {
			return true, false
		}
	}
	x.nowMs = 0 // each try is a new moment
	return try(), false
}

// waitGate waits for an EXEC or a script that holds the whole gate, busy
// or not, to end, and reports true; false if gone is closed first (a
// busy script: a client that left must not take an element after it).
func (s *Server) waitGate(id uint64, gone <-chan struct{}) bool {
	s.gate.rlock(id)
	s.gate.runlock(id)
	if s.scripts.busy.Load() {
		select {
		case <-s.scriptDone():
		case <-gone:
			return false
		}
	}
	return true
}

// flushBefore sends the replies written so far.
func (x *call) flushBefore() {
	if w := baseWriter(x.c.conn); w != nil && w.Flush() != nil {
		x.c.closing.Store(true)
	}
}

// popTry makes a blocking pop's try (block) of pop, which pops from the
// first of keys that has something, replies if it popped, and returns the
// key it popped from (nil if none).
func (x *call) popTry(pop func(keys [][]byte) ([]byte, error)) func(keys [][]byte, woken bool) bool {
	return func(keys [][]byte, woken bool) bool {
		key, err := pop(keys)
		switch {
		case err != nil && woken:
			return false // not of its kind (any more): Redis serves it only from one that is
		case err != nil:
			x.ksError(err)
		case key == nil:
			return false
		}
		return true
	}
}

func cmdBpop(x *call) {
	timeout, ok := x.timeoutArg(x.args[len(x.args)-1])
	if !ok {
		return
	}
	front := x.cmd.name == "blpop"
	x.block(x.args[1:len(x.args)-1], keyspace.KindList, timeout, x.popTry(func(keys [][]byte) ([]byte, error) {
		key, vs, err := x.s.ks.LMPop(x.c.db, keys, front, 1)
		if key != nil {
			x.r.array(2)
			x.r.bulk(key)
			x.r.bulk(vs[0])
		}
		return key, err
	}), x.r.nullArray, x.r.nullArray)
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
	x.block(keys, keyspace.KindList, timeout, x.popTry(func(keys [][]byte) ([]byte, error) {
		return x.lmpop(keys, left, count)
	}), x.r.nullArray, x.r.nullArray)
}

func cmdBzpop(x *call) {
	timeout, ok := x.timeoutArg(x.args[len(x.args)-1])
	if !ok {
		return
	}
	popMax := x.cmd.name == "bzpopmax"
	x.block(x.args[1:len(x.args)-1], keyspace.KindZSet, timeout, x.popTry(func(keys [][]byte) ([]byte, error) {
		key, es, err := x.s.ks.ZMPop(x.c.db, keys, popMax, 1)
		if key != nil {
			x.r.array(3)
			x.r.bulk(key)
			x.r.bulk(es[0].Member)
			x.r.double(es[0].Score)
		}
		return key, err
	}), x.r.nullArray, x.r.nullArray)
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
	x.block(keys, keyspace.KindZSet, timeout, x.popTry(func(keys [][]byte) ([]byte, error) {
		return x.zmpop(keys, !popMin, count)
	}), x.r.nullArray, x.r.nullArray)
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: it ends a client's
// blocking command as if its timeout had passed, or with an -UNBLOCKED
// error, and replies 1; 0 if that client is not blocked. As in Redis the
// reason is checked before the id.
func cmdClientUnblock(x *call) {
	asError := false
	switch {
	case len(x.args) > 4:
		x.subSyntaxError()
		return
	case len(x.args) == 4:
		switch strings.ToLower(string(x.args[3])) {
		case "timeout":
		case "error":
			asError = true
		default:
			x.r.error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := x.intArg(2)
	if !ok {
		return
	}
	x.s.mu.Lock()
	c := x.s.clients[uint64(id)]
	x.s.mu.Unlock()
	if c != nil {
		if w := c.blocked.Load(); w != nil {
			select {
			case w.unblock <- asError:
				x.r.int(1)
				return
			default: // already being unblocked
			}
		}
	}
	x.r.int(0)
}
