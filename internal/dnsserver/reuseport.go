//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package dnsserver

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// listenFreeUDP binds a UDP socket to host on a port the kernel chooses among those no UDP
// socket holds, then lets the server's other sockets join it (SO_REUSEPORT). Binding port 0
// with SO_REUSEPORT already set may be given a port that another process of the same user holds
// with SO_REUSEPORT, which would then receive a share of our queries.
func listenFreeUDP(host string) (*net.UDPConn, error) {
	pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, fmt.Errorf("dnsserver: %w", err)
	}
	c := pc.(*net.UDPConn)
	rc, err := c.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) {
			err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		})
		if err == nil {
			err = cerr
		}
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("dnsserver: udp %s: SO_REUSEPORT: %w", c.LocalAddr(), err)
	}
	return c, nil
}
