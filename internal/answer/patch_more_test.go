package answer

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// This file checks Patch and WithHealth against full builds of the same data over several zones
// at once: a parent and its child zone, another zone CNAME chains and aliases reach into,
// delegations with glue and occluded names, wildcards, escaped names and dynamic groups. A
// patched snapshot must answer every question as a built one does, and hold the same compiled
// nodes: any difference there (an empty non-terminal too many, a stale wildcard pointer, a
// record without its wire form) is an answer that goes wrong later.

// world is the hosted zones a test changes name by name, as a store would hold them.
type world struct {
	zones  []zone.Zone
	health string // the failing health checks, for downChecks
}

func (w *world) zone(id string) *zone.Zone {
	for i := range w.zones {
		if w.zones[i].ID == id {
			return &w.zones[i]
		}
	}
	panic("no zone " + id)
}

// put makes name (canonical) in zone id hold exactly sets.
func (w *world) put(id, name string, sets []zone.RecordSet) {
	z := w.zone(id)
	z.RecordSets = slices.DeleteFunc(z.RecordSets, func(rs zone.RecordSet) bool { return rs.Name == name })
	z.RecordSets = append(z.RecordSets, sets...)
}

// at returns the record sets of zone id at names, as the daemon reads them for Patch.
func (w *world) at(id string, names []string) []zone.RecordSet {
	var out []zone.RecordSet
	for _, rs := range w.zone(id).RecordSets {
		if slices.Contains(names, rs.Name) {
			out = append(out, rs)
		}
	}
	return out
}

// sets returns the record sets of zone id at name.
func (w *world) sets(id, name string) []zone.RecordSet {
	return w.at(id, []string{name})
}

func (w *world) build(t testing.TB) *Snapshot {
	t.Helper()
	s, err := BuildWithHealth(w.zones, downChecks(w.health))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return s
}

// patch applies the change of names in zone id by Patch, and reports false on ErrRebuild.
func (w *world) patch(t testing.TB, s *Snapshot, id string, names []string) (*Snapshot, bool) {
	t.Helper()
	got, err := s.Patch(id, names, w.at(id, names))
	if errors.Is(err, ErrRebuild) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("patch %s %q: %v", id, names, err)
	}
	return got, true
}

// set returns a simple record set.
func set(name, typ string, ttl int64, values ...string) zone.RecordSet {
	return routed(name, typ, "", ttl, values...)
}

var compareTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX, dns.TypeSRV,
	dns.TypeNS, dns.TypeSOA, dns.TypeDS, dns.TypePTR, dns.TypeHTTPS, dns.TypeANY}

// sameSnapshots fails unless got, a patched snapshot, holds what want, built from scratch, holds
// and answers every question about every name either has (and names below them, which only
// wildcards or nothing cover, and the extra names) as want does.
func sameSnapshots(t testing.TB, what string, got, want *Snapshot, extra ...string) {
	t.Helper()
	sameStructure(t, what, got, want)
	names := slices.Clone(extra)
	for _, s := range []*Snapshot{got, want} {
		for _, zd := range s.zones {
			for name := range zd.nodes.all() {
				names = append(names, name, "zz."+name)
			}
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		for _, qt := range compareTypes {
			g, w := got.Lookup(name, qt), want.Lookup(name, qt)
			if a, b := describe(g), describe(w); a != b {
				t.Fatalf("%s: %s %s\npatched:\n%s\nbuilt:\n%s", what, name, dns.TypeToString[qt], a, b)
			}
			sameRdata(t, what, got, want, g, w)
		}
	}
	if a, b := fmt.Sprint(got.Routes()), fmt.Sprint(want.Routes()); a != b {
		t.Fatalf("%s: routes\n%s\nwant\n%s", what, a, b)
	}
}

// sameRdata fails unless the records of two equal Results have the same Rdata in their
// snapshots: the same bytes, or both none (synthesized for the Result).
func sameRdata(t testing.TB, what string, got, want *Snapshot, g, w Result) {
	t.Helper()
	gs, ws := [][]dns.RR{g.Answer, g.Ns, g.Extra}, [][]dns.RR{w.Answer, w.Ns, w.Extra}
	for i := range gs {
		for j := range gs[i] {
			gd, gok := got.Rdata(gs[i][j])
			wd, wok := want.Rdata(ws[i][j])
			if gok != wok || string(gd) != string(wd) {
				t.Fatalf("%s: Rdata(%s) = %x, %v; built: %x, %v", what, gs[i][j], gd, gok, wd, wok)
			}
		}
	}
}

// sameStructure fails unless got and want hold the same zones, nodes, groups and wire table.
func sameStructure(t testing.TB, what string, got, want *Snapshot) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s: %s", what, fmt.Sprintf(format, args...))
	}
	if a, b := slices.Sorted(maps.Keys(got.zones)), slices.Sorted(maps.Keys(want.zones)); !slices.Equal(a, b) {
		fail("zones %v, built %v", a, b)
	}
	for apex, wz := range want.zones {
		gz := got.zones[apex]
		if gz.id != wz.id || gz.labels != wz.labels || gz.parent != wz.parent {
			fail("zone %s: id, labels, parent %s %d %s; built %s %d %s", apex, gz.id, gz.labels, gz.parent, wz.id, wz.labels, wz.parent)
		}
		if a, b := text(gz.negSOA), text(wz.negSOA); a != b {
			fail("zone %s: negative SOA %s; built %s", apex, a, b)
		}
		if !maps.Equal(gz.nsTargets, wz.nsTargets) {
			fail("zone %s: NS targets %v; built %v", apex, gz.nsTargets, wz.nsTargets)
		}
		if a, b := slices.Sorted(slices.Values(gz.cuts)), slices.Sorted(slices.Values(wz.cuts)); !slices.Equal(a, b) {
			fail("zone %s: cuts %v; built %v", apex, a, b)
		}
		if len(gz.dyn) != len(wz.dyn) {
			fail("zone %s: %d dynamic groups; built %d", apex, len(gz.dyn), len(wz.dyn))
		}
		gn, wn := maps.Collect(gz.nodes.all()), maps.Collect(wz.nodes.all())
		if a, b := slices.Sorted(maps.Keys(gn)), slices.Sorted(maps.Keys(wn)); !slices.Equal(a, b) {
			fail("zone %s: names\n%v\nbuilt\n%v", apex, a, b)
		}
		if gz.top != gn[apex] {
			fail("zone %s: top is not the apex node", apex)
		}
		for name, w := range wn {
			g := gn[name]
			if g.name != name {
				fail("node %s named %s", name, g.name)
			}
			if g.children != w.children || g.cut != w.cut || (g.ref == nil) != (w.ref == nil) {
				fail("node %s: children %d cut %v referral %v; built %d %v %v", name, g.children, g.cut, g.ref != nil, w.children, w.cut, w.ref != nil)
			}
			if (g.wild == nil) != (w.wild == nil) || g.wild != gn["*."+name] && g.wild != nil {
				fail("node %s: wildcard %p, the zone's %p; built has one: %v", name, g.wild, gn["*."+name], w.wild != nil)
			}
			if a, b := describeSets(g), describeSets(w); a != b {
				fail("node %s:\n%s\nbuilt:\n%s", name, a, b)
			}
			if (g.cname == nil) != (w.cname == nil) || g.cname != nil && g.cname != g.get(dns.TypeCNAME) {
				fail("node %s: CNAME group", name)
			}
		}
	}
	if len(got.dynGroups) != len(want.dynGroups) || !maps.Equal(got.aliasTargets, want.aliasTargets) {
		fail("%d dynamic groups, alias targets %v; built %d, %v", len(got.dynGroups), got.aliasTargets, len(want.dynGroups), want.aliasTargets)
	}
	// Every record the snapshot holds has its wire form, and the table holds nothing else (a
	// stale entry keeps a replaced record alive).
	if a, b := wireCount(got), wireCount(want); a != b {
		fail("wire table of %d records; built %d", a, b)
	}
	checkHeldWire(t, what, got)
}

// describeSets renders a node's groups: a plain group's records, a dynamic group's record sets.
func describeSets(n *node) string {
	var b strings.Builder
	for _, g := range n.sets {
		if g.name != n.name {
			fmt.Fprintf(&b, "group of %s at %s\n", g.name, n.name)
		}
		if g.plain() {
			b.WriteString(text(g.rrs))
		} else {
			fmt.Fprintf(&b, "dynamic %s %+v\n", dns.TypeToString[g.rrtype], g.d.sets)
		}
	}
	return b.String()
}

func wireCount(s *Snapshot) int {
	n := 0
	for range s.wire.all() {
		n++
	}
	return n
}

// checkHeldWire fails unless Rdata knows every record the snapshot holds that needs a wire form:
// every group's, every negative SOA, every answer decided once.
func checkHeldWire(t testing.TB, what string, s *Snapshot) {
	t.Helper()
	buf := make([]byte, 4096)
	check := func(rrs []dns.RR) {
		for _, rr := range rrs {
			if !needsWire(rr) {
				continue
			}
			rd, ok := s.Rdata(rr)
			c := dns.Copy(rr)
			off, err := dns.PackRR(c, buf, 0, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if want := buf[off-int(c.Header().Rdlength) : off]; !ok || string(rd) != string(want) {
				t.Fatalf("%s: Rdata(%s) = %x, %v; want %x", what, rr, rd, ok, want)
			}
		}
	}
	for _, zd := range s.zones {
		check(zd.negSOA)
		for _, n := range zd.nodes.all() {
			for _, g := range n.sets {
				check(g.rrsOf())
			}
		}
	}
	for i := range s.dyn {
		if s.dyn[i].synth {
			check(s.dyn[i].static)
		}
	}
}

// Names of the zones of the random tests. The parent p.test delegates sub.p.test (glue
// ns.sub.p.test, and ns1.p.test) and c.p.test, which we also host (DS at the cuts); o.test is
// where CNAME chains and an alias go.
const (
	worldP = `$TTL 300
@           IN SOA  ns1.p.test. hostmaster.p.test. 1 7200 900 1209600 60
@           IN NS   ns1.p.test.
@           IN NS   ns.o.test.
ns1         IN A    192.0.2.1
ns1         IN AAAA 2001:db8::1
www         IN A    192.0.2.2
mail        IN A    192.0.2.3
a.b.c.d     IN TXT  "deep"
*.f.g       IN A    192.0.2.4
sub         IN NS   ns.sub.p.test.
sub         IN NS   ns1.p.test.
sub         IN DS   12345 8 2 0000000000000000000000000000000000000000000000000000000000000001
ns.sub      IN A    192.0.2.5
deep.x.sub  IN TXT  "occluded"
c           IN NS   ns1.c.p.test.
c           IN DS   23456 8 2 0000000000000000000000000000000000000000000000000000000000000002
ns1.c       IN A    192.0.2.6
cn          IN CNAME www.o.test.
`
	worldC = `$TTL 300
@           IN SOA  ns1.c.p.test. hostmaster.p.test. 1 7200 900 1209600 120
@           IN NS   ns1.c.p.test.
ns1         IN A    192.0.2.6
www         IN A    192.0.2.7
`
	worldO = `$TTL 300
@           IN SOA  ns.o.test. hostmaster.o.test. 1 7200 900 1209600 30
@           IN NS   ns.o.test.
ns          IN A    192.0.2.8
www         IN CNAME x.c.p.test.
target      IN A    192.0.2.9
`
)

// escaped are names with escaped characters, in the form a Zone stores them: a dot inside a
// label (also at its end), bytes 200 and 1 (\DDD), a space, a backslash, and a wildcard below
// one of them.
var escaped = []string{`a\.b.p.test.`, `x\..p.test.`, `\200x.p.test.`, `\001.\200x.p.test.`, `\ y.p.test.`,
	`a\\.p.test.`, `*.\200x.p.test.`}

// worldPools are the names the random changes write, by zone.
var worldPools = map[string][]string{
	"ZP": append([]string{
		"p.test.", "www.p.test.", "mail.p.test.", "x.p.test.", "d.p.test.", "c.d.p.test.", "b.c.d.p.test.",
		"a.b.c.d.p.test.", "e.b.c.d.p.test.", "f.e.b.c.d.p.test.", "*.f.g.p.test.", "h.f.g.p.test.",
		"*.g.p.test.", "*.p.test.", "q.*.p.test.", "*.*.p.test.", "*.x.p.test.", "sub.p.test.",
		"deep.x.sub.p.test.", "y.sub.p.test.", "c.p.test.", "x.c.p.test.", "www.c.p.test.",
		"fo.p.test.", "cn.p.test.", "cn2.p.test.", "mx.p.test.",
		"ns1.p.test.", // a delegation's name server: Patch leaves it to a full build
	}, escaped...),
	"ZC": {"c.p.test.", "www.c.p.test.", "x.c.p.test.", "a.b.c.p.test.", "*.w.c.p.test.", "v.w.c.p.test.", "ns1.c.p.test."},
	"ZO": {"o.test.", "mail.o.test.", "www.o.test.", "x.o.test.", "*.o.test.", "cn.o.test.", "target.o.test."}, // the last an alias target
}

// targets are what CNAME, MX, SRV, PTR and HTTPS records point at: written names, names only a
// wildcard covers, names we do not host.
var targets = []string{
	"www.p.test.", "mail.p.test.", "x.p.test.", "b.c.d.p.test.", "h.f.g.p.test.", "zz.f.g.p.test.", "q.*.p.test.",
	"deep.x.sub.p.test.", "ns.sub.p.test.", "x.c.p.test.", "www.c.p.test.", "v.w.c.p.test.", "mail.o.test.",
	"www.o.test.", "zz.o.test.", "cn.p.test.", "cn2.p.test.", "cn.o.test.", "nothere.p.test.", "ext.example.",
	`a\.b.p.test.`, `\200x.p.test.`, `zz.\200x.p.test.`, `\ y.p.test.`, `x\..p.test.`, `a\\.p.test.`,
}

// newWorld returns the zones of the random tests, with dynamic groups: a failover group with
// health checks in p.test, and aliases into p.test and o.test (whose targets Patch leaves to a
// full build).
func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{zones: []zone.Zone{zoneText(t, "p.test.", worldP), zoneText(t, "c.p.test.", worldC), zoneText(t, "o.test.", worldO)}}
	for i := range w.zones {
		w.zones[i].ID = map[string]string{"p.test.": "ZP", "c.p.test.": "ZC", "o.test.": "ZO"}[w.zones[i].Name]
	}
	p := w.zone("ZP")
	p.RecordSets = append(p.RecordSets,
		checked(failover("fo.p.test.", "one", "PRIMARY", "192.0.2.10"), "hc-1"),
		checked(failover("fo.p.test.", "two", "SECONDARY", "192.0.2.11"), "hc-2"),
		aliasETH("al.p.test.", "A", "fo.p.test."),
		aliasETH("alo.p.test.", "A", "target.o.test."),
		checked(set("hc.p.test.", "A", 60, "192.0.2.12"), "hc-3"))
	return w
}

// intner is what the random changes draw from: a math/rand/v2 generator or fuzz input.
type intner interface{ IntN(n int) int }

// change changes zone id at 1 to 5 names of its pool the way a valid change batch could, and
// returns the names, sometimes one twice or one that holds nothing before or after.
func (w *world) change(r intner, id string) []string {
	pool := worldPools[id]
	var names []string
	for range 1 + r.IntN(5) {
		name := pool[r.IntN(len(pool))]
		names = append(names, name)
		w.put(id, name, w.newSets(r, id, name))
	}
	switch r.IntN(8) {
	case 0:
		names = append(names, names[0]) // listed twice
	case 1:
		names = append(names, "never.p.test.") // nothing before or after
	}
	return names
}

// newSets returns what name holds after a random change.
func (w *world) newSets(r intner, id, name string) []zone.RecordSet {
	apex := w.zone(id).Name
	old := w.sets(id, name)
	ttl := []int64{60, 300}[r.IntN(2)]
	var out []zone.RecordSet
	// What a plain change cannot touch stays: the apex's SOA and NS (changed below), the NS of a
	// cut, dynamic groups.
	for _, rs := range old {
		if rs.Type == "SOA" || rs.Type == "NS" || rs.SetIdentifier != "" || rs.AliasTarget != nil || rs.HealthCheckId != "" {
			out = append(out, rs)
		}
	}
	fixed := len(out) > 0
	switch r.IntN(6) {
	case 0: // delete (what can be)
		return out
	case 1: // the same values, new TTLs
		for _, rs := range old {
			if !slices.ContainsFunc(out, func(o zone.RecordSet) bool { return o.Key() == rs.Key() }) {
				rs.TTL = &ttl
				out = append(out, rs)
			}
		}
		return w.apexChange(r, apex, name, out)
	}
	types := []string{"A", "AAAA", "TXT", "MX", "SRV", "PTR", "HTTPS", "DS", "CNAME"}
	for range 1 + r.IntN(3) {
		typ := types[r.IntN(len(types))]
		if typ == "CNAME" && (fixed || name == apex || len(out) > 0) {
			continue
		}
		if slices.ContainsFunc(out, func(o zone.RecordSet) bool { return o.Type == typ || o.Type == "CNAME" }) {
			continue
		}
		rs := set(name, typ, ttl)
		for i := range 1 + r.IntN(3) {
			target := targets[r.IntN(len(targets))]
			if r.IntN(4) == 0 {
				target = strings.ToUpper(target) // stored as written
			}
			var v string
			switch typ {
			case "A":
				v = fmt.Sprintf("198.51.100.%d", r.IntN(200)+i)
			case "AAAA":
				v = fmt.Sprintf("2001:db8::%x", r.IntN(200)+i)
			case "TXT":
				v = fmt.Sprintf(`"t%d"`, r.IntN(100)+i)
			case "MX":
				v = fmt.Sprintf("%d %s", i, target)
			case "SRV":
				v = fmt.Sprintf("%d 5 53 %s", i, target)
			case "PTR", "CNAME":
				if i > 0 {
					continue
				}
				v = target
			case "HTTPS":
				v = fmt.Sprintf(`%d %s alpn="h2"`, i+1, target)
			case "DS":
				v = fmt.Sprintf("%d 8 2 %064x", 1000+r.IntN(100), i)
			}
			if !slices.ContainsFunc(rs.ResourceRecords, func(x zone.ResourceRecord) bool { return x.Value == v }) {
				rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: v})
			}
		}
		out = append(out, rs)
	}
	return w.apexChange(r, apex, name, out)
}

// apexChange changes the SOA (its serial, TTL or MINIMUM) and the NS record set of the apex
// sometimes.
func (w *world) apexChange(r intner, apex, name string, sets []zone.RecordSet) []zone.RecordSet {
	if name != apex {
		return sets
	}
	for i := range sets {
		rs := &sets[i]
		switch {
		case rs.Type == "SOA" && r.IntN(2) == 0:
			f := strings.Fields(rs.ResourceRecords[0].Value)
			f[2] = fmt.Sprint(r.IntN(1000))
			f[6] = fmt.Sprint([]int{30, 60, 600}[r.IntN(3)])
			rs.ResourceRecords = []zone.ResourceRecord{{Value: strings.Join(f, " ")}}
			rs.TTL = ptr([]int64{60, 300}[r.IntN(2)])
		case rs.Type == "NS" && r.IntN(3) == 0:
			c := *rs
			c.ResourceRecords = []zone.ResourceRecord{{Value: targets[r.IntN(len(targets))]}, rs.ResourceRecords[0]}
			if c.ResourceRecords[0].Value == c.ResourceRecords[1].Value {
				c.ResourceRecords = c.ResourceRecords[1:]
			}
			*rs = c
		}
	}
	return sets
}

// healthChange picks new failing health checks.
func (w *world) healthChange(r intner) {
	var down []string
	for _, c := range []string{"hc-1", "hc-2", "hc-3"} {
		if r.IntN(2) == 0 {
			down = append(down, c)
		}
	}
	w.health = strings.Join(down, " ")
}

// step makes one random change of w, applies it to s by Patch or WithHealth, and checks the
// result against a build. It returns the snapshot to go on with and whether it was patched.
func (w *world) step(t testing.TB, r intner, s *Snapshot, what string) (*Snapshot, bool) {
	t.Helper()
	if r.IntN(10) == 0 {
		w.healthChange(r)
		got, err := s.WithHealth(downChecks(w.health))
		if err != nil {
			t.Fatalf("%s: WithHealth: %v", what, err)
		}
		sameSnapshots(t, what+": health "+w.health, got, w.build(t))
		return got, true
	}
	id := []string{"ZP", "ZP", "ZP", "ZC", "ZO"}[r.IntN(5)]
	names := w.change(r, id)
	want := w.build(t)
	got, ok := w.patch(t, s, id, names)
	if !ok {
		return want, false
	}
	sameSnapshots(t, fmt.Sprintf("%s: zone %s, names %q", what, id, names), got, want, targets...)
	return got, true
}

// TestPatchZonesMatchBuild applies random changes to a parent, its child and another zone by
// Patch, with health changes by WithHealth between them, and compares each snapshot with one
// built from scratch.
func TestPatchZonesMatchBuild(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 7))
			w := newWorld(t)
			s := w.build(t)
			patched := 0
			const steps = 100
			for i := range steps {
				var ok bool
				s, ok = w.step(t, r, s, fmt.Sprintf("step %d", i))
				if ok {
					patched++
				}
			}
			if patched < steps*2/3 || patched == steps {
				t.Errorf("%d of %d changes patched in place; the test wants most, not all", patched, steps)
			}
		})
	}
}

// byteIntner draws numbers from fuzz input, then zeros.
type byteIntner struct{ b []byte }

func (r *byteIntner) IntN(n int) int {
	if len(r.b) == 0 {
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v % n
}

// FuzzPatch: any sequence of changes applied by Patch and WithHealth gives the snapshot a build
// gives.
func FuzzPatch(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 3, 1, 4, 6, 1, 2, 7, 9, 1, 0, 0, 4, 14, 0, 9, 3})
	f.Add([]byte("\x01\x00\x05\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"))
	f.Add([]byte("a patch, and another patch, and a health change, and more patches"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &byteIntner{data}
		w := newWorld(t)
		s := w.build(t)
		for i := 0; len(r.b) > 0 && i < 20; i++ {
			s, _ = w.step(t, r, s, fmt.Sprintf("step %d", i))
		}
	})
}

// TestPatchDeletedThenCreated: a patch that deletes a node (pruning the empty non-terminals
// above it) and then creates a name at or below one of them starts those nodes afresh.
func TestPatchDeletedThenCreated(t *testing.T) {
	cases := []struct {
		what   string
		before []zone.RecordSet // besides the SOA
		names  []string         // in the order Patch gets them
		after  []zone.RecordSet
	}{
		{
			what:   "a sibling below a pruned empty non-terminal",
			before: []zone.RecordSet{set("a.b.c.p.test.", "TXT", 60, `"a"`)},
			names:  []string{"a.b.c.p.test.", "d.b.c.p.test."},
			after:  []zone.RecordSet{set("d.b.c.p.test.", "TXT", 60, `"d"`)},
		},
		{
			what:   "the pruned empty non-terminal itself",
			before: []zone.RecordSet{set("a.b.c.p.test.", "TXT", 60, `"a"`)},
			names:  []string{"a.b.c.p.test.", "b.c.p.test."},
			after:  []zone.RecordSet{set("b.c.p.test.", "AAAA", 60, "2001:db8::1")},
		},
		{
			what:   "a child of a deleted name",
			before: []zone.RecordSet{set("b.p.test.", "TXT", 60, `"old"`), set("*.b.p.test.", "A", 60, "192.0.2.1")},
			names:  []string{"*.b.p.test.", "b.p.test.", "x.b.p.test."},
			after:  []zone.RecordSet{set("x.b.p.test.", "A", 60, "192.0.2.2")},
		},
	}
	soa := set("p.test.", "SOA", 60, "ns1.p.test. hostmaster.p.test. 1 7200 900 1209600 60")
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			w := &world{zones: []zone.Zone{{ID: "ZP", Name: "p.test.", RecordSets: append([]zone.RecordSet{soa}, c.before...)}}}
			s := w.build(t)
			for _, name := range c.names {
				w.put("ZP", name, nil)
			}
			for _, rs := range c.after {
				w.put("ZP", rs.Name, append(w.sets("ZP", rs.Name), rs))
			}
			got, ok := w.patch(t, s, "ZP", c.names)
			if !ok {
				t.Fatal("ErrRebuild")
			}
			sameSnapshots(t, "patched", got, w.build(t))
			// Deleting the new names again leaves only the apex, as a build does.
			for _, name := range c.names {
				w.put("ZP", name, nil)
			}
			if got, ok = w.patch(t, got, "ZP", c.names); !ok {
				t.Fatal("ErrRebuild")
			}
			sameSnapshots(t, "deleted again", got, w.build(t), "b.c.p.test.", "c.p.test.", "b.p.test.")
		})
	}
}

// TestBuildStoredEscapes: names stored with escapes answer the queries for them, built or patched.
func TestBuildStoredEscapes(t *testing.T) {
	w := &world{zones: []zone.Zone{zoneText(t, "p.test.", patchZone)}}
	for _, raw := range []string{`\310x.p.test.`, `\040y.p.test.`, `a\.b.p.test.`, `\001.p.test.`} {
		stored, err := zone.CanonicalName(raw) // as the service stores it
		if err != nil {
			t.Fatal(err)
		}
		wire := make([]byte, 256)
		off, err := dns.PackDomainName(stored, wire, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		qname, _, err := dns.UnpackDomainName(wire[:off], 0) // as a query names it
		if err != nil {
			t.Fatal(err)
		}
		s := w.build(t)
		w.put("ZPTEST", stored, []zone.RecordSet{set(stored, "TXT", 60, `"hi"`)})
		built := w.build(t)
		checkSection(t, raw+" built", built.Lookup(qname, dns.TypeTXT).Answer, qname+` 60 IN TXT "hi"`)
		got, ok := w.patch(t, s, "ZPTEST", []string{stored})
		if !ok {
			t.Fatal("ErrRebuild")
		}
		sameSnapshots(t, raw+" patched", got, built, qname)
	}
}

// TestPatchKeepsDynamicGroups: a dynamic group at a patched name is kept with its decision, and
// WithHealth after the patch decides it again; a patch after WithHealth keeps the new decision.
func TestPatchKeepsDynamicGroups(t *testing.T) {
	w := newWorld(t)
	w.health = "hc-1"
	s := w.build(t)
	checkSection(t, "fo", s.Lookup("fo.p.test.", dns.TypeA).Answer, "fo.p.test. 60 IN A 192.0.2.11")
	for i, txt := range []string{`"one"`, `"two"`, ""} {
		sets := w.sets("ZP", "fo.p.test.")
		sets = slices.DeleteFunc(sets, func(rs zone.RecordSet) bool { return rs.Type == "TXT" })
		if txt != "" {
			sets = append(sets, set("fo.p.test.", "TXT", 60, txt))
		}
		w.put("ZP", "fo.p.test.", sets)
		got, ok := w.patch(t, s, "ZP", []string{"fo.p.test.", "al.p.test."})
		if !ok {
			t.Fatal("ErrRebuild")
		}
		sameSnapshots(t, fmt.Sprintf("patch %d", i), got, w.build(t))
		w.health = []string{"", "hc-2", "hc-1 hc-2"}[i]
		var err error
		if s, err = got.WithHealth(downChecks(w.health)); err != nil {
			t.Fatal(err)
		}
		sameSnapshots(t, fmt.Sprintf("health %d", i), s, w.build(t))
	}
}

// TestPatchCompaction: thousands of names created and deleted over many patches of a small zone
// move the nodes and the wire table through several compactions of their overlays; deleted
// names stay deleted.
func TestPatchCompaction(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	w := &world{zones: []zone.Zone{zoneText(t, "p.test.", patchZone)}}
	const id = "ZPTEST"
	s := w.build(t)
	var live, dead []string
	compactions := 0
	for i := range 60 {
		var names []string
		for j := range 200 {
			name := fmt.Sprintf("n%d.g%d.p.test.", i*1000+j, j%7)
			w.put(id, name, []zone.RecordSet{set(name, "TXT", 60, fmt.Sprintf(`"%d"`, i))})
			names = append(names, name)
			live = append(live, name)
		}
		for range 100 {
			k := r.IntN(len(live))
			name := live[k]
			live = slices.Delete(live, k, k+1)
			w.put(id, name, nil)
			names = append(names, name)
			dead = append(dead, name)
		}
		if i%10 == 9 { // and some names of the first build
			names = append(names, "www.p.test.", "a.b.c.p.test.")
			w.put(id, "www.p.test.", nil)
			w.put(id, "a.b.c.p.test.", []zone.RecordSet{set("a.b.c.p.test.", "TXT", 60, fmt.Sprintf(`"%d"`, i))})
		}
		before := len(s.zones["p.test."].nodes.over)
		var ok bool
		if s, ok = w.patch(t, s, id, names); !ok {
			t.Fatal("ErrRebuild")
		}
		zd := s.zones["p.test."]
		if len(zd.nodes.over) < before {
			compactions++
		}
		for _, name := range dead[max(0, len(dead)-200):] {
			if res := s.Lookup(name, dns.TypeTXT); res.Rcode != dns.RcodeNameError {
				t.Fatalf("patch %d: deleted %s: %s", i, name, describe(res))
			}
		}
		if i%20 == 19 || len(zd.nodes.over) < before {
			want := w.build(t)
			sameStructure(t, fmt.Sprintf("patch %d", i), s, want)
			for _, name := range append(dead[len(dead)-100:], live[len(live)-100:]...) {
				if a, b := describe(s.Lookup(name, dns.TypeTXT)), describe(want.Lookup(name, dns.TypeTXT)); a != b {
					t.Fatalf("patch %d: %s:\n%s\nbuilt:\n%s", i, name, a, b)
				}
			}
		}
	}
	if compactions < 2 {
		t.Errorf("%d compactions of the node overlay; the test wants at least 2", compactions)
	}
}

// TestLayered compares layered maps with plain maps through random changes and compactions, and
// checks that every earlier version stays as it was.
func TestLayered(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	type version struct {
		m     layered[int, int]
		model map[int]int
	}
	m := layered[int, int]{base: map[int]int{}}
	model := map[int]int{}
	var versions []version
	for i := range 300 {
		changes := map[int]slot[int]{}
		for range 1 + r.IntN(100) {
			k := r.IntN(20000)
			if r.IntN(3) == 0 {
				changes[k] = slot[int]{}
				delete(model, k)
			} else {
				changes[k] = slot[int]{i, true}
				model[k] = i
			}
		}
		m = m.with(changes)
		versions = append(versions, version{m, maps.Clone(model)})
	}
	for i, v := range versions {
		if got := maps.Collect(v.m.all()); !maps.Equal(got, v.model) {
			t.Fatalf("version %d: all() differs from the model", i)
		}
		for k := range 20000 {
			g, gok := v.m.get(k)
			w, wok := v.model[k]
			if g != w || gok != wok {
				t.Fatalf("version %d: get(%d) = %d, %v; want %d, %v", i, k, g, gok, w, wok)
			}
		}
	}
	if reflect.ValueOf(versions[0].m.base).Pointer() == reflect.ValueOf(m.base).Pointer() {
		t.Error("no compaction happened")
	}
}

// TestPatchCaseOfValues: a change of the case of a name in a value is a change: answers keep
// names in values as they are written, though dns.IsDuplicate finds them equal.
func TestPatchCaseOfValues(t *testing.T) {
	w := &world{zones: []zone.Zone{zoneText(t, "p.test.", patchZone)}}
	s := w.build(t)
	for _, rs := range []zone.RecordSet{
		set("cn.p.test.", "CNAME", 300, "WWW.p.test."),
		set("p.test.", "MX", 300, "10 Mail.P.Test."),
		set("srv.p.test.", "SRV", 60, "0 5 53 www.p.test."),
		set("srv.p.test.", "SRV", 60, "0 5 53 WWW.p.test."),
	} {
		sets := slices.DeleteFunc(w.sets("ZPTEST", rs.Name), func(o zone.RecordSet) bool { return o.Type == rs.Type })
		w.put("ZPTEST", rs.Name, append(sets, rs))
		got, ok := w.patch(t, s, "ZPTEST", []string{rs.Name})
		if !ok {
			t.Fatal("ErrRebuild")
		}
		sameSnapshots(t, rs.Name+" "+rs.ResourceRecords[0].Value, got, w.build(t))
		s = got
	}
}

// TestPatchNameSpelling: Patch reads the names it is given as it reads record set names.
func TestPatchNameSpelling(t *testing.T) {
	w := &world{zones: []zone.Zone{zoneText(t, "p.test.", patchZone)}}
	s := w.build(t)
	w.put("ZPTEST", "www.p.test.", []zone.RecordSet{set("WWW.P.Test", "A", 60, "192.0.2.77")})
	got, err := s.Patch("ZPTEST", []string{"WWW.P.Test"}, w.sets("ZPTEST", "WWW.P.Test"))
	if err != nil {
		t.Fatal(err)
	}
	sameSnapshots(t, "patched", got, w.build(t))
	checkSection(t, "www", got.Lookup("www.p.test.", dns.TypeA).Answer, "www.p.test. 60 IN A 192.0.2.77")
	if _, err := s.Patch("ZPTEST", []string{"a..p.test."}, nil); err == nil || errors.Is(err, ErrRebuild) {
		t.Errorf("patching an invalid name: err %v", err)
	}
}

// TestPatchMemory: what a patch keeps is in proportion to what it changed. (Each patch once kept
// a 64 KiB arena alive for the wire form of one new record.)
func TestPatchMemory(t *testing.T) {
	w := &world{zones: []zone.Zone{zoneText(t, "p.test.", patchZone)}}
	s := w.build(t)
	const n = 2000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		name := fmt.Sprintf("n%d.g.p.test.", i)
		var err error
		if s, err = s.Patch("ZPTEST", []string{name}, []zone.RecordSet{set(name, "TXT", 60, `"x"`)}); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if per := (int64(after.HeapInuse) - int64(before.HeapInuse)) / n; per > 16<<10 {
		t.Errorf("each patch of one TXT record keeps %d bytes", per)
	}
	runtime.KeepAlive(s)
}
