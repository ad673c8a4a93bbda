package zone

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// View is what Plan reads of a hosted zone: its identity and, one name at a time, its record
// sets. Plan asks only for the names the batch changes, the same-zone alias targets it follows
// and the apex, so a View over a store transaction plans a batch without loading the zone.
type View interface {
	// ID returns the hosted zone id without "/hostedzone/".
	ID() string
	// Name returns the zone's apex, a canonical name.
	Name() string
	// At returns the record sets named name (a canonical name, possibly outside the zone) in
	// Less order. Plan does not modify them.
	At(name string) ([]RecordSet, error)
}

// zoneView is the View of a whole zone in memory.
type zoneView struct{ z *Zone }

func (v zoneView) ID() string   { return v.z.ID }
func (v zoneView) Name() string { return v.z.Name }

func (v zoneView) At(name string) ([]RecordSet, error) {
	lo, hi := v.z.nameRange(name)
	return v.z.RecordSets[lo:hi:hi], nil
}

// Plan validates change batch b against z and returns its effect, without modifying z; it is
// PlanView over the whole zone.
//
// The changes are applied in order to a working copy of the zone (so a DELETE followed by a
// CREATE of the same record set works) and either all apply or none: a malformed request gives
// the first *InvalidInputError, anything else one *InvalidChangeBatchError listing every
// problem in Route 53's words. The Diff is minimal and always puts the apex SOA with its serial
// increased by one (RFC 1982 arithmetic, skipping 0). When the batch UPSERTs the SOA, its serial
// is kept if it is greater than the current one and replaced by current + 1 otherwise, so that
// secondaries always see a change.
//
// Values are stored in normalised presentation format (as miekg/dns prints them: names fully
// qualified, TXT strings quoted), names in canonical form.
func Plan(z *Zone, b ChangeBatch) (Diff, error) {
	return PlanView(zoneView{z}, b)
}

// PlanView is Plan against the zone v reads. An error from v ends the plan: PlanView returns it,
// wrapped, instead of a verdict on the batch.
func PlanView(v View, b ChangeBatch) (Diff, error) {
	apex, id := v.Name(), v.ID()
	if len(b.Comment) > MaxComment {
		return Diff{}, &InvalidInputError{Message: maxLengthMsg(b.Comment, MaxComment, "ResourceDescription")}
	}
	if len(b.Changes) == 0 {
		return Diff{}, &InvalidInputError{Message: "Invalid XML ; cvc-complex-type.2.4.b: The content of element 'Changes' is not complete. One of '{\"https://route53.amazonaws.com/doc/2013-04-01/\":Change}' is expected."}
	}

	// Each change on its own; the first malformed one ends the request.
	prepared := make([]RecordSet, len(b.Changes))
	probs := make([][]problem, len(b.Changes))
	records, chars := 0, 0
	for i, ch := range b.Changes {
		switch ch.Action {
		case ActionCreate, ActionDelete, ActionUpsert:
		default:
			return Diff{}, &InvalidInputError{Message: enumMsg(ch.Action, "CREATE, DELETE, UPSERT")}
		}
		prepared[i], probs[i] = checkRecordSet(apex, ch.ResourceRecordSet, checkOpts{
			action:      ch.Action,
			parseValues: true,
			delete:      ch.Action == ActionDelete,
		})
		for _, p := range probs[i] {
			if p.input {
				return Diff{}, &InvalidInputError{Message: p.msg}
			}
		}
		times := 1
		if ch.Action == ActionUpsert {
			times = 2
		}
		if ch.ResourceRecordSet.AliasTarget != nil {
			records += times
		}
		records += times * len(ch.ResourceRecordSet.ResourceRecords)
		for _, v := range ch.ResourceRecordSet.ResourceRecords {
			chars += times * len(v.Value)
		}
	}

	var msgs []string
	if records > MaxBatchRecords {
		msgs = append(msgs, fmt.Sprintf("Number of records limit of %d exceeded.", MaxBatchRecords))
	}
	if chars > MaxBatchValueChars {
		msgs = append(msgs, fmt.Sprintf("Number of characters in values limit of %d exceeded.", MaxBatchValueChars))
	}

	// The changes in order, against a working copy.
	w := newWorking(id, apex, v)
	type keyState struct{ deleted, written bool }
	states := make(map[Key]keyState, len(b.Changes))
	for i, ch := range b.Changes {
		if len(probs[i]) > 0 {
			for _, p := range probs[i] {
				msgs = append(msgs, p.msg)
			}
			continue
		}
		rs := prepared[i]
		k := rs.Key()
		st := states[k]
		invalid := st.written || (ch.Action == ActionDelete && st.deleted)
		if ch.Action == ActionDelete {
			st.deleted = true
		} else {
			st.written = true
		}
		states[k] = st
		if invalid {
			msgs = append(msgs, fmt.Sprintf("The request contains an invalid set of changes for a resource record set '%s %s'", k.Type, Route53Name(k.Name)))
			continue
		}
		cur := w.get(k)
		switch ch.Action {
		case ActionDelete:
			switch {
			case k.Name == apex && k.Type == "SOA":
				msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
			case k.Name == apex && k.Type == "NS":
				msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
			case cur == nil:
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", setDesc(k)))
			case !equalSets(cur, &rs):
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", setDesc(k)))
			default:
				w.del(k)
			}
		default:
			if ch.Action == ActionCreate && cur != nil {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", setDesc(k)))
				continue
			}
			if m := w.conflicts(&rs); len(m) > 0 {
				msgs = append(msgs, m...)
				continue
			}
			w.put(rs)
		}
	}

	// The rules between record sets, on the result.
	if len(msgs) == 0 {
		for _, name := range w.names {
			sets := w.at(name)
			for _, p := range checkName(apex, sets) {
				msgs = append(msgs, p.msg)
			}
		}
	}
	if len(msgs) == 0 {
		msgs = append(msgs, w.aliasCycles()...)
	}
	if len(msgs) == 0 {
		if m := w.bumpSOA(); m != "" {
			msgs = append(msgs, m)
		}
	}
	d := w.diff()
	if w.err != nil {
		return Diff{}, w.err
	}
	if len(msgs) > 0 {
		return Diff{}, &InvalidChangeBatchError{Messages: dedupe(msgs)}
	}
	return d, nil
}

// working is a copy-on-write view of a zone: changed record sets by key over the record sets
// the View returned, which it reads once per name.
type working struct {
	id, apex string
	v        View
	err      error                  // the first error of v; what was read after it is not trusted
	base     map[string][]RecordSet // name -> the record sets v returned for it
	over     map[Key]*RecordSet     // nil: deleted
	keys     []Key                  // the keys of over, in the order they were first changed
	names    []string               // the names of keys, once each
	byName   map[string][]Key
}

func newWorking(id, apex string, v View) *working {
	return &working{id: id, apex: apex, v: v, base: make(map[string][]RecordSet),
		over: make(map[Key]*RecordSet), byName: make(map[string][]Key)}
}

// baseAt returns the record sets named name before the batch, reading them on first use.
func (w *working) baseAt(name string) []RecordSet {
	sets, ok := w.base[name]
	if ok || w.err != nil {
		return sets
	}
	sets, err := w.v.At(name)
	if err != nil {
		w.err = fmt.Errorf("zone: read %s: %w", name, err)
		return nil
	}
	w.base[name] = sets
	return sets
}

// baseGet returns the record set with key k before the batch, or nil.
func (w *working) baseGet(k Key) *RecordSet {
	sets := w.baseAt(k.Name)
	for i := range sets {
		if sets[i].Key() == k {
			return &sets[i]
		}
	}
	return nil
}

func (w *working) get(k Key) *RecordSet {
	if rs, ok := w.over[k]; ok {
		return rs
	}
	return w.baseGet(k)
}

func (w *working) touch(k Key) {
	if _, ok := w.over[k]; ok {
		return
	}
	w.keys = append(w.keys, k)
	if _, ok := w.byName[k.Name]; !ok {
		w.names = append(w.names, k.Name)
	}
	w.byName[k.Name] = append(w.byName[k.Name], k)
}

func (w *working) put(rs RecordSet) {
	k := rs.Key()
	w.touch(k)
	w.over[k] = &rs
}

func (w *working) del(k Key) {
	w.touch(k)
	w.over[k] = nil
}

// at returns the record sets named name: the unchanged ones first, then the changed ones.
func (w *working) at(name string) []*RecordSet {
	sets := w.baseAt(name)
	out := make([]*RecordSet, 0, len(sets)+len(w.byName[name]))
	for i := range sets {
		if _, changed := w.over[sets[i].Key()]; !changed {
			out = append(out, &sets[i])
		}
	}
	for _, k := range w.byName[name] {
		if rs := w.over[k]; rs != nil {
			out = append(out, rs)
		}
	}
	return out
}

// conflicts returns why rs cannot be written next to the other record sets of its name: a
// CNAME conflict, a mix of routing policies, a missing same-zone alias target.
func (w *working) conflicts(rs *RecordSet) []string {
	var msgs []string
	k := rs.Key()
	pol := policyOf(rs)
	mixed := false
	for _, o := range w.at(rs.Name) {
		if o.Key() == k {
			continue
		}
		switch {
		case rs.Type == "CNAME" && o.Type != "CNAME":
			msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", Route53Name(rs.Name), Route53Name(w.apex)))
		case rs.Type != "CNAME" && o.Type == "CNAME":
			msgs = append(msgs, fmt.Sprintf("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone %s", rs.Type, Route53Name(rs.Name), Route53Name(w.apex)))
		case o.Type == rs.Type && policyOf(o) != pol && !mixed:
			mixed = true
			msgs = append(msgs, fmt.Sprintf("%s cannot be created as a non-%s set exists with the same name and type.", groupDesc(k), policyWords[pol]))
		}
	}
	if a := rs.AliasTarget; a != nil && a.HostedZoneId == w.id {
		target := fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s", Route53Name(a.DNSName), rs.Type, w.id)
		if !dns.IsSubDomain(w.apex, a.DNSName) {
			msgs = append(msgs, target+", but the alias target name does not lie within the target zone")
		} else if !slices.ContainsFunc(w.at(a.DNSName), func(t *RecordSet) bool { return t.Type == rs.Type && t.Key() != k }) {
			msgs = append(msgs, target+", but that target was not found")
		}
	}
	return dedupe(msgs)
}

// aliasCycles returns a message for each alias record set the batch writes that leads, through
// aliases within this zone, back to itself: such a name could never be answered.
func (w *working) aliasCycles() []string {
	type node struct{ name, typ string }
	targets := func(n node) []node { // the same-zone alias targets of the group n
		var out []node
		for _, rs := range w.at(n.name) {
			if a := rs.AliasTarget; rs.Type == n.typ && a != nil && a.HostedZoneId == w.id {
				out = append(out, node{a.DNSName, n.typ})
			}
		}
		return out
	}
	var msgs []string
	for _, k := range w.keys {
		rs := w.over[k]
		if rs == nil || rs.AliasTarget == nil {
			continue
		}
		start := node{k.Name, k.Type}
		seen := map[node]bool{}
		path := []string{Route53Name(k.Name)}
		var walk func(n node) bool
		walk = func(n node) bool {
			for _, t := range targets(n) {
				if t == start {
					path = append(path, Route53Name(t.name))
					return true
				}
				if seen[t] {
					continue
				}
				seen[t] = true
				path = append(path, Route53Name(t.name))
				if walk(t) {
					return true
				}
				path = path[:len(path)-1]
			}
			return false
		}
		if walk(start) {
			msgs = append(msgs, fmt.Sprintf("Alias record sets of type %s form a cycle: %s", k.Type, strings.Join(path, " -> ")))
		}
	}
	return msgs
}

// bumpSOA puts the apex SOA with its next serial; it returns a message when the zone has no
// usable SOA.
func (w *working) bumpSOA() string {
	const noSOA = "A HostedZone must contain exactly one SOA record."
	k := Key{Name: w.apex, Type: "SOA"}
	base := soaOf(w.baseGet(k))
	cur := w.get(k)
	if base == nil || cur == nil || cur.TTL == nil || len(cur.ResourceRecords) != 1 {
		return noSOA
	}
	rr, err := ParseValue(cur.Name, "SOA", uint32(*cur.TTL), cur.ResourceRecords[0].Value)
	if err != nil {
		return noSOA
	}
	soa := rr.(*dns.SOA)
	if _, upserted := w.over[k]; !upserted || !serialGreater(soa.Serial, base.Serial) {
		soa.Serial = nextSerial(base.Serial)
	}
	next := cloneSet(*cur)
	next.ResourceRecords = []ResourceRecord{{Value: Value(soa)}}
	w.put(next)
	return ""
}

// soaOf returns the SOA record of the record set rs, or nil when rs is nil or not one SOA.
func soaOf(rs *RecordSet) *dns.SOA {
	if rs == nil {
		return nil
	}
	rrs, err := rs.RRs()
	if err != nil || len(rrs) != 1 {
		return nil
	}
	soa, _ := rrs[0].(*dns.SOA)
	return soa
}

// serialGreater reports whether serial a is greater than b in RFC 1982 arithmetic.
func serialGreater(a, b uint32) bool {
	return a != b && int32(a-b) > 0
}

// nextSerial is s + 1 with wraparound, skipping 0 (which some secondaries treat specially).
func nextSerial(s uint32) uint32 {
	s++
	if s == 0 {
		s = 1
	}
	return s
}

// diff returns the minimal Diff from the zone to the working copy.
func (w *working) diff() Diff {
	var d Diff
	for _, k := range w.keys {
		final, old := w.over[k], w.baseGet(k)
		switch {
		case final == nil && old != nil:
			d.Delete = append(d.Delete, k)
		case final != nil && (old == nil || !equalSets(old, final) || k.Type == "SOA"):
			d.Put = append(d.Put, *final)
		}
	}
	sortRecordSets(d.Put)
	slices.SortFunc(d.Delete, CompareKeys)
	return d
}

// equalSets reports whether two record sets are the same: every field, the values in any
// order (compared as DNS compares RDATA).
func equalSets(a, b *RecordSet) bool {
	if a.Name != b.Name || a.Type != b.Type || a.SetIdentifier != b.SetIdentifier ||
		!eqPtr(a.TTL, b.TTL) || !eqPtr(a.Weight, b.Weight) || a.Region != b.Region ||
		a.Failover != b.Failover || mva(a) != mva(b) || a.HealthCheckId != b.HealthCheckId ||
		a.TrafficPolicyInstanceId != b.TrafficPolicyInstanceId ||
		!eqPtr(a.GeoLocation, b.GeoLocation) || !eqPtr(a.CidrRoutingConfig, b.CidrRoutingConfig) ||
		!eqGeoProximity(a.GeoProximityLocation, b.GeoProximityLocation) {
		return false
	}
	if (a.AliasTarget == nil) != (b.AliasTarget == nil) {
		return false
	}
	if a.AliasTarget != nil {
		x, y := *a.AliasTarget, *b.AliasTarget
		x.HostedZoneId = strings.TrimPrefix(x.HostedZoneId, "/hostedzone/")
		y.HostedZoneId = strings.TrimPrefix(y.HostedZoneId, "/hostedzone/")
		if x != y {
			return false
		}
	}
	return equalValues(a.Name, a.Type, a.ResourceRecords, b.ResourceRecords)
}

func mva(rs *RecordSet) bool { return rs.MultiValueAnswer != nil && *rs.MultiValueAnswer }

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func eqGeoProximity(a, b *GeoProximityLocation) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.AWSRegion == b.AWSRegion && a.LocalZoneGroup == b.LocalZoneGroup &&
		eqPtr(a.Coordinates, b.Coordinates) && eqPtr(a.Bias, b.Bias)
}

// equalValues reports whether a and b hold the same values in any order.
func equalValues(name, typ string, a, b []ResourceRecord) bool {
	if len(a) != len(b) {
		return false
	}
	x := make([]string, len(a))
	y := make([]string, len(b))
	for i := range a {
		x[i], y[i] = a[i].Value, b[i].Value
	}
	slices.Sort(x)
	slices.Sort(y)
	if slices.Equal(x, y) {
		return true
	}
	// Slow path: parse, and match each value of a with an unused equal value of b.
	used := make([]bool, len(b))
	for _, va := range a {
		ra, err := ParseValue(name, typ, 0, va.Value)
		if err != nil {
			return false
		}
		found := false
		for j, vb := range b {
			if used[j] {
				continue
			}
			rb, err := ParseValue(name, typ, 0, vb.Value)
			if err == nil && dns.IsDuplicate(ra, rb) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
