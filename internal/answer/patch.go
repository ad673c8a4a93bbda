package answer

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// ErrRebuild is Patch's answer to a change it cannot apply in place: the caller builds a new
// snapshot of every zone instead.
var ErrRebuild = errors.New("answer: the change needs a full rebuild")

// WithHealth returns a snapshot of the same zones under new health states (see
// BuildWithHealth). It decides the groups whose answer depends on health again and shares
// everything else with s, so its cost grows with the number of routed groups, aliases and
// record sets with health checks, not with the size of the zones.
func (s *Snapshot) WithHealth(healthy func(checkID string) (healthy, known bool)) (*Snapshot, error) {
	n := *s
	n.id = nextID.Add(1)
	n.decideAll(healthy)
	changes := map[dns.RR]slot[[]byte]{}
	for i, g := range s.dynGroups {
		if old := &s.dyn[i]; old.synth {
			for _, rr := range old.static {
				if !g.holds(rr) {
					changes[rr] = slot[[]byte]{}
				}
			}
		}
	}
	var p packer
	if err := n.packSynthesized(&p, func(rr dns.RR, b []byte) { changes[rr] = slot[[]byte]{b, true} }); err != nil {
		return nil, err
	}
	n.wire = s.wire.with(changes)
	return &n, nil
}

// packSynthesized puts the wire form of the records decide built for s's dynamic groups (an
// alias's answer, owned by its name).
func (s *Snapshot) packSynthesized(p *packer, put func(dns.RR, []byte)) error {
	for _, g := range s.dynGroups {
		if st := &s.dyn[g.dyn]; st.synth {
			zd, _ := s.exactNode(g.name)
			if err := p.addAll(zd, st.static, put); err != nil {
				return err
			}
		}
	}
	return nil
}

// holds reports whether rr is one of the records of g's own record sets.
func (g *group) holds(rr dns.RR) bool {
	if g.plain() {
		return slices.Contains(g.rrs, rr)
	}
	for _, m := range g.d.members {
		if slices.Contains(m.rrs, rr) {
			return true
		}
	}
	return false
}

// Patch returns a snapshot in which the names of the zone with id zoneID hold sets (every record
// set those names now have, in any order) and nothing else, sharing everything else with s. It
// returns ErrRebuild when the change reaches beyond those names, so that only a full build can
// apply it: the zone is new or gone; a routed record set, an alias or a record set with a health
// check is created, changed or deleted (their answers depend on other groups and on health); a
// record set an alias points at or a delegation's NS record set changes; or an address of a
// delegation's name server changes (it is in referrals built once). It returns other errors, as
// Build would, for record sets the DNS path cannot serve; s is unchanged either way.
//
// Plain record sets (one simple record set with values) are what changes most: the records a
// failover script UPSERTs, a batch of a thousand new names. Patching them costs in proportion
// to the names changed, not to the zone.
func (s *Snapshot) Patch(zoneID string, names []string, sets []zone.RecordSet) (*Snapshot, error) {
	var zd *zoneData
	for _, z := range s.zones {
		if z.id == zoneID {
			zd = z
			break
		}
	}
	if zd == nil {
		return nil, ErrRebuild
	}
	if len(names) == 0 {
		return s, nil
	}
	zz := &zone.Zone{ID: zd.id, Name: zd.apex}
	groups, err := compileGroups(zz, zd.apex, sets)
	if err != nil {
		return nil, err
	}
	byName := map[string][]*group{}
	for i := range groups {
		byName[groups[i].name] = append(byName[groups[i].name], &groups[i])
	}
	p := patcher{s: s, zd: zd, nodes: map[string]slot[*node]{}, wire: map[dns.RR]slot[[]byte]{}}
	for _, raw := range names {
		// Spelled as the record sets' names are read, or their sets would be dropped.
		name, err := canonicalName(raw)
		if err != nil {
			return nil, fmt.Errorf("answer: zone %s (%s): %w", zd.apex, zd.id, err)
		}
		if err := p.name(name, byName[name]); err != nil {
			return nil, err
		}
	}
	if len(p.nodes) == 0 {
		return s, nil
	}
	p.wildcards()
	nz := *zd
	nz.nodes = zd.nodes.with(p.nodes)
	nz.top, _ = nz.nodes.get(zd.apex)
	if nz.top == nil {
		return nil, ErrRebuild
	}
	if nz.top != zd.top {
		if err := nz.setSOA(zz); err != nil {
			return nil, err
		}
		if nz.negSOA[0] != zd.negSOA[0] {
			p.unpack(zd.negSOA)
			if err := p.pack(&nz, nz.negSOA); err != nil {
				return nil, err
			}
		}
	}
	n := *s
	n.id = nextID.Add(1)
	n.zones = maps.Clone(s.zones)
	n.zones[zd.apex] = &nz
	n.wire = s.wire.with(p.wire)
	return &n, nil
}

// patcher carries one Patch: the nodes it replaced (a slot without ok: deleted) and the
// changes of the wire table.
type patcher struct {
	s     *Snapshot
	zd    *zoneData
	nodes map[string]slot[*node]
	wire  map[dns.RR]slot[[]byte]
	pk    packer
}

// node returns the node of name as the patch has it so far, or nil.
func (p *patcher) node(name string) *node {
	if e, ok := p.nodes[name]; ok {
		return e.v
	}
	n, _ := p.zd.nodes.get(name)
	return n
}

// edit returns the node of name for the patch to change: a copy of the snapshot's, or the
// patch's own.
func (p *patcher) edit(name string) *node {
	c := &node{name: name}
	if e, ok := p.nodes[name]; ok {
		if e.ok {
			return e.v
		}
		// Deleted earlier in this patch: it starts empty, not as the snapshot had it (with
		// its records, its children and its wildcard).
	} else if n, _ := p.zd.nodes.get(name); n != nil {
		*c = *n
	}
	p.nodes[name] = slot[*node]{c, true}
	return c
}

// name makes name hold exactly groups.
func (p *patcher) name(name string, groups []*group) error {
	old := p.node(name)
	var sets []*group
	changed := false
	for _, g := range groups {
		var og *group
		if old != nil {
			og = old.get(g.rrtype)
		}
		if og != nil && sameGroup(og, g) {
			sets = append(sets, og)
			continue
		}
		if err := p.replace(og, g); err != nil {
			return err
		}
		sets = append(sets, g)
		changed = true
	}
	if old != nil {
		for _, og := range old.sets {
			if !slices.ContainsFunc(groups, func(g *group) bool { return g.rrtype == og.rrtype }) {
				if err := p.replace(og, nil); err != nil {
					return err
				}
				changed = true
			}
		}
	}
	if !changed {
		return nil
	}
	if old == nil {
		p.grow(name)
	}
	n := p.edit(name)
	n.sets = sets
	n.cname, n.cut = nil, false
	finishNode(p.zd, n)
	if len(n.sets) == 0 && n.children == 0 && name != p.zd.apex {
		p.prune(name)
	}
	return nil
}

// replace checks that group og (nil: none) may become g (nil: none) in place, and updates the
// wire table.
func (p *patcher) replace(og, g *group) error {
	for _, x := range [...]*group{og, g} {
		if x == nil {
			continue
		}
		switch {
		case !x.plain(),
			x.rrtype == dns.TypeNS && x.name != p.zd.apex,
			p.s.aliasTargets[groupKey{x.name, x.rrtype}],
			(x.rrtype == dns.TypeA || x.rrtype == dns.TypeAAAA) && p.zd.nsTargets[x.name]:
			return ErrRebuild
		}
	}
	if og != nil {
		p.unpack(og.rrs)
	}
	if g != nil {
		return p.pack(p.zd, g.rrs)
	}
	return nil
}

func (p *patcher) unpack(rrs []dns.RR) {
	for _, rr := range rrs {
		if needsWire(rr) {
			p.wire[rr] = slot[[]byte]{}
		}
	}
}

func (p *patcher) pack(zd *zoneData, rrs []dns.RR) error {
	// A patch packs a few records: give them an arena of their size, not the packer's 64 KiB,
	// which every record kept from this patch would keep alive.
	need := 0
	for _, rr := range rrs {
		if needsWire(rr) {
			need += dns.Len(rr) // more than its RDATA
		}
	}
	if cap(p.pk.arena)-len(p.pk.arena) < need {
		p.pk.arena = make([]byte, 0, need)
	}
	return p.pk.addAll(zd, rrs, func(rr dns.RR, b []byte) { p.wire[rr] = slot[[]byte]{b, true} })
}

// grow adds the empty non-terminals a new name needs and counts it among its parent's children.
func (p *patcher) grow(name string) {
	for anc := range ancestors(name, p.zd.labels) {
		created := p.node(anc) == nil
		p.edit(anc).children++
		if !created {
			return
		}
	}
}

// prune deletes the node of name, which holds nothing and has no children, and the empty
// non-terminals above it that had no other child.
func (p *patcher) prune(name string) {
	p.nodes[name] = slot[*node]{}
	for anc := range ancestors(name, p.zd.labels) {
		a := p.edit(anc)
		a.children--
		if a.children > 0 || len(a.sets) > 0 || anc == p.zd.apex {
			return
		}
		p.nodes[anc] = slot[*node]{}
	}
}

// wildcards points the parents of the wildcard nodes the patch replaced or deleted at them.
func (p *patcher) wildcards() {
	var todo []string
	for name := range p.nodes {
		if isWildcard(name, p.zd.apex) {
			todo = append(todo, name)
		}
	}
	for len(todo) > 0 {
		name := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		parent, w := parentName(name), p.node(name)
		if pn := p.node(parent); pn == nil || pn.wild == w {
			continue
		}
		_, edited := p.nodes[parent]
		p.edit(parent).wild = w
		if !edited && isWildcard(parent, p.zd.apex) {
			// "*.*.x": the copy of "*.x" made here is a new node for x.wild.
			todo = append(todo, parent)
		}
	}
}

// isWildcard reports whether name, in the zone with that apex, is a wildcard: a node that
// answers for the names its parent lacks.
func isWildcard(name, apex string) bool {
	return strings.HasPrefix(name, "*.") && name != apex
}

// sameGroup reports whether two groups hold the same record sets.
func sameGroup(a, b *group) bool {
	if a.plain() != b.plain() {
		return false
	}
	if !a.plain() {
		return reflect.DeepEqual(a.d.sets, b.d.sets)
	}
	if len(a.rrs) != len(b.rrs) {
		return false
	}
	for i := range a.rrs {
		x, y := a.rrs[i], b.rrs[i]
		if x.Header().Ttl != y.Header().Ttl || !dns.IsDuplicate(x, y) {
			return false
		}
		// IsDuplicate compares the names in RDATA without case, but answers give them as
		// they are written: "www.p.test." becoming "WWW.p.test." is a change.
		if t := x.Header().Rrtype; t != dns.TypeA && t != dns.TypeAAAA && x.String() != y.String() {
			return false
		}
	}
	return true
}
