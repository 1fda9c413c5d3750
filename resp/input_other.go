//go:build !linux

package resp

import "net"

// socketHasInput: not looked at here; only the input already read counts
// (frameConn.writeSlow).
func socketHasInput(net.Conn) bool { return false }
