package resp

import (
	"strings"
	"time"

	"github.com/tidwall/redcon"

	"sessiond/config"
	"sessiond/pubsub"
)

// subConn is a connection that has subscribed at least once. From then on
// all its output goes through sub (see package pubsub): replies are written
// into w, which each command flushes into sub's queue.
type subConn struct {
	sub *pubsub.Sub
	w   *redcon.Writer
}

func pubsubCommands() []*command {
	const g = "pubsub"
	f := flagPubsub | flagNoScript | flagLoading | flagStale
	return []*command{
		{name: "subscribe", arity: -2, flags: f, group: g, since: "2.0.0", summary: "Listen for messages published to the given channels", run: cmdSubscribe},
		{name: "unsubscribe", arity: -1, flags: f, group: g, since: "2.0.0", summary: "Stop listening for messages posted to the given channels", run: cmdUnsubscribe},
		{name: "psubscribe", arity: -2, flags: f, group: g, since: "2.0.0", summary: "Listen for messages published to channels matching the given patterns", run: cmdSubscribe},
		{name: "punsubscribe", arity: -1, flags: f, group: g, since: "2.0.0", summary: "Stop listening for messages posted to channels matching the given patterns", run: cmdUnsubscribe},
		{name: "ssubscribe", arity: -2, flags: f, firstKey: 1, lastKey: -1, step: 1, group: g, since: "7.0.0", summary: "Listen for messages published to the given shard channels", run: cmdSubscribe},
		{name: "sunsubscribe", arity: -1, flags: f, firstKey: 1, lastKey: -1, step: 1, group: g, since: "7.0.0", summary: "Stop listening for messages posted to the given shard channels", run: cmdUnsubscribe},
		{name: "publish", arity: 3, flags: flagPubsub | flagLoading | flagStale | flagFast | flagMayReplicate, group: g, since: "2.0.0", summary: "Post a message to a channel", run: cmdPublish},
		{name: "spublish", arity: 3, flags: flagPubsub | flagLoading | flagStale | flagFast | flagMayReplicate, firstKey: 1, lastKey: 1, step: 1, group: g, since: "7.0.0", summary: "Post a message to a shard channel", run: cmdPublish},
		{name: "pubsub", arity: -2, group: g, since: "2.8.0", summary: "A container for Pub/Sub commands"},
		{name: "pubsub|channels", arity: -2, flags: flagPubsub | flagLoading | flagStale, group: g, since: "2.8.0", summary: "List active channels", run: cmdPubsubChannels},
		{name: "pubsub|shardchannels", arity: -2, flags: flagPubsub | flagLoading | flagStale, group: g, since: "7.0.0", summary: "List active shard channels", run: cmdPubsubChannels},
		{name: "pubsub|numsub", arity: -2, flags: flagPubsub | flagLoading | flagStale, group: g, since: "2.8.0", summary: "Get the count of subscribers for channels", run: cmdPubsubNumsub},
		{name: "pubsub|shardnumsub", arity: -2, flags: flagPubsub | flagLoading | flagStale, group: g, since: "7.0.0", summary: "Get the count of subscribers for shard channels", run: cmdPubsubNumsub},
		{name: "pubsub|numpat", arity: 2, flags: flagPubsub | flagLoading | flagStale, group: g, since: "2.8.0", summary: "Get the count of unique patterns pattern subscriptions", run: cmdPubsubNumpat},
		{name: "pubsub|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.2.0", summary: "Show helpful text about the different subcommands", run: cmdPubsubHelp},
	}
}

// initPubsub creates the hub, installs it as the keyspace's notifier and
// makes notify-keyspace-events and client-output-buffer-limit live.
func (s *Server) initPubsub() {
	s.hub = pubsub.New(nil)
	if s.ks != nil {
		s.ks.SetNotifier(trackNotifier{s: s, n: s.hub})
	}
	applyEvents := func(v string) {
		if e, err := pubsub.ParseEvents(v); err == nil {
			s.hub.SetEvents(e)
		}
	}
	applyLimits := func(v string) {
		if all, err := config.ParseOutputBufferLimits(v); err == nil {
			if l, ok := all["pubsub"]; ok {
				s.hub.SetLimits(pubsub.Limits{Hard: l.Hard, Soft: l.Soft, SoftFor: time.Duration(l.SoftSeconds) * time.Second})
			}
		}
	}
	applyEvents(s.cfg.Get("notify-keyspace-events"))
	applyLimits(s.cfg.Get("client-output-buffer-limit"))
	s.cfg.OnSet("notify-keyspace-events", applyEvents)
	s.cfg.OnSet("client-output-buffer-limit", applyLimits)
}

// servePubsub runs one command of a connection whose output goes through
// its Sub, and hands the reply to the Sub's queue.
func (s *Server) servePubsub(c *client, ps *subConn, args [][]byte) {
	c.rep = reply{w: ps.w, resp3: c.resp3}
	c.pushHold()
	s.dispatch(c, &c.rep, args)
	ps.w.Flush()
	c.pushRelease(ps)
}

// subscriberMode reports whether c is in RESP2's subscriber mode, where
// only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed.
func (c *client) subscriberMode() bool {
	ps := c.ps.Load()
	return ps != nil && !c.resp3 && ps.sub.Subscribed()
}

// pubsubAllowed is the check of processCommand (server.c) for RESP2
// subscribers; it writes Redis's error and returns false to refuse.
func (s *Server) pubsubAllowed(c *client, r *reply, cmd *command) bool {
	if c.ps.Load() == nil || c.resp3 {
		return true
	}
	switch cmd.name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return true
	}
	if !c.ps.Load().sub.Subscribed() {
		return true
	}
	s.fail(r, "ERR Can't execute '"+cmd.name+"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	return false
}

// subConn returns c's Sub, creating it on the first subscription: the
// replies redcon still buffers for c move into the Sub's queue first, and
// the current reply (and EXEC's, see cmdExec) is redirected to it.
func (x *call) subConn() *subConn {
	c := x.c
	if ps := c.ps.Load(); ps != nil {
		return ps
	}
	if c.netConn == nil {
		return nil
	}
	var pending []byte
	if bw := baseWriter(c.conn); bw != nil {
		pending = bw.Buffer()
		bw.SetBuffer(nil)
	}
	ps := &subConn{sub: x.s.hub.NewSub(c.netConn, c.resp3, pending)}
	ps.w = redcon.NewWriter(ps.sub)
	c.pushHold() // messages wait for this command's reply: serve releases them
	c.ps.Store(ps)
	if m, ok := x.r.w.(*muted); ok { // CLIENT REPLY OFF or SKIP still holds
		m.w = ps.w
	} else {
		x.r.w = ps.w
	}
	return ps
}

// subKind is the namespace of a (un)subscribe command.
func subKind(name string) pubsub.Kind {
	switch name {
	case "psubscribe", "punsubscribe":
		return pubsub.Pattern
	case "ssubscribe", "sunsubscribe":
		return pubsub.Shard
	}
	return pubsub.Channel
}

func cmdSubscribe(x *call) {
	ps := x.subConn()
	if ps == nil {
		x.r.error("ERR " + strings.ToUpper(x.cmd.name) + " needs a network connection")
		return
	}
	ps.w.Flush() // replies before this one (inside EXEC) go first
	ps.sub.Subscribe(subKind(x.cmd.name), x.args[1:])
}

func cmdUnsubscribe(x *call) {
	ps := x.c.ps.Load()
	if ps == nil { // never subscribed: confirmations all the same, with counts of 0
		end := x.pushThrough()
		x.unsubscribedNothing(x.cmd.name, x.args[1:])
		end()
		return
	}
	ps.w.Flush()
	ps.sub.Unsubscribe(subKind(x.cmd.name), x.args[1:], false)
}

// unsubscribedNothing replies to an UNSUBSCRIBE from a connection that
// never subscribed: one confirmation per name (or a null one), count 0.
func (x *call) unsubscribedNothing(word string, names [][]byte) {
	push := func() {
		if x.r.resp3 {
			x.r.w.WriteRaw([]byte(">3\r\n"))
		} else {
			x.r.array(3)
		}
		x.r.bulkString(word)
	}
	if len(names) == 0 {
		push()
		x.r.null()
		x.r.int(0)
		return
	}
	for _, n := range names {
		push()
		x.r.bulk(n)
		x.r.int(0)
	}
}

func cmdPublish(x *call) {
	kind := pubsub.Channel
	if x.cmd.name == "spublish" {
		kind = pubsub.Shard
	}
	x.r.int(int64(x.s.hub.Publish(kind, x.args[1], x.args[2])))
}

func cmdPubsubChannels(x *call) {
	if len(x.args) > 3 {
		x.r.error("ERR unknown subcommand or wrong number of arguments for '" + sanitize(string(x.args[1])) + "'. Try PUBSUB HELP.")
		return
	}
	kind := pubsub.Channel
	if x.cmd.name == "pubsub|shardchannels" {
		kind = pubsub.Shard
	}
	var pat []byte
	if len(x.args) == 3 {
		pat = x.args[2]
	}
	x.r.bulks(x.s.hub.Names(kind, pat))
}

func cmdPubsubNumsub(x *call) {
	kind := pubsub.Channel
	if x.cmd.name == "pubsub|shardnumsub" {
		kind = pubsub.Shard
	}
	names := x.args[2:]
	x.r.array(2 * len(names))
	for _, n := range names {
		x.r.bulk(n)
		x.r.int(int64(x.s.hub.NumSub(kind, n)))
	}
}

func cmdPubsubNumpat(x *call) { x.r.int(int64(x.s.hub.NumPat())) }

func cmdPubsubHelp(x *call) {
	lines := []string{
		"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	}
	x.r.array(len(lines))
	for _, l := range lines {
		x.r.status(l)
	}
}

// pingPubsub is PING in RESP2's subscriber mode: ["pong", arg or ""].
func (x *call) pingPubsub() bool {
	if !x.c.subscriberMode() || len(x.args) > 2 {
		return false
	}
	x.r.array(2)
	x.r.bulkString("pong")
	if len(x.args) == 2 {
		x.r.bulk(x.args[1])
	} else {
		x.r.bulkString("")
	}
	return true
}

// protoChanged tells c's Sub about a HELLO or RESET protocol switch.
func (c *client) protoChanged() {
	if ps := c.ps.Load(); ps != nil {
		ps.sub.SetRESP3(c.resp3)
	}
}

// resetPubsub drops every subscription without confirmations (RESET).
func (c *client) resetPubsub() {
	if ps := c.ps.Load(); ps != nil {
		ps.w.Flush()
		for _, k := range []pubsub.Kind{pubsub.Channel, pubsub.Pattern, pubsub.Shard} {
			ps.sub.Unsubscribe(k, nil, true)
		}
	}
}

// pubsubCounts returns CLIENT LIST's sub, psub and ssub.
func (c *client) pubsubCounts() (sub, psub, ssub int) {
	ps := c.ps.Load()
	if ps == nil {
		return 0, 0, 0
	}
	return ps.sub.Count(pubsub.Channel), ps.sub.Count(pubsub.Pattern), ps.sub.Count(pubsub.Shard)
}

// pubsubFlag is CLIENT LIST's P flag for a connection with subscriptions.
func (c *client) pubsubFlag() bool {
	ps := c.ps.Load()
	return ps != nil && ps.sub.Subscribed()
}

// closePubsub releases c's subscriptions when its connection is gone.
func (c *client) closePubsub() {
	if ps := c.ps.Load(); ps != nil {
		ps.sub.Close()
	}
}

// closeAfterReply closes c once its last reply is written: through the
// Sub's queue if it has one, else through redcon.
func (c *client) closeAfterReply() {
	if ps := c.ps.Load(); ps != nil {
		ps.sub.CloseWhenDrained()
		return
	}
	c.conn.Close()
}
