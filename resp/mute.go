package resp

import "strings"

// CLIENT REPLY ON|OFF|SKIP, as Redis 7.0: OFF mutes every reply until
// CLIENT REPLY ON (whose +OK is sent) or RESET; SKIP mutes the next
// command's. Neither OFF nor SKIP has a reply of its own. A muted command
// still runs and counts (errors included) in the stats. Pushes (pub/sub
// messages, invalidations) are not replies and still arrive, and so do
// (UN)SUBSCRIBE's confirmations, which Redis sends as pushes too
// (pushThrough); that command's other replies (an error, +QUEUED) are
// muted.

// muted is the reply writer of a command that started muted. It checks
// the client's flags at each write, as Redis checks them at each reply,
// so that CLIENT REPLY ON and RESET, which lift the mute while they run,
// are answered.
type muted struct {
	w rawWriter
	c *client
	// pushing: (un)subscribe confirmations are being written, which Redis
	// sends even to a muted client, as pushes (pushThrough).
	pushing bool
}

func (m *muted) on() bool { return m.pushing || !m.c.replyOff && !m.c.replySkip }

// pushThrough lets what x writes until the returned func is called through
// a CLIENT REPLY mute: a (un)subscribe command's confirmations.
func (x *call) pushThrough() (end func()) {
	m, ok := x.r.w.(*muted)
	if !ok {
		return func() {}
	}
	m.pushing = true
	return func() { m.pushing = false }
}

func (m *muted) WriteString(s string) {
	if m.on() {
		m.w.WriteString(s)
	}
}

func (m *muted) WriteBulk(b []byte) {
	if m.on() {
		m.w.WriteBulk(b)
	}
}

func (m *muted) WriteBulkString(s string) {
	if m.on() {
		m.w.WriteBulkString(s)
	}
}

func (m *muted) WriteInt64(n int64) {
	if m.on() {
		m.w.WriteInt64(n)
	}
}

func (m *muted) WriteError(msg string) {
	if m.on() {
		m.w.WriteError(msg)
	}
}

func (m *muted) WriteArray(n int) {
	if m.on() {
		m.w.WriteArray(n)
	}
}

func (m *muted) WriteNull() {
	if m.on() {
		m.w.WriteNull()
	}
}

func (m *muted) WriteRaw(b []byte) {
	if m.on() {
		m.w.WriteRaw(b)
	}
}

// replyDone ends a command for CLIENT REPLY: a SKIP it ran applies to the
// next command, and a mode EXEC's CLIENT REPLY set now applies.
func (c *client) replyDone() {
	if m := c.replyInExec; m != "" {
		c.replyInExec = ""
		c.setReplyMode(m)
	}
	c.replySkip, c.replySkipNext = c.replySkipNext, false
}

// setReplyMode applies CLIENT REPLY's mode (lower case, valid).
func (c *client) setReplyMode(mode string) {
	switch mode {
	case "on":
		c.replyOff, c.replySkip = false, false
	case "off":
		c.replyOff = true
	case "skip":
		if !c.replyOff {
			c.replySkipNext = true
		}
	}
}

// cmdClientReply is CLIENT REPLY. Inside EXEC it answers +OK and its mode
// applies after the EXEC: in Redis the mode changes there and then, which
// leaves EXEC's array with a reply too few or too many and the client's
// parser out of step.
func cmdClientReply(x *call) {
	mode := strings.ToLower(string(x.args[2]))
	if mode != "on" && mode != "off" && mode != "skip" {
		x.r.error(msgSyntax)
		return
	}
	if x.inExec {
		x.c.replyInExec = mode
		x.r.ok()
		return
	}
	x.c.setReplyMode(mode)
	if mode == "on" {
		x.r.ok()
	}
}
