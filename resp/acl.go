package resp

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"slices"
	"strings"

	"sessiond/acl"
)

// initACL creates the users: the default user, with requirepass as its
// password (kept in step by CONFIG SET requirepass).
func (s *Server) initACL() {
	s.users = acl.NewRegistry()
	if pw := s.cfg.Get("requirepass"); pw != "" {
		s.users.SetDefaultPassword(pw)
	}
	s.cfg.OnSet("requirepass", s.users.SetDefaultPassword)
}

// LoadACLFile loads the users of the aclfile parameter, if set. Call it
// before Serve; an error means the server must not start (as Redis).
func (s *Server) LoadACLFile() error {
	path := s.cfg.Get("aclfile")
	if path == "" {
		return nil
	}
	_, err := s.users.Load(path)
	return err
}

// Users returns the server's ACL users.
func (s *Server) Users() *acl.Registry { return s.users }

// defaultAuth makes c the default user's, authenticated if that user
// needs no password (networking.c createClient, clientSetDefaultAuth).
func (s *Server) defaultAuth(c *client) {
	d := s.users.Default()
	c.mu.Lock()
	c.aclUser, c.user = d, ""
	c.mu.Unlock()
	c.authed = d.NoPass() && d.Enabled()
}

// login authenticates c as user with pass; on failure c is unchanged.
func (s *Server) login(c *client, user, pass []byte) bool {
	u := s.users.Authenticate(user, pass)
	if u == nil {
		return false
	}
	c.mu.Lock()
	c.aclUser, c.authed, c.user = u, true, u.Name()
	c.mu.Unlock()
	return true
}

// aclDenied returns the NOPERM error for u, c's user, running cmd with
// args, or "", and logs a denial in the ACL log. Worded as redis-server
// 7.0 words them (server.c processCommand).
func (s *Server) aclDenied(c *client, u *acl.User, cmd *command, args [][]byte) string {
	d, pos := acl.DeniedCommand, 0
	if u != nil && cmd.acl != nil {
		d, pos = u.Check(cmd.acl, args)
	}
	if d == acl.Allowed {
		return ""
	}
	ctx := logTopLevel
	if c.inMulti {
		ctx = logMulti
	}
	s.logACLDenial(c, u, ctx, d, pos, cmd, args)
	switch d {
	case acl.DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case acl.DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return "NOPERM this user has no permissions to run the '" + cmd.name + "' command"
}

// rejectText is msg, or for EXEC the abort that carries it (server.c
// rejectCommand: a refused EXEC discards the transaction).
func rejectText(cmd *command, msg string) string {
	if cmd.name == "exec" {
		return "EXECABORT Transaction discarded because of: " + msg
	}
	return msg
}

// aclDeniedAtExec re-checks a queued command of c's at EXEC: the rules
// may have changed since it was queued (multi.c execCommand). A denial is
// logged in the ACL log.
func (s *Server) aclDeniedAtExec(c *client, u *acl.User, cmd *command, args [][]byte) string {
	if u != nil && u.Unrestricted() {
		return ""
	}
	d, pos := acl.DeniedCommand, 0
	if u != nil && cmd.acl != nil {
		d, pos = u.Check(cmd.acl, args)
	}
	reason := "no permission to execute the command or subcommand"
	switch d {
	case acl.Allowed:
		return ""
	case acl.DeniedKey:
		reason = "no permission to touch the specified keys"
	case acl.DeniedChannel:
		reason = "no permission to access one of the channels used as arguments"
	}
	s.logACLDenial(c, u, logMulti, d, pos, cmd, args)
	return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + reason
}

// linkACL gives every command of the table its ACL catalog entry: Redis's
// own (categories and key specs as COMMAND INFO reports them), or, for a
// command Redis 7.0 does not have, one derived from the table.
func linkACL(t commandTable) {
	for _, n := range t.sortedNames() {
		c := t[n]
		linkACLCommand(c)
		for _, sub := range c.sortedSubs() {
			linkACLCommand(sub)
		}
	}
}

func linkACLCommand(c *command) {
	if a := acl.Lookup(c.name); a != nil {
		c.acl = a
		return
	}
	var keys []acl.KeySpec
	if c.firstKey > 0 {
		ks := acl.KeySpec{Index: c.firstKey, Step: max(c.step, 1), LastKey: c.lastKey}
		if c.lastKey >= 0 {
			ks.LastKey = c.lastKey - c.firstKey
		}
		if c.flags&flagWrite != 0 {
			ks.Flags = acl.KeyRW | acl.KeyAccess | acl.KeyUpdate
		} else {
			ks.Flags = acl.KeyRO | acl.KeyAccess
		}
		keys = []acl.KeySpec{ks}
	}
	c.acl = acl.Register(c.name, acl.ParseCategories(strings.Join(aclCategories(c), " ")), keys, c.flags&flagNoAuth != 0)
}

// protectedCommandAllowed reports whether c may run cmd, a protected
// command (DEBUG, MODULE LOAD, LOADEX and UNLOAD).
func (s *Server) protectedCommandAllowed(c *client, cmd *command) bool {
	if cmd.name == "debug" {
		return s.allowProtected("enable-debug-command", c)
	}
	return s.allowProtected("enable-module-command", c)
}

// protectedCommandRefused is Redis's reply to a protected command that
// its parameter does not allow.
func protectedCommandRefused(cmd *command) string {
	name, param := "MODULE", "enable-module-command"
	if cmd.name == "debug" {
		name, param = "DEBUG", "enable-debug-command"
	}
	return "ERR " + name + " command not allowed. If the " + param + " option is set to \"local\", " +
		"you can run it from a local connection, otherwise you need to set this option " +
		"in the configuration file, and then restart the server."
}

// msgProtectedMode is Redis's reply to a non-loopback client in protected
// mode (networking.c clientAcceptHandler), sent before closing.
const msgProtectedMode = "DENIED Redis is running in protected mode because protected " +
	"mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you " +
	"may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command " +
	"'CONFIG SET protected-mode no' from the loopback interface " +
	"by connecting to Redis from the same host the server is " +
	"running, however MAKE SURE Redis is not publicly accessible " +
	"from internet if you do so. Use CONFIG REWRITE to make this " +
	"change permanent. " +
	"2) Alternatively you can just disable the protected mode by " +
	"editing the Redis configuration file, and setting the protected " +
	"mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart " +
	"it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for " +
	"the server to start accepting connections from the outside."

// protectedModeDenies reports whether a connection must be refused:
// protected mode is on, the default user needs no password, and the
// client is not on the loopback interface (127.0.0.1 or ::1 exactly, as
// Redis's islocalClient; a Unix socket counts as local).
func (s *Server) protectedModeDenies(nc net.Conn) bool {
	return ProtectedModeDenies(s.cfg.Bool("protected-mode"), s.users.Default().NoPass(), nc.RemoteAddr())
}

// ProtectedModeDenies is the protected-mode decision for a client at addr.
func ProtectedModeDenies(protected, defaultNoPass bool, addr net.Addr) bool {
	return protected && defaultNoPass && !isLocalClient(addr)
}

// isLocalClient is Redis's islocalClient: a Unix socket, or TCP from
// 127.0.0.1 or ::1 exactly (not the rest of 127.0.0.0/8).
func isLocalClient(addr net.Addr) bool {
	switch a := addr.(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.Equal(net.IPv4(127, 0, 0, 1)) || a.IP.Equal(net.IPv6loopback)
	}
	return false
}

// killUsers closes the connections authenticated as any of users (ACL
// DELUSER, ACL LOAD); self's is closed once its reply is written.
func (s *Server) killUsers(users []*acl.User, self *client) {
	if len(users) == 0 {
		return
	}
	for _, c := range s.snapshotClients() {
		if _, u := c.authUser(); u != nil && slices.Contains(users, u) {
			s.kill(c, self)
		}
	}
}

func aclCommands() []*command {
	const g = "server"
	const f = flagNoScript | flagLoading | flagStale
	return []*command{
		{name: "acl", arity: -2, group: g, since: "6.0.0", summary: "A container for Access List Control commands "},
		{name: "acl|cat", arity: -2, flags: f, group: g, since: "6.0.0", summary: "List the ACL categories or the commands inside a category", run: cmdACLCat},
		{name: "acl|deluser", arity: -3, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Remove the specified ACL users and the associated rules", run: cmdACLDeluser},
		{name: "acl|dryrun", arity: -4, flags: flagAdmin | f, group: g, since: "7.0.0", summary: "Returns whether the user can execute the given command without executing the command.", run: cmdACLDryrun},
		{name: "acl|genpass", arity: -2, flags: f, group: g, since: "6.0.0", summary: "Generate a pseudorandom secure password to use for ACL users", run: cmdACLGenpass},
		{name: "acl|getuser", arity: 3, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Get the rules for a specific ACL user", run: cmdACLGetuser},
		{name: "acl|list", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "List the current ACL rules in ACL config file format", run: cmdACLList},
		{name: "acl|log", arity: -2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "List latest events denied because of ACLs in place", run: cmdACLLog},
		{name: "acl|load", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Reload the ACLs from the configured ACL file", run: cmdACLLoad},
		{name: "acl|save", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Save the current ACL rules in the configured ACL file", run: cmdACLSave},
		{name: "acl|setuser", arity: -3, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "Modify or create the rules for a specific ACL user", run: cmdACLSetuser},
		{name: "acl|users", arity: 2, flags: flagAdmin | f, group: g, since: "6.0.0", summary: "List the username of all the configured ACL rules", run: cmdACLUsers},
		{name: "acl|whoami", arity: 2, flags: f, group: g, since: "6.0.0", summary: "Return the name of the user associated to the current connection", run: cmdACLWhoami},
		{name: "acl|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "6.0.0", summary: "Show helpful text about the different subcommands", run: cmdACLHelp},
	}
}

// subSyntaxError is addReplySubcommandSyntaxError.
func (x *call) subSyntaxError() {
	x.r.error("ERR unknown subcommand or wrong number of arguments for '" + sanitize(truncate(cstr(x.args[1]), 128)) +
		"'. Try " + strings.ToUpper(string(x.args[0])) + " HELP.")
}

func cmdACLCat(x *call) {
	switch len(x.args) {
	case 2:
		names := acl.CategoryNames()
		x.r.array(len(names))
		for _, n := range names {
			x.r.bulkString(n)
		}
	case 3:
		cat, ok := acl.CategoryByName(string(x.args[2]))
		if !ok {
			x.r.error("ERR Unknown category '" + sanitize(truncate(cstr(x.args[2]), 128)) + "'")
			return
		}
		var out [][]byte
		for _, n := range x.s.table.sortedNames() {
			c := x.s.table[n]
			if c.acl != nil && c.acl.Cats&cat != 0 {
				out = append(out, []byte(c.name))
			}
			for _, sub := range c.sortedSubs() {
				if sub.acl != nil && sub.acl.Cats&cat != 0 {
					out = append(out, []byte(sub.name))
				}
			}
		}
		x.r.bulks(out)
	default:
		x.subSyntaxError()
	}
}

func cmdACLSetuser(x *call) {
	ops := make([]string, 0, len(x.args)-3)
	for _, a := range x.args[3:] {
		ops = append(ops, string(a))
	}
	if err := x.s.users.SetUser(string(x.args[2]), ops...); err != nil {
		x.r.error("ERR " + formatErr(err.Error()))
		return
	}
	x.r.ok()
}

func cmdACLDeluser(x *call) {
	names := make([]string, 0, len(x.args)-2)
	for _, a := range x.args[2:] {
		names = append(names, string(a))
	}
	gone, err := x.s.users.DelUser(names...)
	if err != nil {
		x.r.error("ERR " + err.Error())
		return
	}
	x.s.killUsers(gone, x.c)
	x.r.int(int64(len(gone)))
}

func cmdACLGetuser(x *call) {
	u := x.s.users.Get(string(x.args[2]))
	if u == nil {
		x.r.null()
		return
	}
	x.r.mapLen(6)
	x.r.bulkString("flags")
	flags := u.Flags()
	x.r.setLen(len(flags))
	for _, f := range flags {
		x.r.bulkString(f)
	}
	x.r.bulkString("passwords")
	pw := u.Passwords()
	x.r.array(len(pw))
	for _, p := range pw {
		x.r.bulkString(p)
	}
	x.r.bulkString("commands")
	x.r.bulkString(u.CommandRules())
	x.r.bulkString("keys")
	x.r.bulkString(u.KeyRules())
	x.r.bulkString("channels")
	x.r.bulkString(u.ChannelRules())
	x.r.bulkString("selectors")
	x.r.array(0)
}

func cmdACLList(x *call) {
	lines := x.s.users.List()
	x.r.array(len(lines))
	for _, l := range lines {
		x.r.bulkString(l)
	}
}

func cmdACLUsers(x *call) {
	names := x.s.users.Names()
	x.r.array(len(names))
	for _, n := range names {
		x.r.bulkString(n)
	}
}

func cmdACLWhoami(x *call) {
	if x.c.aclUser == nil {
		x.r.null()
		return
	}
	x.r.bulkString(x.c.aclUser.Name())
}

const msgNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

func cmdACLLoad(x *call) {
	path := x.s.cfg.Get("aclfile")
	if path == "" {
		x.r.error(msgNoACLFile)
		return
	}
	old, err := x.s.users.Load(path)
	if err != nil {
		x.r.error("ERR " + formatErr(err.Error()))
		return
	}
	x.s.killUsers(old, x.c)
	x.r.ok()
}

func cmdACLSave(x *call) {
	path := x.s.cfg.Get("aclfile")
	if path == "" {
		x.r.error(msgNoACLFile)
		return
	}
	if err := x.s.users.Save(path); err != nil {
		x.s.log.Warn("ACL SAVE", "path", path, "err", err)
		x.r.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information")
		return
	}
	x.r.ok()
}

func cmdACLGenpass(x *call) {
	bits := int64(256)
	if len(x.args) > 3 {
		x.subSyntaxError()
		return
	}
	if len(x.args) == 3 {
		n, ok := x.intArg(2)
		if !ok {
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		x.r.error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
		return
	}
	buf := make([]byte, 4096/8)
	if _, err := rand.Read(buf); err != nil {
		x.r.error("ERR " + err.Error())
		return
	}
	x.r.bulkString(hex.EncodeToString(buf)[:(bits+3)/4])
}

func cmdACLDryrun(x *call) {
	u := x.s.users.Get(string(x.args[2]))
	if u == nil {
		x.r.error("ERR User '" + formatErr(cstr(x.args[2])) + "' not found")
		return
	}
	args := x.args[3:]
	cmd := x.s.table.lookup(args[0])
	if cmd != nil && cmd.subs != nil && len(args) >= 2 {
		cmd = cmd.subs[strings.ToLower(string(args[1]))]
	}
	if cmd == nil {
		x.r.error("ERR Command '" + formatErr(cstr(args[0])) + "' not found")
		return
	}
	if !arityOK(cmd.arity, len(args)) {
		x.r.error(msgArity(cmd.name))
		return
	}
	d, pos := acl.DeniedCommand, 0
	if cmd.acl != nil {
		d, pos = u.Check(cmd.acl, args)
	}
	switch d {
	case acl.Allowed:
		x.r.ok()
	case acl.DeniedCommand:
		x.r.bulkString("This user has no permissions to run the '" + cmd.name + "' command")
	case acl.DeniedKey:
		x.r.bulkString("This user has no permissions to access the '" + cstr(args[pos]) + "' key")
	case acl.DeniedChannel:
		x.r.bulkString("This user has no permissions to access the '" + cstr(args[pos]) + "' channel")
	}
}

func cmdACLHelp(x *call) {
	lines := []string{
		strings.ToUpper(string(x.args[0])) + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
		"HELP",
		"    Print this help.",
	}
	x.r.array(len(lines))
	for _, l := range lines {
		x.r.status(l)
	}
}
