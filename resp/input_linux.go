package resp

import (
	"net"

	"golang.org/x/sys/unix"
)

// socketHasInput reports whether nc's socket holds input not yet read
// (SIOCINQ, which is FIONREAD).
func socketHasInput(nc net.Conn) bool {
	rc, ok := rawSocket(nc)
	if !ok {
		return false
	}
	n := 0
	rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	return n > 0
}
