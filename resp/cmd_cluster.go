package resp

// clusterCommands are the cluster commands of a Redis that runs without
// cluster support, as sessiond always does: every CLUSTER subcommand,
// ASKING (and READONLY/READWRITE, in cmd_server.go) answer "ERR This
// instance has cluster support disabled", after the usual arity and
// unknown-subcommand checks, as Redis's do. Clients and tools probe with
// CLUSTER INFO or CLUSTER SLOTS to learn whether they talk to a cluster
// (Spring Boot's health check, ioredis and phpredis cluster set-ups, GUI
// tools); that error, not "unknown command", is what they expect from a
// standalone server. RESTORE-ASKING, which a cluster's MIGRATE sends, is
// RESTORE, as in a standalone Redis.
func clusterCommands() []*command {
	const g = "cluster"
	return []*command{
		{name: "asking", arity: 1, flags: flagFast, group: g, since: "3.0.0", summary: "Sent by cluster clients after an -ASK redirect", run: cmdClusterDisabled},
		{name: "restore-asking", arity: -4, flags: flagWrite | flagDenyOOM | flagAsking, firstKey: 1, lastKey: 1, step: 1, group: "server", since: "3.0.0", summary: "An internal command for migrating keys in a cluster", run: cmdRestore},
		{name: "cluster", arity: -2, group: g, since: "3.0.0", summary: "A container for cluster commands"},
		{name: "cluster|addslots", arity: -3, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Assign new hash slots to receiving node", run: cmdClusterDisabled},
		{name: "cluster|addslotsrange", arity: -4, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "7.0.0", summary: "Assign new hash slots to receiving node", run: cmdClusterDisabled},
		{name: "cluster|bumpepoch", arity: 2, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Advance the cluster config epoch", run: cmdClusterDisabled},
		{name: "cluster|count-failure-reports", arity: 3, flags: flagAdmin | flagStale, group: g, since: "3.0.0", summary: "Return the number of failure reports active for a given node", run: cmdClusterDisabled},
		{name: "cluster|countkeysinslot", arity: 3, flags: flagStale, group: g, since: "3.0.0", summary: "Return the number of local keys in the specified hash slot", run: cmdClusterDisabled},
		{name: "cluster|delslots", arity: -3, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Set hash slots as unbound in receiving node", run: cmdClusterDisabled},
		{name: "cluster|delslotsrange", arity: -4, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "7.0.0", summary: "Set hash slots as unbound in receiving node", run: cmdClusterDisabled},
		{name: "cluster|failover", arity: -2, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Forces a replica to perform a manual failover of its master.", run: cmdClusterDisabled},
		{name: "cluster|flushslots", arity: 2, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Delete a node's own slots information", run: cmdClusterDisabled},
		{name: "cluster|forget", arity: 3, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Remove a node from the nodes table", run: cmdClusterDisabled},
		{name: "cluster|getkeysinslot", arity: 4, flags: flagStale, group: g, since: "3.0.0", summary: "Return local key names in the specified hash slot", run: cmdClusterDisabled},
		{name: "cluster|help", arity: 2, flags: flagLoading | flagStale, group: g, since: "5.0.0", summary: "Show helpful text about the different subcommands", run: cmdClusterDisabled},
		{name: "cluster|info", arity: 2, flags: flagStale, group: g, since: "3.0.0", summary: "Provides info about Redis Cluster node state", run: cmdClusterDisabled},
		{name: "cluster|keyslot", arity: 3, flags: flagStale, group: g, since: "3.0.0", summary: "Returns the hash slot of the specified key", run: cmdClusterDisabled},
		{name: "cluster|links", arity: 2, flags: flagStale, group: g, since: "7.0.0", summary: "Returns a list of all TCP links to and from peer nodes in cluster", run: cmdClusterDisabled},
		{name: "cluster|meet", arity: -4, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Force a node cluster to handshake with another node", run: cmdClusterDisabled},
		{name: "cluster|myid", arity: 2, flags: flagStale, group: g, since: "3.0.0", summary: "Return the node id", run: cmdClusterDisabled},
		{name: "cluster|nodes", arity: 2, flags: flagStale, group: g, since: "3.0.0", summary: "Get Cluster config for the node", run: cmdClusterDisabled},
		{name: "cluster|replicas", arity: 3, flags: flagAdmin | flagStale, group: g, since: "5.0.0", summary: "List replica nodes of the specified master node", run: cmdClusterDisabled},
		{name: "cluster|replicate", arity: 3, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Reconfigure a node as a replica of the specified master node", run: cmdClusterDisabled},
		{name: "cluster|reset", arity: -2, flags: flagAdmin | flagNoScript | flagStale, group: g, since: "3.0.0", summary: "Reset a Redis Cluster node", run: cmdClusterDisabled},
		{name: "cluster|saveconfig", arity: 2, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Forces the node to save cluster state on disk", run: cmdClusterDisabled},
		{name: "cluster|set-config-epoch", arity: 3, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Set the configuration epoch in a new node", run: cmdClusterDisabled},
		{name: "cluster|setslot", arity: -4, flags: flagAdmin | flagStale | flagNoAsyncLoading, group: g, since: "3.0.0", summary: "Bind a hash slot to a specific node", run: cmdClusterDisabled},
		{name: "cluster|shards", arity: 2, flags: flagStale, group: g, since: "7.0.0", summary: "Get array of cluster slots to node mappings", run: cmdClusterDisabled},
		{name: "cluster|slaves", arity: 3, flags: flagAdmin | flagStale, group: g, since: "3.0.0", summary: "List replica nodes of the specified master node", run: cmdClusterDisabled},
		{name: "cluster|slots", arity: 2, flags: flagStale, group: g, since: "3.0.0", summary: "Get array of Cluster slot to node mappings", run: cmdClusterDisabled},
	}
}

func cmdClusterDisabled(x *call) { x.r.error("ERR This instance has cluster support disabled") }
