package resp

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
