package resp

import (
	"cmp"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"sessiond/acl"
	"sessiond/keyspace"
)

// client is one connection's state. Fields other than those marked atomic
// or guarded are touched only by the connection's own goroutine. Fields
// guarded by mu are written only by the connection's goroutine, under mu,
// which reads them without it; other goroutines (CLIENT LIST, CLIENT KILL,
// ACL DELUSER) read them under mu.
type client struct {
	id       uint64
	conn     redcon.Conn
	addr     string
	laddr    string
	created  time.Time
	lastCmd  atomic.Int64            // Unix ms of the last command, or of a read of part of one (idle.go)
	lastCmdP atomic.Pointer[command] // the last command, for CLIENT LIST (a pointer: storing a string would allocate per command)

	mu       sync.Mutex // guards db, resp3, user, aclUser, name, libName, libVer, noEvict, noTouch, inMulti, queue, execLen
	db       int
	resp3    bool
	authed   bool
	user     string
	name     string
	libName  string
	libVer   string
	noEvict  bool
	noTouch  bool
	inMulti  bool
	multiErr bool       // a command failed to queue: EXEC aborts
	queue    [][][]byte // queued commands' arguments (copies)
	execLen  int        // while EXEC runs: 1 + the commands it took from queue (CLIENT LIST shows the client in MULTI, as Redis)
	watch    keyspace.Watch
	closing  atomic.Bool
	blocked  atomic.Pointer[waiter] // in a blocking command, waiting (cmd_block.go)
	// denyBlocking: blocking commands reply as if timed out instead of
	// waiting (Redis's CLIENT_DENY_BLOCKING; the dispatch fuzzer's client).
	denyBlocking bool
	// CLIENT REPLY (the connection's own goroutine or loop only): replyOff
	// mutes every reply, replySkip the current command's, and
	// replySkipNext becomes replySkip for the next command; replyInExec is
	// a mode set inside EXEC, applied after it (mute.go).
	replyOff, replySkip, replySkipNext bool
	replyInExec                        string
	ps                                 atomic.Pointer[subConn] // set on the first subscription: cmd_pubsub.go
	// busy: a command runs or its replies are being written (set by handle,
	// cleared when the connection waits for input again); the idle sweep
	// skips the client and notes when it saw it so in idleFrom (Unix ms,
	// guarded by Server.mu): idle.go.
	busy     atomic.Bool
	idleFrom int64
	// rep and cur are reused by every command of the connection, so that
	// dispatch does not allocate them (they escape through cmd.run).
	rep     reply
	cur     call
	netConn net.Conn
	// mon is set once MONITOR detached the connection from redcon; detached
	// says so to other goroutines (monitor.go).
	mon      *monitorConn
	detached atomic.Bool
	aclUser  *acl.User // the user commands run as (the default user until AUTH)
	ow       outWriter // counts pending replies (conn.go)
	// onLoop: the connection is on an event loop, where a command must
	// not wait: dispatch sets deferred instead of running one that would
	// (leavesLoop, waitPause), and the loop hands the connection over to
	// run it (eventloop_linux.go).
	onLoop, deferred bool
	repl             replConf    // what REPLCONF declared (cmd_sync.go)
	track            trackMode   // CLIENT TRACKING (tracking.go)
	trackBroken      atomic.Bool // its redirection's client is gone (tracking.go)
	// pushMu guards pushBusy (a command runs: messages from other
	// clients' commands wait) and pushPending (those messages): tracking.go.
	pushMu      sync.Mutex
	pushBusy    bool
	pushPending [][]byte
}

func (c *client) setName(n string) {
	c.mu.Lock()
	c.name = n
	c.mu.Unlock()
}

func (c *client) getName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// authUser returns the user c's commands run as, for other goroutines.
func (c *client) authUser() (name string, u *acl.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user, c.aclUser
}

// info formats the client as a CLIENT LIST / CLIENT INFO line.
func (c *client) info(now time.Time, tm trackMode) string {
	c.mu.Lock()
	name, lib, ver := c.name, c.libName, c.libVer
	inMulti, queued, resp3, user, db := c.inMulti, len(c.queue), c.resp3, c.user, c.db
	if c.execLen > 0 {
		inMulti, queued = true, c.execLen-1
	}
	noEvict, noTouch := c.noEvict, c.noTouch
	c.mu.Unlock()
	last := "NULL"
	if lc := c.lastCmdP.Load(); lc != nil {
		last = lc.name
	}
	age := int64(now.Sub(c.created).Seconds())
	idle := (now.UnixMilli() - c.lastCmd.Load()) / 1000
	flags := ""
	if c.detached.Load() && c.mon != nil && c.mon.isOn() {
		flags = "O"
	}
	if c.pubsubFlag() {
		flags += "P"
	}
	if inMulti {
		flags += "x"
	}
	if c.blocked.Load() != nil {
		flags += "b"
	}
	if tm.on {
		flags += "t"
		if tm.broken {
			flags += "R"
		}
		if tm.bcast {
			flags += "B"
		}
	}
	if noEvict { // Redis's letters, in its order
		flags += "e"
	}
	if noTouch {
		flags += "T"
	}
	if flags == "" {
		flags = "N"
	}
	sub, psub, ssub := c.pubsubCounts()
	multi := -1
	if inMulti {
		multi = queued
	}
	resp := 2
	if resp3 {
		resp = 3
	}
	if user == "" {
		user = "default"
	}
	var b strings.Builder
	b.WriteString("id=" + strconv.FormatUint(c.id, 10))
	b.WriteString(" addr=" + c.addr + " laddr=" + c.laddr + " fd=8 name=" + name)
	b.WriteString(" age=" + strconv.FormatInt(age, 10) + " idle=" + strconv.FormatInt(idle, 10))
	b.WriteString(" flags=" + flags + " db=" + strconv.Itoa(db) + " sub=" + strconv.Itoa(sub) + " psub=" + strconv.Itoa(psub) + " ssub=" + strconv.Itoa(ssub))
	b.WriteString(" multi=" + strconv.Itoa(multi) + " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0")
	b.WriteString(" obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=" + last + " user=" + user)
	redir := int64(-1)
	if tm.on {
		redir = int64(tm.redirect)
	}
	b.WriteString(" redir=" + strconv.FormatInt(redir, 10) + " resp=" + strconv.Itoa(resp) + " lib-name=" + lib + " lib-ver=" + ver)
	return b.String()
}

func slicesSortClients(cs []*client) {
	slices.SortFunc(cs, func(a, b *client) int { return cmp.Compare(a.id, b.id) })
}
