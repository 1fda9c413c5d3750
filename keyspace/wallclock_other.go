//go:build !(linux && amd64)

package keyspace

import "time"

// wallMs is the wall clock in Unix milliseconds (see the linux/amd64 file).
func wallMs() int64 { return time.Now().UnixMilli() }
