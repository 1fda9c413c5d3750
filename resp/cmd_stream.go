package resp

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"sessiond/keyspace"
)

// Streams (t_stream.c): arguments are parsed, and errors given, in
// Redis's order, which sometimes puts a key lookup before an argument's
// check (XDEL, XACK, XCLAIM, XINFO); keyspace/streams.go does the rest.

func streamCommands() []*command {
	const g = "stream"
	k1 := func(name string, arity int, flags cmdFlags, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 1, lastKey: 1, step: 1, group: g, since: since, summary: summary, run: run}
	}
	k2 := func(name string, arity int, flags cmdFlags, since, summary string, run func(*call)) *command {
		return &command{name: name, arity: arity, flags: flags, firstKey: 2, lastKey: 2, step: 1, group: g, since: since, summary: summary, run: run}
	}
	const w, ro = flagWrite, flagReadonly
	help := flagLoading | flagStale
	return []*command{
		k1("xadd", -5, w|flagDenyOOM|flagFast, "5.0.0", "Appends a new entry to a stream", cmdXadd),
		k1("xlen", 2, ro|flagFast, "5.0.0", "Return the number of entries in a stream", cmdXlen),
		k1("xrange", -4, ro, "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval", cmdXrange),
		k1("xrevrange", -4, ro, "5.0.0", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", cmdXrange),
		k1("xdel", -3, w|flagFast, "5.0.0", "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", cmdXdel),
		k1("xtrim", -4, w, "5.0.0", "Trims the stream to (approximately if '~' is passed) a certain size", cmdXtrim),
		{name: "xread", arity: -4, flags: ro | flagBlocking | flagMovableKeys | flagOwnGate, group: g, since: "5.0.0", summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", run: cmdXread},
		{name: "xreadgroup", arity: -7, flags: w | flagBlocking | flagMovableKeys | flagOwnGate, group: g, since: "5.0.0", summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", run: cmdXread},
		{name: "xgroup", arity: -2, group: g, since: "5.0.0", summary: "A container for consumer groups commands"},
		k2("xgroup|create", -5, w|flagDenyOOM, "5.0.0", "Create a consumer group.", cmdXgroup),
		k2("xgroup|setid", -5, w, "5.0.0", "Set a consumer group to an arbitrary last delivered ID value.", cmdXgroup),
		k2("xgroup|destroy", 4, w, "5.0.0", "Destroy a consumer group.", cmdXgroup),
		k2("xgroup|createconsumer", 5, w|flagDenyOOM, "6.2.0", "Create a consumer in a consumer group.", cmdXgroup),
		k2("xgroup|delconsumer", 5, w, "5.0.0", "Delete a consumer from a consumer group.", cmdXgroup),
		{name: "xgroup|help", arity: 2, flags: help, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdXgroupHelp},
		k1("xack", -4, w|flagFast, "5.0.0", "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", cmdXack),
		k1("xpending", -3, ro, "5.0.0", "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", cmdXpending),
		k1("xclaim", -6, w|flagFast, "5.0.0", "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", cmdXclaim),
		k1("xautoclaim", -6, w|flagFast, "6.2.0", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", cmdXautoclaim),
		{name: "xinfo", arity: -2, group: g, since: "5.0.0", summary: "A container for stream introspection commands"},
		k2("xinfo|stream", -3, ro, "5.0.0", "Get information about a stream", cmdXinfo),
		k2("xinfo|groups", 3, ro, "5.0.0", "List the consumer groups of a stream", cmdXinfo),
		k2("xinfo|consumers", 4, ro, "5.0.0", "List the consumers in a consumer group", cmdXinfo),
		{name: "xinfo|help", arity: 2, flags: help, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdXinfoHelp},
		k1("xsetid", -3, w|flagDenyOOM|flagFast, "5.0.0", "An internal command for replicating stream values", cmdXsetid),
	}
}

// initStreams keeps stream-node-max-bytes and -entries in the keyspace.
func (s *Server) initStreams() {
	load := func(string) {
		s.ks.SetStreamNodeLimits(s.cfg.Int("stream-node-max-bytes"), s.cfg.Int("stream-node-max-entries"))
	}
	s.cfg.OnSet("stream-node-max-bytes", load)
	s.cfg.OnSet("stream-node-max-entries", load)
	load("")
}

const msgInvalidStreamID = "ERR Invalid stream ID specified as stream command argument"

// streamID parses an ID (keyspace.ParseStreamID), replying with Redis's
// error if it is not one.
func (x *call) streamID(b []byte, missingSeq uint64, strict bool) (keyspace.StreamID, bool) {
	id, _, ok := keyspace.ParseStreamID(b, missingSeq, strict, false)
	if !ok {
		x.r.error(msgInvalidStreamID)
	}
	return id, ok
}

// intervalID is streamParseIntervalIDOrReply with the increment or
// decrement of an exclusive bound ("(" prefix).
func (x *call) intervalID(b []byte, missingSeq uint64, start bool) (keyspace.StreamID, bool) {
	if len(b) > 1 && b[0] == '(' {
		id, ok := x.streamID(b[1:], missingSeq, true)
		if !ok {
			return id, false
		}
		if start {
			if id, ok = id.Incr(); !ok {
				x.r.error("ERR invalid start ID for the interval")
			}
		} else if id, ok = id.Decr(); !ok {
			x.r.error("ERR invalid end ID for the interval")
		}
		return id, ok
	}
	return x.streamID(b, missingSeq, false)
}

func (x *call) streamIDReply(id keyspace.StreamID) { x.r.bulk(id.Append(nil)) }

// streamEntryReply is an entry, [id, [field, value...]], or [id, null
// array] for a deleted one (Fields nil).
func (x *call) streamEntryReply(e keyspace.StreamEntry) {
	x.r.array(2)
	x.streamIDReply(e.ID)
	if e.Fields == nil {
		x.r.nullArray()
		return
	}
	x.r.bulks(e.Fields)
}

func (x *call) streamEntriesReply(es []keyspace.StreamEntry) {
	x.r.array(len(es))
	for _, e := range es {
		x.streamEntryReply(e)
	}
}

// trimArgs is streamParseAddOrTrimArgsOrReply: XADD's and XTRIM's
// options from args[2]; for XADD it also reads the ID and returns the
// index of the first field.
func (x *call) trimArgs(xadd bool, a *keyspace.XAddArgs) (fieldPos int, ok bool) {
	t := &a.Trim
	limitGiven := false
	defer func() {
		if ok {
			ok = x.trimFinish(xadd, t, limitGiven)
		}
	}()
	i := 2
	for ; i < len(x.args); i++ {
		more := len(x.args) - 1 - i
		opt := string(x.args[i])
		lo := strings.ToLower(opt)
		switch {
		case xadd && opt == "*":
			return i + 1, true
		case (lo == "maxlen" || lo == "minid") && more > 0:
			if t.Strategy != 0 {
				x.r.error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
				return 0, false
			}
			t.Approx = false
			if next := string(x.args[i+1]); more >= 2 && (next == "~" || next == "=") {
				t.Approx = next == "~"
				i++
			}
			if lo == "maxlen" {
				n, ok := keyspace.ParseInt(x.args[i+1])
				if !ok {
					x.r.error(msgNotInteger)
					return 0, false
				}
				if n < 0 {
					x.r.error("ERR The MAXLEN argument must be >= 0.")
					return 0, false
				}
				t.MaxLen, t.Strategy = n, keyspace.TrimMaxLen
			} else {
				id, ok := x.streamID(x.args[i+1], 0, true)
				if !ok {
					return 0, false
				}
				t.MinID, t.Strategy = id, keyspace.TrimMinID
			}
			i++
		case lo == "limit" && more > 0:
			n, ok := keyspace.ParseInt(x.args[i+1])
			if !ok {
				x.r.error(msgNotInteger)
				return 0, false
			}
			if n < 0 {
				x.r.error("ERR The LIMIT argument must be >= 0.")
				return 0, false
			}
			t.Limit, limitGiven = n, true
			i++
		case xadd && lo == "nomkstream":
			a.NoMkStream = true
		case xadd:
			id, seqGiven, ok := keyspace.ParseStreamID(x.args[i], 0, true, true)
			if !ok {
				x.r.error(msgInvalidStreamID)
				return 0, false
			}
			a.ID, a.IDGiven, a.SeqGiven = id, true, seqGiven
			return i + 1, true
		default:
			x.r.error(msgSyntax)
			return 0, false
		}
	}
	return i + 1, true
}

func cmdXadd(x *call) {
	var a keyspace.XAddArgs
	fieldPos, ok := x.trimArgs(true, &a)
	if !ok {
		return
	}
	if n := len(x.args) - fieldPos; n < 2 || n%2 == 1 {
		x.r.error(msgArity(x.cmd.name))
		return
	}
	if a.IDGiven && a.SeqGiven && a.ID.IsZero() {
		x.r.error("ERR The ID specified in XADD must be greater than 0-0")
		return
	}
	a.Fields = x.args[fieldPos:]
	id, err := x.s.ks.XAdd(x.c.db, x.args[1], a)
	switch {
	case err == keyspace.ErrStreamNoStream:
		x.r.null()
	case err != nil:
		x.ksError(err)
	default:
		x.streamIDReply(id)
	}
}

// trimFinish is the checks streamParseAddOrTrimArgsOrReply makes after
// its loop, and the default LIMIT of a "~" trim.
func (x *call) trimFinish(xadd bool, t *keyspace.TrimArgs, limitGiven bool) bool {
	switch {
	case t.Limit != 0 && t.Strategy == 0:
		x.r.error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
		return false
	case !xadd && t.Strategy == 0:
		x.r.error("ERR syntax error, XTRIM must be called with a trimming strategy")
		return false
	case limitGiven && !t.Approx:
		x.r.error("ERR syntax error, LIMIT cannot be used without the special ~ option")
		return false
	case !limitGiven && t.Approx:
		// 100 nodes' worth, capped on both sides, as Redis does.
		_, entries := x.s.ks.StreamNodeLimits()
		t.Limit = 10000
		if entries > 0 && entries <= 1000000/100 {
			t.Limit = 100 * entries
		} else if entries > 0 {
			t.Limit = 1000000
		}
	case !limitGiven:
		t.Limit = 0
	}
	return true
}

func cmdXlen(x *call) {
	n, err := x.s.ks.XLen(x.c.db, x.args[1])
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(n)
}

func cmdXrange(x *call) {
	rev := x.cmd.name == "xrevrange"
	startArg, endArg := x.args[2], x.args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, ok := x.intervalID(startArg, 0, true)
	if !ok {
		return
	}
	end, ok := x.intervalID(endArg, math.MaxUint64, false)
	if !ok {
		return
	}
	count := int64(-1)
	for j := 4; j < len(x.args); j++ {
		if strings.EqualFold(string(x.args[j]), "count") && j+1 < len(x.args) {
			n, ok := x.intArg(j + 1)
			if !ok {
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		x.r.error(msgSyntax)
		return
	}
	es, exists, err := x.s.ks.XRange(x.c.db, x.args[1], start, end, int(min(max(count, 0), math.MaxInt32)), rev)
	switch {
	case err != nil:
		x.ksError(err)
	case !exists:
		x.r.array(0)
	case count == 0:
		x.r.nullArray()
	default:
		x.streamEntriesReply(es)
	}
}

// parseStreamIDs parses ids strictly; on failure it replies as Redis
// does after its key lookup: 0 for a missing key (zeroIfMissing),
// WRONGTYPE, else the ID error.
func (x *call) parseStreamIDs(args [][]byte) ([]keyspace.StreamID, bool) {
	ids := make([]keyspace.StreamID, len(args))
	for i, b := range args {
		id, _, ok := keyspace.ParseStreamID(b, 0, true, false)
		if !ok {
			return nil, false
		}
		ids[i] = id
	}
	return ids, true
}

func cmdXdel(x *call) {
	ids, ok := x.parseStreamIDs(x.args[2:])
	if !ok {
		switch x.s.ks.Type(x.c.db, x.args[1]) {
		case keyspace.KindNone:
			x.r.int(0)
		case keyspace.KindStream:
			x.r.error(msgInvalidStreamID)
		default:
			x.r.error(msgWrongType)
		}
		return
	}
	x.intReply(x.s.ks.XDel(x.c.db, x.args[1], ids))
}

func cmdXtrim(x *call) {
	var a keyspace.XAddArgs
	if _, ok := x.trimArgs(false, &a); !ok {
		return
	}
	n, err := x.s.ks.XTrim(x.c.db, x.args[1], a.Trim)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.int(n)
}

func cmdXread(x *call) {
	group := x.cmd.name == "xreadgroup"
	name := string(x.args[0])
	var a keyspace.XReadArgs
	timeout := int64(-1)
	streamsArg := 0
	for i := 1; i < len(x.args) && streamsArg == 0; i++ {
		more := len(x.args) - i - 1
		switch o := strings.ToLower(string(x.args[i])); {
		case o == "block" && more > 0:
			if x.inScript {
				x.r.error("ERR " + name + " command is not allowed with BLOCK option from scripts")
				return
			}
			i++
			n, ok := keyspace.ParseInt(x.args[i])
			if !ok {
				x.r.error("ERR timeout is not an integer or out of range")
				return
			}
			if n < 0 {
				x.r.error("ERR timeout is negative")
				return
			}
			timeout = n
		case o == "count" && more > 0:
			i++
			n, ok := x.intArg(i)
			if !ok {
				return
			}
			a.Count = int(min(max(n, 0), math.MaxInt32))
		case o == "streams" && more > 0:
			streamsArg = i + 1
			if (len(x.args)-streamsArg)%2 != 0 {
				x.r.error("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
				return
			}
		case o == "group" && more >= 2:
			if !group {
				x.r.error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			a.Group, a.Consumer = x.args[i+1], x.args[i+2]
			i += 2
		case o == "noack":
			if !group {
				x.r.error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				return
			}
			a.NoAck = true
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if streamsArg == 0 {
		x.r.error(msgSyntax)
		return
	}
	if group && a.Group == nil {
		x.r.error("ERR Missing GROUP option for XREADGROUP")
		return
	}
	n := (len(x.args) - streamsArg) / 2
	a.Keys, a.IDs = x.args[streamsArg:streamsArg+n], x.args[streamsArg+n:]
	if timeout < 0 {
		// The command takes the gate itself (flagOwnGate, for BLOCK):
		// without BLOCK it runs once under it, as dispatch would run it.
		x.tryOnce(func() bool {
			out, _, err := x.s.ks.XRead(x.c.db, a)
			x.xreadReply(out, err)
			return true
		}, false)
		return
	}
	count := a.Count
	var resolved []keyspace.StreamID
	d := time.Duration(min(timeout, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond
	x.block(a.Keys, keyspace.KindStream, d, func(fired [][]byte, woken bool) bool {
		if !woken {
			b := a
			b.Resolved = resolved
			out, ids, err := x.s.ks.XRead(x.c.db, b)
			if err != nil || len(out) > 0 {
				x.xreadReply(out, err)
				return true
			}
			resolved = ids
			return false
		}
		for _, k := range fired {
			i := slices.IndexFunc(a.Keys, func(b []byte) bool { return string(b) == string(k) })
			if i < 0 {
				continue
			}
			b := a
			b.Keys, b.Resolved, b.Woken = [][]byte{a.Keys[i]}, []keyspace.StreamID{resolved[i]}, true
			if count == 0 {
				b.Count = 1000 // XREAD_BLOCKED_DEFAULT_COUNT
			}
			out, _, err := x.s.ks.XRead(x.c.db, b)
			if err != nil || len(out) > 0 {
				x.xreadReply(out, err)
				return true
			}
		}
		return false
	}, x.r.nullArray, x.r.nullArray)
}

func (x *call) xreadReply(out []keyspace.XReadStream, err error) {
	switch {
	case err != nil:
		x.ksError(err)
		return
	case len(out) == 0:
		x.r.nullArray()
		return
	}
	if x.r.resp3 {
		x.r.mapLen(len(out))
	} else {
		x.r.array(len(out))
	}
	for _, s := range out {
		if !x.r.resp3 {
			x.r.array(2)
		}
		x.r.bulk(s.Key)
		x.streamEntriesReply(s.Entries)
	}
}

func cmdXgroup(x *call) {
	sub := strings.ToLower(string(x.args[1]))
	a := keyspace.XGroupArgs{Sub: sub, Group: x.args[3], EntriesRead: -1}
	for i := 5; i < len(x.args); {
		switch o := strings.ToLower(string(x.args[i])); {
		case sub == "create" && o == "mkstream":
			a.MkStream = true
			i++
		case (sub == "create" || sub == "setid") && o == "entriesread" && i+1 < len(x.args):
			n, ok := x.intArg(i + 1)
			if !ok {
				return
			}
			if n < 0 && n != -1 {
				x.r.error("ERR value for ENTRIESREAD must be positive or -1")
				return
			}
			a.EntriesRead = n
			i += 2
		default:
			x.subcommandSyntaxError()
			return
		}
	}
	argc := len(x.args)
	switch sub {
	case "create":
		a.ID = x.args[4]
		a.CheckOnly = argc > 8
	case "setid":
		a.ID = x.args[4]
		a.CheckOnly = argc != 5 && argc != 7
	case "createconsumer", "delconsumer":
		a.Consumer = x.args[4]
	}
	n, err := x.s.ks.XGroup(x.c.db, x.args[2], a)
	switch {
	case err != nil:
		x.ksError(err)
	case a.CheckOnly:
		x.subcommandSyntaxError()
	case sub == "create" || sub == "setid":
		x.r.ok()
	default:
		x.r.int(n)
	}
}

func cmdXgroupHelp(x *call) {
	x.help("XGROUP",
		"CREATE <key> <groupname> <id|$> [option]",
		"    Create a new consumer group. Options are:",
		"    * MKSTREAM",
		"      Create the empty stream if it does not exist.",
		"    * ENTRIESREAD entries_read",
		"      Set the group's entries_read counter (internal use).",
		"CREATECONSUMER <key> <groupname> <consumer>",
		"    Create a new consumer in the specified group.",
		"DELCONSUMER <key> <groupname> <consumer>",
		"    Remove the specified consumer.",
		"DESTROY <key> <groupname>",
		"    Remove the specified group.",
		"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
		"    Set the current group ID and entries_read counter.",
	)
}

func cmdXack(x *call) {
	x.intReply(x.s.ks.XAck(x.c.db, x.args[1], x.args[2], x.args[3:]))
}

func cmdXpending(x *call) {
	argc := len(x.args)
	if argc != 3 && (argc < 6 || argc > 9) {
		x.r.error(msgSyntax)
		return
	}
	key, grp := x.args[1], x.args[2]
	if argc == 3 {
		p, err := x.s.ks.XPendingSummary(x.c.db, key, grp)
		if err != nil {
			x.ksError(err)
			return
		}
		x.r.array(4)
		x.r.int(int64(p.Count))
		if p.Count == 0 {
			x.r.null()
			x.r.null()
			x.r.nullArray()
			return
		}
		x.streamIDReply(p.First)
		x.streamIDReply(p.Last)
		x.r.array(len(p.ByConsumer))
		for _, c := range p.ByConsumer {
			x.r.array(2)
			x.r.bulkString(c.Name)
			x.r.bulkString(strconv.Itoa(c.Count))
		}
		return
	}
	var a keyspace.XPendingArgs
	si := 3
	if strings.EqualFold(string(x.args[3]), "idle") {
		n, ok := x.intArg(4)
		if !ok {
			return
		}
		if argc < 8 {
			x.r.error(msgSyntax)
			return
		}
		a.MinIdle = n
		si += 2
	}
	count, ok := x.intArg(si + 2)
	if !ok {
		return
	}
	a.Count = max(count, 0)
	if a.Start, ok = x.intervalID(x.args[si], 0, true); !ok {
		return
	}
	if a.End, ok = x.intervalID(x.args[si+1], math.MaxUint64, false); !ok {
		return
	}
	if si+3 < argc {
		a.Consumer = x.args[si+3]
	}
	es, err := x.s.ks.XPending(x.c.db, key, grp, a)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.array(len(es))
	for _, e := range es {
		x.r.array(4)
		x.streamIDReply(e.ID)
		x.r.bulkString(e.Consumer)
		x.r.int(e.Idle)
		x.r.int(int64(e.Count))
	}
}

// streamGroupCheck replies WRONGTYPE, or NOGROUP for a missing key or
// group, as the commands that look the group up before parsing do.
func (x *call) streamGroupCheck(key, grp []byte) bool {
	_, err := x.s.ks.XPendingSummary(x.c.db, key, grp)
	if err != nil {
		x.ksError(err)
		return false
	}
	return true
}

func cmdXclaim(x *call) {
	key, grp := x.args[1], x.args[2]
	if !x.streamGroupCheck(key, grp) {
		return
	}
	minIdle, ok := keyspace.ParseInt(x.args[4])
	if !ok {
		x.r.error("ERR Invalid min-idle-time argument for XCLAIM")
		return
	}
	a := keyspace.XClaimArgs{Group: grp, Consumer: x.args[3], MinIdle: max(minIdle, 0), RetryCount: -1}
	j := 5
	for ; j < len(x.args); j++ {
		id, _, ok := keyspace.ParseStreamID(x.args[j], 0, true, false)
		if !ok {
			break
		}
		a.IDs = append(a.IDs, id)
	}
	for ; j < len(x.args); j++ {
		more := len(x.args) - 1 - j
		opt := string(x.args[j])
		switch o := strings.ToLower(opt); {
		case o == "force":
			a.Force = true
		case o == "justid":
			a.JustID = true
		case (o == "idle" || o == "time" || o == "retrycount") && more > 0:
			j++
			n, ok := keyspace.ParseInt(x.args[j])
			if !ok {
				x.r.error("ERR Invalid " + strings.ToUpper(o) + " option argument for XCLAIM")
				return
			}
			switch o {
			case "idle", "time":
				a.HasTime, a.Time, a.TimeIsIdle = true, n, o == "idle"
			default:
				a.RetryCount = n
			}
		case o == "lastid" && more > 0:
			j++
			id, ok := x.streamID(x.args[j], 0, true)
			if !ok {
				return
			}
			a.LastID = id
		default:
			x.r.error("ERR Unrecognized XCLAIM option '" + opt + "'")
			return
		}
	}
	es, err := x.s.ks.XClaim(x.c.db, key, a)
	if err != nil {
		x.ksError(err)
		return
	}
	x.claimedReply(es, a.JustID)
}

func (x *call) claimedReply(es []keyspace.StreamEntry, justID bool) {
	x.r.array(len(es))
	for _, e := range es {
		if justID {
			x.streamIDReply(e.ID)
		} else {
			x.streamEntryReply(e)
		}
	}
}

func cmdXautoclaim(x *call) {
	minIdle, ok := keyspace.ParseInt(x.args[4])
	if !ok {
		x.r.error("ERR Invalid min-idle-time argument for XAUTOCLAIM")
		return
	}
	start, ok := x.intervalID(x.args[5], 0, true)
	if !ok {
		return
	}
	count, justID := int64(100), false
	for j := 6; j < len(x.args); j++ {
		more := len(x.args) - 1 - j
		switch o := strings.ToLower(string(x.args[j])); {
		case o == "count" && more > 0:
			n, ok := keyspace.ParseInt(x.args[j+1])
			if !ok || n < 1 || n > math.MaxInt64/16 {
				x.r.error("ERR COUNT must be > 0")
				return
			}
			count = n
			j++
		case o == "justid":
			justID = true
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	es, next, deleted, err := x.s.ks.XAutoClaim(x.c.db, x.args[1], x.args[2], x.args[3], max(minIdle, 0), start, count, justID)
	if err != nil {
		x.ksError(err)
		return
	}
	x.r.array(3)
	x.streamIDReply(next)
	x.claimedReply(es, justID)
	x.r.array(len(deleted))
	for _, id := range deleted {
		x.streamIDReply(id)
	}
}

func cmdXinfoHelp(x *call) {
	x.help("XINFO",
		"CONSUMERS <key> <groupname>",
		"    Show consumers of <groupname>.",
		"GROUPS <key>",
		"    Show the stream consumer groups.",
		"STREAM <key> [FULL [COUNT <count>]",
		"    Show information about the stream.",
	)
}

// lagReply is a group's lag, or null when it cannot be known.
func (x *call) lagReply(g keyspace.GroupInfo) {
	if g.LagValid {
		x.r.int(g.Lag)
	} else {
		x.r.null()
	}
}

func (x *call) entriesReadReply(n int64) {
	if n == -1 {
		x.r.null()
	} else {
		x.r.int(n)
	}
}

func cmdXinfo(x *call) {
	key := x.args[2]
	switch x.cmd.name {
	case "xinfo|consumers":
		cs, found, ok, err := x.s.ks.XInfoConsumers(x.c.db, key, x.args[3])
		switch {
		case err != nil:
			x.ksError(err)
		case !found:
			x.r.error(msgNoSuchKey)
		case !ok:
			x.r.error("NOGROUP No such consumer group '" + string(x.args[3]) + "' for key name '" + string(key) + "'")
		default:
			x.r.array(len(cs))
			for _, c := range cs {
				x.r.mapLen(3)
				x.r.bulkString("name")
				x.r.bulkString(c.Name)
				x.r.bulkString("pending")
				x.r.int(int64(c.Pending))
				x.r.bulkString("idle")
				x.r.int(c.Idle)
			}
		}
		return
	case "xinfo|groups":
		gs, found, err := x.s.ks.XInfoGroups(x.c.db, key)
		switch {
		case err != nil:
			x.ksError(err)
		case !found:
			x.r.error(msgNoSuchKey)
		default:
			x.r.array(len(gs))
			for _, g := range gs {
				x.r.mapLen(6)
				x.r.bulkString("name")
				x.r.bulkString(g.Name)
				x.r.bulkString("consumers")
				x.r.int(int64(g.Consumers))
				x.r.bulkString("pending")
				x.r.int(int64(g.Pending))
				x.r.bulkString("last-delivered-id")
				x.streamIDReply(g.LastID)
				x.r.bulkString("entries-read")
				x.entriesReadReply(g.EntriesRead)
				x.r.bulkString("lag")
				x.lagReply(g)
			}
		}
		return
	}
	// STREAM: the key is looked up before the options are read.
	if _, found, err := x.s.ks.XInfoStream(x.c.db, key, false, 0); err != nil || !found {
		if err != nil {
			x.ksError(err)
		} else {
			x.r.error(msgNoSuchKey)
		}
		return
	}
	opts := x.args[3:]
	full, count := false, int64(10)
	switch {
	case len(opts) == 0:
	case len(opts) != 1 && len(opts) != 3, !strings.EqualFold(string(opts[0]), "full"):
		x.subcommandSyntaxError()
		return
	default:
		full = true
		if len(opts) == 3 {
			if !strings.EqualFold(string(opts[1]), "count") {
				x.subcommandSyntaxError()
				return
			}
			n, ok := x.intArg(5)
			if !ok {
				return
			}
			if count = n; n < 0 {
				count = 10
			}
		}
	}
	in, found, err := x.s.ks.XInfoStream(x.c.db, key, full, int(min(count, math.MaxInt32)))
	switch {
	case err != nil:
		x.ksError(err)
		return
	case !found:
		x.r.error(msgNoSuchKey)
		return
	}
	if full {
		x.r.mapLen(9)
	} else {
		x.r.mapLen(10)
	}
	x.r.bulkString("length")
	x.r.int(in.Length)
	x.r.bulkString("radix-tree-keys")
	x.r.int(in.Chunks)
	x.r.bulkString("radix-tree-nodes")
	x.r.int(in.Chunks + 1) // Redis's rax nodes: not modelled (README)
	x.r.bulkString("last-generated-id")
	x.streamIDReply(in.LastID)
	x.r.bulkString("max-deleted-entry-id")
	x.streamIDReply(in.MaxDeleted)
	x.r.bulkString("entries-added")
	x.r.int(int64(in.EntriesAdded))
	x.r.bulkString("recorded-first-entry-id")
	x.streamIDReply(in.First)
	if !full {
		x.r.bulkString("groups")
		x.r.int(int64(in.Groups))
		for i, e := range []*keyspace.StreamEntry{in.FirstEntry, in.LastEntry} {
			x.r.bulkString([]string{"first-entry", "last-entry"}[i])
			if e == nil {
				x.r.null()
			} else {
				x.streamEntryReply(*e)
			}
		}
		return
	}
	x.r.bulkString("entries")
	x.streamEntriesReply(in.Entries)
	x.r.bulkString("groups")
	x.r.array(len(in.GroupsFull))
	for _, g := range in.GroupsFull {
		x.r.mapLen(7)
		x.r.bulkString("name")
		x.r.bulkString(g.Name)
		x.r.bulkString("last-delivered-id")
		x.streamIDReply(g.LastID)
		x.r.bulkString("entries-read")
		x.entriesReadReply(g.EntriesRead)
		x.r.bulkString("lag")
		x.lagReply(g)
		x.r.bulkString("pel-count")
		x.r.int(int64(g.Pending))
		x.r.bulkString("pending")
		x.r.array(len(g.PEL))
		for _, p := range g.PEL {
			x.r.array(4)
			x.streamIDReply(p.ID)
			x.r.bulkString(p.Consumer)
			x.r.int(p.Idle)
			x.r.int(int64(p.Count))
		}
		x.r.bulkString("consumers")
		x.r.array(len(g.ConsFull))
		for _, c := range g.ConsFull {
			x.r.mapLen(4)
			x.r.bulkString("name")
			x.r.bulkString(c.Name)
			x.r.bulkString("seen-time")
			x.r.int(c.Idle)
			x.r.bulkString("pel-count")
			x.r.int(int64(c.Pending))
			x.r.bulkString("pending")
			x.r.array(len(c.PEL))
			for _, p := range c.PEL {
				x.r.array(3)
				x.streamIDReply(p.ID)
				x.r.int(p.Idle)
				x.r.int(int64(p.Count))
			}
		}
	}
}

func cmdXsetid(x *call) {
	id, ok := x.streamID(x.args[2], 0, true)
	if !ok {
		return
	}
	a := keyspace.XSetIDArgs{ID: id, EntriesAdded: -1}
	for i := 3; i < len(x.args); i += 2 {
		more := len(x.args) - 1 - i
		switch o := strings.ToLower(string(x.args[i])); {
		case o == "entriesadded" && more > 0:
			n, ok := x.intArg(i + 1)
			if !ok {
				return
			}
			if n < 0 {
				x.r.error("ERR entries_added must be positive")
				return
			}
			a.EntriesAdded = n
		case o == "maxdeletedid" && more > 0:
			m, ok := x.streamID(x.args[i+1], 0, true)
			if !ok {
				return
			}
			if id.Cmp(m) < 0 {
				x.r.error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
				return
			}
			a.MaxDeleted = m
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	x.okReply(x.s.ks.XSetID(x.c.db, x.args[1], a))
}
