//go:build linux && race

package resp

import "syscall"

// rawIO under the race detector goes through syscall.Read and Write,
// which tell the detector that I/O on a descriptor orders the goroutines
// on either side of it (a reply read by a client happens before the
// client's next request). A raw system call does not, and the detector
// would report accesses ordered only through a socket, such as a test's
// check of server state after the reply that follows the change.
func rawIO(trap uintptr, fd int, b []byte) (int, error) {
	if trap == syscall.SYS_READ {
		return syscall.Read(fd, b)
	}
	return syscall.Write(fd, b)
}
