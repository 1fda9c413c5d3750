package resp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"sessiond/acl"
	"sessiond/config"
	"sessiond/keyspace"
	"sessiond/pubsub"
)

// Version is the Redis version sessiond reports (INFO, HELLO). Clients
// gate features on it; sessiond implements the Redis 7.2 commands it lists.
const Version = "7.2.4"

// ServerVersion is sessiond's own version, reported as sessiond_version.
var ServerVersion = "0.1.0"

// Persistence is what the snapshot subsystem offers the command layer.
type Persistence interface {
	Save() error   // SAVE: a snapshot now, in the foreground
	BGSave() error // BGSAVE: start one in the background; an error if one is running
	LastSave() int64
	Info() PersistInfo
	// Exclusive runs fn with no snapshot being written, after one (if
	// save) that it writes first (DEBUG RELOAD).
	Exclusive(save bool, fn func() error) error
}

// PersistInfo is INFO's persistence section.
type PersistInfo struct {
	ChangesSinceSave  int64
	BGSaveInProgress  bool
	LastSaveTime      int64
	LastBGSaveOK      bool
	LastBGSaveSeconds int64
	LastDuration      time.Duration // of the last successful snapshot (metrics)
	Loading           bool
}

// ExpiryStats reports the active expirer's counters for INFO.
type ExpiryStats interface {
	ExpiryInfo() (staleRatio float64, timeCapReached int64)
}

// ActiveExpiry is the switch of the expirer that reclaims keys on their
// deadline (*expiry.Wheel), which DEBUG SET-ACTIVE-EXPIRE turns.
type ActiveExpiry interface {
	SetActive(on bool)
}

// Options configures a Server.
type Options struct {
	Keyspace     *keyspace.Keyspace
	Config       *config.Config
	Logger       *slog.Logger
	Persistence  Persistence  // nil: SAVE and BGSAVE reply with an error
	Expiry       ExpiryStats  // nil: zero stats
	ActiveExpiry ActiveExpiry // nil: DEBUG SET-ACTIVE-EXPIRE changes nothing
	// Shutdown is called by the SHUTDOWN command with the save mode
	// ("", "save" or "nosave"). It returns an error to refuse.
	Shutdown func(mode string) error
}

// Server is the RESP front end.
type Server struct {
	ks      *keyspace.Keyspace
	cfg     *config.Config
	log     *slog.Logger
	persist Persistence
	expiry  ExpiryStats
	active  ActiveExpiry
	onShut  func(mode string) error
	gate    gate
	table   commandTable
	users   *acl.Registry
	started time.Time
	loading atomic.Bool
	hub     *pubsub.Hub // channels, patterns, keyspace notifications: cmd_pubsub.go
	// startHeap is the heap at start, MEMORY STATS's startup.allocated.
	startHeap int64
	scripts   scripting // EVAL: cmd_script.go

	mu      sync.Mutex
	clients map[uint64]*client
	conns   map[*loopConn]struct{} // open connections, closed by Close (loop.go)
	ln      net.Listener
	closed  bool
	done    chan struct{} // closed by Close: a DEBUG SLEEP ends early
	idle    atomic.Int64  // client idle timeout ("timeout"), ns; 0: none
	sweep   idleSweep     // closes idle clients: idle.go
	wg      sync.WaitGroup

	loops    []*eventLoop // eventloop_linux.go; set by Serve under mu
	nextLoop atomic.Uint32

	nextID        atomic.Uint64
	totalConns    atomic.Int64
	rejectedConns atomic.Int64
	totalCmds     atomic.Int64
	errorReplies  atomic.Int64

	opsState        // slow log, latency monitor, MONITOR, CLIENT PAUSE, error stats: slowlog.go
	acllog   aclLog // ACL LOG: acllog.go
	lim      limits // request and output limits (conn.go)

	syncs   syncState // SYNC/PSYNC RDB transfers: cmd_sync.go
	tracker tracker   // client-side caching: tracking.go

	hllSparseMax atomic.Int64 // hll-sparse-max-bytes: cmd_hll.go
}

// NewServer returns a server over o.Keyspace.
func NewServer(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Config == nil {
		o.Config = config.New()
	}
	s := &Server{
		ks: o.Keyspace, cfg: o.Config, log: o.Logger, persist: o.Persistence, expiry: o.Expiry, active: o.ActiveExpiry,
		onShut: o.Shutdown, started: time.Now(), clients: map[uint64]*client{}, table: buildTable(),
		conns: map[*loopConn]struct{}{}, done: make(chan struct{}),
	}
	s.initOps()
	s.initIdle()
	s.initPubsub()
	s.initACL()
	s.initACLLog()
	s.initMemory() // maxmemory and eviction: cmd_memory.go
	s.cfg.OnSet("tracking-table-max-keys", func(v string) { s.tracker.maxKeys.Store(s.cfg.Int("tracking-table-max-keys")) })
	s.tracker.maxKeys.Store(s.cfg.Int("tracking-table-max-keys"))
	s.initHLL()
	s.initStreams()
	return s
}

// SetLoading marks the dataset as loading: commands get -LOADING and
// INFO reports loading:1.
func (s *Server) SetLoading(b bool) { s.loading.Store(b) }

// SetPersistence sets the snapshot subsystem; call before Serve.
func (s *Server) SetPersistence(p Persistence) { s.persist = p }

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("resp: server closed")

// Serve accepts connections on ln until Close is called.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.ln = ln
	if n := s.cfg.Int("event-loops"); n >= 0 { // under mu: Close stops them
		if n == 0 {
			n = int64(runtime.GOMAXPROCS(0))
		}
		s.startLoops(int(n))
	}
	s.mu.Unlock()
	s.applyTimeout("")
	s.cfg.OnSet("timeout", s.applyTimeout)
	go s.idleSweeper()
	s.watchLimits()
	err := s.acceptLoop(ln) // loop.go
	if s.isClosed() {
		return ErrServerClosed
	}
	return err
}

// applyTimeout follows CONFIG SET timeout: the next sweep (idle.go)
// applies it to every client, however long it has been idle.
func (s *Server) applyTimeout(string) {
	s.idle.Store(int64(time.Duration(s.cfg.Int("timeout")) * time.Second))
	s.kickIdleSweep()
}

// Close stops accepting, closes every connection, and waits until the
// commands already running and the event loops have finished.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		close(s.done)
	}
	s.closed = true
	s.stopIdleSweep()
	ln, loops := s.ln, s.loops
	conns := make([]*loopConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var err error
	if ln != nil {
		err = ln.Close()
	}
	for _, c := range conns {
		c.fc.Close() // its goroutine's read fails and it cleans up
	}
	stopLoops(loops)
	s.closeMonitors() // detached connections are no longer the loop's
	s.killScripts()   // a script may run without holding the gate (busy)
	s.syncs.wg.Wait() // RDB transfers hold no gate; their next write fails (cmd_sync.go)
	// Wait for in-flight commands: every running command holds a gate shard.
	s.gate.lock()
	s.gate.unlock()
	// And for the loops' goroutines, which may still be between commands:
	// after Close nothing of the server runs (last, since a loop may wait
	// for a gate shard behind a script killed above).
	waitLoops(loops)
	return err
}

// Shutdown closes the server, waiting for in-flight commands or ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) accept(conn redcon.Conn) bool {
	if s.protectedModeDenies(conn.NetConn()) {
		s.rejectedConns.Add(1)
		conn.WriteError(msgProtectedMode)
		return false
	}
	max := s.cfg.Int("maxclients")
	s.mu.Lock()
	if int64(len(s.clients)) >= max {
		s.mu.Unlock()
		s.rejectedConns.Add(1)
		conn.WriteError("ERR max number of clients reached")
		return false
	}
	c := &client{
		id: s.nextID.Add(1), conn: conn, addr: conn.RemoteAddr(), created: time.Now(),
		netConn: conn.NetConn(),
	}
	s.defaultAuth(c)
	if la := conn.NetConn().LocalAddr(); la != nil {
		c.laddr = la.String()
	}
	c.lastCmd.Store(c.created.UnixMilli())
	s.link(conn, c)
	s.clients[c.id] = c
	s.mu.Unlock()
	conn.SetContext(c)
	s.totalConns.Add(1)
	return true
}

func (s *Server) closedConn(conn redcon.Conn, err error) {
	c, _ := conn.Context().(*client)
	if c == nil || c.detached.Load() { // a detached client cleans up itself: monitor.go
		return
	}
	s.ks.Unwatch(&c.watch)
	s.disableTracking(c)
	c.closePubsub()
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
}

// call is one command being executed.
type call struct {
	s    *Server
	c    *client
	r    *reply
	cmd  *command
	args [][]byte
	// inExec: EXEC runs this command and already holds the whole gate.
	inExec bool
	// inScript: a script runs this command and holds the whole gate, as
	// EXEC does; a blocking command does not block (cmd_block.go).
	inScript bool
	// waited is the time a blocking command spent blocked, which is not
	// the command's own (cmd_block.go).
	waited time.Duration
	// nowMs is the command's time (Unix ms), read once: see now.
	nowMs int64
	// oom: memory was full (nothing left to evict) as the command, or the
	// EXEC running it, began (scriptHost.denyOOM).
	oom bool
}

// now is the command's time in Unix ms, by which its arguments' relative
// TTLs and its keys' expiry are judged: the dispatch's own clock reading
// (keyspace.NowMsAt) when nothing waited between it and the command (a
// pause, an eviction, an EXEC or a script holding the gate), else the
// clock's the first time it is asked for.
func (x *call) now() int64 {
	if x.nowMs == 0 {
		x.nowMs = x.s.ks.NowMs()
	}
	return x.nowMs
}

func (s *Server) handle(conn redcon.Conn, args [][]byte) {
	c, _ := conn.Context().(*client)
	if c == nil || c.closing.Load() {
		return
	}
	if !c.busy.Load() { // until the connection waits for input: idle.go
		c.busy.Store(true)
	}
	s.serve(c, c.writer(conn), args)
	s.afterCommand(c, conn)
	if c.closing.Load() {
		c.closeAfterReply() // QUIT or CLIENT KILL of itself: flush the reply, then close
	}
}

// serve runs one command for c, replying on w in c's protocol version.
func (s *Server) serve(c *client, w rawWriter, args [][]byte) {
	if ps := c.ps.Load(); ps != nil {
		s.servePubsub(c, ps, args)
		return
	}
	c.rep = reply{w: w, resp3: c.resp3}
	s.dispatch(c, &c.rep, args)
	if ps := c.ps.Load(); ps != nil {
		// The command made c's outbound queue (SUBSCRIBE, CLIENT
		// TRACKING: subConn), and its reply went there; then the
		// messages that came meanwhile.
		ps.w.Flush()
		c.pushRelease(ps)
	}
}

// dispatch runs one command for c, writing exactly one reply, which
// CLIENT REPLY OFF or SKIP may mute (mute.go).
func (s *Server) dispatch(c *client, r *reply, args [][]byte) {
	var plain rawWriter
	if c.replyOff || c.replySkip {
		plain, r.w = r.w, &muted{w: r.w, c: c}
	}
	s.dispatchCmd(c, r, args)
	if plain != nil {
		r.w = plain
	}
	if c.deferred { // not run: it runs again, off the loop
		return
	}
	if c.track.caching {
		s.trackCommandDone(c, r.cmd) // CLIENT CACHING lasts one command, run or refused
	}
	if plain != nil || c.replySkipNext || c.replyInExec != "" { // a SKIP ends, or begins; EXEC ran CLIENT REPLY
		c.replyDone()
	}
}

func (s *Server) dispatchCmd(c *client, r *reply, args [][]byte) {
	start := time.Now()
	c.lastCmd.Store(start.UnixMilli())
	cmd, errMsg := s.resolve(args)
	if cmd != nil {
		c.lastCmdP.Store(cmd)
	}
	r.cmd = cmd // a rejection below counts against it (fail)
	if errMsg != "" {
		if c.inMulti {
			c.multiErr = true
		}
		s.fail(r, errMsg)
		return
	}
	if cmd.flags&flagProtected != 0 && !s.protectedCommandAllowed(c, cmd) {
		if c.inMulti {
			c.multiErr = true
		}
		s.fail(r, protectedCommandRefused(cmd))
		return
	}
	if !c.authed && cmd.flags&flagNoAuth == 0 {
		s.fail(r, rejectText(cmd, "NOAUTH Authentication required."))
		return
	}
	if c.inMulti && cmd.flags&flagNoMulti != 0 {
		c.multiErr = true
		s.fail(r, "ERR Command not allowed inside a transaction")
		return
	}
	if u := c.aclUser; u == nil || !u.Unrestricted() { // the default user without ACLs: one branch
		if msg := s.aclDenied(c, u, cmd, args); msg != "" {
			if c.inMulti {
				c.multiErr = true
			}
			s.fail(r, rejectText(cmd, msg))
			return
		}
	}
	if !s.pubsubAllowed(c, r, cmd) { // after the ACLs, as Redis's processCommand
		return
	}
	if s.loading.Load() && cmd.flags&flagLoading == 0 {
		s.fail(r, "LOADING Redis is loading the dataset in memory")
		return
	}
	if c.onLoop && s.leavesLoop(c, cmd) {
		c.deferred = true
		return // the event loop hands the connection over to run it
	}
	run, paused := s.waitPause(c, cmd, args)
	if !run {
		return // deferred, as above
	}
	msg, evicted, full := s.memoryCheck(c, cmd, args) // maxmemory: cmd_memory.go
	if msg != "" {
		s.rejectOOM(c, cmd, r, msg)
		return
	}
	if c.inMulti && cmd.flags&flagRunsInMulti == 0 {
		if s.scripts.busy.Load() && s.busyRefused(cmd, args, r) {
			c.multiErr = true
			return
		}
		q := copyArgs(args) // args alias the read buffer
		c.mu.Lock()
		c.queue = append(c.queue, q)
		c.mu.Unlock()
		r.status("QUEUED")
		return
	}
	x := &c.cur
	*x = call{s: s, c: c, r: r, cmd: cmd, args: args, oom: full}
	tracking := s.tracker.active.Load()
	if tracking {
		s.trackBefore(c, cmd, args)
	}
	if cmd.flags&flagOwnGate != 0 {
		cmd.run(x) // takes the gate itself
		if c.deferred {
			return // a blocking command to run again on a goroutine: not a call yet
		}
	} else {
		if !s.gate.rlock(c.id) && !paused && !evicted {
			// Nothing waited since start was read: it is the command's
			// time. Otherwise now reads the clock when first asked.
			x.nowMs = s.ks.NowMsAt(start)
		}
		if !s.scripts.busy.Load() || !s.busyRefused(cmd, args, r) {
			if !c.noTouch || !s.runNoTouch(x) {
				cmd.run(x)
			}
		}
		s.gate.runlock(c.id)
	}
	if tracking || s.tracker.active.Load() {
		s.trackAfter(c, cmd, args)
	}
	s.afterCall(c, cmd, args, r, time.Since(start)-x.waited)
	x.args = nil     // do not keep the read buffer alive
	s.serveBlocked() // those its writes woke, before its next command
}

// fail rejects a command before it runs.
func (s *Server) fail(r *reply, msg string) {
	s.errorReplies.Add(1)
	s.errStats.add(msg)
	s.rejectedCall(r.cmd)
	r.error(msg)
}

// resolve finds the command for args and checks its arity, returning
// Redis's error text when it cannot run.
func (s *Server) resolve(args [][]byte) (*command, string) {
	cmd := s.table.lookup(args[0])
	if cmd == nil {
		return nil, unknownCommand(args)
	}
	if !arityOK(cmd.arity, len(args)) {
		return cmd, msgArity(cmd.name)
	}
	if cmd.subs != nil && len(args) > 1 { // COMMAND alone runs the container itself
		sub := cmd.subs[strings.ToLower(string(args[1]))]
		if sub == nil {
			return nil, "ERR unknown subcommand '" + sanitize(truncate(cstr(args[1]), 128)) + "'. Try " + strings.ToUpper(cmd.name) + " HELP."
		}
		if !arityOK(sub.arity, len(args)) {
			return sub, msgArity(sub.name)
		}
		cmd = sub
	}
	return cmd, ""
}

func arityOK(arity, n int) bool {
	return (arity > 0 && n == arity) || (arity < 0 && n >= -arity)
}

// unknownCommand formats Redis's unknown-command error (server.c).
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	for _, a := range args[1:] {
		if b.Len() >= 128 {
			break
		}
		b.WriteString("'" + truncate(cstr(a), 128-b.Len()) + "' ")
	}
	return "ERR unknown command '" + sanitize(truncate(cstr(args[0]), 128)) + "', with args beginning with: " + sanitize(b.String())
}

// cstr is an argument as Redis's "%s" formats it: a C string, which ends
// at the first NUL byte.
func cstr(b []byte) string { return string(cprefix(b)) }

// cprefix is b as C's string functions see it: up to the first NUL.
func cprefix(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// formatErr is what addReplyErrorFormat makes of a message: CR and LF
// trimmed from both ends, and the ones inside replaced by spaces.
func formatErr(s string) string {
	return sanitize(strings.Trim(s, "\r\n"))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// sanitize replaces newlines, which would break the protocol, as Redis does.
// It works on bytes: arguments need not be UTF-8.
func sanitize(s string) string {
	if strings.IndexAny(s, "\r\n") < 0 {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}

// forEachClient calls fn for every connected client, in id order.
func (s *Server) snapshotClients() []*client {
	s.mu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	slicesSortClients(out)
	return out
}
