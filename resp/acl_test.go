package resp_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// aclStep is one command of a script run on both servers. conn picks the
// connection (each server gets the same numbered connections, opened on
// first use); cmp says how the replies are compared.
type aclStep struct {
	conn int
	args []string
	cmp  string // "" exact; "len": same type and length; "rules": ACL LIST lines with single-command rules sorted; "getuser": likewise for ACL GETUSER
}

func s(conn int, args ...string) aclStep { return aclStep{conn: conn, args: args} }

// aclRunner runs scripts on sessiond and redis-server, keeping its
// numbered connections open from one script to the next.
type aclRunner struct {
	t         *testing.T
	sess, red string
	conns     map[string]map[int]*rconn
}

func newACLRunner(t *testing.T, sess, red string) *aclRunner {
	return &aclRunner{t: t, sess: sess, red: red, conns: map[string]map[int]*rconn{sess: {}, red: {}}}
}

func (ar *aclRunner) conn(addr string, i int) *rconn {
	if c := ar.conns[addr][i]; c != nil {
		return c
	}
	c := dialRaw(ar.t, addr)
	ar.conns[addr][i] = c
	return c
}

// runACLScript runs steps on sessiond and redis-server and compares every
// reply byte for byte (or as cmp says).
func runACLScript(t *testing.T, sess, red string, steps []aclStep) {
	t.Helper()
	newACLRunner(t, sess, red).run(steps)
}

func (ar *aclRunner) run(steps []aclStep) {
	t := ar.t
	t.Helper()
	for _, st := range steps {
		a, errA := ar.conn(ar.sess, st.conn).do(st.args...)
		b, errB := ar.conn(ar.red, st.conn).do(st.args...)
		if st.cmp == "closed" {
			assert.Error(t, errB, "redis %q", st.args)
			assert.Error(t, errA, "sessiond %q: the connection should have been closed", st.args)
			continue
		}
		require.NoError(t, errA, "sessiond %q", st.args)
		require.NoError(t, errB, "redis %q", st.args)
		switch st.cmp {
		case "len":
			assert.Equal(t, b.typ, a.typ, "%q", st.args)
			assert.Equal(t, len(b.str), len(a.str), "%q", st.args)
		case "getuser":
			require.Equal(t, len(b.elems), len(a.elems), "%q: redis %s, sessiond %s", st.args, b, a)
			for i := range b.elems {
				assert.Equal(t, b.elems[i].typ, a.elems[i].typ, "%q", st.args)
				assert.Equal(t, canonRules(b.elems[i].str), canonRules(a.elems[i].str), "%q", st.args)
			}
		case "rules":
			require.Equal(t, len(b.elems), len(a.elems), "%q: redis %s, sessiond %s", st.args, b, a)
			for i := range b.elems {
				assert.Equal(t, canonRules(b.elems[i].str), canonRules(a.elems[i].str), "%q", st.args)
			}
		default:
			assert.Equal(t, b.String(), a.String(), "%q", st.args)
		}
	}
}

// canonRules sorts the trailing single-command rules of an ACL LIST line:
// Redis emits them in its hash table's order, which changes between runs.
func canonRules(line string) string {
	f := strings.Fields(line)
	i := len(f)
	for i > 0 && (f[i-1][0] == '+' || f[i-1][0] == '-') && !strings.HasPrefix(f[i-1][1:], "@") {
		i--
	}
	slices.Sort(f[i:])
	return strings.Join(f, " ")
}

func TestACLMatchesRedis(t *testing.T) {
	red := testserver.StartRedis(t)
	sess := testserver.Start(t)
	const pwHash = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8" // sha256("password")
	steps := []aclStep{
		s(0, "ACL", "WHOAMI"),
		s(0, "ACL", "USERS"),
		s(0, "ACL", "LIST"),
		s(0, "ACL", "GETUSER", "default"),
		s(0, "ACL", "GETUSER", "nobody"),
		s(0, "ACL", "CAT"),
		s(0, "ACL", "CAT", "nosuch"),
		s(0, "ACL", "CAT", "read", "extra"),
		s(0, "ACL", "HELP", "x"),
		s(0, "ACL", "NOSUCH"),
		s(0, "ACL"),
		// Rule errors, worded as Redis's.
		s(0, "ACL", "SETUSER", "bad", "+nosuchcommand"),
		s(0, "ACL", "SETUSER", "bad", "+@nosuchcategory"),
		s(0, "ACL", "SETUSER", "bad", "bogus"),
		s(0, "ACL", "SETUSER", "bad", "allkeys", "~x"),
		s(0, "ACL", "SETUSER", "bad", "&*", "&x"),
		s(0, "ACL", "SETUSER", "bad", "<notthere"),
		s(0, "ACL", "SETUSER", "bad", "#abc"),
		s(0, "ACL", "SETUSER", "bad", "#"+strings.ToUpper(pwHash)),
		s(0, "ACL", "SETUSER", "bad", "+config|get|x"),
		s(0, "ACL", "SETUSER", "bad", "+get|"),
		s(0, "ACL", "SETUSER", "bad", "-select|0"),
		s(0, "ACL", "SETUSER", "bad", "~a b"),
		s(0, "ACL", "SETUSER", "bad", "%X~a"),
		s(0, "ACL", "SETUSER", "a b", "on"),
		s(0, "ACL", "USERS"), // no partial user was created
		s(0, "ACL", "DELUSER", "default"),
		s(0, "ACL", "DELUSER", "nobody", "nobody2"),
		s(0, "ACL", "LOAD"),
		s(0, "ACL", "SAVE"),
		s(0, "ACL", "GENPASS", "0"),
		s(0, "ACL", "GENPASS", "4097"),
		s(0, "ACL", "GENPASS", "x"),
		{conn: 0, args: []string{"ACL", "GENPASS"}, cmp: "len"},
		{conn: 0, args: []string{"ACL", "GENPASS", "5"}, cmp: "len"},
		// Users.
		s(0, "ACL", "SETUSER", "alice", "on", ">secret", "~sess:*", "+@read", "+@string", "-set", "+select|0"),
		s(0, "ACL", "SETUSER", "bob", "on", "nopass", "%R~r:*", "%W~w:*", "+@all"),
		s(0, "ACL", "SETUSER", "carol", "on", "#"+pwHash, "allkeys", "+@all", "-@dangerous"),
		s(0, "ACL", "SETUSER", "dave", ">x"), // off: cannot log in
		{conn: 0, args: []string{"ACL", "GETUSER", "alice"}, cmp: "getuser"},
		s(0, "ACL", "GETUSER", "bob"),
		{conn: 0, args: []string{"ACL", "LIST"}, cmp: "rules"},
		s(0, "ACL", "USERS"),
		s(0, "ACL", "DRYRUN", "alice", "get", "sess:1"),
		s(0, "ACL", "DRYRUN", "alice", "set", "sess:1", "v"),
		s(0, "ACL", "DRYRUN", "alice", "get", "other"),
		s(0, "ACL", "DRYRUN", "alice", "mget", "sess:1", "x"),
		s(0, "ACL", "DRYRUN", "alice", "select", "0"),
		s(0, "ACL", "DRYRUN", "alice", "select", "1"),
		s(0, "ACL", "DRYRUN", "alice", "config", "get", "x"),
		s(0, "ACL", "DRYRUN", "alice", "nosuch"),
		s(0, "ACL", "DRYRUN", "alice", "get"),
		s(0, "ACL", "DRYRUN", "nobody", "get", "x"),
		s(0, "ACL", "DRYRUN", "bob", "set", "w:1", "v", "GET"),
		s(0, "ACL", "DRYRUN", "bob", "copy", "r:1", "w:1"),
		s(0, "ACL", "DRYRUN", "bob", "copy", "w:1", "r:1"),
		s(0, "ACL", "DRYRUN", "bob", "smove", "r:1", "w:1", "m"),
		s(0, "ACL", "DRYRUN", "bob", "sintercard", "2", "r:1", "w:1"),
		s(0, "ACL", "DRYRUN", "bob", "sinterstore", "w:d", "r:1", "r:2"),
		s(0, "SET", "sess:1", "v"),
		s(0, "SADD", "r:s", "m"),
		// Authentication.
		s(1, "AUTH", "pw"),
		s(1, "AUTH", "alice", "wrong"),
		s(1, "AUTH", "nobody", "secret"),
		s(1, "AUTH", "dave", "x"),
		s(1, "AUTH", "a", "b", "c"),
		s(1, "AUTH", "alice", "secret"),
		s(1, "ACL", "WHOAMI"),
		s(1, "GET", "sess:1"),
		s(1, "GET", "other"),
		s(1, "MGET", "sess:1", "other"),
		s(1, "SET", "sess:1", "x"),
		s(1, "SELECT", "0"),
		s(1, "SELECT", "1"),
		s(1, "CONFIG", "GET", "maxclients"),
		s(1, "PING"),
		s(1, "MULTI"),
		s(1, "EXEC"),
		s(1, "HELLO", "2", "AUTH", "alice", "nope"),
		s(2, "AUTH", "bob", "anything"),
		s(2, "GET", "r:1"),
		s(2, "SET", "r:1", "v"),
		s(2, "SET", "w:1", "v"),
		s(2, "GET", "w:1"),
		s(2, "SET", "w:1", "v", "GET"),
		s(2, "SMEMBERS", "r:s"),
		s(2, "SMOVE", "r:s", "w:s", "m"),
		s(2, "COPY", "r:1", "w:2"),
		s(2, "DEL", "r:1"),
		s(2, "EXISTS", "w:1"),
		s(2, "MULTI"),
		s(2, "GET", "w:1"),
		s(2, "SET", "w:1", "x"),
		s(2, "EXEC"),
		s(3, "AUTH", "carol", "password"),
		s(3, "FLUSHALL"),
		s(3, "CONFIG", "SET", "maxclients", "100"),
		s(3, "KEYS", "*"),
		s(3, "MULTI"),
		s(3, "SET", "k", "v"),
		s(3, "DEBUG", "SLEEP", "0"), // refused before the ACL check (enable-debug-command)
		s(3, "EXEC"),
		// Rules changed while a transaction is queued.
		s(3, "MULTI"),
		s(3, "SET", "k", "v2"),
		s(0, "ACL", "SETUSER", "carol", "-set"),
		s(3, "EXEC"),
		// Deleting a user closes its connections.
		s(0, "ACL", "DELUSER", "carol", "nobody"),
		s(0, "ACL", "USERS"),
		aclStep{conn: 3, args: []string{"PING"}, cmp: "closed"},
		// requirepass is the default user's password.
		s(0, "CONFIG", "SET", "requirepass", "pw"),
		s(0, "ACL", "GETUSER", "default"),
		s(4, "GET", "k"),
		s(4, "EXEC"),
		s(4, "AUTH", "wrong"),
		s(4, "AUTH", "pw"),
		s(4, "GET", "k"),
		s(5, "HELLO", "2", "AUTH", "default", "wrong"),
		s(5, "HELLO", "2"),
		s(5, "AUTH", "default", "pw"),
		s(4, "CONFIG", "SET", "requirepass", ""),
		s(4, "ACL", "GETUSER", "default"),
		s(6, "GET", "k"),
		s(4, "RESET"),
		s(4, "ACL", "WHOAMI"),
	}
	runACLScript(t, sess.Addr, red.Addr, steps)
}

func TestACLFileMatchesRedis(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	good := "user default on nopass ~* &* +@all\n\nuser alice on >secret ~sess:* resetchannels -@all +@read +get\nuser bob off nopass %R~x:* -@all +@set\n"
	require.NoError(t, os.WriteFile(path, []byte(good), 0o644))
	red := testserver.StartRedis(t, "--aclfile", path)
	sess := testserver.Start(t, testserver.WithConfig("aclfile", path))
	bad := "user alice on >a\n# a comment\nuser alice on\nuser bob +nosuch +@nosuchcat bogus\nuser carol ~a allkeys\nuser\ndan on\nuser eve on ~x:* allkeys ~y\n"
	steps := []aclStep{
		{conn: 0, args: []string{"ACL", "LIST"}, cmp: "rules"},
		s(1, "AUTH", "alice", "secret"),
		s(1, "GET", "sess:x"),
		s(0, "ACL", "SETUSER", "carol", "on", ">pw", "~c:*", "+@all", "-flushall"),
		s(0, "ACL", "SAVE"),
		s(0, "ACL", "LOAD"),
		{conn: 0, args: []string{"ACL", "LIST"}, cmp: "rules"},
		{conn: 1, args: []string{"PING"}, cmp: "closed"}, // ACL LOAD replaced alice: her connection was closed
	}
	ar := newACLRunner(t, sess.Addr, red.Addr)
	ar.run(steps[:4])
	// Both servers save to the same file in turn: compare what they wrote.
	saved := func(addr string) []string {
		_, err := dialRaw(t, addr).do("ACL", "SAVE")
		require.NoError(t, err)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		lines := strings.Split(string(b), "\n")
		for i := range lines {
			lines[i] = canonRules(lines[i])
		}
		return lines
	}
	assert.Equal(t, saved(red.Addr), saved(sess.Addr))
	ar.run(steps[4:])
	require.NoError(t, os.WriteFile(path, []byte(bad), 0o644))
	ar.run([]aclStep{
		s(0, "ACL", "LOAD"),
		{conn: 0, args: []string{"ACL", "LIST"}, cmp: "rules"}, // unchanged
	})
}
