package answer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

const patchZone = `$TTL 300
@           IN SOA ns1.p.test. hostmaster.p.test. 1 7200 900 1209600 60
@           IN NS  ns1.p.test.
@           IN NS  ns1.other.test.
@           IN MX  10 mail.p.test.
ns1         IN A   192.0.2.1
mail        IN A   192.0.2.2
www         IN A   192.0.2.3
*.wild      IN A   192.0.2.4
a.b.c       IN TXT "deep"
sub         IN NS  ns.sub.p.test.
ns.sub      IN A   192.0.2.5
cn          IN CNAME www.p.test.
`

// patchNames are the names the random patches write, chosen to exercise empty non-terminals,
// wildcards, names below a delegation, CNAME chains and additional-section targets.
var patchNames = []string{
	"p.test.", "www.p.test.", "mail.p.test.", "x.p.test.", "a.b.c.p.test.", "b.c.p.test.",
	"d.b.c.p.test.", "e.d.b.c.p.test.", "*.p.test.", "*.wild.p.test.", "q.wild.p.test.",
	"*.x.p.test.", "y.x.p.test.", "deep.sub.p.test.", "cn.p.test.", "cn2.p.test.", "new.p.test.",
}

// queryNames are the names compared after each patch: every written name, names only a
// wildcard or nothing covers, and ancestors.
var queryNames = append(slices.Clone(patchNames), "nothere.p.test.", "c.p.test.", "zz.wild.p.test.",
	"z.x.p.test.", "q.y.x.p.test.", "sub.p.test.", "ns.sub.p.test.", "f.e.d.b.c.p.test.", "wild.p.test.")

var queryTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX, dns.TypeNS,
	dns.TypeSOA, dns.TypeDS, dns.TypeANY}

// TestPatchMatchesBuild applies random batches of plain changes by Patch and compares every
// answer with a snapshot built from scratch of the same records.
func TestPatchMatchesBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	z := zoneText(t, "p.test.", patchZone)
	snap, err := Build([]zone.Zone{z})
	if err != nil {
		t.Fatal(err)
	}
	patched, rebuilt := 0, 0
	for step := range 400 {
		names := randomChanges(r, &z)
		var sets []zone.RecordSet
		for _, rs := range z.RecordSets {
			if slices.Contains(names, rs.Name) {
				sets = append(sets, rs)
			}
		}
		want, err := Build([]zone.Zone{z})
		if err != nil {
			t.Fatalf("step %d: build: %v", step, err)
		}
		got, err := snap.Patch(z.ID, names, sets)
		switch {
		case errors.Is(err, ErrRebuild):
			rebuilt++
			snap = want
			continue
		case err != nil:
			t.Fatalf("step %d: patch %v: %v", step, names, err)
		}
		patched++
		for _, name := range queryNames {
			for _, qt := range queryTypes {
				g, w := got.Lookup(name, qt), want.Lookup(name, qt)
				if a, b := describe(g), describe(w); a != b {
					t.Fatalf("step %d, after changing %v: %s %s\npatched:\n%s\nbuilt:\n%s", step, names, name, dns.TypeToString[qt], a, b)
				}
				checkWire(t, got, g)
			}
		}
		snap = got
	}
	if patched < 300 {
		t.Errorf("only %d of 400 batches patched in place (%d rebuilt)", patched, rebuilt)
	}
}

// describe renders a Result for comparison.
func describe(r Result) string {
	return fmt.Sprintf("rcode %d aa %v\nanswer:\n%sauthority:\n%sadditional:\n%s", r.Rcode, r.Authoritative, text(r.Answer), text(r.Ns), text(r.Extra))
}

// checkWire fails when Rdata of a record of a Result is missing or differs from its packed form.
func checkWire(t *testing.T, s *Snapshot, r Result) {
	t.Helper()
	buf := make([]byte, 4096)
	for _, sec := range [][]dns.RR{r.Answer, r.Ns, r.Extra} {
		for _, rr := range sec {
			rd, ok := s.Rdata(rr)
			if !ok {
				continue // synthesized for this Result: the caller packs it
			}
			c := dns.Copy(rr)
			off, err := dns.PackRR(c, buf, 0, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := buf[off-int(c.Header().Rdlength) : off]; string(rd) != string(want) {
				t.Fatalf("Rdata(%s) = %x, want %x", rr, rd, want)
			}
		}
	}
}

// randomChanges changes one to four names of z the way a valid change batch could (no CNAME
// beside other types, a SOA always at the apex, whose serial each batch bumps) and returns them.
func randomChanges(r *rand.Rand, z *zone.Zone) []string {
	names := []string{z.Name}
	bumpSerial(z)
	for range 1 + r.IntN(4) {
		name := patchNames[r.IntN(len(patchNames))]
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
		types := []string{"A", "AAAA", "TXT", "MX", "CNAME"}
		typ := types[r.IntN(len(types))]
		if name == z.Name && typ == "CNAME" {
			typ = "A"
		}
		k := zone.Key{Name: name, Type: typ}
		// Drop what cannot stay beside the new set, or the set itself, half the time.
		del := r.IntN(2) == 0
		z.RecordSets = slices.DeleteFunc(z.RecordSets, func(rs zone.RecordSet) bool {
			if rs.Name != name {
				return false
			}
			return rs.Key() == k || (typ == "CNAME") != (rs.Type == "CNAME")
		})
		if del {
			continue
		}
		ttl := int64(r.IntN(3) * 100)
		rs := zone.RecordSet{Name: name, Type: typ, TTL: &ttl}
		for i := range 1 + r.IntN(3) {
			var v string
			switch typ {
			case "A":
				v = fmt.Sprintf("198.51.100.%d", r.IntN(250)+i)
			case "AAAA":
				v = fmt.Sprintf("2001:db8::%x", r.IntN(250)+i)
			case "TXT":
				v = fmt.Sprintf(`"t%d"`, r.IntN(1000)+i)
			case "MX":
				v = fmt.Sprintf("%d %s", i, []string{"mail.p.test.", "www.p.test.", "x.p.test.", "q.wild.p.test."}[r.IntN(4)])
			case "CNAME":
				if i > 0 {
					continue
				}
				v = []string{"www.p.test.", "cn.p.test.", "new.p.test.", "nothere.p.test.", "a.other.test."}[r.IntN(5)]
			}
			if !slices.ContainsFunc(rs.ResourceRecords, func(x zone.ResourceRecord) bool { return x.Value == v }) {
				rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: v})
			}
		}
		z.RecordSets = append(z.RecordSets, rs)
	}
	return names
}

func bumpSerial(z *zone.Zone) {
	for i := range z.RecordSets {
		rs := &z.RecordSets[i]
		if rs.Type == "SOA" {
			f := strings.Fields(rs.ResourceRecords[0].Value)
			var serial int
			fmt.Sscan(f[2], &serial)
			f[2] = fmt.Sprint(serial + 1)
			rs.ResourceRecords = []zone.ResourceRecord{{Value: strings.Join(f, " ")}}
		}
	}
}

// TestPatchRefuses: changes that reach beyond their names are left to a full build.
func TestPatchRefuses(t *testing.T) {
	z := zoneText(t, "p.test.", patchZone)
	z.RecordSets = append(z.RecordSets, alias("al.p.test.", "A", "www.p.test."),
		failover("fo.p.test.", "one", "PRIMARY", "192.0.2.10"), failover("fo.p.test.", "two", "SECONDARY", "192.0.2.11"),
		zone.RecordSet{Name: "sub2.p.test.", Type: "NS", TTL: ptr(int64(60)), ResourceRecords: []zone.ResourceRecord{{Value: "ns1.p.test."}}})
	snap, err := Build([]zone.Zone{z})
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(60)
	a := func(name, v string) zone.RecordSet {
		return zone.RecordSet{Name: name, Type: "A", TTL: &ttl, ResourceRecords: []zone.ResourceRecord{{Value: v}}}
	}
	cases := []struct {
		what string
		name string
		sets []zone.RecordSet
	}{
		{"an alias target", "www.p.test.", []zone.RecordSet{a("www.p.test.", "192.0.2.99")}},
		{"a routed group", "fo.p.test.", []zone.RecordSet{failover("fo.p.test.", "one", "PRIMARY", "192.0.2.12")}},
		{"an alias", "al.p.test.", nil},
		{"a delegation", "sub.p.test.", nil},
		{"a delegation's name server's address", "ns1.p.test.", []zone.RecordSet{a("ns1.p.test.", "192.0.2.98")}},
		{"glue below a delegation", "ns.sub.p.test.", []zone.RecordSet{a("ns.sub.p.test.", "192.0.2.98")}},
	}
	for _, c := range cases {
		if _, err := snap.Patch(z.ID, []string{c.name}, c.sets); !errors.Is(err, ErrRebuild) {
			t.Errorf("patching %s: err %v, want ErrRebuild", c.what, err)
		}
	}
	if _, err := snap.Patch("Znope", []string{"x.p.test."}, nil); !errors.Is(err, ErrRebuild) {
		t.Errorf("patching a zone the snapshot lacks: err %v, want ErrRebuild", err)
	}
	// A routed group at a name whose other records change is kept as it is.
	fo := []zone.RecordSet{
		failover("fo.p.test.", "one", "PRIMARY", "192.0.2.10"), failover("fo.p.test.", "two", "SECONDARY", "192.0.2.11"),
		{Name: "fo.p.test.", Type: "TXT", TTL: &ttl, ResourceRecords: []zone.ResourceRecord{{Value: `"hello"`}}},
	}
	got, err := snap.Patch(z.ID, []string{"fo.p.test."}, fo)
	if err != nil {
		t.Fatalf("adding a TXT beside a routed group: %v", err)
	}
	checkSection(t, "fo A", got.Lookup("fo.p.test.", dns.TypeA).Answer, "fo.p.test. 60 IN A 192.0.2.10")
	checkSection(t, "fo TXT", got.Lookup("fo.p.test.", dns.TypeTXT).Answer, `fo.p.test. 60 IN TXT "hello"`)
}

// TestWithHealthMatchesBuild: a snapshot moved from one set of health states to another by
// WithHealth answers, and describes its routes, as one built under the second states.
func TestWithHealthMatchesBuild(t *testing.T) {
	checks := []string{"hc-alias", "hc-backup", "hc-p", "hc-pa", "hc-pb", "hc-s", "hc-wa", "hc-wb", "hc-wz"}
	r := rand.New(rand.NewPCG(3, 4))
	snap := healthSnapshot(t, "")
	var names []string
	for _, rt := range snap.Routes() {
		names = append(names, rt.Name)
	}
	for step := range 60 {
		var down []string
		for _, c := range checks {
			if r.IntN(3) == 0 {
				down = append(down, c)
			}
		}
		if step%10 == 9 {
			down = append(down, strings.Fields(allMV())...)
		}
		got, err := snap.WithHealth(downChecks(strings.Join(down, " ")))
		if err != nil {
			t.Fatal(err)
		}
		want := healthSnapshot(t, strings.Join(down, " "))
		if a, b := fmt.Sprint(got.Routes()), fmt.Sprint(want.Routes()); a != b {
			t.Fatalf("down %v: routes\n%s\nwant\n%s", down, a, b)
		}
		for _, name := range names {
			g, w := got.Lookup(name, dns.TypeA), want.Lookup(name, dns.TypeA)
			if fixed(got, name) && describe(g) != describe(w) {
				t.Fatalf("down %v: %s\n%s\nwant\n%s", down, name, describe(g), describe(w))
			}
			checkWire(t, got, g)
		}
		snap = got
	}
}

// fixed reports whether the A answer of name cannot vary from query to query.
func fixed(s *Snapshot, name string) bool {
	_, n := s.exactNode(name)
	if n == nil || n.get(dns.TypeA) == nil {
		return true
	}
	_, ok := s.static(n.get(dns.TypeA))
	return ok
}
