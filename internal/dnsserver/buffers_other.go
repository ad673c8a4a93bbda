//go:build !linux

package dnsserver

import "net"

// setBuffers leaves the system's socket buffer sizes elsewhere than on Linux.
func setBuffers(*net.UDPConn) {}
