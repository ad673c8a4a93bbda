package answer

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// checkParseAddresses fails when parseAddresses accepts a value that the zone-file parser
// (zone.RecordSet.RRs) rejects or reads differently.
func checkParseAddresses(t *testing.T, typ string, ttl int64, value string) (fast bool) {
	t.Helper()
	rs := &zone.RecordSet{Name: "www.example.com.", Type: typ, TTL: &ttl, ResourceRecords: []zone.ResourceRecord{{Value: value}}}
	got := parseAddresses(rs, "www.example.com.", dns.StringToType[typ])
	if got == nil {
		return false
	}
	want, err := rs.RRs()
	if err != nil {
		t.Fatalf("%s %q: the fast path accepts what the zone parser refuses: %v", typ, value, err)
	}
	if !dns.IsDuplicate(got[0], want[0]) || got[0].String() != want[0].String() || got[0].Header().Ttl != want[0].Header().Ttl {
		t.Fatalf("%s %q: fast path %v, zone parser %v", typ, value, got[0], want[0])
	}
	buf1, buf2 := make([]byte, 512), make([]byte, 512)
	n1, err1 := dns.PackRR(got[0], buf1, 0, nil, false)
	n2, err2 := dns.PackRR(want[0], buf2, 0, nil, false)
	if err1 != nil || err2 != nil || string(buf1[:n1]) != string(buf2[:n2]) {
		t.Fatalf("%s %q: wire forms differ: %x (%v) and %x (%v)", typ, value, buf1[:n1], err1, buf2[:n2], err2)
	}
	return true
}

func TestParseAddresses(t *testing.T) {
	for _, c := range []struct {
		typ, value string
		fast       bool
	}{
		{"A", "192.0.2.1", true},
		{"A", "0.0.0.0", true},
		{"A", "255.255.255.255", true},
		{"A", "192.0.2.01", false},
		{"A", " 192.0.2.1", false},
		{"A", "192.0.2.1 ", false},
		{"A", "2001:db8::1", false},
		{"A", "::ffff:192.0.2.1", false},
		{"A", "192.0.2", false},
		{"AAAA", "2001:db8::1", true},
		{"AAAA", "::", true},
		{"AAAA", "::ffff:192.0.2.1", true},
		{"AAAA", "2001:DB8::A", true},
		{"AAAA", "fe80::1%eth0", false},
		{"AAAA", "192.0.2.1", false},
	} {
		t.Run(c.typ+" "+c.value, func(t *testing.T) {
			if fast := checkParseAddresses(t, c.typ, 60, c.value); fast != c.fast {
				t.Errorf("fast path %v, want %v", fast, c.fast)
			}
		})
	}
}

func FuzzParseAddresses(f *testing.F) {
	for _, v := range []string{"192.0.2.1", "2001:db8::1", "::ffff:1.2.3.4", "1.2.3", "fe80::1%x", "::"} {
		f.Add(v, int64(60))
	}
	f.Fuzz(func(t *testing.T, value string, ttl int64) {
		checkParseAddresses(t, "A", ttl, value)
		checkParseAddresses(t, "AAAA", ttl, value)
	})
}
