package acl_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"sessiond/acl"
	"sessiond/internal/testserver"
)

// ruleSets are ACL SETUSER argument lists whose ACL LIST description must
// match redis-server's.
var ruleSets = [][]string{
	{},
	{"on"},
	{"reset"},
	{"on", ">pw", "~sess:*", "%R~ro:*", "+@read", "+@string", "-get", "+select|0", "&chan"},
	{"on", "nopass", "+@all", "-@dangerous", "#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "allkeys"},
	{"+@all", "-@admin", "+config|get", "-flushall", "~a*", "%W~w:*"},
	{"-@all", "+get", "+set", "+del", "+expire", "+sadd", "+smembers", "+srem"},
	{"+@set", "+@string", "-@write", "+@fast"},
	{"+@all", "-@write", "-@read", "+ping"},
	{"+client", "-client|kill", "+@keyspace", "-@slow"},
	{"allcommands", "nocommands", "+@hash", "+@list", "-lpop", "+debug|object", "+select|1", "+select|2"},
	{"+@all", "-@all", "+@transaction", "+@connection", "+@pubsub", "resetchannels", "&a*", "&b"},
	{"on", ">a", ">b", "<a", "sanitize-payload"},
	{"skip-sanitize-payload", "%RW~x", "%R~x", "~y", "%W~z"},
	{"+@all", "-config|set", "-config|get", "-config"},
	{"-@all", "+@admin", "-@dangerous", "+@scripting", "-eval"},
}

func TestDescribeMatchesRedis(t *testing.T) {
	r := testserver.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, Protocol: 2})
	defer rdb.Close()
	ctx := context.Background()
	reg := acl.NewRegistry()
	for i, rules := range ruleSets {
		name := "u" + string(rune('a'+i))
		args := []any{"ACL", "SETUSER", name}
		for _, op := range rules {
			args = append(args, op)
		}
		require.NoError(t, rdb.Do(ctx, args...).Err(), "%v", rules)
		require.NoError(t, reg.SetUser(name, rules...), "%v", rules)
	}
	want, err := rdb.Do(ctx, "ACL", "LIST").StringSlice()
	require.NoError(t, err)
	have := reg.List()
	require.Len(t, have, len(want))
	for i := range want {
		assert.Equal(t, canon(want[i]), canon(have[i]), "redis: %s\nsessiond: %s", want[i], have[i])
	}
}

// canon sorts the single-command rules that follow the category rules:
// Redis emits those in its hash table's order, which changes from run to
// run.
func canon(line string) string {
	f := strings.Fields(line)
	i := len(f)
	for i > 0 && (strings.HasPrefix(f[i-1], "+") || strings.HasPrefix(f[i-1], "-")) && !strings.HasPrefix(f[i-1][1:], "@") {
		i--
	}
	slices.Sort(f[i:])
	return strings.Join(f, " ")
}

// TestKeyFlagNames: each key-spec flag constant is named as COMMAND names
// it (the names are listed by bit; a reordered constant would misname).
func TestKeyFlagNames(t *testing.T) {
	for f, want := range map[acl.KeyFlags]string{
		acl.KeyRO: "RO", acl.KeyRW: "RW", acl.KeyOW: "OW", acl.KeyRM: "RM", acl.KeyAccess: "access", acl.KeyUpdate: "update", acl.KeyInsert: "insert",
		acl.KeyDelete: "delete", acl.KeyNotKey: "not_key", acl.KeyIncomplete: "incomplete", acl.KeyVariableFlags: "variable_flags",
	} {
		require.Equal(t, []string{want}, f.Names())
	}
	require.Equal(t, []string{"RW", "access", "update"}, (acl.KeyUpdate | acl.KeyAccess | acl.KeyRW).Names(), "in Redis's order")
}
