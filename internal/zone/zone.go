package zone

import (
	"fmt"
	"slices"

	"github.com/miekg/dns"
)

// TTLs of the apex SOA and NS record sets of a new zone, as Route 53 sets them.
const (
	DefaultSOATTL = 900
	DefaultNSTTL  = 172800
)

// New returns a new zone with an apex SOA "NS1 HOSTMASTER 1 7200 900 1209600 86400" (TTL 900)
// and an apex NS record set of nameservers (TTL 172800); hostmaster defaults to
// "hostmaster."+name. The root zone is refused; single-label names such as "test." are not.
// Names are read as CanonicalName reads them; the error is an *InvalidInputError.
func New(id, name, callerReference, comment string, nameservers []string, hostmaster string) (Zone, error) {
	if id == "" {
		return Zone{}, &InvalidInputError{Message: "Invalid request: the hosted zone ID is empty"}
	}
	if len(callerReference) > 128 {
		return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: CallerReference is %d characters long; the limit is 128", len(callerReference))}
	}
	if len(comment) > 256 {
		return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: Comment is %d characters long; the limit is 256", len(comment))}
	}
	apex, err := CanonicalName(name)
	if err != nil {
		return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: %s is not a valid zone name: %v", quoteName(name), err)}
	}
	if apex == "." {
		return Zone{}, &InvalidInputError{Message: "Invalid request: the root zone \".\" cannot be hosted"}
	}
	if ls := labels(apex); ls[0] == "*" {
		return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: %s is not a valid zone name: a zone name cannot be a wildcard", quoteName(name))}
	}
	if len(nameservers) == 0 {
		return Zone{}, &InvalidInputError{Message: "Invalid request: a hosted zone needs at least one name server"}
	}
	ns := make([]ResourceRecord, 0, len(nameservers))
	seen := make(map[string]bool, len(nameservers))
	for _, n := range nameservers {
		c, err := canonicalTarget(n)
		if err != nil {
			return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: name server %s is not a valid name: %v", quoteName(n), err)}
		}
		if seen[c] {
			return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: name server %s is listed twice", c)}
		}
		seen[c] = true
		ns = append(ns, ResourceRecord{Value: c})
	}
	if hostmaster == "" {
		hostmaster = "hostmaster." + apex
	}
	hm, err := canonicalTarget(hostmaster)
	if err != nil {
		return Zone{}, &InvalidInputError{Message: fmt.Sprintf("Invalid request: hostmaster %s is not a valid name: %v", quoteName(hostmaster), err)}
	}
	soa := &dns.SOA{
		Hdr:     dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: DefaultSOATTL},
		Ns:      ns[0].Value,
		Mbox:    hm,
		Serial:  1,
		Refresh: 7200,
		Retry:   900,
		Expire:  1209600,
		Minttl:  86400,
	}
	z := Zone{
		ID:              id,
		Name:            apex,
		CallerReference: callerReference,
		Comment:         comment,
		RecordSets: []RecordSet{
			{Name: apex, Type: "NS", TTL: ptr(int64(DefaultNSTTL)), ResourceRecords: ns},
			{Name: apex, Type: "SOA", TTL: ptr(int64(DefaultSOATTL)), ResourceRecords: []ResourceRecord{{Value: Value(soa)}}},
		},
	}
	sortRecordSets(z.RecordSets)
	return z, nil
}

// canonicalTarget canonicalises a name used inside RDATA (a name server, a hostmaster): like
// CanonicalName, but the result must also be usable in a presentation-format value.
func canonicalTarget(name string) (string, error) {
	c, err := CanonicalName(name)
	if err != nil {
		return "", err
	}
	if c == "." {
		return "", fmt.Errorf("the root is not allowed here")
	}
	return c, nil
}

func quoteName(s string) string { return "'" + s + "'" }

func ptr[T any](v T) *T { return &v }

// SOA returns the apex SOA record of z, or nil when z has none (an invalid zone).
func (z *Zone) SOA() *dns.SOA {
	i, ok := z.Find(Key{Name: z.Name, Type: "SOA"})
	if !ok {
		return nil
	}
	return soaOf(&z.RecordSets[i])
}

// Apply applies a Diff from Plan to z: it removes the deleted keys and writes the put record
// sets, keeping z.RecordSets in Less order. It modifies z.RecordSets in place; a caller that
// shares the slice with readers must copy it first.
func (z *Zone) Apply(d Diff) {
	if len(d.Put)+len(d.Delete) > 64 && len(d.Put)+len(d.Delete) > len(z.RecordSets)/16 {
		z.merge(d)
		return
	}
	for _, k := range d.Delete {
		if i, ok := z.Find(k); ok {
			z.RecordSets = slices.Delete(z.RecordSets, i, i+1)
		}
	}
	for _, rs := range d.Put {
		i, ok := z.Find(rs.Key())
		if ok {
			z.RecordSets[i] = rs
		} else {
			z.RecordSets = slices.Insert(z.RecordSets, i, rs)
		}
	}
}

// merge applies a large Diff in one pass over the zone: O(n + k log k).
func (z *Zone) merge(d Diff) {
	puts := slices.Clone(d.Put)
	sortRecordSets(puts)
	puts = slices.CompactFunc(puts, func(a, b RecordSet) bool { return a.Key() == b.Key() })
	del := make(map[Key]bool, len(d.Delete))
	for _, k := range d.Delete {
		del[k] = true
	}
	out := make([]RecordSet, 0, len(z.RecordSets)+len(puts))
	i, j := 0, 0
	for i < len(z.RecordSets) || j < len(puts) {
		var c int
		switch {
		case i == len(z.RecordSets):
			c = 1
		case j == len(puts):
			c = -1
		default:
			c = CompareKeys(z.RecordSets[i].Key(), puts[j].Key())
		}
		switch {
		case c < 0:
			if !del[z.RecordSets[i].Key()] {
				out = append(out, z.RecordSets[i])
			}
			i++
		case c > 0:
			out = append(out, puts[j])
			j++
		default:
			out = append(out, puts[j])
			i++
			j++
		}
	}
	z.RecordSets = out
}
