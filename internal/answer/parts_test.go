package answer

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

const partsZone = `$TTL 300
@        IN SOA ns1 hostmaster 1 7200 900 1209600 60
@        IN NS  ns1
@        IN NS  ns2.example.net.
@        IN MX  10 mail
ns1      IN A   192.0.2.1
mail     IN A   192.0.2.2
mail     IN AAAA 2001:db8::2
www      IN CNAME web
web      IN A   192.0.2.3
web      IN A   192.0.2.4
*.wild   IN A   192.0.2.5
a.b.c    IN TXT "deep"
sub      IN NS  ns.sub
ns.sub   IN A   192.0.2.6
`

// partsOf cuts sets into parts of n names each, every part holding every record set of its names,
// the parts and the sets within them in reverse name order.
func partsOf(sets []zone.RecordSet, n int) [][]zone.RecordSet {
	sets = slices.Clone(sets)
	slices.SortStableFunc(sets, func(a, b zone.RecordSet) int { return strings.Compare(b.Name, a.Name) })
	var parts [][]zone.RecordSet
	names := 0
	for i := range sets {
		if i == 0 || sets[i].Name != sets[i-1].Name {
			if names%n == 0 {
				parts = append(parts, nil)
			}
			names++
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], sets[i])
	}
	return parts
}

// TestZoneBuilderParts: a zone compiled from parts, in another order than the zone's, answers
// every question as the zone added whole does, and parts may be reused once added.
func TestZoneBuilderParts(t *testing.T) {
	z := zoneText(t, "example.com.", partsZone)
	z.RecordSets = append(z.RecordSets,
		weighted("lb.example.com.", "one", 1, "192.0.2.10"),
		weighted("lb.example.com.", "two", 1, "192.0.2.11"),
		alias("apex-alias.example.com.", "A", "web.example.com."))
	whole, err := Build([]zone.Zone{z})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 100} {
		b := NewBuilder()
		zb, err := b.Begin(&zone.Zone{ID: z.ID, Name: z.Name}, len(z.RecordSets))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]zone.RecordSet, 0, len(z.RecordSets))
		for _, part := range partsOf(z.RecordSets, n) {
			buf = append(buf[:0], part...)
			if err := zb.Add(buf); err != nil {
				t.Fatalf("%d names a part: %v", n, err)
			}
			clear(buf) // the builder keeps nothing of a part
		}
		if err := zb.End(); err != nil {
			t.Fatal(err)
		}
		parts, err := b.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		qnames := []string{"nowhere.example.com.", "x.wild.example.com.", "b.c.example.com.", "deeper.sub.example.com."}
		for _, rs := range z.RecordSets {
			qnames = append(qnames, rs.Name)
		}
		for _, q := range qnames {
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeNS, dns.TypeTXT, dns.TypeSOA} {
				w, p := whole.Lookup(q, qt), parts.Lookup(q, qt)
				if w.Varies { // a weighted pick: compare what does not vary
					w.Answer, p.Answer = nil, nil
				}
				if w.Rcode != p.Rcode || w.Varies != p.Varies || text(w.Answer) != text(p.Answer) || text(w.Ns) != text(p.Ns) || text(w.Extra) != text(p.Extra) {
					t.Errorf("%d names a part: %s %s: whole\n%s%s%sparts\n%s%s%s", n, q, dns.TypeToString[qt],
						indent(text(w.Answer)), indent(text(w.Ns)), indent(text(w.Extra)),
						indent(text(p.Answer)), indent(text(p.Ns)), indent(text(p.Extra)))
				}
			}
		}
	}
}

// TestZoneBuilderSplitGroup: record sets of one name and type in two parts are refused with
// ErrSplitGroup (the caller then adds the zone whole), a routed group as a simple one.
func TestZoneBuilderSplitGroup(t *testing.T) {
	z := zoneText(t, "example.com.", partsZone)
	for _, c := range []struct {
		name string
		a, b zone.RecordSet
	}{
		{"routed", weighted("lb.example.com.", "one", 1, "192.0.2.10"), weighted("lb.example.com.", "two", 1, "192.0.2.11")},
		{"simple", routed("dup.example.com.", "A", "", 60, "192.0.2.12"), routed("dup.example.com.", "A", "", 60, "192.0.2.13")},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder()
			zb, err := b.Begin(&z, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := zb.Add(append(slices.Clone(z.RecordSets), c.a)); err != nil {
				t.Fatal(err)
			}
			if err := zb.Add([]zone.RecordSet{c.b}); !errors.Is(err, ErrSplitGroup) {
				t.Fatalf("second part: %v, want ErrSplitGroup", err)
			}
		})
	}
}

// TestZoneBuilderDuplicateZone: of two zones of one name, the one with the smaller ID is served
// whichever comes first, and the other's parts are not compiled (their errors do not count).
func TestZoneBuilderDuplicateZone(t *testing.T) {
	z := zoneText(t, "example.com.", partsZone)
	bad := []zone.RecordSet{routed("x.example.net.", "A", "", 60, "192.0.2.1")} // outside the zone
	b := NewBuilder()
	if err := b.Add(&z); err != nil {
		t.Fatal(err)
	}
	zb, err := b.Begin(&zone.Zone{ID: z.ID + "9", Name: z.Name}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := zb.Add(bad); err != nil {
		t.Fatalf("parts of a zone that is not served: %v", err)
	}
	if err := zb.End(); err != nil {
		t.Fatal(err)
	}
	s, err := b.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	checkSection(t, "answer", s.Lookup("web.example.com.", dns.TypeA).Answer,
		"web.example.com. 300 IN A 192.0.2.3", "web.example.com. 300 IN A 192.0.2.4")
}
