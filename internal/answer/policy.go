package answer

import (
	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/routing"
)

// This file is the routing phase of a build. Once every zone's groups exist and every alias
// points at its target group, decide visits each dynamic group once, its alias targets first
// (checkAliases has refused cycles), computes each record set's health, asks routing.Decide what
// may answer, and keeps the decision in the snapshot's dyn table. The query path then only calls
// Pick with a random number, or returns an answer assembled here when it cannot vary. A change of
// health makes a new table over the same groups (Snapshot.WithHealth).

// States of a group while deciding.
const (
	unseen uint8 = iota
	deciding
	decided
)

// order numbers the dynamic groups so that an alias's target comes before the alias, and lists
// them in that order in s.dynGroups.
func (s *Snapshot) order() {
	s.dynGroups = s.dynGroups[:0]
	seen := map[*group]bool{}
	var visit func(g *group)
	visit = func(g *group) {
		if g.plain() || seen[g] {
			return
		}
		seen[g] = true // a cycle, which checkAliases refused, cannot loop
		for _, m := range g.d.members {
			if m.target != nil {
				visit(m.target)
			}
		}
		g.dyn = int32(len(s.dynGroups))
		s.dynGroups = append(s.dynGroups, g)
	}
	for _, zd := range s.zones {
		for _, g := range zd.dyn {
			visit(g)
		}
	}
}

// decideAll fills a new dyn table for s.dynGroups under the given health states.
func (s *Snapshot) decideAll(healthy func(checkID string) (healthy, known bool)) {
	s.dyn = make([]dynState, len(s.dynGroups))
	d := decider{s: s, healthy: healthy}
	for _, g := range s.dynGroups {
		d.decide(g)
	}
}

// decider carries the decide phase's inputs and scratch space.
type decider struct {
	s       *Snapshot
	healthy func(checkID string) (healthy, known bool) // nil: every check passes
	up      []bool                                     // scratch: the health of one group's record sets
	buf     [routing.MaxPick]int                       // scratch: one fixed pick
}

// decide computes g's decision, health and, when it cannot vary, its answer. The groups its
// aliases point at come before it in s.dynGroups, so they are decided already.
func (d *decider) decide(g *group) {
	st := &d.s.dyn[g.dyn]
	st.state = deciding
	up := d.up[:0]
	for i := range g.d.members {
		up = append(up, d.memberUp(g, i))
	}
	d.up = up
	if g.d.routed {
		st.dec = routing.Decide(g.d.sets, up)
		st.healthy = st.dec.Healthy()
	} else {
		st.healthy = up[0] // routing.Decide's Healthy for one simple record set
	}
	d.assemble(g, st)
	st.state = decided
}

// memberUp is the health of record set i of g: its own health check, and for an alias with
// EvaluateTargetHealth also its target group's health (see BuildWithHealth).
func (d *decider) memberUp(g *group, i int) bool {
	rs := &g.d.sets[i]
	up := true
	if rs.HealthCheckId != "" && d.healthy != nil {
		h, known := d.healthy(rs.HealthCheckId)
		up = h || !known
	}
	if rs.AliasTarget != nil && rs.AliasTarget.EvaluateTargetHealth {
		t := g.d.members[i].target
		up = up && t != nil && d.s.decided(t) && d.s.groupHealthy(t)
	}
	return up
}

// decided reports whether g's answer is known: a plain group's always is.
func (s *Snapshot) decided(g *group) bool {
	return g.plain() || s.dyn[g.dyn].state == decided
}

// groupHealthy is g's health as an alias with EvaluateTargetHealth sees it.
func (s *Snapshot) groupHealthy(g *group) bool {
	return g.plain() || s.dyn[g.dyn].healthy
}

// static returns g's answer when it is the same for every query.
func (s *Snapshot) static(g *group) ([]dns.RR, bool) {
	if g.plain() {
		return g.rrs, true
	}
	st := &s.dyn[g.dyn]
	return st.static, st.hasStatic
}

// assemble builds g's answer when it is the same for every query: a simple record set or a fixed
// decision, over record sets with values and aliases whose targets' answers are static too. An
// alias answers with its target's records owned by its own name, keeping their TTLs.
func (d *decider) assemble(g *group, st *dynState) {
	var idx []int
	switch {
	case !g.d.routed:
		idx = append(d.buf[:0], 0)
	case st.dec.Fixed():
		idx = st.dec.Pick(0, d.buf[:0])
	default:
		return // drawn per query
	}
	if len(idx) == 1 && g.d.members[idx[0]].alias == "" {
		st.static, st.hasStatic = g.d.members[idx[0]].rrs, true // share, rather than copy
		return
	}
	var rrs []dns.RR
	synth := false
	for _, i := range idx {
		m := &g.d.members[i]
		if m.alias == "" {
			rrs = append(rrs, m.rrs...)
			continue
		}
		if m.target == nil {
			continue // an alias to a name we do not host, or without this type: it answers nothing
		}
		trrs, static := d.s.static(m.target)
		if !d.s.decided(m.target) || !static {
			return // resolved per query: the target's answer varies
		}
		rrs = append(rrs, withOwners(trrs, g.name)...)
		synth = true
	}
	st.static, st.hasStatic, st.synth = rrs[:len(rrs):len(rrs)], true, synth
}

// evaluatesTarget reports whether one of g's record sets is an alias with EvaluateTargetHealth.
func (g *group) evaluatesTarget() bool {
	if g.plain() {
		return false
	}
	for i := range g.d.sets {
		if at := g.d.sets[i].AliasTarget; at != nil && at.EvaluateTargetHealth {
			return true
		}
	}
	return false
}
