package keyspace

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReserveSizesEmptyStripesAndKeepsKeys(t *testing.T) {
	ks, _, _ := newTestKeyspace(t) // 8 stripes
	for i := range 3 {
		_, err := ks.Set(1, fmt.Appendf(nil, "old:%d", i), b("v"), SetArgs{})
		require.NoError(t, err)
	}
	db := ks.db(1)
	before := make([]int, len(db.stripes))
	for i := range db.stripes {
		before[i] = len(db.stripes[i].m)
	}
	ks.Reserve(1, 8000)
	for i := range db.stripes {
		s := &db.stripes[i]
		assert.Equal(t, before[i], len(s.m), "stripe %d lost or gained keys", i)
		if before[i] == 0 {
			assert.GreaterOrEqual(t, cap(s.meta), 1000+1, "empty stripe %d: meta not reserved", i)
		}
	}
	for i := range 8000 {
		ks.RestoreString(1, fmt.Appendf(nil, "k:%d", i), fmt.Appendf(nil, "v%d", i), 0)
	}
	keys, _ := ks.Size(1)
	assert.Equal(t, 8003, keys)
	for _, k := range []string{"old:0", "old:2", "k:0", "k:7999"} {
		_, ok, err := ks.Get(1, b(k))
		require.NoError(t, err)
		assert.True(t, ok, k)
	}
	// Reserving a database that holds keys everywhere changes nothing.
	ks.Reserve(1, 1_000_000)
	keys, _ = ks.Size(1)
	assert.Equal(t, 8003, keys)
}

func TestReserveSmallIsANoOp(t *testing.T) {
	ks, _, _ := newTestKeyspace(t)
	ks.Reserve(0, 40) // 5 keys per stripe
	for i := range ks.db(0).stripes {
		assert.Zero(t, cap(ks.db(0).stripes[i].meta))
	}
}
