package zone

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// baseZone is the zone most tests start from.
const baseZone = `$ORIGIN example.com.
$TTL 300
@     900    IN SOA ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400
@     172800 IN NS  ns1.example.net.
@     172800 IN NS  ns2.example.net.
www          IN A   192.0.2.1
www          IN A   192.0.2.2
mail         IN MX  10 mx.example.net.
alias        IN CNAME www
`

// zoneOf parses a master file for example.com. into a zone with ID Z1.
func zoneOf(t testing.TB, text string) *Zone {
	t.Helper()
	sets, err := ParseMasterFile("example.com.", strings.NewReader(text))
	if err != nil {
		t.Fatalf("ParseMasterFile: %v", err)
	}
	return &Zone{ID: "Z1", Name: "example.com.", RecordSets: sets}
}

// batchOf decodes a change batch written as Route 53 JSON.
func batchOf(t testing.TB, js string) ChangeBatch {
	t.Helper()
	var b ChangeBatch
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("bad test batch: %v\n%s", err, js)
	}
	return b
}

// simpleRRs returns the RRs of every record set without alias or routing, as sorted strings.
func simpleRRs(t testing.TB, z *Zone) []string {
	t.Helper()
	var out []string
	for _, rs := range z.RecordSets {
		if rs.AliasTarget != nil || rs.SetIdentifier != "" {
			continue
		}
		rrs, err := rs.RRs()
		if err != nil {
			t.Fatalf("RRs: %v", err)
		}
		for _, rr := range rrs {
			out = append(out, rr.String())
		}
	}
	slices.Sort(out)
	return out
}

// rrLines parses zone-file lines (absolute names) with dns.NewRR into sorted strings.
func rrLines(t testing.TB, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("bad test record %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

func diffStrings(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("\n  missing: " + w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("\n  extra:   " + g)
		}
	}
	return b.String()
}

// errorText returns the kind and text of an error from Plan.
func errorText(err error) (kind, text string) {
	var icb *InvalidChangeBatchError
	var ii *InvalidInputError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &icb):
		return "InvalidChangeBatch", err.Error()
	case errors.As(err, &ii):
		return "InvalidInput", err.Error()
	}
	return "other", err.Error()
}

// apply plans b against z, applies it and checks that the result is valid.
func apply(t testing.TB, z *Zone, b ChangeBatch) error {
	t.Helper()
	d, err := Plan(z, b)
	if err != nil {
		return err
	}
	z.Apply(d)
	if err := Validate(z); err != nil {
		t.Fatalf("zone invalid after a successful Plan: %v", err)
	}
	return nil
}

// findSet returns the record set with key k.
func findSet(t testing.TB, z *Zone, name, typ, id string) *RecordSet {
	t.Helper()
	i, ok := z.Find(Key{Name: name, Type: typ, SetIdentifier: id})
	if !ok {
		t.Fatalf("no record set %s %s %q", name, typ, id)
	}
	return &z.RecordSets[i]
}
