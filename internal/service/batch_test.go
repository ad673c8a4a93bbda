package service

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
	"github.com/failoverdns/failoverdns/internal/zone"
)

var bigZoneSize = flag.Int("bigzone", 100_000, "record sets of the zone BenchmarkChangeBatch1000 changes")

// bigZone returns a service on a bolt store in dir holding the zone big.test with n A record
// sets (h0 to h<n-1>) besides its SOA and NS, written straight to the store in chunks.
func bigZone(tb testing.TB, dir string, n int) (*Service, HostedZone) {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(dir, "db"), bolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	s := New(st, Options{Nameservers: []string{"ns1.example.net."}, SyncWait: time.Microsecond})
	ctx := context.Background()
	hz, _, err := s.CreateZone(ctx, "big.test", "", "")
	if err != nil {
		tb.Fatal(err)
	}
	id := trimPrefix(hz.Id, ZonePrefix)
	const chunk = 50_000
	for lo := 0; lo < n; lo += chunk {
		if _, err := st.Update(ctx, func(tx store.Tx) error {
			for i := lo; i < min(n, lo+chunk); i++ {
				rs := zone.RecordSet{Name: fmt.Sprintf("h%d.big.test.", i), Type: "A", TTL: ttl(300),
					ResourceRecords: []zone.ResourceRecord{{Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}}
				if err := putJSON(tx, recordKey(id, rs.Key()), rs); err != nil {
					return err
				}
			}
			m, err := readMeta(tx, id)
			if err != nil {
				return err
			}
			m.Count += int64(min(n, lo+chunk) - lo)
			return putJSON(tx, zoneKey(id), m)
		}); err != nil {
			tb.Fatal(err)
		}
	}
	return s, hz
}

// creates returns a batch of n CREATEs of new A record sets in big.test, named after round.
func creates(round, n int) zone.ChangeBatch {
	var b zone.ChangeBatch
	for i := range n {
		b.Changes = append(b.Changes, zone.Change{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{
			Name: fmt.Sprintf("new%d-%d.big.test.", round, i), Type: "A", TTL: ttl(300),
			ResourceRecords: []zone.ResourceRecord{{Value: fmt.Sprintf("198.18.%d.%d", round&255, i%250+1)}}}})
	}
	return b
}

// BenchmarkChangeBatch1000 acknowledges batches of 1000 CREATEs in a zone of -bigzone record
// sets: the time from the call to the acknowledgement, with DNS serving left out (SyncWait is
// tiny and nothing marks the change served).
func BenchmarkChangeBatch1000(b *testing.B) {
	s, hz := bigZone(b, b.TempDir(), *bigZoneSize)
	ctx := b.Context()
	round := 0
	for b.Loop() {
		if _, err := s.ChangeRecordSets(ctx, hz.Id, creates(round, 1000)); err != nil {
			b.Fatal(err)
		}
		round++
	}
}

// importSets returns a master file's worth of record sets for zone, in the parser's order: its
// SOA and NS and n A record sets, spread over 100 subdomains (so that the listing order is not
// the store's key order).
func manySets(zoneName string, n int) []zone.RecordSet {
	sets := []zone.RecordSet{
		{Name: zoneName, Type: "SOA", TTL: ttl(900), ResourceRecords: []zone.ResourceRecord{{Value: "ns1.example.net. hostmaster." + zoneName + " 1 7200 900 1209600 86400"}}},
		{Name: zoneName, Type: "NS", TTL: ttl(172800), ResourceRecords: []zone.ResourceRecord{{Value: "ns1.example.net."}}},
	}
	for i := range n {
		sets = append(sets, zone.RecordSet{Name: fmt.Sprintf("h%d.s%d.%s", i, i%100, zoneName), Type: "A", TTL: ttl(300),
			ResourceRecords: []zone.ResourceRecord{{Value: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}})
	}
	sort.Slice(sets, func(i, j int) bool { return zone.Less(sets[i], sets[j]) })
	return sets
}

// BenchmarkImportZone imports -bigzone record sets into a new zone (its creation untimed), and
// the same ones again into a zone that already holds them.
func BenchmarkImportZone(b *testing.B) {
	s := newService(b)
	ctx := b.Context()
	b.Run("new", func(b *testing.B) {
		round := 0
		for b.Loop() {
			b.StopTimer()
			name := fmt.Sprintf("import%d.test.", round)
			round++
			if _, _, err := s.CreateZone(ctx, name, "", ""); err != nil {
				b.Fatal(err)
			}
			sets := manySets(name, *bigZoneSize)
			b.StartTimer()
			if _, err := s.ImportZone(ctx, name, sets, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("same", func(b *testing.B) {
		sets := manySets("same.test.", *bigZoneSize)
		if _, _, err := s.CreateZone(ctx, "same.test.", "", ""); err != nil {
			b.Fatal(err)
		}
		if _, err := s.ImportZone(ctx, "same.test.", sets, ""); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := s.ImportZone(ctx, "same.test.", sets, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}
