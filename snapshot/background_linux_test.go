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
