package answer

import (
	"math/bits"
	"slices"
	"strings"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// maxPick is the most record sets one routed answer draws from: a multivalue answer holds at most
// 8, every other policy answers with one. It equals routing.MaxPick.
const maxPick = 8

// This file is the routing seam. Build groups the record sets of every (name, type), asks a
// decideFunc once per group what may answer given the records' health, and keeps the returned
// decision in the snapshot; the query path then only calls Pick with a random number. The
// decision is computed once per snapshot, so a change of health means a new snapshot, exactly as
// a change of records does.
//
// *routing.Decision (internal/routing) satisfies decision, and routing.Decide has the shape of
// decideFunc, so plugging Route 53's full semantics (health fallbacks, fail-open, standby
// weights) in is a one-line change of Options.decide in Build.

// decision picks, for one query, which record sets of a group answer.
type decision interface {
	// Pick appends to buf the indices into the group of the record sets that answer and returns
	// the extended slice: none (NODATA) up to maxPick. rnd is uniformly random over 64 bits.
	Pick(rnd uint64, buf []int) []int
	// Fixed reports whether Pick returns the same indices for every rnd, so the answer can be
	// assembled once when the snapshot is built.
	Fixed() bool
}

// decideFunc builds the decision for one routed group. group holds the record sets of one name
// and type, sorted by SetIdentifier; healthy[i] is group[i]'s health.
type decideFunc func(group []zone.RecordSet, healthy []bool) decision

// healthFunc reports whether the health check with the given ID passes. Record sets without a
// health check are healthy and are not asked about.
type healthFunc func(checkID string) bool

// allHealthy is the health of every record until health checks exist.
func allHealthy(string) bool { return true }

// pickKind is how a defaultDecision picks.
type pickKind uint8

const (
	pickFixed    pickKind = iota // always idx (zero, one, or up to maxPick indices)
	pickWeighted                 // one of idx with probability weight/total (cum holds the sums)
	pickUniform                  // one of idx, each equally likely
	pickSample                   // maxPick distinct indices of idx, each subset equally likely
)

// defaultDecision is the policy decision used until health checks arrive: every record is
// healthy, and the policies that need the client's location answer every client alike.
type defaultDecision struct {
	kind pickKind
	idx  []int
	cum  []uint64
}

// defaultDecide implements the interim policy rules:
//
//   - failover: the PRIMARY (the SECONDARY when the PRIMARY is unhealthy and it is not, or
//     when there is no PRIMARY);
//   - weighted: one record set with probability weight/sum among the healthy non-zero weights;
//     when every weight is zero, uniformly;
//   - multivalue: every healthy record set, or a random 8 when there are more;
//   - geolocation: the default record set (CountryCode "*") if there is one, else none (NODATA);
//   - latency, IP-based (CIDR) and geoproximity: the first by SetIdentifier.
func defaultDecide(group []zone.RecordSet, healthy []bool) decision {
	up := func(i int) bool { return i >= len(healthy) || healthy[i] }
	d := &defaultDecision{kind: pickFixed}
	if len(group) == 0 {
		return d
	}
	switch policyOf(group[0]) {
	case policyFailover:
		primary, secondary := -1, -1
		for i, rs := range group {
			switch {
			case strings.EqualFold(rs.Failover, "PRIMARY") && primary < 0:
				primary = i
			case strings.EqualFold(rs.Failover, "SECONDARY") && secondary < 0:
				secondary = i
			}
		}
		switch {
		case primary >= 0 && (up(primary) || secondary < 0 || !up(secondary)):
			d.idx = []int{primary}
		case secondary >= 0:
			d.idx = []int{secondary}
		default:
			d.idx = []int{0}
		}
	case policyWeighted:
		var nonzero, all []int
		for i, rs := range group {
			if !up(i) {
				continue
			}
			all = append(all, i)
			if weightOf(rs) > 0 {
				nonzero = append(nonzero, i)
			}
		}
		if len(all) == 0 { // none healthy: every record set, as if healthy
			for i, rs := range group {
				all = append(all, i)
				if weightOf(rs) > 0 {
					nonzero = append(nonzero, i)
				}
			}
		}
		switch {
		case len(nonzero) == 1:
			d.idx = nonzero
		case len(nonzero) > 1:
			d.kind, d.idx, d.cum = pickWeighted, nonzero, make([]uint64, len(nonzero))
			var sum uint64
			for k, i := range nonzero {
				sum += weightOf(group[i])
				d.cum[k] = sum
			}
		case len(all) == 1:
			d.idx = all
		default:
			d.kind, d.idx = pickUniform, all
		}
	case policyMultiValue:
		for i := range group {
			if up(i) {
				d.idx = append(d.idx, i)
			}
		}
		if len(d.idx) == 0 {
			for i := range group {
				d.idx = append(d.idx, i)
			}
		}
		if len(d.idx) > maxPick {
			d.kind = pickSample
		}
	case policyGeo:
		for i, rs := range group {
			if rs.GeoLocation != nil && rs.GeoLocation.CountryCode == "*" {
				d.idx = []int{i}
				break
			}
		}
	default: // latency, CIDR, geoproximity (group is sorted by SetIdentifier), or a simple set
		d.idx = []int{0}
		for i := range group {
			if up(i) {
				d.idx = []int{i}
				break
			}
		}
	}
	return d
}

// Pick implements decision.
func (d *defaultDecision) Pick(rnd uint64, buf []int) []int {
	switch d.kind {
	case pickUniform:
		return append(buf, d.idx[below(rnd, uint64(len(d.idx)))])
	case pickWeighted:
		r := below(rnd, d.cum[len(d.cum)-1])
		k, _ := slices.BinarySearch(d.cum, r+1) // first k with cum[k] > r
		return append(buf, d.idx[k])
	case pickSample:
		// Reservoir sampling (algorithm R) with a splitmix64 stream seeded by rnd.
		start := len(buf)
		buf = append(buf, d.idx[:maxPick]...)
		x := rnd
		for j := maxPick; j < len(d.idx); j++ {
			x += 0x9e3779b97f4a7c15
			if k := below(mix(x), uint64(j+1)); k < maxPick {
				buf[start+int(k)] = d.idx[j]
			}
		}
		slices.Sort(buf[start:])
		return buf
	}
	return append(buf, d.idx...)
}

// Fixed implements decision.
func (d *defaultDecision) Fixed() bool { return d.kind == pickFixed }

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

// policy is the routing policy of a record set, from which Route 53 field is set.
type policy uint8

const (
	policySimple policy = iota
	policyFailover
	policyWeighted
	policyMultiValue
	policyLatency
	policyGeo
	policyCIDR
	policyGeoProximity
)

var policyNames = [...]string{"simple", "failover", "weighted", "multivalue", "latency", "geolocation", "IP-based", "geoproximity"}

func (p policy) String() string { return policyNames[p] }

// policyOf reads a record set's routing policy (fields checked in the order routing.Policy uses).
func policyOf(rs zone.RecordSet) policy {
	switch {
	case rs.Failover != "":
		return policyFailover
	case rs.Weight != nil:
		return policyWeighted
	case rs.MultiValueAnswer != nil && *rs.MultiValueAnswer:
		return policyMultiValue
	case rs.Region != "":
		return policyLatency
	case rs.GeoLocation != nil:
		return policyGeo
	case rs.CidrRoutingConfig != nil:
		return policyCIDR
	case rs.GeoProximityLocation != nil:
		return policyGeoProximity
	}
	return policySimple
}

// weightOf is a weighted record set's weight, clamped to Route 53's 0..255.
func weightOf(rs zone.RecordSet) uint64 {
	if rs.Weight == nil {
		return 0
	}
	return uint64(min(max(*rs.Weight, 0), 255))
}
