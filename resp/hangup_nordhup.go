//go:build unix && !linux

package resp

// pollRDHUP: only Linux reports the peer's shutdown with input unread;
// elsewhere a blocked client with unread input is freed once the socket
// hangs up entirely or fails (hangup_unix.go).
const pollRDHUP = 0
