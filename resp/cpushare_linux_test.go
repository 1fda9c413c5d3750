package resp

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCPUShareYieldsAfterRunningWithoutSleep: a loop yields once it has
// run yieldEvery without sleeping or yielding, then not again until it
// has run that long once more; sleeping starts the count over.
func TestCPUShareYieldsAfterRunningWithoutSleep(t *testing.T) {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	var c cpuShare
	c.slept(ms(10))
	assert.False(t, c.due(ms(10.5)), "0.5 ms after sleeping")
	assert.True(t, c.due(ms(11)), "1 ms after sleeping")
	assert.False(t, c.due(ms(11.2)), "just after yielding")
	assert.False(t, c.due(ms(11.9)))
	assert.True(t, c.due(ms(12.1)), "1.1 ms after yielding")
	c.slept(ms(12.5))
	assert.False(t, c.due(ms(13.4)), "0.9 ms after sleeping again")
	assert.True(t, c.due(ms(13.5)))
}

// TestLoopWaitTellsParkingFromFindingWork: a wait that finds an event at
// once leaves the loop's running time as it was; one that has to park
// until an event comes counts as a sleep.
func TestLoopWaitTellsParkingFromFindingWork(t *testing.T) {
	l, err := newEventLoop(nil) // wait uses no server
	require.NoError(t, err)
	defer l.close()
	drain := func() {
		var b [8]byte
		_, err := syscall.Read(l.wake[0], b[:])
		require.NoError(t, err)
	}

	l.cpu.since = -time.Hour // long ago: a yield is due
	_, err = syscall.Write(l.wake[1], []byte{0})
	require.NoError(t, err)
	events, err := l.wait()
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, 1, l.polls, "found the event without parking")
	since := l.cpu.since
	assert.Greater(t, since, time.Duration(0), "the due yield was taken and counted")
	drain()

	go func() {
		time.Sleep(20 * time.Millisecond)
		syscall.Write(l.wake[1], []byte{0})
	}()
	events, err = l.wait()
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.GreaterOrEqual(t, l.polls, 2, "parked until the event")
	assert.GreaterOrEqual(t, l.cpu.since-since, 15*time.Millisecond, "the park counts as a sleep, at its end")
	drain()
}
