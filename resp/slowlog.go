package resp

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sessiond/keyspace"
)

// opsState is the server's operator-facing state: per-command error
// stats, the slow log, the latency monitor, MONITOR clients and CLIENT
// PAUSE. Everything the command path reads on every command is an atomic
// that is written only when the configuration changes.
type opsState struct {
	errStats        errorStats
	latencyTracking atomic.Bool
	// slowMinNs is the smallest duration that interests the slow log or the
	// latency monitor (MaxInt64 when both are off): one load per command.
	slowMinNs   atomic.Int64
	slowlogUs   atomic.Int64 // slowlog-log-slower-than; -1: off
	slowlogMax  atomic.Int64 // slowlog-max-len (read per entry: no config lookup on the command path)
	latencyMs   atomic.Int64 // latency-monitor-threshold; 0: off
	slowMu      sync.Mutex
	slowEntries []slowEntry // oldest first
	slowNextID  int64

	latMu     sync.Mutex
	latEvents map[string]*latencySeries

	monitors atomic.Int32
	monMu    sync.Mutex
	monSet   map[*monitorConn]struct{}

	pause pauseState
}

// initOps reads the operator parameters and follows CONFIG SET.
func (s *Server) initOps() {
	apply := func(string) {
		s.latencyTracking.Store(s.cfg.Bool("latency-tracking"))
		slow := s.cfg.Int("slowlog-log-slower-than")
		lat := s.cfg.Int("latency-monitor-threshold")
		s.slowlogUs.Store(slow)
		s.slowlogMax.Store(s.cfg.Int("slowlog-max-len"))
		s.latencyMs.Store(lat)
		min := int64(math.MaxInt64)
		if slow >= 0 {
			min = slow * 1000
		}
		if lat > 0 && lat*1_000_000 < min {
			min = lat * 1_000_000
		}
		s.slowMinNs.Store(min)
	}
	apply("")
	for _, p := range []string{"latency-tracking", "slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold"} {
		s.cfg.OnSet(p, apply)
	}
}

// slowEntry is one SLOWLOG entry.
type slowEntry struct {
	id       int64
	time     int64 // Unix seconds
	duration int64 // µs
	args     [][]byte
	peer     string
	name     string
}

// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const (
	slowMaxArgc   = 32
	slowMaxString = 128
)

// slowCall handles a command slower than slowMinNs: the slow log, a log
// line, and the latency monitor's command events.
func (s *Server) slowCall(c *client, cmd *command, args [][]byte, d time.Duration) {
	us := d.Microseconds()
	if thr := s.slowlogUs.Load(); thr >= 0 && us >= thr && cmd.flags&flagSkipSlowlog == 0 { // EXEC: its commands are logged
		s.pushSlow(c, cmd, args, us)
		if thr > 0 { // with 0 ("log everything") a line per command would flood the log
			s.log.Warn("slow command", "cmd", cmd.name, "duration_us", us, "client", c.addr, "name", c.getName(), "argc", len(args))
		}
	}
	if thr := s.latencyMs.Load(); thr > 0 {
		if ms := d.Milliseconds(); ms >= thr {
			ev := "command"
			if cmd.flags&flagFast != 0 {
				ev = "fast-command"
			}
			s.addLatencySample(ev, ms)
		}
	}
}

func (s *Server) pushSlow(c *client, cmd *command, args [][]byte, us int64) {
	args = redactArgs(cmd, args)
	n := min(len(args), slowMaxArgc)
	e := slowEntry{time: time.Now().Unix(), duration: us, args: make([][]byte, n), peer: c.addr, name: c.getName()}
	for j := range n {
		a := args[j]
		switch {
		case n != len(args) && j == n-1:
			e.args[j] = []byte("... (" + strconv.Itoa(len(args)-n+1) + " more arguments)")
		case len(a) > slowMaxString:
			e.args[j] = append(append([]byte{}, a[:slowMaxString]...), "... ("+strconv.Itoa(len(a)-slowMaxString)+" more bytes)"...)
		default:
			e.args[j] = append([]byte{}, a...) // args alias the read buffer
		}
	}
	max := int(s.slowlogMax.Load())
	s.slowMu.Lock()
	e.id = s.slowNextID
	s.slowNextID++
	s.slowEntries = append(s.slowEntries, e)
	if len(s.slowEntries) > max {
		s.slowEntries = s.slowEntries[len(s.slowEntries)-max:]
	}
	s.slowMu.Unlock()
}

var redacted = []byte("(redacted)")

// sensitiveParams are the configuration parameters whose CONFIG SET value
// is hidden from the slow log (Redis's SENSITIVE_CONFIG).
var sensitiveParams = map[string]bool{"requirepass": true, "masterauth": true}

// redactArgs hides passwords as Redis's redactClientCommandArgument does:
// AUTH's arguments, HELLO's AUTH user and password, CONFIG SET of a
// sensitive parameter. It copies args only when it changes something.
func redactArgs(cmd *command, args [][]byte) [][]byte {
	var hide []int
	switch cmd.name {
	case "auth":
		for j := 1; j < len(args) && j <= 2; j++ {
			hide = append(hide, j)
		}
	case "hello":
		for j := 2; j < len(args); j++ {
			if strings.EqualFold(string(args[j]), "auth") && j+2 < len(args) {
				hide = append(hide, j+1, j+2)
				j += 2
			} else if strings.EqualFold(string(args[j]), "setname") {
				j++
			}
		}
	case "migrate": // its AUTH and AUTH2 values, as its parser meets them
	opts:
		for j := 6; j < len(args); j++ {
			switch strings.ToLower(string(args[j])) {
			case "copy", "replace":
			case "auth":
				if j+1 < len(args) {
					hide = append(hide, j+1)
				}
				j++
			case "auth2":
				if j+2 < len(args) {
					hide = append(hide, j+1, j+2)
				}
				j += 2
			default: // KEYS, or an error
				break opts
			}
		}
	case "config|set":
		for j := 2; j+1 < len(args); j += 2 {
			if sensitiveParams[strings.ToLower(string(args[j]))] {
				hide = append(hide, j+1)
			}
		}
	}
	if len(hide) == 0 {
		return args
	}
	out := append([][]byte{}, args...)
	for _, j := range hide {
		out[j] = redacted
	}
	return out
}

func slowlogCommands() []*command {
	const g = "server"
	return []*command{
		{name: "slowlog", arity: -2, group: g, since: "2.2.12", summary: "A container for slow log commands"},
		{name: "slowlog|get", arity: -2, flags: flagAdmin | flagLoading | flagStale, group: g, since: "2.2.12", summary: "Get the slow log's entries", run: cmdSlowlogGet},
		{name: "slowlog|len", arity: 2, flags: flagAdmin | flagLoading | flagStale, group: g, since: "2.2.12", summary: "Get the slow log's length", run: cmdSlowlogLen},
		{name: "slowlog|reset", arity: 2, flags: flagAdmin | flagLoading | flagStale, group: g, since: "2.2.12", summary: "Clear all entries from the slow log", run: cmdSlowlogReset},
		{name: "slowlog|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.2.0", summary: "Show helpful text about the different subcommands", run: cmdSlowlogHelp},
	}
}

// subcommandSyntaxError is Redis's addReplySubcommandSyntaxError.
func (x *call) subcommandSyntaxError() {
	parent, _, _ := strings.Cut(x.cmd.name, "|")
	x.r.error("ERR unknown subcommand or wrong number of arguments for '" + sanitize(truncate(string(x.args[1]), 128)) +
		"'. Try " + strings.ToUpper(parent) + " HELP.")
}

func cmdSlowlogGet(x *call) {
	if len(x.args) > 3 {
		x.subcommandSyntaxError()
		return
	}
	count := int64(10)
	if len(x.args) == 3 {
		n, ok := keyspace.ParseInt(x.args[2])
		if !ok || n < -1 {
			x.r.error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	x.s.slowMu.Lock()
	entries := append([]slowEntry{}, x.s.slowEntries...)
	x.s.slowMu.Unlock()
	if count == -1 || count > int64(len(entries)) {
		count = int64(len(entries))
	}
	x.r.array(int(count))
	for i := 0; i < int(count); i++ {
		e := &entries[len(entries)-1-i]
		x.r.array(6)
		x.r.int(e.id)
		x.r.int(e.time)
		x.r.int(e.duration)
		x.r.array(len(e.args))
		for _, a := range e.args {
			x.r.bulk(a)
		}
		x.r.bulkString(e.peer)
		x.r.bulkString(e.name)
	}
}

func cmdSlowlogLen(x *call) {
	x.s.slowMu.Lock()
	n := len(x.s.slowEntries)
	x.s.slowMu.Unlock()
	x.r.int(int64(n))
}

func cmdSlowlogReset(x *call) {
	x.s.slowMu.Lock()
	x.s.slowEntries = nil
	x.s.slowMu.Unlock()
	x.r.ok()
}

func cmdSlowlogHelp(x *call) {
	x.help("SLOWLOG",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
	)
}

// help is Redis's addReplyHelp: a header line, the given lines, and HELP.
func (x *call) help(name string, lines ...string) {
	x.r.array(len(lines) + 3)
	x.r.status(name + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		x.r.status(l)
	}
	x.r.status("HELP")
	x.r.status("    Print this help.")
}
