package zone

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// CanonicalName returns name lower-cased and fully qualified, or an error naming what is wrong.
// Route 53's "\052" escape for a leading wildcard is accepted and turned into "*".
func CanonicalName(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty domain name")
	}
	if strings.HasPrefix(name, `\052`) {
		name = "*" + name[4:]
	}
	fq := dns.Fqdn(strings.ToLower(name))
	if _, ok := dns.IsDomainName(fq); !ok {
		return "", fmt.Errorf("invalid domain name %q", name)
	}
	return fq, nil
}

// RRs returns the DNS resource records of a non-alias record set, parsed from its values.
// The error names the value that does not parse as RDATA of the set's type.
func (rs RecordSet) RRs() ([]dns.RR, error) {
	if rs.AliasTarget != nil {
		return nil, fmt.Errorf("record set [name='%s', type='%s'] is an alias and has no values", rs.Name, rs.Type)
	}
	var ttl int64
	if rs.TTL != nil {
		ttl = *rs.TTL
	}
	out := make([]dns.RR, 0, len(rs.ResourceRecords))
	for _, v := range rs.ResourceRecords {
		rr, err := ParseValue(rs.Name, rs.Type, uint32(ttl), v.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, rr)
	}
	return out, nil
}

// ParseValue parses one presentation-format value of type typ owned by name (a canonical name).
func ParseValue(name, typ string, ttl uint32, value string) (dns.RR, error) {
	if strings.ContainsAny(value, "\n\r") {
		return nil, fmt.Errorf("invalid %s value %q for %s: line breaks are not allowed", typ, value, name)
	}
	if strings.HasPrefix(strings.TrimSpace(value), ";") || strings.TrimSpace(value) == "" {
		return nil, fmt.Errorf("invalid %s value %q for %s: empty value", typ, value, name)
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", name, ttl, typ, value))
	if err != nil || rr == nil {
		msg := "does not parse"
		if err != nil {
			if pe, ok := err.(*dns.ParseError); ok {
				msg = pe.Error()
			}
		}
		return nil, fmt.Errorf("invalid %s value %q for %s: %s", typ, value, name, msg)
	}
	if dns.TypeToString[rr.Header().Rrtype] != typ {
		return nil, fmt.Errorf("invalid %s value %q for %s", typ, value, name)
	}
	return rr, nil
}

// Value returns the presentation-format value of rr, as stored in a ResourceRecord.
func Value(rr dns.RR) string {
	hdr := rr.Header().String()
	return strings.TrimPrefix(rr.String(), hdr)
}
