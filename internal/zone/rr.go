package zone

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// nameError says why a domain name is refused, with a Route 53 style problem code.
type nameError struct {
	code string // Route 53 style problem code, e.g. "DomainLabelEmpty"
	desc string // what the code means, e.g. "Domain label is empty"
	raw  string // the name as given
}

func (e *nameError) Error() string {
	return fmt.Sprintf("invalid domain name %q: %s", e.raw, strings.ToLower(e.desc[:1])+e.desc[1:])
}

// fatal is the name problem in Route 53's words:
// "FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..b'".
func (e *nameError) fatal() string {
	return fmt.Sprintf("FATAL problem: %s (%s) encountered with '%s'", e.code, e.desc, e.raw)
}

// CanonicalName returns name lower-cased and fully qualified, or an error naming what is wrong.
//
// The name is read as Route 53 reads names: a backslash followed by three octal digits is one
// byte ("\052" is "*", "\100" is "@"), a backslash followed by any other character is that
// character, and characters outside printable ASCII must be escaped. The result is in DNS
// presentation format as miekg/dns prints names: special characters escaped with a backslash,
// non-printable bytes as decimal \DDD, "*" literal. Every name stored in a Zone has this form.
func CanonicalName(name string) (string, error) {
	if fast, ok := fastCanonical(name); ok {
		return fast, nil
	}
	if name == "" {
		return "", &nameError{"DomainNameEmpty", "Domain name is empty", name}
	}
	if name == "." {
		return ".", nil
	}
	var labels [][]byte
	var cur []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '\\':
			if i+1 >= len(name) {
				return "", &nameError{"InvalidEscape", "Escape sequence is incomplete", name}
			}
			if i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]) {
				if !isOctal(name[i+1]) || !isOctal(name[i+2]) || !isOctal(name[i+3]) {
					return "", &nameError{"InvalidEscape", "Escape sequence is not a three-digit octal code", name}
				}
				v := (name[i+1]-'0')*64 + (name[i+2]-'0')*8 + (name[i+3] - '0')
				cur = append(cur, v)
				i += 3
				continue
			}
			if isDigit(name[i+1]) {
				return "", &nameError{"InvalidEscape", "Escape sequence is not a three-digit octal code", name}
			}
			if name[i+1] < 0x21 || name[i+1] > 0x7e {
				return "", &nameError{"UnsupportedCharacter", "Value contains unsupported characters", name}
			}
			cur = append(cur, name[i+1])
			i++
		case c == '.':
			if len(cur) == 0 {
				if i == len(name)-1 && len(labels) > 0 {
					continue
				}
				return "", &nameError{"DomainLabelEmpty", "Domain label is empty", name}
			}
			labels = append(labels, cur)
			cur = nil
		case c < 0x21 || c > 0x7e:
			return "", &nameError{"UnsupportedCharacter", "Value contains unsupported characters", name}
		default:
			cur = append(cur, c)
		}
	}
	if len(cur) > 0 {
		labels = append(labels, cur)
	}
	return labelsToName(labels, name)
}

// labelsToName lower-cases the labels and formats them as miekg/dns formats a wire name.
func labelsToName(labels [][]byte, raw string) (string, error) {
	wire := make([]byte, 0, 64)
	for _, l := range labels {
		if len(l) > 63 {
			return "", &nameError{"DomainLabelTooLong", "Domain label is too long", raw}
		}
		wire = append(wire, byte(len(l)))
		for _, c := range l {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			wire = append(wire, c)
		}
	}
	wire = append(wire, 0)
	if len(wire) > 255 {
		return "", &nameError{"DomainNameTooLong", "Domain name is too long", raw}
	}
	s, _, err := dns.UnpackDomainName(wire, 0)
	if err != nil {
		return "", &nameError{"InvalidDomainName", "Domain name is not valid", raw}
	}
	return s, nil
}

// canonicalPresentation is CanonicalName for a name in DNS presentation format (decimal \DDD
// escapes), as miekg/dns parses them from a master file.
func canonicalPresentation(name string) (string, error) {
	if fast, ok := fastCanonical(name); ok {
		return fast, nil
	}
	if name == "" {
		return "", &nameError{"DomainNameEmpty", "Domain name is empty", name}
	}
	fq := dns.Fqdn(name)
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(fq, buf, 0, nil, false)
	if err != nil {
		return "", &nameError{"InvalidDomainName", "Domain name is not valid", name}
	}
	var labels [][]byte
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		labels = append(labels, buf[off+1:off+1+int(buf[off])])
	}
	if len(labels) == 0 {
		return ".", nil
	}
	return labelsToName(labels, name)
}

// fastCanonical handles the common case: only letters, digits, '-', '_', '*' and dots, with no
// empty label. It returns false when the slow path must decide.
func fastCanonical(name string) (string, bool) {
	if name == "" || len(name) > 254 || name == "." {
		return "", false
	}
	upper := false
	labelLen := 0
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '.':
			if labelLen == 0 {
				return "", false
			}
			labelLen = 0
			continue
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		case 'A' <= c && c <= 'Z':
			upper = true
		default:
			return "", false
		}
		labelLen++
		if labelLen > 63 {
			return "", false
		}
	}
	if name[len(name)-1] != '.' {
		if len(name) > 253 {
			return "", false
		}
		name += "."
	}
	if upper {
		name = asciiLower(name)
	}
	return name, true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// Route53Name returns a canonical name spelled as Route 53 lists it: every character other
// than a-z, 0-9, '-' and '_' becomes a three-digit octal escape ("*" is "\052").
func Route53Name(name string) string {
	if name == "." || name == "" {
		return name
	}
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(name), buf, 0, nil, false)
	if err != nil {
		return name
	}
	var b strings.Builder
	for off := 0; off < n && buf[off] != 0; off += int(buf[off]) + 1 {
		for _, c := range buf[off+1 : off+1+int(buf[off])] {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
				b.WriteByte(c)
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + 'a' - 'A')
			default:
				fmt.Fprintf(&b, "\\%03o", c)
			}
		}
		b.WriteByte('.')
	}
	return b.String()
}

// labels splits a canonical name into its labels (escapes kept), leftmost first.
func labels(name string) []string {
	if name == "." {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			i++
			if i < len(name) && isDigit(name[i]) {
				i += 2
			}
		case '.':
			out = append(out, name[start:i])
			start = i + 1
		}
	}
	if start < len(name) {
		out = append(out, name[start:])
	}
	return out
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

// valueError says why a value is not RDATA of its record set's type.
type valueError struct {
	name, typ, value string
	reason           string
}

func (e *valueError) Error() string {
	return fmt.Sprintf("invalid %s value '%s' for [name='%s', type='%s']: %s", e.typ, e.value, e.name, e.typ, e.reason)
}

// fatal is the problem in Route 53's words, naming the record set after it.
func (e *valueError) fatal() string {
	var problem string
	switch e.typ {
	case "A":
		problem = "ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address)"
	case "AAAA":
		problem = "AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address)"
	default:
		problem = fmt.Sprintf("%sRRDATAIllegal (Value is not valid %s RDATA: %s)", e.typ, e.typ, e.reason)
	}
	return fmt.Sprintf("Invalid Resource Record: 'FATAL problem: %s encountered with '%s'' for [name='%s', type='%s']",
		problem, e.value, Route53Name(e.name), e.typ)
}

// ParseValue parses one presentation-format value of type typ owned by name (a canonical name).
func ParseValue(name, typ string, ttl uint32, value string) (dns.RR, error) {
	verr := func(reason string) error { return &valueError{name: name, typ: typ, value: value, reason: reason} }
	if strings.ContainsAny(value, "\n\r") {
		return nil, verr("line breaks are not allowed")
	}
	trimmed := strings.TrimSpace(value)
	if trimmed == "" || trimmed[0] == ';' {
		return nil, verr("empty value")
	}
	if _, ok := dns.StringToType[typ]; !ok {
		return nil, verr("unknown type")
	}
	rr, err := dns.NewRR(name + " " + strconv.FormatUint(uint64(ttl), 10) + " IN " + typ + " " + value)
	if err != nil || rr == nil {
		reason := "does not parse"
		var pe *dns.ParseError
		if errors.As(err, &pe) {
			reason = parseReason(pe)
		}
		return nil, verr(reason)
	}
	if dns.TypeToString[rr.Header().Rrtype] != typ {
		return nil, verr("not of type " + typ)
	}
	if Value(rr) == "" {
		return nil, verr("empty value")
	}
	return rr, nil
}

// normalValue parses value like ParseValue and returns it in normalised presentation format,
// checking that this form parses back to itself, so that it survives an export and an import.
func normalValue(name, typ string, ttl uint32, value string) (string, error) {
	rr, err := ParseValue(name, typ, ttl, value)
	if err != nil {
		return "", err
	}
	return stableValue(rr, value)
}

// stableValue returns the presentation format of rr (parsed from value), checking that it
// parses back to itself.
func stableValue(rr dns.RR, value string) (string, error) {
	h := rr.Header()
	name, typ := h.Name, dns.TypeToString[h.Rrtype]
	v := Value(rr)
	if v == "" {
		return "", &valueError{name: name, typ: typ, value: value, reason: "empty value"}
	}
	switch h.Rrtype {
	case dns.TypeA, dns.TypeAAAA:
		return v, nil // an IP address always reads back as itself
	case dns.TypeCNAME, dns.TypeNS, dns.TypePTR:
		if plainName(v) {
			return v, nil
		}
	}
	again, err := ParseValue(name, typ, h.Ttl, v)
	if err != nil || Value(again) != v {
		return "", &valueError{name: name, typ: typ, value: value, reason: "it has no stable presentation format (it reads back as " + strconv.Quote(v) + ")"}
	}
	return v, nil
}

// plainName reports whether s is a fully qualified name of letters, digits, '-', '_' and '*'
// only, which reads back as itself.
func plainName(s string) bool {
	if len(s) < 2 || s[len(s)-1] != '.' {
		return false
	}
	prev := byte('.')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prev == '.' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '*':
		default:
			return false
		}
		prev = c
	}
	return true
}

// parseReason extracts miekg/dns's reason from a parse error, without its position.
func parseReason(pe *dns.ParseError) string {
	s := strings.TrimPrefix(pe.Error(), "dns: ")
	if i := strings.Index(s, ": \""); i >= 0 {
		s = s[:i]
	} else if i := strings.LastIndex(s, " at line: "); i >= 0 {
		s = s[:i]
	}
	return s
}

// Value returns the presentation-format value of rr, as stored in a ResourceRecord.
func Value(rr dns.RR) string {
	// Addresses, most of a big zone's values, as rr.String() prints them, without its header.
	switch rr := rr.(type) {
	case *dns.A:
		if rr.A == nil {
			return ""
		}
		return rr.A.String()
	case *dns.AAAA:
		if rr.AAAA == nil {
			return ""
		}
		if rr.AAAA.To4() != nil {
			return "::ffff:" + rr.AAAA.String()
		}
		return rr.AAAA.String()
	}
	// rr.String() is the header's four tab-separated fields (names print tabs escaped), a tab,
	// then the value; a copy of the value, which would otherwise keep all of it.
	s := rr.String()
	for range 4 {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return strings.TrimPrefix(rr.String(), rr.Header().String())
		}
		s = s[i+1:]
	}
	return strings.Clone(s)
}
