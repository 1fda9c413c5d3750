package resp

import "sync"

// gate makes MULTI/EXEC atomic with respect to every other command. A
// plain command holds one shard of the gate for reading while it runs;
// EXEC holds every shard for writing, so no other command interleaves
// with a transaction. Sharding keeps plain commands on different
// connections from contending on one reader count.
type gate struct {
	shards [gateShards]struct {
		sync.RWMutex
		_ [40]byte // keep shards on separate cache lines
	}
}

const gateShards = 16

// rlock takes id's shard for reading and reports whether it had to wait
// for it (an EXEC or a script ran).
func (g *gate) rlock(id uint64) (waited bool) {
	sh := &g.shards[id%gateShards]
	if sh.TryRLock() {
		return false
	}
	sh.RLock()
	return true
}

func (g *gate) runlock(id uint64) { g.shards[id%gateShards].RUnlock() }

func (g *gate) lock() {
	for i := range g.shards {
		g.shards[i].Lock()
	}
}

func (g *gate) unlock() {
	for i := len(g.shards) - 1; i >= 0; i-- {
		g.shards[i].Unlock()
	}
}
