package answer

import (
	"fmt"
	"slices"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

const exampleNet = `
$ORIGIN example.net.
$TTL 300
@      900 IN SOA ns1.example.net. hostmaster.example.net. 1 7200 900 1209600 86400
@   172800 IN NS  ns1.example.net.
ns1        IN A   192.0.2.53
plain      IN A   192.0.2.100
plain      IN AAAA 2001:db8::100
target6    IN AAAA 2001:db8::6
`

// routedZone is exampleNet plus the routed and alias record sets of the tests.
func routedZone(t testing.TB) zone.Zone {
	t.Helper()
	z := zoneText(t, "example.net.", exampleNet)
	add := func(rs ...zone.RecordSet) { z.RecordSets = append(z.RecordSets, rs...) }
	mv := func(id string, v string) zone.RecordSet {
		rs := routed("mv.example.net.", "A", id, 60, v)
		rs.MultiValueAnswer = ptr(true)
		return rs
	}
	add(failover("fo.example.net.", "b-secondary", "SECONDARY", "192.0.2.2"),
		failover("fo.example.net.", "a-primary", "PRIMARY", "192.0.2.1"),
		failover("fo2.example.net.", "only", "SECONDARY", "192.0.2.3"))
	add(weighted("w.example.net.", "one", 1, "192.0.2.11"),
		weighted("w.example.net.", "three", 3, "192.0.2.13"),
		weighted("w.example.net.", "zero", 0, "192.0.2.10"),
		weighted("wz.example.net.", "a", 0, "192.0.2.21"),
		weighted("wz.example.net.", "b", 0, "192.0.2.22"),
		weighted("w1.example.net.", "only", 5, "192.0.2.25", "192.0.2.26"))
	add(mv("c", "192.0.2.33"), mv("a", "192.0.2.31"), mv("b", "192.0.2.32"))
	for i := range 12 {
		rs := routed("mv12.example.net.", "A", fmt.Sprintf("s%02d", i), 60, fmt.Sprintf("192.0.2.%d", 40+i))
		rs.MultiValueAnswer = ptr(true)
		add(rs)
	}
	geo := func(name, id string, g zone.GeoLocation, v string) zone.RecordSet {
		rs := routed(name, "A", id, 60, v)
		rs.GeoLocation = &g
		return rs
	}
	add(geo("geo.example.net.", "eu", zone.GeoLocation{ContinentCode: "EU"}, "192.0.2.61"),
		geo("geo.example.net.", "default", zone.GeoLocation{CountryCode: "*"}, "192.0.2.60"),
		geo("geonodef.example.net.", "us", zone.GeoLocation{CountryCode: "US"}, "192.0.2.62"))
	lat := func(id, region, v string) zone.RecordSet {
		rs := routed("lat.example.net.", "A", id, 60, v)
		rs.Region = region
		return rs
	}
	add(lat("z-eu", "eu-west-1", "192.0.2.72"), lat("a-us", "us-east-1", "192.0.2.71"))
	cidr := func(id, loc, v string) zone.RecordSet {
		rs := routed("cidr.example.net.", "A", id, 60, v)
		rs.CidrRoutingConfig = &zone.CidrRoutingConfig{CollectionId: "c", LocationName: loc}
		return rs
	}
	add(cidr("b", "*", "192.0.2.82"), cidr("a", "office", "192.0.2.81"))
	prox := func(id, v string) zone.RecordSet {
		rs := routed("prox.example.net.", "A", id, 60, v)
		rs.GeoProximityLocation = &zone.GeoProximityLocation{AWSRegion: "us-east-1"}
		return rs
	}
	add(prox("y", "192.0.2.92"), prox("x", "192.0.2.91"))
	wc := func(id string, weight int64, target string) zone.RecordSet {
		rs := routed("wcname.example.net.", "CNAME", id, 60, target)
		rs.Weight = &weight
		return rs
	}
	add(wc("a", 1, "plain.example.net."), wc("b", 0, "target6.example.net."))

	// Aliases: at the apex to a simple set, to a weighted group, chained, to names we do not host
	// and to a name without the type.
	add(alias("example.net.", "A", "plain.example.net."),
		alias("example.net.", "AAAA", "plain.example.net"),
		alias("tow.example.net.", "A", "w1.example.net."),
		alias("chain.example.net.", "A", "example.net."),
		alias("tofo.example.net.", "A", "fo.example.net."),
		alias("elb.example.net.", "A", "dualstack.my-elb-1234.us-east-1.elb.amazonaws.com."),
		alias("noa.example.net.", "A", "target6.example.net."),
		alias("*.wa.example.net.", "A", "plain.example.net."))
	return z
}

func TestRoutingDefaults(t *testing.T) {
	s, err := Build([]zone.Zone{routedZone(t)})
	if err != nil {
		t.Fatal(err)
	}
	soaNet := "example.net. 900 IN SOA ns1.example.net. hostmaster.example.net. 1 7200 900 1209600 86400"
	runLookups(t, s, []lookupCase{
		{name: "failover answers the primary", qname: "fo.example.net.", qtype: dns.TypeA,
			answer: []string{"fo.example.net. 60 IN A 192.0.2.1"}},
		{name: "failover with only a secondary", qname: "fo2.example.net.", qtype: dns.TypeA,
			answer: []string{"fo2.example.net. 60 IN A 192.0.2.3"}},
		{name: "failover, other type", qname: "fo.example.net.", qtype: dns.TypeAAAA, ns: []string{soaNet}},
		{name: "weighted with one record set", qname: "w1.example.net.", qtype: dns.TypeA,
			answer: []string{"w1.example.net. 60 IN A 192.0.2.25", "w1.example.net. 60 IN A 192.0.2.26"}},
		{name: "multivalue answers all", qname: "mv.example.net.", qtype: dns.TypeA,
			answer: []string{"mv.example.net. 60 IN A 192.0.2.31", "mv.example.net. 60 IN A 192.0.2.32", "mv.example.net. 60 IN A 192.0.2.33"}},
		{name: "geolocation answers the default", qname: "geo.example.net.", qtype: dns.TypeA,
			answer: []string{"geo.example.net. 60 IN A 192.0.2.60"}},
		// Without the client's location every client is alike; routing answers the widest area
		// rather than NODATA (the interim policy answered NODATA).
		{name: "geolocation without a default answers its record set", qname: "geonodef.example.net.", qtype: dns.TypeA,
			answer: []string{"geonodef.example.net. 60 IN A 192.0.2.62"}},
		{name: "latency answers the first by set identifier", qname: "lat.example.net.", qtype: dns.TypeA,
			answer: []string{"lat.example.net. 60 IN A 192.0.2.71"}},
		// The default location first (the interim policy took the first by set identifier).
		{name: "IP-based answers the default location", qname: "cidr.example.net.", qtype: dns.TypeA,
			answer: []string{"cidr.example.net. 60 IN A 192.0.2.82"}},
		{name: "geoproximity answers the first by set identifier", qname: "prox.example.net.", qtype: dns.TypeA,
			answer: []string{"prox.example.net. 60 IN A 192.0.2.91"}},
		{name: "weighted CNAME chased", qname: "wcname.example.net.", qtype: dns.TypeA,
			answer: []string{"wcname.example.net. 60 IN CNAME plain.example.net.", "plain.example.net. 300 IN A 192.0.2.100"}},

		{name: "alias at the apex takes the target's records and TTL", qname: "example.net.", qtype: dns.TypeA,
			answer: []string{"example.net. 300 IN A 192.0.2.100"}},
		{name: "alias AAAA (target without the final dot)", qname: "example.net.", qtype: dns.TypeAAAA,
			answer: []string{"example.net. 300 IN AAAA 2001:db8::100"}},
		{name: "apex ANY answers the lowest type, an alias A", qname: "example.net.", qtype: dns.TypeANY,
			answer: []string{"example.net. 300 IN A 192.0.2.100"}},
		{name: "alias chain", qname: "chain.example.net.", qtype: dns.TypeA,
			answer: []string{"chain.example.net. 300 IN A 192.0.2.100"}},
		{name: "alias to a routed group follows its routing", qname: "tofo.example.net.", qtype: dns.TypeA,
			answer: []string{"tofo.example.net. 60 IN A 192.0.2.1"}},
		{name: "alias to a weighted group", qname: "tow.example.net.", qtype: dns.TypeA,
			answer: []string{"tow.example.net. 60 IN A 192.0.2.25", "tow.example.net. 60 IN A 192.0.2.26"}},
		{name: "alias to a name we do not host is NODATA", qname: "elb.example.net.", qtype: dns.TypeA, ns: []string{soaNet}},
		{name: "alias to a name without the type is NODATA", qname: "noa.example.net.", qtype: dns.TypeA, ns: []string{soaNet}},
		{name: "wildcard alias", qname: "x.wa.example.net.", qtype: dns.TypeA,
			answer: []string{"x.wa.example.net. 300 IN A 192.0.2.100"}},
	})

	t.Run("weighted follows the weights and skips weight 0", func(t *testing.T) {
		counts := map[string]int{}
		const n = 8000
		for range n {
			r := s.Lookup("w.example.net.", dns.TypeA)
			if len(r.Answer) != 1 {
				t.Fatalf("answer %v", r.Answer)
			}
			counts[r.Answer[0].(*dns.A).A.String()]++
		}
		if counts["192.0.2.10"] != 0 {
			t.Errorf("the weight-0 record answered %d times", counts["192.0.2.10"])
		}
		if c := counts["192.0.2.13"]; c < n*3/4-400 || c > n*3/4+400 {
			t.Errorf("weight 3 of 4 answered %d of %d times", c, n)
		}
	})
	t.Run("all weights zero: uniform", func(t *testing.T) {
		counts := map[string]int{}
		for range 2000 {
			counts[s.Lookup("wz.example.net.", dns.TypeA).Answer[0].(*dns.A).A.String()]++
		}
		if counts["192.0.2.21"] < 800 || counts["192.0.2.22"] < 800 {
			t.Errorf("counts %v", counts)
		}
	})
	t.Run("multivalue answers a random 8 of 12", func(t *testing.T) {
		combos := map[string]bool{}
		seen := map[string]bool{}
		for range 200 {
			r := s.Lookup("mv12.example.net.", dns.TypeA)
			if len(r.Answer) != 8 {
				t.Fatalf("%d records, want 8", len(r.Answer))
			}
			var ips []string
			for _, rr := range r.Answer {
				ips = append(ips, rr.(*dns.A).A.String())
				seen[rr.(*dns.A).A.String()] = true
			}
			if len(slices.Compact(slices.Sorted(slices.Values(ips)))) != 8 {
				t.Fatalf("duplicates in %v", ips)
			}
			combos[fmt.Sprint(ips)] = true
		}
		if len(combos) < 20 || len(seen) != 12 {
			t.Errorf("%d combinations of %d records in 200 answers", len(combos), len(seen))
		}
	})
}

func TestRoutingHealth(t *testing.T) {
	z := zoneText(t, "example.net.", exampleNet)
	p := failover("fo.example.net.", "p", "PRIMARY", "192.0.2.1")
	p.HealthCheckId = "hc-primary"
	sec := failover("fo.example.net.", "s", "SECONDARY", "192.0.2.2")
	sec.HealthCheckId = "hc-secondary"
	geo := routed("geo.example.net.", "A", "us", 60, "192.0.2.62")
	geo.GeoLocation = &zone.GeoLocation{CountryCode: "US"}
	z.RecordSets = append(z.RecordSets, p, sec, geo)
	primaryDown := func(id string) (bool, bool) { return id != "hc-primary", true }

	s, err := BuildWithHealth([]zone.Zone{z}, primaryDown)
	if err != nil {
		t.Fatal(err)
	}
	checkSection(t, "primary down", s.Lookup("fo.example.net.", dns.TypeA).Answer, "fo.example.net. 60 IN A 192.0.2.2")
	checkSection(t, "geolocation", s.Lookup("geo.example.net.", dns.TypeA).Answer, "geo.example.net. 60 IN A 192.0.2.62")
}
