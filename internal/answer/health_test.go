package answer

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

const exampleOrgHealth = `
$ORIGIN example.org.
$TTL 300
@      900 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 86400
@   172800 IN NS  ns1.example.org.
ns1        IN A   192.0.2.53
plain      IN AAAA 2001:db8::1
`

const soaHealth = "example.org. 900 IN SOA ns1.example.org. hostmaster.example.org. 1 7200 900 1209600 86400"

// checked gives a record set a health check.
func checked(rs zone.RecordSet, id string) zone.RecordSet {
	rs.HealthCheckId = id
	return rs
}

// aliasETH returns an alias record set that evaluates its target's health.
func aliasETH(name, typ, target string) zone.RecordSet {
	rs := alias(name, typ, target)
	rs.AliasTarget.EvaluateTargetHealth = true
	return rs
}

// as gives a record set a set identifier and a failover role.
func as(rs zone.RecordSet, id, role string) zone.RecordSet {
	rs.SetIdentifier, rs.Failover = id, role
	return rs
}

// healthZone is the zone of the health tests. Health check IDs name what they check.
func healthZone(t testing.TB) zone.Zone {
	t.Helper()
	z := zoneText(t, "example.org.", exampleOrgHealth)
	add := func(rs ...zone.RecordSet) { z.RecordSets = append(z.RecordSets, rs...) }

	// Failover, both sides checked; and a secondary without a check.
	add(checked(failover("fo.example.org.", "primary", "PRIMARY", "192.0.2.1"), "hc-p"),
		checked(failover("fo.example.org.", "secondary", "SECONDARY", "192.0.2.2"), "hc-s"))
	add(checked(failover("fonc.example.org.", "primary", "PRIMARY", "192.0.2.3"), "hc-p"),
		failover("fonc.example.org.", "secondary", "SECONDARY", "192.0.2.4"))

	// Weighted 3:1 with a zero-weight standby.
	add(checked(weighted("w.example.org.", "a", 3, "192.0.2.11"), "hc-wa"),
		checked(weighted("w.example.org.", "b", 1, "192.0.2.12"), "hc-wb"),
		checked(weighted("w.example.org.", "standby", 0, "192.0.2.10"), "hc-wz"))

	// Multivalue: 12 record sets m00..m11, each with its check hc-m00..hc-m11.
	for i := range 12 {
		id := fmt.Sprintf("m%02d", i)
		rs := checked(routed("mv.example.org.", "A", id, 60, fmt.Sprintf("192.0.2.%d", 40+i)), "hc-"+id)
		rs.MultiValueAnswer = ptr(true)
		add(rs)
	}

	// A failover tree: the PRIMARY is an alias evaluating a weighted pool of two checked records
	// (TTL 30), the SECONDARY a plain checked record (TTL 60).
	pool := func(name string) {
		add(checked(routedTTL(weighted(name, "pa", 1, "192.0.2.21"), 30), "hc-pa"),
			checked(routedTTL(weighted(name, "pb", 1, "192.0.2.22"), 30), "hc-pb"))
	}
	pool("pool.example.org.")
	add(as(aliasETH("www.example.org.", "A", "pool.example.org."), "primary", "PRIMARY"),
		checked(failover("www.example.org.", "secondary", "SECONDARY", "192.0.2.99"), "hc-backup"))

	// The same tree without EvaluateTargetHealth: never backs out of the primary branch.
	add(as(alias("noeth.example.org.", "A", "pool.example.org."), "primary", "PRIMARY"),
		failover("noeth.example.org.", "secondary", "SECONDARY", "192.0.2.98"))

	// An alias with its own health check and EvaluateTargetHealth: both must pass.
	add(checked(as(aliasETH("both.example.org.", "A", "pool.example.org."), "primary", "PRIMARY"), "hc-alias"),
		failover("both.example.org.", "secondary", "SECONDARY", "192.0.2.97"))

	// Aliases evaluating targets that answer nothing: a name we do not host, a name without A.
	add(as(aliasETH("elb.example.org.", "A", "my-elb.us-east-1.elb.amazonaws.com."), "primary", "PRIMARY"),
		failover("elb.example.org.", "secondary", "SECONDARY", "192.0.2.96"))
	add(as(aliasETH("noa.example.org.", "A", "plain.example.org."), "primary", "PRIMARY"),
		failover("noa.example.org.", "secondary", "SECONDARY", "192.0.2.95"))
	add(as(alias("noethnoa.example.org.", "A", "plain.example.org."), "primary", "PRIMARY"),
		failover("noethnoa.example.org.", "secondary", "SECONDARY", "192.0.2.94"))

	// Two levels: the apex (simple alias, ETH) -> top (failover) -> www's tree and a fallback.
	add(aliasETH("example.org.", "A", "top.example.org."),
		as(aliasETH("top.example.org.", "A", "www.example.org."), "primary", "PRIMARY"),
		failover("top.example.org.", "secondary", "SECONDARY", "192.0.2.93"))

	// A simple alias to a fixed failover decision: its answer is built once.
	add(aliasETH("tofo.example.org.", "A", "fo.example.org."))

	// A check the health source does not know counts as healthy.
	add(checked(failover("gone.example.org.", "primary", "PRIMARY", "192.0.2.5"), "hc-gone"),
		failover("gone.example.org.", "secondary", "SECONDARY", "192.0.2.6"))
	return z
}

func routedTTL(rs zone.RecordSet, ttl int64) zone.RecordSet {
	rs.TTL = &ttl
	return rs
}

// downChecks is a health source: the named checks fail, "hc-gone" is unknown, the rest pass.
func downChecks(down string) func(string) (bool, bool) {
	failing := strings.Fields(down)
	return func(id string) (bool, bool) {
		if id == "hc-gone" {
			return false, false
		}
		return !slices.Contains(failing, id), true
	}
}

// allMV is every multivalue check.
func allMV() string {
	var ids []string
	for i := range 12 {
		ids = append(ids, fmt.Sprintf("hc-m%02d", i))
	}
	return strings.Join(ids, " ")
}

// mvLines are the answer lines of mv's record sets i..j-1.
func mvLines(i, j int) []string {
	var out []string
	for k := i; k < j; k++ {
		out = append(out, fmt.Sprintf("mv.example.org. 60 IN A 192.0.2.%d", 40+k))
	}
	return out
}

type healthCase struct {
	name  string
	down  string // the failing health checks, space-separated
	qname string
	qtype uint16 // A when zero
	// Exactly one of: answer, every time (none: NODATA); one of oneOf each time, each seen; or
	// sample records of from, distinct, each time.
	answer []string
	oneOf  [][]string
	sample int
	from   []string
}

func TestHealth(t *testing.T) {
	z := healthZone(t)
	pa := "www.example.org. 30 IN A 192.0.2.21"
	pb := "www.example.org. 30 IN A 192.0.2.22"
	backup := "www.example.org. 60 IN A 192.0.2.99"
	cases := []healthCase{
		// Failover.
		{name: "failover: primary up", qname: "fo.example.org.", answer: []string{"fo.example.org. 60 IN A 192.0.2.1"}},
		{name: "failover: primary up, secondary down", down: "hc-s", qname: "fo.example.org.", answer: []string{"fo.example.org. 60 IN A 192.0.2.1"}},
		{name: "failover: primary down -> secondary", down: "hc-p", qname: "fo.example.org.", answer: []string{"fo.example.org. 60 IN A 192.0.2.2"}},
		{name: "failover: both down -> primary", down: "hc-p hc-s", qname: "fo.example.org.", answer: []string{"fo.example.org. 60 IN A 192.0.2.1"}},
		{name: "failover: unchecked secondary when primary down", down: "hc-p", qname: "fonc.example.org.", answer: []string{"fonc.example.org. 60 IN A 192.0.2.4"}},
		{name: "failover: unchecked secondary, primary up", qname: "fonc.example.org.", answer: []string{"fonc.example.org. 60 IN A 192.0.2.3"}},
		{name: "failover: unknown check counts as healthy", qname: "gone.example.org.", answer: []string{"gone.example.org. 60 IN A 192.0.2.5"}},

		// Weighted.
		{name: "weighted: all up, by weight, standby out", qname: "w.example.org.",
			oneOf: [][]string{{"w.example.org. 60 IN A 192.0.2.11"}, {"w.example.org. 60 IN A 192.0.2.12"}}},
		{name: "weighted: one down", down: "hc-wa", qname: "w.example.org.", answer: []string{"w.example.org. 60 IN A 192.0.2.12"}},
		{name: "weighted: non-zero down -> zero-weight standby", down: "hc-wa hc-wb", qname: "w.example.org.",
			answer: []string{"w.example.org. 60 IN A 192.0.2.10"}},
		{name: "weighted: all down -> fail-open by weight, standby out", down: "hc-wa hc-wb hc-wz", qname: "w.example.org.",
			oneOf: [][]string{{"w.example.org. 60 IN A 192.0.2.11"}, {"w.example.org. 60 IN A 192.0.2.12"}}},

		// Multivalue.
		{name: "multivalue: 12 healthy -> 8 of them", qname: "mv.example.org.", sample: 8, from: mvLines(0, 12)},
		{name: "multivalue: 8 healthy -> exactly those", down: "hc-m00 hc-m01 hc-m02 hc-m03", qname: "mv.example.org.",
			answer: mvLines(4, 12)},
		{name: "multivalue: 3 healthy -> those 3", down: strings.Replace(allMV(), "hc-m05 hc-m06 hc-m07", "", 1), qname: "mv.example.org.",
			answer: mvLines(5, 8)},
		{name: "multivalue: 10 healthy -> 8 of the healthy", down: "hc-m00 hc-m11", qname: "mv.example.org.", sample: 8, from: mvLines(1, 11)},
		{name: "multivalue: all down -> 8 unhealthy (fail-open)", down: allMV(), qname: "mv.example.org.", sample: 8, from: mvLines(0, 12)},

		// The failover tree: PRIMARY alias (ETH) -> weighted pool; TTLs are the records' own.
		{name: "tree: pool up -> primary branch, target's TTL", qname: "www.example.org.", oneOf: [][]string{{pa}, {pb}}},
		{name: "tree: one pool record down -> the healthy one", down: "hc-pa", qname: "www.example.org.", answer: []string{pb}},
		{name: "tree: other pool record down", down: "hc-pb", qname: "www.example.org.", answer: []string{pa}},
		{name: "tree: pool down -> secondary", down: "hc-pa hc-pb", qname: "www.example.org.", answer: []string{backup}},
		{name: "tree: one recovers -> primary's healthy record only", down: "hc-pa hc-backup", qname: "www.example.org.", answer: []string{pb}},
		{name: "tree: all down -> primary branch, pool fails open by weight", down: "hc-pa hc-pb hc-backup", qname: "www.example.org.",
			oneOf: [][]string{{pa}, {pb}}},
		{name: "tree: pool up, secondary down", down: "hc-backup", qname: "www.example.org.", oneOf: [][]string{{pa}, {pb}}},

		// EvaluateTargetHealth=false never backs out.
		{name: "no ETH: pool down -> still the primary branch", down: "hc-pa hc-pb", qname: "noeth.example.org.",
			oneOf: [][]string{{"noeth.example.org. 30 IN A 192.0.2.21"}, {"noeth.example.org. 30 IN A 192.0.2.22"}}},
		{name: "no ETH: pool partly down", down: "hc-pa", qname: "noeth.example.org.", answer: []string{"noeth.example.org. 30 IN A 192.0.2.22"}},
		{name: "no ETH: target without the type -> NODATA, no fallback", qname: "noethnoa.example.org."},

		// ETH and the alias's own check: both must pass.
		{name: "alias check and ETH: both pass", qname: "both.example.org.",
			oneOf: [][]string{{"both.example.org. 30 IN A 192.0.2.21"}, {"both.example.org. 30 IN A 192.0.2.22"}}},
		{name: "alias check fails, target healthy -> secondary", down: "hc-alias", qname: "both.example.org.",
			answer: []string{"both.example.org. 60 IN A 192.0.2.97"}},
		{name: "alias check passes, target down -> secondary", down: "hc-pa hc-pb", qname: "both.example.org.",
			answer: []string{"both.example.org. 60 IN A 192.0.2.97"}},

		// ETH to targets that answer nothing: unhealthy.
		{name: "ETH to a name we do not host -> secondary", qname: "elb.example.org.", answer: []string{"elb.example.org. 60 IN A 192.0.2.96"}},
		{name: "ETH to a name without the type -> secondary", qname: "noa.example.org.", answer: []string{"noa.example.org. 60 IN A 192.0.2.95"}},

		// Two levels of trees, under a simple alias at the apex.
		{name: "apex -> top -> www: pool up", qname: "example.org.",
			oneOf: [][]string{{"example.org. 30 IN A 192.0.2.21"}, {"example.org. 30 IN A 192.0.2.22"}}},
		{name: "apex -> top -> www: pool down -> www's secondary", down: "hc-pa hc-pb", qname: "example.org.",
			answer: []string{"example.org. 60 IN A 192.0.2.99"}},
		{name: "apex -> top -> www: all of www down -> top's secondary", down: "hc-pa hc-pb hc-backup", qname: "example.org.",
			answer: []string{"example.org. 60 IN A 192.0.2.93"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := BuildWithHealth([]zone.Zone{z}, downChecks(c.down))
			if err != nil {
				t.Fatal(err)
			}
			checkHealthCase(t, s, c)
		})
	}
}

// checkHealthCase looks c's name up 200 times and compares the answers with c's expectations.
func checkHealthCase(t *testing.T, s *Snapshot, c healthCase) {
	t.Helper()
	qtype := c.qtype
	if qtype == 0 {
		qtype = dns.TypeA
	}
	seen := make([]bool, len(c.oneOf))
	variants := map[int]string{} // the whole Result of each Variant
	for range 200 {
		r := s.Lookup(c.qname, qtype)
		if r.Rcode != dns.RcodeSuccess {
			t.Fatalf("rcode %s", dns.RcodeToString[r.Rcode])
		}
		// A server may keep the reply to a question whose answer does not vary, and to one of a
		// single draw per Variant: a draw of one record set has one; a sample of several none.
		if want := c.oneOf != nil || c.sample > 0; r.Varies != want {
			t.Fatalf("Varies = %v, want %v", r.Varies, want)
		}
		if want := c.oneOf != nil; (r.Variant != 0) != want {
			t.Fatalf("Variant = %d, want one only for a pick of one record set", r.Variant)
		}
		if r.Variant != 0 {
			all := text(r.Answer) + text(r.Ns) + text(r.Extra)
			if prev, ok := variants[r.Variant]; ok && prev != all {
				t.Fatalf("Variant %d answered\n%sand\n%s", r.Variant, indent(prev), indent(all))
			}
			variants[r.Variant] = all
		}
		switch {
		case c.oneOf != nil:
			k := slices.IndexFunc(c.oneOf, func(want []string) bool { return text(r.Answer) == text(rrs(t, want...)) })
			if k < 0 {
				t.Fatalf("answer:\n%swant one of %q", indent(text(r.Answer)), c.oneOf)
			}
			seen[k] = true
		case c.sample > 0:
			got := strings.Split(strings.TrimSuffix(text(r.Answer), "\n"), "\n")
			from := strings.Split(strings.TrimSuffix(text(rrs(t, c.from...)), "\n"), "\n")
			if len(got) != c.sample || len(slices.Compact(slices.Sorted(slices.Values(got)))) != c.sample {
				t.Fatalf("answer:\n%swant %d distinct records", indent(text(r.Answer)), c.sample)
			}
			for _, l := range got {
				if !slices.Contains(from, l) {
					t.Fatalf("answer %q is not one of\n%s", l, indent(text(rrs(t, c.from...))))
				}
			}
		default:
			checkSection(t, "answer", r.Answer, c.answer...)
			if len(c.answer) == 0 {
				checkSection(t, "authority", r.Ns, soaHealth)
			}
			if t.Failed() {
				return
			}
		}
	}
	for k, ok := range seen {
		if !ok {
			t.Errorf("answer %q never seen in 200 lookups", c.oneOf[k])
		}
	}
}

func TestHealthRoutes(t *testing.T) {
	z := healthZone(t)
	for _, c := range []struct {
		name string
		down string
		want map[string]string // "name type" -> Answer, for the routes checked
	}{
		{name: "all healthy", want: map[string]string{
			"example.org. A":          "alias top.example.org. -> primary (alias www.example.org. -> primary (alias pool.example.org. -> weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50%))",
			"fo.example.org. A":       "primary (192.0.2.1)",
			"w.example.org. A":        "weighted: a (192.0.2.11) 75%, b (192.0.2.12) 25%",
			"mv.example.org. A":       "multivalue: 8 of 12 healthy",
			"www.example.org. A":      "primary (alias pool.example.org. -> weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50%)",
			"pool.example.org. A":     "weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50%",
			"elb.example.org. A":      "secondary (192.0.2.96)",
			"noeth.example.org. A":    "primary (alias pool.example.org. -> weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50%)",
			"gone.example.org. A":     "primary (192.0.2.5)",
			"fonc.example.org. A":     "primary (192.0.2.3)",
			"noethnoa.example.org. A": "primary (alias plain.example.org. -> nothing)",
		}},
		{name: "primaries and pool down", down: "hc-p hc-pa hc-pb hc-wa hc-m00 hc-m03", want: map[string]string{
			"example.org. A":       "alias top.example.org. -> primary (alias www.example.org. -> secondary (192.0.2.99))",
			"fo.example.org. A":    "secondary (192.0.2.2)",
			"w.example.org. A":     "b (192.0.2.12)",
			"mv.example.org. A":    "multivalue: 8 of 10 healthy (unhealthy: m00, m03)",
			"www.example.org. A":   "secondary (192.0.2.99)",
			"pool.example.org. A":  "weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50% [all unhealthy: fail-open]",
			"noeth.example.org. A": "primary (alias pool.example.org. -> weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50% [all unhealthy: fail-open])",
		}},
		{name: "everything down", down: "hc-p hc-s hc-pa hc-pb hc-backup hc-wa hc-wb hc-wz " + allMV(), want: map[string]string{
			"example.org. A":     "alias top.example.org. -> secondary (192.0.2.93)",
			"fo.example.org. A":  "primary (192.0.2.1) [all unhealthy: fail-open]",
			"w.example.org. A":   "weighted: a (192.0.2.11) 75%, b (192.0.2.12) 25% [all unhealthy: fail-open]",
			"mv.example.org. A":  "multivalue: 8 of 12 [all unhealthy: fail-open]",
			"www.example.org. A": "primary (alias pool.example.org. -> weighted: pa (192.0.2.21) 50%, pb (192.0.2.22) 50% [all unhealthy: fail-open]) [all unhealthy: fail-open]",
		}},
		{name: "standby", down: "hc-wa hc-wb", want: map[string]string{
			"w.example.org. A": "standby (192.0.2.10)",
		}},
		{name: "four multivalue down: fixed", down: "hc-m00 hc-m01 hc-m02 hc-m03", want: map[string]string{
			"mv.example.org. A": "m04 (192.0.2.44), m05 (192.0.2.45), m06 (192.0.2.46), m07 (192.0.2.47), " +
				"m08 (192.0.2.48), m09 (192.0.2.49), m10 (192.0.2.50), m11 (192.0.2.51)",
		}},
		{name: "www down: the apex follows top's secondary", down: "hc-pa hc-pb hc-backup", want: map[string]string{
			"example.org. A": "alias top.example.org. -> secondary (192.0.2.93)",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := BuildWithHealth([]zone.Zone{z}, downChecks(c.down))
			if err != nil {
				t.Fatal(err)
			}
			routes := s.Routes()
			got := map[string]string{}
			for _, r := range routes {
				got[r.Name+" "+r.Type] = r.Answer
			}
			for k, want := range c.want {
				if got[k] != want {
					t.Errorf("%s:\n got %q\nwant %q", k, got[k], want)
				}
			}
			if !slices.IsSortedFunc(routes, func(a, b Route) int {
				return strings.Compare(a.Name+" "+a.Type, b.Name+" "+b.Type)
			}) {
				t.Errorf("routes not sorted: %v", routes)
			}
			// Equal states give equal strings, build after build.
			again, err := BuildWithHealth([]zone.Zone{z}, downChecks(c.down))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(routes, again.Routes()) {
				t.Errorf("two builds of the same state describe it differently")
			}
		})
	}
}

// TestRoutesList checks which groups Routes lists: routed groups and aliases evaluating target
// health, not simple record sets or aliases that do not.
func TestRoutesList(t *testing.T) {
	z := zoneText(t, "example.org.", exampleOrgHealth)
	z.RecordSets = append(z.RecordSets,
		alias("a.example.org.", "AAAA", "plain.example.org."),
		aliasETH("b.example.org.", "AAAA", "plain.example.org."),
		weighted("c.example.org.", "x", 1, "192.0.2.1"),
		failover("c.example.org.", "p", "PRIMARY", "192.0.2.2"),
	)
	z.RecordSets[len(z.RecordSets)-1].Type = "TXT"
	z.RecordSets[len(z.RecordSets)-1].ResourceRecords = []zone.ResourceRecord{{Value: `"hello world"`}}
	s, err := Build([]zone.Zone{z})
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Name: "b.example.org.", Type: "AAAA", Answer: "alias plain.example.org. -> 2001:db8::1"},
		{Name: "c.example.org.", Type: "A", Answer: "x (192.0.2.1)"},
		{Name: "c.example.org.", Type: "TXT", Answer: `p ("hello world")`},
	}
	if got := s.Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() =\n%v\nwant\n%v", got, want)
	}
}

// routedLookups are lookups of routed and alias answers, with their allocation budgets.
var routedLookups = []struct {
	name   string
	qname  string
	allocs float64
}{
	{"failover", "fo.example.org.", 0},
	{"weighted", "w.example.org.", 0},
	{"alias-tree-static", "elb.example.org.", 0},
	{"alias-static", "tofo.example.org.", 0},     // a fixed decision: built once
	{"apex-alias-chain", "example.org.", 2},      // a record owned by the apex and its slice, once for the chain
	{"alias-to-weighted", "www.example.org.", 2}, // the same
	{"multivalue-8-of-12", "mv.example.org.", 1}, // the answer slice
}

func healthSnapshot(t testing.TB, down string) *Snapshot {
	t.Helper()
	s, err := BuildWithHealth([]zone.Zone{healthZone(t)}, downChecks(down))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoutedLookupAllocs(t *testing.T) {
	s := healthSnapshot(t, "")
	for _, b := range routedLookups {
		t.Run(b.name, func(t *testing.T) {
			got := testing.AllocsPerRun(200, func() { s.Lookup(b.qname, dns.TypeA) })
			if got > b.allocs {
				t.Errorf("Lookup(%s) makes %v allocations, budget %v", b.qname, got, b.allocs)
			}
		})
	}
}

func BenchmarkRoutedLookup(b *testing.B) {
	s := healthSnapshot(b, "")
	for _, c := range routedLookups {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Lookup(c.qname, dns.TypeA)
			}
		})
	}
}

// TestAliasRecordsShared: an alias answer Build resolved once is the snapshot's, packed with the
// rest (Rdata knows it); one resolved per query is the Result's own.
func TestAliasRecordsShared(t *testing.T) {
	s := healthSnapshot(t, "")
	runLookups(t, s, []lookupCase{
		{name: "static alias", qname: "tofo.example.org.", qtype: dns.TypeA, answer: []string{"tofo.example.org. 60 IN A 192.0.2.1"}},
	})
	a, b := s.Lookup("tofo.example.org.", dns.TypeA), s.Lookup("tofo.example.org.", dns.TypeA)
	if &a.Answer[0] != &b.Answer[0] {
		t.Error("a static alias answer is copied per query")
	}
	if wire, ok := s.Rdata(a.Answer[0]); !ok || string(wire) != "\xc0\x00\x02\x01" {
		t.Errorf("Rdata of a static alias record = %x, %v", wire, ok)
	}
	if w := s.Lookup("www.example.org.", dns.TypeA); len(w.Answer) != 1 {
		t.Fatalf("www answer %v", w.Answer)
	} else if wire, ok := s.Rdata(w.Answer[0]); !ok || len(wire) != 4 {
		t.Errorf("Rdata of an A record resolved per query = %x, %v; want its address", wire, ok)
	}
	down := healthSnapshot(t, "hc-p")
	checkSection(t, "primary down", down.Lookup("tofo.example.org.", dns.TypeA).Answer, "tofo.example.org. 60 IN A 192.0.2.2")
}

// TestHealthAcrossZones: an alias evaluates a target group in another zone we host.
func TestHealthAcrossZones(t *testing.T) {
	org := zoneText(t, "example.org.", exampleOrgHealth)
	org.RecordSets = append(org.RecordSets,
		as(aliasETH("www.example.org.", "A", "fo.example.net."), "primary", "PRIMARY"),
		failover("www.example.org.", "secondary", "SECONDARY", "192.0.2.99"))
	netZone := zoneText(t, "example.net.", exampleNet)
	netZone.RecordSets = append(netZone.RecordSets,
		checked(failover("fo.example.net.", "p", "PRIMARY", "192.0.2.1"), "hc-p"),
		checked(failover("fo.example.net.", "s", "SECONDARY", "192.0.2.2"), "hc-s"))
	for _, c := range []healthCase{
		{name: "target up", qname: "www.example.org.", answer: []string{"www.example.org. 60 IN A 192.0.2.1"}},
		{name: "target fails over inside", down: "hc-p", qname: "www.example.org.", answer: []string{"www.example.org. 60 IN A 192.0.2.2"}},
		{name: "target down", down: "hc-p hc-s", qname: "www.example.org.", answer: []string{"www.example.org. 60 IN A 192.0.2.99"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := BuildWithHealth([]zone.Zone{org, netZone}, downChecks(c.down))
			if err != nil {
				t.Fatal(err)
			}
			checkHealthCase(t, s, c)
		})
	}
}
