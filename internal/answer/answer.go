// Package answer compiles hosted zones into an immutable snapshot and answers DNS questions from
// it, the way NSD and Knot answer from their zones, without locks.
package answer

import (
	"math/rand/v2"
	"net"
	"slices"
	"sync/atomic"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/routing"
)

// Limits of answer chains.
const (
	// maxCNAMEs is the most CNAME records one answer holds; the last one is not followed.
	// Knot's limit; NSD follows any number.
	maxCNAMEs = 5
	// maxAliasDepth is the most alias records one record set resolves through per query. Chains
	// whose answer cannot vary are resolved once by Build, whatever their length.
	maxAliasDepth = 8
)

// Snapshot is every hosted zone, compiled for lookups. It never changes after Build, so any
// number of goroutines may use it at once; a new zone version or health state means a new
// snapshot.
type Snapshot struct {
	id    uint64               // see ID
	zones map[string]*zoneData // by apex
	// wire is the uncompressed RDATA of every record the snapshot holds other than A and AAAA
	// records (whose RDATA is their address).
	wire layered[dns.RR, []byte]
	// dynGroups are the groups whose answer depends on health, an alias's target before the
	// alias; dyn[i] is what dynGroups[i] answers under this snapshot's health states.
	dynGroups []*group
	dyn       []dynState
	routes    []*group // routed groups and aliases evaluating target health, for Routes
	// aliasTargets are the names and types aliases point at, hosted or not: Patch leaves them
	// to a full build.
	aliasTargets map[groupKey]bool
}

// nextID is the ID of the last snapshot made.
var nextID atomic.Uint64

// ID tells snapshots apart: no two snapshots made by a process have the same. A cache of
// answers can key on it without keeping the snapshot, and its memory, alive.
func (s *Snapshot) ID() uint64 { return s.id }

// Result is the answer to one question. Its slices are shared with the snapshot and with other
// results: callers must not modify them or the records in them.
type Result struct {
	Rcode int
	// Authoritative is the AA bit: set on every answer from a zone except referrals and REFUSED.
	Authoritative bool
	// Answer, Ns and Extra are the answer, authority and additional sections.
	Answer, Ns, Extra []dns.RR
	// Varies is set when a record set drew its answer at random (a weighted pick, a multivalue
	// sample): the same question may be answered differently next time, from the same snapshot.
	// Otherwise the Result is the same for every Lookup of the question in this snapshot.
	Varies bool
	// Variant, when Varies, tells the possible answers apart: every Lookup of the question in
	// this snapshot with the same Variant has the same Result. It is 0 when the answer came from
	// more than one draw or from a sample of several record sets, which are not told apart.
	Variant int
}

// lookup is one question's walk through a snapshot.
type lookup struct {
	*Snapshot
	draws   int // record sets that drew their answer at random
	variant int // 1 + the index of the one record set the last draw picked; 0 for a sample
}

// Rdata returns the uncompressed wire form of the RDATA of rr when rr is an A or AAAA record
// (its address) or a record the snapshot holds (including alias records whose answer Build
// resolved once). It reports false for other records synthesized for one Result (wildcard
// answers, and alias records resolved per query because their target's answer varies); those
// belong to that Result alone, so a caller may pack them with miekg/dns, which writes their
// Rdlength field. Records the snapshot holds must never be packed that way: they are shared
// between goroutines.
func (s *Snapshot) Rdata(rr dns.RR) ([]byte, bool) {
	switch r := rr.(type) {
	case *dns.A:
		if ip := r.A.To4(); ip != nil {
			return ip, true
		}
	case *dns.AAAA:
		if len(r.AAAA) == net.IPv6len {
			return r.AAAA, true
		}
	}
	return s.wire.get(rr)
}

// Zones returns the number of zones the snapshot serves.
func (s *Snapshot) Zones() int { return len(s.zones) }

// kind is the outcome of looking one name up in one zone.
type kind uint8

const (
	kindAnswer   kind = iota // rrs answer the question (a CNAME to follow when next is set)
	kindNoData               // the name exists, the type does not
	kindNXDomain             // the name does not exist
	kindReferral             // the name is at or below a delegation: cut is its NS node
)

// step is the outcome of looking one name up in one zone.
type step struct {
	kind   kind
	z      *zoneData
	rrs    []dns.RR
	rrtype uint16 // the type of rrs
	next   string // the lower-cased target of a CNAME answer, to follow
	cut    *node
}

// Lookup answers the question qname, qtype in class IN. qname must be lower-case and fully
// qualified. It allocates nothing for an answer that comes straight from a record set.
func (s *Snapshot) Lookup(qname string, qtype uint16) Result {
	lk := lookup{Snapshot: s}
	res := lk.lookup(qname, qtype)
	res.Varies = lk.draws > 0
	if lk.draws == 1 {
		res.Variant = lk.variant
	}
	return res
}

func (s *lookup) lookup(qname string, qtype uint16) Result {
	var l labels
	if !l.split(qname) {
		return Result{Rcode: dns.RcodeRefused}
	}
	z, zi := s.zoneForQuery(qname, &l, qtype)
	if z == nil {
		return Result{Rcode: dns.RcodeRefused}
	}
	st := s.resolve(z, qname, &l, zi, qtype)
	res := Result{Authoritative: true}
	switch st.kind {
	case kindReferral:
		res.Authoritative = false
		res.Ns, res.Extra = s.referral(st)
		return res
	case kindNXDomain:
		res.Rcode, res.Ns = dns.RcodeNameError, z.negSOA
		return res
	case kindNoData:
		res.Ns = z.negSOA
		return res
	}
	res.Answer = st.rrs
	if st.next != "" {
		st = s.chase(&res, qname, st, qtype, &l)
	}
	if st.kind == kindAnswer && st.next == "" {
		res.Extra = s.additional(st.z, st.rrs, st.rrtype)
		if g := st.z.top.get(dns.TypeNS); g != nil && st.z.apex != z.apex {
			// The chase ended in another zone: like NSD, name that zone's servers too.
			ns := s.records(g, 0)
			res.Ns = ns
			res.Extra = appendNew(res.Extra, s.additional(st.z, ns, dns.TypeNS))
		}
	}
	return res
}

// appendNew returns a followed by the records of b that are not in a.
func appendNew(a, b []dns.RR) []dns.RR {
	for _, rr := range b {
		if !slices.Contains(a, rr) {
			a = concat(a, []dns.RR{rr})
		}
	}
	return a
}

// zoneForQuery finds the zone that answers qname, qtype: the longest zone name that holds qname,
// except that DS at a zone's apex is answered by the parent zone when we host that too.
func (s *Snapshot) zoneForQuery(name string, l *labels, qtype uint16) (*zoneData, int) {
	z, zi := s.zoneFor(name, l)
	if z != nil && zi == 0 && qtype == dns.TypeDS && z.parent != "" {
		if p := s.zones[z.parent]; p != nil {
			z = p
			zi = l.n - z.labels
		}
	}
	return z, zi
}

// zoneFor finds the zone with the longest name that holds name, and the index of the label of
// name where the zone's apex starts.
func (s *Snapshot) zoneFor(name string, l *labels) (*zoneData, int) {
	for i := 0; i < l.n; i++ {
		if z := s.zones[l.suffix(name, i)]; z != nil {
			return z, i
		}
	}
	if z := s.zones["."]; z != nil {
		return z, l.n
	}
	return nil, 0
}

// chase follows the CNAME answer st through the zones we host, appending to res. It stops at a
// name outside our zones, at a name it has already answered for (a loop), and after maxCNAMEs
// CNAME records. It returns the last step.
func (s *lookup) chase(res *Result, qname string, st step, qtype uint16, l *labels) step {
	var seen [maxCNAMEs]string
	seen[0] = qname
	owned := false // res.Answer is ours to append to, not the snapshot's
	for n := 1; st.next != "" && n < maxCNAMEs; n++ {
		target := st.next
		for _, o := range seen[:n] {
			if o == target {
				return st
			}
		}
		seen[n] = target
		if !l.split(target) {
			return st
		}
		z, zi := s.zoneForQuery(target, l, qtype)
		if z == nil {
			return st
		}
		st = s.resolve(z, target, l, zi, qtype)
		switch st.kind {
		case kindAnswer:
			if !owned {
				res.Answer = append(make([]dns.RR, 0, len(res.Answer)+len(st.rrs)+2), res.Answer...)
				owned = true
			}
			res.Answer = append(res.Answer, st.rrs...)
		case kindNXDomain:
			res.Rcode, res.Ns = dns.RcodeNameError, z.negSOA
		case kindNoData:
			res.Ns = z.negSOA
		case kindReferral:
			res.Ns, res.Extra = s.referral(st)
		}
	}
	return st
}

// resolve looks name up in zone z, whose apex starts at label zi of name: walking down from the
// apex it stops at the first delegation (except for DS at the cut itself), and where the name
// ends it answers from the node, or from the closest encloser's wildcard when the name does not
// exist (RFC 4592).
func (s *lookup) resolve(z *zoneData, name string, l *labels, zi int, qtype uint16) step {
	ce := z.top
	for i := zi - 1; i >= 0; i-- {
		n, _ := z.nodes.get(l.suffix(name, i))
		if n == nil {
			if ce.wild != nil {
				return s.fromNode(z, ce.wild, name, qtype, true)
			}
			return step{kind: kindNXDomain, z: z}
		}
		if n.cut && (i > 0 || qtype != dns.TypeDS) {
			return step{kind: kindReferral, z: z, cut: n}
		}
		ce = n
	}
	return s.fromNode(z, ce, name, qtype, false)
}

// fromNode answers qtype from node n for owner (the query name, which differs from n's name when
// n is a wildcard and synth is set).
func (s *lookup) fromNode(z *zoneData, n *node, owner string, qtype uint16, synth bool) step {
	// answer gives rrs to owner when they are not already its own: an alias's records or a
	// wildcard's.
	answer := func(g *group, rrs []dns.RR, owned bool) step {
		if synth || !owned {
			rrs = withOwners(rrs, owner)
		}
		return step{kind: kindAnswer, z: z, rrs: rrs, rrtype: g.rrtype}
	}
	if qtype == dns.TypeANY {
		// RFC 8482: one RRset, the one of the lowest type, as Knot answers (NSD answers the SOA
		// at the apex, and otherwise the lowest type too).
		for _, g := range n.sets {
			if rrs, owned := s.pick(g, 0); len(rrs) > 0 {
				return answer(g, rrs, owned)
			}
		}
		return step{kind: kindNoData, z: z}
	}
	if g := n.get(qtype); g != nil {
		if rrs, owned := s.pick(g, 0); len(rrs) > 0 {
			return answer(g, rrs, owned)
		}
		return step{kind: kindNoData, z: z}
	}
	if n.cname != nil && qtype != dns.TypeRRSIG && qtype != dns.TypeNSEC && qtype != dns.TypeNSEC3 {
		if rrs, owned := s.pick(n.cname, 0); len(rrs) > 0 {
			st := answer(n.cname, rrs, owned)
			if c, ok := rrs[0].(*dns.CNAME); ok {
				st.next = lower(c.Target)
			}
			return st
		}
	}
	return step{kind: kindNoData, z: z}
}

// records returns the records a group answers with for one query, owned by the group's name.
func (s *lookup) records(g *group, depth int) []dns.RR {
	rrs, owned := s.pick(g, depth)
	if !owned {
		return withOwners(rrs, g.name)
	}
	return rrs
}

// pick returns the records a group answers with for one query, and whether they are owned by the
// group's name. Records an alias reaches through its target are not (yet), so that a chain of
// aliases copies its answer once, for the name at its head.
func (s *lookup) pick(g *group, depth int) (rrs []dns.RR, owned bool) {
	if g.plain() {
		return g.rrs, true
	}
	st := &s.dyn[g.dyn]
	if st.hasStatic {
		return st.static, true
	}
	if !g.d.routed {
		return s.memberRecords(g, 0, depth)
	}
	var buf [routing.MaxPick]int
	idx := st.dec.Pick(rand.Uint64(), buf[:0])
	if !st.dec.Fixed() {
		s.draws++
		s.variant = 0
		if len(idx) == 1 {
			s.variant = idx[0] + 1
		}
	}
	switch len(idx) {
	case 0:
		return nil, true
	case 1:
		return s.memberRecords(g, idx[0], depth)
	}
	n := 0
	for _, i := range idx {
		n += len(g.d.members[i].rrs)
	}
	out := make([]dns.RR, 0, n)
	owned = true
	for _, i := range idx {
		rrs, o := s.memberRecords(g, i, depth)
		out = append(out, rrs...)
		owned = owned && o
	}
	return out, owned
}

// memberRecords returns the records of one record set of g, its own or its alias target's, and
// whether they are owned by g's name.
func (s *lookup) memberRecords(g *group, i int, depth int) ([]dns.RR, bool) {
	m := &g.d.members[i]
	if m.alias == "" {
		return m.rrs, true
	}
	if m.target == nil || depth >= maxAliasDepth {
		return nil, true
	}
	rrs, _ := s.pick(m.target, depth+1)
	return rrs, len(rrs) == 0
}

// referral returns the authority (the delegation's NS records) and additional (glue) sections of
// a referral.
func (s *lookup) referral(st step) (ns, extra []dns.RR) {
	if r := st.cut.ref; r != nil {
		return r.ns, r.glue
	}
	ns = s.records(st.cut.get(dns.TypeNS), 0)
	extra, _ = s.glue(st.z, ns)
	return ns, extra
}

// glue returns the A and AAAA records of zone z for the targets of ns, in NS order, A before
// AAAA, each target once, and whether they are the same for every query.
func (s *lookup) glue(z *zoneData, ns []dns.RR) (extra []dns.RR, static bool) {
	static = true
	for i, rr := range ns {
		t := targetOf(rr)
		if t == "" || seenTarget(ns[:i], t) || !inZone(z.apex, t) {
			continue
		}
		n, _ := z.nodes.get(t)
		if n == nil {
			continue
		}
		for _, typ := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
			if ag := n.get(typ); ag != nil {
				static = static && ag.plain()
				extra = concat(extra, s.records(ag, 0))
			}
		}
	}
	return slices.Clip(extra), static
}

// additional returns the A and AAAA records of the targets of MX, SRV, NS, SVCB and HTTPS records
// that zone z holds, in record order, A before AAAA, as Knot does: data below a delegation counts, a target
// named twice is answered twice, CNAMEs are not followed, names in other zones are skipped.
// (NSD orders all A records before all AAAA records, names each target once, and ignores data
// below a delegation.)
func (s *lookup) additional(z *zoneData, rrs []dns.RR, rrtype uint16) []dns.RR {
	switch rrtype {
	case dns.TypeMX, dns.TypeSRV, dns.TypeNS, dns.TypeSVCB, dns.TypeHTTPS:
	default:
		return nil
	}
	var (
		extra []dns.RR
		l     labels
	)
	for _, rr := range rrs {
		t := targetOf(rr)
		if t == "" || !inZone(z.apex, t) {
			continue
		}
		if n, _ := z.nodes.get(t); n != nil {
			for _, typ := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
				if g := n.get(typ); g != nil {
					extra = concat(extra, s.records(g, 0))
				}
			}
			continue
		}
		if !l.split(t) {
			continue
		}
		zi := l.n - z.labels
		for _, typ := range [...]uint16{dns.TypeA, dns.TypeAAAA} { // a wildcard may cover it
			if st := s.resolve(z, t, &l, zi, typ); st.kind == kindAnswer && st.next == "" {
				extra = concat(extra, st.rrs)
			}
		}
	}
	return extra
}

// seenTarget reports whether one of rrs already points at target.
func seenTarget(rrs []dns.RR, target string) bool {
	for _, rr := range rrs {
		if targetOf(rr) == target {
			return true
		}
	}
	return false
}

// inZone reports whether name is apex or below it; both are canonical.
func inZone(apex, name string) bool {
	switch {
	case apex == ".":
		return true
	case len(name) < len(apex) || name[len(name)-len(apex):] != apex:
		return false
	case len(name) == len(apex):
		return true
	}
	// The byte before the apex must be a label separator, not an escaped dot.
	i := len(name) - len(apex) - 1
	if name[i] != '.' {
		return false
	}
	backslashes := 0
	for j := i - 1; j >= 0 && name[j] == '\\'; j-- {
		backslashes++
	}
	return backslashes%2 == 0
}

// IsZone reports whether name (lower-case, fully qualified) is the apex of a zone the snapshot
// serves.
func (s *Snapshot) IsZone(name string) bool {
	_, ok := s.zones[name]
	return ok
}
