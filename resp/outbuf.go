package resp

import (
	"time"

	"sessiond/config"
)

// OutputLimit is one client class's client-output-buffer-limit: a client
// whose pending output reaches Hard, or stays at or over Soft for more than
// SoftSeconds, is disconnected. Zero disables a limit.
type OutputLimit = config.OutputBufferLimit

// Client classes of client-output-buffer-limit.
const (
	classNormal = iota
	classReplica
	classPubSub
	numClasses
)

// OutputLimit returns the current limit of a client class: "normal",
// "replica" (or "slave") or "pubsub". Pub/sub delivery uses the "pubsub"
// class with OutputLimitExceeded on its own pending count.
func (s *Server) OutputLimit(class string) OutputLimit {
	switch class {
	case "normal":
		return s.lim.output(classNormal)
	case "replica", "slave":
		return s.lim.output(classReplica)
	case "pubsub":
		return s.lim.output(classPubSub)
	}
	return OutputLimit{}
}

// OutputLimitExceeded is Redis's checkClientOutputBufferLimits: pending
// bytes at or over the hard limit, or at or over the soft limit for more
// than SoftSeconds. softSince is the caller's per-client record of when the
// soft limit was first reached (zero: not reached); it is updated here.
func OutputLimitExceeded(l OutputLimit, pending int64, softSince *time.Time, now time.Time) bool {
	if l.Hard > 0 && pending >= l.Hard {
		return true
	}
	if l.Soft == 0 || pending < l.Soft {
		*softSince = time.Time{}
		return false
	}
	if softSince.IsZero() {
		*softSince = now
		return false
	}
	return now.Sub(*softSince) > time.Duration(l.SoftSeconds)*time.Second
}
