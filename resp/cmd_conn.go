package resp

import (
	"strconv"
	"strings"
	"time"
)

func connectionCommands() []*command {
	const g = "connection"
	return []*command{
		{name: "ping", arity: -1, flags: flagFast, group: g, since: "1.0.0", summary: "Ping the server", run: cmdPing},
		{name: "echo", arity: 2, flags: flagFast | flagLoading | flagStale, group: g, since: "1.0.0", summary: "Echo the given string", run: cmdEcho},
		{name: "hello", arity: -1, flags: flagNoAuth | flagFast | flagLoading | flagStale | flagNoScript | flagAllowBusy, group: g, since: "6.0.0", summary: "Handshake with Redis", run: cmdHello},
		{name: "auth", arity: -2, flags: flagNoAuth | flagFast | flagLoading | flagStale | flagNoScript | flagAllowBusy, group: g, since: "1.0.0", summary: "Authenticate to the server", run: cmdAuth},
		{name: "select", arity: 2, flags: flagFast | flagLoading | flagStale, group: g, since: "1.0.0", summary: "Change the selected database for the current connection", run: cmdSelect},
		{name: "quit", arity: -1, flags: flagNoAuth | flagFast | flagLoading | flagStale | flagRunsInMulti | flagNoScript | flagAllowBusy, group: g, since: "1.0.0", summary: "Close the connection", run: cmdQuit},
		{name: "reset", arity: 1, flags: flagNoAuth | flagFast | flagLoading | flagStale | flagRunsInMulti | flagNoScript | flagAllowBusy, group: g, since: "6.2.0", summary: "Reset the connection", run: cmdReset},
		{name: "client", arity: -2, group: g, since: "2.4.0", summary: "A container for client connection commands"},
		{name: "client|reply", arity: 3, flags: flagNoScript | flagLoading | flagStale, group: g, since: "3.2.0", summary: "Instruct the server whether to reply to commands", run: cmdClientReply},
		{name: "client|setname", arity: 3, flags: flagNoScript | flagLoading | flagStale, group: g, since: "2.6.9", summary: "Set the current connection name", run: cmdClientSetname},
		{name: "client|getname", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "2.6.9", summary: "Get the current connection name", run: cmdClientGetname},
		{name: "client|setinfo", arity: 4, flags: flagNoScript | flagLoading | flagStale, group: g, since: "7.2.0", summary: "Sets information specific to the client or connection.", run: cmdClientSetinfo},
		{name: "client|id", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "5.0.0", summary: "Returns the client ID for the current connection", run: cmdClientID},
		{name: "client|info", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.2.0", summary: "Returns information about the current client connection.", run: cmdClientInfo},
		{name: "client|list", arity: -2, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.4.0", summary: "Get the list of client connections", run: cmdClientList},
		{name: "client|kill", arity: -3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "2.4.0", summary: "Kill the connection of a client", run: cmdClientKill},
		{name: "client|no-evict", arity: 3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "7.0.0", summary: "Set client eviction mode for the current connection", run: cmdClientOnOff},
		{name: "client|no-touch", arity: 3, flags: flagNoScript | flagLoading | flagStale, group: g, since: "7.2.0", summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", run: cmdClientOnOff},
		{name: "client|unblock", arity: -3, flags: flagAdmin | flagNoScript | flagLoading | flagStale, group: g, since: "5.0.0", summary: "Unblock a client blocked in a blocking command from a different connection", run: cmdClientUnblock},
		{name: "client|tracking", arity: -3, flags: flagNoScript | flagLoading | flagStale | flagOffLoop, group: g, since: "6.0.0", summary: "Enable or disable server assisted client side caching support", run: cmdClientTracking},
		{name: "client|caching", arity: 3, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.0.0", summary: "Instruct the server about tracking or not keys in the next request", run: cmdClientCaching},
		{name: "client|getredir", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.0.0", summary: "Get tracking notifications redirection client ID if any", run: cmdClientGetredir},
		{name: "client|trackinginfo", arity: 2, flags: flagNoScript | flagLoading | flagStale, group: g, since: "6.2.0", summary: "Return information about server assisted client side caching for the current connection", run: cmdClientTrackinginfo},
		{name: "client|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdClientHelp},
	}
}

func cmdPing(x *call) {
	if x.pingPubsub() {
		return
	}
	switch len(x.args) {
	case 1:
		x.r.status("PONG")
	case 2:
		x.r.bulk(x.args[1])
	default:
		x.r.error(msgArity("ping"))
	}
}

func cmdEcho(x *call) { x.r.bulk(x.args[1]) }

const msgWrongPass = "WRONGPASS invalid username-password pair or user is disabled."

func cmdAuth(x *call) {
	var user, pass []byte
	switch len(x.args) {
	case 2:
		if x.s.users.Default().NoPass() {
			x.r.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
		user, pass = []byte("default"), x.args[1]
	case 3:
		user, pass = x.args[1], x.args[2]
	default:
		x.r.error(msgSyntax)
		return
	}
	if !x.s.login(x.c, user, pass) {
		x.s.logAuthFailure(x.c, x.inExec, x.args, user)
		x.r.error(msgWrongPass)
		return
	}
	x.r.ok()
}

// validName reports whether a client name has only printable non-space ASCII.
func validName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

const msgBadName = "ERR Client names cannot contain spaces, newlines or special characters."

func cmdHello(x *call) {
	ver := int64(0)
	next := 1
	if len(x.args) >= 2 {
		v, ok := parseInt64(x.args[1])
		if !ok {
			x.r.error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			x.r.error("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		next = 2
	}
	var user, pass, name []byte
	hasName := false
	for j := next; j < len(x.args); j++ {
		more := len(x.args) - 1 - j
		opt := strings.ToLower(string(x.args[j]))
		switch {
		case opt == "auth" && more >= 2:
			user, pass = x.args[j+1], x.args[j+2]
			j += 2
		case opt == "setname" && more >= 1:
			name, hasName = x.args[j+1], true
			if !validName(name) {
				x.r.error(msgBadName)
				return
			}
			j++
		default:
			x.r.error("ERR Syntax error in HELLO option '" + sanitize(string(x.args[j])) + "'")
			return
		}
	}
	if user != nil {
		if !x.s.login(x.c, user, pass) {
			x.s.logAuthFailure(x.c, x.inExec, x.args, user)
			x.r.error(msgWrongPass)
			return
		}
	}
	if !x.c.authed {
		x.r.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if hasName {
		x.c.setName(string(name))
	}
	if ver != 0 {
		x.c.mu.Lock()
		x.c.resp3 = ver == 3
		x.c.mu.Unlock()
		x.r.resp3 = x.c.resp3
		x.c.protoChanged()
		if x.c.resp3 && x.c.track.on {
			x.subConn() // invalidations are pushed from now on (tracking.go)
		}
	}
	proto := int64(2)
	if x.c.resp3 {
		proto = 3
	}
	x.r.mapLen(7)
	x.r.bulkString("server")
	x.r.bulkString("redis")
	x.r.bulkString("version")
	x.r.bulkString(Version)
	x.r.bulkString("proto")
	x.r.int(proto)
	x.r.bulkString("id")
	x.r.int(int64(x.c.id))
	x.r.bulkString("mode")
	x.r.bulkString("standalone")
	x.r.bulkString("role")
	x.r.bulkString("master")
	x.r.bulkString("modules")
	x.r.array(0)
}

func parseInt64(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}

func cmdSelect(x *call) {
	db, ok := x.dbArg(x.args[1], "") // Redis 7 passes no message: the generic ones
	if !ok {
		return
	}
	x.c.mu.Lock()
	x.c.db = db
	x.c.mu.Unlock()
	x.r.ok()
}

func cmdQuit(x *call) {
	x.r.ok()
	x.c.closing.Store(true)
	if x.c.ps.Load() == nil {
		x.c.conn.Close() // flushes the OK first
	} // else handle closes once the Sub has written the OK
}

func cmdReset(x *call) {
	c := x.c
	c.endMulti()
	x.s.ks.Unwatch(&c.watch)
	x.s.disableTracking(c)
	c.resetPubsub()
	c.mu.Lock()
	c.db, c.resp3, c.name = 0, false, ""
	c.noEvict, c.noTouch = false, false
	c.mu.Unlock()
	c.replyOff, c.replySkipNext = false, false // as Redis's RESET: a SKIP of this very command stays
	x.r.resp3 = false
	c.protoChanged()
	x.s.stopMonitor(c)
	x.s.defaultAuth(c)
	x.r.status("RESET")
}

func cmdClientSetname(x *call) {
	if !validName(x.args[2]) {
		x.r.error(msgBadName)
		return
	}
	x.c.setName(string(x.args[2]))
	x.r.ok()
}

func cmdClientGetname(x *call) {
	n := x.c.getName()
	if n == "" {
		x.r.null()
		return
	}
	x.r.bulkString(n)
}

func cmdClientSetinfo(x *call) {
	attr := strings.ToLower(string(x.args[2]))
	if attr != "lib-name" && attr != "lib-ver" {
		x.r.error("ERR Unrecognized option '" + sanitize(string(x.args[2])) + "'")
		return
	}
	v := x.args[3]
	for _, ch := range v {
		if ch < '!' || ch > '~' {
			x.r.error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
			return
		}
	}
	x.c.mu.Lock()
	if attr == "lib-name" {
		x.c.libName = string(v)
	} else {
		x.c.libVer = string(v)
	}
	x.c.mu.Unlock()
	x.r.ok()
}

func cmdClientID(x *call) { x.r.int(int64(x.c.id)) }

func cmdClientInfo(x *call) { x.r.verbatim(x.c.info(time.Now(), x.s.trackModeOf(x.c)) + "\n") }

func cmdClientList(x *call) {
	// CLIENT LIST [TYPE type | ID id [id ...]]: one filter or the other, as
	// Redis parses it.
	var ids []int64 // in the order given, repeats and all, as Redis lists them
	ctype := ""
	opt := ""
	if len(x.args) > 2 {
		opt = strings.ToLower(string(x.args[2]))
	}
	switch {
	case len(x.args) == 2:
	case opt == "type" && len(x.args) == 4:
		t, ok := clientType(string(x.args[3]))
		if !ok {
			x.r.error("ERR Unknown client type '" + sanitize(string(x.args[3])) + "'")
			return
		}
		ctype = t
	case opt == "id" && len(x.args) >= 4:
		for _, a := range x.args[3:] {
			id, err := strconv.ParseInt(string(a), 10, 64)
			if err != nil {
				x.r.error("ERR Invalid client ID")
				return
			}
			ids = append(ids, id) // 0 or negative: no such client
		}
	default:
		x.r.error(msgSyntax)
		return
	}
	now := time.Now()
	var b strings.Builder
	clients := x.s.snapshotClients()
	if ids != nil {
		byID := make(map[int64]*client, len(clients))
		for _, c := range clients {
			byID[int64(c.id)] = c
		}
		clients = clients[:0]
		for _, id := range ids {
			if c := byID[id]; c != nil {
				clients = append(clients, c)
			}
		}
	}
	for _, c := range clients {
		if ctype != "" && !c.isType(ctype) {
			continue
		}
		b.WriteString(c.info(now, x.s.trackModeOf(c)))
		b.WriteByte('\n')
	}
	x.r.verbatim(b.String())
}

func cmdClientKill(x *call) {
	if len(x.args) == 3 { // old form: CLIENT KILL addr:port
		for _, c := range x.s.snapshotClients() {
			if c.addr == string(x.args[2]) {
				x.s.kill(c, x.c)
				x.r.ok()
				return
			}
		}
		x.r.error("ERR No such client")
		return
	}
	var id uint64
	var addr, laddr, user, ctype string
	skipme := true
	if len(x.args)%2 != 0 {
		x.r.error(msgSyntax)
		return
	}
	for j := 2; j < len(x.args); j += 2 {
		v := string(x.args[j+1])
		switch strings.ToLower(string(x.args[j])) {
		case "id":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				x.r.error("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "addr":
			addr = v
		case "laddr":
			laddr = v
		case "user":
			if x.s.users.Get(v) == nil {
				x.r.error("ERR No such user '" + sanitize(v) + "'")
				return
			}
			user = v
		case "type":
			t, ok := clientType(v)
			if !ok {
				x.r.error("ERR Unknown client type '" + sanitize(v) + "'")
				return
			}
			ctype = t
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				skipme = true
			case "no":
				skipme = false
			default:
				x.r.error(msgSyntax)
				return
			}
		default:
			x.r.error(msgSyntax)
			return
		}
	}
	n := 0
	for _, c := range x.s.snapshotClients() {
		if (id != 0 && c.id != id) || (addr != "" && c.addr != addr) || (laddr != "" && c.laddr != laddr) ||
			(ctype != "" && !c.isType(ctype)) {
			continue
		}
		if u, _ := c.authUser(); user != "" && (u == "" && user != "default" || u != "" && u != user) {
			continue
		}
		if c == x.c && skipme {
			continue
		}
		x.s.kill(c, x.c)
		n++
	}
	x.r.int(int64(n))
}

// clientType is the client type named by a CLIENT LIST or KILL filter
// (Redis's getClientTypeByName: "slave" is "replica").
func clientType(name string) (string, bool) {
	switch t := strings.ToLower(name); t {
	case "normal", "pubsub", "master", "replica":
		return t, true
	case "slave":
		return "replica", true
	}
	return "", false
}

// isType reports whether c is of type t (clientType): a subscribed client
// is "pubsub", any other "normal"; sessiond has no master or replica links.
func (c *client) isType(t string) bool {
	switch t {
	case "pubsub":
		return c.pubsubFlag()
	case "normal":
		return !c.pubsubFlag()
	}
	return false
}

// kill closes c's connection. The caller's own connection is closed after
// its reply is written.
func (s *Server) kill(c, self *client) {
	c.closing.Store(true)
	if c == self {
		return // handled once the reply is flushed: see handle
	}
	c.netConn.Close()
}

func cmdClientOnOff(x *call) {
	v := strings.ToLower(string(x.args[2]))
	if v != "on" && v != "off" {
		x.r.error(msgSyntax)
		return
	}
	x.c.mu.Lock()
	if x.cmd.name == "client|no-evict" {
		x.c.noEvict = v == "on"
	} else {
		x.c.noTouch = v == "on"
	}
	x.c.mu.Unlock()
	x.r.ok()
}

func cmdClientHelp(x *call) {
	lines := []string{
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CACHING (YES|NO)", "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME", "    Return the name of the current connection.",
		"ID", "    Return the ID of the current connection.",
		"INFO", "    Return information about the current client connection.",
		"KILL <ip:port>", "    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, USER, TYPE, SKIPME.",
		"LIST [options ...]", "    Return information about client connections.",
		"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
		"SETNAME <name>", "    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>", "    Set client meta attr. Options are: LIB-NAME, LIB-VER.",
		"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]", "         [OPTIN] [OPTOUT] [NOLOOP]", "    Control server assisted client side caching.",
		"TRACKINGINFO", "    Report tracking status for the current connection.",
		"HELP", "    Print this help.",
	}
	x.r.array(len(lines))
	for _, l := range lines {
		x.r.status(l)
	}
}
