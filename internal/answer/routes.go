package answer

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/routing"
)

// Route is what one routed name and type answers with under a snapshot's health states.
type Route struct {
	Name   string // the owner name, lower-case and fully qualified
	Type   string // the record type, e.g. "A"
	Answer string // a short description of the answer; see Snapshot.Routes
}

// Routes describes the answer of every group whose answer depends on health: every routed group
// (record sets with a SetIdentifier) and every alias with EvaluateTargetHealth, sorted by name,
// then type. The same zones and health states always give the same descriptions, so comparing
// the Routes of two snapshots shows which answers a change of health or records changed.
//
// An Answer names what the group answers with now:
//
//   - a fixed answer lists the record sets by SetIdentifier with their values, e.g.
//     "primary (192.0.2.1)", or "a (192.0.2.1), b (192.0.2.2)" for a multivalue group of up to 8;
//   - a weighted pick lists its candidates and their shares, e.g.
//     "weighted: a (192.0.2.1) 60%, b (192.0.2.2) 40%";
//   - a multivalue sample of 8 counts its pool and names the record sets left out, e.g.
//     "multivalue: 8 of 12 healthy" or "multivalue: 8 of 12 healthy (unhealthy: c, f)";
//   - an alias shows its target and what the target answers, e.g.
//     "primary (alias pool.example.com. -> weighted: a (192.0.2.1) 50%, b (192.0.2.2) 50%)", or
//     "nothing" for a target we do not host;
//   - a group with no healthy record set ends in " [all unhealthy: fail-open]" (a routed group)
//     or " [unhealthy]" (a simple alias evaluating its target's health).
func (s *Snapshot) Routes() []Route {
	d := describer{s: s, memo: map[*group]string{}}
	out := make([]Route, len(s.routes))
	for i, g := range s.routes {
		out[i] = Route{Name: g.name, Type: dns.TypeToString[g.rrtype], Answer: d.group(g)}
	}
	// Stable: a name two zones hold (occluded in the parent) comes in zone order.
	slices.SortStableFunc(out, func(a, b Route) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Type, b.Type))
	})
	return out
}

// collectRoutes lists the groups Routes describes, zone by zone in apex order; Routes sorts them
// (here Build would no longer be linear).
func (s *Snapshot) collectRoutes() {
	apexes := make([]string, 0, len(s.zones))
	for a := range s.zones {
		apexes = append(apexes, a)
	}
	slices.Sort(apexes)
	for _, a := range apexes {
		for _, g := range s.zones[a].dyn {
			if g.d.routed || g.evaluatesTarget() {
				s.routes = append(s.routes, g)
			}
		}
	}
}

// describer builds the descriptions of one Routes call, each group's once.
type describer struct {
	s    *Snapshot
	memo map[*group]string
}

// group describes what g answers with.
func (d *describer) group(g *group) string {
	if s, ok := d.memo[g]; ok {
		return s
	}
	d.memo[g] = "..." // a cycle, which Build refuses; never loop
	var b strings.Builder
	if g.plain() {
		d.values(&b, g.rrs)
		d.memo[g] = b.String()
		return d.memo[g]
	}
	st := &d.s.dyn[g.dyn]
	switch {
	case !g.d.routed:
		d.member(&b, g, 0)
	case st.dec.Fixed():
		var buf [routing.MaxPick]int
		for k, i := range st.dec.Pick(0, buf[:0]) {
			if k > 0 {
				b.WriteString(", ")
			}
			d.member(&b, g, i)
		}
	case routing.Policy(g.d.sets[0]) == "multivalue":
		cand := st.dec.Candidates(nil)
		b.WriteString("multivalue: ")
		b.WriteString(strconv.Itoa(routing.MaxPick))
		b.WriteString(" of ")
		b.WriteString(strconv.Itoa(len(cand)))
		if st.dec.Healthy() && len(cand) < len(g.d.sets) {
			b.WriteString(" healthy (unhealthy: ")
			sep := ""
			for i := range g.d.sets {
				if !slices.Contains(cand, i) {
					b.WriteString(sep)
					b.WriteString(g.d.sets[i].SetIdentifier)
					sep = ", "
				}
			}
			b.WriteString(")")
		} else if st.dec.Healthy() {
			b.WriteString(" healthy")
		}
	default: // a weighted or uniform pick of one
		b.WriteString("weighted: ")
		for k, i := range st.dec.Candidates(nil) {
			if k > 0 {
				b.WriteString(", ")
			}
			d.member(&b, g, i)
			b.WriteString(" ")
			b.WriteString(percent(st.dec.Share(k)))
		}
	}
	switch {
	case st.healthy:
	case g.d.routed:
		b.WriteString(" [all unhealthy: fail-open]")
	default:
		b.WriteString(" [unhealthy]")
	}
	d.memo[g] = b.String()
	return d.memo[g]
}

// member describes record set i of g: "id (values)" in a routed group, the values alone in a
// simple one.
func (d *describer) member(b *strings.Builder, g *group, i int) {
	id := g.d.sets[i].SetIdentifier
	if id != "" {
		b.WriteString(id)
		b.WriteString(" (")
	}
	m := &g.d.members[i]
	switch {
	case m.alias == "":
		d.values(b, m.rrs)
	default:
		b.WriteString("alias ")
		b.WriteString(m.alias)
		b.WriteString(" -> ")
		if m.target == nil {
			b.WriteString("nothing")
		} else {
			b.WriteString(d.group(m.target))
		}
	}
	if id != "" {
		b.WriteString(")")
	}
}

// values lists the values of rrs.
func (d *describer) values(b *strings.Builder, rrs []dns.RR) {
	for k, rr := range rrs {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rdata(rr))
	}
}

// rdata is rr's value in presentation format, without its owner, TTL, class and type.
func rdata(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// percent formats a share as a whole percentage ("<1%" for a small non-zero one).
func percent(share float64) string {
	p := share * 100
	if p > 0 && p < 0.5 {
		return "<1%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}
