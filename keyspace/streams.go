package keyspace

import (
	"fmt"
)

// The stream commands' operations (t_stream.c). Each runs under its
// keys' stripe locks from its first lookup to its last change, so a
// command sees and leaves the stream at one moment, as in Redis.

// StreamError is an error whose text is Redis's reply, prefix included
// (the replies name keys, groups and arguments).
type StreamError string

func (e StreamError) Error() string { return string(e) }

// Stream errors with fixed texts.
const (
	ErrStreamBadID      StreamError = "ERR Invalid stream ID specified as stream command argument"
	ErrStreamIDSmall    StreamError = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	ErrStreamExhausted  StreamError = "ERR The stream has exhausted the last possible ID, unable to add more items"
	ErrStreamTooLarge   StreamError = "ERR Elements are too large to be stored"
	ErrStreamGroupNoKey StreamError = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."
	ErrBusyGroup        StreamError = "BUSYGROUP Consumer Group name already exists"
	ErrXReadDollar      StreamError = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."
	ErrXReadGreater     StreamError = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
	ErrStreamNoKey      StreamError = "ERR no such key"
)

// ErrStreamNoStream is XADD NOMKSTREAM's missing key (a null reply).
var ErrStreamNoStream = StreamError("")

func noGroupErr(key, group []byte, what string) error {
	return StreamError(fmt.Sprintf("NOGROUP No such key '%s' or consumer group '%s'%s", key, group, what))
}

// streamWrite says what a stream operation did, for its notifications.
type streamWrite struct {
	touched bool // signalModifiedKey: WATCH, tracking
	ready   bool // signalKeyAsReady: wakes blocked readers
	dirty   int64
	events  []string
	// entriesOnly: the groups are as they were (XADD, XDEL, XTRIM,
	// XSETID), so their bytes need not be counted again.
	entriesOnly bool
}

func (w *streamWrite) event(ev string) { w.events = append(w.events, ev) }

// updateStream runs fn under key's write lock with its stream (nil if
// absent; a new one if absent and create). A new stream is stored only
// if fn succeeds. Events (class t) are reported after the lock.
func (ks *Keyspace) updateStream(dbi int, key []byte, create bool, fn func(s *stream, now int64) (streamWrite, error)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	k := string(key)
	s.mu.Lock()
	e, ok := ks.getLocked(s, key, now, true)
	if ok && e.kind() != KindStream {
		s.mu.Unlock()
		return ErrWrongType
	}
	var st *stream
	created := false
	switch {
	case ok:
		st = e.streamPtr()
	case create:
		st, created = &stream{}, true
	}
	w, err := fn(st, now)
	if st != nil && err == nil && !w.entriesOnly {
		st.countGroups()
	}
	switch {
	case created && err == nil:
		s.putLocked(k, e, false, streamEntry(st, 0))
	case ok && (w.dirty > 0 || len(w.events) > 0):
		s.resizedLocked(k, e)
	}
	s.mu.Unlock()
	if created && err != nil {
		return err
	}
	ks.streamNotify(dbi, key, created, w)
	return err
}

func (ks *Keyspace) streamNotify(dbi int, key []byte, created bool, w streamWrite) {
	k := string(key)
	if created {
		ks.notifyNew(dbi, key)
	}
	for _, ev := range w.events {
		ks.notify(dbi, EventStream, ev, key)
	}
	ks.dirty.Add(w.dirty)
	if w.touched || created {
		ks.watch.touch(dbi, k)
	}
	if w.ready || created {
		ks.blocked.wakeKey(dbi, k, true)
	}
}

// viewStream runs fn under the read lock with key's stream, nil if absent.
func (ks *Keyspace) viewStream(dbi int, key []byte, fn func(s *stream, now int64)) error {
	db := ks.db(dbi)
	s := db.stripeFor(key)
	now := ks.NowMs()
	s.mu.RLock()
	e, ok := ks.getLocked(s, key, now, false)
	if ok && e.kind() != KindStream {
		s.mu.RUnlock()
		return ErrWrongType
	}
	fn(e.streamPtr(), now)
	s.mu.RUnlock()
	if !ok {
		ks.notifyMiss(dbi, key)
	}
	return nil
}

// XAddArgs are XADD's arguments, parsed.
type XAddArgs struct {
	ID         StreamID
	IDGiven    bool // not "*"
	SeqGiven   bool // not "ms-*"
	NoMkStream bool
	Fields     [][]byte // field, value, ...
	Trim       TrimArgs
}

// XAdd appends an entry (XADD) and returns its ID. ErrStreamNoStream: no
// key and NOMKSTREAM.
func (ks *Keyspace) XAdd(dbi int, key []byte, a XAddArgs) (StreamID, error) {
	var id StreamID
	err := ks.updateStream(dbi, key, !a.NoMkStream, func(s *stream, now int64) (w streamWrite, err error) {
		if s == nil {
			return w, ErrStreamNoStream
		}
		if s.lastID == MaxStreamID {
			return w, ErrStreamExhausted
		}
		switch {
		case !a.IDGiven:
			if uint64(now) > s.lastID.Ms {
				id = StreamID{uint64(now), 0}
			} else {
				id, _ = s.lastID.Incr()
			}
		case a.SeqGiven:
			id = a.ID
		case s.lastID.Ms == a.ID.Ms:
			if s.lastID.Seq == ^uint64(0) {
				return w, ErrStreamIDSmall
			}
			id = StreamID{a.ID.Ms, s.lastID.Seq + 1}
		default:
			id = a.ID
		}
		if id.Cmp(s.lastID) <= 0 {
			return w, ErrStreamIDSmall
		}
		tot := 0
		for _, f := range a.Fields {
			tot += len(f)
		}
		if tot > streamListpackMax {
			return w, ErrStreamTooLarge
		}
		fv := make([][]byte, len(a.Fields))
		copy(fv, a.Fields)
		s.append(id, fv, ks.nodeLimits())
		w = streamWrite{touched: true, ready: true, dirty: 1, events: []string{"xadd"}, entriesOnly: true}
		if s.trim(a.Trim) > 0 {
			w.event("xtrim")
		}
		return w, nil
	})
	return id, err
}

// XLen is XLEN.
func (ks *Keyspace) XLen(dbi int, key []byte) (int64, error) {
	var n int64
	err := ks.viewStream(dbi, key, func(s *stream, _ int64) {
		if s != nil {
			n = int64(s.length)
		}
	})
	return n, err
}

// XRange returns up to count (0: all) entries from start to end, in
// reverse if rev (XRANGE, XREVRANGE).
func (ks *Keyspace) XRange(dbi int, key []byte, start, end StreamID, count int, rev bool) (es []StreamEntry, exists bool, err error) {
	err = ks.viewStream(dbi, key, func(s *stream, _ int64) {
		if s != nil {
			exists = true
			es = s.rangeEntries(start, end, count, rev)
		}
	})
	return es, exists, err
}

// XDel deletes entries by ID and returns how many it deleted.
func (ks *Keyspace) XDel(dbi int, key []byte, ids []StreamID) (int, error) {
	n := 0
	err := ks.updateStream(dbi, key, false, func(s *stream, _ int64) (w streamWrite, err error) {
		if s == nil {
			return w, nil
		}
		first := false
		for _, id := range ids {
			if s.delete(id) {
				if id == s.firstID {
					first = true
				}
				if id.Cmp(s.maxDeleted) > 0 {
					s.maxDeleted = id
				}
				n++
			}
		}
		if n > 0 {
			if s.length == 0 {
				s.firstID = StreamID{}
			} else if first {
				s.firstID = s.edge(true)
			}
			w = streamWrite{touched: true, dirty: int64(n), events: []string{"xdel"}, entriesOnly: true}
		}
		return w, nil
	})
	return n, err
}

// XTrim trims (XTRIM) and returns how many entries it removed.
func (ks *Keyspace) XTrim(dbi int, key []byte, a TrimArgs) (int64, error) {
	var n int64
	err := ks.updateStream(dbi, key, false, func(s *stream, _ int64) (w streamWrite, err error) {
		if s == nil {
			return w, nil
		}
		if n = s.trim(a); n > 0 {
			w = streamWrite{touched: true, dirty: n, events: []string{"xtrim"}, entriesOnly: true}
		}
		return w, nil
	})
	return n, err
}

// XReadArgs are XREAD's and XREADGROUP's arguments.
type XReadArgs struct {
	Keys     [][]byte
	IDs      [][]byte   // as given: "$", ">" or an ID
	Resolved []StreamID // instead of IDs: a blocked client's, resolved at its first try
	Count    int
	Group    []byte // XREADGROUP: the group and consumer
	Consumer []byte
	NoAck    bool
	// Woken: a blocked client served after a write to Keys[0] (one key),
	// as Redis's serveClientsBlockedOnStreamKey serves it.
	Woken bool
}

// XReadStream is one stream's part of XREAD's reply.
type XReadStream struct {
	Key     []byte
	Entries []StreamEntry // in history replies, a nil Fields is a deleted entry
}

// XRead runs XREAD or XREADGROUP (a.Group != nil) without blocking: the
// streams that have entries for it, and the IDs it would block on (with
// "$" resolved) if none has.
func (ks *Keyspace) XRead(dbi int, a XReadArgs) (out []XReadStream, ids []StreamID, err error) {
	db := ks.db(dbi)
	now := ks.NowMs()
	lk := lockKeys(db, a.Keys)
	group := a.Group != nil
	streams := make([]*stream, len(a.Keys))
	groups := make([]*cgroup, len(a.Keys))
	ids = make([]StreamID, len(a.Keys))
	// Redis looks each key up (a keymiss if absent) in its first loop,
	// and again in its second, unless a check in the first one fails.
	var misses [][]byte
	fail := func(err error) ([]XReadStream, []StreamID, error) {
		lk.unlock()
		if !a.Woken {
			for _, k := range misses {
				ks.notifyMiss(dbi, k)
			}
		}
		return nil, nil, err
	}
	for i, key := range a.Keys {
		e, ok := ks.getLocked(db.stripeFor(key), key, now, true)
		if !ok {
			misses = append(misses, key)
		}
		if ok && e.kind() != KindStream {
			if a.Woken {
				if group {
					return fail(StreamError("UNBLOCKED the stream key no longer exists"))
				}
				return fail(nil)
			}
			return fail(ErrWrongType)
		}
		st := e.streamPtr()
		streams[i] = st
		if group {
			var g *cgroup
			if st != nil {
				g = st.group(a.Group)
			}
			if g == nil {
				switch {
				case a.Woken && st == nil:
					return fail(StreamError("UNBLOCKED the stream key no longer exists"))
				case a.Woken:
					return fail(StreamError("NOGROUP the consumer group this client was blocked on no longer exists"))
				}
				return fail(noGroupErr(key, a.Group, " in XREADGROUP with GROUP option"))
			}
			groups[i] = g
		}
		if a.Resolved != nil {
			ids[i] = a.Resolved[i]
			continue
		}
		arg := a.IDs[i]
		switch {
		case string(arg) == "$":
			if group {
				return fail(ErrXReadDollar)
			}
			if st != nil {
				ids[i] = st.lastID
			}
			continue
		case string(arg) == ">":
			if !group {
				return fail(ErrXReadGreater)
			}
			ids[i] = MaxStreamID
			continue
		}
		id, _, ok := ParseStreamID(arg, 0, true, false)
		if !ok {
			return fail(ErrStreamBadID)
		}
		ids[i] = id
	}
	type change struct {
		key     []byte
		w       streamWrite
		created bool
	}
	var changes []change
	for i, key := range a.Keys {
		st := streams[i]
		if st == nil {
			continue
		}
		gt := ids[i]
		serve, history := false, false
		if group {
			g := groups[i]
			if a.Woken {
				gt = g.last
				serve = st.lastID.Cmp(gt) > 0
			} else if gt != MaxStreamID {
				serve, history = true, true
			} else if st.length > 0 && st.edge(false).Cmp(g.last) > 0 {
				serve, gt = true, g.last
			}
		} else if a.Woken {
			serve = st.lastID.Cmp(gt) > 0
		} else if st.length > 0 && st.edge(false).Cmp(gt) > 0 {
			serve = true
		}
		if !serve {
			continue
		}
		start, _ := gt.Incr()
		r := XReadStream{Key: key}
		var w streamWrite
		if group {
			g := groups[i]
			c := g.consumer(a.Consumer)
			if c == nil {
				c = g.addConsumer(a.Consumer, now)
				w.dirty++
				w.event("xgroup-createconsumer")
			} else {
				c.seen = now
			}
			if history {
				r.Entries = st.history(c, start, a.Count, now)
			} else {
				r.Entries = st.deliver(g, c, start, a.Count, a.NoAck, now)
			}
			w.dirty++
			st.countGroups()
			ss, k := db.stripeFor(key), string(key)
			ss.resizedLocked(k, ss.m[k])
		} else {
			r.Entries = st.rangeEntries(start, MaxStreamID, a.Count, false)
		}
		changes = append(changes, change{key: key, w: w})
		out = append(out, r)
	}
	lk.unlock()
	if !a.Woken {
		for range 2 {
			for _, k := range misses {
				ks.notifyMiss(dbi, k)
			}
		}
	}
	for _, c := range changes {
		ks.streamNotify(dbi, c.key, false, c.w)
	}
	return out, ids, nil
}

// history is a consumer's pending entries from start (XREADGROUP with an
// ID): each is delivered again (its time and count updated); a deleted
// one comes with nil Fields.
func (s *stream) history(c *consumer, start StreamID, count int, now int64) []StreamEntry {
	i, _ := pelSearch(c.pel, start)
	out := []StreamEntry{}
	for ; i < len(c.pel) && (count <= 0 || len(out) < count); i++ {
		n := c.pel[i]
		e, ok := s.lookup(n.id)
		if !ok {
			out = append(out, StreamEntry{ID: n.id})
			continue
		}
		n.time = now
		n.count++
		out = append(out, e)
	}
	return out
}

// deliver reads new entries from start for consumer c of g (">"): the
// group's last ID and entries_read advance, and unless noack each entry
// becomes pending for c.
func (s *stream) deliver(g *cgroup, c *consumer, start StreamID, count int, noack bool, now int64) []StreamEntry {
	out := s.rangeEntries(start, MaxStreamID, count, false)
	for _, e := range out {
		if e.ID.Cmp(g.last) > 0 {
			if g.read != -1 && !s.rangeHasTombstones(e.ID, MaxStreamID) {
				g.read++
			} else if s.entriesAdded != 0 {
				g.read = s.estimateDistance(e.ID)
			}
			g.last = e.ID
		}
		if noack {
			continue
		}
		if n := pelFind(g.pel, e.ID); n != nil {
			if n.cons != nil {
				n.cons.pel = pelRemove(n.cons.pel, n.id)
			}
			n.cons, n.time, n.count = c, now, 1
			c.pel = pelInsert(c.pel, n)
			continue
		}
		n := &nack{id: e.ID, time: now, count: 1, cons: c}
		g.pel = pelInsert(g.pel, n)
		c.pel = pelInsert(c.pel, n)
	}
	return out
}

// XGroupArgs are XGROUP's arguments.
type XGroupArgs struct {
	Sub         string // "create", "setid", "destroy", "createconsumer", "delconsumer"
	Group       []byte
	ID          []byte // CREATE, SETID: "$" or an ID
	MkStream    bool
	EntriesRead int64 // -1: not given
	Consumer    []byte
	// CheckOnly: the arguments are wrong in number; only the key and
	// group are checked (their errors come first in Redis).
	CheckOnly bool
}

// XGroup runs an XGROUP subcommand and returns its integer reply
// (DESTROY, CREATECONSUMER, DELCONSUMER).
func (ks *Keyspace) XGroup(dbi int, key []byte, a XGroupArgs) (int64, error) {
	var n int64
	err := ks.updateStream(dbi, key, a.MkStream && !a.CheckOnly, func(s *stream, now int64) (w streamWrite, err error) {
		if s == nil {
			if a.MkStream {
				return w, nil
			}
			return w, ErrStreamGroupNoKey
		}
		var g *cgroup
		if !a.MkStream {
			g = s.group(a.Group)
			if g == nil && a.Sub != "create" && a.Sub != "destroy" {
				return w, StreamError(fmt.Sprintf("NOGROUP No such consumer group '%s' for key name '%s'", a.Group, key))
			}
		}
		if a.CheckOnly {
			return w, nil
		}
		switch a.Sub {
		case "create", "setid":
			var id StreamID
			if string(a.ID) == "$" {
				id = s.lastID
			} else {
				var ok bool
				if id, _, ok = ParseStreamID(a.ID, 0, a.Sub == "create", false); !ok {
					return w, ErrStreamBadID
				}
			}
			if a.Sub == "setid" {
				g.last, g.read = id, a.EntriesRead
				return streamWrite{dirty: 1, events: []string{"xgroup-setid"}}, nil
			}
			if s.addGroup(a.Group, id, a.EntriesRead) == nil {
				return w, ErrBusyGroup
			}
			return streamWrite{dirty: 1, events: []string{"xgroup-create"}}, nil
		case "destroy":
			if g == nil {
				return w, nil
			}
			s.removeGroup(a.Group)
			n = 1
			return streamWrite{dirty: 1, ready: true, events: []string{"xgroup-destroy"}}, nil
		case "createconsumer":
			if g.addConsumer(a.Consumer, now) != nil {
				n = 1
				return streamWrite{dirty: 1, events: []string{"xgroup-createconsumer"}}, nil
			}
			return w, nil
		case "delconsumer":
			c := g.consumer(a.Consumer)
			if c == nil {
				return w, nil
			}
			n = int64(len(c.pel))
			g.delConsumer(c)
			return streamWrite{dirty: 1, events: []string{"xgroup-delconsumer"}}, nil
		}
		return w, nil
	})
	return n, err
}

// XSetIDArgs are XSETID's arguments.
type XSetIDArgs struct {
	ID           StreamID
	EntriesAdded int64 // -1: not given
	MaxDeleted   StreamID
}

// XSetID is XSETID.
func (ks *Keyspace) XSetID(dbi int, key []byte, a XSetIDArgs) error {
	return ks.updateStream(dbi, key, false, func(s *stream, _ int64) (w streamWrite, err error) {
		if s == nil {
			return w, ErrStreamNoKey
		}
		if s.length > 0 {
			if a.ID.Cmp(s.edge(false)) < 0 {
				return w, StreamError("ERR The ID specified in XSETID is smaller than the target stream top item")
			}
			if a.EntriesAdded != -1 && s.length > uint64(a.EntriesAdded) {
				return w, StreamError("ERR The entries_added specified in XSETID is smaller than the target stream length")
			}
		}
		s.lastID = a.ID
		if a.EntriesAdded != -1 {
			s.entriesAdded = uint64(a.EntriesAdded)
		}
		if !a.MaxDeleted.IsZero() {
			s.maxDeleted = a.MaxDeleted
		}
		return streamWrite{dirty: 1, events: []string{"xsetid"}, entriesOnly: true}, nil
	})
}

// XAck acknowledges ids (raw, parsed only if the group exists, as in
// Redis) and returns how many were pending.
func (ks *Keyspace) XAck(dbi int, key, group []byte, rawIDs [][]byte) (int, error) {
	n := 0
	err := ks.updateStream(dbi, key, false, func(s *stream, _ int64) (w streamWrite, err error) {
		var g *cgroup
		if s != nil {
			g = s.group(group)
		}
		if g == nil {
			return w, nil
		}
		ids := make([]StreamID, len(rawIDs))
		for i, b := range rawIDs {
			var ok bool
			if ids[i], _, ok = ParseStreamID(b, 0, true, false); !ok {
				return w, ErrStreamBadID
			}
		}
		for _, id := range ids {
			if nk := pelFind(g.pel, id); nk != nil {
				g.ack(nk)
				n++
			}
		}
		w.dirty = int64(n)
		return w, nil
	})
	return n, err
}

// PendingSummary is XPENDING's summary form.
type PendingSummary struct {
	Count      int
	First      StreamID
	Last       StreamID
	ByConsumer []PendingCount
}

// PendingCount is a consumer's name and count of pending entries.
type PendingCount struct {
	Name  string
	Count int
}

// PendingEntry is one entry of XPENDING's extended form.
type PendingEntry struct {
	ID       StreamID
	Consumer string
	Idle     int64
	Count    uint64
}

// XPendingArgs are XPENDING's extended-form arguments.
type XPendingArgs struct {
	Start, End StreamID
	Count      int64
	MinIdle    int64
	Consumer   []byte // nil: all
}

func (ks *Keyspace) pendingGroup(dbi int, key, group []byte, fn func(s *stream, g *cgroup, now int64)) error {
	var missing bool
	err := ks.viewStream(dbi, key, func(s *stream, now int64) {
		var g *cgroup
		if s != nil {
			g = s.group(group)
		}
		if g == nil {
			missing = true
			return
		}
		fn(s, g, now)
	})
	if err == nil && missing {
		err = noGroupErr(key, group, "")
	}
	return err
}

// XPendingSummary is XPENDING key group.
func (ks *Keyspace) XPendingSummary(dbi int, key, group []byte) (PendingSummary, error) {
	var p PendingSummary
	err := ks.pendingGroup(dbi, key, group, func(_ *stream, g *cgroup, _ int64) {
		p.Count = len(g.pel)
		if p.Count == 0 {
			return
		}
		p.First, p.Last = g.pel[0].id, g.pel[len(g.pel)-1].id
		for _, c := range g.conss {
			if len(c.pel) > 0 {
				p.ByConsumer = append(p.ByConsumer, PendingCount{c.name, len(c.pel)})
			}
		}
	})
	return p, err
}

// XPending is XPENDING's extended form.
func (ks *Keyspace) XPending(dbi int, key, group []byte, a XPendingArgs) ([]PendingEntry, error) {
	out := []PendingEntry{}
	err := ks.pendingGroup(dbi, key, group, func(_ *stream, g *cgroup, now int64) {
		pel := g.pel
		if a.Consumer != nil {
			c := g.consumer(a.Consumer)
			if c == nil {
				return
			}
			pel = c.pel
		}
		i, _ := pelSearch(pel, a.Start)
		count := a.Count
		for ; count > 0 && i < len(pel) && pel[i].id.Cmp(a.End) <= 0; i++ {
			n := pel[i]
			if a.MinIdle != 0 && now-n.time < a.MinIdle {
				continue
			}
			count--
			out = append(out, PendingEntry{n.id, n.cons.name, max(now-n.time, 0), n.count})
		}
	})
	return out, err
}

// XClaimArgs are XCLAIM's arguments.
type XClaimArgs struct {
	Group, Consumer []byte
	MinIdle         int64
	IDs             []StreamID
	// HasTime: TIME (Time is the delivery time) or IDLE (TimeIsIdle:
	// Time is the idle time) was given; else the delivery time is now.
	HasTime, TimeIsIdle bool
	Time                int64
	RetryCount          int64 // below 0: not given
	Force, JustID       bool
	LastID              StreamID
}

// XClaim is XCLAIM; JustID entries have nil Fields.
func (ks *Keyspace) XClaim(dbi int, key []byte, a XClaimArgs) ([]StreamEntry, error) {
	out := []StreamEntry{}
	var missing bool
	err := ks.updateStream(dbi, key, false, func(s *stream, now int64) (w streamWrite, err error) {
		var g *cgroup
		if s != nil {
			g = s.group(a.Group)
		}
		if g == nil {
			missing = true
			return w, nil
		}
		if a.LastID.Cmp(g.last) > 0 {
			g.last = a.LastID
			w.dirty++
		}
		t := now
		if a.HasTime {
			t = a.Time
			if a.TimeIsIdle {
				t = now - a.Time
				if a.Time < 0 {
					t = now
				}
			}
			if t < 0 || t > now {
				t = now
			}
		}
		var c *consumer
		for _, id := range a.IDs {
			n := pelFind(g.pel, id)
			e, exists := s.lookup(id)
			if !exists {
				if n != nil {
					g.ack(n)
					w.dirty++
				}
				continue
			}
			if a.Force && n == nil {
				n = &nack{id: id, time: now, count: 1}
				g.pel = pelInsert(g.pel, n)
			}
			if n == nil {
				continue
			}
			if n.cons != nil && a.MinIdle != 0 && now-n.time < a.MinIdle {
				continue
			}
			if c == nil {
				if c = g.consumer(a.Consumer); c == nil {
					c = g.addConsumer(a.Consumer, now)
					w.dirty++
					w.event("xgroup-createconsumer")
				} else {
					c.seen = now
				}
			}
			if n.cons != c && n.cons != nil {
				n.cons.pel = pelRemove(n.cons.pel, id)
			}
			n.time = t
			if a.RetryCount >= 0 {
				n.count = uint64(a.RetryCount)
			} else if !a.JustID {
				n.count++
			}
			if n.cons != c {
				c.pel = pelInsert(c.pel, n)
				n.cons = c
			}
			if a.JustID {
				e.Fields = nil
			}
			out = append(out, e)
			w.dirty++
		}
		return w, nil
	})
	if err == nil && missing {
		err = noGroupErr(key, a.Group, "")
	}
	return out, err
}

// XAutoClaim is XAUTOCLAIM: the claimed entries (nil Fields with JustID),
// the cursor and the deleted IDs it dropped from the PEL.
func (ks *Keyspace) XAutoClaim(dbi int, key, group, cons []byte, minIdle int64, start StreamID, count int64, justID bool) (claimed []StreamEntry, next StreamID, deleted []StreamID, err error) {
	var missing bool
	claimed, deleted = []StreamEntry{}, []StreamID{}
	err = ks.updateStream(dbi, key, false, func(s *stream, now int64) (w streamWrite, err error) {
		var g *cgroup
		if s != nil {
			g = s.group(group)
		}
		if g == nil {
			missing = true
			return w, nil
		}
		var c *consumer
		attempts := count * 10
		i, _ := pelSearch(g.pel, start)
		for attempts > 0 && count > 0 && i < len(g.pel) {
			attempts--
			n := g.pel[i]
			e, exists := s.lookup(n.id)
			if !exists {
				g.ack(n)
				w.dirty++
				deleted = append(deleted, n.id)
				count--
				continue // i now names the next entry
			}
			i++
			if minIdle != 0 && now-n.time < minIdle {
				continue
			}
			if c == nil {
				if c = g.consumer(cons); c == nil {
					c = g.addConsumer(cons, now)
					w.dirty++
					w.event("xgroup-createconsumer")
				} else {
					c.seen = now
				}
			}
			if n.cons != c && n.cons != nil {
				n.cons.pel = pelRemove(n.cons.pel, n.id)
			}
			n.time = now
			if !justID {
				n.count++
			}
			if n.cons != c {
				c.pel = pelInsert(c.pel, n)
				n.cons = c
			}
			if justID {
				e.Fields = nil
			}
			claimed = append(claimed, e)
			count--
			w.dirty++
		}
		if i < len(g.pel) {
			next = g.pel[i].id
		}
		return w, nil
	})
	if err == nil && missing {
		err = noGroupErr(key, group, "")
	}
	return claimed, next, deleted, err
}

// StreamInfo is what XINFO STREAM reports.
type StreamInfo struct {
	Length, Chunks            int64
	LastID, MaxDeleted, First StreamID
	EntriesAdded              uint64
	Groups                    int
	FirstEntry, LastEntry     *StreamEntry
	// FULL
	Entries    []StreamEntry
	GroupsFull []GroupInfo
}

// GroupInfo is one group of XINFO GROUPS (and STREAM FULL).
type GroupInfo struct {
	Name        string
	Consumers   int
	Pending     int
	LastID      StreamID
	EntriesRead int64 // -1: null
	Lag         int64
	LagValid    bool
	PEL         []PendingEntry // FULL: Idle is the delivery time
	ConsFull    []ConsumerInfo
}

// ConsumerInfo is one consumer of XINFO CONSUMERS (and STREAM FULL).
type ConsumerInfo struct {
	Name    string
	Pending int
	Idle    int64 // FULL: the seen time
	PEL     []PendingEntry
}

// XInfoStream is XINFO STREAM [FULL [COUNT count]] (count 0: all).
func (ks *Keyspace) XInfoStream(dbi int, key []byte, full bool, count int) (StreamInfo, bool, error) {
	var in StreamInfo
	found := false
	err := ks.viewStream(dbi, key, func(s *stream, _ int64) {
		if s == nil {
			return
		}
		found = true
		in = StreamInfo{Length: int64(s.length), Chunks: int64(len(s.chunks)), LastID: s.lastID, MaxDeleted: s.maxDeleted,
			First: s.firstID, EntriesAdded: s.entriesAdded, Groups: len(s.groups)}
		if !full {
			if e := s.rangeEntries(StreamID{}, MaxStreamID, 1, false); len(e) > 0 {
				in.FirstEntry = &e[0]
			}
			if e := s.rangeEntries(StreamID{}, MaxStreamID, 1, true); len(e) > 0 {
				in.LastEntry = &e[0]
			}
			return
		}
		in.Entries = s.rangeEntries(StreamID{}, MaxStreamID, count, false)
		for _, g := range s.groups {
			gi := s.groupInfo(g)
			for _, n := range g.pel {
				if count > 0 && len(gi.PEL) >= count {
					break
				}
				gi.PEL = append(gi.PEL, PendingEntry{n.id, n.cons.name, n.time, n.count})
			}
			for _, c := range g.conss {
				ci := ConsumerInfo{Name: c.name, Pending: len(c.pel), Idle: c.seen}
				for _, n := range c.pel {
					if count > 0 && len(ci.PEL) >= count {
						break
					}
					ci.PEL = append(ci.PEL, PendingEntry{n.id, c.name, n.time, n.count})
				}
				gi.ConsFull = append(gi.ConsFull, ci)
			}
			in.GroupsFull = append(in.GroupsFull, gi)
		}
	})
	return in, found, err
}

func (s *stream) groupInfo(g *cgroup) GroupInfo {
	gi := GroupInfo{Name: g.name, Consumers: len(g.conss), Pending: len(g.pel), LastID: g.last, EntriesRead: g.read}
	gi.Lag, gi.LagValid = s.lag(g)
	return gi
}

// XInfoGroups is XINFO GROUPS.
func (ks *Keyspace) XInfoGroups(dbi int, key []byte) ([]GroupInfo, bool, error) {
	var out []GroupInfo
	found := false
	err := ks.viewStream(dbi, key, func(s *stream, _ int64) {
		if s == nil {
			return
		}
		found = true
		out = []GroupInfo{}
		for _, g := range s.groups {
			out = append(out, s.groupInfo(g))
		}
	})
	return out, found, err
}

// XInfoConsumers is XINFO CONSUMERS; ok false if the group is missing.
func (ks *Keyspace) XInfoConsumers(dbi int, key, group []byte) (out []ConsumerInfo, found, ok bool, err error) {
	err = ks.viewStream(dbi, key, func(s *stream, now int64) {
		if s == nil {
			return
		}
		found = true
		g := s.group(group)
		if g == nil {
			return
		}
		ok = true
		out = []ConsumerInfo{}
		for _, c := range g.conss {
			out = append(out, ConsumerInfo{Name: c.name, Pending: len(c.pel), Idle: max(now-c.seen, 0)})
		}
	})
	return out, found, ok, err
}
