//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// leanResponse is serveLean's answer to every request.
const leanResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"

// serveLean answers each request head (up to an empty line) on the connections to addrs with
// leanResponse, one write per read, from one thread and one epoll set. It stands for backends on
// other machines in the 10,000-check scenario, where they share the client's core with dnsperf,
// so what they spend is taken from the load on the server: net/http spent several times its CPU
// per request there, and a goroutine per connection twice as much as this, most of it the
// runtime's sleeps and wakeups. It handles bodiless keep-alive requests only, which is what the
// checks send. It returns when a listening socket cannot be made, else never.
//
// The loop's system calls are raw: through the runtime's entry, each wait in epoll_wait made the
// runtime's monitor thread poll every 20 µs and hand the only P (one pinned core) to another
// thread and back, a third of the backend's CPU. A raw wait holds the P; the runtime's
// preemption signal interrupts it, and the loop then yields.
func serveLean(addrs []string, served *atomic.Uint64) error {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	listeners := map[int]bool{}
	for _, a := range addrs {
		fd, err := leanListen(a)
		if err != nil {
			return fmt.Errorf("listen %s: %w", a, err)
		}
		listeners[fd] = true
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return err
		}
	}
	go func() {
		runtime.LockOSThread() // the loop blocks in epoll_wait; the runtime runs the rest elsewhere
		const end = "\r\n\r\n"
		var matched []uint8 // per connection's descriptor: bytes of end seen at the tail of its input
		events := make([]unix.EpollEvent, 256)
		buf := make([]byte, 4096)
		out := make([]byte, 0, 4096)
		for {
			n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), ^uintptr(0), 0, 0)
			if e != 0 {
				// EINTR: a signal, such as the runtime's preemption for a collection, which
				// cannot stop a goroutine inside a system call: stop here instead.
				runtime.Gosched()
				continue
			}
			for _, ev := range events[:n] {
				fd := int(ev.Fd)
				if listeners[fd] {
					for {
						c, _, err := unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
						if err != nil {
							break // EAGAIN: accepted all
						}
						_ = unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
						for c >= len(matched) {
							matched = append(matched, 0)
						}
						matched[c] = 0
						_ = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, c, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(c)})
					}
					continue
				}
				r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)))
				if e == unix.EAGAIN {
					continue
				}
				got := int(r)
				if e != 0 || got <= 0 {
					unix.Close(fd) // the peer closed, or an error: epoll forgets a closed descriptor
					continue
				}
				out = out[:0]
				m := matched[fd]
				for _, b := range buf[:got] {
					switch {
					case b == end[m]:
						m++
					case b == '\r':
						m = 1
					default:
						m = 0
					}
					if int(m) == len(end) {
						m = 0
						out = append(out, leanResponse...)
						served.Add(1)
					}
				}
				matched[fd] = m
				if len(out) > 0 {
					if _, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&out[0])), uintptr(len(out))); e != 0 {
						unix.Close(fd)
					}
				}
			}
		}
	}()
	return nil
}

// leanListen returns a non-blocking listening TCP socket on addr (ip:port).
func leanListen(addr string) (int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return -1, err
	}
	var sa unix.Sockaddr
	family := unix.AF_INET
	if ap.Addr().Is4() {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	} else {
		family = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
