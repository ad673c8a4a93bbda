package answer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// zoneText builds a zone from master-file text: one simple record set per name and type.
func zoneText(t testing.TB, origin, text string) zone.Zone {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	type key struct{ name, typ string }
	var (
		order []key
		sets  = map[key]*zone.RecordSet{}
	)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		k := key{strings.ToLower(h.Name), dns.TypeToString[h.Rrtype]}
		rs := sets[k]
		if rs == nil {
			ttl := int64(h.Ttl)
			rs = &zone.RecordSet{Name: k.name, Type: k.typ, TTL: &ttl}
			sets[k] = rs
			order = append(order, k)
		}
		rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: zone.Value(rr)})
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone %s: %v", origin, err)
	}
	z := zone.Zone{ID: "Z" + strings.ToUpper(strings.ReplaceAll(strings.TrimSuffix(origin, "."), ".", "")), Name: origin}
	for _, k := range order {
		z.RecordSets = append(z.RecordSets, *sets[k])
	}
	return z
}

// routed returns a record set with values, for tests of routing policies and aliases.
func routed(name, typ, id string, ttl int64, values ...string) zone.RecordSet {
	rs := zone.RecordSet{Name: name, Type: typ, SetIdentifier: id, TTL: &ttl}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: v})
	}
	return rs
}

// alias returns an alias record set.
func alias(name, typ, target string) zone.RecordSet {
	return zone.RecordSet{Name: name, Type: typ, AliasTarget: &zone.AliasTarget{HostedZoneId: "Z", DNSName: target}}
}

func ptr[T any](v T) *T { return &v }

// rrs parses zone-file lines.
func rrs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("bad RR %q: %v", l, err)
		}
		out = append(out, rr)
	}
	return out
}

// text renders a section one record a line, for comparison and failure messages.
func text(section []dns.RR) string {
	var b strings.Builder
	for _, rr := range section {
		fmt.Fprintln(&b, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	return b.String()
}

// checkSection compares a section with zone-file lines, in order.
func checkSection(t testing.TB, what string, got []dns.RR, want ...string) {
	t.Helper()
	if g, w := text(got), text(rrs(t, want...)); g != w {
		t.Errorf("%s:\ngot:\n%swant:\n%s", what, indent(g), indent(w))
	}
}

func indent(s string) string {
	if s == "" {
		return "  (empty)\n"
	}
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

// weighted returns a weighted A record set.
func weighted(name, id string, weight int64, values ...string) zone.RecordSet {
	rs := routed(name, "A", id, 60, values...)
	rs.Weight = &weight
	return rs
}

// failover returns a failover A record set.
func failover(name, id, role string, values ...string) zone.RecordSet {
	rs := routed(name, "A", id, 60, values...)
	rs.Failover = role
	return rs
}
