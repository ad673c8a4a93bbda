//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64le || loong64))

package dnsserver

import "net"

// serveBatched answers the queries of conn one datagram per system call.
func (r *reader) serveBatched(conn *net.UDPConn) error { return r.serveEach(conn) }
