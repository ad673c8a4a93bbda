package answer

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/routing"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// zoneData is one hosted zone, compiled.
type zoneData struct {
	apex   string
	id     string
	labels int       // labels in apex
	parent *zoneData // the closest enclosing zone we also host, for DS queries at the apex
	nodes  map[string]*node
	top    *node    // the apex node
	negSOA []dns.RR // the SOA with TTL min(SOA TTL, MINIMUM), for negative answers (RFC 2308)
}

// node is one owner name of a zone: an existing name or an empty non-terminal.
type node struct {
	name  string
	sets  []*group // by type, ascending
	cname *group
	wild  *node // the "*" child, when the zone has one
	cut   bool  // an NS record set below the apex: a delegation point
	// At a cut whose NS records and glue cannot vary (static), the referral, built once.
	static  bool
	refNS   []dns.RR
	refGlue []dns.RR
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
type group struct {
	name    string
	rrtype  uint16
	sets    []zone.RecordSet // as stored, sorted by SetIdentifier: the routing input
	members []member         // members[i] is sets[i], compiled
	routed  bool             // the record sets have SetIdentifiers and a routing policy
	// Set by decide, in dependency order (an alias's target first).
	state   uint8            // decide's progress: unseen, deciding, decided
	dec     routing.Decision // routed groups only
	healthy bool             // the group's health as an alias with EvaluateTargetHealth sees it
	// static is the answer when it is the same for every query (a simple or fixed decision over
	// record sets and aliases whose targets are static). hasStatic distinguishes a static empty
	// answer (NODATA). synth marks a static answer built for this group (an alias's records,
	// owned by its name) rather than shared with a member.
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
// snapshot, as a change of records does.
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
	s := &Snapshot{zones: make(map[string]*zoneData, len(zones)), wire: make(map[dns.RR][]byte)}
	// Phase 1: compile the record sets of every zone into groups and nodes.
	order := make([]int, len(zones))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(zones[a].ID, zones[b].ID) })
	for _, i := range order {
		z := &zones[i]
		apex, err := zone.CanonicalName(z.Name)
		if err != nil {
			return nil, fmt.Errorf("answer: zone %q (%s): %w", z.Name, z.ID, err)
		}
		if _, dup := s.zones[apex]; dup {
			continue
		}
		zd, err := s.compile(z, apex)
		if err != nil {
			return nil, err
		}
		s.zones[apex] = zd
	}
	// Phase 2: parent zones, for DS at a child's apex.
	for _, zd := range s.zones {
		var l labels
		l.split(zd.apex)
		for i := 1; i <= l.n; i++ {
			if p := s.zones[l.suffix(zd.apex, i)]; p != nil {
				zd.parent = p
				break
			}
		}
	}
	// Phase 3: resolve alias targets, refusing cycles.
	if err := s.checkAliases(); err != nil {
		return nil, err
	}
	// Phase 4: decide every group, alias targets first, and build the answers that cannot vary.
	d := decider{s: s, healthy: healthy}
	for _, zd := range s.zones {
		for _, n := range zd.nodes {
			for _, g := range n.sets {
				d.decide(g)
			}
		}
	}
	s.collectRoutes()
	// Phase 5: referrals that cannot vary.
	for _, zd := range s.zones {
		for _, n := range zd.nodes {
			if g := n.get(dns.TypeNS); n.cut && g.hasStatic {
				n.refNS = g.static
				n.refGlue, n.static = s.glue(zd, g.static)
			}
		}
	}
	// Phase 6: the wire form of every record.
	if err := s.packAll(); err != nil {
		return nil, err
	}
	return s, nil
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

// compile builds the groups and nodes of one zone; decisions and answers come later, once every
// zone's groups exist.
func (s *Snapshot) compile(z *zone.Zone, apex string) (*zoneData, error) {
	zd := &zoneData{apex: apex, id: z.ID, nodes: make(map[string]*node)}
	var al labels
	if !al.split(apex) {
		return nil, fmt.Errorf("answer: zone %s (%s): invalid name", z.Name, z.ID)
	}
	zd.labels = al.n

	groups := map[groupKey]*group{}
	var keys []groupKey
	for i := range z.RecordSets {
		rs := &z.RecordSets[i]
		name, err := zone.CanonicalName(rs.Name)
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
			if m.alias, err = zone.CanonicalName(rs.AliasTarget.DNSName); err != nil {
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
		g := groups[k]
		if g == nil {
			g = &group{name: name, rrtype: t}
			groups[k] = g
			keys = append(keys, k)
		}
		if len(g.sets) > 0 {
			first := &g.sets[0]
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
		g.sets = append(g.sets, *rs)
		g.members = append(g.members, m)
	}

	for _, k := range keys {
		g := groups[k]
		if g.sets[0].SetIdentifier != "" {
			g.routed = true
			sortGroup(g)
		}
		n := zd.node(k.name, &al)
		n.sets = append(n.sets, g)
	}
	zd.top = zd.nodes[apex]
	if zd.top == nil {
		return nil, fmt.Errorf("answer: zone %s (%s): no SOA record set", z.Name, z.ID)
	}
	for _, n := range zd.nodes {
		slices.SortFunc(n.sets, func(a, b *group) int { return cmp.Compare(a.rrtype, b.rrtype) })
		n.cname = n.get(dns.TypeCNAME)
		n.cut = n != zd.top && n.get(dns.TypeNS) != nil
		if strings.HasPrefix(n.name, "*.") && n != zd.top {
			var l labels
			l.split(n.name)
			zd.nodes[l.suffix(n.name, 1)].wild = n
		}
	}
	soa := zd.top.get(dns.TypeSOA)
	if soa == nil || soa.routed || soa.members[0].alias != "" || len(soa.members[0].rrs) != 1 {
		return nil, fmt.Errorf("answer: zone %s (%s): no SOA record set (or a routed or alias one) at the apex", z.Name, z.ID)
	}
	neg := dns.Copy(soa.members[0].rrs[0]).(*dns.SOA)
	neg.Hdr.Ttl = min(neg.Hdr.Ttl, neg.Minttl)
	zd.negSOA = []dns.RR{neg}
	return zd, nil
}

// parseRecords returns the records of rs, owned by name (its canonical form), of type t. Plain
// A and AAAA values, most of any zone and all a rebuild on a health change reparses, skip the
// zone-file parser; they come out exactly as it would make them.
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

// sortGroup orders a routed group's record sets by SetIdentifier, so that a group's decision
// does not depend on the order the zone lists them in.
func sortGroup(g *group) {
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

// node returns the node for name, creating it and any missing empty non-terminals up to the apex.
func (zd *zoneData) node(name string, apexLabels *labels) *node {
	if n := zd.nodes[name]; n != nil {
		return n
	}
	n := &node{name: name}
	zd.nodes[name] = n
	var l labels
	l.split(name)
	for i := 1; i <= l.n-apexLabels.n; i++ {
		anc := l.suffix(name, i)
		if zd.nodes[anc] != nil {
			break
		}
		zd.nodes[anc] = &node{name: anc}
	}
	return n
}

// checkAliases points every alias at its target group and fails on a cycle of alias records (a
// chain that comes back to where it started).
func (s *Snapshot) checkAliases() error {
	for _, z := range s.zones {
		for _, n := range z.nodes {
			for _, g := range n.sets {
				for i := range g.members {
					m := &g.members[i]
					if m.alias == "" {
						continue
					}
					if _, tn := s.exactNode(m.alias); tn != nil {
						m.target = tn.get(g.rrtype)
					}
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
		for _, m := range g.members {
			if m.target != nil {
				if err := visit(m.target); err != nil {
					return err
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
		names := make([]string, 0, len(z.nodes))
		for n, node := range z.nodes {
			if slices.ContainsFunc(node.sets, func(g *group) bool { return g.hasAlias() }) {
				names = append(names, n)
			}
		}
		if sorted {
			slices.Sort(names)
		}
		for _, name := range names {
			for _, g := range z.nodes[name].sets {
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
	return slices.ContainsFunc(g.members, func(m member) bool { return m.alias != "" })
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
	return z, z.nodes[name]
}

// packAll records the uncompressed wire form of the RDATA of every record the snapshot holds.
func (s *Snapshot) packAll() error {
	buf := make([]byte, dns.MaxMsgSize+1024)
	var arena []byte
	add := func(z *zoneData, rr dns.RR) error {
		var rd []byte
		switch r := rr.(type) { // the common types, without packing a whole record
		case *dns.A:
			rd = r.A.To4()
		case *dns.AAAA:
			if len(r.AAAA) == net.IPv6len {
				rd = r.AAAA
			}
		}
		if rd == nil {
			off, err := dns.PackRR(rr, buf, 0, nil, false)
			if err != nil {
				return fmt.Errorf("answer: zone %s (%s): record %s: %w", z.apex, z.id, rr, err)
			}
			rd = buf[off-int(rr.Header().Rdlength) : off]
		}
		if len(arena)+len(rd) > cap(arena) {
			arena = make([]byte, 0, max(64<<10, len(rd)))
		}
		start := len(arena)
		arena = append(arena, rd...)
		s.wire[rr] = arena[start:len(arena):len(arena)]
		return nil
	}
	for _, z := range s.zones {
		if err := add(z, z.negSOA[0]); err != nil {
			return err
		}
		for _, n := range z.nodes {
			for _, g := range n.sets {
				for _, m := range g.members {
					for _, rr := range m.rrs {
						if err := add(z, rr); err != nil {
							return err
						}
					}
				}
				if !g.synth {
					continue
				}
				for _, rr := range g.static {
					if _, ok := s.wire[rr]; ok {
						continue // a member's own record
					}
					if err := add(z, rr); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}
