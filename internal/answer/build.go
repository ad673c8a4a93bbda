package answer

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/routing"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// zoneData is one hosted zone, compiled. A patch makes a new zoneData sharing what it did not
// change.
type zoneData struct {
	apex   string
	id     string
	labels int    // labels in apex
	parent string // the apex of the closest enclosing zone we also host, for DS at the apex
	nodes  layered[string, *node]
	top    *node    // the apex node
	negSOA []dns.RR // the SOA with TTL min(SOA TTL, MINIMUM), for negative answers (RFC 2308)
	// nsTargets are the names the NS records of the zone's delegations point at: their
	// addresses are the glue of referrals built once, so a patch that changes them is a rebuild.
	nsTargets map[string]bool
	// cuts are the zone's delegation points and dyn its dynamic groups, which a patch never
	// changes: the build's later phases visit these instead of every name.
	cuts []string
	dyn  []*group
}

// node is one owner name of a zone: an existing name or an empty non-terminal. A node never
// changes once its snapshot is built; a patch replaces it.
type node struct {
	name     string
	sets     []*group // by type, ascending
	cname    *group
	wild     *node // the "*" child, when the zone has one
	cut      bool  // an NS record set below the apex: a delegation point
	children int32 // nodes directly below this one, to know when an empty non-terminal goes
	// ref is the referral at a cut whose NS records and glue cannot vary, built once.
	ref *referral
}

// nodeGroup is a node allocated with its first group, which is all most names have: a lookup of
// the name then reads neighbouring memory rather than three allocations (on a zone of a million
// names, each a miss of the CPU's caches).
type nodeGroup struct {
	n    node
	g    group
	sets [1]*group
}

// referral is the authority and additional sections of a referral.
type referral struct {
	ns, glue []dns.RR
}

// get returns the node's group of type t, or nil.
func (n *node) get(t uint16) *group {
	for _, g := range n.sets {
		if g.rrtype == t {
			return g
		}
	}
	return nil
}

// group is every record set of one name and type: a single simple record set, or the record
// sets of one routing policy.
//
// A plain group (one simple record set with values, without a health check) answers the same
// for every query and every health state: its records are its answer. Any other group is
// dynamic: its record sets are kept for routing.Decide, and what it answers under the
// snapshot's health states is in the snapshot's dyn table, at index dyn. So a change of health
// makes a new table, not new groups.
type group struct {
	name   string
	rrtype uint16
	dyn    int32     // index in Snapshot.dyn; -1 for a plain group
	rrs    []dns.RR  // a plain group's records, owned by its name
	d      *dynGroup // a dynamic group's record sets
}

// plain reports whether g answers the same under every health state.
func (g *group) plain() bool { return g.d == nil }

// dynGroup is what a dynamic group keeps of its record sets.
type dynGroup struct {
	sets    []zone.RecordSet // as stored, sorted by SetIdentifier: the routing input
	members []member         // members[i] is sets[i], compiled
	routed  bool             // the record sets have SetIdentifiers and a routing policy
}

// dynState is what a dynamic group answers with under one snapshot's health states, set by
// decide in dependency order (an alias's target first).
type dynState struct {
	state   uint8            // decide's progress: unseen, deciding, decided
	dec     routing.Decision // routed groups only
	healthy bool             // the group's health as an alias with EvaluateTargetHealth sees it
	// static is the answer when it is the same for every query (a fixed decision over record
	// sets and aliases whose targets are static). hasStatic distinguishes a static empty answer
	// (NODATA). synth marks a static answer built for this group (an alias's records, owned by
	// its name) rather than shared with a member.
	static    []dns.RR
	hasStatic bool
	synth     bool
}

// member is one record set of a group, compiled.
type member struct {
	rrs    []dns.RR // its records, owned by the group's name; nil for an alias
	alias  string   // the alias target's canonical name, or ""
	target *group   // the alias target's group of the same type, when we host it (checkAliases)
}

// Build compiles zones into an immutable snapshot, with every health check passing. See
// BuildWithHealth.
func Build(zones []zone.Zone) (*Snapshot, error) {
	return BuildWithHealth(zones, nil)
}

// BuildWithHealth compiles zones into an immutable snapshot whose routed answers follow the given
// health states with Route 53's semantics (package routing, including fail-open when a whole
// group is unhealthy). healthy(id) reports the state of the health check with that ID and whether
// the check is known at all; Build calls it once per record set naming a check and keeps no
// reference to it. A nil healthy means every check passes. A change of health state needs a new
// snapshot (Snapshot.WithHealth), as a change of records does (Snapshot.Patch).
//
// Every record set's values are parsed once here. BuildWithHealth fails, naming the zone and
// record set, on data the DNS path cannot serve: a name or value that does not parse, a name
// outside its zone, a zone without a simple SOA record set at its apex, two simple record sets of
// one name and type, a group mixing routing policies, or a cycle of alias records. When two zones
// have the same name (Route 53 allows it) the one with the smallest ID is served.
//
// A record set is healthy, for routing.Decide, when all of these hold:
//
//   - Its own health check, if it names one, passes. A check healthy does not know counts as
//     passing: the service refuses record sets naming a missing check, so this happens only in
//     the race with a check being deleted or loaded, for which Route 53 promises nothing
//     ("unpredictable"); passing never takes a name out of service because of such a race.
//   - If it is an alias with EvaluateTargetHealth, its target is healthy: the target group (the
//     record sets of the same type at the alias's DNSName, in a zone we host) has at least one
//     healthy record set (routing.Decision.Healthy), recursively through alias trees (a failover
//     alias to a weighted group of aliases to ...). A target we do not host, or a name without
//     record sets of that type, is unhealthy: the alias would answer nothing, so its parent group
//     should move on to another branch. (Route 53 refuses an alias to a missing record set in its
//     own zones, and evaluates AWS resources, which we cannot.)
//
// So an alias without EvaluateTargetHealth is healthy unless its own check fails: as in Route
// 53, answers keep going into that branch even when every record in it is failing.
func BuildWithHealth(zones []zone.Zone, healthy func(checkID string) (healthy, known bool)) (*Snapshot, error) {
	b := NewBuilder()
	for i := range zones {
		if err := b.Add(&zones[i]); err != nil {
			return nil, err
		}
	}
	return b.Build(healthy)
}

// Builder compiles zones one at a time into a snapshot, so that a caller loading zones from
// storage holds the record sets of one zone at a time: a compiled zone keeps none of them except
// those of routed groups, aliases and record sets with health checks.
type Builder struct {
	zones map[string]*zoneData // by apex
	wire  map[dns.RR][]byte    // see Snapshot.wire
	pk    packer
}

// NewBuilder returns a Builder without zones.
func NewBuilder() *Builder {
	return &Builder{zones: map[string]*zoneData{}, wire: map[dns.RR][]byte{}}
}

// Add compiles z. Of two zones with the same name, the one with the smallest ID is kept.
func (b *Builder) Add(z *zone.Zone) error {
	zb, err := b.Begin(z, len(z.RecordSets))
	if err != nil {
		return err
	}
	if err := zb.Add(z.RecordSets); err != nil {
		return err
	}
	return zb.End()
}

// ErrSplitGroup is ZoneBuilder.Add's error for a part holding record sets of a name and type
// that an earlier part held too. The caller can add that zone whole instead (Builder.Add), into
// a new Builder: this one has been used.
var ErrSplitGroup = errors.New("answer: the record sets of one name and type came in two parts")

// ZoneBuilder compiles one zone whose record sets come in parts, so that a caller reading a
// large zone from storage holds one part at a time: a million record sets take more memory
// as zone.RecordSet values than the compiled zone does, and the previous snapshot is still
// being served beside the one being built.
type ZoneBuilder struct {
	b     *Builder
	z     zone.Zone // the zone without its record sets, to name it in errors
	zd    *zoneData // nil when a zone of the same name and a smaller ID was added: not served
	nodes map[string]*node
	al    labels // the apex's
}

// Begin starts compiling z, whose record sets are then given to the ZoneBuilder's Add (those
// in z are ignored) before its End; sets is about how many there will be. One zone is compiled
// at a time, and Build waits for its End.
func (b *Builder) Begin(z *zone.Zone, sets int) (*ZoneBuilder, error) {
	apex, err := canonicalName(z.Name)
	if err != nil {
		return nil, fmt.Errorf("answer: zone %q (%s): %w", z.Name, z.ID, err)
	}
	zb := &ZoneBuilder{b: b, z: zone.Zone{ID: z.ID, Name: z.Name}}
	if old, dup := b.zones[apex]; dup && old.id <= z.ID {
		return zb, nil
	}
	zb.zd = &zoneData{apex: apex, id: z.ID, nsTargets: map[string]bool{}}
	if !zb.al.split(apex) {
		return nil, fmt.Errorf("answer: zone %s (%s): invalid name", z.Name, z.ID)
	}
	zb.zd.labels = zb.al.n
	zb.nodes = make(map[string]*node, sets+sets/8)
	return zb, nil
}

// Add compiles a part of the zone's record sets, in any order, as long as every record set of
// one name and type is in the same part (else ErrSplitGroup). It keeps no reference to sets.
func (zb *ZoneBuilder) Add(sets []zone.RecordSet) error {
	if zb.zd == nil || len(sets) == 0 {
		return nil
	}
	zd, nodes, pk := zb.zd, zb.nodes, &zb.b.pk
	groups, err := compileGroups(&zb.z, zd.apex, sets)
	if err != nil {
		return err
	}
	for i := range groups {
		var g *group
		n := nodes[groups[i].name]
		if n == nil {
			// A name's first group comes with its node, in one allocation.
			ng := &nodeGroup{g: groups[i]}
			g, n = &ng.g, &ng.n
			n.name, n.sets = g.name, ng.sets[:0:1]
			nodes[g.name] = n
			for anc := range ancestors(g.name, zb.al.n) {
				p := nodes[anc]
				created := p == nil
				if created {
					p = &node{name: anc}
					nodes[anc] = p
				}
				p.children++
				if !created {
					break // so do p's ancestors
				}
			}
		} else {
			if n.get(groups[i].rrtype) != nil { // compileGroups made one group of each in a part
				return fmt.Errorf("%w: zone %s (%s), %s %s", ErrSplitGroup, zb.z.Name, zb.z.ID,
					groups[i].name, dns.TypeToString[groups[i].rrtype])
			}
			g = new(group)
			*g = groups[i]
		}
		n.sets = append(n.sets, g)
		if !g.plain() || (g.rrtype != dns.TypeA && g.rrtype != dns.TypeAAAA) {
			if err := pk.group(zd, g, zb.b.put); err != nil {
				return err
			}
		}
	}
	return nil
}

// End finishes the zone and adds it to the Builder. The ZoneBuilder must not be used afterwards.
func (zb *ZoneBuilder) End() error {
	if zb.zd == nil {
		return nil
	}
	zd, nodes, z := zb.zd, zb.nodes, &zb.z
	zb.nodes = nil
	zd.top = nodes[zd.apex]
	if zd.top == nil {
		return fmt.Errorf("answer: zone %s (%s): no SOA record set", z.Name, z.ID)
	}
	for _, n := range nodes {
		finishNode(zd, n)
		if strings.HasPrefix(n.name, "*.") && n != zd.top {
			nodes[parentName(n.name)].wild = n
		}
		if n.cut {
			zd.cuts = append(zd.cuts, n.name)
			for _, rr := range n.get(dns.TypeNS).rrsOf() {
				if t := targetOf(rr); t != "" {
					zd.nsTargets[t] = true
				}
			}
		}
		for _, g := range n.sets {
			if !g.plain() {
				zd.dyn = append(zd.dyn, g)
			}
		}
	}
	zd.nodes = layered[string, *node]{base: nodes}
	if err := zd.setSOA(z); err != nil {
		return err
	}
	if err := zb.b.pk.add(zd, zd.negSOA[0], zb.b.put); err != nil {
		return err
	}
	zb.b.zones[zd.apex] = zd
	return nil
}

// put records the wire form of rr (see Snapshot.wire).
func (b *Builder) put(rr dns.RR, w []byte) { b.wire[rr] = w }

// Build returns the snapshot of the zones added, under the given health states (see
// BuildWithHealth). The Builder must not be used afterwards.
func (b *Builder) Build(healthy func(checkID string) (healthy, known bool)) (*Snapshot, error) {
	s := &Snapshot{id: nextID.Add(1), zones: b.zones}
	b.zones = nil
	s.link()
	// Resolve alias targets, refusing cycles.
	if err := s.checkAliases(); err != nil {
		return nil, err
	}
	// Decide every dynamic group, alias targets first, and build the answers that cannot vary.
	s.order()
	s.aliasTargets = map[groupKey]bool{}
	for _, g := range s.dynGroups {
		for _, m := range g.d.members {
			if m.alias != "" {
				s.aliasTargets[groupKey{m.alias, g.rrtype}] = true
			}
		}
	}
	s.decideAll(healthy)
	s.collectRoutes()
	// Referrals that cannot vary.
	for _, zd := range s.zones {
		for _, name := range zd.cuts {
			n, _ := zd.nodes.get(name)
			n.ref = s.staticReferral(zd, n)
		}
	}
	// The wire form of the answers decided above.
	if err := s.packSynthesized(&b.pk, b.put); err != nil {
		return nil, err
	}
	s.wire = layered[dns.RR, []byte]{base: b.wire}
	b.wire = nil
	return s, nil
}

// link sets what depends on the set of zones: each zone's parent, for DS at a child's apex.
func (s *Snapshot) link() {
	for _, zd := range s.zones {
		var l labels
		l.split(zd.apex)
		zd.parent = ""
		for i := 1; i <= l.n; i++ {
			if p := s.zones[l.suffix(zd.apex, i)]; p != nil {
				zd.parent = p.apex
				break
			}
		}
	}
}

// staticReferral returns the referral of cut n of zone zd when it is the same for every query
// and health state: its NS record set and the addresses of their in-zone targets are plain.
func (s *Snapshot) staticReferral(zd *zoneData, n *node) *referral {
	g := n.get(dns.TypeNS)
	if g == nil || !g.plain() {
		return nil
	}
	glue, static := (&lookup{Snapshot: s}).glue(zd, g.rrs)
	if !static {
		return nil
	}
	return &referral{ns: g.rrs, glue: glue}
}

// setError names a zone and a record set in an error.
func setError(z *zone.Zone, rs *zone.RecordSet, format string, args ...any) error {
	id := ""
	if rs.SetIdentifier != "" {
		id = fmt.Sprintf(", set identifier='%s'", rs.SetIdentifier)
	}
	return fmt.Errorf("answer: zone %s (%s): record set [name='%s', type='%s'%s]: %s",
		z.Name, z.ID, rs.Name, rs.Type, id, fmt.Sprintf(format, args...))
}

type groupKey struct {
	name string
	t    uint16
}

// finishNode sorts a node's groups by type and sets what follows from them.
func finishNode(zd *zoneData, n *node) {
	slices.SortFunc(n.sets, func(a, b *group) int { return cmp.Compare(a.rrtype, b.rrtype) })
	n.sets = slices.Clip(n.sets)
	n.cname = n.get(dns.TypeCNAME)
	n.cut = n.name != zd.apex && n.get(dns.TypeNS) != nil
}

// setSOA sets the SOA of negative answers from the apex's SOA record set.
func (zd *zoneData) setSOA(z *zone.Zone) error {
	soa := zd.top.get(dns.TypeSOA)
	if soa == nil || !soa.plain() || len(soa.rrs) != 1 {
		return fmt.Errorf("answer: zone %s (%s): no SOA record set (or a routed or alias one) at the apex", z.Name, z.ID)
	}
	neg := dns.Copy(soa.rrs[0]).(*dns.SOA)
	neg.Hdr.Ttl = min(neg.Hdr.Ttl, neg.Minttl)
	zd.negSOA = []dns.RR{neg}
	return nil
}

// rrsOf returns the records of every record set of g that has values (an alias has none).
func (g *group) rrsOf() []dns.RR {
	if g == nil {
		return nil
	}
	if g.plain() {
		return g.rrs
	}
	var out []dns.RR
	for _, m := range g.d.members {
		out = append(out, m.rrs...)
	}
	return out
}

// ancestors yields the names above name (canonical) up to and including the apex, which has
// apexLabels labels, nearest first.
func ancestors(name string, apexLabels int) iter.Seq[string] {
	return func(yield func(string) bool) {
		var l labels
		l.split(name)
		for i := 1; i <= l.n-apexLabels; i++ {
			if !yield(l.suffix(name, i)) {
				return
			}
		}
	}
}

// canonicalName returns a record set's name (or a zone's, or an alias target's) lower-cased and
// fully qualified. A Zone stores canonical names: miekg/dns presentation format, in which Lookup
// gets query names too, and where \DDD is decimal. zone.CanonicalName reads Route 53's spelling
// instead, where \DDD is octal: it would read the stored "\200x" (byte 200) as "\128x", and
// refuse the stored "\ x" (a space), failing the whole build. So a name that is canonical
// already is kept as it is, and only other names (such as Route 53's "\052" for "*") are read
// as Route 53 spells them.
func canonicalName(name string) (string, error) {
	if strings.Contains(name, `\`) && isCanonical(name) {
		return name, nil
	}
	return zone.CanonicalName(name)
}

// isCanonical reports whether name, read in presentation format, is already lower-case, fully
// qualified and spelled as miekg/dns spells names.
func isCanonical(name string) bool {
	var buf [256]byte
	end, err := dns.PackDomainName(name, buf[:], 0, nil, false)
	if err != nil || !dns.IsFqdn(name) {
		return false
	}
	for i := 0; buf[i] != 0; i += int(buf[i]) + 1 {
		for _, c := range buf[i+1 : i+1+int(buf[i])] {
			if 'A' <= c && c <= 'Z' {
				return false
			}
		}
	}
	out, _, err := dns.UnpackDomainName(buf[:end], 0)
	return err == nil && out == name
}

// parentName returns name without its first label.
func parentName(name string) string {
	var l labels
	l.split(name)
	return l.suffix(name, 1)
}

// compileGroups compiles record sets of zone z (apex canonical) into groups, in the order their
// names and types first appear.
func compileGroups(z *zone.Zone, apex string, sets []zone.RecordSet) ([]group, error) {
	// pending is one group while its record sets are read: pointers into sets, since most
	// groups (a simple record set each) keep only their records, not a copy of the set.
	type pending struct {
		first  *zone.RecordSet
		m      member // first's
		others []*zone.RecordSet
		otherM []member
	}
	// At most a group per record set: sized once, a zone of a million sets leaves no garbage of
	// growing tables.
	index := make(map[groupKey]int, len(sets))
	keys := make([]groupKey, 0, len(sets))
	groups := make([]pending, 0, len(sets))
	for i := range sets {
		rs := &sets[i]
		name, err := canonicalName(rs.Name)
		if err != nil {
			return nil, setError(z, rs, "%v", err)
		}
		if !inZone(apex, name) {
			return nil, setError(z, rs, "name is not in the zone")
		}
		t, ok := dns.StringToType[strings.ToUpper(rs.Type)]
		if !ok {
			return nil, setError(z, rs, "unknown type")
		}
		var m member
		if rs.AliasTarget != nil {
			if m.alias, err = canonicalName(rs.AliasTarget.DNSName); err != nil {
				return nil, setError(z, rs, "alias target: %v", err)
			}
		} else {
			rrs, err := parseRecords(rs, name, t)
			if err != nil {
				return nil, setError(z, rs, "%v", err)
			}
			if len(rrs) == 0 {
				return nil, setError(z, rs, "no values")
			}
			m.rrs = rrs
		}
		k := groupKey{name, t}
		gi, seen := index[k]
		if !seen {
			gi = len(groups)
			index[k] = gi
			keys = append(keys, k)
			groups = append(groups, pending{})
		}
		g := &groups[gi]
		if first := g.first; first != nil {
			switch {
			case first.SetIdentifier == "" || rs.SetIdentifier == "":
				return nil, setError(z, rs, "another record set has the same name and type")
			case routing.Policy(*first) != routing.Policy(*rs):
				return nil, setError(z, rs, "routing policy %s differs from %s of set identifier '%s'",
					routing.Policy(*rs), routing.Policy(*first), first.SetIdentifier)
			}
		}
		if rs.SetIdentifier != "" && routing.Policy(*rs) == "simple" {
			return nil, setError(z, rs, "set identifier without a routing policy")
		}
		if g.first == nil {
			g.first, g.m = rs, m
		} else {
			g.others = append(g.others, rs)
			g.otherM = append(g.otherM, m)
		}
	}
	out := make([]group, len(keys))
	for i, k := range keys {
		p := &groups[i]
		g := &out[i]
		*g = group{name: k.name, rrtype: k.t, dyn: -1}
		if first := p.first; len(p.others) == 0 && first.SetIdentifier == "" && first.AliasTarget == nil && first.HealthCheckId == "" {
			g.rrs = p.m.rrs
		} else {
			d := &dynGroup{sets: make([]zone.RecordSet, 0, 1+len(p.others)), members: append([]member{p.m}, p.otherM...),
				routed: first.SetIdentifier != ""}
			d.sets = append(d.sets, *first)
			for _, rs := range p.others {
				d.sets = append(d.sets, *rs)
			}
			g.d = d
			if g.d.routed {
				sortGroup(g.d)
			}
		}
	}
	return out, nil
}

// parseRecords returns the records of rs, owned by name (its canonical form), of type t. Plain
// A and AAAA values, most of any zone, skip the zone-file parser; they come out exactly as it
// would make them.
func parseRecords(rs *zone.RecordSet, name string, t uint16) ([]dns.RR, error) {
	if t == dns.TypeA || t == dns.TypeAAAA {
		if rrs := parseAddresses(rs, name, t); rrs != nil {
			return rrs, nil
		}
	}
	rrs, err := rs.RRs()
	if err != nil {
		return nil, err
	}
	for _, rr := range rrs {
		h := rr.Header()
		h.Name, h.Class = name, dns.ClassINET
	}
	return slices.Clip(rrs), nil
}

// parseAddresses is parseRecords for A and AAAA record sets whose values are all bare addresses
// of the right family; it returns nil for anything else. Like miekg/dns (net.ParseIP), it keeps
// every address in its 16-byte form.
func parseAddresses(rs *zone.RecordSet, name string, t uint16) []dns.RR {
	if len(rs.ResourceRecords) == 0 {
		return nil
	}
	var ttl uint32
	if rs.TTL != nil {
		ttl = uint32(*rs.TTL)
	}
	hdr := dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	if len(rs.ResourceRecords) == 1 {
		return parseAddress(rs.ResourceRecords[0].Value, hdr)
	}
	out := make([]dns.RR, len(rs.ResourceRecords))
	ips := make([]byte, 16*len(rs.ResourceRecords))
	for i, v := range rs.ResourceRecords {
		a, err := netip.ParseAddr(v.Value)
		if err != nil || a.Zone() != "" || (t == dns.TypeA) != a.Is4() {
			return nil
		}
		ip := net.IP(ips[16*i : 16*i+16 : 16*i+16])
		*(*[16]byte)(ip) = a.As16()
		if t == dns.TypeA {
			out[i] = &dns.A{Hdr: hdr, A: ip}
		} else {
			out[i] = &dns.AAAA{Hdr: hdr, AAAA: ip}
		}
	}
	return out
}

// oneAddress is a record set of one address, in one allocation: the slice of records, the
// record and its address.
type oneAddress[R any] struct {
	rrs [1]dns.RR
	rr  R
	ip  [16]byte
}

// parseAddress returns the one record of an A or AAAA record set (hdr's type) of address v, or
// nil when v is not an address of that type.
func parseAddress(v string, hdr dns.RR_Header) []dns.RR {
	a, err := netip.ParseAddr(v)
	if err != nil || a.Zone() != "" || (hdr.Rrtype == dns.TypeA) != a.Is4() {
		return nil
	}
	if hdr.Rrtype == dns.TypeA {
		o := &oneAddress[dns.A]{}
		o.ip = a.As16()
		o.rr = dns.A{Hdr: hdr, A: net.IP(o.ip[:])}
		o.rrs[0] = &o.rr
		return o.rrs[:]
	}
	o := &oneAddress[dns.AAAA]{}
	o.ip = a.As16()
	o.rr = dns.AAAA{Hdr: hdr, AAAA: net.IP(o.ip[:])}
	o.rrs[0] = &o.rr
	return o.rrs[:]
}

// sortGroup orders a routed group's record sets by SetIdentifier, so that a group's decision
// does not depend on the order the zone lists them in.
func sortGroup(g *dynGroup) {
	perm := make([]int, len(g.sets))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return strings.Compare(g.sets[a].SetIdentifier, g.sets[b].SetIdentifier) })
	if slices.IsSorted(perm) {
		return
	}
	sets := make([]zone.RecordSet, len(perm))
	members := make([]member, len(perm))
	for i, p := range perm {
		sets[i], members[i] = g.sets[p], g.members[p]
	}
	g.sets, g.members = sets, members
}

// checkAliases points every alias at its target group and fails on a cycle of alias records (a
// chain that comes back to where it started).
func (s *Snapshot) checkAliases() error {
	for _, z := range s.zones {
		for _, g := range z.dyn {
			for i := range g.d.members {
				m := &g.d.members[i]
				if m.alias == "" {
					continue
				}
				m.target = nil
				if _, tn := s.exactNode(m.alias); tn != nil {
					m.target = tn.get(g.rrtype)
				}
			}
		}
	}
	if s.findCycle(false) == nil {
		return nil
	}
	// Again in a fixed order, so that the error, when there are several cycles or chains into
	// one, is always the same.
	return s.findCycle(true)
}

// findCycle searches the alias graph depth first, visiting groups in name order when sorted is
// set, and describes the first cycle it finds.
func (s *Snapshot) findCycle(sorted bool) error {
	const (
		unseen = iota
		active
		done
	)
	state := map[*group]uint8{}
	var path []string
	var visit func(g *group) error
	visit = func(g *group) error {
		switch state[g] {
		case active:
			z, _ := s.exactNode(g.name)
			return fmt.Errorf("answer: zone %s (%s): alias cycle: %s %s", z.apex, z.id,
				strings.Join(append(path, g.name), " -> "), dns.TypeToString[g.rrtype])
		case done:
			return nil
		}
		state[g] = active
		path = append(path, g.name)
		if !g.plain() {
			for _, m := range g.d.members {
				if m.target != nil {
					if err := visit(m.target); err != nil {
						return err
					}
				}
			}
		}
		path = path[:len(path)-1]
		state[g] = done
		return nil
	}
	apexes := make([]string, 0, len(s.zones))
	for a := range s.zones {
		apexes = append(apexes, a)
	}
	if sorted {
		slices.Sort(apexes)
	}
	for _, a := range apexes {
		z := s.zones[a]
		var names []string
		for _, g := range z.dyn {
			if g.hasAlias() && !slices.Contains(names, g.name) {
				names = append(names, g.name)
			}
		}
		if sorted {
			slices.Sort(names)
		}
		for _, name := range names {
			n, _ := z.nodes.get(name)
			for _, g := range n.sets {
				if err := visit(g); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// hasAlias reports whether one of g's record sets is an alias.
func (g *group) hasAlias() bool {
	return !g.plain() && slices.ContainsFunc(g.d.members, func(m member) bool { return m.alias != "" })
}

// exactNode finds the node of name in the zone that holds it, or nil.
func (s *Snapshot) exactNode(name string) (*zoneData, *node) {
	var l labels
	if !l.split(name) {
		return nil, nil
	}
	z, _ := s.zoneFor(name, &l)
	if z == nil {
		return nil, nil
	}
	n, _ := z.nodes.get(name)
	return z, n
}
