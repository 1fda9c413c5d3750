package resp

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"sessiond/acl"
	"sessiond/keyspace"
)

// Client-side caching (Redis 7.0's tracking.c): CLIENT TRACKING, CACHING,
// GETREDIR and TRACKINGINFO, and the invalidation messages.
//
// A tracking client in the default mode has the keys of its read-only
// commands remembered (OPTIN: only after CLIENT CACHING YES; OPTOUT: unless
// after CLIENT CACHING NO); a write to one of those keys, its expiry or
// eviction sends the client an "invalidate" message naming the key, once,
// and forgets it. In BCAST mode every write to a key under one of the
// client's prefixes is announced. A flush announces null: every key. Keys
// are names, not per database, as in Redis.
//
// How this stays correct with commands running concurrently:
//   - A read's keys are remembered before the command reads them. A write
//     is announced after its command (by its key arguments, so a write
//     that changed nothing announces too: a spurious invalidation only
//     costs a cache miss). So a reader that missed an announcement read
//     after the write, and a reader that read before the write is told.
//   - Messages go into the connection's outbound queue (a pubsub Sub: a
//     RESP3 tracking client gets one when it turns tracking on or switches
//     to RESP3; CLIENT TRACKING leaves the event loop), but never between
//     a command and its reply: one that arrives while the client runs a
//     command waits until the reply is queued (client.pushAsync), so a
//     stale value a client reads is followed by the message that
//     invalidates it, as in Redis. A client blocked in BLPOP... is told at
//     once (cmd_block.go).
//   - Sending never waits for the receiving client to read (Sub.Push): the
//     sender may be another client's command, the expiry wheel, or a
//     lazy expiry holding a keyspace stripe. A subscribed receiver (RESP2
//     redirection) is subject to the pubsub output limits; others are
//     not, as Redis's normal class is unlimited by default.
//   - Lock order: keyspace stripe (lazy expiry) > tracker.mu > Server.mu;
//     then, each alone: client.mu, client.pushMu > hub.mu > Sub.mu.
//
// Differences from Redis: a BCAST client gets one message per written key
// rather than one per event-loop iteration; a write that changed nothing
// is announced too; SWAPDB sends the flush's null (Redis 7.0 sends
// nothing, leaving stale caches); keys over tracking-table-max-keys are
// forgotten a few at each tracked read (Redis: in its cron); a RESP3
// client that another client redirects to receives messages only once it
// has a subscription or tracks itself; a RESP3 tracking client cannot
// MONITOR (as a RESP3 subscriber cannot).

// trackChannel is where RESP2 clients receive redirected invalidations.
const trackChannel = "__redis__:invalidate"

// trackMode is a client's tracking state. Its owner changes it under
// Server.tracker.mu and may read it without; others read it under the lock.
type trackMode struct {
	on, bcast, optin, optout, noloop bool
	// broken: the client redirected to is gone; only in trackModeOf's
	// copies (client.trackBroken is the flag, set by other clients).
	broken   bool
	redirect uint64
	prefixes []string // BCAST, in key order (TRACKINGINFO)
	// caching: CLIENT CACHING YES (OPTIN) or NO (OPTOUT) was given for the
	// next command (or the transaction being queued). Owner only.
	caching bool
}

// tracker holds what the tracking clients may have cached.
type tracker struct {
	// active: some client tracks, or keys are remembered for clients that
	// no longer do (forgotten lazily, at the key's next write, as in
	// Redis). While false, commands do nothing for tracking but load it.
	active atomic.Bool
	// maxKeys is tracking-table-max-keys: past it, keys are forgotten
	// (their clients told) a few at each read; 0: no limit.
	maxKeys atomic.Int64
	mu      sync.Mutex
	n       int // tracking clients
	// keys: default mode, the ids of the clients that may cache each key
	// (ids, not clients: a closed client's entries must not keep it alive).
	keys   map[string]map[uint64]struct{}
	items  int                             // entries in keys' sets (INFO tracking_total_items)
	prefix map[string]map[*client]struct{} // BCAST: the clients of each prefix
}

// update sets active after a change. t.mu must be held.
func (t *tracker) update() {
	t.active.Store(t.n > 0 || len(t.keys) > 0)
}

// trackBefore runs before cmd: a read-only command's keys are remembered
// for caller (the client, or the one whose script runs cmd). EVAL_RO's
// are not: the commands it runs are.
func (s *Server) trackBefore(caller *client, cmd *command, args [][]byte) {
	if caller == nil || !caller.track.on || cmd.flags&flagReadonly == 0 {
		return
	}
	switch cmd.name {
	case "eval_ro", "evalsha_ro", "fcall_ro":
		return
	}
	s.trackRead(caller, cmd, args)
}

// trackAfter runs after cmd, which caller ran (directly, in EXEC or in a
// script): a write announces its keys.
func (s *Server) trackAfter(caller *client, cmd *command, args [][]byte) {
	if cmd.flags&flagReadonly == 0 {
		s.trackWrite(caller, cmd, args)
	}
}

// runTracked runs x's command for caller inside EXEC or a script, between
// trackBefore and trackAfter (dispatchCmd does the same around the gate).
func (s *Server) runTracked(caller *client, x *call) {
	tracking := s.tracker.active.Load()
	if tracking {
		s.trackBefore(caller, x.cmd, x.args)
	}
	x.cmd.run(x)
	if tracking || s.tracker.active.Load() {
		s.trackAfter(caller, x.cmd, x.args)
	}
}

// trackCommandDone ends CLIENT CACHING's effect after the command c ran
// (or had refused) unless in a transaction or a CLIENT subcommand, as
// Redis's resetClient does: it lasts for one command, or a transaction.
func (s *Server) trackCommandDone(c *client, cmd *command) {
	if c.inMulti || cmd != nil && strings.HasPrefix(cmd.name, "client|") {
		return
	}
	s.tracker.mu.Lock()
	c.track.caching = false
	s.tracker.mu.Unlock()
}

// trackRead records that c may cache the keys of cmd, a read-only command
// it runs (trackingRememberKeys), before the command reads them.
func (s *Server) trackRead(c *client, cmd *command, args [][]byte) {
	m := &c.track
	if !m.on || m.bcast || (m.optin && !m.caching) || (m.optout && m.caching) || cmd.acl == nil {
		return
	}
	t := &s.tracker
	t.mu.Lock()
	acl.ForEachKey(cmd.acl, args, func(pos int, _ acl.KeyFlags) bool {
		if t.keys == nil {
			t.keys = map[string]map[uint64]struct{}{}
		}
		set := t.keys[string(args[pos])]
		if set == nil {
			set = map[uint64]struct{}{}
			t.keys[string(args[pos])] = set
		}
		if _, ok := set[c.id]; !ok {
			set[c.id] = struct{}{}
			t.items++
		}
		return true
	})
	evicted := s.trackLimitLocked()
	t.update()
	t.mu.Unlock()
	for _, e := range evicted {
		for _, to := range e.to {
			s.sendInvalidation(to, []byte(e.key), false)
		}
	}
}

// trackEvicted is a key forgotten over tracking-table-max-keys and the
// clients to tell.
type trackEvicted struct {
	key string
	to  []*client
}

// trackEvictBatch bounds the keys one read forgets, so that lowering the
// limit does not stall a command: Redis forgets them in its cron, within a
// time budget.
const trackEvictBatch = 64

// trackLimitLocked forgets keys, in no particular order, while there are
// more than tracking-table-max-keys (trackingLimitUsedSlots), and returns
// them with the clients that may cache them. tracker.mu must be held.
func (s *Server) trackLimitLocked() []trackEvicted {
	t := &s.tracker
	max := t.maxKeys.Load()
	if max <= 0 || int64(len(t.keys)) <= max {
		return nil
	}
	var out []trackEvicted
	s.mu.Lock()
	for k, set := range t.keys {
		if int64(len(t.keys)) <= max || len(out) == trackEvictBatch {
			break
		}
		e := trackEvicted{key: k}
		for id := range set {
			if c := s.clients[id]; c != nil && c.track.on && !c.track.bcast {
				e.to = append(e.to, c)
			}
		}
		out = append(out, e)
		t.items -= len(set)
		delete(t.keys, k)
	}
	s.mu.Unlock()
	return out
}

// trackWrite announces the keys cmd, a write c ran, may have changed.
func (s *Server) trackWrite(c *client, cmd *command, args [][]byte) {
	switch cmd.name {
	case "flushall", "flushdb":
		s.trackFlush()
		return
	case "exec", "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return // their commands announce their own keys
	}
	if cmd.acl == nil {
		return
	}
	acl.ForEachKey(cmd.acl, args, func(pos int, flags acl.KeyFlags) bool {
		if flags&(acl.KeyRW|acl.KeyOW|acl.KeyRM) != 0 { // not the keys it only reads
			s.invalidate(c, args[pos])
		}
		return true
	})
}

// invalidate tells the clients that may cache key, and the BCAST clients
// of its prefixes, that it changed (trackingInvalidateKey). writer is the
// client whose command changed it, nil for expiry and eviction. It may run
// with a keyspace stripe locked (lazy expiry): it must not block.
func (s *Server) invalidate(writer *client, key []byte) {
	t := &s.tracker
	if !t.active.Load() {
		return
	}
	var to []*client
	t.mu.Lock()
	if set, ok := t.keys[string(key)]; ok {
		s.mu.Lock()
		for id := range set {
			if c := s.clients[id]; c != nil && c.track.on && !c.track.bcast && !(c.track.noloop && c == writer) {
				to = append(to, c)
			}
		}
		s.mu.Unlock()
		t.items -= len(set)
		delete(t.keys, string(key))
		t.update()
	}
	for p, set := range t.prefix {
		if strings.HasPrefix(string(key), p) {
			for c := range set {
				if !(c.track.noloop && c == writer) {
					to = append(to, c)
				}
			}
		}
	}
	t.mu.Unlock()
	for _, c := range to {
		s.sendInvalidation(c, key, false)
	}
}

// trackFlush tells every tracking client that all keys changed (a null
// message) and forgets what they read (trackingInvalidateKeysOnFlush).
func (s *Server) trackFlush() {
	t := &s.tracker
	if !t.active.Load() {
		return
	}
	to := s.snapshotClients() // in connection order, as Redis's client list
	t.mu.Lock()
	t.keys, t.items = nil, 0
	t.update()
	tracking := to[:0]
	for _, c := range to {
		if c.track.on {
			tracking = append(tracking, c)
		}
	}
	t.mu.Unlock()
	for _, c := range tracking {
		s.sendInvalidation(c, nil, true)
	}
}

// sendInvalidation sends c (or the client it redirects to) an invalidate
// message for key, or for every key (null), as sendTrackingMessage does.
func (s *Server) sendInvalidation(c *client, key []byte, all bool) {
	s.tracker.mu.Lock()
	redirect := c.track.redirect
	s.tracker.mu.Unlock()
	target, redirected := c, false
	if redirect != 0 {
		s.mu.Lock()
		target = s.clients[redirect]
		s.mu.Unlock()
		if target == nil {
			c.trackBroken.Store(true)
			if c.isRESP3() {
				c.pushAsync([]byte(">2\r\n$21\r\ntracking-redir-broken\r\n:" + strconv.FormatUint(redirect, 10) + "\r\n"))
			}
			return
		}
		redirected = true
	}
	var b []byte
	switch {
	case target.isRESP3():
		b = append(b, ">2\r\n$10\r\ninvalidate\r\n"...)
	case redirected && target.pubsubFlag():
		b = append(b, "*3\r\n$7\r\nmessage\r\n$20\r\n"+trackChannel+"\r\n"...)
	default:
		return // RESP2 without a redirection: nowhere to say it
	}
	switch {
	case all && c.isRESP3():
		b = append(b, "_\r\n"...)
	case all:
		b = append(b, "$-1\r\n"...)
	default:
		b = append(b, "*1\r\n$"...)
		b = strconv.AppendInt(b, int64(len(key)), 10)
		b = append(b, "\r\n"...)
		b = append(b, key...)
		b = append(b, "\r\n"...)
	}
	target.pushAsync(b)
}

func (c *client) isRESP3() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resp3
}

// pushAsync queues msg for c from another client's command: at once when
// c is between commands, else after the reply of the command it runs
// (servePubsub). It never waits for c to read (Sub.Push): the writer may
// hold a keyspace stripe. A client with no outbound queue cannot be told.
func (c *client) pushAsync(msg []byte) {
	ps := c.ps.Load()
	if ps == nil {
		return
	}
	c.pushMu.Lock()
	if c.pushBusy {
		c.pushPending = append(c.pushPending, msg)
	} else {
		ps.sub.Push(msg)
	}
	c.pushMu.Unlock()
}

// pushHold marks c as running a command (pushAsync waits); pushRelease
// ends that, sending what arrived meanwhile after the reply.
func (c *client) pushHold() {
	c.pushMu.Lock()
	c.pushBusy = true
	c.pushMu.Unlock()
}

func (c *client) pushRelease(ps *subConn) {
	c.pushMu.Lock()
	c.pushBusy = false
	for _, m := range c.pushPending {
		ps.sub.Push(m)
	}
	c.pushPending = nil
	c.pushMu.Unlock()
}

// trackNotifier is the keyspace's notifier, which also invalidates keys
// that expire or are evicted for the tracking clients.
type trackNotifier struct {
	s *Server
	n keyspace.Notifier
}

func (n trackNotifier) Notify(db int, class keyspace.EventClass, event string, key []byte) {
	n.n.Notify(db, class, event, key)
	if class&(keyspace.EventExpired|keyspace.EventEvicted) != 0 {
		n.s.invalidate(nil, key)
	}
}

// disableTracking turns c's tracking off (CLIENT TRACKING OFF, RESET, a
// closed connection). The keys it read stay remembered until written, as
// in Redis (a client that turns tracking on again is told about them).
func (s *Server) disableTracking(c *client) {
	t := &s.tracker
	t.mu.Lock()
	defer t.mu.Unlock()
	if !c.track.on {
		return
	}
	for _, p := range c.track.prefixes {
		delete(t.prefix[p], c)
		if len(t.prefix[p]) == 0 {
			delete(t.prefix, p)
		}
	}
	c.track = trackMode{}
	c.trackBroken.Store(false)
	t.n--
	t.update()
}

func cmdClientTracking(x *call) {
	var m trackMode
	hasRedirect := false
	for j := 3; j < len(x.args); j++ {
		more := j+1 < len(x.args)
		switch opt := strings.ToLower(string(x.args[j])); {
		case opt == "redirect" && more:
			j++
			if hasRedirect {
				x.r.error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := keyspace.ParseInt(x.args[j])
			if !ok {
				x.r.error(msgNotInteger)
				return
			}
			x.s.mu.Lock()
			_, exists := x.s.clients[uint64(id)]
			x.s.mu.Unlock()
			if !exists || id <= 0 {
				x.r.error("ERR The client ID you want redirect to does not exist")
				return
			}
			m.redirect, hasRedirect = uint64(id), true
		case opt == "bcast":
			m.bcast = true
		case opt == "optin":
			m.optin = true
		case opt == "optout":
			m.optout = true
		case opt == "noloop":
			m.noloop = true
		case opt == "prefix" && more:
			j++
			m.prefixes = append(m.prefixes, string(x.args[j]))
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	c, t := x.c, &x.s.tracker
	switch strings.ToLower(string(x.args[2])) {
	case "on":
		cur := c.track
		switch {
		case !m.bcast && len(m.prefixes) > 0:
			x.r.error("ERR PREFIX option requires BCAST mode to be enabled")
		case cur.on && cur.bcast != m.bcast:
			x.r.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
		case m.bcast && (m.optin || m.optout):
			x.r.error("ERR OPTIN and OPTOUT are not compatible with BCAST")
		case m.optin && m.optout:
			x.r.error("ERR You can't specify both OPTIN mode and OPTOUT mode")
		case m.optin && cur.optout || m.optout && cur.optin:
			x.r.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
		default:
			if m.bcast && !x.prefixesOK(cur.prefixes, m.prefixes) {
				return
			}
			// A RESP3 client gets an outbound queue, so that it can be sent
			// messages from other clients' commands (invalidations, or
			// tracking-redir-broken); the reply goes through it. A RESP2
			// client gets one if it switches to RESP3 (cmdHello).
			if c.resp3 && x.subConn() == nil && m.redirect == 0 {
				x.r.error("ERR CLIENT TRACKING needs a network connection")
				return
			}
			if m.bcast && len(m.prefixes) == 0 {
				m.prefixes = []string{""} // every key
			}
			t.mu.Lock()
			if !cur.on {
				t.n++
			}
			if t.prefix == nil {
				t.prefix = map[string]map[*client]struct{}{}
			}
			all := slices.Clone(cur.prefixes)
			for _, p := range m.prefixes {
				if t.prefix[p] == nil {
					t.prefix[p] = map[*client]struct{}{}
				}
				t.prefix[p][c] = struct{}{}
				if !slices.Contains(all, p) { // BCAST alone again: "" is there already
					all = append(all, p)
				}
			}
			slices.Sort(all)
			m.prefixes = all
			m.on, m.caching = true, cur.caching
			c.track = m
			c.trackBroken.Store(false)
			t.update()
			t.mu.Unlock()
			x.r.ok()
		}
	case "off":
		x.s.disableTracking(c)
		x.r.ok()
	default:
		x.r.error(msgSyntax)
	}
}

// prefixesOK refuses BCAST prefixes that overlap an existing one or each
// other (checkPrefixCollisionsOrReply).
func (x *call) prefixesOK(have, add []string) bool {
	overlap := func(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }
	for i, p := range add {
		for _, h := range have {
			if overlap(h, p) {
				x.r.error("ERR Prefix '" + cstr([]byte(p)) + "' overlaps with an existing prefix '" + cstr([]byte(h)) + "'. Prefixes for a single client must not overlap.")
				return false
			}
		}
		for _, q := range add[i+1:] {
			if overlap(p, q) {
				x.r.error("ERR Prefix '" + cstr([]byte(p)) + "' overlaps with another provided prefix '" + cstr([]byte(q)) + "'. Prefixes for a single client must not overlap.")
				return false
			}
		}
	}
	return true
}

func cmdClientCaching(x *call) {
	m := &x.c.track
	if !m.on {
		x.r.error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch strings.ToLower(string(x.args[2])) {
	case "yes":
		if !m.optin {
			x.r.error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case "no":
		if !m.optout {
			x.r.error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		x.r.error(msgSyntax)
		return
	}
	x.s.tracker.mu.Lock()
	m.caching = true
	x.s.tracker.mu.Unlock()
	x.r.ok()
}

func cmdClientGetredir(x *call) {
	m := &x.c.track
	if !m.on {
		x.r.int(-1)
		return
	}
	x.r.int(int64(m.redirect))
}

func cmdClientTrackinginfo(x *call) {
	m := x.c.track
	flags := []string{"off"}
	if m.on {
		flags[0] = "on"
	}
	if m.bcast {
		flags = append(flags, "bcast")
	}
	if m.optin {
		flags = append(flags, "optin")
		if m.caching {
			flags = append(flags, "caching-yes")
		}
	}
	if m.optout {
		flags = append(flags, "optout")
		if m.caching {
			flags = append(flags, "caching-no")
		}
	}
	if m.noloop {
		flags = append(flags, "noloop")
	}
	if m.on && x.c.trackBroken.Load() {
		flags = append(flags, "broken_redirect")
	}
	x.r.mapLen(3)
	x.r.bulkString("flags")
	x.r.setLen(len(flags))
	for _, f := range flags {
		x.r.bulkString(f)
	}
	x.r.bulkString("redirect")
	if m.on {
		x.r.int(int64(m.redirect))
	} else {
		x.r.int(-1)
	}
	x.r.bulkString("prefixes")
	x.r.array(len(m.prefixes))
	for _, p := range m.prefixes {
		x.r.bulkString(p)
	}
}

// trackModeOf returns c's tracking state, for another goroutine.
func (s *Server) trackModeOf(c *client) trackMode {
	s.tracker.mu.Lock()
	m := c.track
	s.tracker.mu.Unlock()
	m.broken = c.trackBroken.Load()
	return m
}

// trackStats are INFO's tracking figures.
func (s *Server) trackStats() (clients, keys, items, prefixes int) {
	t := &s.tracker
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n, len(t.keys), t.items, len(t.prefix)
}
