package answer

import (
	"strings"

	"github.com/miekg/dns"
)

// maxLabels bounds the labels of a domain name: 255 octets allow at most 127 labels.
const maxLabels = 128

// labels holds the start offsets of the labels of a canonical name, leftmost first:
// "www.example.com." has starts 0, 4 and 12, so name[starts[i]:] is the i-th suffix.
type labels struct {
	n      int
	starts [maxLabels]int16
}

// split fills l with the label starts of name (lower-case, fully qualified, in miekg/dns's
// presentation format). The root name has no labels. It reports false for a name with more than
// maxLabels labels or an empty label, which no zone can hold.
func (l *labels) split(name string) bool {
	l.n = 0
	if name == "." || name == "" {
		return name == "."
	}
	start := 0
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '\\':
			// An escape: \DDD or \X; either way the next byte is never a label separator.
			if i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]) {
				i += 3
			} else {
				i++
			}
		case '.':
			if i == start || l.n == maxLabels {
				return false
			}
			l.starts[l.n] = int16(start)
			l.n++
			start = i + 1
		}
	}
	return start == len(name) // fully qualified
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// suffix returns the name made of labels i.. of name; suffix(name, l.n) is the root.
func (l *labels) suffix(name string, i int) string {
	if i >= l.n {
		return "."
	}
	return name[l.starts[i]:]
}

// lower returns name in lower case; it allocates only when name has upper-case ASCII letters.
func lower(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// withOwner returns a copy of rr owned by name. The copy shares rdata slices with rr (they are
// read-only), so the common types cost one allocation.
func withOwner(rr dns.RR, name string) dns.RR {
	switch r := rr.(type) {
	case *dns.A:
		return renamed(r, name)
	case *dns.AAAA:
		return renamed(r, name)
	case *dns.CNAME:
		return renamed(r, name)
	case *dns.TXT:
		return renamed(r, name)
	case *dns.MX:
		return renamed(r, name)
	case *dns.SRV:
		return renamed(r, name)
	case *dns.NS:
		return renamed(r, name)
	case *dns.PTR:
		return renamed(r, name)
	case *dns.CAA:
		return renamed(r, name)
	}
	c := dns.Copy(rr)
	c.Header().Name = name
	return c
}

// renamed returns a shallow copy of r owned by name.
func renamed[T any, P interface {
	*T
	dns.RR
}](r P, name string) dns.RR {
	c := P(new(T))
	*(*T)(c) = *(*T)(r)
	c.Header().Name = name
	return c
}

// withOwners returns copies of rrs owned by name.
func withOwners(rrs []dns.RR, name string) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = withOwner(rr, name)
	}
	return out
}

// concat returns a followed by b in a new slice when both are non-empty; the inputs are shared,
// read-only data and are never appended to.
func concat(a, b []dns.RR) []dns.RR {
	switch {
	case len(a) == 0:
		return b
	case len(b) == 0:
		return a
	}
	out := make([]dns.RR, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// targetOf returns the lower-cased domain name an RR points at for additional-section processing
// (MX, SRV, NS, and SVCB and HTTPS with a target other than "."), or "" for other types.
func targetOf(rr dns.RR) string {
	switch r := rr.(type) {
	case *dns.MX:
		return lower(r.Mx)
	case *dns.SRV:
		return lower(r.Target)
	case *dns.NS:
		return lower(r.Ns)
	case *dns.SVCB:
		if r.Target != "." {
			return lower(r.Target)
		}
	case *dns.HTTPS:
		if r.Target != "." {
			return lower(r.Target)
		}
	}
	return ""
}
