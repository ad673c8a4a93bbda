package dnsserver

import (
	"net"
	"syscall"
)

// socketBuffer is the receive and send buffer size asked for each UDP socket: a burst of a few
// thousand queries must wait in the socket rather than be dropped (the kernel's default of about
// 208 KiB holds some 500 small queries; NSD forces a larger one too).
const socketBuffer = 4 << 20

// setBuffers enlarges conn's buffers: past net.core.rmem_max when the process may
// (SO_RCVBUFFORCE, CAP_NET_ADMIN), else up to it. Failing leaves the defaults, which work.
func setBuffers(conn *net.UDPConn) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		for _, o := range [][2]int{{syscall.SO_RCVBUFFORCE, syscall.SO_RCVBUF}, {syscall.SO_SNDBUFFORCE, syscall.SO_SNDBUF}} {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o[0], socketBuffer) != nil {
				_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o[1], socketBuffer)
			}
		}
	})
}
