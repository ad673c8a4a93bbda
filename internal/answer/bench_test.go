package answer

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
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

// failoverZone is a zone with n failover groups, each a checked PRIMARY and a checked SECONDARY.
func failoverZone(b testing.TB, n int) zone.Zone {
	z := zoneText(b, "example.org.", exampleOrgHealth)
	for i := range n {
		name := fmt.Sprintf("svc%d.example.org.", i)
		z.RecordSets = append(z.RecordSets,
			checked(failover(name, "primary", "PRIMARY", fmt.Sprintf("10.%d.%d.1", i>>8, i&255)), fmt.Sprintf("hc-p%d", i)),
			checked(failover(name, "secondary", "SECONDARY", fmt.Sprintf("10.%d.%d.2", i>>8, i&255)), fmt.Sprintf("hc-s%d", i)))
	}
	return z
}

// BenchmarkBuild measures a rebuild, which every health transition causes.
func BenchmarkBuild(b *testing.B) {
	zones := []zone.Zone{failoverZone(b, 10_000)}
	every3rdDown := func(id string) (bool, bool) { return len(id)%3 != 0, true }
	b.Run("failover-10k", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := BuildWithHealth(zones, every3rdDown); err != nil {
				b.Fatal(err)
			}
		}
	})
	s, err := BuildWithHealth(zones, every3rdDown)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("routes-10k", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.Routes()
		}
	})
}
