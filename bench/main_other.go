//go:build !linux

// Command bench needs Linux: it reads the servers' CPU time, memory and
// threads from /proc and ties their lifetime to its own (Pdeathsig). See
// bench/README.md.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "bench: needs Linux (it reads /proc); this is %s/%s\n", runtime.GOOS, runtime.GOARCH)
	os.Exit(2)
}
