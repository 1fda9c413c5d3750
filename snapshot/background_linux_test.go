package snapshot

import (
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestInBackgroundRunsNicedOnAnExtraP(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	base, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	require.NoError(t, err)
	var during, prio int
	inBackground(func() {
		during = runtime.GOMAXPROCS(0)
		// The raw getpriority system call returns 20 - nice.
		prio, err = syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	})
	require.NoError(t, err)
	require.Equal(t, procs+1, during, "the save has a P of its own")
	require.Equal(t, 1, prio, "the save's thread runs at nice 19")
	require.Equal(t, procs, runtime.GOMAXPROCS(0), "GOMAXPROCS is restored")

	own, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	require.NoError(t, err)
	require.Equal(t, base, own, "other threads keep their priority")
}

// TestInBackgroundLeavesTheMainThreadAlone: a save never runs on (and so
// never renices) the process's main thread, which the runtime does not end
// and from which ps and top read the process's priority. In a test binary
// the main thread is idle, so without the check the save lands there often.
func TestInBackgroundLeavesTheMainThreadAlone(t *testing.T) {
	pid := syscall.Getpid()
	before, err := syscall.Getpriority(syscall.PRIO_PROCESS, pid)
	require.NoError(t, err)
	for range 200 {
		var tid, prio int
		inBackground(func() {
			tid = syscall.Gettid()
			prio, _ = syscall.Getpriority(syscall.PRIO_PROCESS, tid)
		})
		require.NotEqual(t, pid, tid, "the save ran on the main thread")
		require.Equal(t, 1, prio, "the save's thread runs at nice 19")
	}
	after, err := syscall.Getpriority(syscall.PRIO_PROCESS, pid)
	require.NoError(t, err)
	require.Equal(t, before, after, "the main thread keeps its priority")
}
