package routing

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// golden is a large odd constant: rnd = i*golden for i = 0, 1, 2, ... is a deterministic sequence
// whose high bits are spread evenly over [0, 2^64), so distribution tests cannot flake.
const golden = 0x9e3779b97f4a7c15

func ptr[T any](v T) *T { return &v }

func simpleRS(hc string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", HealthCheckId: hc}
}

func primary(id string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id, Failover: "PRIMARY", HealthCheckId: "hc-" + id}
}

func secondary(id string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id, Failover: "SECONDARY", HealthCheckId: "hc-" + id}
}

func weightedRS(id string, w int64) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id, Weight: ptr(w), HealthCheckId: "hc-" + id}
}

func multiRS(id string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id, MultiValueAnswer: ptr(true), HealthCheckId: "hc-" + id}
}

func latencyRS(id, region string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id, Region: region}
}

func geoRS(id, continent, country, subdivision string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id,
		GeoLocation: &zone.GeoLocation{ContinentCode: continent, CountryCode: country, SubdivisionCode: subdivision}}
}

func cidrRS(id, location string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id,
		CidrRoutingConfig: &zone.CidrRoutingConfig{CollectionId: "c", LocationName: location}}
}

func proximityRS(id, region string) zone.RecordSet {
	return zone.RecordSet{Name: "www.example.com.", Type: "A", SetIdentifier: id,
		GeoProximityLocation: &zone.GeoProximityLocation{AWSRegion: region}}
}

// health turns "UDU" into {true, false, true}: one letter per record set, U healthy, D unhealthy.
func health(s string) []bool {
	h := make([]bool, len(s))
	for i, c := range s {
		h[i] = c == 'U'
	}
	return h
}

func TestPolicy(t *testing.T) {
	for _, tc := range []struct {
		rs   zone.RecordSet
		want string
	}{
		{simpleRS(""), "simple"},
		{simpleRS("hc"), "simple"},
		{zone.RecordSet{SetIdentifier: "x", MultiValueAnswer: ptr(false)}, "simple"},
		{primary("a"), "failover"},
		{secondary("a"), "failover"},
		{weightedRS("a", 0), "weighted"},
		{multiRS("a"), "multivalue"},
		{latencyRS("a", "eu-west-1"), "latency"},
		{geoRS("a", "", "*", ""), "geolocation"},
		{cidrRS("a", "*"), "cidr"},
		{proximityRS("a", "eu-west-1"), "geoproximity"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := Policy(tc.rs); got != tc.want {
				t.Errorf("Policy(%+v) = %q, want %q", tc.rs, got, tc.want)
			}
		})
	}
}

// TestDecide covers every routing rule. A case either answers with exactly want for every rnd
// (fixed), or with one of oneOf, each of them seen over many rnd and nothing else.
func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name    string
		group   []zone.RecordSet
		up      string // health per record set, see health; "" means all healthy
		want    []int
		oneOf   []int
		healthy bool
	}{
		{name: "empty group", healthy: false},

		// simple
		{name: "simple", group: []zone.RecordSet{simpleRS("")}, want: []int{0}, healthy: true},
		{name: "simple with health check healthy", group: []zone.RecordSet{simpleRS("hc")}, up: "U", want: []int{0}, healthy: true},
		{name: "simple ignores its unhealthy check", group: []zone.RecordSet{simpleRS("hc")}, up: "D", want: []int{0}, healthy: false},

		// failover
		{name: "failover primary healthy", group: []zone.RecordSet{primary("p"), secondary("s")}, up: "UU", want: []int{0}, healthy: true},
		{name: "failover primary healthy secondary down", group: []zone.RecordSet{primary("p"), secondary("s")}, up: "UD", want: []int{0}, healthy: true},
		{name: "failover primary down secondary healthy", group: []zone.RecordSet{primary("p"), secondary("s")}, up: "DU", want: []int{1}, healthy: true},
		{name: "failover both down answers primary", group: []zone.RecordSet{primary("p"), secondary("s")}, up: "DD", want: []int{0}, healthy: false},
		{name: "failover order in group does not matter", group: []zone.RecordSet{secondary("s"), primary("p")}, up: "UU", want: []int{1}, healthy: true},
		{name: "failover both down secondary first", group: []zone.RecordSet{secondary("s"), primary("p")}, up: "DD", want: []int{1}, healthy: false},
		{
			name:  "failover secondary without health check used when primary down",
			group: []zone.RecordSet{primary("p"), {Name: "www.example.com.", Type: "A", SetIdentifier: "s", Failover: "SECONDARY"}},
			up:    "DU", want: []int{1}, healthy: true,
		},
		{name: "failover only primary healthy", group: []zone.RecordSet{primary("p")}, up: "U", want: []int{0}, healthy: true},
		{name: "failover only primary down", group: []zone.RecordSet{primary("p")}, up: "D", want: []int{0}, healthy: false},
		{name: "failover only secondary healthy", group: []zone.RecordSet{secondary("s")}, up: "U", want: []int{0}, healthy: true},
		{name: "failover only secondary down", group: []zone.RecordSet{secondary("s")}, up: "D", want: []int{0}, healthy: false},
		{name: "failover two primaries first healthy", group: []zone.RecordSet{primary("p1"), primary("p2"), secondary("s")}, up: "DUU", want: []int{1}, healthy: true},
		{name: "failover lower-case side", group: []zone.RecordSet{{SetIdentifier: "p", Failover: "primary"}, {SetIdentifier: "s", Failover: "secondary"}}, up: "DU", want: []int{1}, healthy: true},
		{name: "failover unknown side is invalid", group: []zone.RecordSet{secondary("s"), {SetIdentifier: "x", Failover: "TERTIARY"}}, up: "UU", want: []int{0}, healthy: true},

		// weighted
		{name: "weighted all healthy", group: []zone.RecordSet{weightedRS("a", 1), weightedRS("b", 3), weightedRS("c", 0)}, up: "UUU", oneOf: []int{0, 1}, healthy: true},
		{name: "weighted skips unhealthy", group: []zone.RecordSet{weightedRS("a", 1), weightedRS("b", 3), weightedRS("c", 2)}, up: "UDU", oneOf: []int{0, 2}, healthy: true},
		{name: "weighted one healthy", group: []zone.RecordSet{weightedRS("a", 1), weightedRS("b", 3), weightedRS("c", 2)}, up: "DDU", want: []int{2}, healthy: true},
		{name: "weighted zero weight is standby", group: []zone.RecordSet{weightedRS("a", 5), weightedRS("b", 0)}, up: "UU", want: []int{0}, healthy: true},
		{name: "weighted zero weight when non-zero down", group: []zone.RecordSet{weightedRS("a", 5), weightedRS("b", 0), weightedRS("c", 0), weightedRS("d", 0)}, up: "DUDU", oneOf: []int{1, 3}, healthy: true},
		{name: "weighted all zero uniform among healthy", group: []zone.RecordSet{weightedRS("a", 0), weightedRS("b", 0), weightedRS("c", 0)}, up: "UDU", oneOf: []int{0, 2}, healthy: true},
		{name: "weighted fail-open by weight", group: []zone.RecordSet{weightedRS("a", 1), weightedRS("b", 3), weightedRS("c", 0)}, up: "DDD", oneOf: []int{0, 1}, healthy: false},
		{name: "weighted fail-open all zero", group: []zone.RecordSet{weightedRS("a", 0), weightedRS("b", 0)}, up: "DD", oneOf: []int{0, 1}, healthy: false},
		{name: "weighted out-of-range weights clamped", group: []zone.RecordSet{weightedRS("a", -7), weightedRS("b", 1000)}, up: "UU", want: []int{1}, healthy: true},

		// multivalue
		{name: "multivalue all healthy", group: []zone.RecordSet{multiRS("a"), multiRS("b"), multiRS("c")}, up: "UUU", want: []int{0, 1, 2}, healthy: true},
		{name: "multivalue healthy only", group: []zone.RecordSet{multiRS("a"), multiRS("b"), multiRS("c")}, up: "DUU", want: []int{1, 2}, healthy: true},
		{name: "multivalue fail-open", group: []zone.RecordSet{multiRS("a"), multiRS("b"), multiRS("c")}, up: "DDD", want: []int{0, 1, 2}, healthy: false},

		// latency
		{name: "latency first by SetIdentifier", group: []zone.RecordSet{latencyRS("b", "us-east-1"), latencyRS("a", "eu-west-1")}, up: "UU", want: []int{1}, healthy: true},
		{name: "latency next healthy", group: []zone.RecordSet{latencyRS("b", "us-east-1"), latencyRS("a", "eu-west-1"), latencyRS("c", "ap-south-1")}, up: "UDU", want: []int{0}, healthy: true},
		{name: "latency fail-open", group: []zone.RecordSet{latencyRS("b", "us-east-1"), latencyRS("a", "eu-west-1")}, up: "DD", want: []int{1}, healthy: false},

		// geolocation
		{name: "geolocation default", group: []zone.RecordSet{geoRS("de", "", "DE", ""), geoRS("default", "", "*", ""), geoRS("eu", "EU", "", "")}, up: "UUU", want: []int{1}, healthy: true},
		{name: "geolocation default down widest healthy", group: []zone.RecordSet{geoRS("a-ca", "", "US", "CA"), geoRS("default", "", "*", ""), geoRS("b-de", "", "DE", ""), geoRS("z-eu", "EU", "", "")}, up: "UDUU", want: []int{3}, healthy: true},
		{name: "geolocation country before subdivision", group: []zone.RecordSet{geoRS("a-ca", "", "US", "CA"), geoRS("default", "", "*", ""), geoRS("b-de", "", "DE", "")}, up: "UDU", want: []int{2}, healthy: true},
		{name: "geolocation no default", group: []zone.RecordSet{geoRS("us", "", "US", ""), geoRS("de", "", "DE", "")}, up: "UU", want: []int{1}, healthy: true},
		{name: "geolocation fail-open default", group: []zone.RecordSet{geoRS("de", "", "DE", ""), geoRS("default", "", "*", "")}, up: "DD", want: []int{1}, healthy: false},

		// cidr
		{name: "cidr default", group: []zone.RecordSet{cidrRS("a", "office"), cidrRS("b", "*")}, up: "UU", want: []int{1}, healthy: true},
		{name: "cidr default down", group: []zone.RecordSet{cidrRS("b", "office"), cidrRS("c", "*"), cidrRS("a", "dc")}, up: "UDU", want: []int{2}, healthy: true},
		{name: "cidr fail-open default", group: []zone.RecordSet{cidrRS("a", "office"), cidrRS("b", "*")}, up: "DD", want: []int{1}, healthy: false},

		// geoproximity
		{name: "geoproximity first by SetIdentifier", group: []zone.RecordSet{proximityRS("b", "us-east-1"), proximityRS("a", "eu-west-1")}, up: "UU", want: []int{1}, healthy: true},
		{name: "geoproximity next healthy", group: []zone.RecordSet{proximityRS("b", "us-east-1"), proximityRS("a", "eu-west-1")}, up: "UD", want: []int{0}, healthy: true},
		{name: "geoproximity fail-open", group: []zone.RecordSet{proximityRS("b", "us-east-1"), proximityRS("a", "eu-west-1")}, up: "DD", want: []int{1}, healthy: false},

		// invalid groups answer with the first record set
		{name: "mixed policies", group: []zone.RecordSet{weightedRS("a", 1), primary("p")}, up: "DU", want: []int{0}, healthy: true},
		{name: "two simple record sets", group: []zone.RecordSet{simpleRS(""), simpleRS("")}, want: []int{0}, healthy: true},

		// health bits
		{name: "missing health entries are healthy", group: []zone.RecordSet{primary("p"), secondary("s")}, up: "D", want: []int{1}, healthy: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := health(tc.up)
			if tc.up == "" {
				up = nil
			}
			d := Decide(tc.group, up)
			if got := d.Healthy(); got != tc.healthy {
				t.Errorf("Healthy() = %v, want %v", got, tc.healthy)
			}
			cand := d.Candidates(nil)
			if tc.oneOf == nil {
				if !d.Fixed() {
					t.Errorf("Fixed() = false, want true")
				}
				if !slices.Equal(cand, tc.want) && !(len(cand) == 0 && len(tc.want) == 0) {
					t.Errorf("Candidates() = %v, want %v", cand, tc.want)
				}
				for k := range cand {
					if s := d.Share(k); s != 1 {
						t.Errorf("Share(%d) = %v, want 1", k, s)
					}
				}
				for i := range uint64(1000) {
					if got := d.Pick(i*golden, nil); !slices.Equal(got, tc.want) {
						t.Fatalf("Pick(%#x) = %v, want %v", i*golden, got, tc.want)
					}
				}
				return
			}
			if d.Fixed() {
				t.Errorf("Fixed() = true, want false")
			}
			if !slices.Equal(slices.Sorted(slices.Values(cand)), tc.oneOf) {
				t.Errorf("Candidates() = %v, want %v in any order", cand, tc.oneOf)
			}
			sum := 0.0
			for k := range cand {
				sum += d.Share(k)
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Errorf("shares sum to %v, want 1", sum)
			}
			seen := map[int]bool{}
			for i := range uint64(1000) {
				got := d.Pick(i*golden, nil)
				if len(got) != 1 || !slices.Contains(tc.oneOf, got[0]) {
					t.Fatalf("Pick(%#x) = %v, want one of %v", i*golden, got, tc.oneOf)
				}
				seen[got[0]] = true
			}
			if len(seen) != len(tc.oneOf) {
				t.Errorf("picked %v over 1000 draws, want all of %v", seen, tc.oneOf)
			}
		})
	}
}

// TestWeightedDistribution checks shares over a deterministic sequence of rnd: within 1% (of the
// expected share) of weight/sum.
func TestWeightedDistribution(t *testing.T) {
	const draws = 100_000
	for _, tc := range []struct {
		name   string
		group  []zone.RecordSet
		up     string
		shares []float64 // expected share per record set
	}{
		{
			name:   "by weight",
			group:  []zone.RecordSet{weightedRS("a", 10), weightedRS("b", 20), weightedRS("c", 70)},
			up:     "UUU",
			shares: []float64{0.1, 0.2, 0.7},
		},
		{
			name:   "unhealthy and zero excluded",
			group:  []zone.RecordSet{weightedRS("a", 1), weightedRS("b", 255), weightedRS("c", 0), weightedRS("d", 3), weightedRS("e", 44)},
			up:     "UDUUU",
			shares: []float64{1.0 / 48, 0, 0, 3.0 / 48, 44.0 / 48},
		},
		{
			name:   "fail-open by weight",
			group:  []zone.RecordSet{weightedRS("a", 1), weightedRS("b", 3), weightedRS("c", 0)},
			up:     "DDD",
			shares: []float64{0.25, 0.75, 0},
		},
		{
			name:   "standby uniform",
			group:  []zone.RecordSet{weightedRS("a", 9), weightedRS("b", 0), weightedRS("c", 0), weightedRS("d", 0)},
			up:     "DUUU",
			shares: []float64{0, 1.0 / 3, 1.0 / 3, 1.0 / 3},
		},
		{
			name:   "equal weights uniform",
			group:  []zone.RecordSet{weightedRS("a", 7), weightedRS("b", 7), weightedRS("c", 7), weightedRS("d", 7), weightedRS("e", 7)},
			up:     "UUUUU",
			shares: []float64{0.2, 0.2, 0.2, 0.2, 0.2},
		},
		{
			name:   "all zero uniform",
			group:  []zone.RecordSet{weightedRS("a", 0), weightedRS("b", 0), weightedRS("c", 0)},
			up:     "UUU",
			shares: []float64{1.0 / 3, 1.0 / 3, 1.0 / 3},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Decide(tc.group, health(tc.up))
			counts := make([]int, len(tc.group))
			var buf [MaxPick]int
			for i := range uint64(draws) {
				got := d.Pick(i*golden, buf[:0])
				if len(got) != 1 {
					t.Fatalf("Pick = %v, want one index", got)
				}
				counts[got[0]]++
			}
			for i, want := range tc.shares {
				got := float64(counts[i]) / draws
				if math.Abs(got-want) > 0.01*want {
					t.Errorf("record set %d: share %.5f, want %.5f ± 1%%", i, got, want)
				}
			}
			declared := make([]float64, len(tc.group))
			for k, i := range d.Candidates(nil) {
				declared[i] = d.Share(k)
			}
			for i, want := range tc.shares {
				if math.Abs(declared[i]-want) > 1e-9 {
					t.Errorf("record set %d: Share %.5f, want %.5f", i, declared[i], want)
				}
			}
		})
	}
}

func multiGroup(n int) []zone.RecordSet {
	g := make([]zone.RecordSet, n)
	for i := range g {
		g[i] = multiRS(fmt.Sprint(i))
	}
	return g
}

func TestMultivalueSample(t *testing.T) {
	const draws = 100_000
	for _, tc := range []struct {
		name string
		n    int
		up   func(i int) bool
	}{
		{"9 healthy", 9, func(int) bool { return true }},
		{"20 healthy", 20, func(int) bool { return true }},
		{"100 healthy of 200", 200, func(i int) bool { return i%2 == 0 }},
		{"fail-open 12 unhealthy", 12, func(int) bool { return false }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := multiGroup(tc.n)
			up := make([]bool, tc.n)
			var candidates []int
			for i := range up {
				up[i] = tc.up(i)
				if up[i] {
					candidates = append(candidates, i)
				}
			}
			if candidates == nil {
				for i := range tc.n {
					candidates = append(candidates, i)
				}
			}
			d := Decide(group, up)
			if d.Fixed() {
				t.Fatal("Fixed() = true for more than MaxPick candidates")
			}
			counts := make([]int, tc.n)
			subsets := map[[MaxPick]int]bool{}
			var buf [MaxPick]int
			for i := range uint64(draws) {
				got := d.Pick(i*golden, buf[:0])
				if len(got) != MaxPick {
					t.Fatalf("Pick = %v, want %d indices", got, MaxPick)
				}
				if !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != MaxPick {
					t.Fatalf("Pick = %v, want distinct ascending indices", got)
				}
				for _, j := range got {
					if !slices.Contains(candidates, j) {
						t.Fatalf("Pick = %v: %d is not a candidate", got, j)
					}
					counts[j]++
				}
				subsets[[MaxPick]int(got)] = true
			}
			if got := d.Candidates(nil); !slices.Equal(got, candidates) {
				t.Errorf("Candidates() = %v, want %v", got, candidates)
			}
			if got, want := d.Share(0), float64(MaxPick)/float64(len(candidates)); got != want {
				t.Errorf("Share(0) = %v, want %v", got, want)
			}
			want := float64(draws) * MaxPick / float64(len(candidates))
			for _, j := range candidates {
				// 5σ of a binomial count: a deterministic sequence, but keep the bound honest.
				if math.Abs(float64(counts[j])-want) > 5*math.Sqrt(want) {
					t.Errorf("record set %d picked %d times, want about %.0f", j, counts[j], want)
				}
			}
			if min(len(subsets), 1000) < min(binomial(len(candidates), MaxPick), 1000) {
				t.Errorf("%d distinct combinations over %d draws, want min(C(%d,8), 1000) at least", len(subsets), draws, len(candidates))
			}
		})
	}
}

func binomial(n, k int) int {
	r := 1
	for i := range k {
		r = r * (n - i) / (i + 1)
		if r > 1e6 {
			return 1e6
		}
	}
	return r
}

// decisions is one Decision per policy shape, for the allocation test and the benchmarks.
func decisions() []struct {
	name string
	d    Decision
} {
	weights := make([]zone.RecordSet, 100)
	for i := range weights {
		weights[i] = weightedRS(fmt.Sprint(i), int64(i%255+1))
	}
	return []struct {
		name string
		d    Decision
	}{
		{"simple", Decide([]zone.RecordSet{simpleRS("")}, nil)},
		{"failover", Decide([]zone.RecordSet{primary("p"), secondary("s")}, health("DU"))},
		{"weighted/4", Decide([]zone.RecordSet{weightedRS("a", 10), weightedRS("b", 20), weightedRS("c", 30), weightedRS("d", 40)}, nil)},
		{"weighted/100", Decide(weights, nil)},
		{"weighted/uniform", Decide([]zone.RecordSet{weightedRS("a", 0), weightedRS("b", 0), weightedRS("c", 0)}, nil)},
		{"multivalue/4", Decide(multiGroup(4), nil)},
		{"multivalue/20", Decide(multiGroup(20), nil)},
		{"multivalue/200", Decide(multiGroup(200), nil)},
		{"latency", Decide([]zone.RecordSet{latencyRS("b", "us-east-1"), latencyRS("a", "eu-west-1")}, nil)},
		{"geolocation", Decide([]zone.RecordSet{geoRS("de", "", "DE", ""), geoRS("default", "", "*", "")}, nil)},
	}
}

func TestPickAllocs(t *testing.T) {
	for _, tc := range decisions() {
		t.Run(tc.name, func(t *testing.T) {
			var buf [MaxPick]int
			rnd := uint64(1)
			allocs := testing.AllocsPerRun(1000, func() {
				rnd += golden
				_ = tc.d.Pick(rnd, buf[:0])
			})
			if allocs != 0 {
				t.Errorf("Pick allocates %v times per call, want 0", allocs)
			}
		})
	}
}

func TestZeroDecision(t *testing.T) {
	var d Decision
	if got := d.Pick(42, nil); len(got) != 0 {
		t.Errorf("Pick = %v, want nothing", got)
	}
	if d.Healthy() {
		t.Error("Healthy() = true, want false")
	}
	if got := d.Candidates(nil); len(got) != 0 {
		t.Errorf("Candidates = %v, want nothing", got)
	}
	if got := d.Share(0); got != 0 {
		t.Errorf("Share(0) = %v, want 0", got)
	}
}

func BenchmarkPick(b *testing.B) {
	for _, tc := range decisions() {
		b.Run(tc.name, func(b *testing.B) {
			var buf [MaxPick]int
			rnd := uint64(1)
			b.ReportAllocs()
			for b.Loop() {
				rnd += golden
				_ = tc.d.Pick(rnd, buf[:0])
			}
		})
	}
}
