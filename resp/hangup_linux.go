package resp

import "golang.org/x/sys/unix"

// pollRDHUP is the peer's shutdown of its side, which poll reports even
// with input still unread (hangup_unix.go).
const pollRDHUP = unix.POLLRDHUP
