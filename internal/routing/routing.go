// Package routing decides, with Route 53's semantics, which record sets of one (name, type) group
// answer a query, given each record set's health.
package routing

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// MaxPick is the most indices Pick appends: a multivalue answer holds at most 8 record sets and
// every other policy answers with exactly one. A caller can keep its buffer on the stack:
//
//	var buf [routing.MaxPick]int
//	picked := d.Pick(rnd, buf[:0])
const MaxPick = 8

// Routing policy names returned by Policy.
const (
	simple       = "simple"
	failover     = "failover"
	weighted     = "weighted"
	multivalue   = "multivalue"
	latency      = "latency"
	geolocation  = "geolocation"
	cidr         = "cidr"
	geoproximity = "geoproximity"
)

// Policy names the routing policy of a record set, as Decide sees it: "simple", "failover",
// "weighted", "multivalue", "latency", "geolocation", "cidr" or "geoproximity". The policy
// follows from which Route 53 field is set (Failover, Weight, MultiValueAnswer=true, Region,
// GeoLocation, CidrRoutingConfig, GeoProximityLocation, checked in that order); a record set
// with none of them is simple. Route 53, and so zone validation, allows at most one of them.
func Policy(rs zone.RecordSet) string {
	switch {
	case rs.Failover != "":
		return failover
	case rs.Weight != nil:
		return weighted
	case rs.MultiValueAnswer != nil && *rs.MultiValueAnswer:
		return multivalue
	case rs.Region != "":
		return latency
	case rs.GeoLocation != nil:
		return geolocation
	case rs.CidrRoutingConfig != nil:
		return cidr
	case rs.GeoProximityLocation != nil:
		return geoproximity
	}
	return simple
}

// kind is how Pick turns a Decision's candidates into an answer.
type kind uint8

const (
	pickAll      kind = iota // every candidate (one for most policies, up to MaxPick for multivalue)
	pickUniform              // one candidate, each equally likely
	pickWeighted             // one candidate, with probability weight/total
	pickSample               // MaxPick distinct candidates, every subset equally likely
)

// Decision is what the query path needs to answer for one (name, type) group under one set of
// health states. Decide builds it when the snapshot is built; it is immutable afterwards, so any
// number of goroutines may call its methods at once. The zero Decision is an empty group: Pick
// appends nothing and Healthy reports false.
type Decision struct {
	kind    kind
	healthy bool
	idx     []int    // candidate indices into the group, in the order Pick uses them
	cum     []uint64 // pickWeighted only: cum[i] is the sum of the weights of idx[0..i]
}

// Decide chooses, for one group (all record sets sharing a name and type, in any order) and
// their health states, the record sets that may answer, and returns the Decision the query path
// draws from. healthy[i] is group[i]'s health as the caller computed it: its health check's
// state, and for an alias with EvaluateTargetHealth also its target's health (the target group's
// Decision.Healthy). A record set without a health check is healthy; so is one whose entry is
// missing because healthy is shorter than group. Decide copies what it needs and keeps no
// reference to group or healthy.
//
// The rules are Route 53's (research/route53.md section 1):
//
//   - Fail-open: when every record set of the group is unhealthy, all are treated as healthy
//     and the policy picks as usual ("if no record is healthy, all records are healthy").
//   - simple: the one record set, always. Route 53 ignores health when choosing a simple
//     record, so a HealthCheckId on it never removes it from answers; its health still feeds
//     Healthy, and so the health of aliases that evaluate it as their target.
//   - failover: the PRIMARY when healthy; else the SECONDARY when healthy; else the PRIMARY
//     (fail-open). A SECONDARY without a health check is healthy (the caller says so), so it
//     answers whenever the primary is unhealthy. With only one side present, that side always
//     answers. With several records on a side (Route 53 allows one per side, UNCONFIRMED) the
//     first healthy one in group order stands for that side.
//   - weighted: one record set among the healthy ones with a non-zero weight, with probability
//     weight/sum. Zero-weight record sets are standby: used only when every non-zero one is
//     unhealthy, then uniformly among the healthy zero-weight ones. If every weight is zero,
//     uniformly among the healthy ones. When all are unhealthy, fail-open picks by weight among
//     all of them, so zero-weight record sets still stay out unless every weight is zero (Route
//     53 is UNCONFIRMED here; this is "treat all as healthy" applied literally). Weights outside
//     0..255, which zone validation rejects, are clamped into it.
//   - multivalue: every healthy record set when there are at most MaxPick of them, otherwise a
//     random MaxPick of them, a different combination for different rnd. When all are
//     unhealthy, the same over the unhealthy ones (fail-open: up to 8 unhealthy record sets).
//   - latency, geolocation, cidr, geoproximity: these need the client's location (EDNS Client
//     Subnet or the resolver's address, plus GeoIP, latency or CIDR-collection data), which is
//     future work; Pick will then take the client as an argument. Until then Decide answers
//     every client alike with one record set chosen deterministically: the first healthy one in
//     a fixed order, or the first in that order when none is healthy (fail-open). The order is
//     by SetIdentifier for latency and geoproximity; default record first (CountryCode "*") and
//     then widest area first (continent, country, subdivision), then SetIdentifier, for
//     geolocation; default location first (LocationName "*"), then SetIdentifier, for cidr. A
//     geolocation or cidr group without a default still answers (Route 53 would send NODATA to
//     a client that no record covers; with no location every client would be such a client).
//
// A group that mixes policies, or holds more than one simple record set, is invalid (zone
// validation forbids it); Decide answers such a group with its first record set rather than
// failing.
func Decide(group []zone.RecordSet, healthy []bool) Decision {
	if len(group) == 0 {
		return Decision{}
	}
	up := func(i int) bool { return i >= len(healthy) || healthy[i] }
	d := Decision{kind: pickAll}
	for i := range group {
		if up(i) {
			d.healthy = true
			break
		}
	}

	p := Policy(group[0])
	for _, rs := range group[1:] {
		if Policy(rs) != p {
			p = ""
			break
		}
	}
	switch p {
	case failover:
		d.idx = decideFailover(group, up)
	case weighted:
		d.decideWeighted(group, up)
	case multivalue:
		d.decideMultivalue(group, up)
	case latency, geoproximity:
		d.idx = firstUp(group, up, func(a, b zone.RecordSet) int { return 0 })
	case geolocation:
		d.idx = firstUp(group, up, func(a, b zone.RecordSet) int {
			return cmp.Compare(geoRank(a.GeoLocation), geoRank(b.GeoLocation))
		})
	case cidr:
		d.idx = firstUp(group, up, func(a, b zone.RecordSet) int {
			return cmp.Compare(cidrRank(a.CidrRoutingConfig), cidrRank(b.CidrRoutingConfig))
		})
	default: // a simple record set, or an invalid group: the first record set
		d.idx = []int{0}
	}
	return d
}

// Pick appends to buf the indices into the group of the record sets to answer with and returns
// the extended slice. It appends at least one index for a non-empty group, at most MaxPick, never
// the same index twice. It allocates nothing when buf has room for MaxPick more indices.
//
// rnd drives the weighted and multivalue choices and must be uniformly random over all 64 bits
// (math/rand/v2.Uint64 is fine; a counter is not: the choice uses rnd's high bits). Equal rnd
// gives equal picks. Several indices (multivalue) come in ascending order; the order of the
// records in the answer is the caller's to set.
func (d *Decision) Pick(rnd uint64, buf []int) []int {
	switch d.kind {
	case pickUniform:
		return append(buf, d.idx[below(rnd, uint64(len(d.idx)))])
	case pickWeighted:
		r := below(rnd, d.cum[len(d.cum)-1])
		lo, hi := 0, len(d.cum)-1
		for lo < hi { // first i with cum[i] > r
			mid := int(uint(lo+hi) >> 1)
			if d.cum[mid] > r {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return append(buf, d.idx[lo])
	case pickSample:
		return d.sample(rnd, buf)
	}
	return append(buf, d.idx...)
}

// Healthy reports whether at least one record set of the group is healthy. False means the
// answer comes from fail-open. An alias with EvaluateTargetHealth that points at this group is
// healthy exactly when Healthy is true, which is how failover trees nest (a PRIMARY alias to a
// weighted group, and so on).
func (d *Decision) Healthy() bool { return d.healthy }

// Fixed reports whether Pick returns the same indices for every rnd (simple, failover, latency,
// geolocation, cidr and geoproximity groups, a weighted group with one candidate and a
// multivalue group with at most MaxPick candidates), so the caller may build that reply once.
func (d *Decision) Fixed() bool { return d.kind == pickAll }

// Candidates appends to buf the indices into the group of the record sets Pick draws from and
// returns the extended slice, always in the same order for the same group and health states. When
// Fixed, they are exactly what Pick returns; otherwise the pool that one weighted or uniform pick,
// or one multivalue sample of MaxPick, draws from. The zero Decision has none.
func (d *Decision) Candidates(buf []int) []int { return append(buf, d.idx...) }

// Share returns the probability that Pick's answer includes the k-th record set of Candidates:
// 1 when Fixed, weight/sum for a weighted pick, 1/n for a uniform pick among n and MaxPick/n for
// a multivalue sample of n. It returns 0 for k out of range.
func (d *Decision) Share(k int) float64 {
	if k < 0 || k >= len(d.idx) {
		return 0
	}
	n := float64(len(d.idx))
	switch d.kind {
	case pickUniform:
		return 1 / n
	case pickWeighted:
		w := d.cum[k]
		if k > 0 {
			w -= d.cum[k-1]
		}
		return float64(w) / float64(d.cum[len(d.cum)-1])
	case pickSample:
		return MaxPick / n
	}
	return 1
}

// sample appends MaxPick distinct candidates, every MaxPick-subset equally likely (Floyd's
// algorithm, which needs no scratch space), sorted by index.
func (d *Decision) sample(rnd uint64, buf []int) []int {
	start := len(buf)
	n := len(d.idx)
	x := rnd
	for j := n - MaxPick; j < n; j++ {
		x += 0x9e3779b97f4a7c15 // splitmix64: a fresh 64-bit value per draw from the one rnd
		v := d.idx[below(mix(x), uint64(j+1))]
		if slices.Contains(buf[start:], v) {
			v = d.idx[j]
		}
		buf = append(buf, v)
		for k := len(buf) - 1; k > start && buf[k-1] > buf[k]; k-- { // keep buf[start:] sorted
			buf[k-1], buf[k] = buf[k], buf[k-1]
		}
	}
	return buf
}

// below maps x, uniform over 64 bits, to [0, n) by its high bits (Lemire's multiply-shift).
func below(x, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}

// mix is splitmix64's output function.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// decideFailover returns the one failover record set that answers.
func decideFailover(group []zone.RecordSet, up func(int) bool) []int {
	primary, secondary := -1, -1     // first of each side
	upPrimary, upSecondary := -1, -1 // first healthy of each side
	for i, rs := range group {
		first, firstUp := &primary, &upPrimary
		switch {
		case strings.EqualFold(rs.Failover, "PRIMARY"):
		case strings.EqualFold(rs.Failover, "SECONDARY"):
			first, firstUp = &secondary, &upSecondary
		default: // neither side: an invalid group
			return []int{0}
		}
		if *first < 0 {
			*first = i
		}
		if *firstUp < 0 && up(i) {
			*firstUp = i
		}
	}
	for _, i := range []int{upPrimary, upSecondary, primary, secondary} {
		if i >= 0 {
			return []int{i}
		}
	}
	return []int{0} // unreachable: the group is not empty
}

// decideWeighted fills d for a weighted group.
func (d *Decision) decideWeighted(group []zone.RecordSet, up func(int) bool) {
	weight := func(i int) uint64 { return uint64(min(max(*group[i].Weight, 0), 255)) }
	var active, standby []int // healthy with a non-zero weight; healthy with weight zero
	for i := range group {
		switch {
		case !up(i):
		case weight(i) > 0:
			active = append(active, i)
		default:
			standby = append(standby, i)
		}
	}
	switch {
	case len(active) > 0:
		d.byWeight(active, weight)
	case len(standby) > 0:
		d.uniform(standby)
	default: // every record set is unhealthy: fail open, all of them by weight
		all := make([]int, len(group))
		for i := range all {
			all[i] = i
		}
		nonzero := slices.DeleteFunc(slices.Clone(all), func(i int) bool { return weight(i) == 0 })
		if len(nonzero) > 0 {
			d.byWeight(nonzero, weight)
		} else {
			d.uniform(all)
		}
	}
}

// byWeight makes d pick one of idx (all with non-zero weights) with probability weight/sum.
func (d *Decision) byWeight(idx []int, weight func(int) uint64) {
	if !slices.ContainsFunc(idx, func(i int) bool { return weight(i) != weight(idx[0]) }) {
		d.uniform(idx)
		return
	}
	d.kind, d.idx, d.cum = pickWeighted, idx, make([]uint64, len(idx))
	var sum uint64
	for k, i := range idx {
		sum += weight(i)
		d.cum[k] = sum
	}
}

// uniform makes d pick one of idx, each equally likely.
func (d *Decision) uniform(idx []int) {
	d.kind, d.idx = pickUniform, idx
	if len(idx) == 1 {
		d.kind = pickAll
	}
}

// decideMultivalue fills d for a multivalue group.
func (d *Decision) decideMultivalue(group []zone.RecordSet, up func(int) bool) {
	var idx []int
	for i := range group {
		if up(i) || !d.healthy { // all when none is healthy: fail open
			idx = append(idx, i)
		}
	}
	d.idx = idx
	if len(idx) > MaxPick {
		d.kind = pickSample
	}
}

// firstUp orders the group by rank, then SetIdentifier, then position, and returns the first
// healthy record set, or the first of all when none is healthy.
func firstUp(group []zone.RecordSet, up func(int) bool, rank func(a, b zone.RecordSet) int) []int {
	order := make([]int, len(group))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(rank(group[i], group[j]),
			strings.Compare(group[i].SetIdentifier, group[j].SetIdentifier),
			cmp.Compare(i, j))
	})
	for _, i := range order {
		if up(i) {
			return []int{i}
		}
	}
	return []int{order[0]}
}

// geoRank orders geolocation record sets: the default first, then continents, countries and
// subdivisions, so that without a client location the widest healthy area answers.
func geoRank(g *zone.GeoLocation) int {
	switch {
	case g == nil:
		return 4
	case g.CountryCode == "*":
		return 0
	case g.SubdivisionCode != "":
		return 3
	case g.CountryCode != "":
		return 2
	}
	return 1
}

// cidrRank puts the default location ("*") first.
func cidrRank(c *zone.CidrRoutingConfig) int {
	if c != nil && c.LocationName == "*" {
		return 0
	}
	return 1
}
