package resp

import (
	"container/list"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sessiond/acl"
)

// The ACL log (ACL LOG): the refused AUTHs and the commands, keys and
// channels ACLs denied, newest first, as Redis 7.0.15 keeps it (acl.c's
// ACLLog). A refusal like one of the 10 newest entries (same reason,
// context, object and user, within 60 s of it) is counted in that entry,
// which moves to the front with the new time and client; otherwise it is
// a new entry, and the oldest go past acllog-max-len. Lowering
// acllog-max-len trims the log at the next new entry, as in Redis.

// aclLogReason is what was refused.
type aclLogReason uint8

const (
	logAuth aclLogReason = iota
	logCommand
	logKey
	logChannel
)

var aclLogReasons = [...]string{logAuth: "auth", logCommand: "command", logKey: "key", logChannel: "channel"}

// aclLogContext is where it was refused.
type aclLogContext uint8

const (
	logTopLevel aclLogContext = iota
	logMulti                  // queued in MULTI, or run by EXEC
	logLua                    // a script's or a function's redis.call
)

var aclLogContexts = [...]string{logTopLevel: "toplevel", logMulti: "multi", logLua: "lua"}

const (
	aclLogGroupMs = 60_000 // ACL_LOG_GROUPING_MAX_TIME_DELTA
	aclLogScan    = 10     // entries searched for one to count a refusal in
)

type aclLogEntry struct {
	count    int64
	reason   aclLogReason
	context  aclLogContext
	object   string
	username string
	ms       int64  // Unix ms of the last refusal counted
	client   string // CLIENT LIST line of that refusal's client
}

// aclLog is the server's ACL log; connections on every event loop and
// goroutine add to it, under mu.
type aclLog struct {
	max     atomic.Int64 // acllog-max-len
	mu      sync.Mutex
	entries list.List // of *aclLogEntry, newest first
}

// initACLLog follows acllog-max-len.
func (s *Server) initACLLog() {
	apply := func(string) { s.acllog.max.Store(s.cfg.Int("acllog-max-len")) }
	apply("")
	s.cfg.OnSet("acllog-max-len", apply)
}

// logACLDenial records that u was denied what Check said (d, at
// args[pos]) running cmd with args. c is the client whose line the entry
// shows: the one that sent the command, or that ran the script that
// called it.
func (s *Server) logACLDenial(c *client, u *acl.User, ctx aclLogContext, d acl.Denial, pos int, cmd *command, args [][]byte) {
	e := &aclLogEntry{context: ctx}
	switch d {
	case acl.DeniedKey:
		e.reason, e.object = logKey, string(args[pos])
	case acl.DeniedChannel:
		e.reason, e.object = logChannel, string(args[pos])
	default:
		e.reason, e.object = logCommand, cmd.name
	}
	if u != nil {
		e.username = u.Name()
	}
	s.addACLLog(e, c)
}

// logAuthFailure records a refused AUTH or HELLO AUTH of c as user
// (args[0], the command's name as the client wrote it, is the object).
func (s *Server) logAuthFailure(c *client, inExec bool, args [][]byte, user []byte) {
	ctx := logTopLevel
	if inExec { // Redis's client is still in MULTI while EXEC runs
		ctx = logMulti
	}
	s.addACLLog(&aclLogEntry{reason: logAuth, context: ctx, object: string(args[0]), username: string(user)}, c)
}

// addACLLog counts e in a like entry among the newest, or adds it.
func (s *Server) addACLLog(e *aclLogEntry, c *client) {
	e.count = 1
	e.ms = s.ks.ClockNow().UnixMilli()
	e.client = c.info(time.Now(), s.trackModeOf(c))
	l := &s.acllog
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for el := l.entries.Front(); el != nil && n < aclLogScan; el, n = el.Next(), n+1 {
		old := el.Value.(*aclLogEntry)
		if old.like(e) {
			old.count++
			old.ms, old.client = e.ms, e.client
			l.entries.MoveToFront(el)
			return
		}
	}
	l.entries.PushFront(e)
	for max := l.max.Load(); int64(l.entries.Len()) > max; {
		l.entries.Remove(l.entries.Back())
	}
}

// like is Redis's ACLLogMatchEntry: e would be counted in a.
func (a *aclLogEntry) like(e *aclLogEntry) bool {
	d := a.ms - e.ms
	if d < 0 {
		d = -d
	}
	return a.reason == e.reason && a.context == e.context && d <= aclLogGroupMs &&
		a.object == e.object && a.username == e.username
}

// cmdACLLog is ACL LOG [<count> | RESET]: the newest count entries
// (default 10; a negative count is 0), or RESET to empty the log.
func cmdACLLog(x *call) {
	if len(x.args) > 3 {
		x.subSyntaxError()
		return
	}
	l := &x.s.acllog
	count := int64(10)
	if len(x.args) == 3 {
		if strings.EqualFold(string(x.args[2]), "reset") {
			l.mu.Lock()
			l.entries.Init()
			l.mu.Unlock()
			x.r.ok()
			return
		}
		n, ok := x.intArg(2)
		if !ok {
			return
		}
		count = max(n, 0)
	}
	l.mu.Lock()
	count = min(count, int64(l.entries.Len()))
	entries := make([]aclLogEntry, 0, count)
	for el := l.entries.Front(); el != nil && int64(len(entries)) < count; el = el.Next() {
		entries = append(entries, *el.Value.(*aclLogEntry))
	}
	l.mu.Unlock()
	now := x.s.ks.ClockNow().UnixMilli()
	x.r.array(len(entries))
	for _, e := range entries {
		x.r.mapLen(7)
		x.r.bulkString("count")
		x.r.int(e.count)
		x.r.bulkString("reason")
		x.r.bulkString(aclLogReasons[e.reason])
		x.r.bulkString("context")
		x.r.bulkString(aclLogContexts[e.context])
		x.r.bulkString("object")
		x.r.bulkString(e.object)
		x.r.bulkString("username")
		x.r.bulkString(e.username)
		x.r.bulkString("age-seconds")
		x.r.double(float64(now-e.ms) / 1000)
		x.r.bulkString("client-info")
		x.r.bulkString(e.client)
	}
}
