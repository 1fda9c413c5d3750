//go:build !unix

package resp

import "net"

// watchHangup does not watch here: a blocked client that disconnects is
// noticed when its wait ends (hangup_unix.go).
func watchHangup(net.Conn) (gone <-chan struct{}, stop func()) { return nil, func() {} }
