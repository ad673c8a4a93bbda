package answer

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// The expected answers below are what NSD 4.6 and Knot 3.2 answer for the same zone files,
// except where a comment says which of the two we follow.

const exampleCom = `
$ORIGIN example.com.
$TTL 300
@           3600   IN SOA  ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60
@           172800 IN NS   ns1.example.com.
@           172800 IN NS   ns2.example.net.
@                  IN MX   10 mail.example.com.
@                  IN MX   20 mx.other.org.
@                  IN A    192.0.2.1
@                  IN TXT  "apex"
ns1                IN A    192.0.2.53
ns1                IN AAAA 2001:db8::53
mail               IN A    192.0.2.25
mail               IN AAAA 2001:db8::25
www                IN CNAME web.example.com.
web                IN A    192.0.2.80
a.b.c              IN A    192.0.2.3
out                IN CNAME www.other.org.
loop1              IN CNAME loop2.example.com.
loop2              IN CNAME loop1.example.com.
self               IN CNAME self.example.com.
dangling           IN CNAME nothere.example.com.
chain1             IN CNAME chain2.example.com.
chain2             IN CNAME www.example.com.
upper              IN CNAME WEB.Example.COM.
*.wild             IN A    192.0.2.99
*.wild             IN TXT  "wild"
exists.wild        IN TXT  "exists"
x.ent.wild         IN TXT  "below-ent"
*.wc               IN CNAME web.example.com.
*.wcnx             IN CNAME nope.example.com.
sub                IN NS   ns1.sub.example.com.
sub                IN NS   ns.example.net.
sub                IN NS   ns1.example.com.
sub                IN DS   12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE2D5F9C0E0A5EB25B3C1D7F2E
ns1.sub            IN A    192.0.2.54
ns1.sub            IN AAAA 2001:db8::54
deep.sub           IN A    192.0.2.55
_sip._udp          IN SRV  0 5 5060 sip.example.com.
_sip2._udp         IN SRV  0 5 5060 sip.other.org.
sip                IN A    192.0.2.60
ttl0        0      IN A    192.0.2.0
child              IN NS   ns1.example.com.
tochild            IN CNAME www.child.example.com.
tochildnx          IN CNAME nx.child.example.com.
toorg              IN CNAME www.example.org.
toorgnx            IN CNAME nx.example.org.
tosub              IN CNAME deep.sub.example.com.
wcsub              IN CNAME foo.wild.example.com.
mxdeleg            IN MX   10 ns1.sub.example.com.
mxwild             IN MX   10 foo.wild.example.com.
mxdup              IN MX   10 mail.example.com.
mxdup              IN MX   20 mail.example.com.
mxcn               IN CNAME mxhost.example.com.
mxhost             IN MX   10 multi.example.com.
mxorg              IN MX   10 www.example.org.
mxcname            IN MX   10 www.example.com.
multi              IN A    192.0.2.10
multi              IN AAAA 2001:db8::10
multi              IN TXT  "t"
order              IN TXT  "first"
order              IN MX   10 mail.example.com.
order              IN AAAA 2001:db8::1
hinfo              IN HINFO "cpu" "os"
svc1               IN HTTPS 1 web.example.com. alpn="h2"
svc2               IN HTTPS 1 . alpn="h2"
svc2               IN A    192.0.2.222
svc3               IN SVCB 0 mail.example.com.
svc4               IN HTTPS 1 www.example.com. alpn="h2"
c1                 IN CNAME c2.example.com.
c2                 IN CNAME c3.example.com.
c3                 IN CNAME c4.example.com.
c4                 IN CNAME c5.example.com.
c5                 IN CNAME c6.example.com.
c6                 IN CNAME c7.example.com.
c7                 IN CNAME c8.example.com.
c8                 IN CNAME c9.example.com.
c9                 IN CNAME c10.example.com.
c10                IN CNAME c11.example.com.
c11                IN A    192.0.2.11
`

const childExampleCom = `
$ORIGIN child.example.com.
$TTL 300
@           600    IN SOA  ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 1200
@                  IN NS   ns1.example.com.
www                IN A    192.0.2.200
back               IN CNAME web.example.com.
`

const exampleOrg = `
$ORIGIN example.org.
$TTL 300
@           3600   IN SOA  ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 30
@                  IN NS   ns1.example.com.
www                IN A    192.0.2.150
back               IN CNAME web.example.com.
`

// testSnapshot builds the three test zones.
func testSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	s, err := Build([]zone.Zone{
		zoneText(t, "example.com.", exampleCom),
		zoneText(t, "child.example.com.", childExampleCom),
		zoneText(t, "example.org.", exampleOrg),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const (
	soaCom   = "example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60"
	soaChild = "child.example.com. 600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 1200"
	soaOrg   = "example.org. 30 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 30"
)

var subReferral = []string{
	"sub.example.com. 300 IN NS ns1.sub.example.com.",
	"sub.example.com. 300 IN NS ns.example.net.",
	"sub.example.com. 300 IN NS ns1.example.com.",
}

var subGlue = []string{
	"ns1.sub.example.com. 300 IN A 192.0.2.54",
	"ns1.sub.example.com. 300 IN AAAA 2001:db8::54",
	"ns1.example.com. 300 IN A 192.0.2.53",
	"ns1.example.com. 300 IN AAAA 2001:db8::53",
}

type lookupCase struct {
	name    string
	qname   string
	qtype   uint16
	rcode   int
	notAuth bool
	answer  []string
	ns      []string
	extra   []string
}

func TestLookup(t *testing.T) {
	s := testSnapshot(t)
	cases := []lookupCase{
		{name: "exact A", qname: "web.example.com.", qtype: dns.TypeA,
			answer: []string{"web.example.com. 300 IN A 192.0.2.80"}},
		{name: "apex SOA keeps its TTL", qname: "example.com.", qtype: dns.TypeSOA,
			answer: []string{"example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 60"}},
		{name: "apex NS with in-zone addresses", qname: "example.com.", qtype: dns.TypeNS,
			answer: []string{"example.com. 172800 IN NS ns1.example.com.", "example.com. 172800 IN NS ns2.example.net."},
			extra:  []string{"ns1.example.com. 300 IN A 192.0.2.53", "ns1.example.com. 300 IN AAAA 2001:db8::53"}},
		{name: "TTL 0 stays 0", qname: "ttl0.example.com.", qtype: dns.TypeA,
			answer: []string{"ttl0.example.com. 0 IN A 192.0.2.0"}},
		{name: "NXDOMAIN with SOA TTL capped by MINIMUM", qname: "nothere.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, ns: []string{soaCom}},
		{name: "NODATA", qname: "web.example.com.", qtype: dns.TypeAAAA, ns: []string{soaCom}},
		{name: "empty non-terminal is NODATA", qname: "b.c.example.com.", qtype: dns.TypeA, ns: []string{soaCom}},
		{name: "empty non-terminal, other type", qname: "c.example.com.", qtype: dns.TypeTXT, ns: []string{soaCom}},
		{name: "below an empty non-terminal", qname: "x.b.c.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, ns: []string{soaCom}},
		{name: "name in no zone is REFUSED", qname: "www.example.net.", qtype: dns.TypeA,
			rcode: dns.RcodeRefused, notAuth: true},
		{name: "root is REFUSED", qname: ".", qtype: dns.TypeNS, rcode: dns.RcodeRefused, notAuth: true},

		// CNAME.
		{name: "CNAME chased", qname: "www.example.com.", qtype: dns.TypeA,
			answer: []string{"www.example.com. 300 IN CNAME web.example.com.", "web.example.com. 300 IN A 192.0.2.80"}},
		{name: "qtype CNAME is the CNAME itself", qname: "www.example.com.", qtype: dns.TypeCNAME,
			answer: []string{"www.example.com. 300 IN CNAME web.example.com."}},
		{name: "CNAME chain", qname: "chain1.example.com.", qtype: dns.TypeA,
			answer: []string{
				"chain1.example.com. 300 IN CNAME chain2.example.com.",
				"chain2.example.com. 300 IN CNAME www.example.com.",
				"www.example.com. 300 IN CNAME web.example.com.",
				"web.example.com. 300 IN A 192.0.2.80"}},
		{name: "CNAME to a target with no such type", qname: "www.example.com.", qtype: dns.TypeAAAA,
			answer: []string{"www.example.com. 300 IN CNAME web.example.com."}, ns: []string{soaCom}},
		{name: "CNAME to a missing name is NXDOMAIN", qname: "dangling.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, answer: []string{"dangling.example.com. 300 IN CNAME nothere.example.com."}, ns: []string{soaCom}},
		{name: "CNAME out of our zones stops", qname: "out.example.com.", qtype: dns.TypeA,
			answer: []string{"out.example.com. 300 IN CNAME www.other.org."}},
		{name: "CNAME loop stops after one round", qname: "loop1.example.com.", qtype: dns.TypeA,
			answer: []string{"loop1.example.com. 300 IN CNAME loop2.example.com.", "loop2.example.com. 300 IN CNAME loop1.example.com."}},
		{name: "CNAME to itself", qname: "self.example.com.", qtype: dns.TypeA,
			answer: []string{"self.example.com. 300 IN CNAME self.example.com."}},
		{name: "CNAME target in upper case", qname: "upper.example.com.", qtype: dns.TypeA,
			answer: []string{"upper.example.com. 300 IN CNAME WEB.Example.COM.", "web.example.com. 300 IN A 192.0.2.80"}},
		{name: "CNAME chain stops after 5 CNAMEs (Knot; NSD follows on)", qname: "c1.example.com.", qtype: dns.TypeA,
			answer: []string{
				"c1.example.com. 300 IN CNAME c2.example.com.",
				"c2.example.com. 300 IN CNAME c3.example.com.",
				"c3.example.com. 300 IN CNAME c4.example.com.",
				"c4.example.com. 300 IN CNAME c5.example.com.",
				"c5.example.com. 300 IN CNAME c6.example.com."}},
		{name: "CNAME chain within the limit", qname: "c7.example.com.", qtype: dns.TypeA,
			answer: []string{
				"c7.example.com. 300 IN CNAME c8.example.com.",
				"c8.example.com. 300 IN CNAME c9.example.com.",
				"c9.example.com. 300 IN CNAME c10.example.com.",
				"c10.example.com. 300 IN CNAME c11.example.com.",
				"c11.example.com. 300 IN A 192.0.2.11"}},
		// Into other zones we host, as NSD does (Knot stays in the first zone), naming the other
		// zone's servers in the authority section as NSD does.
		{name: "CNAME into a child zone we host", qname: "tochild.example.com.", qtype: dns.TypeA,
			answer: []string{"tochild.example.com. 300 IN CNAME www.child.example.com.", "www.child.example.com. 300 IN A 192.0.2.200"},
			ns:     []string{"child.example.com. 300 IN NS ns1.example.com."}},
		{name: "CNAME into a child zone, NXDOMAIN there", qname: "tochildnx.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, answer: []string{"tochildnx.example.com. 300 IN CNAME nx.child.example.com."}, ns: []string{soaChild}},
		{name: "CNAME into another zone", qname: "toorg.example.com.", qtype: dns.TypeA,
			answer: []string{"toorg.example.com. 300 IN CNAME www.example.org.", "www.example.org. 300 IN A 192.0.2.150"},
			ns:     []string{"example.org. 300 IN NS ns1.example.com."}},
		{name: "CNAME into another zone, NXDOMAIN there", qname: "toorgnx.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, answer: []string{"toorgnx.example.com. 300 IN CNAME nx.example.org."}, ns: []string{soaOrg}},
		{name: "CNAME back into the parent zone", qname: "back.child.example.com.", qtype: dns.TypeA,
			answer: []string{"back.child.example.com. 300 IN CNAME web.example.com.", "web.example.com. 300 IN A 192.0.2.80"},
			ns:     []string{"example.com. 172800 IN NS ns1.example.com.", "example.com. 172800 IN NS ns2.example.net."},
			extra:  []string{"ns1.example.com. 300 IN A 192.0.2.53", "ns1.example.com. 300 IN AAAA 2001:db8::53"}},
		{name: "CNAME below a delegation ends in a referral, still authoritative", qname: "tosub.example.com.", qtype: dns.TypeA,
			answer: []string{"tosub.example.com. 300 IN CNAME deep.sub.example.com."}, ns: subReferral, extra: subGlue},
		{name: "CNAME to a wildcard", qname: "wcsub.example.com.", qtype: dns.TypeA,
			answer: []string{"wcsub.example.com. 300 IN CNAME foo.wild.example.com.", "foo.wild.example.com. 300 IN A 192.0.2.99"}},

		// Wildcards.
		{name: "wildcard A", qname: "foo.wild.example.com.", qtype: dns.TypeA,
			answer: []string{"foo.wild.example.com. 300 IN A 192.0.2.99"}},
		{name: "wildcard TXT", qname: "foo.wild.example.com.", qtype: dns.TypeTXT,
			answer: []string{`foo.wild.example.com. 300 IN TXT "wild"`}},
		{name: "wildcard NODATA", qname: "foo.wild.example.com.", qtype: dns.TypeMX, ns: []string{soaCom}},
		{name: "wildcard covers several labels", qname: "a.b.wild.example.com.", qtype: dns.TypeA,
			answer: []string{"a.b.wild.example.com. 300 IN A 192.0.2.99"}},
		{name: "existing name blocks the wildcard", qname: "exists.wild.example.com.", qtype: dns.TypeA, ns: []string{soaCom}},
		{name: "empty non-terminal blocks the wildcard", qname: "ent.wild.example.com.", qtype: dns.TypeA, ns: []string{soaCom}},
		{name: "below an empty non-terminal with no wildcard", qname: "y.ent.wild.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, ns: []string{soaCom}},
		{name: "the wildcard name itself", qname: "*.wild.example.com.", qtype: dns.TypeA,
			answer: []string{"*.wild.example.com. 300 IN A 192.0.2.99"}},
		{name: "wildcard parent is an empty non-terminal", qname: "wild.example.com.", qtype: dns.TypeA, ns: []string{soaCom}},
		{name: "wildcard CNAME chased", qname: "x.wc.example.com.", qtype: dns.TypeA,
			answer: []string{"x.wc.example.com. 300 IN CNAME web.example.com.", "web.example.com. 300 IN A 192.0.2.80"}},
		{name: "wildcard CNAME to a missing name", qname: "x.wcnx.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, answer: []string{"x.wcnx.example.com. 300 IN CNAME nope.example.com."}, ns: []string{soaCom}},
		{name: "wildcard ANY", qname: "foo.wild.example.com.", qtype: dns.TypeANY,
			answer: []string{"foo.wild.example.com. 300 IN A 192.0.2.99"}},

		// Delegations.
		{name: "referral at the cut", qname: "sub.example.com.", qtype: dns.TypeA, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "referral below the cut (occluded data)", qname: "deep.sub.example.com.", qtype: dns.TypeA, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "referral for glue names", qname: "ns1.sub.example.com.", qtype: dns.TypeA, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "referral for NS at the cut", qname: "sub.example.com.", qtype: dns.TypeNS, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "referral for ANY at the cut", qname: "sub.example.com.", qtype: dns.TypeANY, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "referral for DS below the cut", qname: "x.sub.example.com.", qtype: dns.TypeDS, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "referral below the cut, missing name", qname: "nx.sub.example.com.", qtype: dns.TypeA, notAuth: true, ns: subReferral, extra: subGlue},
		{name: "DS at the cut is the parent's", qname: "sub.example.com.", qtype: dns.TypeDS,
			answer: []string{"sub.example.com. 300 IN DS 12345 8 2 49FD46E6C4B45C55D4AC69CBD3CD34AC1AFE51DE2D5F9C0E0A5EB25B3C1D7F2E"}},
		{name: "DS at the apex of a child zone comes from the parent", qname: "child.example.com.", qtype: dns.TypeDS, ns: []string{soaCom}},
		{name: "DS at an apex without a hosted parent", qname: "example.com.", qtype: dns.TypeDS, ns: []string{soaCom}},
		{name: "the child zone answers below its apex", qname: "www.child.example.com.", qtype: dns.TypeA,
			answer: []string{"www.child.example.com. 300 IN A 192.0.2.200"}},
		{name: "the child zone answers at its apex", qname: "child.example.com.", qtype: dns.TypeNS,
			answer: []string{"child.example.com. 300 IN NS ns1.example.com."}},
		{name: "the child zone's NXDOMAIN", qname: "x.child.example.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, ns: []string{soaChild}},

		// Additional section processing, exactly as Knot's.
		{name: "MX with in-zone and out-of-zone targets", qname: "example.com.", qtype: dns.TypeMX,
			answer: []string{"example.com. 300 IN MX 10 mail.example.com.", "example.com. 300 IN MX 20 mx.other.org."},
			extra:  []string{"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25"}},
		{name: "SRV target", qname: "_sip._udp.example.com.", qtype: dns.TypeSRV,
			answer: []string{"_sip._udp.example.com. 300 IN SRV 0 5 5060 sip.example.com."},
			extra:  []string{"sip.example.com. 300 IN A 192.0.2.60"}},
		{name: "SRV target out of zone", qname: "_sip2._udp.example.com.", qtype: dns.TypeSRV,
			answer: []string{"_sip2._udp.example.com. 300 IN SRV 0 5 5060 sip.other.org."}},
		{name: "MX target below a delegation (Knot; NSD leaves it out)", qname: "mxdeleg.example.com.", qtype: dns.TypeMX,
			answer: []string{"mxdeleg.example.com. 300 IN MX 10 ns1.sub.example.com."},
			extra:  []string{"ns1.sub.example.com. 300 IN A 192.0.2.54", "ns1.sub.example.com. 300 IN AAAA 2001:db8::54"}},
		{name: "MX target covered by a wildcard", qname: "mxwild.example.com.", qtype: dns.TypeMX,
			answer: []string{"mxwild.example.com. 300 IN MX 10 foo.wild.example.com."},
			extra:  []string{"foo.wild.example.com. 300 IN A 192.0.2.99"}},
		{name: "MX target named twice (Knot; NSD names it once)", qname: "mxdup.example.com.", qtype: dns.TypeMX,
			answer: []string{"mxdup.example.com. 300 IN MX 10 mail.example.com.", "mxdup.example.com. 300 IN MX 20 mail.example.com."},
			extra: []string{"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25",
				"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25"}},
		{name: "MX after a CNAME", qname: "mxcn.example.com.", qtype: dns.TypeMX,
			answer: []string{"mxcn.example.com. 300 IN CNAME mxhost.example.com.", "mxhost.example.com. 300 IN MX 10 multi.example.com."},
			extra:  []string{"multi.example.com. 300 IN A 192.0.2.10", "multi.example.com. 300 IN AAAA 2001:db8::10"}},
		{name: "MX target in another zone we host gets no addresses", qname: "mxorg.example.com.", qtype: dns.TypeMX,
			answer: []string{"mxorg.example.com. 300 IN MX 10 www.example.org."}},
		{name: "MX target that is a CNAME gets no addresses", qname: "mxcname.example.com.", qtype: dns.TypeMX,
			answer: []string{"mxcname.example.com. 300 IN MX 10 www.example.com."}},

		{name: "HTTPS target", qname: "svc1.example.com.", qtype: dns.TypeHTTPS,
			answer: []string{`svc1.example.com. 300 IN HTTPS 1 web.example.com. alpn="h2"`},
			extra:  []string{"web.example.com. 300 IN A 192.0.2.80"}},
		{name: "HTTPS target '.' gets no addresses", qname: "svc2.example.com.", qtype: dns.TypeHTTPS,
			answer: []string{`svc2.example.com. 300 IN HTTPS 1 . alpn="h2"`}},
		{name: "SVCB alias-mode target", qname: "svc3.example.com.", qtype: dns.TypeSVCB,
			answer: []string{"svc3.example.com. 300 IN SVCB 0 mail.example.com."},
			extra:  []string{"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25"}},
		{name: "HTTPS target that is a CNAME gets no addresses", qname: "svc4.example.com.", qtype: dns.TypeHTTPS,
			answer: []string{`svc4.example.com. 300 IN HTTPS 1 www.example.com. alpn="h2"`}},

		// ANY (RFC 8482): one RRset, the lowest type, as Knot answers.
		{name: "ANY at the apex", qname: "example.com.", qtype: dns.TypeANY,
			answer: []string{"example.com. 300 IN A 192.0.2.1"}},
		{name: "ANY picks the lowest type", qname: "order.example.com.", qtype: dns.TypeANY,
			answer: []string{"order.example.com. 300 IN MX 10 mail.example.com."},
			extra:  []string{"mail.example.com. 300 IN A 192.0.2.25", "mail.example.com. 300 IN AAAA 2001:db8::25"}},
		{name: "ANY at a CNAME is not chased", qname: "www.example.com.", qtype: dns.TypeANY,
			answer: []string{"www.example.com. 300 IN CNAME web.example.com."}},
		{name: "ANY at an empty non-terminal", qname: "b.c.example.com.", qtype: dns.TypeANY, ns: []string{soaCom}},
		{name: "ANY at a missing name", qname: "nx.example.com.", qtype: dns.TypeANY, rcode: dns.RcodeNameError, ns: []string{soaCom}},
		{name: "ANY with one RRset", qname: "hinfo.example.com.", qtype: dns.TypeANY,
			answer: []string{`hinfo.example.com. 300 IN HINFO "cpu" "os"`}},

		// DNSSEC types without DNSSEC, and other types nobody stores.
		{name: "RRSIG is NODATA", qname: "web.example.com.", qtype: dns.TypeRRSIG, ns: []string{soaCom}},
		{name: "RRSIG at a CNAME is NODATA (Knot; NSD answers the CNAME)", qname: "www.example.com.", qtype: dns.TypeRRSIG, ns: []string{soaCom}},
		{name: "NSEC is NODATA", qname: "example.com.", qtype: dns.TypeNSEC, ns: []string{soaCom}},
		{name: "DNSKEY is NODATA", qname: "example.com.", qtype: dns.TypeDNSKEY, ns: []string{soaCom}},
		{name: "RRSIG at a missing name", qname: "nx.example.com.", qtype: dns.TypeRRSIG, rcode: dns.RcodeNameError, ns: []string{soaCom}},
		{name: "unknown type", qname: "web.example.com.", qtype: 65280, ns: []string{soaCom}},
	}
	runLookups(t, s, cases)
}

func runLookups(t *testing.T, s *Snapshot, cases []lookupCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Lookup(c.qname, c.qtype)
			if r.Rcode != c.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[c.rcode])
			}
			if r.Authoritative == c.notAuth {
				t.Errorf("authoritative %v, want %v", r.Authoritative, !c.notAuth)
			}
			checkSection(t, "answer", r.Answer, c.answer...)
			checkSection(t, "authority", r.Ns, c.ns...)
			checkSection(t, "additional", r.Extra, c.extra...)
		})
	}
}

func TestLookupDSAtApexWithoutDelegation(t *testing.T) {
	// We host the parent, but it has no delegation for the child: the parent says the name does
	// not exist (Knot; NSD answers NODATA).
	s, err := Build([]zone.Zone{
		zoneText(t, "example.com.", exampleCom),
		zoneText(t, "nodeleg.example.com.", `
$ORIGIN nodeleg.example.com.
@ 600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 1200
@ 300 IN NS ns1.example.com.
@ 300 IN A 192.0.2.7
`),
	})
	if err != nil {
		t.Fatal(err)
	}
	runLookups(t, s, []lookupCase{
		{name: "DS", qname: "nodeleg.example.com.", qtype: dns.TypeDS, rcode: dns.RcodeNameError, ns: []string{soaCom}},
		{name: "A", qname: "nodeleg.example.com.", qtype: dns.TypeA, answer: []string{"nodeleg.example.com. 300 IN A 192.0.2.7"}},
		{name: "DS below the apex", qname: "x.nodeleg.example.com.", qtype: dns.TypeDS, rcode: dns.RcodeNameError,
			ns: []string{"nodeleg.example.com. 600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 1200"}},
	})
}

func TestLookupResultsAreShared(t *testing.T) {
	s := testSnapshot(t)
	a := s.Lookup("web.example.com.", dns.TypeA)
	b := s.Lookup("web.example.com.", dns.TypeA)
	if &a.Answer[0] != &b.Answer[0] {
		t.Error("an exact answer is copied; it should be the snapshot's slice")
	}
	if cap(a.Answer) != len(a.Answer) {
		t.Error("a shared slice has spare capacity: an append by a caller would write into the snapshot")
	}
	if _, ok := s.Rdata(a.Answer[0]); !ok {
		t.Error("Rdata does not know a record of the snapshot")
	}
	w := s.Lookup("foo.wild.example.com.", dns.TypeTXT)
	if _, ok := s.Rdata(w.Answer[0]); ok {
		t.Error("Rdata knows a TXT record synthesized from a wildcard")
	}
	if wire, ok := s.Rdata(s.Lookup("foo.wild.example.com.", dns.TypeA).Answer[0]); !ok || string(wire) != "\xc0\x00\x02\x63" {
		t.Errorf("Rdata of an A record synthesized from a wildcard = %x, %v; want its address", wire, ok)
	}
	wire, _ := s.Rdata(a.Answer[0])
	if string(wire) != "\xc0\x00\x02\x50" {
		t.Errorf("Rdata of 192.0.2.80 is %x", wire)
	}
}

func TestBuildErrors(t *testing.T) {
	soa := func(name string) zone.RecordSet {
		return routed(name, "SOA", "", 900, "ns1.example.com. hostmaster.example.com. 1 7200 900 1209600 86400")
	}
	cases := []struct {
		name string
		sets []zone.RecordSet
		want string
	}{
		{"no SOA", []zone.RecordSet{routed("www.example.com.", "A", "", 60, "192.0.2.1")}, "no SOA"},
		{"bad value", []zone.RecordSet{soa("example.com."), routed("www.example.com.", "A", "", 60, "192.0.2.300")},
			"record set [name='www.example.com.', type='A']"},
		{"outside the zone", []zone.RecordSet{soa("example.com."), routed("www.example.org.", "A", "", 60, "192.0.2.1")},
			"not in the zone"},
		{"unknown type", []zone.RecordSet{soa("example.com."), routed("www.example.com.", "BOGUS", "", 60, "x")}, "unknown type"},
		{"two simple sets", []zone.RecordSet{soa("example.com."), routed("www.example.com.", "A", "", 60, "192.0.2.1"),
			routed("www.example.com.", "A", "", 60, "192.0.2.2")}, "same name and type"},
		{"mixed policies", []zone.RecordSet{soa("example.com."),
			weighted("www.example.com.", "a", 1, "192.0.2.1"), failover("www.example.com.", "b", "PRIMARY", "192.0.2.2"),
		}, "routing policy"},
		{"set identifier without policy", []zone.RecordSet{soa("example.com."), routed("www.example.com.", "A", "a", 60, "192.0.2.1")},
			"without a routing policy"},
		{"alias cycle", []zone.RecordSet{soa("example.com."),
			alias("a.example.com.", "A", "b.example.com."), alias("b.example.com.", "A", "c.example.com"),
			alias("c.example.com.", "A", "a.example.com.")},
			"alias cycle: a.example.com. -> b.example.com. -> c.example.com. -> a.example.com. A"},
		{"alias to itself", []zone.RecordSet{soa("example.com."), alias("a.example.com.", "A", "a.example.com.")}, "alias cycle"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build([]zone.Zone{{ID: "Z1", Name: "example.com.", RecordSets: c.sets}})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "answer: zone example.com. (Z1)") {
				t.Fatalf("error %v, want one with %q", err, c.want)
			}
		})
	}
}

func TestBuildDuplicateZoneNames(t *testing.T) {
	a := zoneText(t, "example.org.", exampleOrg)
	b := zoneText(t, "example.org.", strings.Replace(exampleOrg, "192.0.2.150", "192.0.2.151", 1))
	a.ID, b.ID = "Z2", "Z1"
	s, err := Build([]zone.Zone{a, b})
	if err != nil {
		t.Fatal(err)
	}
	checkSection(t, "answer", s.Lookup("www.example.org.", dns.TypeA).Answer, "www.example.org. 300 IN A 192.0.2.151")
}

func TestBuildWildcardName(t *testing.T) {
	// Route 53 lists a wildcard as \052; zone.CanonicalName reads it as "*".
	z := zoneText(t, "example.org.", exampleOrg)
	z.RecordSets = append(z.RecordSets, routed(`\052.example.org.`, "A", "", 60, "192.0.2.9"))
	s, err := Build([]zone.Zone{z})
	if err != nil {
		t.Fatal(err)
	}
	checkSection(t, "answer", s.Lookup("any.example.org.", dns.TypeA).Answer, "any.example.org. 60 IN A 192.0.2.9")
}

// TestLookupOddZones looks names up in zones Route 53 would not accept but Build does; nothing
// may panic.
func TestLookupOddZones(t *testing.T) {
	s, err := Build([]zone.Zone{
		zoneText(t, "soaonly.test.", "$ORIGIN soaonly.test.\n@ 60 IN SOA ns. h. 1 2 3 4 5\n"),
		zoneText(t, "odd.test.", `
$ORIGIN odd.test.
@        60 IN SOA   ns. h. 1 2 3 4 5
@        60 IN CNAME elsewhere.test.
*        60 IN NS    ns.elsewhere.test.
a.*      60 IN A     192.0.2.1
both     60 IN CNAME odd.test.
both     60 IN A     192.0.2.2
x.y.z    60 IN MX    10 .
dn       60 IN DNAME elsewhere.test.
`),
		zoneText(t, "to.soaonly.test.", "$ORIGIN to.soaonly.test.\n@ 60 IN SOA ns. h. 1 2 3 4 5\nc 60 IN CNAME x.soaonly.test.\nd 60 IN CNAME soaonly.test.\n"),
	})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"soaonly.test.", "x.soaonly.test.", "odd.test.", "q.odd.test.", "a.*.odd.test.", "b.a.q.odd.test.",
		"both.odd.test.", "z.odd.test.", "x.y.z.odd.test.", "dn.odd.test.", "x.dn.odd.test.", "c.to.soaonly.test.", "d.to.soaonly.test."}
	for _, n := range names {
		for _, qt := range []uint16{dns.TypeA, dns.TypeNS, dns.TypeMX, dns.TypeSOA, dns.TypeDS, dns.TypeANY, dns.TypeCNAME, dns.TypeRRSIG} {
			r := s.Lookup(n, qt)
			if r.Rcode == dns.RcodeRefused {
				t.Errorf("%s %s: REFUSED", n, dns.TypeToString[qt])
			}
		}
	}
}
