package dnsserver

import (
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
)

// TestStatsByTypeAndRcode counts answered requests by question type and rcode, and samples
// their latency.
func TestStatsByTypeAndRcode(t *testing.T) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(testSnapshot(t))
	s := New(Config{}, p)
	w := newWorker(&s.shared)
	for _, q := range []query{
		{name: "web.example.com.", qtype: dns.TypeA},
		{name: "web.example.com.", qtype: dns.TypeAAAA},
		{name: "nothere.example.com.", qtype: dns.TypeA},
		{name: "www.example.net.", qtype: dns.TypeCAA},
		{name: "web.example.com.", qtype: 4000},
	} {
		req, _ := q.msg().Pack()
		for range 8 {
			s.handle(w, req, false)
		}
	}
	st := s.Stats()
	want := map[uint16]uint64{dns.TypeA: 16, dns.TypeAAAA: 8, dns.TypeCAA: 8, 65535: 8}
	for typ, n := range want {
		if st.QTypes[typ] != n {
			t.Errorf("QTypes[%s] = %d, want %d (all: %v)", dns.TypeToString[typ], st.QTypes[typ], n, st.QTypes)
		}
	}
	if st.Rcodes[dns.RcodeNameError] != 8 || st.Rcodes[dns.RcodeRefused] != 8 || st.Rcodes[dns.RcodeSuccess] != 24 {
		t.Errorf("Rcodes = %v, want 8 NXDOMAIN, 8 REFUSED, 24 NOERROR", st.Rcodes)
	}
	var sampled uint64
	for _, n := range st.Latency {
		sampled += n
	}
	if sampled != 40/latencySample || st.LatencySum <= 0 {
		t.Errorf("latency sample: %d requests taking %v, want %d", sampled, st.LatencySum, 40/latencySample)
	}
}
