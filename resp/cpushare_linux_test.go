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

// TestCPUShareYieldsPAfterRunningWithoutParking: the P is yielded once
// the loop has run goschedEvery without parking or yielding it, then not
// again until it has run that long once more; parking starts the count
// over, and the CPU's count is kept apart.
func TestCPUShareYieldsPAfterRunningWithoutParking(t *testing.T) {
	us := func(n int) time.Duration { return time.Duration(n) * time.Microsecond }
	var c cpuShare
	c.slept(us(10000))
	assert.False(t, c.pDue(us(10100)), "100 µs after parking")
	assert.True(t, c.pDue(us(10250)), "250 µs after parking")
	assert.False(t, c.pDue(us(10300)), "just after yielding the P")
	assert.True(t, c.pDue(us(10510)), "260 µs after yielding it")
	assert.False(t, c.due(us(10600)), "the CPU's count is not the P's")
	c.slept(us(10700))
	assert.False(t, c.pDue(us(10900)), "200 µs after parking again")
	assert.True(t, c.pDue(us(10950)))
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

	l.cpu.since, l.cpu.pSince = -time.Hour, -time.Hour // long ago: both yields are due
	_, err = syscall.Write(l.wake[1], []byte{0})
	require.NoError(t, err)
	events, err := l.wait()
	require.NoError(t, err)
	require.Len(t, events, 1)
	assert.Equal(t, 1, l.polls, "found the event without parking")
	since := l.cpu.since
	assert.Greater(t, since, time.Duration(0), "the due yield was taken and counted")
	assert.Equal(t, since, l.cpu.pSince, "and so was the P's")
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
