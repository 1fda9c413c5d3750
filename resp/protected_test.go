package resp_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestProtectedCommandsMatchRedis: with Redis's defaults
// (enable-debug-command and enable-module-command no) every DEBUG and
// MODULE LOAD, LOADEX and UNLOAD is refused with Redis's error, after the
// arity and unknown-subcommand checks and before authentication and the
// ACL check, and refused inside MULTI (EXEC then aborts); MODULE LIST is
// empty and MODULE HELP is Redis's; both parameters are set at start only.
// RESP2 and RESP3.
func TestProtectedCommandsMatchRedis(t *testing.T) {
	sd, red := testserver.Start(t).Addr, testserver.StartRedis(t).Addr
	p := newPair(t, sd, red)
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3") // the reply names each server's version: not compared
		}
		// MODULE HELP: Redis 7.0 ends with "Prints this help.", 7.2 (whose
		// replies sessiond gives) with "Print this help.".
		a, b := p.do(t, "MODULE", "HELP")
		require.Equal(t, strings.Replace(string(b.raw), "+    Prints this help.\r\n", "+    Print this help.\r\n", 1), string(a.raw))
		for _, args := range []string{
			"DEBUG", "DEBUG SLEEP 0", "debug help", "DEBUG nosuch", "DEBUG OBJECT k", "DEBUG JMAP",
			"MODULE", "module help x", "MODULE LIST", "MODULE LIST x", "MODULE nosuch",
			"MODULE LOAD", "MODULE LOAD /nosuch/x.so", "MODULE LOAD /nosuch/x.so a b", "MODULE LOADEX /nosuch/x.so CONFIG a b ARGS c",
			"MODULE UNLOAD", "MODULE UNLOAD x", "MODULE UNLOAD x y",
			"CONFIG GET enable-debug-command", "CONFIG GET enable-module-command",
			"CONFIG SET enable-debug-command yes", "CONFIG SET enable-module-command local",
		} {
			p.same(t, strings.Fields(args)...)
		}
		v := p.same(t, "DEBUG", "SLEEP", "0")
		require.Equal(t, "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", "+
			"you can run it from a local connection, otherwise you need to set this option in the configuration file, "+
			"and then restart the server.\r\n", string(v.raw))
		v = p.same(t, "MODULE", "LIST")
		require.Equal(t, "*0\r\n", string(v.raw))

		// Refused when queued: the transaction is aborted.
		p.same(t, "MULTI")
		p.same(t, "DEBUG", "SLEEP", "0")
		p.same(t, "MODULE", "LOAD", "x")
		p.same(t, "MODULE", "LIST")
		p.same(t, "EXEC")
	}

	// Refused before the ACL check: a user without @dangerous gets the
	// same error, not NOPERM (MODULE LIST, which is not protected, NOPERM).
	p.same(t, "ACL", "SETUSER", "u", "on", "nopass", "~*", "+@all", "-@dangerous")
	u := newPair(t, sd, red)
	u.same(t, "AUTH", "u", "x")
	for _, args := range []string{"DEBUG SLEEP 0", "MODULE LOAD x", "MODULE LIST", "DEBUG"} {
		u.same(t, strings.Fields(args)...)
	}
	// And before authentication.
	p.same(t, "CONFIG", "SET", "requirepass", "pw")
	n := newPair(t, sd, red)
	for _, args := range []string{"DEBUG SLEEP 0", "MODULE UNLOAD x", "MODULE LIST", "DEBUG", "MODULE LOAD"} {
		n.same(t, strings.Fields(args)...)
	}
	p.same(t, "AUTH", "pw")
	// Each refusal counts as a rejected call of the command.
	for _, name := range []string{"debug", "module|load", "module|list"} {
		a, b := p.do(t, "INFO", "commandstats")
		assert.Equal(t, cmdstatCounts(b.str, name), cmdstatCounts(a.str, name), name)
	}
}

// cmdstatCounts is the calls, rejected_calls and failed_calls of name in
// INFO commandstats text.
func cmdstatCounts(info, name string) string {
	m := regexp.MustCompile(`(?m)^cmdstat_` + regexp.QuoteMeta(name) + `:calls=(\d+),.*rejected_calls=(\d+),failed_calls=(\d+)`).FindStringSubmatch(info)
	if m == nil {
		return ""
	}
	return strings.Join(m[1:], ",")
}

// TestProtectedCommandsEnabled: enable-debug-command and
// enable-module-command yes or local (the test's clients are on the
// loopback) let DEBUG and MODULE LOAD run; modules never load.
func TestProtectedCommandsEnabled(t *testing.T) {
	for _, mode := range []string{"yes", "local"} {
		s := dialRaw(t, testserver.Start(t, testserver.WithConfig("enable-debug-command", mode),
			testserver.WithConfig("enable-module-command", mode)).Addr)
		for args, want := range map[string]string{
			"DEBUG SLEEP 0":                   "+OK\r\n",
			"MODULE LOAD x.so":                "-ERR Error loading the extension. Please check the server logs.\r\n",
			"MODULE UNLOAD x":                 "-ERR Error unloading module: no such module with that name\r\n",
			"CONFIG GET enable-debug-command": "*2\r\n$20\r\nenable-debug-command\r\n$" + strconv.Itoa(len(mode)) + "\r\n" + mode + "\r\n",
		} {
			v, err := s.do(strings.Fields(args)...)
			require.NoError(t, err)
			assert.Equal(t, want, string(v.raw), "%s: %s", mode, args)
		}
	}
}
