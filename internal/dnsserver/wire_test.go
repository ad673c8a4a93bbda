package dnsserver

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// TestPutNameCompression writes names through a response's compression table, past its
// capacity, and reads them back: each comes back whole, and a name written before is a pointer.
func TestPutNameCompression(t *testing.T) {
	names := []string{".", "example.com.", "www.example.com.", "www.example.com.", "mail.example.com.", "com.",
		"example.net.", "Example.COM.", "a.b.c.example.com.", "c.example.com.", "."}
	for i := range 2 * maxComp {
		names = append(names, fmt.Sprintf("host%d.zone%d.test.", i, i%3))
	}
	names = append(names, "www.example.com.", "host1.zone1.test.", fmt.Sprintf("host%d.zone0.test.", 2*maxComp-3))

	m := msgWriter{buf: make([]byte, maxMsgLen), off: headerLen, comp: new(compTable)}
	offs := make([]int, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		offs[i] = m.off
		m.putName(n)
		if m.over {
			t.Fatalf("%s: did not fit", n)
		}
		if seen[n] && n != "." && m.comp.n < maxComp && m.off-offs[i] != 2 {
			t.Errorf("%s written again in %d bytes, want a 2-byte pointer", n, m.off-offs[i])
		}
		seen[n] = true
	}
	if m.comp.n != maxComp {
		t.Errorf("table holds %d names, want %d (full)", m.comp.n, maxComp)
	}
	if n := offs[len(names)-2] - offs[len(names)-3]; n != 2 {
		t.Errorf("www.example.com. at the end: %d bytes, want a pointer to the name written first", n)
	}
	for i, n := range names {
		got, _, err := dns.UnpackDomainName(m.buf[:m.off], offs[i])
		if err != nil || got != n {
			t.Errorf("name %d: read back %q (%v), want %q", i, got, err, n)
		}
	}

	// A rollback forgets the names written after its offset.
	m.comp.n = 0
	m.off = headerLen
	m.putName("example.com.")
	mark := m.off
	m.putName("www.example.org.")
	m.rollback(mark)
	at := m.off
	m.putName("www.example.org.")
	if m.off-at != len("www.example.org.")+1 {
		t.Errorf("after rollback: %d bytes, want the name in full", m.off-at)
	}
}
