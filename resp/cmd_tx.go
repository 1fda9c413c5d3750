package resp

import "time"

func txCommands() []*command {
	const g = "transactions"
	return []*command{
		{name: "multi", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagRunsInMulti | flagAllowBusy, group: g, since: "1.2.0", summary: "Mark the start of a transaction block", run: cmdMulti},
		{name: "exec", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagSkipSlowlog | flagRunsInMulti | flagOwnGate, group: g, since: "1.2.0", summary: "Execute all commands issued after MULTI", run: cmdExec},
		{name: "discard", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagRunsInMulti | flagAllowBusy, group: g, since: "2.0.0", summary: "Discard all commands issued after MULTI", run: cmdDiscard},
		{name: "watch", arity: -2, flags: flagNoScript | flagLoading | flagStale | flagFast | flagRunsInMulti | flagAllowBusy, firstKey: 1, lastKey: -1, step: 1, group: g, since: "2.2.0", summary: "Watch the given keys to determine execution of the MULTI/EXEC block", run: cmdWatch},
		{name: "unwatch", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast | flagAllowBusy, group: g, since: "2.2.0", summary: "Forget about all watched keys", run: cmdUnwatch},
	}
}

func cmdMulti(x *call) {
	if x.c.inMulti {
		x.r.error("ERR MULTI calls can not be nested")
		return
	}
	x.c.mu.Lock()
	x.c.inMulti, x.c.multiErr, x.c.queue = true, false, nil
	x.c.mu.Unlock()
	x.r.ok()
}

func (c *client) endMulti() {
	c.mu.Lock()
	c.inMulti, c.multiErr, c.queue = false, false, nil
	c.mu.Unlock()
}

func cmdDiscard(x *call) {
	if !x.c.inMulti {
		x.r.error("ERR DISCARD without MULTI")
		return
	}
	x.c.endMulti()
	x.s.ks.Unwatch(&x.c.watch)
	x.r.ok()
}

// cmdExec runs the queued commands with the whole gate held, so that no
// other command runs in between: the transaction is atomic and isolated.
func cmdExec(x *call) {
	c := x.c
	if !c.inMulti {
		x.r.error("ERR EXEC without MULTI")
		return
	}
	queue, aborted := c.queue, c.multiErr
	c.endMulti()
	if aborted {
		x.s.ks.Unwatch(&c.watch)
		x.r.error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	if !x.s.lockExclusive(x) { // a busy script: -BUSY
		x.s.ks.Unwatch(&c.watch)
		return
	}
	defer x.s.gate.unlock()
	// Every queued command judges expiry at the EXEC's time, as in Redis
	// (keyspace.Freeze); thawed before the gate lets others run.
	x.s.ks.Freeze(x.now())
	defer x.s.ks.Thaw()
	if x.s.ks.WatchDirty(&c.watch) {
		x.s.ks.Unwatch(&c.watch)
		x.r.nullArray()
		return
	}
	x.s.ks.Unwatch(&c.watch)
	c.mu.Lock()
	c.execLen = len(queue) + 1
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.execLen = 0
		c.mu.Unlock()
	}()
	x.r.array(len(queue))
	for _, args := range queue {
		cmd, msg := x.s.resolve(args) // validated when queued; resolve again for the subcommand
		if msg != "" {
			x.r.error(msg)
			continue
		}
		if msg := x.s.aclDeniedAtExec(c, c.aclUser, cmd, args); msg != "" {
			x.r.error(msg)
			continue
		}
		r := reply{w: x.r.w, resp3: c.resp3}
		start := time.Now()
		x.s.runTracked(c, &call{s: x.s, c: c, r: &r, cmd: cmd, args: args, inExec: true, oom: x.oom})
		x.s.afterCall(c, cmd, args, &r, time.Since(start))
		x.r.w, x.r.resp3 = r.w, c.resp3 // a SUBSCRIBE may have moved the output to its queue
	}
}

func cmdWatch(x *call) {
	if x.c.inMulti {
		x.r.error("ERR WATCH inside MULTI is not allowed")
		return
	}
	for _, k := range x.args[1:] {
		x.s.ks.WatchKey(&x.c.watch, x.c.db, k)
	}
	x.r.ok()
}

func cmdUnwatch(x *call) {
	x.s.ks.Unwatch(&x.c.watch)
	x.r.ok()
}
