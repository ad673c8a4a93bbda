package zone

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// maxFileErrors is how many problems a master-file error lists before "and N more".
const maxFileErrors = 10

// ParseMasterFile reads an RFC 1035 master file for the zone origin and returns its record
// sets in Less order, valid as a whole zone (see Validate).
//
// $ORIGIN, $TTL, relative names and $GENERATE work as in BIND; $INCLUDE is refused. RRs are
// grouped into record sets by name and type; as RFC 2181 gives a set one TTL, a set whose RRs
// disagree takes the smallest of their TTLs. Duplicate RRs are dropped, as BIND drops them.
// Only class IN and the types in Types are accepted, only inside origin, with exactly one SOA,
// at the apex. The result never holds alias record sets or routing policies. The error is an
// *InvalidInputError whose message names the line of each problem ("line 12: ...").
func ParseMasterFile(origin string, r io.Reader) ([]RecordSet, error) {
	apex, err := canonicalPresentation(origin)
	if err != nil || apex == "." {
		return nil, &InvalidInputError{Message: fmt.Sprintf("zone file: invalid origin %q", origin)}
	}
	lr := &lineReader{r: bufio.NewReaderSize(r, 64<<10), line: 1}
	zp := dns.NewZoneParser(lr, apex, "")
	zp.SetIncludeAllowed(false)

	// The records are collected one by one, then sorted into record sets: a million record
	// sets cost their final []RecordSet (200 MB) once, not also a map from key to set and the
	// copies of a growing slice of them.
	var (
		rrs    []fileRR
		probs  []string
		soaAt  int
		lastTT uint32
		hasTT  bool
	)
	addf := func(line int, format string, args ...any) {
		probs = append(probs, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
	}
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		line := lr.stmtLine
		h := rr.Header()
		if lr.generated {
			if !lr.genTTL {
				// miekg/dns gives $GENERATE lines without a TTL 3600; BIND gives them the default.
				switch {
				case lr.hasDirTTL:
					h.Ttl = lr.dirTTL
				case hasTT:
					h.Ttl = lastTT
				}
			}
		} else {
			lastTT, hasTT = h.Ttl, true
		}
		if h.Class != dns.ClassINET {
			addf(line, "class %s is not supported, only IN: %s", dns.ClassToString[h.Class], rr.String())
			continue
		}
		typ := dns.TypeToString[h.Rrtype]
		if _, ok := supportedTypes[typ]; !ok {
			if typ == "" {
				typ = "TYPE" + strconv.Itoa(int(h.Rrtype))
			}
			addf(line, "type %s is not supported (supported: %s): %s", typ, strings.Join(Types, ", "), rr.String())
			continue
		}
		name, err := canonicalPresentation(h.Name)
		if err != nil {
			addf(line, "%v", err)
			continue
		}
		if !dns.IsSubDomain(apex, name) {
			addf(line, "%s is outside the zone %s: %s", name, apex, rr.String())
			continue
		}
		if h.Ttl > MaxTTL {
			addf(line, "TTL %d is greater than %d: %s", h.Ttl, MaxTTL, rr.String())
			continue
		}
		if h.Rrtype == dns.TypeSOA {
			switch {
			case name != apex:
				addf(line, "the SOA record must be at the zone apex %s, not at %s", apex, name)
				continue
			case soaAt > 0:
				addf(line, "a second SOA record (the first is on line %d); a zone has exactly one", soaAt)
				continue
			}
			soaAt = line
		}
		value, err := stableValue(rr, Value(rr))
		if err != nil {
			var ve *valueError
			if errors.As(err, &ve) {
				addf(line, "the %s record of %s has invalid data: %s: %s", typ, name, ve.reason, rr.String())
			} else {
				addf(line, "%v", err)
			}
			continue
		}
		rrs = append(rrs, fileRR{name: name, typ: typ, value: value, ttl: h.Ttl, line: line})
	}
	if lr.err != nil { // the parser reports it as a syntax error: not the file's fault
		return nil, fmt.Errorf("zone: reading the zone file: %w", lr.err)
	}
	if err := zp.Err(); err != nil {
		return nil, &InvalidInputError{Message: "zone file: " + parseErrorText(err)}
	}
	if soaAt == 0 {
		probs = append(probs, fmt.Sprintf("the zone file has no SOA record at the zone apex %s", apex))
		return nil, fileError(probs)
	}

	sets, lines := groupRRs(rrs)
	rrs = nil
	z := &Zone{Name: apex, RecordSets: sets}
	if err := validateZone(z, false, func(i int) string { return fmt.Sprintf("line %d: ", lines[i]) }); err != nil {
		var icb *InvalidChangeBatchError
		if errors.As(err, &icb) {
			probs = append(probs, icb.Messages...)
		}
	}
	if len(probs) > 0 {
		return nil, fileError(probs)
	}
	return sets, nil
}

// fileRR is one record of a master file, as ParseMasterFile collects them.
type fileRR struct {
	name, typ, value string
	ttl              uint32
	line             int
}

// groupRRs makes the record sets of rrs, in Less order, and the line of each set's first
// record. A set's values are in file order without duplicates, and its TTL is the smallest of
// its records'.
func groupRRs(rrs []fileRR) ([]RecordSet, []int) {
	keys := make([]string, len(rrs))
	order := make([]int32, len(rrs))
	for i := range rrs {
		keys[i], order[i] = sortKey(rrs[i].name), int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := strings.Compare(keys[a], keys[b]); c != 0 {
			return c
		}
		if c := strings.Compare(rrs[a].typ, rrs[b].typ); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // file order within a set
	})
	n := 0
	for i, j := range order {
		if i == 0 || rrs[j].name != rrs[order[i-1]].name || rrs[j].typ != rrs[order[i-1]].typ {
			n++
		}
	}
	// One allocation each for all the sets, TTLs and values: a million small ones take longer.
	sets := make([]RecordSet, 0, n)
	lines := make([]int, 0, n)
	ttls := make([]int64, n)
	values := make([]ResourceRecord, len(rrs))
	start := 0 // in values, of the last set
	for i, j := range order {
		rr := &rrs[j]
		values[i] = ResourceRecord{Value: rr.value}
		if k := len(sets) - 1; k >= 0 && sets[k].Name == rr.name && sets[k].Type == rr.typ {
			ttls[k] = min(ttls[k], int64(rr.ttl))
			sets[k].ResourceRecords = values[start : i+1 : i+1]
			continue
		}
		k := len(sets)
		ttls[k], start = int64(rr.ttl), i
		sets = append(sets, RecordSet{Name: rr.name, Type: rr.typ, TTL: &ttls[k], ResourceRecords: values[i : i+1 : i+1]})
		lines = append(lines, rr.line)
	}
	for i := range sets {
		if rs := &sets[i]; len(rs.ResourceRecords) > 1 {
			rs.ResourceRecords = dropDuplicates(rs.Name, rs.Type, rs.ResourceRecords)
		}
	}
	return sets, lines
}

// fileError lists the problems of a master file, at most maxFileErrors of them.
func fileError(probs []string) error {
	if len(probs) > maxFileErrors {
		probs = append(probs[:maxFileErrors:maxFileErrors], fmt.Sprintf("and %d more", len(probs)-maxFileErrors))
	}
	return &InvalidInputError{Message: "zone file: " + strings.Join(probs, "; ")}
}

// dropDuplicates returns values without those that duplicate an earlier one.
func dropDuplicates(name, typ string, values []ResourceRecord) []ResourceRecord {
	dup := duplicates(name, typ, values)
	out := make([]ResourceRecord, 0, len(values))
	for i, v := range values {
		if !dup[i] {
			out = append(out, v)
		}
	}
	return out
}

// parseErrorText rewrites a miekg/dns parse error as "line N: reason: token".
func parseErrorText(err error) string {
	var pe *dns.ParseError
	if !errors.As(err, &pe) {
		return err.Error()
	}
	s := pe.Error()
	line := ""
	if i := strings.LastIndex(s, " at line: "); i >= 0 {
		line, _, _ = strings.Cut(s[i+len(" at line: "):], ":")
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "dns: ")
	if strings.HasPrefix(s, "$INCLUDE directive not allowed") {
		s = "$INCLUDE is not supported: import one self-contained zone file"
	}
	if line == "" {
		return s
	}
	return "line " + line + ": " + s
}

// lineReader feeds the zone parser byte by byte and follows the master-file syntax just
// enough to know on which line the statement being parsed began, and the effect of the
// $TTL and $GENERATE directives that miekg/dns does not expose.
type lineReader struct {
	r    *bufio.Reader
	line int // line of the next byte

	stmtLine int  // line where the current (or last) statement began
	inStmt   bool // inside a statement
	depth    int  // parentheses
	quote    bool
	escape   bool
	comment  bool

	directive []byte // text of the current statement, when it is a directive
	capturing bool

	dirTTL    uint32 // the last $TTL
	hasDirTTL bool
	generated bool // the last statement was a $GENERATE
	genTTL    bool // ... with an explicit TTL

	err error // reading r failed with it (not at its end)
}

func (l *lineReader) ReadByte() (byte, error) {
	c, err := l.r.ReadByte()
	if err != nil {
		if l.inStmt {
			l.endStmt()
		}
		if err != io.EOF {
			l.err = err
		}
		return c, err
	}
	l.scan(c)
	return c, nil
}

// Read is never used by the parser (it reads through ReadByte) but completes io.Reader.
func (l *lineReader) Read(p []byte) (int, error) {
	for i := range p {
		c, err := l.ReadByte()
		if err != nil {
			return i, err
		}
		p[i] = c
	}
	return len(p), nil
}

func (l *lineReader) scan(c byte) {
	switch {
	case l.comment:
		if c == '\n' {
			l.comment = false
			l.newline()
		}
		return
	case l.escape:
		l.escape = false
		l.keep(c)
		return
	case l.quote:
		switch c {
		case '\\':
			l.escape = true
		case '"':
			l.quote = false
		case '\n':
			l.line++
		}
		l.keep(c)
		return
	}
	switch c {
	case '\n':
		l.newline()
	case ';':
		l.comment = true
	case ' ', '\t', '\r':
		l.keep(' ')
	case '(':
		l.content(c)
		l.depth++
	case ')':
		l.keep(c)
		if l.depth > 0 {
			l.depth--
		}
	case '"':
		l.content(c)
		l.quote = true
	case '\\':
		l.content(c)
		l.escape = true
	default:
		l.content(c)
	}
}

func (l *lineReader) newline() {
	l.line++
	if l.depth == 0 && l.inStmt {
		l.endStmt()
	} else {
		l.keep(' ')
	}
}

func (l *lineReader) content(c byte) {
	if !l.inStmt {
		l.inStmt = true
		l.stmtLine = l.line
		l.generated = false
		l.capturing = c == '$'
		l.directive = l.directive[:0]
	}
	l.keep(c)
}

func (l *lineReader) keep(c byte) {
	if l.capturing && len(l.directive) < 4096 {
		l.directive = append(l.directive, c)
	}
}

func (l *lineReader) endStmt() {
	l.inStmt = false
	if !l.capturing {
		return
	}
	l.capturing = false
	f := strings.Fields(string(l.directive))
	if len(f) == 0 {
		return
	}
	switch strings.ToUpper(f[0]) {
	case "$TTL":
		if len(f) > 1 {
			if ttl, ok := parseTTL(f[1]); ok {
				l.dirTTL, l.hasDirTTL = ttl, true
			}
		}
	case "$GENERATE":
		// $GENERATE range lhs [ttl] [class] type rhs, TTL and class in either order.
		l.generated = true
		l.genTTL = len(f) > 3 && startsDigit(f[3]) || len(f) > 4 && isClass(f[3]) && startsDigit(f[4])
	}
}

func startsDigit(s string) bool { return s != "" && isDigit(s[0]) }

func isClass(s string) bool {
	s = strings.ToUpper(s)
	switch s {
	case "IN", "CH", "HS", "CS", "NONE", "ANY":
		return true
	}
	return strings.HasPrefix(s, "CLASS")
}

// parseTTL parses a TTL as BIND writes it: seconds, or a sum like "1h30m" (units s m h d w).
func parseTTL(s string) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	var total, n uint64
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) {
			n = n*10 + uint64(c-'0')
			digits = true
			if n > math32 {
				return 0, false
			}
			continue
		}
		if !digits {
			return 0, false
		}
		switch c | 0x20 {
		case 's':
		case 'm':
			n *= 60
		case 'h':
			n *= 3600
		case 'd':
			n *= 86400
		case 'w':
			n *= 604800
		default:
			return 0, false
		}
		total += n
		n, digits = 0, false
		if total > math32 {
			return 0, false
		}
	}
	total += n
	if total > math32 {
		return 0, false
	}
	return uint32(total), true
}

const math32 = 1<<32 - 1

// WriteMasterFile writes z as an RFC 1035 master file: $ORIGIN, the SOA, the apex NS records,
// then every other record set in Less order, one RR per line with absolute names.
// ParseMasterFile reads it back into the same record sets, SOA serial included.
//
// Alias record sets and record sets with a routing policy have no master-file form: they are
// written as comments ("; alias www.example.com. A -> target. (zone Z...)", or the RRs
// commented out with their routing fields) that ParseMasterFile ignores.
func WriteMasterFile(w io.Writer, z *Zone) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, "$ORIGIN %s\n", z.Name)
	soa, hasSOA := z.Find(Key{Name: z.Name, Type: "SOA"})
	if !hasSOA {
		return fmt.Errorf("zone: export %s: the zone has no SOA record", z.Name)
	}
	ns, hasNS := z.Find(Key{Name: z.Name, Type: "NS"})
	write := func(i int) error {
		rs := &z.RecordSets[i]
		if rs.AliasTarget != nil || rs.SetIdentifier != "" {
			return writeComment(bw, rs)
		}
		rrs, err := rs.RRs()
		if err != nil {
			return fmt.Errorf("zone: export %s: %w", z.Name, err)
		}
		for _, rr := range rrs {
			bw.WriteString(rr.String())
			bw.WriteByte('\n')
		}
		return nil
	}
	if err := write(soa); err != nil {
		return err
	}
	if hasNS {
		if err := write(ns); err != nil {
			return err
		}
	}
	for i := range z.RecordSets {
		if i == soa || (hasNS && i == ns) {
			continue
		}
		if err := write(i); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeComment writes an alias or routed record set as comment lines.
func writeComment(bw *bufio.Writer, rs *RecordSet) error {
	routing := routingText(rs)
	if a := rs.AliasTarget; a != nil {
		ets := ""
		if a.EvaluateTargetHealth {
			ets = ", evaluate target health"
		}
		fmt.Fprintf(bw, "; alias %s %s -> %s (zone %s%s)%s\n", rs.Name, rs.Type, a.DNSName, strconv.Quote(a.HostedZoneId), ets, routing)
		return nil
	}
	rrs, err := rs.RRs()
	if err != nil {
		return fmt.Errorf("zone: export: %w", err)
	}
	for _, rr := range rrs {
		fmt.Fprintf(bw, "; %s%s\n", rr.String(), routing)
	}
	return nil
}

// routingText describes the routing fields of rs for a comment, "" when it has none.
func routingText(rs *RecordSet) string {
	var parts []string
	if rs.SetIdentifier != "" {
		parts = append(parts, "set-identifier "+strconv.Quote(rs.SetIdentifier))
	}
	if rs.Weight != nil {
		parts = append(parts, fmt.Sprintf("weight %d", *rs.Weight))
	}
	if rs.Failover != "" {
		parts = append(parts, "failover "+rs.Failover)
	}
	if rs.Region != "" {
		parts = append(parts, "region "+strconv.Quote(rs.Region))
	}
	if g := rs.GeoLocation; g != nil {
		parts = append(parts, strconv.Quote(fmt.Sprintf("geolocation %s/%s/%s", g.ContinentCode, g.CountryCode, g.SubdivisionCode)))
	}
	if mva(rs) {
		parts = append(parts, "multivalue answer")
	}
	if c := rs.CidrRoutingConfig; c != nil {
		parts = append(parts, "cidr "+strconv.Quote(c.CollectionId+"/"+c.LocationName))
	}
	if g := rs.GeoProximityLocation; g != nil {
		where := g.AWSRegion + g.LocalZoneGroup
		if c := g.Coordinates; c != nil {
			where = c.Latitude + "," + c.Longitude
		}
		if g.Bias != nil {
			where += fmt.Sprintf(" bias %d", *g.Bias)
		}
		parts = append(parts, "geoproximity "+strconv.Quote(where))
	}
	if rs.HealthCheckId != "" {
		parts = append(parts, "health check "+strconv.Quote(rs.HealthCheckId))
	}
	if len(parts) == 0 {
		return ""
	}
	return " ; " + strings.Join(parts, ", ")
}
