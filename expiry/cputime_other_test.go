//go:build !linux

package expiry_test

import "time"

// threadCPU is not available here; benchmarks fall back to wall time.
func threadCPU() time.Duration { return 0 }
