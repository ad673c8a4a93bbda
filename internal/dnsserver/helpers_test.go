package dnsserver

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// zoneText builds a zone from master-file text, one simple record set per name and type.
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

// startServer serves snap on 127.0.0.1:0 until the test ends.
func startServer(t testing.TB, snap *answer.Snapshot, sockets int) (*Server, *atomic.Pointer[answer.Snapshot]) {
	t.Helper()
	p := new(atomic.Pointer[answer.Snapshot])
	if snap != nil {
		p.Store(snap)
	}
	s := New(Config{Listen: "127.0.0.1:0", Sockets: sockets}, p)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s, p
}

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

// text renders records one a line, OPT records left out.
func text(section []dns.RR) string {
	var b strings.Builder
	for _, rr := range section {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		b.WriteString(strings.ReplaceAll(rr.String(), "\t", " "))
		b.WriteByte('\n')
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
