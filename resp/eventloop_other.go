//go:build !linux

package resp

import "net"

// Event loops are Linux only (eventloop_linux.go); elsewhere every
// connection has a goroutine.

type eventLoop struct{}

func (s *Server) startLoops(int)                {}
func stopLoops([]*eventLoop)                    {}
func waitLoops([]*eventLoop)                    {}
func (s *Server) newConn(nc net.Conn) *loopConn { return newLoopConn(nc) }
func (s *Server) startOnLoop(c *loopConn) bool  { return false }
func (c *loopConn) hasPending() bool            { return false }
func (c *loopConn) release()                    {}
func (c *loopConn) writePending() error         { return nil }

func (s *Server) loopConns() int { return 0 }
