//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package dnsserver

import "net"

// listenFreeUDP returns nil: the first socket binds port 0 with SO_REUSEPORT (see reuseport.go).
func listenFreeUDP(string) (*net.UDPConn, error) { return nil, nil }
