package dnsserver

import (
	"bytes"
	"encoding/binary"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
)

// FuzzServeDNS feeds arbitrary bytes to the query path (handle, as the readers call it, without
// the network). It must never panic (a recovered panic counts as a failure here), and must
// answer with a message that parses, carries the request's ID and fits the size the request
// allows, or with nothing at all for a response or a runt packet.
func FuzzServeDNS(f *testing.F) {
	snap := testSnapshot(f)
	for _, q := range []query{
		{name: "web.example.com.", qtype: dns.TypeA},
		{name: "WwW.ExAmPlE.CoM.", qtype: dns.TypeA, noEDNS: true},
		{name: "x.wild.example.com.", qtype: dns.TypeTXT, do: true},
		{name: "www.sub.example.com.", qtype: dns.TypeA},
		{name: "many.big.test.", qtype: dns.TypeA, noEDNS: true},
		{name: "x.deleg.big.test.", qtype: dns.TypeA, size: 700},
		{name: "txt.big.test.", qtype: dns.TypeTXT, size: 4096},
		{name: "example.com.", qtype: dns.TypeMX},
		{name: "example.com.", qtype: dns.TypeANY},
		{name: "example.org.", qtype: dns.TypeA},
		{name: "example.com.", qtype: dns.TypeAXFR},
		{name: "example.com.", qtype: dns.TypeSOA, ver: 1},
		{name: "version.bind.", qtype: dns.TypeTXT, qclass: dns.ClassCHAOS},
		{name: "example.com.", qtype: dns.TypeSOA, opcode: dns.OpcodeNotify},
		{name: `a\.b\000.example.com.`, qtype: dns.TypeA},
		{name: ".", qtype: dns.TypeNS},
	} {
		m := q.msg()
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
		f.Add(b[:len(b)-5], false)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, false)

	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(snap)
	s := New(Config{}, p)
	w := newWorker(&s.shared)
	wc := newWorker(&s.shared) // a UDP reader's, which keeps replies
	wc.cache = newReplyCache()
	f.Fuzz(func(t *testing.T, req []byte, tcp bool) {
		panics := s.Stats().Panics
		resp := s.handle(w, req, tcp)
		if s.Stats().Panics != panics {
			t.Fatalf("handle panicked on %x", req)
		}
		for range 3 { // the third time from the cache, when the reply was kept
			if c := s.handle(wc, req, tcp); !bytes.Equal(c, resp) {
				t.Fatalf("reply %x with a cache, %x without, to %x", c, resp, req)
			}
		}
		if resp == nil {
			if len(req) >= headerLen && req[2]&0x80 == 0 {
				t.Fatalf("no reply to a query: %x", req)
			}
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(resp); err != nil {
			t.Fatalf("reply %x to %x does not parse: %v", resp, req, err)
		}
		if m.Id != binary.BigEndian.Uint16(req) || !m.Response {
			t.Fatalf("reply id %d, qr %v to %x", m.Id, m.Response, req)
		}
		limit := maxMsgLen
		if !tcp {
			limit = minUDPSize
			if w.req.edns {
				limit = min(max(int(w.req.udpSize), minUDPSize), ourUDPSize)
			}
		}
		if len(resp) > limit {
			t.Fatalf("%d-byte reply, limit %d, to %x", len(resp), limit, req)
		}
	})
}
