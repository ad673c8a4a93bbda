//go:build linux

package yield

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Yielder yields for one goroutine at a time; Yield allocates nothing.
type Yielder struct {
	f    *os.File
	rc   syscall.RawConn
	wait func(fd uintptr) bool // made once: a closure per yield would allocate
	woke bool
}

var one = [8]byte{1} // the eventfd counter's increment, native byte order

// New returns a Yielder; it holds a file descriptor until Close.
func New() (*Yielder, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	y := &Yielder{f: os.NewFile(uintptr(fd), "yield")}
	if y.rc, err = y.f.SyscallConn(); err != nil {
		y.f.Close()
		return nil, err
	}
	y.wait = func(fd uintptr) bool {
		if y.woke {
			return true
		}
		// Each write is an event for the poller (the counter is never read: it only grows).
		_, _ = unix.Write(int(fd), one[:])
		y.woke = true
		return false // wait for the event
	}
	return y, nil
}

// Yield returns once the scheduler has run the other runnable goroutines and polled the network.
func (y *Yielder) Yield() {
	y.woke = false
	_ = y.rc.Read(y.wait)
}

// Close releases the Yielder's file descriptor.
func (y *Yielder) Close() { y.f.Close() }
