package resp

import (
	"sync"

	"sessiond/acl"
)

// CheckForTest runs u's ACL check for args as dispatch does, for tests
// that measure it.
func CheckForTest(u *acl.User, args [][]byte) string {
	s := testCheckServer()
	cmd, msg := s.resolve(args)
	if msg != "" {
		return msg
	}
	return s.aclDenied(u, cmd, args)
}

var testCheckServer = sync.OnceValue(func() *Server { return &Server{table: buildTable()} })
