package resp_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"sessiond/internal/testserver"
)

// TestReplicationCommandsMatchRedis: REPLICAOF and SLAVEOF NO ONE are +OK,
// as on a master; FAILOVER finds no replica and FAILOVER ABORT no failover
// in progress; the argument errors are Redis's, in Redis's order. RESP2
// and RESP3. (A valid REPLICAOF <host> <port> is sent to sessiond only:
// Redis would become a replica.)
func TestReplicationCommandsMatchRedis(t *testing.T) {
	sd := testserver.Start(t).Addr
	p := newPair(t, sd, testserver.StartRedis(t).Addr)
	for _, proto := range []string{"2", "3"} {
		if proto == "3" {
			p.do(t, "HELLO", "3")
		}
		for _, args := range []string{
			"REPLICAOF NO ONE", "replicaof no one", "SLAVEOF NO ONE", "REPLICAOF", "REPLICAOF NO", "REPLICAOF a b c",
			"REPLICAOF localhost abc", "REPLICAOF localhost -1", "REPLICAOF localhost 65536", "REPLICAOF localhost 1.5",
			"SLAVEOF localhost x", "REPLICAOF no 99999",
			"FAILOVER", "FAILOVER ABORT", "failover abort", "FAILOVER ABORT x", "FAILOVER TO", "FAILOVER TO h",
			"FAILOVER TO h 1", "FAILOVER TO h x", "FAILOVER TO h 1 TO h 2", "FAILOVER TO h 1 FORCE", "FAILOVER FORCE",
			"FAILOVER FORCE FORCE", "FAILOVER TIMEOUT", "FAILOVER TIMEOUT 0", "FAILOVER TIMEOUT -5", "FAILOVER TIMEOUT x",
			"FAILOVER TIMEOUT 10", "FAILOVER TIMEOUT 10 TIMEOUT 20", "FAILOVER TO h 1 TIMEOUT 100 FORCE", "FAILOVER nosuch",
			"ROLE",
		} {
			p.same(t, strings.Fields(args)...)
		}
		v := p.same(t, "FAILOVER")
		require.Equal(t, "-ERR FAILOVER requires connected replicas.\r\n", string(v.raw))
		p.same(t, "MULTI")
		p.same(t, "REPLICAOF", "NO", "ONE")
		p.same(t, "FAILOVER", "ABORT")
		p.same(t, "EXEC")
	}
	s := dialRaw(t, sd)
	v, err := s.do("REPLICAOF", "127.0.0.1", "6380")
	require.NoError(t, err)
	require.Equal(t, "-ERR sessiond does not support replication: it cannot become a replica (REPLICAOF NO ONE is accepted, as on a master)\r\n", string(v.raw))
	v, err = s.do("ROLE")
	require.NoError(t, err)
	require.Equal(t, "master", v.elems[0].str)
}
