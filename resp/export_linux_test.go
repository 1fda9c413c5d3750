package resp

import "time"

// StopLoopForTest stops event loop i, as a loop that failed stops, and
// waits until it has closed its descriptors.
func StopLoopForTest(s *Server, i int) {
	var l *eventLoop
	for l == nil { // Serve starts the loops
		s.mu.Lock()
		if i < len(s.loops) {
			l = s.loops[i]
		}
		s.mu.Unlock()
		time.Sleep(time.Millisecond)
	}
	stopLoops([]*eventLoop{l})
	for {
		l.mu.Lock()
		done := l.done
		l.mu.Unlock()
		if done {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
