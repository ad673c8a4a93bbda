//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || loong64)

package dnsserver

import (
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/failoverdns/failoverdns/internal/yield"
)

// batchSize is the most datagrams one recvmmsg returns and one sendmmsg sends.
const batchSize = 32

// slotLen is the size of each datagram buffer of a batch: a request longer than maxRequest is
// answered FORMERR, so one more byte tells it apart; every UDP reply is at most ourUDPSize, a
// header-only reply, or the header and question of an error (within maxRequest).
const slotLen = maxRequest + 1

// mmsghdr is struct mmsghdr of <sys/socket.h>.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

// batch is the memory of a batched read loop, allocated once per socket: the datagrams read,
// their source addresses, and the replies, each sent back to its request's source.
type batch struct {
	in    [batchSize]mmsghdr
	out   [batchSize]mmsghdr
	inIov [batchSize]syscall.Iovec
	outIo [batchSize]syscall.Iovec
	names [batchSize]syscall.RawSockaddrInet6 // large enough for IPv4 too
	bufs  []byte                              // batchSize request slots, then batchSize reply slots
	// On a socket bound to a wildcard address: each request's packet information (the address
	// it came to), and each reply's (the address it leaves from).
	inCtl, outCtl [batchSize][ctlLen]byte
}

// ctlLen is room for one packet information control message, IPv4's or IPv6's, and then some.
const ctlLen = 64

func newBatch() *batch {
	b := &batch{bufs: make([]byte, 2*batchSize*slotLen)}
	for i := range batchSize {
		b.inIov[i].Base = &b.bufs[i*slotLen]
		b.outIo[i].Base = &b.bufs[(batchSize+i)*slotLen]
		b.in[i].hdr.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		b.in[i].hdr.Iov = &b.inIov[i]
		b.in[i].hdr.Iovlen = 1
		b.out[i].hdr.Iov = &b.outIo[i]
		b.out[i].hdr.Iovlen = 1
	}
	return b
}

// kickEvery: when the reader has read this many batches in a row without waiting, the next read
// goes through the runtime's ordinary system call entry; see mmsg.
const kickEvery = 64

// mmsg calls recvmmsg or sendmmsg (trap) on fd for the n headers from h.
//
// The socket is non-blocking, so neither call blocks, and both are made raw, without telling the
// runtime's scheduler. Through the ordinary entry, the first read after a wait woke the runtime's
// monitor thread (sysmon), which then polled every 20 µs, and a call it found lasting over 20 µs
// (a sendmmsg on loopback delivers the replies within the call) made it hand the only P
// (GOMAXPROCS is 1 on one pinned core) to another thread, which the reader then waited for. On one
// core at 20,000 q/s that cost a third more CPU per query (21 µs instead of 16, NSD's 15) and
// twice the context switches.
//
// kick makes the call through the ordinary entry: the reader does that when it has not waited for
// kickEvery batches, so that the monitor, asleep since the process was last idle, wakes and goes
// on preempting a reader that never waits, for the timers and goroutines of the rest of the
// process (it does so every 10 ms).
func mmsg(trap, fd uintptr, h *mmsghdr, n int, kick bool) (int, syscall.Errno) {
	var got uintptr
	var e syscall.Errno
	if kick {
		got, _, e = syscall.Syscall6(trap, fd, uintptr(unsafe.Pointer(h)), uintptr(n), 0, 0, 0)
	} else {
		got, _, e = syscall.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(h)), uintptr(n), 0, 0, 0)
	}
	return int(got), e
}

// yieldAfter is how long a reader that never finds its socket empty runs before it lets the
// rest of the process run (package yield): health probes wait for their responses in the
// network poller, which the scheduler only polls when nothing else is runnable.
const yieldAfter = time.Millisecond

// replyPktinfo writes to out the control message that sends a reply from the address named by
// the packet information among the control messages in, and returns its length; 0 when in has
// none. IPv4: the source address, the interface left to routing; IPv6: the address and the
// interface the request came in on (a link-local address needs it).
func replyPktinfo(in []byte, out *[ctlLen]byte) int {
	for len(in) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&in[0]))
		if h.Len < unix.SizeofCmsghdr || int(h.Len) > len(in) {
			return 0
		}
		data := in[unix.CmsgLen(0):h.Len]
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			got := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			*(*unix.Inet4Pktinfo)(cmsg(out, unix.IPPROTO_IP, unix.IP_PKTINFO, unix.SizeofInet4Pktinfo)) =
				unix.Inet4Pktinfo{Spec_dst: got.Addr}
			return unix.CmsgSpace(unix.SizeofInet4Pktinfo)
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			got := *(*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			*(*unix.Inet6Pktinfo)(cmsg(out, unix.IPPROTO_IPV6, unix.IPV6_PKTINFO, unix.SizeofInet6Pktinfo)) = got
			return unix.CmsgSpace(unix.SizeofInet6Pktinfo)
		}
		in = in[min(unix.CmsgSpace(int(h.Len)-unix.CmsgLen(0)), len(in)):]
	}
	return 0
}

// cmsg writes to out the header of a control message of level and typ with n bytes of data, and
// returns where the data goes.
func cmsg(out *[ctlLen]byte, level, typ int32, n int) unsafe.Pointer {
	clear(out[:])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&out[0]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(n))
	return unsafe.Pointer(&out[unix.CmsgLen(0)])
}

// serveBatched answers the queries of conn, many datagrams per system call (recvmmsg and
// sendmmsg), until the socket is closed. On a socket bound to a wildcard address (pktinfo),
// each reply leaves from the address its request came to, which the kernel tells with the
// request (IP_PKTINFO, IPV6_PKTINFO; miekg/dns turns them on). It allocates nothing per query. The replies to what one
// recvmmsg returned leave before the next read: nothing waits for a batch to fill. A reader that
// has not found its socket empty for yieldAfter yields.
func (r *reader) serveBatched(conn *net.UDPConn, pktinfo bool) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	y, err := yield.New()
	if err == nil {
		defer y.Close()
	} // else (out of file descriptors) the reader serves without yielding
	w, b := r.w, newBatch()
	busy := 0            // batches read since the reader last waited
	var busyAt time.Time // when the reader was first seen busy since it last waited or yielded
	for {
		if y != nil && busy > 0 && busy%4 == 0 { // the clock is read every 4 batches
			if now := time.Now(); busyAt.IsZero() {
				busyAt = now
			} else if now.Sub(busyAt) >= yieldAfter {
				y.Yield()
				busyAt = time.Time{}
			}
		}
		for i := range batchSize {
			b.in[i].hdr.Namelen = syscall.SizeofSockaddrInet6
			b.inIov[i].SetLen(slotLen)
			b.in[i].hdr.Flags = 0
			if pktinfo {
				b.in[i].hdr.Control = &b.inCtl[i][0]
				b.in[i].hdr.SetControllen(ctlLen)
			}
		}
		var n int
		var errno syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			busy++
			n, errno = mmsg(unix.SYS_RECVMMSG, fd, &b.in[0], batchSize, busy%kickEvery == 0)
			if errno == syscall.EAGAIN {
				busy, busyAt = 0, time.Time{}
				return false // wait until readable
			}
			return true
		})
		if err != nil {
			return err // closed at Shutdown
		}
		if errno != 0 {
			continue // EINTR, or an error a socket reports for an earlier datagram (ICMP): go on
		}
		k := 0
		for i := range n {
			req := b.bufs[i*slotLen : i*slotLen+int(b.in[i].len)]
			resp := r.s.handle(w, req, false)
			if resp == nil || len(resp) > slotLen {
				continue
			}
			copy(b.bufs[(batchSize+k)*slotLen:], resp)
			b.outIo[k].SetLen(len(resp))
			b.out[k].hdr.Name = b.in[i].hdr.Name
			b.out[k].hdr.Namelen = b.in[i].hdr.Namelen
			b.out[k].hdr.Iov = &b.outIo[k]
			b.out[k].hdr.Control, b.out[k].hdr.Controllen = nil, 0
			if pktinfo {
				if l := replyPktinfo(b.inCtl[i][:b.in[i].hdr.Controllen], &b.outCtl[k]); l > 0 {
					b.out[k].hdr.Control = &b.outCtl[k][0]
					b.out[k].hdr.SetControllen(l)
				}
			}
			k++
		}
		for sent := 0; sent < k; {
			var m int
			var errno syscall.Errno
			err := rc.Write(func(fd uintptr) bool {
				m, errno = mmsg(unix.SYS_SENDMMSG, fd, &b.out[sent], k-sent, false)
				return errno != syscall.EAGAIN // else wait until writable
			})
			if err != nil {
				return err
			}
			if errno != 0 || m <= 0 {
				sent++ // this reply cannot be sent (the client's loss); go on with the next
				continue
			}
			sent += m
		}
	}
}
