//go:build linux

package dnsserver

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPortZeroNotShared: a server started on port 0 with several sockets never lands on a port
// that another process's SO_REUSEPORT socket holds (it would receive part of our queries). The
// kernel gives a port-0 bind with SO_REUSEPORT set such a port now and then; with 2000 of them
// held, about one start in six did before listenFreeUDP.
func TestPortZeroNotShared(t *testing.T) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	held := map[string]bool{}
	for range 2000 {
		pc, err := lc.ListenPacket(context.Background(), "udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
		held[port] = true
	}
	for i := range 50 {
		s := New(Config{Listen: "127.0.0.1:0", Sockets: 2}, nil)
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(s.Addr())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		if held[port] {
			t.Fatalf("start %d: the server shares port %s with a socket of another server", i, port)
		}
	}
}
