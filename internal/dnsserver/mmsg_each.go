//go:build !(linux && (amd64 || arm64 || riscv64 || ppc64le || loong64))

package dnsserver

import "net"

// serveBatched answers the queries of conn one datagram per system call; on a wildcard address
// (pktinfo) through miekg/dns's sessions, which reply from the address a query came to.
func (r *reader) serveBatched(conn *net.UDPConn, pktinfo bool) error {
	if pktinfo {
		return r.serveSessions(conn)
	}
	return r.serveEach(conn)
}
