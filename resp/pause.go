package resp

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// CLIENT PAUSE: until the deadline, commands from clients wait before they
// run (in WRITE mode only commands that write do). A paused command waits
// before it takes its gate shard, so it holds up nothing but itself, and
// EXEC (which takes the whole gate) still drains. The command path pays
// one atomic load when nothing is paused.

const (
	pauseOff int32 = iota
	pauseWrite
	pauseAll
)

type pauseState struct {
	mode atomic.Int32
	mu   sync.Mutex
	end  time.Time
	// wake is closed (and replaced) when the pause is lifted or changed,
	// releasing the waiting commands.
	wake chan struct{}
}

func (s *Server) pauseClients(mode int32, end time.Time) {
	p := &s.pause
	p.mu.Lock()
	// Like Redis, the mode is replaced but a running pause's end is never
	// brought forward.
	if p.mode.Load() != pauseOff && p.end.After(end) {
		end = p.end
	}
	p.end = end
	p.mode.Store(mode)
	if p.wake != nil {
		close(p.wake)
	}
	p.wake = make(chan struct{})
	p.mu.Unlock()
}

func (s *Server) unpauseClients() {
	p := &s.pause
	p.mu.Lock()
	p.mode.Store(pauseOff)
	if p.wake != nil {
		close(p.wake)
		p.wake = nil
	}
	p.mu.Unlock()
}

// waitPause blocks c's command while clients are paused for it. On an
// event loop it does not wait: it returns false with c.deferred set, and
// the command runs again once the connection has a goroutine. paused
// reports whether a pause was in force, so that the command may have
// waited.
func (s *Server) waitPause(c *client, cmd *command, args [][]byte) (run, paused bool) {
	if s.pause.mode.Load() == pauseOff {
		return true, false
	}
	return s.waitPauseSlow(c, cmd, args), true
}

func (s *Server) waitPauseSlow(c *client, cmd *command, args [][]byte) bool {
	if c.detached.Load() { // monitors, like replicas, are never paused
		return true
	}
	p := &s.pause
	for {
		p.mu.Lock()
		mode, end, wake := p.mode.Load(), p.end, p.wake
		if mode != pauseOff && !time.Now().Before(end) {
			p.mode.Store(pauseOff)
			if p.wake != nil {
				close(p.wake)
				p.wake = nil
			}
			mode = pauseOff
		}
		p.mu.Unlock()
		if mode == pauseOff || (mode == pauseWrite && !s.writes(c, cmd, args)) {
			return true
		}
		if c.onLoop {
			c.deferred = true
			return false
		}
		t := time.NewTimer(time.Until(end))
		select {
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// writes reports whether CLIENT PAUSE WRITE holds cmd with args: a write
// command, a script or a PUBLISH (which Redis may propagate; not a script
// declaring no-writes), or an EXEC whose queue holds one.
func (s *Server) writes(c *client, cmd *command, args [][]byte) bool {
	if cmd.name == "exec" {
		for _, q := range c.queue {
			if qc, _ := s.resolve(q); qc != nil && s.mayWrite(qc, q) {
				return true
			}
		}
		return false
	}
	return s.mayWrite(cmd, args)
}

// mayWrite is Redis's CMD_WRITE | CMD_MAY_REPLICATE for cmd with args: a
// script's declared flags decide for it (evalGetCommandFlags). An EVALSHA
// of a script not cached counts as writing, as in Redis.
func (s *Server) mayWrite(cmd *command, args [][]byte) bool {
	switch {
	case cmd.flags&flagWrite != 0:
		return true
	case cmd.flags&flagMayReplicate == 0:
		return false
	case cmd.name == "eval", cmd.name == "evalsha", cmd.name == "fcall":
		noWrites, _, ok := s.declaredFlags(cmd, args)
		return !(ok && noWrites)
	}
	return true
}

func pauseCommands() []*command {
	const g = "connection"
	f := flagAdmin | flagNoScript | flagLoading | flagStale
	return []*command{
		{name: "client|pause", arity: -3, flags: f, group: g, since: "2.9.50", summary: "Stop processing commands from clients for some time", run: cmdClientPause},
		{name: "client|unpause", arity: 2, flags: f, group: g, since: "6.2.0", summary: "Resume processing of clients that were paused", run: cmdClientUnpause},
	}
}

func cmdClientPause(x *call) {
	if len(x.args) > 4 {
		x.subcommandSyntaxError()
		return
	}
	mode := pauseAll
	if len(x.args) == 4 {
		switch string(lower(x.args[3])) {
		case "write":
			mode = pauseWrite
		case "all":
		default:
			x.r.error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := parseInt64(x.args[2])
	if !ok {
		x.r.error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		x.r.error("ERR timeout is negative")
		return
	}
	end := time.Now()
	if ms > 0 {
		ms = min(ms, math.MaxInt64/int64(time.Millisecond))
		end = end.Add(time.Duration(ms) * time.Millisecond)
	}
	x.s.pauseClients(mode, end)
	x.r.ok()
}

func cmdClientUnpause(x *call) {
	x.s.unpauseClients()
	x.r.ok()
}

func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}
