package answer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"

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
	members []member
	dec     decision // nil for a simple record set
	// static is the answer when it is the same for every query (a simple or fixed decision over
	// non-alias record sets). hasStatic distinguishes a static empty answer (NODATA).
	static    []dns.RR
	hasStatic bool
}

// member is one record set of a group.
type member struct {
	rs    zone.RecordSet // as stored, for the routing decision
	rrs   []dns.RR       // its records, owned by the group's name; nil for an alias
	alias string         // the alias target's canonical name, or ""
}

// Build compiles zones into an immutable snapshot. Every record set's values are parsed once
// here. It fails, naming the zone and record set, on data the DNS path cannot serve: a name or
// value that does not parse, a name outside its zone, a zone without an SOA, two simple record
// sets of one name and type, a group mixing routing policies, or a cycle of alias records.
// When two zones have the same name (Route 53 allows it) the one with the smallest ID is served.
// Every record is treated as healthy.
func Build(zones []zone.Zone) (*Snapshot, error) {
	return build(zones, allHealthy, defaultDecide)
}

func build(zones []zone.Zone, healthy healthFunc, decide decideFunc) (*Snapshot, error) {
	s := &Snapshot{zones: make(map[string]*zoneData, len(zones)), wire: make(map[dns.RR][]byte)}
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
		zd, err := s.compile(z, apex, healthy, decide)
		if err != nil {
			return nil, err
		}
		s.zones[apex] = zd
	}
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
	if err := s.checkAliases(); err != nil {
		return nil, err
	}
	for _, zd := range s.zones {
		for _, n := range zd.nodes {
			if g := n.get(dns.TypeNS); n.cut && g.hasStatic {
				n.refNS = g.static
				n.refGlue, n.static = s.glue(zd, g.static)
			}
		}
	}
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

// compile builds one zone.
func (s *Snapshot) compile(z *zone.Zone, apex string, healthy healthFunc, decide decideFunc) (*zoneData, error) {
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
		m := member{rs: *rs}
		if rs.AliasTarget != nil {
			if m.alias, err = zone.CanonicalName(rs.AliasTarget.DNSName); err != nil {
				return nil, setError(z, rs, "alias target: %v", err)
			}
		} else {
			rrs, err := rs.RRs()
			if err != nil {
				return nil, setError(z, rs, "%v", err)
			}
			if len(rrs) == 0 {
				return nil, setError(z, rs, "no values")
			}
			for _, rr := range rrs {
				h := rr.Header()
				h.Name, h.Class = name, dns.ClassINET
			}
			m.rrs = slices.Clip(rrs)
		}
		k := groupKey{name, t}
		g := groups[k]
		if g == nil {
			g = &group{name: name, rrtype: t}
			groups[k] = g
			keys = append(keys, k)
		}
		if len(g.members) > 0 {
			first := &g.members[0].rs
			switch {
			case first.SetIdentifier == "" || rs.SetIdentifier == "":
				return nil, setError(z, rs, "another record set has the same name and type")
			case policyOf(*first) != policyOf(*rs):
				return nil, setError(z, rs, "routing policy %s differs from %s of set identifier '%s'",
					policyOf(*rs), policyOf(*first), first.SetIdentifier)
			}
		}
		if rs.SetIdentifier != "" && policyOf(*rs) == policySimple {
			return nil, setError(z, rs, "set identifier without a routing policy")
		}
		g.members = append(g.members, m)
	}

	for _, k := range keys {
		g := groups[k]
		compileGroup(g, healthy, decide)
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
	if soa == nil || !soa.hasStatic || len(soa.static) != 1 {
		return nil, fmt.Errorf("answer: zone %s (%s): no SOA record set (or a routed or alias one) at the apex", z.Name, z.ID)
	}
	neg := dns.Copy(soa.static[0]).(*dns.SOA)
	neg.Hdr.Ttl = min(neg.Hdr.Ttl, neg.Minttl)
	zd.negSOA = []dns.RR{neg}
	return zd, nil
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

// compileGroup sorts a routed group, builds its decision and, when the answer cannot vary,
// assembles it.
func compileGroup(g *group, healthy healthFunc, decide decideFunc) {
	var idx []int
	if len(g.members) == 1 && g.members[0].rs.SetIdentifier == "" {
		idx = []int{0}
	} else {
		slices.SortStableFunc(g.members, func(a, b member) int { return strings.Compare(a.rs.SetIdentifier, b.rs.SetIdentifier) })
		sets := make([]zone.RecordSet, len(g.members))
		up := make([]bool, len(g.members))
		for i, m := range g.members {
			sets[i] = m.rs
			up[i] = m.rs.HealthCheckId == "" || healthy(m.rs.HealthCheckId)
		}
		g.dec = decide(sets, up)
		if !g.dec.Fixed() {
			return
		}
		idx = g.dec.Pick(0, nil)
	}
	var rrs []dns.RR
	for _, i := range idx {
		if g.members[i].alias != "" {
			return // resolved per query: the target's own answer may vary
		}
		rrs = append(rrs, g.members[i].rrs...)
	}
	if len(idx) == 1 {
		rrs = g.members[idx[0]].rrs // share, rather than copy, the common case
	}
	g.static, g.hasStatic = slices.Clip(rrs), true
}

// checkAliases fails on a cycle of alias records (a chain that comes back to where it started).
func (s *Snapshot) checkAliases() error {
	type key struct {
		name string
		t    uint16
	}
	const (
		unseen = iota
		active
		done
	)
	state := map[key]int{}
	var path []string
	var visit func(z *zoneData, g *group, k key) error
	visit = func(z *zoneData, g *group, k key) error {
		switch state[k] {
		case active:
			return fmt.Errorf("answer: zone %s (%s): alias cycle: %s %s", z.apex, z.id,
				strings.Join(append(path, k.name), " -> "), dns.TypeToString[k.t])
		case done:
			return nil
		}
		state[k] = active
		path = append(path, k.name)
		for _, m := range g.members {
			if m.alias == "" {
				continue
			}
			tz, tn := s.exactNode(m.alias)
			if tn == nil {
				continue
			}
			if tg := tn.get(g.rrtype); tg != nil {
				if err := visit(tz, tg, key{m.alias, g.rrtype}); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		state[k] = done
		return nil
	}
	// Visit in a fixed order so the error, when there are several cycles, is always the same.
	apexes := make([]string, 0, len(s.zones))
	for a := range s.zones {
		apexes = append(apexes, a)
	}
	slices.Sort(apexes)
	for _, a := range apexes {
		z := s.zones[a]
		names := make([]string, 0, len(z.nodes))
		for n := range z.nodes {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			for _, g := range z.nodes[name].sets {
				if err := visit(z, g, key{name, g.rrtype}); err != nil {
					return err
				}
			}
		}
	}
	return nil
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
		off, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			return fmt.Errorf("answer: zone %s (%s): record %s: %w", z.apex, z.id, rr, err)
		}
		rd := buf[off-int(rr.Header().Rdlength) : off]
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
			}
		}
	}
	return nil
}
