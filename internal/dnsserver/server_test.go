package dnsserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/zone"
)

const testZone = `
$ORIGIN example.com.
$TTL 300
@           3600   IN SOA  ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60
@           172800 IN NS   ns1.example.com.
@           172800 IN NS   ns2.example.net.
@                  IN MX   10 mail.example.com.
@                  IN A    192.0.2.1
ns1                IN A    192.0.2.53
mail               IN A    192.0.2.25
mail               IN AAAA 2001:db8::25
www                IN CNAME web.example.com.
web                IN A    192.0.2.80
a.b.c              IN A    192.0.2.3
*.wild             IN A    192.0.2.99
*.wild             IN TXT  "wild"
sub                IN NS   ns1.sub.example.com.
sub                IN NS   ns.example.net.
sub                IN DS   12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE2D5F9C0E0A5EB25B3C1D7F2E
ns1.sub            IN A    192.0.2.54
deep.sub           IN A    192.0.2.55
ttl0        0      IN A    192.0.2.0
multi              IN A    192.0.2.10
multi              IN TXT  "t"
`

// bigZone has answers that do not fit 512 or 1232 bytes.
func bigZone() string {
	var b strings.Builder
	b.WriteString("$ORIGIN big.test.\n$TTL 300\n@ 300 IN SOA ns1.big.test. hostmaster.big.test. 1 7200 900 1209600 300\n@ IN NS ns1.big.test.\nns1 IN A 192.0.2.53\n")
	for i := range 40 {
		fmt.Fprintf(&b, "many IN A 192.0.2.%d\n", i+1)
	}
	for i := range 6 {
		fmt.Fprintf(&b, "txt IN TXT \"%s\"\n", strings.Repeat(string(rune('a'+i)), 250))
	}
	for i := range 30 {
		fmt.Fprintf(&b, "deleg IN NS ns%02d.deleg.big.test.\nns%02d.deleg IN A 192.0.2.%d\nns%02d.deleg IN AAAA 2001:db8::%x\n", i, i, i+1, i, i+1)
	}
	return b.String()
}

// testSnapshot is the zones of the server tests, with a failover pair and an alias at the apex of
// example.org.
func testSnapshot(t testing.TB) *answer.Snapshot {
	t.Helper()
	return serverSnapshot(t, "192.0.2.150")
}

// serverSnapshot is testSnapshot with www.example.org. at addr and extra record sets in
// example.org.
func serverSnapshot(t testing.TB, addr string, extra ...zone.RecordSet) *answer.Snapshot {
	t.Helper()
	org := zoneText(t, "example.org.", `
$ORIGIN example.org.
@ 900 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 86400
@ 900 IN NS ns1.example.org.
ns1 300 IN A 192.0.2.153
www 60 IN A `+addr+`
`)
	ttl := int64(60)
	fo := func(id, role, v string) zone.RecordSet {
		return zone.RecordSet{Name: "fo.example.org.", Type: "A", SetIdentifier: id, Failover: role, TTL: &ttl,
			ResourceRecords: []zone.ResourceRecord{{Value: v}}}
	}
	org.RecordSets = append(org.RecordSets, fo("two", "SECONDARY", "192.0.2.2"), fo("one", "PRIMARY", "192.0.2.1"),
		zone.RecordSet{Name: "example.org.", Type: "A", AliasTarget: &zone.AliasTarget{HostedZoneId: "Z", DNSName: "www.example.org."}})
	org.RecordSets = append(org.RecordSets, extra...)
	s, err := answer.Build([]zone.Zone{zoneText(t, "example.com.", testZone), zoneText(t, "big.test.", bigZone()), org})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// query is one request of a test table.
type query struct {
	name   string
	qtype  uint16
	qclass uint16 // 0: IN
	noEDNS bool
	size   uint16 // EDNS buffer size; 0: 1232
	do     bool
	ver    uint8
	rd     bool
	opcode int
}

func (q query) msg() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.RecursionDesired = q.rd
	m.Opcode = q.opcode
	if q.qclass != 0 {
		m.Question[0].Qclass = q.qclass
	}
	if !q.noEDNS {
		size := q.size
		if size == 0 {
			size = 1232
		}
		m.SetEdns0(size, q.do)
		m.IsEdns0().SetVersion(q.ver)
	}
	return m
}

// want is the expected reply of a test table.
type want struct {
	rcode  int
	flags  string // the header flags set, in the order "qr aa tc rd ra ad cd"
	answer []string
	ns     []string
	extra  []string
	noOPT  bool // no OPT record (otherwise one with our 1232 and the query's DO bit)
	noQ    bool // no question section
}

func flagsOf(m *dns.Msg) string {
	var f []string
	for _, b := range []struct {
		set  bool
		name string
	}{{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"}} {
		if b.set {
			f = append(f, b.name)
		}
	}
	return strings.Join(f, " ")
}

// exchange sends m over network and returns the reply and the size of its wire form.
func exchange(t testing.TB, addr, network string, m *dns.Msg) (*dns.Msg, int) {
	t.Helper()
	req, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	var resp []byte
	if network == "tcp" {
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(req))), req...)); err != nil {
			t.Fatal(err)
		}
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatalf("tcp %s: %v", m.Question[0].String(), err)
		}
		resp = make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, resp); err != nil {
			t.Fatal(err)
		}
	} else {
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
		resp = make([]byte, 65535)
		n, err := c.Read(resp)
		if err != nil {
			t.Fatalf("udp %s: %v", m.Question[0].String(), err)
		}
		resp = resp[:n]
	}
	r := new(dns.Msg)
	if err := r.Unpack(resp); err != nil {
		t.Fatalf("reply does not parse: %v", err)
	}
	if r.Id != m.Id {
		t.Fatalf("reply id %d, query id %d", r.Id, m.Id)
	}
	return r, len(resp)
}

func checkReply(t *testing.T, q query, w want, r *dns.Msg) {
	t.Helper()
	if r.Rcode != w.rcode {
		t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[w.rcode])
	}
	if f := flagsOf(r); f != w.flags {
		t.Errorf("flags %q, want %q", f, w.flags)
	}
	checkSection(t, "answer", r.Answer, w.answer...)
	checkSection(t, "authority", r.Ns, w.ns...)
	checkSection(t, "additional", r.Extra, w.extra...)
	opt := r.IsEdns0()
	switch {
	case w.noOPT && opt != nil:
		t.Errorf("OPT record %v, want none", opt)
	case !w.noOPT && opt == nil:
		t.Error("no OPT record")
	case opt != nil:
		if opt.UDPSize() != ourUDPSize || opt.Version() != 0 || opt.Do() != q.do {
			t.Errorf("OPT %v, want size %d, version 0, DO %v", opt, ourUDPSize, q.do)
		}
	}
	switch {
	case w.noQ && len(r.Question) != 0:
		t.Errorf("question %v, want none", r.Question)
	case !w.noQ && (len(r.Question) != 1 || r.Question[0].Name != q.name || r.Question[0].Qtype != q.qtype):
		t.Errorf("question %v, want %s %s exactly as asked", r.Question, q.name, dns.TypeToString[q.qtype])
	}
}

const (
	soaCom   = "example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60"
	flagsAA  = "qr aa"
	flagsRef = "qr"
)

func TestServer(t *testing.T) {
	s, _ := startServer(t, testSnapshot(t), 2)
	cases := []struct {
		name string
		q    query
		w    want
	}{
		{"A", query{name: "web.example.com.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"web.example.com. 300 IN A 192.0.2.80"}}},
		{"NXDOMAIN with the SOA TTL capped", query{name: "nothere.example.com.", qtype: dns.TypeA},
			want{rcode: dns.RcodeNameError, flags: flagsAA, ns: []string{soaCom}}},
		{"NODATA", query{name: "web.example.com.", qtype: dns.TypeAAAA},
			want{flags: flagsAA, ns: []string{soaCom}}},
		{"empty non-terminal", query{name: "b.c.example.com.", qtype: dns.TypeA},
			want{flags: flagsAA, ns: []string{soaCom}}},
		{"CNAME chase", query{name: "www.example.com.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"www.example.com. 300 IN CNAME web.example.com.", "web.example.com. 300 IN A 192.0.2.80"}}},
		{"wildcard", query{name: "x.y.wild.example.com.", qtype: dns.TypeTXT},
			want{flags: flagsAA, answer: []string{`x.y.wild.example.com. 300 IN TXT "wild"`}}},
		{"delegation with glue, not authoritative", query{name: "www.sub.example.com.", qtype: dns.TypeA},
			want{flags: flagsRef,
				ns:    []string{"sub.example.com. 300 IN NS ns1.sub.example.com.", "sub.example.com. 300 IN NS ns.example.net."},
				extra: []string{"ns1.sub.example.com. 300 IN A 192.0.2.54"}}},
		{"DS at the cut, authoritative", query{name: "sub.example.com.", qtype: dns.TypeDS},
			want{flags: flagsAA, answer: []string{"sub.example.com. 300 IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE2D5F9C0E0A5EB25B3C1D7F2E"}}},
		{"ANY answers one RRset", query{name: "multi.example.com.", qtype: dns.TypeANY},
			want{flags: flagsAA, answer: []string{"multi.example.com. 300 IN A 192.0.2.10"}}},
		{"MX with additional", query{name: "example.com.", qtype: dns.TypeMX},
			want{flags: flagsAA, answer: []string{"example.com. 300 IN MX 10 mail.example.com."},
				extra: []string{"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25"}}},
		{"alias at the apex", query{name: "example.org.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"example.org. 60 IN A 192.0.2.150"}}},
		{"failover answers the primary", query{name: "fo.example.org.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"fo.example.org. 60 IN A 192.0.2.1"}}},
		{"TTL 0 stays 0", query{name: "ttl0.example.com.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"ttl0.example.com. 0 IN A 192.0.2.0"}}},
		{"letter case of the question echoed (0x20)", query{name: "WeB.eXaMpLe.CoM.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"WeB.eXaMpLe.CoM. 300 IN A 192.0.2.80"}}},
		{"letter case in a wildcard answer", query{name: "AbC.WiLd.example.com.", qtype: dns.TypeA},
			want{flags: flagsAA, answer: []string{"AbC.WiLd.example.com. 300 IN A 192.0.2.99"}}},
		{"RD copied, RA never set", query{name: "web.example.com.", qtype: dns.TypeA, rd: true},
			want{flags: "qr aa rd", answer: []string{"web.example.com. 300 IN A 192.0.2.80"}}},
		{"DO echoed, no DNSSEC", query{name: "web.example.com.", qtype: dns.TypeA, do: true},
			want{flags: flagsAA, answer: []string{"web.example.com. 300 IN A 192.0.2.80"}}},
		{"no EDNS, no OPT", query{name: "web.example.com.", qtype: dns.TypeA, noEDNS: true},
			want{flags: flagsAA, answer: []string{"web.example.com. 300 IN A 192.0.2.80"}, noOPT: true}},
		{"RRSIG without DNSSEC is NODATA", query{name: "web.example.com.", qtype: dns.TypeRRSIG},
			want{flags: flagsAA, ns: []string{soaCom}}},
		{"BADVERS for EDNS version 1", query{name: "web.example.com.", qtype: dns.TypeA, ver: 1},
			want{rcode: dns.RcodeBadVers, flags: "qr"}},
		{"REFUSED for a name we do not serve", query{name: "www.example.net.", qtype: dns.TypeA},
			want{rcode: dns.RcodeRefused, flags: "qr"}},
		{"REFUSED for class CHAOS", query{name: "version.bind.", qtype: dns.TypeTXT, qclass: dns.ClassCHAOS},
			want{rcode: dns.RcodeRefused, flags: "qr"}},
		{"class ANY answered as IN", query{name: "web.example.com.", qtype: dns.TypeA, qclass: dns.ClassANY},
			want{flags: flagsAA, answer: []string{"web.example.com. 300 IN A 192.0.2.80"}}},
		{"NOTIMP for qtype 0", query{name: "web.example.com.", qtype: 0},
			want{rcode: dns.RcodeNotImplemented, flags: "qr"}},
		{"NOTAUTH for a transfer of a zone we do not serve", query{name: "example.net.", qtype: dns.TypeIXFR},
			want{rcode: dns.RcodeNotAuth, flags: "qr"}},
		{"REFUSED for IXFR of a zone we serve", query{name: "example.com.", qtype: dns.TypeIXFR},
			want{rcode: dns.RcodeRefused, flags: "qr"}},
		{"NOTIMP for NOTIFY", query{name: "example.com.", qtype: dns.TypeSOA, opcode: dns.OpcodeNotify},
			want{rcode: dns.RcodeNotImplemented, flags: "qr", noOPT: true, noQ: true}},
		{"NOTIMP for UPDATE", query{name: "example.com.", qtype: dns.TypeSOA, opcode: dns.OpcodeUpdate},
			want{rcode: dns.RcodeNotImplemented, flags: "qr", noOPT: true, noQ: true}},
	}
	for _, c := range cases {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(c.name+"/"+network, func(t *testing.T) {
				r, _ := exchange(t, s.Addr(), network, c.q.msg())
				w := c.w
				if c.q.opcode != 0 {
					// An opcode keeps its own header bits in the reply.
					if r.Opcode != c.q.opcode {
						t.Errorf("opcode %d, want %d", r.Opcode, c.q.opcode)
					}
				}
				checkReply(t, c.q, w, r)
			})
		}
	}
}

func TestServerTransfers(t *testing.T) {
	s, _ := startServer(t, testSnapshot(t), 1)
	for _, c := range []struct {
		network, name string
		rcode         int
	}{
		{"udp", "example.com.", dns.RcodeNotImplemented}, // AXFR over UDP (NSD and Knot)
		{"tcp", "example.com.", dns.RcodeRefused},        // NSD; Knot says NOTAUTH
		{"tcp", "example.net.", dns.RcodeNotAuth},
	} {
		t.Run(c.network+" "+c.name, func(t *testing.T) {
			q := query{name: c.name, qtype: dns.TypeAXFR}
			r, _ := exchange(t, s.Addr(), c.network, q.msg())
			checkReply(t, q, want{rcode: c.rcode, flags: "qr"}, r)
		})
	}
}

func TestServerTruncation(t *testing.T) {
	s, _ := startServer(t, testSnapshot(t), 1)
	var many []string
	for i := range 40 {
		many = append(many, fmt.Sprintf("many.big.test. 300 IN A 192.0.2.%d", i+1))
	}
	t.Run("answer does not fit 512 bytes: TC, question only", func(t *testing.T) {
		q := query{name: "many.big.test.", qtype: dns.TypeA, noEDNS: true}
		r, size := exchange(t, s.Addr(), "udp", q.msg())
		checkReply(t, q, want{flags: "qr aa tc", noOPT: true}, r)
		if size > 512 {
			t.Errorf("%d bytes", size)
		}
	})
	t.Run("the client's EDNS size is honoured", func(t *testing.T) {
		q := query{name: "txt.big.test.", qtype: dns.TypeTXT, size: 1000}
		r, size := exchange(t, s.Addr(), "udp", q.msg())
		checkReply(t, q, want{flags: "qr aa tc"}, r)
		if size > 1000 {
			t.Errorf("%d bytes", size)
		}
	})
	t.Run("an EDNS size below 512 counts as 512", func(t *testing.T) {
		q := query{name: "many.big.test.", qtype: dns.TypeA, size: 100}
		r, _ := exchange(t, s.Addr(), "udp", q.msg())
		checkReply(t, q, want{flags: "qr aa tc"}, r)
	})
	t.Run("fits with EDNS", func(t *testing.T) {
		q := query{name: "many.big.test.", qtype: dns.TypeA}
		r, _ := exchange(t, s.Addr(), "udp", q.msg())
		checkReply(t, q, want{flags: flagsAA, answer: many}, r)
	})
	t.Run("over TCP everything fits", func(t *testing.T) {
		q := query{name: "txt.big.test.", qtype: dns.TypeTXT, noEDNS: true}
		r, size := exchange(t, s.Addr(), "tcp", q.msg())
		if r.Truncated || len(r.Answer) != 6 || size < 1500 {
			t.Errorf("TC %v, %d records, %d bytes", r.Truncated, len(r.Answer), size)
		}
	})
	t.Run("a 4096-byte buffer gets at most 1232 bytes", func(t *testing.T) {
		q := query{name: "txt.big.test.", qtype: dns.TypeTXT, size: 4096}
		r, size := exchange(t, s.Addr(), "udp", q.msg())
		checkReply(t, q, want{flags: "qr aa tc"}, r)
		if size > ourUDPSize {
			t.Errorf("%d bytes", size)
		}
	})
	t.Run("missing glue below the cut sets TC, and what fits is kept", func(t *testing.T) {
		q := query{name: "x.deleg.big.test.", qtype: dns.TypeA}
		r, size := exchange(t, s.Addr(), "udp", q.msg())
		if !r.Truncated || r.Authoritative || len(r.Ns) != 30 || len(r.Extra) < 10 || size > ourUDPSize {
			t.Errorf("TC %v, AA %v, %d NS, %d additional, %d bytes", r.Truncated, r.Authoritative, len(r.Ns), len(r.Extra), size)
		}
		r, _ = exchange(t, s.Addr(), "tcp", q.msg())
		if r.Truncated || len(r.Extra) != 61 {
			t.Errorf("TCP: TC %v, %d additional", r.Truncated, len(r.Extra))
		}
	})
}

// raw sends b over UDP and returns the reply, or nil when none comes within 300 ms.
func raw(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		t.Fatal(err)
	}
	return buf[:n]
}

func TestServerMalformed(t *testing.T) {
	s, _ := startServer(t, testSnapshot(t), 1)
	pack := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base := func() *dns.Msg { return query{name: "web.example.com.", qtype: dns.TypeA}.msg() }
	cases := []struct {
		name  string
		req   []byte
		rcode int  // -1: no reply
		q     bool // the question is echoed
	}{
		{"a response is dropped", func() []byte { m := base(); m.Response = true; return pack(m) }(), -1, false},
		{"shorter than a header is dropped", pack(base())[:11], -1, false},
		{"no question", func() []byte { m := base(); m.Question = nil; return pack(m) }(), dns.RcodeFormatError, false},
		{"two questions", func() []byte { m := base(); m.Question = append(m.Question, m.Question[0]); return pack(m) }(), dns.RcodeFormatError, false},
		{"two OPT records", func() []byte {
			m := base()
			m.Extra = append(m.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 512}})
			return pack(m)
		}(), dns.RcodeFormatError, true},
		{"OPT not owned by the root", func() []byte { m := base(); m.Extra[0].Header().Name = "example.com."; return pack(m) }(), dns.RcodeFormatError, true},
		{"truncated question", func() []byte { b := pack(base()); return b[:len(b)-15] }(), dns.RcodeFormatError, false},
		{"compression pointer in the question", func() []byte { b := pack(base()); b[12], b[13] = 0xc0, 12; return b }(), dns.RcodeFormatError, false},
		{"trailing garbage", append(pack(base()), 1, 2, 3), dns.RcodeFormatError, true},
		{"oversized", append(pack(base()), make([]byte, maxRequest)...), dns.RcodeFormatError, false},
		{"opcode IQUERY", func() []byte { m := base(); m.Opcode = dns.OpcodeIQuery; return pack(m) }(), dns.RcodeNotImplemented, false},
		{"bad OPT option framing", func() []byte {
			b := pack(base())
			// Claim an OPT RDATA of 3 bytes: not a whole option.
			binary.BigEndian.PutUint16(b[len(b)-2:], 3)
			return append(b, 0, 1, 0)
		}(), dns.RcodeFormatError, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := raw(t, s.Addr(), c.req)
			if c.rcode < 0 {
				if resp != nil {
					t.Fatalf("got a %d-byte reply, want none", len(resp))
				}
				return
			}
			if resp == nil {
				t.Fatal("no reply")
			}
			r := new(dns.Msg)
			if err := r.Unpack(resp); err != nil {
				t.Fatalf("reply does not parse: %v", err)
			}
			if r.Id != binary.BigEndian.Uint16(c.req) || !r.Response || r.Rcode != c.rcode || r.Authoritative {
				t.Errorf("id %d, qr %v, rcode %s, aa %v; want id %d, qr, rcode %s", r.Id, r.Response, dns.RcodeToString[r.Rcode],
					r.Authoritative, binary.BigEndian.Uint16(c.req), dns.RcodeToString[c.rcode])
			}
			if (len(r.Question) == 1) != c.q {
				t.Errorf("question %v", r.Question)
			}
			if r.IsEdns0() != nil {
				t.Error("an error reply carries OPT")
			}
		})
	}
	if st := s.Stats(); st.FormErr < 8 || st.NotImp < 1 || st.Dropped < 2 || st.Panics != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestServerNoSnapshot(t *testing.T) {
	s, p := startServer(t, nil, 1)
	q := query{name: "web.example.com.", qtype: dns.TypeA}
	r, _ := exchange(t, s.Addr(), "udp", q.msg())
	checkReply(t, q, want{rcode: dns.RcodeServerFailure, flags: "qr"}, r)

	p.Store(testSnapshot(t)) // the next query sees the new snapshot
	r, _ = exchange(t, s.Addr(), "udp", q.msg())
	checkReply(t, q, want{flags: flagsAA, answer: []string{"web.example.com. 300 IN A 192.0.2.80"}}, r)
	if st := s.Stats(); st.ServFail != 1 || st.Queries != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestServerPanicIsServfail(t *testing.T) {
	s := New(Config{}, new(atomic.Pointer[answer.Snapshot]))
	s.snap.Store(testSnapshot(t))
	w := newWorker(&s.shared)
	w.comp = nil // the reply panics on the missing compression table
	req, _ := query{name: "web.example.com.", qtype: dns.TypeA}.msg().Pack()
	resp := s.handle(w, req, false)
	r := new(dns.Msg)
	if err := r.Unpack(resp); err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeServerFailure || len(r.Question) != 1 || s.Stats().Panics != 1 {
		t.Errorf("rcode %s, question %v, stats %+v", dns.RcodeToString[r.Rcode], r.Question, s.Stats())
	}
}

func TestServerTCPPipelining(t *testing.T) {
	s, _ := startServer(t, testSnapshot(t), 1)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Three queries in one write; three replies in order.
	var out []byte
	names := []string{"web.example.com.", "nothere.example.com.", "www.example.com."}
	for i, n := range names {
		m := query{name: n, qtype: dns.TypeA}.msg()
		m.Id = uint16(100 + i)
		b, _ := m.Pack()
		out = binary.BigEndian.AppendUint16(out, uint16(len(b)))
		out = append(out, b...)
	}
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for i := range names {
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(b); err != nil || r.Id != uint16(100+i) || r.Question[0].Name != names[i] {
			t.Fatalf("reply %d: %v %v", i, r, err)
		}
	}
}

func TestServerConcurrentQueriesAndSwaps(t *testing.T) {
	s, p := startServer(t, testSnapshot(t), 2)
	a, b := testSnapshot(t), testSnapshot(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for i := 0; ctx.Err() == nil; i++ {
			if i%2 == 0 {
				p.Store(a)
			} else {
				p.Store(b)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			network := []string{"udp", "tcp"}[g%2]
			for i := range 50 {
				name := []string{"web.example.com.", "x.wild.example.com.", "example.org.", "www.sub.example.com."}[i%4]
				r, _ := exchange(t, s.Addr(), network, query{name: name, qtype: dns.TypeA}.msg())
				if r.Rcode != dns.RcodeSuccess || len(r.Answer)+len(r.Ns) == 0 {
					t.Errorf("%s: %v", name, r)
				}
			}
		}()
	}
	wg.Wait()
}

func TestStartErrors(t *testing.T) {
	s, _ := startServer(t, nil, 1)
	other := New(Config{Listen: s.Addr()}, new(atomic.Pointer[answer.Snapshot]))
	err := other.Start()
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), s.Addr()) || !strings.HasPrefix(err.Error(), "dnsserver: ") {
		t.Errorf("Start on a busy address: %v", err)
	}
	bad := New(Config{Listen: "no-port"}, new(atomic.Pointer[answer.Snapshot]))
	if err := bad.Start(); err == nil || !strings.Contains(err.Error(), "no-port") {
		t.Errorf("Start on a bad address: %v", err)
	}
}

func TestServerSharesOnePort(t *testing.T) {
	s, _ := startServer(t, testSnapshot(t), 3)
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil || host != "127.0.0.1" || port == "0" {
		t.Fatalf("Addr %q", s.Addr())
	}
	for _, network := range []string{"udp", "tcp"} {
		r, _ := exchange(t, s.Addr(), network, query{name: "web.example.com.", qtype: dns.TypeA}.msg())
		if len(r.Answer) != 1 {
			t.Errorf("%s: %v", network, r)
		}
	}
}

func TestShutdownClosesIdleTCP(t *testing.T) {
	p := new(atomic.Pointer[answer.Snapshot])
	s := New(Config{Listen: "127.0.0.1:0", Sockets: 1}, p)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // the connection is accepted and idle
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Shutdown took %v with an idle TCP connection", d)
	}
	if _, err := net.DialTimeout("tcp", s.Addr(), 200*time.Millisecond); err == nil {
		t.Error("still accepting TCP after Shutdown")
	}
}

// TestServerWildcardAddress: on a wildcard address each reply leaves from the address its query
// came to, whichever of the machine's addresses that is (a connected UDP socket, as resolvers
// use, accepts only a reply from the address it sent to).
func TestServerWildcardAddress(t *testing.T) {
	for _, c := range []struct{ listen, to []string }{
		{[]string{"0.0.0.0:0"}, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{[]string{"[::]:0"}, []string{"::1", "127.0.0.2"}}, // IPv4 through a dual-stack socket
	} {
		t.Run(c.listen[0], func(t *testing.T) {
			p := new(atomic.Pointer[answer.Snapshot])
			p.Store(testSnapshot(t))
			s := New(Config{Listen: c.listen[0], Sockets: 1}, p)
			if err := s.Start(); err != nil {
				t.Skipf("no %s here: %v", c.listen[0], err)
			}
			defer s.Shutdown(context.Background())
			_, port, _ := net.SplitHostPort(s.Addr())
			for _, to := range c.to {
				for range 3 { // the last from the reply cache
					r, _ := exchange(t, net.JoinHostPort(to, port), "udp", query{name: "web.example.com.", qtype: dns.TypeA}.msg())
					if len(r.Answer) != 1 {
						t.Errorf("to %s: %v", to, r)
					}
				}
			}
		})
	}
}

// recorder is a dns.ResponseWriter that keeps what is written.
type recorder struct {
	dns.ResponseWriter // nil: only the methods below are called
	got                []byte
}

func (r *recorder) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 53} }
func (r *recorder) Close() error         { return nil }
func (r *recorder) Write(b []byte) (int, error) {
	r.got = append([]byte(nil), b...)
	return len(b), nil
}

func TestServeDNSAnswersThroughHandle(t *testing.T) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(testSnapshot(t))
	s := New(Config{}, p)
	q := query{name: "WeB.example.com.", qtype: dns.TypeA}
	rec := &recorder{}
	m := q.msg()
	s.ServeDNS(rec, m)
	r := new(dns.Msg)
	if err := r.Unpack(rec.got); err != nil {
		t.Fatal(err)
	}
	if r.Id != m.Id {
		t.Errorf("id %d, want %d", r.Id, m.Id)
	}
	checkReply(t, q, want{flags: flagsAA, answer: []string{"WeB.example.com. 300 IN A 192.0.2.80"}}, r)
}
