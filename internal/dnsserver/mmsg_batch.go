//go:build linux && (amd64 || arm64 || riscv64 || ppc64le || loong64)

package dnsserver

import (
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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
}

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

// serveBatched answers the queries of conn, many datagrams per system call (recvmmsg and
// sendmmsg), until the socket is closed. It allocates nothing per query.
func (r *reader) serveBatched(conn *net.UDPConn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	w, b := r.w, newBatch()
	for {
		for i := range batchSize {
			b.in[i].hdr.Namelen = syscall.SizeofSockaddrInet6
			b.inIov[i].SetLen(slotLen)
			b.in[i].hdr.Flags = 0
		}
		var n int
		var errno syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			got, _, e := syscall.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.in[0])), batchSize, 0, 0, 0)
			if e == syscall.EAGAIN {
				return false // wait until readable
			}
			n, errno = int(got), e
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
			k++
		}
		for sent := 0; sent < k; {
			var m int
			var errno syscall.Errno
			err := rc.Write(func(fd uintptr) bool {
				got, _, e := syscall.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.out[sent])), uintptr(k-sent), 0, 0, 0)
				if e == syscall.EAGAIN {
					return false
				}
				m, errno = int(got), e
				return true
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
