package answer

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// millionZone is a zone of n A record sets named h0 to h<n-1>, like bench/'s big zone.
func millionZone(n int) zone.Zone {
	z := zone.Zone{ID: "ZBIG", Name: "big.test."}
	ttl, soaTTL := int64(300), int64(3600)
	z.RecordSets = append(z.RecordSets,
		zone.RecordSet{Name: "big.test.", Type: "SOA", TTL: &soaTTL, ResourceRecords: []zone.ResourceRecord{{Value: "ns1.big.test. h.big.test. 1 7200 900 1209600 300"}}},
		zone.RecordSet{Name: "big.test.", Type: "NS", TTL: &soaTTL, ResourceRecords: []zone.ResourceRecord{{Value: "ns1.big.test."}}})
	for i := range n {
		z.RecordSets = append(z.RecordSets, zone.RecordSet{Name: fmt.Sprintf("h%d.big.test.", i), Type: "A", TTL: &ttl,
			ResourceRecords: []zone.ResourceRecord{{Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}})
	}
	return z
}

// BenchmarkMillion builds a snapshot of a zone of a million A record sets, reports the heap it
// keeps per record set, and times lookups of random names of it (each misses the CPU caches, as
// the DNS path does on a large zone) and patches of 1000 new names.
func BenchmarkMillion(b *testing.B) {
	const n = 1_000_000
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	z := millionZone(n)
	bl := NewBuilder()
	if err := bl.Add(&z); err != nil {
		b.Fatal(err)
	}
	soa := z.RecordSets[0]
	z = zone.Zone{}
	s, err := bl.Build(nil)
	if err != nil {
		b.Fatal(err)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc-before.HeapAlloc) / n

	b.Run("lookup", func(b *testing.B) {
		names := make([]string, 100_000)
		for i := range names {
			names[i] = fmt.Sprintf("h%d.big.test.", (i*7919)%n)
		}
		i := 0
		for b.Loop() {
			s.Lookup(names[i%len(names)], dns.TypeA)
			i++
		}
		b.ReportMetric(heap, "heap-B/set")
	})
	b.Run("patch1000", func(b *testing.B) {
		ttl := int64(60)
		round := 0
		for b.Loop() {
			names := []string{"big.test."}
			sets := []zone.RecordSet{soa}
			for i := range 1000 {
				name := fmt.Sprintf("new%d-%d.big.test.", round, i)
				names = append(names, name)
				sets = append(sets, zone.RecordSet{Name: name, Type: "A", TTL: &ttl, ResourceRecords: []zone.ResourceRecord{{Value: "198.51.100.1"}}})
			}
			round++
			next, err := s.Patch("ZBIG", names, sets)
			if err != nil {
				b.Fatal(err)
			}
			s = next
		}
	})
}
