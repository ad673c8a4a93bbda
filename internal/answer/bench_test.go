package answer

import (
	"testing"

	"github.com/miekg/dns"
)

var lookupBenchmarks = []struct {
	name  string
	qname string
	qtype uint16
	// allocs is the most allocations one Lookup may make.
	allocs float64
}{
	{"exact", "web.example.com.", dns.TypeA, 0},
	{"nodata", "web.example.com.", dns.TypeAAAA, 0},
	{"nxdomain", "nothere.example.com.", dns.TypeA, 0},
	{"refused", "www.example.net.", dns.TypeA, 0},
	{"wildcard", "foo.wild.example.com.", dns.TypeA, 2},  // the records owned by the query name, and their slice
	{"cname", "www.example.com.", dns.TypeA, 1},          // the answer slice of the chain
	{"mx-additional", "example.com.", dns.TypeMX, 1},     // the additional section
	{"referral", "deep.sub.example.com.", dns.TypeA, 2},  // the glue
	{"cname-chain", "chain1.example.com.", dns.TypeA, 3}, // the answer slice, growing
}

// TestLookupAllocs guards the hot path: an answer straight from the zone allocates nothing.
func TestLookupAllocs(t *testing.T) {
	s := testSnapshot(t)
	for _, b := range lookupBenchmarks {
		t.Run(b.name, func(t *testing.T) {
			got := testing.AllocsPerRun(200, func() { s.Lookup(b.qname, b.qtype) })
			if got > b.allocs {
				t.Errorf("Lookup(%s, %s) makes %v allocations, budget %v", b.qname, dns.TypeToString[b.qtype], got, b.allocs)
			}
		})
	}
}

func BenchmarkLookup(b *testing.B) {
	s := testSnapshot(b)
	for _, c := range lookupBenchmarks {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Lookup(c.qname, c.qtype)
			}
		})
	}
}

func BenchmarkLookupParallel(b *testing.B) {
	s := testSnapshot(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Lookup("web.example.com.", dns.TypeA)
		}
	})
}
