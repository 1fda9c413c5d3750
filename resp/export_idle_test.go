package resp

import "time"

// SweepIdleForTest runs one idle sweep as if the time were now, and
// returns how many clients it closes (idle.go).
func SweepIdleForTest(s *Server, now time.Time) int { return s.sweepIdle(now) }

// BusyClientsForTest counts the clients marked busy (MONITORs aside: a
// detached client stays marked).
func BusyClientsForTest(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.clients {
		if c.busy.Load() && !c.detached.Load() {
			n++
		}
	}
	return n
}
