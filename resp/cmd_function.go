package resp

import (
	"context"
	"errors"
	"strings"
	"time"

	"sessiond/keyspace"
	"sessiond/luascript"
	"sessiond/snapshot"
)

// Redis 7.0 functions: FUNCTION LOAD, DELETE, FLUSH, LIST, DUMP, RESTORE,
// STATS, KILL, HELP, and FCALL / FCALL_RO. The libraries live in
// luascript.Functions; a function runs as a script does (runScript: the
// gate held exclusively, busy past busy-reply-threshold, killed by
// FUNCTION KILL and not SCRIPT KILL). FLUSHALL keeps them, as Redis does;
// snapshots and rdb-only transfers hold them (Functions, LoadFunction).

func functionCommands() []*command {
	const g = "scripting"
	fcallFlags := flagNoScript | flagStale | flagSkipMonitor | flagNoMandatoryKeys | flagMovableKeys | flagOwnGate
	return []*command{
		{name: "fcall", arity: -3, flags: fcallFlags | flagMayReplicate, group: g, since: "7.0.0", summary: "Invoke a function", run: func(x *call) { x.s.fcall(x, false) }},
		{name: "fcall_ro", arity: -3, flags: fcallFlags | flagReadonly, group: g, since: "7.0.0", summary: "Invoke a read-only function", run: func(x *call) { x.s.fcall(x, true) }},
		{name: "function", arity: -2, group: g, since: "7.0.0", summary: "A container for function commands"},
		{name: "function|delete", arity: 3, flags: flagWrite | flagNoScript, group: g, since: "7.0.0", summary: "Delete a function by name", run: cmdFunctionDelete},
		{name: "function|dump", arity: 2, flags: flagNoScript, group: g, since: "7.0.0", summary: "Dump all functions into a serialized binary payload", run: cmdFunctionDump},
		{name: "function|flush", arity: -2, flags: flagWrite | flagNoScript, group: g, since: "7.0.0", summary: "Deleting all functions", run: cmdFunctionFlush},
		{name: "function|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "7.0.0", summary: "Show helpful text about the different subcommands", run: cmdFunctionHelp},
		{name: "function|kill", arity: 2, flags: flagNoScript | flagAllowBusy, group: g, since: "7.0.0", summary: "Kill the function currently in execution.", run: func(x *call) { x.s.killScript(x, true) }},
		{name: "function|list", arity: -2, flags: flagNoScript, group: g, since: "7.0.0", summary: "List information about all the functions", run: cmdFunctionList},
		{name: "function|load", arity: -3, flags: flagWrite | flagDenyOOM | flagNoScript, group: g, since: "7.0.0", summary: "Create a function with the given arguments (name, code, description)", run: cmdFunctionLoad},
		{name: "function|restore", arity: -3, flags: flagWrite | flagDenyOOM | flagNoScript, group: g, since: "7.0.0", summary: "Restore all the functions on the given payload", run: cmdFunctionRestore},
		{name: "function|stats", arity: 2, flags: flagNoScript | flagAllowBusy, group: g, since: "7.0.0", summary: "Return information about the function currently running (name, description, duration)", run: cmdFunctionStats},
	}
}

func (s *Server) fcall(x *call, ro bool) {
	if s.busyRefused(x.cmd, x.args, x.r) {
		return
	}
	if s.monitors.Load() > 0 { // before the commands it runs, as EVAL
		s.feedMonitors(x.c.db, x.c.addr, x.cmd, x.args)
	}
	fs := s.functions()
	// The function is looked up with the gate held: a FUNCTION LOAD
	// REPLACE, RESTORE or FLUSH that ran while this call waited for it
	// has replaced it by then.
	s.runScript(x, func() (scriptJob, bool) {
		fn := fs.Lookup(string(x.args[1]))
		if fn == nil {
			x.r.error("ERR Function not found")
			return scriptJob{}, false
		}
		numkeys, ok := keyspace.ParseInt(x.args[2])
		switch {
		case !ok:
			x.r.error("ERR Bad number of keys provided")
			return scriptJob{}, false
		case numkeys > int64(len(x.args)-3):
			x.r.error("ERR Number of keys can't be greater than number of args")
			return scriptJob{}, false
		case numkeys < 0:
			x.r.error("ERR Number of keys can't be negative")
			return scriptJob{}, false
		}
		noWrites := fn.Flags&luascript.FlagNoWrites != 0
		if ro && !noWrites {
			x.r.error("ERR Can not execute a script with write flag using *_ro command.")
			return scriptJob{}, false
		}
		keys := x.args[3 : 3+numkeys]
		argv := x.args[3+numkeys:]
		return scriptJob{readOnly: ro || noWrites, allowOOM: fn.Flags&luascript.FlagAllowOOM != 0, function: fn.Name,
			run: func(ctx context.Context, host luascript.Host) luascript.Value {
				return fs.Call(ctx, fn, keys, argv, host)
			}}, true
	})
}

func cmdFunctionLoad(x *call) {
	replace := false
	i := 2
	for ; i < len(x.args)-1; i++ {
		if !strings.EqualFold(string(x.args[i]), "replace") {
			x.r.error("ERR Unknown option given: " + cstr(x.args[i]))
			return
		}
		replace = true
	}
	name, err := x.s.functions().Load(x.args[i], replace, luascript.LoadTimeout)
	if err != nil {
		x.r.error(err.Error())
		return
	}
	x.s.ks.AddDirty(1)
	x.r.bulkString(name)
}

func cmdFunctionDelete(x *call) {
	if !x.s.functions().Delete(string(x.args[2])) {
		x.r.error("ERR Library not found")
		return
	}
	x.s.ks.AddDirty(1)
	x.r.ok()
}

func cmdFunctionFlush(x *call) {
	if len(x.args) > 3 {
		x.subcommandSyntaxError()
		return
	}
	if len(x.args) == 3 && !strings.EqualFold(string(x.args[2]), "sync") && !strings.EqualFold(string(x.args[2]), "async") {
		x.r.error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	x.s.functions().Flush()
	x.s.ks.AddDirty(1)
	x.r.ok()
}

func cmdFunctionList(x *call) {
	withCode := false
	var pattern []byte
	named := false
	for i := 2; i < len(x.args); i++ {
		a := string(x.args[i])
		if !withCode && strings.EqualFold(a, "withcode") {
			withCode = true
			continue
		}
		if !named && strings.EqualFold(a, "libraryname") {
			if i >= len(x.args)-1 {
				x.r.error("ERR library name argument was not given")
				return
			}
			i++
			pattern, named = []byte(strings.ToLower(string(x.args[i]))), true
			continue
		}
		x.r.error("ERR Unknown argument " + cstr(x.args[i]))
		return
	}
	libs := x.s.functions().Libraries()
	if named {
		kept := libs[:0]
		for _, l := range libs {
			if keyspace.Match(pattern, []byte(strings.ToLower(l.Name))) { // stringmatchlen's nocase
				kept = append(kept, l)
			}
		}
		libs = kept
	}
	x.r.array(len(libs))
	for _, l := range libs {
		if withCode {
			x.r.mapLen(4)
		} else {
			x.r.mapLen(3)
		}
		x.r.bulkString("library_name")
		x.r.bulkString(l.Name)
		x.r.bulkString("engine")
		x.r.bulkString(luascript.EngineName)
		x.r.bulkString("functions")
		x.r.array(len(l.Functions))
		for _, f := range l.Functions {
			x.r.mapLen(3)
			x.r.bulkString("name")
			x.r.bulkString(f.Name)
			x.r.bulkString("description")
			if f.HasDesc {
				x.r.bulkString(f.Desc)
			} else {
				x.r.null()
			}
			x.r.bulkString("flags")
			names := f.Flags.Names()
			x.r.setLen(len(names))
			for _, n := range names {
				x.r.status(n)
			}
		}
		if withCode {
			x.r.bulkString("library_code")
			x.r.bulkString(l.Code)
		}
	}
}

// functionCodes returns the libraries' code, by name: what FUNCTION DUMP
// and snapshots hold.
func (s *Server) functionCodes() [][]byte {
	libs := s.functions().Libraries()
	out := make([][]byte, len(libs))
	for i, l := range libs {
		out[i] = []byte(l.Code)
	}
	return out
}

// Functions returns the function libraries' code, for snapshots
// (snapshot.ManagerOptions.Functions).
func (s *Server) Functions() [][]byte { return s.functionCodes() }

// LoadFunction loads a library's code from a snapshot
// (snapshot.LoadOptions.OnFunction): without a load timeout, and failing
// on a name another library has, as Redis's load does.
func (s *Server) LoadFunction(code []byte) error {
	_, err := s.functions().Load(code, false, 0)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "ERR "))
	}
	return nil
}

func cmdFunctionDump(x *call) {
	x.r.bulk(snapshot.DumpFunctions(x.s.functionCodes()))
}

func cmdFunctionRestore(x *call) {
	if len(x.args) > 4 {
		x.subcommandSyntaxError()
		return
	}
	policy := luascript.RestoreAppend
	if len(x.args) == 4 {
		switch strings.ToLower(string(x.args[3])) {
		case "append":
		case "replace":
			policy = luascript.RestoreReplace
		case "flush":
			policy = luascript.RestoreFlush
		default:
			x.r.error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	codes, err := snapshot.ParseFunctionDump(x.args[2])
	if err != nil {
		x.r.error("ERR " + err.Error())
		return
	}
	strs := make([]string, len(codes))
	for i, c := range codes {
		strs[i] = string(c)
	}
	if err := x.s.functions().Restore(strs, policy); err != nil {
		x.r.error(err.Error())
		return
	}
	x.s.ks.AddDirty(1)
	x.r.ok()
}

func cmdFunctionStats(x *call) {
	sc := &x.s.scripts
	sc.mu.Lock()
	run := sc.cur
	var name string
	var args [][]byte
	var start time.Time
	if run != nil {
		name, args, start = run.function, run.args, run.start
	}
	sc.mu.Unlock()
	if run != nil && name == "" {
		x.r.error(msgBusy)
		return
	}
	x.r.mapLen(2)
	x.r.bulkString("running_script")
	if run == nil {
		x.r.null()
	} else {
		x.r.mapLen(3)
		x.r.bulkString("name")
		x.r.bulkString(name)
		x.r.bulkString("command")
		x.r.bulks(args)
		x.r.bulkString("duration_ms")
		x.r.int(time.Since(start).Milliseconds())
	}
	libs, funcs, _ := x.s.functions().Count()
	x.r.bulkString("engines")
	x.r.mapLen(1)
	x.r.bulkString(luascript.EngineName)
	x.r.mapLen(2)
	x.r.bulkString("libraries_count")
	x.r.int(int64(libs))
	x.r.bulkString("functions_count")
	x.r.int(int64(funcs))
}

func cmdFunctionHelp(x *call) {
	lines := []string{
		"FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"LOAD [REPLACE] <FUNCTION CODE>",
		"    Create a new library with the given library name and code.",
		"DELETE <LIBRARY NAME>",
		"    Delete the given library.",
		"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
		"    Return general information on all the libraries:",
		"    * Library name",
		"    * The engine used to run the Library",
		"    * Library description",
		"    * Functions list",
		"    * Library code (if WITHCODE is given)",
		"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
		"STATS",
		"    Return information about the current function running:",
		"    * Function name",
		"    * Command used to run the function",
		"    * Duration in MS that the function is running",
		"    If no function is running, return nil",
		"    In addition, returns a list of available engines.",
		"KILL",
		"    Kill the current running function.",
		"FLUSH [ASYNC|SYNC]",
		"    Delete all the libraries.",
		"    When called without the optional mode argument, the behavior is determined by the",
		"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
		"    * ASYNC: Asynchronously flush the libraries.",
		"    * SYNC: Synchronously flush the libraries.",
		"DUMP",
		"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
		"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
		"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
		"    control how to handle existing libraries (default APPEND):",
		"    * FLUSH: delete all existing libraries.",
		"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
		"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
		"      libraries with the new libraries (notice that even on this option there is a chance of failure",
		"      in case of functions name collision with another library).",
		"HELP",
		"    Prints this help.",
	}
	x.r.array(len(lines))
	for _, l := range lines {
		x.r.status(l)
	}
}
