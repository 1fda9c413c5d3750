package resp

import (
	"sync"
	"time"

	"sessiond/acl"
)

// CheckForTest runs u's ACL check for args as dispatch does, for tests
// that measure it. args must be allowed: this server has no ACL log (nor
// client) to record a denial in.
func CheckForTest(u *acl.User, args [][]byte) string {
	s := testCheckServer()
	cmd, msg := s.resolve(args)
	if msg != "" {
		return msg
	}
	return s.aclDenied(nil, u, cmd, args)
}

var testCheckServer = sync.OnceValue(func() *Server { return &Server{table: buildTable()} })

// Every test of the package runs with consumed requests overwritten before
// their buffer is reused, so that a command keeping an argument past its
// return without copying it fails a test instead of corrupting data.
func init() { poisonReads = true }

// LoopConns counts the connections on event loops (eventloop_linux.go).
func LoopConns(s *Server) int { return s.loopConns() }

// SetSyncWriteTimeout sets how long an RDB transfer waits for a client that
// does not read (cmd_sync.go) and returns a function that restores it.
func SetSyncWriteTimeout(d time.Duration) (restore func()) {
	old := syncWriteTimeout.Swap(int64(d))
	return func() { syncWriteTimeout.Store(old) }
}

// ActiveTransfers counts the RDB transfers in progress (cmd_sync.go).
func ActiveTransfers(s *Server) int { return int(s.syncs.active.Load()) }

// AddLatencySampleForTest records a latency monitor sample of ms for event
// at the keyspace clock's time, whatever the threshold.
func AddLatencySampleForTest(s *Server, event string, ms int64) { s.addLatencySample(event, ms) }

// LatencyCDFKeys are LATENCY HISTOGRAM's bucket keys (stats.go).
var LatencyCDFKeys = latencyCDFKeys[:]
