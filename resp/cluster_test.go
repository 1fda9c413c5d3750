package resp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestClusterCommandsMatchRedis: CLUSTER's subcommands, ASKING, READONLY
// and READWRITE answer as a Redis without cluster support does (tools probe
// with CLUSTER INFO and expect that error, not "unknown command"), arity
// and unknown-subcommand errors first; RESTORE-ASKING is RESTORE. RESP2
// and RESP3.
func TestClusterCommandsMatchRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3") // the reply names each server's version: not compared
		}
		for _, args := range []string{
			"CLUSTER", "CLUSTER HELP", "CLUSTER help x", "CLUSTER nosuch", "CLUSTER INFO", "cluster info x",
			"CLUSTER SLOTS", "CLUSTER SHARDS", "CLUSTER NODES", "CLUSTER MYID", "CLUSTER KEYSLOT", "CLUSTER KEYSLOT foo",
			"CLUSTER COUNTKEYSINSLOT 1", "CLUSTER GETKEYSINSLOT 1 10", "CLUSTER ADDSLOTS 1 2", "CLUSTER SETSLOT 1 NODE x",
			"CLUSTER RESET HARD", "CLUSTER FAILOVER", "CLUSTER MEET 127.0.0.1 7000",
			"ASKING", "ASKING x", "READONLY", "READWRITE",
		} {
			v := p.same(t, strings.Fields(args)...)
			require.True(t, v.isErr(), "%s: %s", args, v)
		}
		v := p.same(t, "CLUSTER", "INFO")
		require.Equal(t, "-ERR This instance has cluster support disabled\r\n", string(v.raw))
		p.same(t, "MULTI")
		p.same(t, "ASKING")
		p.same(t, "CLUSTER", "INFO")
		p.same(t, "EXEC")
	}

	p.same(t, "DEL", "k", "copy")
	p.same(t, "SET", "k", "v")
	payload, err := p.r.do("DUMP", "k")
	require.NoError(t, err)
	p.same(t, "RESTORE-ASKING", "copy", "0", payload.str)
	p.same(t, "RESTORE-ASKING", "copy", "0", payload.str)
	p.same(t, "GET", "copy")
	p.same(t, "RESTORE-ASKING", "copy")
}

// TestCommandInfoMatchesRedis: COMMAND INFO gives, for every command and
// subcommand sessiond has, Redis 7.0.15's name, arity, flags, first and
// last key and step, and ACL categories, in RESP2 and RESP3. The tips and
// key specs (fields 8 and 9) are not compared: sessiond leaves them empty
// (README). Exceptions are 7.2's, which sessiond follows where its
// behaviour is 7.2's: ZRANK and ZREVRANK take WITHSCORE (arity -3), and
// CLIENT NO-TOUCH and SETINFO are new in 7.2.
func TestCommandInfoMatchesRedis(t *testing.T) {
	p := newPair(t, testserver.Start(t).Addr, testserver.StartRedis(t).Addr)
	only72 := map[string]string{"zrank": ":-3", "zrevrank": ":-3", "client|no-touch": "", "client|setinfo": ""}
	list, err := p.s.do("COMMAND", "LIST")
	require.NoError(t, err)
	require.Greater(t, len(list.elems), 200)
	var names []string
	for _, e := range list.elems {
		if !strings.Contains(e.str, "|") { // subcommands: under their container's entry
			names = append(names, e.str)
		}
	}
	// same compares the first seven fields of one command's entry.
	same := func(name string, s, r rv) {
		t.Helper()
		for i := 0; i < 7; i++ {
			if i == 1 && only72[name] != "" {
				assert.Equal(t, only72[name], strings.TrimSpace(string(s.elems[1].raw)), "%s: 7.2's arity", name)
				continue
			}
			assert.Equal(t, string(r.elems[i].raw), string(s.elems[i].raw), "%s: field %d", name, i+1)
		}
	}
	sawSubs := 0
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3")
		}
		for _, name := range names {
			s, r := p.do(t, "COMMAND", "INFO", name)
			require.Len(t, s.elems, 1, name)
			require.Len(t, r.elems, 1, name)
			ss, rr := s.elems[0], r.elems[0]
			require.False(t, rr.null, "%s: Redis has no such command", name)
			require.GreaterOrEqual(t, len(ss.elems), 10, name)
			same(name, ss, rr)
			// Subcommands, by name (Redis lists them in hash order).
			rsubs := map[string]rv{}
			for _, sub := range rr.elems[9].elems {
				rsubs[sub.elems[0].str] = sub
			}
			for _, sub := range ss.elems[9].elems {
				subName := sub.elems[0].str
				sawSubs++
				want, ok := rsubs[subName]
				if _, new := only72[subName]; new {
					assert.False(t, ok, "%s: now in Redis 7.0 too?", subName)
					continue
				}
				if assert.True(t, ok, "%s: Redis has no such subcommand", subName) {
					same(subName, sub, want)
				}
			}
		}
	}
	require.Greater(t, sawSubs, 100, "subcommands compared")
}
