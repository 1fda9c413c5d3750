package resp

import "sessiond/config"

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
