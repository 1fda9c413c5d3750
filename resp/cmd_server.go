package resp

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"sessiond/acl"
	"sessiond/config"
	"sessiond/keyspace"
)

func serverCommands() []*command {
	const g = "server"
	return []*command{
		{name: "info", arity: -1, flags: flagLoading | flagStale, group: g, since: "1.0.0", summary: "Get information and statistics about the server", run: cmdInfo},
		{name: "role", arity: 1, flags: flagNoScript | flagLoading | flagStale | flagFast, group: g, since: "2.8.12", summary: "Return the role of the instance in the context of replication", run: cmdRole},
		{name: "time", arity: 1, flags: flagLoading | flagStale | flagFast, group: g, since: "2.6.0", summary: "Return the current server time", run: cmdTime},
		{name: "save", arity: 1, flags: flagAdmin | flagNoScript | flagNoAsyncLoading | flagNoMulti, group: g, since: "1.0.0", summary: "Synchronously save the dataset to disk", run: cmdSave},
		{name: "bgsave", arity: -1, flags: flagAdmin | flagNoScript | flagNoAsyncLoading, group: g, since: "1.0.0", summary: "Asynchronously save the dataset to disk", run: cmdBgsave},
		{name: "lastsave", arity: 1, flags: flagLoading | flagStale | flagFast, group: g, since: "1.0.0", summary: "Get the UNIX time stamp of the last successful save to disk", run: cmdLastsave},
		{name: "shutdown", arity: -1, flags: flagAdmin | flagNoScript | flagLoading | flagStale | flagNoMulti | flagAllowBusy, group: g, since: "1.0.0", summary: "Synchronously save the dataset to disk and then shut down the server", run: cmdShutdown},
		{name: "readonly", arity: 1, flags: flagFast | flagLoading | flagStale, group: "cluster", since: "3.0.0", summary: "Enables read queries for a connection to a cluster replica node", run: cmdClusterDisabled},
		{name: "readwrite", arity: 1, flags: flagFast | flagLoading | flagStale, group: "cluster", since: "3.0.0", summary: "Disables read queries for a connection to a cluster replica node", run: cmdClusterDisabled},
		{name: "config", arity: -2, group: g, since: "2.0.0", summary: "A container for server configuration commands"},
		{name: "config|get", arity: -3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.0.0", summary: "Get the values of configuration parameters", run: cmdConfigGet},
		{name: "config|set", arity: -4, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.0.0", summary: "Set configuration parameters to the given values", run: cmdConfigSet},
		{name: "config|resetstat", arity: 2, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.0.0", summary: "Reset the stats returned by INFO", run: cmdConfigResetstat},
		{name: "config|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdConfigHelp},
		{name: "command", arity: -1, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Get array of Redis command details", run: cmdCommand},
		{name: "command|count", arity: 2, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Get total number of Redis commands", run: cmdCommandCount},
		{name: "command|list", arity: -2, flags: flagLoading | flagStale, group: g, since: "7.0.0", summary: "Get an array of Redis command names", run: cmdCommandList},
		{name: "command|info", arity: -2, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Get array of specific Redis command details, or all when no argument is given.", run: cmdCommandInfo},
		{name: "command|docs", arity: -2, flags: flagLoading | flagStale, group: g, since: "7.0.0", summary: "Get array of specific Redis command documentation", run: cmdCommandDocs},
		{name: "command|getkeys", arity: -4, flags: flagLoading | flagStale, group: g, since: "2.8.13", summary: "Extract keys given a full Redis command", run: cmdCommandGetkeys},
		{name: "command|getkeysandflags", arity: -4, flags: flagLoading | flagStale, group: g, since: "7.0.0", summary: "Extract keys and access flags given a full Redis command", run: cmdCommandGetkeys},
		{name: "command|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdCommandHelp},
	}
}

func cmdTime(x *call) {
	now := time.Now()
	x.r.array(2)
	x.r.bulkString(strconv.FormatInt(now.Unix(), 10))
	x.r.bulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

func cmdSave(x *call) {
	if x.s.persist == nil {
		x.r.error("ERR snapshots are not configured")
		return
	}
	if err := x.s.persist.Save(); err != nil {
		x.r.error("ERR " + err.Error())
		return
	}
	x.r.ok()
}

func cmdBgsave(x *call) {
	if len(x.args) > 2 || (len(x.args) == 2 && strings.ToLower(string(x.args[1])) != "schedule") {
		x.r.error(msgSyntax)
		return
	}
	if x.s.persist == nil {
		x.r.error("ERR snapshots are not configured")
		return
	}
	if err := x.s.persist.BGSave(); err != nil {
		x.r.error("ERR " + err.Error())
		return
	}
	x.r.status("Background saving started")
}

// cmdRole is ROLE: sessiond is always a master without replicas, which
// health checks and Sentinel-aware clients read as such.
func cmdRole(x *call) {
	x.r.array(3)
	x.r.bulkString("master")
	x.r.int(0) // replication offset
	x.r.array(0)
}

func cmdLastsave(x *call) {
	if x.s.persist == nil {
		x.r.int(x.s.started.Unix())
		return
	}
	x.r.int(x.s.persist.LastSave())
}

// cmdShutdown is SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. sessiond
// has no replicas to wait for, so a shutdown is never in progress for
// ABORT to stop, and NOW and FORCE change nothing: the final save runs
// after the server has closed its connections (Options.Shutdown), and the
// process ends whether or not it succeeds.
func cmdShutdown(x *call) {
	mode := ""
	others, abort := false, false
	for _, a := range x.args[1:] {
		switch o := strings.ToLower(string(a)); o {
		case "save", "nosave":
			if mode != "" && mode != o {
				x.r.error(msgSyntax) // both
				return
			}
			mode, others = o, true
		case "now", "force":
			others = true
		case "abort":
			abort = true
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	if abort {
		if others {
			x.r.error(msgSyntax)
		} else {
			x.r.error("ERR No shutdown in progress.")
		}
		return
	}
	if x.s.onShut == nil {
		x.r.error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	if err := x.s.onShut(mode); err != nil {
		x.r.error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	// Like Redis, a successful SHUTDOWN closes the connection with no reply.
	x.c.closing.Store(true)
	x.c.netConn.Close()
}

// cmdConfigGet is CONFIG GET pattern [pattern ...]. As in Redis, a
// pattern without glob characters names one parameter and the reply names
// it as it was typed; a glob matches names in any case and the reply
// gives them in lower case. Each parameter is given once.
func cmdConfigGet(x *call) {
	host, port := splitAddr(x.s.cfg.Get("addr"))
	value := func(name string) string {
		switch name { // derived from addr
		case "bind":
			return host
		case "port":
			return port
		}
		return x.s.cfg.Get(name)
	}
	names := make([]string, 0, len(config.Params)+2)
	for _, p := range config.Params {
		names = append(names, p.Name)
	}
	names = append(names, "bind", "port")
	var out []string
	seen := map[string]bool{}
	for _, pat := range x.args[2:] {
		lower := strings.ToLower(string(pat))
		if !strings.ContainsAny(lower, "*?[") {
			if slices.Contains(names, lower) && !seen[lower] {
				seen[lower] = true
				out = append(out, string(pat), value(lower))
			}
			continue
		}
		for _, n := range names {
			if !seen[n] && keyspace.Match([]byte(lower), []byte(n)) {
				seen[n] = true
				out = append(out, n, value(n))
			}
		}
	}
	x.r.mapLen(len(out) / 2)
	for _, s := range out {
		x.r.bulkString(s)
	}
}

func splitAddr(a string) (string, string) {
	i := strings.LastIndexByte(a, ':')
	if i < 0 {
		return a, ""
	}
	return strings.Trim(a[:i], "[]"), a[i+1:]
}

func cmdConfigSet(x *call) {
	if len(x.args)%2 != 0 {
		x.r.error(msgArity("config|set"))
		return
	}
	// Validate every pair first, so that a bad one changes nothing: the
	// names, then the values, as Redis orders its checks. Errors about a
	// name quote it as typed; errors about a value name the parameter.
	seen := map[string]bool{}
	params := make([]config.Param, 0, len(x.args)/2)
	for j := 2; j < len(x.args); j += 2 {
		typed := sanitize(string(x.args[j]))
		p, ok := config.Lookup(string(x.args[j])) // any case
		switch {
		case !ok:
			x.r.error("ERR Unknown option or number of arguments for CONFIG SET - '" + typed + "'")
			return
		case !p.Mutable:
			x.r.error("ERR CONFIG SET failed (possibly related to argument '" + typed + "') - can't set immutable config")
			return
		case p.Protected && !x.protectedAllowed():
			x.r.error("ERR CONFIG SET failed (possibly related to argument '" + typed + "') - can't set protected config")
			return
		case seen[p.Name]:
			x.r.error("ERR CONFIG SET failed (possibly related to argument '" + typed + "') - duplicate parameter")
			return
		}
		seen[p.Name] = true
		params = append(params, p)
	}
	for i, p := range params {
		if _, err := p.Check(string(x.args[3+2*i])); err != nil {
			x.r.error("ERR CONFIG SET failed (possibly related to argument '" + p.Name + "') - " + err.Error())
			return
		}
	}
	for j := 2; j < len(x.args); j += 2 {
		if err := x.s.cfg.SetRuntime(string(x.args[j]), string(x.args[j+1])); err != nil {
			x.r.error("ERR CONFIG SET failed - " + err.Error())
			return
		}
	}
	x.r.ok()
}

// protectedAllowed reports whether this client may set a protected
// parameter (enable-protected-configs).
func (x *call) protectedAllowed() bool {
	return x.s.allowProtected("enable-protected-configs", x.c)
}

// allowProtected is Redis's allowProtectedAction: whether c may do what
// the parameter param (enable-protected-configs, enable-debug-command or
// enable-module-command) guards: yes, or local and c connects from
// 127.0.0.1, ::1 or a Unix socket, as Redis's islocalClient.
func (s *Server) allowProtected(param string, c *client) bool {
	switch s.cfg.Get(param) {
	case "yes":
		return true
	case "local":
		return isLocalClient(c.netConn.RemoteAddr())
	}
	return false
}

func cmdConfigHelp(x *call) {
	x.help("CONFIG",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
	)
}

// cmdCommandHelp is Redis's COMMAND HELP.
func cmdCommandHelp(x *call) {
	x.help("COMMAND",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
	)
}

// cmdCommandGetkeys answers COMMAND GETKEYS and GETKEYSANDFLAGS <command
// args...>: the command's key arguments as its key specs find them (the
// ACL check's finder), with Redis's errors and order of checks.
func cmdCommandGetkeys(x *call) {
	args := x.args[2:]
	cmd := x.s.table.lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) > 1 {
		cmd = cmd.subs[strings.ToLower(string(args[1]))]
	}
	switch {
	case cmd == nil:
		x.r.error("ERR Invalid command specified")
		return
	case cmd.acl == nil || !cmd.acl.HasKeys():
		x.r.error("ERR The command has no key arguments")
		return
	case !arityOK(cmd.arity, len(args)):
		x.r.error("ERR Invalid number of arguments specified for command")
		return
	}
	keys := acl.Keys(cmd.acl, args)
	if len(keys) == 0 {
		if cmd.flags&flagNoMandatoryKeys != 0 {
			x.r.array(0)
		} else {
			x.r.error("ERR Invalid arguments specified for command")
		}
		return
	}
	withFlags := x.cmd.name == "command|getkeysandflags"
	x.r.array(len(keys))
	for _, k := range keys {
		if !withFlags {
			x.r.bulk(args[k.Pos])
			continue
		}
		x.r.array(2)
		x.r.bulk(args[k.Pos])
		names := k.Flags.Names()
		x.r.setLen(len(names))
		for _, n := range names {
			x.r.status(n)
		}
	}
}

func cmdConfigResetstat(x *call) {
	x.s.ks.ResetStats()
	x.s.totalCmds.Store(0)
	x.s.resetCommandStats()
	x.s.totalConns.Store(0)
	x.s.rejectedConns.Store(0)
	x.s.errorReplies.Store(0)
	x.s.syncs.full.Store(0)
	x.r.ok()
}

// infoSections lists INFO's sections in Redis's order; default ones are
// those INFO without arguments prints.
var infoSections = []struct {
	name string
	def  bool
}{
	{"server", true}, {"clients", true}, {"memory", true}, {"persistence", true}, {"stats", true},
	{"replication", true}, {"cpu", true}, {"modules", true}, {"commandstats", false}, {"errorstats", true},
	{"latencystats", false}, {"cluster", true}, {"keyspace", true},
}

func cmdInfo(x *call) {
	want := map[string]bool{}
	def := len(x.args) == 1
	all := false
	for _, a := range x.args[1:] {
		switch s := strings.ToLower(string(a)); s {
		case "all", "everything":
			all = true
		case "default":
			def = true
		default:
			want[s] = true
		}
	}
	var b strings.Builder
	n := 0
	for _, sec := range infoSections {
		if !all && !(def && sec.def) && !want[sec.name] {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		x.s.writeInfoSection(&b, sec.name, x.c)
	}
	x.r.verbatim(b.String())
}

func (s *Server) writeInfoSection(b *strings.Builder, name string, c *client) {
	defer s.infoExtras(b, name, b.Len()) // fields Redis has that sessiond only reports: info_extra.go
	f := func(k string, v any) { fmt.Fprintf(b, "%s:%v\r\n", k, v) }
	now := time.Now()
	switch name {
	case "server":
		b.WriteString("# Server\r\n")
		host, port := splitAddr(s.cfg.Get("addr"))
		_ = host
		exe, _ := os.Executable()
		f("redis_version", Version)
		f("sessiond_version", ServerVersion)
		f("redis_git_sha1", "00000000")
		f("redis_git_dirty", 0)
		f("redis_build_id", "0")
		f("redis_mode", "standalone")
		f("os", runtime.GOOS+" "+runtime.GOARCH)
		f("arch_bits", 64)
		f("monotonic_clock", "POSIX clock_gettime")
		f("multiplexing_api", "epoll")
		f("go_version", runtime.Version())
		f("process_id", os.Getpid())
		f("process_supervised", "no")
		f("run_id", runID)
		f("tcp_port", port)
		f("server_time_usec", now.UnixMicro())
		f("uptime_in_seconds", int64(now.Sub(s.started).Seconds()))
		f("uptime_in_days", int64(now.Sub(s.started).Hours()/24))
		f("hz", s.cfg.Get("hz"))
		f("configured_hz", s.cfg.Get("hz"))
		f("lru_clock", now.Unix()&(1<<24-1))
		f("executable", exe)
		f("config_file", s.cfg.File())
		f("io_threads_active", 0)
	case "clients":
		s.mu.Lock()
		nc := len(s.clients)
		s.mu.Unlock()
		b.WriteString("# Clients\r\n")
		f("connected_clients", nc)
		f("cluster_connections", 0)
		f("maxclients", s.cfg.Get("maxclients"))
		f("client_recent_max_input_buffer", 0)
		f("client_recent_max_output_buffer", 0)
		f("blocked_clients", s.ks.BlockedClients())
		tc, _, _, _ := s.trackStats()
		f("tracking_clients", tc)
		f("clients_in_timeout_table", 0)
	case "memory":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss := readRSS()
		b.WriteString("# Memory\r\n")
		f("used_memory", ms.HeapAlloc)
		f("used_memory_human", humanBytes(int64(ms.HeapAlloc)))
		f("used_memory_rss", rss)
		f("used_memory_rss_human", humanBytes(rss))
		f("used_memory_peak", ms.HeapSys)
		f("used_memory_peak_human", humanBytes(int64(ms.HeapSys)))
		f("used_memory_dataset", s.ks.UsedMemory()) // what maxmemory bounds (keyspace/doc.go)
		nScripts, scriptBytes := s.engine().Stats()
		f("used_memory_lua", 0)
		f("used_memory_scripts_eval", scriptBytes)
		f("number_of_cached_scripts", nScripts)
		nLibs, nFuncs, fnBytes := s.functions().Count()
		f("number_of_functions", nFuncs)
		f("number_of_libraries", nLibs)
		f("used_memory_functions", fnBytes)
		f("maxmemory", s.cfg.Get("maxmemory"))
		f("maxmemory_human", humanBytes(s.cfg.Int("maxmemory")))
		f("maxmemory_policy", s.cfg.Get("maxmemory-policy"))
		ratio := 0.0
		if ms.HeapAlloc > 0 {
			ratio = float64(rss) / float64(ms.HeapAlloc)
		}
		f("mem_fragmentation_ratio", strconv.FormatFloat(ratio, 'f', 2, 64))
		f("mem_allocator", "go")
		f("go_heap_sys", ms.HeapSys)
		f("go_gc_cycles", ms.NumGC)
	case "persistence":
		var pi PersistInfo
		if s.persist != nil {
			pi = s.persist.Info()
		} else {
			pi = PersistInfo{LastSaveTime: s.started.Unix(), LastBGSaveOK: true}
		}
		b.WriteString("# Persistence\r\n")
		f("loading", b2i(s.loading.Load()))
		f("async_loading", 0)
		f("current_cow_peak", 0)
		f("current_cow_size", 0)
		f("current_fork_perc", "0.00")
		f("current_save_keys_processed", 0)
		f("current_save_keys_total", 0)
		f("rdb_changes_since_last_save", pi.ChangesSinceSave)
		f("rdb_bgsave_in_progress", b2i(pi.BGSaveInProgress))
		f("rdb_last_save_time", pi.LastSaveTime)
		f("rdb_last_bgsave_status", okErr(pi.LastBGSaveOK))
		f("rdb_last_bgsave_time_sec", pi.LastBGSaveSeconds)
		f("rdb_current_bgsave_time_sec", -1)
		f("aof_enabled", 0)
		f("aof_rewrite_in_progress", 0)
		f("aof_rewrite_scheduled", 0)
		f("aof_last_bgrewrite_status", "ok")
		f("aof_last_write_status", "ok")
		f("module_fork_in_progress", 0)
	case "stats":
		st := s.ks.Stats()
		stale, capped := 0.0, int64(0)
		if s.expiry != nil {
			stale, capped = s.expiry.ExpiryInfo()
		}
		b.WriteString("# Stats\r\n")
		f("total_connections_received", s.totalConns.Load())
		f("total_commands_processed", s.totalCommands())
		f("instantaneous_ops_per_sec", 0)
		f("total_net_input_bytes", 0)
		f("total_net_output_bytes", 0)
		f("rejected_connections", s.rejectedConns.Load())
		f("expired_keys", st.ExpiredKeys)
		f("expired_stale_perc", strconv.FormatFloat(stale*100, 'f', 2, 64))
		f("expired_time_cap_reached_count", capped)
		f("evicted_keys", st.EvictedKeys)
		f("keyspace_hits", st.KeyHits)
		f("keyspace_misses", st.KeyMisses)
		ps := s.hub.Stats()
		f("pubsub_channels", ps.Channels)
		f("pubsub_patterns", ps.Patterns)
		f("pubsubshard_channels", ps.ShardChannels)
		f("latest_fork_usec", 0)
		f("total_forks", 0)
		f("total_error_replies", s.errorReplies.Load())
	case "replication":
		b.WriteString("# Replication\r\n")
		f("role", "master")
		f("connected_slaves", 0)
		f("master_failover_state", "no-failover")
		f("master_replid", runID)
		f("master_replid2", "0000000000000000000000000000000000000000")
		f("master_repl_offset", 0)
		f("second_repl_offset", -1)
		f("repl_backlog_active", 0)
		f("repl_backlog_size", 1048576)
		f("repl_backlog_first_byte_offset", 0)
		f("repl_backlog_histlen", 0)
	case "cpu":
		user, sys := cpuTimes()
		b.WriteString("# CPU\r\n")
		f("used_cpu_sys", strconv.FormatFloat(sys, 'f', 6, 64))
		f("used_cpu_user", strconv.FormatFloat(user, 'f', 6, 64))
		f("used_cpu_sys_children", "0.000000")
		f("used_cpu_user_children", "0.000000")
		f("used_cpu_sys_main_thread", strconv.FormatFloat(sys, 'f', 6, 64)) // one process, no main thread of its own
		f("used_cpu_user_main_thread", strconv.FormatFloat(user, 'f', 6, 64))
	case "modules":
		b.WriteString("# Modules\r\n")
	case "commandstats":
		writeCommandStats(b, s.table.allCommands())
	case "errorstats":
		writeErrorStats(b, s.errStats.snapshot())
	case "latencystats":
		writeLatencyStats(b, s.table.allCommands())
	case "cluster":
		b.WriteString("# Cluster\r\n")
		f("cluster_enabled", 0)
	case "keyspace":
		b.WriteString("# Keyspace\r\n")
		for i := range keyspace.NumDBs {
			keys, exp := s.ks.Size(i)
			if keys > 0 {
				fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=%d\r\n", i, keys, exp, s.avgTTL(i, exp))
			}
		}
	}
}

// avgTTL is db's mean TTL in ms (keyspace.AvgTTL) for INFO and /metrics,
// given its count of keys with a deadline: with none it is 0 without a
// second pass over the stripes (most of the 16 databases have none).
func (s *Server) avgTTL(db, expires int) int64 {
	if expires == 0 {
		return 0
	}
	return s.ks.AvgTTL(db)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func okErr(b bool) string {
	if b {
		return "ok"
	}
	return "err"
}

// humanBytes formats n as Redis's bytesToHuman does.
func humanBytes(n int64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return strconv.FormatFloat(f/(1<<10), 'f', 2, 64) + "K"
	case n < 1<<30:
		return strconv.FormatFloat(f/(1<<20), 'f', 2, 64) + "M"
	case n < 1<<40:
		return strconv.FormatFloat(f/(1<<30), 'f', 2, 64) + "G"
	}
	return strconv.FormatFloat(f/(1<<40), 'f', 2, 64) + "T"
}

// readRSS returns the process's resident set size in bytes (Linux).
func readRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

var runID = func() string {
	return fmt.Sprintf("%040x", time.Now().UnixNano())[:40]
}()

// commandInfo writes one COMMAND INFO entry in Redis 7's ten-element shape
// (server.c addReplyCommandInfo): the table's name, arity, flags and key
// positions, the ACL catalog's categories and key specs (COMMAND GETKEYS's
// and the ACL checks'), docs's tips, and the subcommands' entries. docs
// is commandDocs's (nil: no tips).
func (x *call) commandInfo(c *command, docs map[string]*cmdDoc) {
	x.r.array(10)
	x.r.bulkString(c.name)
	x.r.int(int64(c.arity))
	var flags []string
	for _, fl := range flagNames {
		if c.flags&fl.f != 0 {
			flags = append(flags, fl.name)
		}
	}
	x.r.setLen(len(flags))
	for _, fl := range flags {
		x.r.status(fl)
	}
	last := c.lastKey
	x.r.int(int64(c.firstKey))
	x.r.int(int64(last))
	x.r.int(int64(c.step))
	cats := c.acl.Cats.Names()
	x.r.setLen(len(cats))
	for _, cat := range cats {
		x.r.status(cat)
	}
	var tips []string
	if d := docs[c.name]; d != nil {
		tips = d.tips
	}
	x.r.setLen(len(tips))
	for _, tip := range tips {
		x.r.bulkString(tip)
	}
	x.r.setLen(len(c.acl.Keys))
	for i := range c.acl.Keys {
		x.r.keySpec(&c.acl.Keys[i])
	}
	if c.subs == nil {
		x.r.setLen(0) // as Redis, for a command that is no container
		return
	}
	subs := c.sortedSubs()
	x.r.array(len(subs))
	for _, s := range subs {
		x.commandInfo(s, docs)
	}
}

// keySpec writes one key spec of COMMAND INFO (server.c
// addReplyCommandKeySpecs): an Index below 1 without a Keyword is an
// unknown begin search, a negative Step an unknown find keys (acl.KeySpec).
func (r *reply) keySpec(k *acl.KeySpec) {
	if k.Notes != "" {
		r.mapLen(4)
		r.bulkString("notes")
		r.bulkString(k.Notes)
	} else {
		r.mapLen(3)
	}
	r.bulkString("flags")
	flags := k.Flags.Names()
	r.setLen(len(flags))
	for _, f := range flags {
		r.status(f)
	}
	r.bulkString("begin_search")
	r.mapLen(2)
	r.bulkString("type")
	switch {
	case k.Keyword != "":
		r.bulkString("keyword")
		r.bulkString("spec")
		r.mapLen(2)
		r.bulkString("keyword")
		r.bulkString(k.Keyword)
		r.bulkString("startfrom")
		r.int(int64(k.StartFrom))
	case k.Index > 0:
		r.bulkString("index")
		r.bulkString("spec")
		r.mapLen(1)
		r.bulkString("index")
		r.int(int64(k.Index))
	default:
		r.bulkString("unknown")
		r.bulkString("spec")
		r.mapLen(0)
	}
	r.bulkString("find_keys")
	r.mapLen(2)
	r.bulkString("type")
	switch {
	case k.KeyNum:
		r.bulkString("keynum")
		r.bulkString("spec")
		r.mapLen(3)
		r.bulkString("keynumidx")
		r.int(int64(k.KeyNumIdx))
		r.bulkString("firstkey")
		r.int(int64(k.FirstKey))
		r.bulkString("keystep")
		r.int(int64(k.Step))
	case k.Step >= 0:
		r.bulkString("range")
		r.bulkString("spec")
		r.mapLen(3)
		r.bulkString("lastkey")
		r.int(int64(k.LastKey))
		r.bulkString("keystep")
		r.int(int64(k.Step))
		r.bulkString("limit")
		r.int(int64(k.Limit))
	default:
		r.bulkString("unknown")
		r.bulkString("spec")
		r.mapLen(0)
	}
}

// infoDocs is commandDocs's map for commandInfo's tips; nil, and so no
// tips, only if the embedded files are broken (TestCommandDocsData).
func infoDocs() map[string]*cmdDoc {
	docs, _ := commandDocs()
	return docs
}

func aclCategories(c *command) []string {
	var cats []string
	switch {
	case c.flags&flagWrite != 0:
		cats = append(cats, "@write")
	case c.flags&flagReadonly != 0 && c.group != "scripting": // as Redis: scripts are not @read
		cats = append(cats, "@read")
	}
	if c.flags&flagAdmin != 0 {
		cats = append(cats, "@admin", "@dangerous")
	}
	if c.group == "string" || c.group == "set" || c.group == "hash" {
		cats = append(cats, "@"+c.group)
	}
	if c.group == "generic" {
		cats = append(cats, "@keyspace")
	}
	if c.group == "connection" {
		cats = append(cats, "@connection")
	}
	if c.group == "transactions" {
		cats = append(cats, "@transaction")
	}
	if c.flags&flagFast != 0 {
		cats = append(cats, "@fast")
	} else {
		cats = append(cats, "@slow")
	}
	if c.group == "scripting" && c.run != nil {
		cats = append(cats, "@scripting")
	}
	return cats
}

func (c *command) sortedSubs() []*command {
	out := make([]*command, 0, len(c.subs))
	for _, s := range c.subs {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	return out
}

func cmdCommand(x *call) {
	names := x.s.table.sortedNames()
	docs := infoDocs()
	x.r.array(len(names))
	for _, n := range names {
		x.commandInfo(x.s.table[n], docs)
	}
}

func cmdCommandCount(x *call) { x.r.int(int64(len(x.s.table))) }

// cmdCommandList is COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN
// p]: every command and, as "container|sub", every subcommand, as Redis 7
// lists them (sorted here; Redis's order is its hash table's). A pattern
// ignores case, as Redis's; an unknown category or any module matches
// nothing.
func cmdCommandList(x *call) {
	keep := func(*command) bool { return true }
	if len(x.args) > 2 {
		if len(x.args) != 5 || strings.ToLower(string(x.args[2])) != "filterby" {
			x.r.error(msgSyntax)
			return
		}
		switch strings.ToLower(string(x.args[3])) {
		case "pattern":
			pattern := bytes.ToLower(x.args[4]) // names are lower case
			keep = func(c *command) bool { return keyspace.Match(pattern, []byte(c.name)) }
		case "module":
			x.r.array(0)
			return
		case "aclcat":
			cat, ok := acl.CategoryByName(string(x.args[4]))
			if !ok {
				x.r.array(0)
				return
			}
			keep = func(c *command) bool { return c.acl.Cats&cat != 0 }
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	var out [][]byte
	for _, n := range x.s.table.sortedNames() {
		c := x.s.table[n]
		if keep(c) {
			out = append(out, []byte(c.name))
		}
		for _, sub := range c.sortedSubs() {
			if keep(sub) {
				out = append(out, []byte(sub.name))
			}
		}
	}
	x.r.bulks(out)
}

// lookupName finds a command or "container|sub" by name.
func (t commandTable) lookupName(name string) *command {
	name = strings.ToLower(name)
	if i := strings.IndexByte(name, '|'); i >= 0 {
		if p := t[name[:i]]; p != nil {
			return p.subs[name[i+1:]]
		}
		return nil
	}
	return t[name]
}

func cmdCommandInfo(x *call) {
	if len(x.args) == 2 {
		cmdCommand(x)
		return
	}
	docs := infoDocs()
	x.r.array(len(x.args) - 2)
	for _, a := range x.args[2:] {
		if c := x.s.table.lookupName(string(a)); c != nil {
			x.commandInfo(c, docs)
		} else {
			x.r.null()
		}
	}
}

// cmdCommandDocs is COMMAND DOCS [name ...]: every command, or those named
// ("container|sub" for a subcommand; unknown names are left out), with the
// table's summary, since and group and the rest from docs.go.
func cmdCommandDocs(x *call) {
	var cmds []*command
	if len(x.args) == 2 {
		for _, n := range x.s.table.sortedNames() {
			cmds = append(cmds, x.s.table[n])
		}
	} else {
		for _, a := range x.args[2:] {
			if c := x.s.table.lookupName(string(a)); c != nil {
				cmds = append(cmds, c)
			}
		}
	}
	docs, err := commandDocs()
	if err != nil { // only if the embedded files are broken: TestCommandDocsData
		x.r.error("ERR " + err.Error())
		return
	}
	x.r.mapLen(len(cmds))
	for _, c := range cmds {
		x.r.bulkString(c.name)
		x.r.writeCommandDoc(c, docs)
	}
}
