package resp

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"sessiond/acl"
	"sessiond/luascript"
)

// Scripting (EVAL and friends; FCALL runs its functions the same way,
// through runScript: cmd_function.go).
//
// Atomicity: a script runs with the gate held exclusively, as EXEC does, so
// no other command interleaves with it; the commands it calls run directly,
// without taking the gate again. When a script has run longer than
// busy-reply-threshold it becomes "busy": it sets scripting.busy and then
// releases the gate, so that clients waiting on the gate wake up. Every
// command checks the busy flag after taking the gate and, unless it is
// allowed while busy (SCRIPT KILL, SHUTDOWN NOSAVE, MULTI, AUTH...),
// replies -BUSY instead of running. The flag therefore keeps the script
// atomic after the gate is released; it is cleared only once the script
// has finished.

const (
	msgBusy         = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	msgBusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
	msgNoScript     = "NOSCRIPT No matching script. Please use EVAL."
	msgNotBusy      = "NOTBUSY No scripts in execution right now."
	msgUnkillable   = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
)

// scripting is the server's scripting state.
type scripting struct {
	once sync.Once
	eng  luascript.Engine
	fns  luascript.Functions // FUNCTION and FCALL: cmd_function.go
	busy atomic.Bool         // a script has run past busy-reply-threshold and released the gate

	mu  sync.Mutex
	cur *scriptRun // the script running, if any
}

// scriptRun is one script execution.
type scriptRun struct {
	cancel   context.CancelFunc
	wrote    atomic.Bool // it called a write command: SCRIPT KILL refuses
	timer    *time.Timer
	finished bool // guarded by scripting.mu, as is released
	released bool // it went busy and gave up the gate
	done     chan struct{}
	function string    // the function's name (FCALL); "" for a script (EVAL)
	args     [][]byte  // FCALL's command, for FUNCTION STATS
	start    time.Time // for FUNCTION STATS
}

func (s *Server) engine() *luascript.Engine {
	s.scripts.once.Do(s.initScripting)
	return &s.scripts.eng
}

// functions returns the function libraries (cmd_function.go).
func (s *Server) functions() *luascript.Functions {
	s.scripts.once.Do(s.initScripting)
	return &s.scripts.fns
}

func (s *Server) initScripting() {
	s.scripts.eng.Version = Version
	s.scripts.fns.Version = Version
	s.scripts.fns.Log = func(level int, msg string) { scriptLog(s, level, msg) }
}

func scriptCommands() []*command {
	const g = "scripting"
	evalFlags := flagNoScript | flagStale | flagSkipMonitor | flagNoMandatoryKeys | flagMovableKeys | flagOwnGate
	return []*command{
		{name: "eval", arity: -3, flags: evalFlags | flagMayReplicate, group: g, since: "2.6.0", summary: "Execute a Lua script server side", run: func(x *call) { x.s.eval(x, false, false) }},
		{name: "evalsha", arity: -3, flags: evalFlags | flagMayReplicate, group: g, since: "2.6.0", summary: "Execute a Lua script server side", run: func(x *call) { x.s.eval(x, true, false) }},
		{name: "eval_ro", arity: -3, flags: evalFlags | flagReadonly, group: g, since: "7.0.0", summary: "Execute a read-only Lua script server side", run: func(x *call) { x.s.eval(x, false, true) }},
		{name: "evalsha_ro", arity: -3, flags: evalFlags | flagReadonly, group: g, since: "7.0.0", summary: "Execute a read-only Lua script server side", run: func(x *call) { x.s.eval(x, true, true) }},
		{name: "script", arity: -2, group: g, since: "2.6.0", summary: "A container for Lua scripts management commands"},
		{name: "script|debug", arity: 3, flags: flagNoScript, group: g, since: "3.2.0", summary: "Set the debug mode for executed scripts.", run: cmdScriptDebug},
		{name: "script|exists", arity: -3, flags: flagNoScript, group: g, since: "2.6.0", summary: "Check existence of scripts in the script cache.", run: cmdScriptExists},
		{name: "script|flush", arity: -2, flags: flagNoScript, group: g, since: "2.6.0", summary: "Remove all the scripts from the script cache.", run: cmdScriptFlush},
		{name: "script|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdScriptHelp},
		{name: "script|kill", arity: 2, flags: flagNoScript | flagAllowBusy, group: g, since: "2.6.0", summary: "Kill the script currently in execution.", run: cmdScriptKill},
		{name: "script|load", arity: 3, flags: flagNoScript | flagStale, group: g, since: "2.6.0", summary: "Load the specified Lua script into the script cache.", run: cmdScriptLoad},
	}
}

// busyRefused reports whether cmd must be refused because a script is
// busy, replying -BUSY if so. Callers hold the gate (or are queueing in
// MULTI), so the flag cannot be set behind their back while they run.
func (s *Server) busyRefused(cmd *command, args [][]byte, r *reply) bool {
	if !s.scripts.busy.Load() {
		return false
	}
	if cmd.flags&flagAllowBusy != 0 {
		if cmd.name != "shutdown" {
			return false
		}
		for _, a := range args[1:] { // only SHUTDOWN NOSAVE may stop a busy script
			if strings.EqualFold(string(a), "nosave") {
				return false
			}
		}
	}
	s.fail(r, s.busyText())
	return true
}

// busyText is -BUSY's text: it names the command that kills what runs.
func (s *Server) busyText() string {
	s.scripts.mu.Lock()
	defer s.scripts.mu.Unlock()
	if s.scripts.cur != nil && s.scripts.cur.function != "" {
		return msgBusyFunction
	}
	return msgBusy
}

// scriptDone is closed when the script running now ends (at once if none
// runs): a blocked client woken while a script is busy is served after it
// (cmd_block.go).
func (s *Server) scriptDone() <-chan struct{} {
	s.scripts.mu.Lock()
	defer s.scripts.mu.Unlock()
	if s.scripts.cur == nil {
		return closedChan
	}
	return s.scripts.cur.done
}

// closedChan is a channel that is closed.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// lockExclusive takes the whole gate for x (EXEC, EVAL). It returns false,
// having replied -BUSY and released the gate, while a script is busy.
func (s *Server) lockExclusive(x *call) bool {
	s.gate.lock()
	if s.busyRefused(x.cmd, x.args, x.r) {
		s.gate.unlock()
		return false
	}
	return true
}

func (s *Server) eval(x *call, bySHA, ro bool) {
	if s.busyRefused(x.cmd, x.args, x.r) { // before parsing: Redis refuses first
		return
	}
	if s.monitors.Load() > 0 { // as it starts, errors and all, before the commands it runs
		s.feedMonitors(x.c.db, x.c.addr, x.cmd, x.args)
	}
	if bySHA && len(x.args[1]) != 40 { // evalShaCommand: before numkeys
		x.r.error(msgNoScript)
		return
	}
	numkeys, ok := x.intArg(2)
	if !ok {
		return
	}
	if numkeys > int64(len(x.args)-3) {
		x.r.error("ERR Number of keys can't be greater than number of args")
		return
	}
	if numkeys < 0 {
		x.r.error("ERR Number of keys can't be negative")
		return
	}
	eng := s.engine()
	var sc *luascript.Script
	if bySHA {
		if sc = eng.Lookup(string(x.args[1])); sc == nil {
			x.r.error(msgNoScript)
			return
		}
	} else {
		var err error
		if sc, err = eng.Load(x.args[1]); err != nil {
			x.r.error(err.Error())
			return
		}
	}
	if ro && sc.Shebang && !sc.NoWrites {
		x.r.error("ERR Can not execute a script with write flag using *_ro command.")
		return
	}
	keys := x.args[3 : 3+numkeys]
	argv := x.args[3+numkeys:]
	s.runScript(x, func() (scriptJob, bool) {
		return scriptJob{readOnly: ro || sc.NoWrites, allowOOM: sc.Shebang && sc.AllowOOM, run: func(ctx context.Context, host luascript.Host) luascript.Value {
			return eng.Run(ctx, sc, keys, argv, host)
		}}, true
	})
}

// declaredFlags is what an EVAL, EVALSHA or FCALL (or its _RO form) with
// args declares, as Redis's evalGetCommandFlags and fcallGetCommandFlags
// read it: ok is false for a script without a "#!lua" line, an EVALSHA of
// a script not cached and an FCALL of a function not loaded, which keep
// the command's own flags. CLIENT PAUSE WRITE and maxmemory judge the
// command by these flags.
func (s *Server) declaredFlags(cmd *command, args [][]byte) (noWrites, allowOOM, ok bool) {
	if len(args) < 2 {
		return false, false, false
	}
	switch cmd.name {
	case "eval", "eval_ro":
		if sc, ok := luascript.Declared(args[1]); ok {
			return sc.NoWrites, sc.AllowOOM, true
		}
	case "evalsha", "evalsha_ro":
		if sc := s.engine().Lookup(string(args[1])); sc != nil && sc.Shebang { // any case
			return sc.NoWrites, sc.AllowOOM, true
		}
	case "fcall", "fcall_ro":
		if fn := s.functions().Lookup(string(args[1])); fn != nil {
			return fn.Flags&luascript.FlagNoWrites != 0, fn.Flags&luascript.FlagAllowOOM != 0, true
		}
	}
	return false, false, false
}

// scriptJob is what runScript runs: run, refusing writes from it if
// readOnly; function is the function's name ("" for a script), allowOOM
// its allow-oom flag.
type scriptJob struct {
	readOnly bool
	allowOOM bool
	function string
	run      func(context.Context, luascript.Host) luascript.Value
}

// runScript runs a script or function for x, atomically, with the busy
// and kill machinery. prepare makes the job once the gate is held, so what
// it looks up (FCALL's function) cannot change before it runs; it replies
// and returns false when there is nothing to run.
func (s *Server) runScript(x *call, prepare func() (scriptJob, bool)) {
	// Inside EXEC the gate is already held, and stays held until EXEC ends:
	// such a script never goes busy, and the time is already frozen at the
	// EXEC's start, as in Redis 7.2. Otherwise the script's keys expire as
	// of its own start (keyspace.Freeze).
	if !x.inExec {
		if !s.lockExclusive(x) {
			return
		}
	}
	job, ok := prepare()
	if !ok {
		if !x.inExec {
			s.gate.unlock()
		}
		return
	}
	readOnly, function, fn := job.readOnly, job.function, job.run
	if !x.inExec {
		s.ks.Freeze(x.now())
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &scriptRun{cancel: cancel, done: make(chan struct{}), function: function, start: time.Now()}
	if function != "" {
		run.args = copyArgs(x.args)
	}
	s.scripts.mu.Lock()
	s.scripts.cur = run
	if ms := s.cfg.Int("busy-reply-threshold"); ms > 0 && !x.inExec {
		run.timer = time.AfterFunc(time.Duration(ms)*time.Millisecond, func() { s.scriptBusy(run) })
	}
	s.scripts.mu.Unlock()

	host := &scriptHost{s: s, run: run, readOnly: readOnly, denyOOM: x.oom && !job.allowOOM, caller: x.c,
		c: &client{id: x.c.id, db: x.c.db, authed: true, user: x.c.user, aclUser: x.c.aclUser, addr: x.c.addr, laddr: x.c.laddr, created: x.c.created}}
	v := fn(ctx, host)
	if !x.inExec {
		s.ks.Thaw() // before the gate is released below
	}

	s.scripts.mu.Lock()
	run.finished = true
	if run.timer != nil {
		run.timer.Stop()
	}
	s.scripts.cur = nil
	if run.released {
		s.scripts.busy.Store(false)
	} else if !x.inExec {
		s.gate.unlock()
	}
	close(run.done)
	s.scripts.mu.Unlock()
	cancel()
	writeValue(x.r, v)
}

// scriptBusy runs when run has taken longer than busy-reply-threshold.
func (s *Server) scriptBusy(run *scriptRun) {
	s.scripts.mu.Lock()
	defer s.scripts.mu.Unlock()
	if run.finished || run.released {
		return
	}
	s.log.Warn("Slow script detected: still in execution after the busy-reply-threshold; other clients get -BUSY")
	s.scripts.busy.Store(true) // before the unlock: whoever takes the gate next sees it
	run.released = true
	s.gate.unlock()
}

// killScripts stops a running script, whatever it wrote, and waits for it
// (SHUTDOWN, Close).
func (s *Server) killScripts() {
	s.scripts.mu.Lock()
	run := s.scripts.cur
	s.scripts.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

func cmdScriptKill(x *call) { x.s.killScript(x, false) }

// killScript is SCRIPT KILL and FUNCTION KILL (function): each kills only
// its own kind, as Redis's scriptKill.
func (s *Server) killScript(x *call, function bool) {
	sc := &s.scripts
	sc.mu.Lock()
	defer sc.mu.Unlock()
	switch {
	case sc.cur == nil:
		x.r.error(msgNotBusy)
	case sc.cur.wrote.Load():
		x.r.error(msgUnkillable)
	case !function && sc.cur.function != "":
		x.r.error(msgBusyFunction)
	case function && sc.cur.function == "":
		x.r.error(msgBusy)
	default:
		sc.cur.cancel()
		x.r.ok()
	}
}

func cmdScriptLoad(x *call) {
	sc, err := x.s.engine().Load(x.args[2])
	if err != nil {
		x.r.error(err.Error())
		return
	}
	x.r.bulkString(sc.SHA)
}

func cmdScriptExists(x *call) {
	eng := x.s.engine()
	x.r.array(len(x.args) - 2)
	for _, a := range x.args[2:] {
		x.r.boolInt(eng.Exists(string(a)))
	}
}

func cmdScriptFlush(x *call) {
	if len(x.args) == 3 && !strings.EqualFold(string(x.args[2]), "sync") && !strings.EqualFold(string(x.args[2]), "async") || len(x.args) > 3 {
		x.r.error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	x.s.engine().Flush()
	x.r.ok()
}

// cmdScriptDebug: there is no Lua debugger; NO (the default) is accepted.
func cmdScriptDebug(x *call) {
	switch strings.ToLower(string(x.args[2])) {
	case "no":
		x.r.ok()
	case "yes", "sync":
		x.r.error("ERR SCRIPT DEBUG is not supported: sessiond has no Lua debugger")
	default:
		x.r.error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

func cmdScriptHelp(x *call) {
	lines := []string{
		"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DEBUG (YES|SYNC|NO)", "    Set the debug mode for subsequent scripts executed.",
		"EXISTS <sha1> [<sha1> ...]", "    Return information about the existence of the scripts in the script cache.",
		"FLUSH [ASYNC|SYNC]", "    Flush the Lua scripts cache. Very dangerous on replicas.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the scripts cache.",
		"    * SYNC: Synchronously flush the scripts cache.",
		"KILL", "    Kill the currently executing Lua script.",
		"LOAD <script>", "    Load a script into the scripts cache without executing it.",
		"HELP", "    Prints this help.",
	}
	x.r.array(len(lines))
	for _, l := range lines {
		x.r.status(l)
	}
}

// scriptHost runs the commands a script calls, as Redis's scriptCall
// does, on a pseudo-client that starts in the caller's database (SELECT in
// a script does not change the caller's).
type scriptHost struct {
	s        *Server
	run      *scriptRun
	c        *client
	caller   *client // the client that ran the script
	readOnly bool
	// denyOOM: memory was full as the script's command began, so its first
	// write of a command that may grow memory is refused (script.c's
	// scriptVerifyOOM); after a write it cannot stop halfway.
	denyOOM bool
	out     captureWriter
}

func (h *scriptHost) Call(args [][]byte, resp3 bool) luascript.Value {
	s := h.s
	cmd := s.table.lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) > 1 {
		cmd = cmd.subs[strings.ToLower(string(args[1]))]
	}
	switch {
	case cmd == nil:
		return luascript.ErrorValue("ERR Unknown Redis command called from script")
	case !arityOK(cmd.arity, len(args)):
		return luascript.ErrorValue("ERR Wrong number of args calling Redis command from script")
	case cmd.flags&flagNoScript != 0 || cmd.run == nil:
		return luascript.ErrorValue("ERR This Redis command is not allowed from script")
	case h.readOnly && cmd.flags&flagWrite != 0:
		return luascript.ErrorValue("ERR Write commands are not allowed from read-only scripts.")
	}
	if u := h.c.aclUser; u != nil && !u.Unrestricted() { // as the caller (script.c scriptVerifyACL)
		d, pos := u.Check(cmd.acl, args)
		if d != acl.Allowed {
			s.logACLDenial(h.caller, u, logLua, d, pos, cmd, args)
		}
		switch d {
		case acl.DeniedCommand:
			return luascript.ErrorValue("ERR The user executing the script can't run this command or subcommand")
		case acl.DeniedKey:
			return luascript.ErrorValue("ERR The user executing the script can't access at least one of the keys mentioned in the command arguments")
		case acl.DeniedChannel:
			return luascript.ErrorValue("ERR The user executing the script can't publish to the channel mentioned in the command")
		}
	}
	if h.denyOOM && cmd.flags&flagDenyOOM != 0 && !h.run.wrote.Load() {
		return luascript.ErrorValue(msgOOM)
	}
	if cmd.flags&flagWrite != 0 {
		h.run.wrote.Store(true)
	}
	s.totalCmds.Add(1)
	h.out.b = h.out.b[:0]
	h.c.resp3 = resp3
	r := reply{w: &h.out, resp3: resp3}
	// The keys are the caller's, as Redis's script_caller.
	s.runTracked(h.caller, &call{s: s, c: h.c, r: &r, cmd: cmd, args: args, inScript: true})
	if s.monitors.Load() > 0 {
		s.feedMonitors(h.c.db, "lua", cmd, args)
	}
	v, err := luascript.ParseReply(h.out.b)
	if err != nil {
		return luascript.ErrorValue("ERR " + err.Error())
	}
	return v
}

func (h *scriptHost) Log(level int, msg string) { scriptLog(h.s, level, msg) }

// scriptLog is redis.log.
func scriptLog(s *Server, level int, msg string) {
	lv := slog.LevelDebug
	switch level {
	case 2:
		lv = slog.LevelInfo
	case 3:
		lv = slog.LevelWarn
	}
	s.log.Log(context.Background(), lv, msg, "source", "script")
}

// captureWriter collects a reply's bytes (rawWriter).
type captureWriter struct{ b []byte }

func (w *captureWriter) WriteString(s string)     { w.b = redcon.AppendString(w.b, s) }
func (w *captureWriter) WriteBulk(b []byte)       { w.b = redcon.AppendBulk(w.b, b) }
func (w *captureWriter) WriteBulkString(s string) { w.b = redcon.AppendBulkString(w.b, s) }
func (w *captureWriter) WriteInt64(n int64)       { w.b = redcon.AppendInt(w.b, n) }
func (w *captureWriter) WriteError(msg string)    { w.b = redcon.AppendError(w.b, msg) }
func (w *captureWriter) WriteArray(n int)         { w.b = redcon.AppendArray(w.b, n) }
func (w *captureWriter) WriteNull()               { w.b = redcon.AppendNull(w.b) }
func (w *captureWriter) WriteRaw(b []byte)        { w.b = append(w.b, b...) }

// writeValue writes a script's reply in the caller's protocol.
func writeValue(r *reply, v luascript.Value) {
	switch v.Kind {
	case luascript.Status:
		r.status(sanitize(v.Str))
	case luascript.Error:
		r.error(sanitize(v.Str))
	case luascript.Int:
		r.int(v.Int)
	case luascript.Bulk:
		r.bulkString(v.Str)
	case luascript.Nil, luascript.Null:
		r.null()
	case luascript.Array:
		r.array(len(v.Elems))
		for _, e := range v.Elems {
			writeValue(r, e)
		}
	case luascript.Map:
		r.mapLen(len(v.Elems) / 2)
		for _, e := range v.Elems {
			writeValue(r, e)
		}
	case luascript.Set:
		r.setLen(len(v.Elems))
		for _, e := range v.Elems {
			writeValue(r, e)
		}
	case luascript.Double:
		r.double(v.Float)
	case luascript.Bool:
		if !r.resp3 {
			r.int(v.Int)
		} else if v.Int != 0 {
			r.w.WriteRaw([]byte("#t\r\n"))
		} else {
			r.w.WriteRaw([]byte("#f\r\n"))
		}
	case luascript.BigNumber:
		if r.resp3 {
			r.w.WriteRaw([]byte("(" + sanitize(v.Str) + "\r\n"))
		} else {
			r.bulkString(v.Str)
		}
	case luascript.Verbatim:
		if r.resp3 {
			r.w.WriteRaw([]byte("=" + itoa(len(v.Str)+4) + "\r\n" + v.Format + ":" + v.Str + "\r\n"))
		} else {
			r.bulkString(v.Str)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
