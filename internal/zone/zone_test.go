package zone

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	z, err := New("Z1", "Example.COM", "ref-1", "my zone", []string{"NS1.example.net", "ns2.example.net."}, "")
	if err != nil {
		t.Fatal(err)
	}
	if z.ID != "Z1" || z.Name != "example.com." || z.CallerReference != "ref-1" || z.Comment != "my zone" {
		t.Errorf("zone = %+v", z)
	}
	want := []string{
		"example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400",
		"example.com. 172800 IN NS ns1.example.net.",
		"example.com. 172800 IN NS ns2.example.net.",
	}
	if d := diffStrings(rrLines(t, want), simpleRRs(t, &z)); d != "" {
		t.Errorf("records:%s", d)
	}
	if err := Validate(&z); err != nil {
		t.Error(err)
	}
	z, err = New("Z2", "test", "", "", []string{"ns.example.net"}, "admin.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if soa := z.SOA(); soa == nil || soa.Mbox != "admin.example.org." || soa.Ns != "ns.example.net." {
		t.Errorf("SOA = %v", soa)
	}
}

func TestNewRefuses(t *testing.T) {
	ns := []string{"ns1.example.net"}
	tests := []struct {
		name               string
		id, zone, ref, cmt string
		nameservers        []string
		hostmaster         string
		want               string
	}{
		{"root", "Z1", ".", "", "", ns, "", `Invalid request: the root zone "." cannot be hosted`},
		{"empty name", "Z1", "", "", "", ns, "", "Invalid request: '' is not a valid zone name: invalid domain name \"\": domain name is empty"},
		{"empty label", "Z1", "a..com", "", "", ns, "", "Invalid request: 'a..com' is not a valid zone name: invalid domain name \"a..com\": domain label is empty"},
		{"wildcard", "Z1", "*.example.com", "", "", ns, "", "Invalid request: '*.example.com' is not a valid zone name: a zone name cannot be a wildcard"},
		{"no name servers", "Z1", "example.com", "", "", nil, "", "Invalid request: a hosted zone needs at least one name server"},
		{"bad name server", "Z1", "example.com", "", "", []string{"a b"}, "", "Invalid request: name server 'a b' is not a valid name: invalid domain name \"a b\": value contains unsupported characters"},
		{"name server twice", "Z1", "example.com", "", "", []string{"ns.example.net", "NS.example.net."}, "", "Invalid request: name server ns.example.net. is listed twice"},
		{"empty id", "", "example.com", "", "", ns, "", "Invalid request: the hosted zone ID is empty"},
		{"long caller reference", "Z1", "example.com", strings.Repeat("r", 129), "", ns, "", "Invalid request: CallerReference is 129 characters long; the limit is 128"},
		{"long comment", "Z1", "example.com", "", strings.Repeat("c", 257), ns, "", "Invalid request: Comment is 257 characters long; the limit is 256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.id, tc.zone, tc.ref, tc.cmt, tc.nameservers, tc.hostmaster)
			kind, got := errorText(err)
			if kind != "InvalidInput" || got != tc.want {
				t.Errorf("got %s: %q\nwant InvalidInput: %q", kind, got, tc.want)
			}
		})
	}
}

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want, route53 string }{
		{"www.Example.COM", "www.example.com.", "www.example.com."},
		{`\052.example.com.`, "*.example.com.", `\052.example.com.`},
		{"*.example.com", "*.example.com.", `\052.example.com.`},
		{`\100.example.com`, `\@.example.com.`, `\100.example.com.`},
		{`a\.b.example.com`, `a\.b.example.com.`, `a\056b.example.com.`},
		{`\101bc.example.com`, "abc.example.com.", "abc.example.com."},
		{`\303\251t\303\251.example.com`, `\195\169t\195\169.example.com.`, `\303\251t\303\251.example.com.`},
		{"_dmarc.example.com", "_dmarc.example.com.", "_dmarc.example.com."},
		{".", ".", "."},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CanonicalName(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("CanonicalName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			if r := Route53Name(got); r != tc.route53 {
				t.Errorf("Route53Name(%q) = %q, want %q", got, r, tc.route53)
			}
			if back, err := CanonicalName(Route53Name(got)); err != nil || back != got {
				t.Errorf("CanonicalName(Route53Name(%q)) = %q, %v", got, back, err)
			}
			if p, err := canonicalPresentation(got); err != nil || p != got {
				t.Errorf("canonicalPresentation(%q) = %q, %v", got, p, err)
			}
		})
	}
	for _, bad := range []string{"", "a..b", "a b.c", `a\9bc.d`, `a\`, "é.com", strings.Repeat("a", 64) + ".com", strings.Repeat("abcdefghi.", 26)} {
		if got, err := CanonicalName(bad); err == nil {
			t.Errorf("CanonicalName(%q) = %q, want an error", bad, got)
		}
	}
}

func TestLess(t *testing.T) {
	// Route 53's listing order: names by reversed labels, each label followed by its dot.
	want := []Key{
		{Name: "example.com.", Type: "NS"},
		{Name: "example.com.", Type: "SOA"},
		{Name: "*.example.com.", Type: "A"},
		{Name: "a-b.example.com.", Type: "A"},
		{Name: "a.example.com.", Type: "A"},
		{Name: "a.example.com.", Type: "A", SetIdentifier: "one"},
		{Name: "a.example.com.", Type: "A", SetIdentifier: "two"},
		{Name: "a.example.com.", Type: "AAAA"},
		{Name: "x.a.example.com.", Type: "A"},
		{Name: "ab.example.com.", Type: "A"},
		{Name: "b.example.com.", Type: "A"},
		{Name: "www.example.com.", Type: "A"},
	}
	got := slices.Clone(want)
	rand.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	sets := make([]RecordSet, len(got))
	for i, k := range got {
		sets[i] = RecordSet{Name: k.Name, Type: k.Type, SetIdentifier: k.SetIdentifier}
	}
	slices.SortFunc(sets, func(a, b RecordSet) int {
		if Less(a, b) {
			return -1
		}
		if Less(b, a) {
			return 1
		}
		return 0
	})
	for i := range sets {
		if sets[i].Key() != want[i] {
			t.Fatalf("position %d: got %v, want %v", i, sets[i].Key(), want[i])
		}
	}
	z := &Zone{RecordSets: sets}
	for i, k := range want {
		if j, ok := z.Find(k); !ok || j != i {
			t.Errorf("Find(%v) = %d, %v; want %d", k, j, ok, i)
		}
	}
	if j, ok := z.Find(Key{Name: "aa.example.com.", Type: "A"}); ok || j != 9 {
		t.Errorf("Find(missing) = %d, %v; want 9, false", j, ok)
	}
}

// TestCompareNamesMatchesSortKey checks the allocation-free comparison against the definition.
func TestCompareNamesMatchesSortKey(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "-", "_", "*", "0", `\.`, `\\`, `\032`, "z"}
	name := func() string {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			for range 1 + r.IntN(3) {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			b.WriteByte('.')
		}
		return b.String()
	}
	for range 20000 {
		a, b := name(), name()
		want := strings.Compare(sortKey(a), sortKey(b))
		if got := CompareNames(a, b); got != want {
			t.Fatalf("CompareNames(%q, %q) = %d; sort keys %q, %q compare %d", a, b, got, sortKey(a), sortKey(b), want)
		}
	}
}

func TestApplyLargeAndSmallDiffsAgree(t *testing.T) {
	base := zoneOf(t, generatedZone(2000))
	var d Diff
	for i := 0; i < 2000; i += 7 {
		d.Delete = append(d.Delete, base.RecordSets[i].Key())
	}
	for i := 0; i < 500; i++ {
		ttl := int64(i)
		d.Put = append(d.Put, RecordSet{Name: fmt.Sprintf("n%d.example.com.", i), Type: "A", TTL: &ttl, ResourceRecords: []ResourceRecord{{Value: "192.0.2.1"}}})
	}
	ttl := int64(1)
	d.Put = append(d.Put, RecordSet{Name: base.RecordSets[3].Name, Type: base.RecordSets[3].Type, TTL: &ttl, ResourceRecords: base.RecordSets[3].ResourceRecords})

	merged := &Zone{Name: base.Name, RecordSets: slices.Clone(base.RecordSets)}
	merged.merge(d)
	inPlace := &Zone{Name: base.Name, RecordSets: slices.Clone(base.RecordSets)}
	for _, k := range d.Delete {
		inPlace.Apply(Diff{Delete: []Key{k}})
	}
	for _, rs := range d.Put {
		inPlace.Apply(Diff{Put: []RecordSet{rs}})
	}
	viaApply := &Zone{Name: base.Name, RecordSets: slices.Clone(base.RecordSets)}
	viaApply.Apply(d)
	if len(merged.RecordSets) != len(inPlace.RecordSets) || len(viaApply.RecordSets) != len(inPlace.RecordSets) {
		t.Fatalf("lengths %d, %d, %d", len(merged.RecordSets), len(inPlace.RecordSets), len(viaApply.RecordSets))
	}
	for i := range merged.RecordSets {
		if !equalSets(&merged.RecordSets[i], &inPlace.RecordSets[i]) || !equalSets(&viaApply.RecordSets[i], &inPlace.RecordSets[i]) {
			t.Fatalf("position %d: %v / %v / %v", i, merged.RecordSets[i].Key(), inPlace.RecordSets[i].Key(), viaApply.RecordSets[i].Key())
		}
	}
	if i, ok := inPlace.Find(base.RecordSets[3].Key()); !ok || *inPlace.RecordSets[i].TTL != 1 {
		t.Errorf("put of an existing key did not replace it")
	}
}

func TestValidateZone(t *testing.T) {
	ttl := int64(60)
	z := zoneOf(t, baseZone)
	// Out of order.
	bad := &Zone{Name: z.Name, RecordSets: slices.Clone(z.RecordSets)}
	bad.RecordSets[0], bad.RecordSets[1] = bad.RecordSets[1], bad.RecordSets[0]
	if err := Validate(bad); err == nil || !strings.Contains(err.Error(), "out of order") {
		t.Errorf("unsorted zone: %v", err)
	}
	// A name that is not canonical.
	bad = &Zone{Name: z.Name, RecordSets: slices.Clone(z.RecordSets)}
	bad.RecordSets = append(bad.RecordSets, RecordSet{Name: "zzz.EXAMPLE.com.", Type: "A", TTL: &ttl, ResourceRecords: []ResourceRecord{{Value: "192.0.2.1"}}})
	if err := Validate(bad); err == nil || !strings.Contains(err.Error(), "not canonical") {
		t.Errorf("non-canonical name: %v", err)
	}
	// An empty zone.
	if _, got := errorText(Validate(&Zone{Name: "example.com."})); got != "[A HostedZone must contain exactly one SOA record., A HostedZone must contain at least one NS record for the zone itself.]" {
		t.Errorf("empty zone: %s", got)
	}
}

// TestNameForms checks, on random wire names, that the canonical form is a fixed point of
// both parsers and that Route53Name reads back to it.
func TestNameForms(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		var wire [][]byte
		for range 1 + r.IntN(4) {
			l := make([]byte, 1+r.IntN(5))
			for i := range l {
				if r.IntN(3) == 0 {
					l[i] = byte(r.IntN(256))
				} else {
					l[i] = "ab-_*.\\\"@;( "[r.IntN(12)]
				}
			}
			wire = append(wire, l)
		}
		name, err := labelsToName(wire, "")
		if err != nil {
			t.Fatal(err)
		}
		if p, err := canonicalPresentation(name); err != nil || p != name {
			t.Fatalf("canonicalPresentation(%q) = %q, %v", name, p, err)
		}
		if c, err := CanonicalName(Route53Name(name)); err != nil || c != name {
			t.Fatalf("CanonicalName(Route53Name(%q)) = %q (via %q), %v", name, c, Route53Name(name), err)
		}
		if got := len(labels(name)); got != len(wire) {
			t.Fatalf("labels(%q) has %d labels, want %d", name, got, len(wire))
		}
	}
}
