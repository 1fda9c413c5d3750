package resp

import (
	"slices"
	"strings"

	"sessiond/acl"
)

// flags of a command, as COMMAND INFO reports them.
type cmdFlags uint32

const (
	flagWrite cmdFlags = 1 << iota
	flagReadonly
	flagFast
	flagAdmin
	flagNoAuth          // allowed before authentication
	flagRunsInMulti     // executed immediately even inside MULTI, not queued; not reported
	flagNoMulti         // refused inside MULTI (SAVE, SHUTDOWN)
	flagLoading         // allowed while a snapshot is loading
	flagStale           // allowed on a stale replica (reported only)
	flagDenyOOM         // may grow memory (reported only)
	flagNoScript        // not allowed from scripts (reported only)
	flagSkipStats       // (reported only)
	flagSkipMonitor     // not fed to MONITOR after it runs: a script is fed as it starts, before its commands (eval)
	flagNoMandatoryKeys // (reported only)
	flagMovableKeys     // key positions depend on the arguments (EVAL's numkeys)
	flagAllowBusy       // allowed while a script is busy (cmd_script.go)
	flagOwnGate         // takes the gate itself (EXEC, EVAL); not reported
	flagOffLoop         // never run on an event loop (loop.go leavesLoop); not reported
	flagMayReplicate    // not a write, but Redis would propagate it (scripts, PUBLISH): CLIENT PAUSE WRITE holds it; not reported
	flagBlocking        // may block the client (BLPOP...): cmd_block.go
	flagPubsub          // (reported only)
	flagSkipSlowlog     // not logged in SLOWLOG (EXEC: its commands are)
	flagNoAsyncLoading  // (reported only)
	flagAsking          // (reported only)
	flagProtected       // refused unless enable-debug-command or enable-module-command allows it (DEBUG, MODULE LOAD...); not reported
)

var flagNames = []struct {
	f    cmdFlags
	name string
}{
	{flagWrite, "write"}, {flagReadonly, "readonly"}, {flagDenyOOM, "denyoom"}, {flagAdmin, "admin"}, {flagPubsub, "pubsub"},
	{flagNoScript, "noscript"}, {flagBlocking, "blocking"}, {flagLoading, "loading"}, {flagStale, "stale"}, {flagSkipMonitor, "skip_monitor"},
	{flagSkipSlowlog, "skip_slowlog"}, {flagAsking, "asking"}, {flagFast, "fast"}, {flagNoAuth, "no_auth"}, {flagNoMandatoryKeys, "no_mandatory_keys"},
	{flagNoAsyncLoading, "no_async_loading"}, {flagNoMulti, "no_multi"},
	{flagMovableKeys, "movablekeys"}, {flagAllowBusy, "allow_busy"},
}

// command is one entry of the command table. It drives dispatch, arity
// errors and the COMMAND introspection replies.
type command struct {
	name     string // lower case; subcommands are "container|sub"
	arity    int    // Redis arity: n exact, -n at least n (counting the name)
	flags    cmdFlags
	firstKey int // position of the first key (0: none)
	lastKey  int // position of the last key (-1: the last argument)
	step     int
	group    string // COMMAND DOCS group
	summary  string // COMMAND DOCS summary and since: Redis 7.0.15's (docs.go)
	since    string
	run      func(x *call)
	subs     map[string]*command // container commands (CLIENT, CONFIG...)
	stats    cmdStats            // INFO commandstats and latencystats: stats.go
	acl      *acl.Command        // ACL categories, key specs and bit: linkACL
}

// commandTable is the whole supported surface, keyed by lower-case name.
type commandTable map[string]*command

func buildTable() commandTable {
	t := commandTable{}
	for _, family := range [][]*command{connectionCommands(), stringCommands(), bitmapCommands(), hllCommands(), keyCommands(), sortCommands(), setCommands(), hashCommands(), zsetCommands(), geoCommands(), listCommands(), blockingCommands(), streamCommands(), dumpCommands(), txCommands(), serverCommands(), opsCommands(), pubsubCommands(), aclCommands(), memoryCommands(), scriptCommands(), functionCommands(), syncCommands(), replicationCommands(), migrateCommands(), clusterCommands(), debugCommands(), moduleCommands(), lolwutCommands()} {
		for _, c := range family {
			if i := strings.IndexByte(c.name, '|'); i >= 0 {
				parent := t[c.name[:i]]
				if parent == nil {
					panic("resp: subcommand before its container: " + c.name)
				}
				if parent.subs == nil {
					parent.subs = map[string]*command{}
				}
				parent.subs[c.name[i+1:]] = c
				continue
			}
			if t[c.name] != nil {
				panic("resp: duplicate command " + c.name)
			}
			t[c.name] = c
		}
	}
	linkACL(t)
	markOffLoop(t)
	return t
}

// sortedNames returns the table's command names in order.
func (t commandTable) sortedNames() []string {
	names := make([]string, 0, len(t))
	for n := range t {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// lookup finds the command for args[0] without allocating.
func (t commandTable) lookup(name []byte) *command {
	var buf [32]byte
	if len(name) > len(buf) {
		return t[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return t[string(buf[:len(name)])]
}
