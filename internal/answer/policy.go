package answer

import (
	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/routing"
)

// This file is the routing phase of Build. Once every zone's groups exist and every alias points
// at its target group, decide visits each group once, its alias targets first (memoised
// recursion; checkAliases has refused cycles), computes each record set's health, asks
// routing.Decide what may answer, and keeps the decision in the snapshot. The query path then
// only calls Pick with a random number, or returns an answer assembled here when it cannot vary.
// The decision is computed once per snapshot, so a change of health means a new snapshot, exactly
// as a change of records does.

// States of a group while deciding.
const (
	unseen uint8 = iota
	deciding
	decided
)

// decider carries the decide phase's inputs and scratch space.
type decider struct {
	s       *Snapshot
	healthy func(checkID string) (healthy, known bool) // nil: every check passes
	up      []bool                                     // scratch: the health of one group's record sets
	buf     [routing.MaxPick]int                       // scratch: one fixed pick
}

// decide computes g's decision, health and, when it cannot vary, its answer; first those of the
// groups its aliases point at.
func (d *decider) decide(g *group) {
	if g.state != unseen {
		return // decided, or deciding: a cycle, which checkAliases refused
	}
	g.state = deciding
	for _, m := range g.members {
		if m.target != nil {
			d.decide(m.target)
		}
	}
	up := d.up[:0]
	for i := range g.members {
		up = append(up, d.memberUp(g, i))
	}
	d.up = up
	if g.routed {
		g.dec = routing.Decide(g.sets, up)
		g.healthy = g.dec.Healthy()
	} else {
		g.healthy = up[0] // routing.Decide's Healthy for one simple record set
	}
	d.assemble(g)
	g.state = decided
}

// memberUp is the health of record set i of g: its own health check, and for an alias with
// EvaluateTargetHealth also its target group's health (see BuildWithHealth).
func (d *decider) memberUp(g *group, i int) bool {
	rs := &g.sets[i]
	up := true
	if rs.HealthCheckId != "" && d.healthy != nil {
		h, known := d.healthy(rs.HealthCheckId)
		up = h || !known
	}
	if rs.AliasTarget != nil && rs.AliasTarget.EvaluateTargetHealth {
		t := g.members[i].target
		up = up && t != nil && t.state == decided && t.healthy
	}
	return up
}

// assemble builds g's answer when it is the same for every query: a simple record set or a fixed
// decision, over record sets with values and aliases whose targets' answers are static too. An
// alias answers with its target's records owned by its own name, keeping their TTLs.
func (d *decider) assemble(g *group) {
	var idx []int
	switch {
	case !g.routed:
		idx = append(d.buf[:0], 0)
	case g.dec.Fixed():
		idx = g.dec.Pick(0, d.buf[:0])
	default:
		return // drawn per query
	}
	if len(idx) == 1 && g.members[idx[0]].alias == "" {
		g.static, g.hasStatic = g.members[idx[0]].rrs, true // share, rather than copy
		return
	}
	var rrs []dns.RR
	synth := false
	for _, i := range idx {
		m := &g.members[i]
		switch {
		case m.alias == "":
			rrs = append(rrs, m.rrs...)
		case m.target == nil:
			// An alias to a name we do not host, or without this type: it answers nothing.
		case m.target.state != decided || !m.target.hasStatic:
			return // resolved per query: the target's answer varies
		default:
			rrs = append(rrs, withOwners(m.target.static, g.name)...)
			synth = true
		}
	}
	g.static, g.hasStatic, g.synth = rrs[:len(rrs):len(rrs)], true, synth
}

// evaluatesTarget reports whether one of g's record sets is an alias with EvaluateTargetHealth.
func (g *group) evaluatesTarget() bool {
	for i := range g.sets {
		if at := g.sets[i].AliasTarget; at != nil && at.EvaluateTargetHealth {
			return true
		}
	}
	return false
}
