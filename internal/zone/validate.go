package zone

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Types lists the record types a record set can have, in Route 53's (RRType) order.
var Types = []string{"SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS"}

var supportedTypes = func() map[string]uint16 {
	m := make(map[string]uint16, len(Types))
	for _, t := range Types {
		m[t] = dns.StringToType[t]
	}
	return m
}()

// Limits of one change batch and of one record set (Route 53's).
const (
	MaxBatchRecords    = 1000
	MaxBatchValueChars = 32000
	MaxValueLength     = 4000
	MaxSetIdentifier   = 128
	MaxHealthCheckID   = 64
	MaxComment         = 256
	MaxTTL             = math.MaxInt32
)

// problem is one reason a record set or change is refused. input problems are Route 53
// InvalidInput errors (malformed requests); the others are InvalidChangeBatch messages.
type problem struct {
	input bool
	msg   string
}

// checkOpts says how checkRecordSet reads a record set.
type checkOpts struct {
	action      string // the change's Action, for messages; "" outside a change batch
	parseValues bool   // parse (and normalise) every value; false when a parser produced them
	delete      bool   // a DELETE: only the request's shape and name are checked
	stored      bool   // names are in stored (presentation) form, not Route 53's spelling
}

// canonical canonicalises a name spelled as the options say.
func (o checkOpts) canonical(name string) (string, error) {
	if o.stored {
		return canonicalPresentation(name)
	}
	return CanonicalName(name)
}

// policy is a record set's routing policy.
type policy int

const (
	policySimple policy = iota
	policyWeighted
	policyFailover
	policyLatency
	policyGeolocation
	policyMultivalue
	policyGeoproximity
	policyCIDR
	policyInvalid // a SetIdentifier with no or several policies (an input problem)
)

var policyWords = [...]string{"simple", "weighted", "failover", "latency", "geolocation", "multivalue answer", "geoproximity", "IP-based"}

// policyOf returns the routing policy of rs from its routing fields.
func policyOf(rs *RecordSet) policy {
	p, n := policySimple, 0
	if rs.Weight != nil {
		p, n = policyWeighted, n+1
	}
	if rs.Region != "" {
		p, n = policyLatency, n+1
	}
	if rs.Failover != "" {
		p, n = policyFailover, n+1
	}
	if rs.GeoLocation != nil {
		p, n = policyGeolocation, n+1
	}
	if rs.MultiValueAnswer != nil && *rs.MultiValueAnswer {
		p, n = policyMultivalue, n+1
	}
	if rs.GeoProximityLocation != nil {
		p, n = policyGeoproximity, n+1
	}
	if rs.CidrRoutingConfig != nil {
		p, n = policyCIDR, n+1
	}
	if n > 1 || (n == 0) != (rs.SetIdentifier == "") {
		return policyInvalid
	}
	return p
}

// setDesc is Route 53's "[name='www.example.com.', type='A']" naming of a record set.
func setDesc(k Key) string {
	if k.SetIdentifier != "" {
		return fmt.Sprintf("[name='%s', type='%s', set identifier='%s']", Route53Name(k.Name), k.Type, k.SetIdentifier)
	}
	return fmt.Sprintf("[name='%s', type='%s']", Route53Name(k.Name), k.Type)
}

// groupDesc is "RRSet with DNS name x., type A, SetIdentifier id" (no SetIdentifier part
// for a set without one).
func groupDesc(k Key) string {
	if k.SetIdentifier != "" {
		return fmt.Sprintf("RRSet with DNS name %s, type %s, SetIdentifier %s", Route53Name(k.Name), k.Type, k.SetIdentifier)
	}
	return fmt.Sprintf("RRSet with DNS name %s, type %s", Route53Name(k.Name), k.Type)
}

// changeDesc is Route 53's "Change with [Action=CREATE, Name=x., Type=A, SetIdentifier=null]".
// changeWhere names a record set (or the change of one) in a message as changeDesc does, when the
// message is formatted: a valid set, most of a big import's, is never named.
type changeWhere struct {
	action, name, typ, setID string
	canonical                bool // name is canonical, and shown as Route 53 shows it
}

func (w changeWhere) String() string {
	name := w.name
	if w.canonical {
		name = Route53Name(name)
	}
	return changeDesc(w.action, name, w.typ, w.setID)
}

func changeDesc(action, name, typ, setID string) string {
	if setID == "" {
		setID = "null"
	}
	if action == "" {
		return fmt.Sprintf("ResourceRecordSet with [Name=%s, Type=%s, SetIdentifier=%s]", name, typ, setID)
	}
	return fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, name, typ, setID)
}

func enumMsg(value, enum string) string {
	return fmt.Sprintf("Invalid XML ; cvc-enumeration-valid: Value '%s' is not facet-valid with respect to enumeration '[%s]'. It must be a value from the enumeration.", value, enum)
}

func maxLengthMsg(value string, max int, typ string) string {
	return fmt.Sprintf("Invalid XML ; cvc-maxLength-valid: Value '%s' with length = '%d' is not facet-valid with respect to maxLength '%d' for type '%s'.", value, len(value), max, typ)
}

func rangeMsg(v, lo, hi int64, typ string) string {
	if v < lo {
		return fmt.Sprintf("Invalid XML ; cvc-minInclusive-valid: Value '%d' is not facet-valid with respect to minInclusive '%d' for type '%s'.", v, lo, typ)
	}
	return fmt.Sprintf("Invalid XML ; cvc-maxInclusive-valid: Value '%d' is not facet-valid with respect to maxInclusive '%d' for type '%s'.", v, hi, typ)
}

// ValidateRecordSet checks one record set on its own, as a change batch would create it in the
// zone named zoneName: its fields, its name and its values. It does not see the rest of the
// zone (existing sets, CNAME conflicts, routing groups). The error is an *InvalidInputError for
// a malformed record set, else an *InvalidChangeBatchError listing every problem.
func ValidateRecordSet(zoneName string, rs RecordSet) error {
	_, probs := checkRecordSet(zoneName, rs, checkOpts{parseValues: true})
	return problemsError(probs)
}

// problemsError turns problems into the error Plan returns: the first input problem, else all
// the others as one InvalidChangeBatchError.
func problemsError(probs []problem) error {
	if len(probs) == 0 {
		return nil
	}
	var msgs []string
	for _, p := range probs {
		if p.input {
			return &InvalidInputError{Message: p.msg}
		}
		msgs = append(msgs, p.msg)
	}
	return &InvalidChangeBatchError{Messages: dedupe(msgs)}
}

func dedupe(msgs []string) []string {
	seen := make(map[string]bool, len(msgs))
	out := msgs[:0]
	for _, m := range msgs {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// checkRecordSet checks rs and returns its canonical form: canonical names, values in
// normalised presentation format (when parsed), routing fields normalised, pointers copied.
func checkRecordSet(zoneName string, in RecordSet, o checkOpts) (RecordSet, []problem) {
	var probs []problem
	inputf := func(format string, args ...any) { probs = append(probs, problem{true, fmt.Sprintf(format, args...)}) }
	batchf := func(format string, args ...any) { probs = append(probs, problem{false, fmt.Sprintf(format, args...)}) }

	rs := cloneSet(in)
	if rs.MultiValueAnswer != nil && !*rs.MultiValueAnswer {
		rs.MultiValueAnswer = nil
	}
	if rs.AliasTarget != nil {
		rs.AliasTarget.HostedZoneId = strings.TrimPrefix(rs.AliasTarget.HostedZoneId, "/hostedzone/")
	}

	// The name, canonical when valid; messages show it as Route 53 would.
	var nameErr *nameError
	where := changeWhere{action: o.action, name: in.Name, typ: in.Type, setID: in.SetIdentifier}
	if in.Name != "" {
		c, err := o.canonical(in.Name)
		if err != nil {
			nameErr, _ = err.(*nameError)
			if nameErr == nil {
				nameErr = &nameError{"InvalidDomainName", "Domain name is not valid", in.Name}
			}
		} else {
			rs.Name = c
			where.name, where.canonical = c, true
		}
	}

	// Input problems: the request's shape, as Route 53's schema checks it.
	if in.Name == "" {
		inputf("Invalid request: Missing field 'Name' in %s", where)
	}
	if _, ok := supportedTypes[in.Type]; !ok {
		inputf("%s", enumMsg(in.Type, strings.Join(Types, ", ")))
	}
	if len(in.SetIdentifier) > MaxSetIdentifier {
		inputf("%s", maxLengthMsg(in.SetIdentifier, MaxSetIdentifier, "ResourceRecordSetIdentifier"))
	}
	if rs.TTL != nil && (*rs.TTL < 0 || *rs.TTL > MaxTTL) {
		inputf("%s", rangeMsg(*rs.TTL, 0, MaxTTL, "TTL"))
	}
	if rs.Weight != nil && (*rs.Weight < 0 || *rs.Weight > 255) {
		inputf("%s", rangeMsg(*rs.Weight, 0, 255, "ResourceRecordSetWeight"))
	}
	if rs.Failover != "" && rs.Failover != "PRIMARY" && rs.Failover != "SECONDARY" {
		inputf("%s", enumMsg(rs.Failover, "PRIMARY, SECONDARY"))
	}
	if len(rs.Region) > 64 {
		inputf("%s", maxLengthMsg(rs.Region, 64, "ResourceRecordSetRegion"))
	}
	if len(rs.HealthCheckId) > MaxHealthCheckID {
		inputf("%s", maxLengthMsg(rs.HealthCheckId, MaxHealthCheckID, "HealthCheckId"))
	}
	for _, v := range rs.ResourceRecords {
		if len(v.Value) > MaxValueLength {
			inputf("%s", maxLengthMsg(v.Value, MaxValueLength, "RData"))
		}
	}
	if g := rs.GeoLocation; g != nil {
		checkGeoLocation(g, where, inputf)
	}
	if c := rs.CidrRoutingConfig; c != nil {
		checkCIDR(c, where, inputf)
	}
	if g := rs.GeoProximityLocation; g != nil {
		checkGeoProximity(g, where, inputf)
	}
	hasValues := rs.TTL != nil || len(rs.ResourceRecords) > 0
	completeValues := rs.TTL != nil && len(rs.ResourceRecords) > 0
	switch n := b2i(rs.AliasTarget != nil) + b2i(hasValues) + b2i(rs.TrafficPolicyInstanceId != ""); {
	case n > 1:
		inputf("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", where)
	case n == 0 || (hasValues && !completeValues):
		inputf("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", where)
	}
	if rs.TrafficPolicyInstanceId != "" {
		inputf("Invalid request: TrafficPolicyInstanceId is not supported in %s", where)
	}
	if a := rs.AliasTarget; a != nil {
		if a.HostedZoneId == "" {
			inputf("Invalid request: Missing field 'AliasTarget.HostedZoneId' in %s", where)
		} else if len(a.HostedZoneId) > 32 {
			inputf("%s", maxLengthMsg(a.HostedZoneId, 32, "ResourceId"))
		}
		if a.DNSName == "" {
			inputf("Invalid request: Missing field 'AliasTarget.DNSName' in %s", where)
		}
	}
	npol := b2i(rs.Weight != nil) + b2i(rs.Region != "") + b2i(rs.Failover != "") + b2i(rs.GeoLocation != nil) +
		b2i(rs.MultiValueAnswer != nil) + b2i(rs.GeoProximityLocation != nil) + b2i(rs.CidrRoutingConfig != nil)
	switch {
	case rs.SetIdentifier != "" && npol == 0:
		inputf("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in %s", where)
	case rs.SetIdentifier != "" && npol > 1:
		inputf("Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found more than one in %s", where)
	case rs.SetIdentifier == "" && npol > 0:
		inputf("Invalid request: Missing field 'SetIdentifier' in %s", where)
	}
	if len(probs) > 0 {
		return rs, probs
	}

	// InvalidChangeBatch problems: the name.
	if nameErr != nil {
		batchf("%s", nameErr.fatal())
		return rs, probs
	}
	name := rs.Name
	if !dns.IsSubDomain(zoneName, name) {
		batchf("RRSet with DNS name %s is not permitted in zone %s", Route53Name(name), Route53Name(zoneName))
		return rs, probs
	}
	if ls := labels(name); slices.Contains(ls[1:], "*") {
		batchf("RRSet with DNS name %s is not permitted: the * wildcard is only allowed as the leftmost label", Route53Name(name))
	} else if ls[0] == "*" && rs.Type == "NS" {
		batchf("RRSet of type NS with DNS name %s is not permitted: wildcard NS records are not supported", Route53Name(name))
	}
	if o.delete {
		if rs.AliasTarget != nil {
			if c, err := o.canonical(rs.AliasTarget.DNSName); err == nil {
				rs.AliasTarget.DNSName = c
			}
		}
		if o.parseValues {
			normaliseValues(&rs)
		}
		return rs, probs
	}

	// The type's own rules.
	apex := name == zoneName
	switch {
	case rs.Type == "SOA" && !apex:
		batchf("RRSet of type SOA with DNS name %s is not permitted: SOA records are only allowed at the zone apex %s", Route53Name(name), Route53Name(zoneName))
	case (rs.Type == "NS" || rs.Type == "SOA") && rs.AliasTarget != nil:
		batchf("RRSet of type %s with DNS name %s is not permitted: alias records of type NS and SOA are not supported", rs.Type, Route53Name(name))
	case (rs.Type == "NS" || rs.Type == "SOA") && apex && rs.SetIdentifier != "":
		batchf("RRSet of type %s with DNS name %s is not permitted: the zone's own SOA and NS records cannot have a routing policy", rs.Type, Route53Name(name))
	}
	if (rs.Type == "CNAME" || rs.Type == "SOA") && len(rs.ResourceRecords) > 1 {
		batchf("RRSet of type %s with DNS name %s must contain exactly one resource record", rs.Type, Route53Name(name))
	}

	// Values.
	if o.parseValues {
		probs = append(probs, normaliseValues(&rs)...)
	}
	if len(rs.ResourceRecords) > 1 {
		for _, d := range duplicateValues(rs.Name, rs.Type, rs.ResourceRecords) {
			batchf("Duplicate Resource Record: '%s'", d)
		}
	}

	// The alias target.
	if a := rs.AliasTarget; a != nil {
		c, err := o.canonical(a.DNSName)
		if err != nil {
			if ne, ok := err.(*nameError); ok {
				batchf("%s", ne.fatal())
			}
		} else {
			a.DNSName = c
		}
	}

	// Routing.
	switch policyOf(&rs) {
	case policyFailover:
		if rs.Failover == "PRIMARY" && rs.AliasTarget == nil && rs.HealthCheckId == "" {
			batchf("A non-alias primary ResourceRecordSet must have an associated health check.")
		}
		if rs.Failover == "PRIMARY" && rs.AliasTarget != nil && !rs.AliasTarget.EvaluateTargetHealth && rs.HealthCheckId == "" {
			batchf("A primary failover alias ResourceRecordSet must have EvaluateTargetHealth set to true or an associated health check.")
		}
	case policyMultivalue:
		if rs.AliasTarget != nil {
			batchf("%s is not permitted: multivalue answer records cannot be alias records", groupDesc(rs.Key()))
		}
	}
	return rs, probs
}

// normaliseValues replaces every value of rs by its normalised presentation format and
// returns a problem for each value that does not parse.
func normaliseValues(rs *RecordSet) []problem {
	var probs []problem
	if rs.TTL == nil {
		return nil
	}
	for i, v := range rs.ResourceRecords {
		norm, err := normalValue(rs.Name, rs.Type, uint32(*rs.TTL), v.Value)
		if err != nil {
			if ve, ok := err.(*valueError); ok {
				probs = append(probs, problem{false, ve.fatal()})
			} else {
				probs = append(probs, problem{false, err.Error()})
			}
			continue
		}
		rs.ResourceRecords[i].Value = norm
	}
	return probs
}

// duplicateValues returns the values that duplicate an earlier one (RFC 2181 sameness: equal
// RDATA, domain names compared case-insensitively).
func duplicateValues(name, typ string, values []ResourceRecord) []string {
	var dups []string
	for i, dup := range duplicates(name, typ, values) {
		if dup {
			dups = append(dups, values[i].Value)
		}
	}
	return dups
}

// duplicates marks each value that duplicates an earlier one.
func duplicates(name, typ string, values []ResourceRecord) []bool {
	out := make([]bool, len(values))
	lower := make(map[string][]int, len(values))
	var rrs []dns.RR // parsed lazily, only when two values collide case-insensitively
	parse := func(i int) dns.RR {
		if rrs == nil {
			rrs = make([]dns.RR, len(values))
		}
		if rrs[i] == nil {
			rrs[i], _ = ParseValue(name, typ, 0, values[i].Value)
		}
		return rrs[i]
	}
	for i, v := range values {
		k := strings.ToLower(v.Value)
		for _, j := range lower[k] {
			if values[j].Value == v.Value {
				out[i] = true
				break
			}
			a, b := parse(i), parse(j)
			if a != nil && b != nil && dns.IsDuplicate(a, b) {
				out[i] = true
				break
			}
		}
		if !out[i] {
			lower[k] = append(lower[k], i)
		}
	}
	return out
}

var continents = []string{"AF", "AN", "AS", "EU", "OC", "NA", "SA"}

func checkGeoLocation(g *GeoLocation, where fmt.Stringer, inputf func(string, ...any)) {
	if g.ContinentCode != "" && len(g.ContinentCode) != 2 {
		inputf("Invalid XML ; cvc-length-valid: Value '%s' with length = '%d' is not facet-valid with respect to length '2' for type 'GeoLocationContinentCode'.", g.ContinentCode, len(g.ContinentCode))
		return
	}
	if len(g.CountryCode) > 2 {
		inputf("%s", maxLengthMsg(g.CountryCode, 2, "GeoLocationCountryCode"))
		return
	}
	if len(g.SubdivisionCode) > 3 {
		inputf("%s", maxLengthMsg(g.SubdivisionCode, 3, "GeoLocationSubdivisionCode"))
		return
	}
	switch {
	case g.ContinentCode == "" && g.CountryCode == "":
		inputf("Invalid request: GeoLocation must have a ContinentCode or a CountryCode in %s", where)
	case g.ContinentCode != "" && g.CountryCode != "":
		inputf("Invalid request: GeoLocation cannot have both a ContinentCode and a CountryCode in %s", where)
	case g.SubdivisionCode != "" && g.CountryCode == "":
		inputf("Invalid request: GeoLocation SubdivisionCode requires a CountryCode in %s", where)
	case g.ContinentCode != "" && !slices.Contains(continents, g.ContinentCode):
		inputf("Invalid request: '%s' is not a valid ContinentCode (one of %s) in %s", g.ContinentCode, strings.Join(continents, ", "), where)
	case g.CountryCode != "" && g.CountryCode != "*" && !(len(g.CountryCode) == 2 && isUpper(g.CountryCode)):
		inputf("Invalid request: '%s' is not a valid CountryCode (two capital letters, or * for the default) in %s", g.CountryCode, where)
	case g.CountryCode == "*" && g.SubdivisionCode != "":
		inputf("Invalid request: the default GeoLocation (CountryCode *) cannot have a SubdivisionCode in %s", where)
	}
}

func isUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

func checkCIDR(c *CidrRoutingConfig, where fmt.Stringer, inputf func(string, ...any)) {
	switch {
	case c.CollectionId == "":
		inputf("Invalid request: Missing field 'CidrRoutingConfig.CollectionId' in %s", where)
	case len(c.CollectionId) != 36:
		inputf("Invalid XML ; cvc-length-valid: Value '%s' with length = '%d' is not facet-valid with respect to length '36' for type 'UUID'.", c.CollectionId, len(c.CollectionId))
	case c.LocationName == "":
		inputf("Invalid request: Missing field 'CidrRoutingConfig.LocationName' in %s", where)
	case len(c.LocationName) > 16:
		inputf("%s", maxLengthMsg(c.LocationName, 16, "CidrLocationNameDefaultAllowed"))
	default:
		for i := 0; i < len(c.LocationName); i++ {
			ch := c.LocationName[i]
			if !(isDigit(ch) || 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || ch == '_' || ch == '-' || ch == '*') {
				inputf("Invalid XML ; cvc-pattern-valid: Value '%s' is not facet-valid with respect to pattern '[0-9A-Za-z_\\-\\*]+' for type 'CidrLocationNameDefaultAllowed'.", c.LocationName)
				return
			}
		}
	}
}

func checkGeoProximity(g *GeoProximityLocation, where fmt.Stringer, inputf func(string, ...any)) {
	switch n := b2i(g.AWSRegion != "") + b2i(g.LocalZoneGroup != "") + b2i(g.Coordinates != nil); {
	case n == 0:
		inputf("Invalid request: Expected exactly one of [AWSRegion, LocalZoneGroup, or Coordinates], but found none in GeoProximityLocation in %s", where)
		return
	case n > 1:
		inputf("Invalid request: Expected exactly one of [AWSRegion, LocalZoneGroup, or Coordinates], but found more than one in GeoProximityLocation in %s", where)
		return
	}
	if len(g.AWSRegion) > 64 {
		inputf("%s", maxLengthMsg(g.AWSRegion, 64, "AWSRegion"))
	}
	if len(g.LocalZoneGroup) > 64 {
		inputf("%s", maxLengthMsg(g.LocalZoneGroup, 64, "LocalZoneGroup"))
	}
	if g.Bias != nil && (*g.Bias < -99 || *g.Bias > 99) {
		inputf("%s", rangeMsg(*g.Bias, -99, 99, "Bias"))
	}
	if c := g.Coordinates; c != nil {
		if !coordinate(c.Latitude, 90) {
			inputf("Invalid request: Latitude '%s' is not a decimal number from -90 to 90 in %s", c.Latitude, where)
		}
		if !coordinate(c.Longitude, 180) {
			inputf("Invalid request: Longitude '%s' is not a decimal number from -180 to 180 in %s", c.Longitude, where)
		}
	}
}

func coordinate(s string, limit float64) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(isDigit(s[i]) || s[i] == '.' || (i == 0 && s[i] == '-')) {
			return false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	return err == nil && v >= -limit && v <= limit
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cloneSet copies rs so that no pointer or slice is shared with the original.
func cloneSet(rs RecordSet) RecordSet {
	out := rs
	out.Weight = clonePtr(rs.Weight)
	out.TTL = clonePtr(rs.TTL)
	out.MultiValueAnswer = clonePtr(rs.MultiValueAnswer)
	out.GeoLocation = clonePtr(rs.GeoLocation)
	out.AliasTarget = clonePtr(rs.AliasTarget)
	out.CidrRoutingConfig = clonePtr(rs.CidrRoutingConfig)
	if g := rs.GeoProximityLocation; g != nil {
		c := *g
		c.Coordinates = clonePtr(g.Coordinates)
		c.Bias = clonePtr(g.Bias)
		out.GeoProximityLocation = &c
	}
	out.ResourceRecords = slices.Clone(rs.ResourceRecords)
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// groupProblem is a problem found by checkName, blaming sets[idx].
type groupProblem struct {
	idx int
	msg string
}

// checkName checks the record sets that share one name (in any order; when two conflict, the
// later one is blamed): CNAME exclusivity, the apex SOA and NS, and each routing group.
func checkName(zoneName string, sets []*RecordSet) []groupProblem {
	if len(sets) == 0 {
		return nil
	}
	var probs []groupProblem
	name := sets[0].Name
	cname, other := -1, -1
	for i, rs := range sets {
		if rs.Type == "CNAME" {
			if cname < 0 {
				cname = i
			}
		} else if other < 0 {
			other = i
		}
	}
	if cname >= 0 && other >= 0 {
		probs = append(probs, groupProblem{cname, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", Route53Name(name), Route53Name(zoneName))})
	}
	if name == zoneName {
		soa, ns := 0, 0
		for i, rs := range sets {
			switch rs.Type {
			case "SOA":
				soa++
				if soa == 2 {
					probs = append(probs, groupProblem{i, "A HostedZone must contain exactly one SOA record."})
				}
			case "NS":
				ns++
			}
		}
		if soa == 0 {
			probs = append(probs, groupProblem{0, "A HostedZone must contain exactly one SOA record."})
		}
		if ns == 0 {
			probs = append(probs, groupProblem{0, "A HostedZone must contain at least one NS record for the zone itself."})
		}
	}
	// Routing groups: sets of one type, in the caller's order.
	done := make(map[string]bool, 2)
	for i, rs := range sets {
		if done[rs.Type] {
			continue
		}
		done[rs.Type] = true
		var idx []int
		for j := i; j < len(sets); j++ {
			if sets[j].Type == rs.Type {
				idx = append(idx, j)
			}
		}
		if len(idx) > 1 {
			probs = append(probs, checkGroup(sets, idx)...)
		}
	}
	return probs
}

// checkGroup checks the record sets sets[idx...] that share a name and a type.
func checkGroup(sets []*RecordSet, idx []int) []groupProblem {
	var probs []groupProblem
	first := sets[idx[0]]
	pol := policyOf(first)
	var ttl *int64
	seen := make(map[string]Key, len(idx))
	for _, i := range idx {
		rs := sets[i]
		p := policyOf(rs)
		if p == policyInvalid || pol == policyInvalid {
			continue // an input problem, reported per set
		}
		if p != pol {
			probs = append(probs, groupProblem{i, fmt.Sprintf("%s cannot be created as a non-%s set exists with the same name and type.", groupDesc(rs.Key()), policyWords[p])})
			continue
		}
		if p == policyWeighted && rs.AliasTarget == nil && rs.TTL != nil {
			if ttl == nil {
				ttl = rs.TTL
			} else if *rs.TTL != *ttl {
				probs = append(probs, groupProblem{i, fmt.Sprintf("%s cannot be created with TTL %d as the other weighted sets with the same name and type have TTL %d.", groupDesc(rs.Key()), *rs.TTL, *ttl)})
			}
		}
		if what, ok := routingValue(rs); ok {
			if prev, dup := seen[what]; dup {
				probs = append(probs, groupProblem{i, fmt.Sprintf("%s cannot be created as the set with SetIdentifier %s has the same %s.", groupDesc(rs.Key()), prev.SetIdentifier, what)})
			} else {
				seen[what] = rs.Key()
			}
		}
	}
	return probs
}

// routingValue returns what must be unique within a routing group (the failover side, the
// Region, the location), and false for policies without such a value.
func routingValue(rs *RecordSet) (string, bool) {
	switch policyOf(rs) {
	case policyFailover:
		return "Failover " + rs.Failover, true
	case policyLatency:
		return "Region " + rs.Region, true
	case policyGeolocation:
		g := rs.GeoLocation
		return fmt.Sprintf("GeoLocation [ContinentCode=%s, CountryCode=%s, SubdivisionCode=%s]", g.ContinentCode, g.CountryCode, g.SubdivisionCode), true
	case policyCIDR:
		return fmt.Sprintf("CidrRoutingConfig [CollectionId=%s, LocationName=%s]", rs.CidrRoutingConfig.CollectionId, rs.CidrRoutingConfig.LocationName), true
	case policyGeoproximity:
		g := rs.GeoProximityLocation
		if g.Coordinates != nil {
			return fmt.Sprintf("GeoProximityLocation [Latitude=%s, Longitude=%s]", g.Coordinates.Latitude, g.Coordinates.Longitude), true
		}
		return fmt.Sprintf("GeoProximityLocation [AWSRegion=%s, LocalZoneGroup=%s]", g.AWSRegion, g.LocalZoneGroup), true
	}
	return "", false
}

// Validate checks a whole zone: its name, the order of its record sets, every record set
// (as ValidateRecordSet does) and the rules between record sets (CNAME exclusivity, one apex
// SOA, apex NS, routing groups). The error is an *InvalidChangeBatchError listing every problem.
func Validate(z *Zone) error {
	return validateZone(z, true, nil)
}

// validateZone is Validate; without parseValues the values are trusted (a parser produced
// them), and prefix, when set, names where each record set came from.
func validateZone(z *Zone, parseValues bool, prefix func(i int) string) error {
	var msgs []string
	add := func(i int, msg string) {
		if prefix != nil && i >= 0 {
			msg = prefix(i) + msg
		}
		msgs = append(msgs, msg)
	}
	if c, err := CanonicalName(z.Name); err != nil || c != z.Name || c == "." {
		add(-1, fmt.Sprintf("The zone name '%s' is not a canonical domain name", z.Name))
		return &InvalidChangeBatchError{Messages: msgs}
	}
	start := 0
	for i := range z.RecordSets {
		rs := &z.RecordSets[i]
		if i > 0 && CompareKeys(z.RecordSets[i-1].Key(), rs.Key()) >= 0 {
			add(i, fmt.Sprintf("Record set %s is out of order or listed twice", setDesc(rs.Key())))
		}
		c, probs := checkRecordSet(z.Name, *rs, checkOpts{parseValues: parseValues, stored: true})
		for _, p := range probs {
			add(i, p.msg)
		}
		if len(probs) == 0 && c.Name != rs.Name {
			add(i, fmt.Sprintf("Record set %s has a name that is not canonical: %s", setDesc(rs.Key()), c.Name))
		}
		if i+1 == len(z.RecordSets) || z.RecordSets[i+1].Name != rs.Name {
			group := make([]*RecordSet, 0, i+1-start)
			for j := start; j <= i; j++ {
				group = append(group, &z.RecordSets[j])
			}
			for _, p := range checkName(z.Name, group) {
				add(start+p.idx, p.msg)
			}
			start = i + 1
		}
	}
	if i, _ := z.nameRange(z.Name); i == len(z.RecordSets) || z.RecordSets[i].Name != z.Name {
		add(-1, "A HostedZone must contain exactly one SOA record.")
		add(-1, "A HostedZone must contain at least one NS record for the zone itself.")
	}
	if len(msgs) > 0 {
		return &InvalidChangeBatchError{Messages: dedupe(msgs)}
	}
	return nil
}
