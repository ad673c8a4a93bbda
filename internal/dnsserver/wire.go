package dnsserver

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
)

// Wire-format limits and constants.
const (
	headerLen  = 12
	maxMsgLen  = dns.MaxMsgSize // 65535: the largest DNS message, over TCP
	maxRequest = 4096           // a longer request is refused with FORMERR
	maxName    = 255            // octets of a domain name in wire format
	optLen     = 11             // an OPT RR without options
	ourUDPSize = 1232           // the EDNS buffer size we advertise and the most we send over UDP
	minUDPSize = 512            // the UDP limit without EDNS, and the floor of an EDNS size

	maxPointer = 0x3fff // compression pointers hold 14 bits

	flagQR = 1 << 15
	flagAA = 1 << 10
	flagTC = 1 << 9
	flagRD = 1 << 8
	flagDO = 1 << 15 // in the OPT TTL's low 16 bits
)

// request is what handle reads from a query.
type request struct {
	id     uint16
	opcode uint8
	rd     bool
	// The question: the raw bytes (client's letter case) end at qEnd; qname is the name in
	// lower case, in miekg/dns presentation format, in the worker's name buffer.
	qEnd   int
	qname  []byte
	qtype  uint16
	qclass uint16
	// Label starts of qname: presentation offsets (into qname) and wire offsets (into the
	// question), for compression against the question.
	nlabels int
	presOff [128]uint16
	wireOff [128]uint16
	// EDNS.
	edns    bool
	udpSize uint16
	version uint8
	do      bool
}

// parseStatus says how far a request parsed.
type parseStatus uint8

const (
	parseOK         parseStatus = iota
	parseNoQuestion             // FORMERR, and the question cannot be echoed
	parseBad                    // FORMERR, with the question echoed
)

// parse reads the question and the OPT record of req, whose header accept has approved: one
// question, and the other counts within limits.
func (w *worker) parse(req []byte) parseStatus {
	q := &w.req
	// Field by field: clearing the label offsets too would cost more than the rest of parse.
	q.id, q.opcode, q.rd = binary.BigEndian.Uint16(req), uint8(req[2]>>3)&0xf, req[2]&1 != 0
	q.qEnd, q.qname, q.qtype, q.qclass, q.nlabels = 0, nil, 0, 0, 0
	q.edns, q.udpSize, q.version, q.do = false, 0, 0, false
	// The question name: uncompressed labels only.
	name := w.name[:0]
	off := headerLen
	for {
		if off >= len(req) {
			return parseNoQuestion
		}
		l := int(req[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l > len(req) || off+1+l-headerLen+1 > maxName || q.nlabels == len(q.presOff) {
			return parseNoQuestion
		}
		q.presOff[q.nlabels] = uint16(len(name))
		q.wireOff[q.nlabels] = uint16(off - headerLen)
		q.nlabels++
		for _, c := range req[off+1 : off+1+l] {
			name = appendNameByte(name, c)
		}
		name = append(name, '.')
		off += 1 + l
	}
	if len(name) == 0 {
		name = append(name, '.')
	}
	if off+4 > len(req) {
		return parseNoQuestion
	}
	w.name = name
	q.qname = name
	q.qtype = binary.BigEndian.Uint16(req[off:])
	q.qclass = binary.BigEndian.Uint16(req[off+2:])
	off += 4
	q.qEnd = off

	an := int(binary.BigEndian.Uint16(req[6:]))
	ns := int(binary.BigEndian.Uint16(req[8:]))
	ar := int(binary.BigEndian.Uint16(req[10:]))
	for i := 0; i < an+ns+ar; i++ {
		start := off
		var root, ok bool
		if off, root, ok = skipName(req, off); !ok || off+10 > len(req) {
			return parseBad
		}
		typ := binary.BigEndian.Uint16(req[off:])
		class := binary.BigEndian.Uint16(req[off+2:])
		ttl := binary.BigEndian.Uint32(req[off+4:])
		rdlen := int(binary.BigEndian.Uint16(req[off+8:]))
		off += 10
		if off+rdlen > len(req) {
			return parseBad
		}
		if typ == dns.TypeOPT {
			// RFC 6891: only in the additional section, only one, owned by the root.
			if i < an+ns || q.edns || !root || off-10-start != 1 || !validOptions(req[off:off+rdlen]) {
				return parseBad
			}
			q.edns = true
			q.udpSize = class
			q.version = uint8(ttl >> 16)
			q.do = ttl&flagDO != 0
		}
		off += rdlen
	}
	if off != len(req) {
		return parseBad // trailing bytes (Knot answers FORMERR too; NSD ignores them)
	}
	return parseOK
}

// appendNameByte appends one octet of a label as miekg/dns prints it, lower-cased.
func appendNameByte(b []byte, c byte) []byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return append(b, c+'a'-'A')
	case c == '.' || c == ' ' || c == '\'' || c == '@' || c == ';' || c == '(' || c == ')' || c == '"' || c == '\\':
		return append(b, '\\', c)
	case c < ' ' || c > '~':
		return append(b, '\\', '0'+c/100, '0'+c/10%10, '0'+c%10)
	}
	return append(b, c)
}

// skipName returns the offset after the possibly compressed name at off, whether the name is
// the root written as one zero octet, and whether the name is well-formed.
func skipName(msg []byte, off int) (end int, root, ok bool) {
	start := off
	for {
		if off >= len(msg) {
			return 0, false, false
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
			if c == 0 {
				return off + 1, off == start, true
			}
			off += 1 + c
		case 0xc0:
			if off+2 > len(msg) {
				return 0, false, false
			}
			return off + 2, false, true
		default: // extended label types (RFC 6891 deprecated them)
			return 0, false, false
		}
	}
}

// validOptions reports whether OPT RDATA is a well-formed sequence of options.
func validOptions(rd []byte) bool {
	for len(rd) > 0 {
		if len(rd) < 4 {
			return false
		}
		l := int(binary.BigEndian.Uint16(rd[2:]))
		if len(rd) < 4+l {
			return false
		}
		rd = rd[4+l:]
	}
	return true
}

// maxComp is the most names a response's compression table holds, enough for a full UDP reply;
// names written once it is full are not pointed to (a long TCP reply may be a little longer).
const maxComp = 64

// compTable holds the names a response can point to: the suffixes of the question and of the
// names written, in presentation format (substrings of the question and of the snapshot's
// records, never copied), with their offsets, in the order written. A linear search of a few
// entries costs less than a map's hashing and clearing (a third of handle's time with a map).
type compTable struct {
	n int
	e [maxComp]compEntry
}

type compEntry struct {
	name string
	off  int
}

func (c *compTable) add(name string, off int) {
	if c.n < maxComp && off <= maxPointer {
		c.e[c.n] = compEntry{name, off}
		c.n++
	}
}

// longest returns the offset and length of the longest entry that is a whole-label suffix of
// name (which has no escapes), or -1 and 0.
func (c *compTable) longest(name string) (off, n int) {
	off = -1
	for _, e := range c.e[:c.n] {
		l := len(e.name)
		if l > n && l <= len(name) && name[len(name)-l:] == e.name && (l == len(name) || name[len(name)-l-1] == '.') {
			off, n = e.off, l
		}
	}
	return off, n
}

// msgWriter writes a response into a worker's buffer.
type msgWriter struct {
	buf  []byte     // the whole buffer; the message is buf[:off]
	off  int        // bytes written
	comp *compTable // names written and their offsets
	snap *answer.Snapshot
	over bool    // a write did not fit the buffer
	w    *worker // for scratch space
}

func (m *msgWriter) putByte(v byte) {
	if m.off+1 > len(m.buf) {
		m.over = true
		return
	}
	m.buf[m.off] = v
	m.off++
}

func (m *msgWriter) put16(v uint16) {
	if m.off+2 > len(m.buf) {
		m.over = true
		return
	}
	binary.BigEndian.PutUint16(m.buf[m.off:], v)
	m.off += 2
}

func (m *msgWriter) put32(v uint32) {
	if m.off+4 > len(m.buf) {
		m.over = true
		return
	}
	binary.BigEndian.PutUint32(m.buf[m.off:], v)
	m.off += 4
}

func (m *msgWriter) putBytes(b []byte) {
	if m.off+len(b) > len(m.buf) {
		m.over = true
		return
	}
	m.off += copy(m.buf[m.off:], b)
}

// rollback undoes what was written from offset off on, compression entries included.
func (m *msgWriter) rollback(off int) {
	m.off, m.over = off, false
	c := m.comp
	for c.n > 0 && c.e[c.n-1].off >= off { // entries are in the order written
		c.n--
	}
}

// putName writes a fully qualified name in presentation format, compressed against the names
// written before it (compression is case-sensitive; the question's suffixes are registered in
// lower case, so names of our zones point into the question and take its letter case, as NSD
// and Knot answer).
func (m *msgWriter) putName(name string) {
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' {
			m.putEscapedName(name)
			return
		}
	}
	if name == "." {
		m.putByte(0)
		return
	}
	ptr, n := m.comp.longest(name)
	// The labels before the suffix found, each of them starting a suffix to point to later.
	for start, end := 0, len(name)-n; start < end; {
		m.comp.add(name[start:], m.off)
		dot := start
		for dot < len(name) && name[dot] != '.' {
			dot++
		}
		l := dot - start
		if l == 0 || l > 63 || m.off+1+l > len(m.buf) {
			m.over = true
			return
		}
		m.buf[m.off] = byte(l)
		copy(m.buf[m.off+1:], name[start:dot])
		m.off += 1 + l
		start = dot + 1
	}
	if ptr >= 0 {
		m.put16(0xc000 | uint16(ptr))
		return
	}
	m.putByte(0)
}

// putEscapedName writes a name with escapes, uncompressed (rare: names with odd octets).
func (m *msgWriter) putEscapedName(name string) {
	off, err := dns.PackDomainName(name, m.buf, m.off, nil, false)
	if err != nil {
		m.over = true
		return
	}
	m.off = off
}

// putRR writes one resource record. Names in the RDATA of the types RFC 3597 allows to
// compress are compressed; other RDATA comes pre-packed from the snapshot.
func (m *msgWriter) putRR(rr dns.RR) {
	h := rr.Header()
	m.putName(h.Name)
	m.put16(h.Rrtype)
	m.put16(h.Class)
	m.put32(h.Ttl)
	lenAt := m.off
	m.put16(0)
	switch r := rr.(type) {
	case *dns.CNAME:
		m.putName(r.Target)
	case *dns.NS:
		m.putName(r.Ns)
	case *dns.PTR:
		m.putName(r.Ptr)
	case *dns.MX:
		m.put16(r.Preference)
		m.putName(r.Mx)
	case *dns.SOA:
		m.putName(r.Ns)
		m.putName(r.Mbox)
		m.put32(r.Serial)
		m.put32(r.Refresh)
		m.put32(r.Retry)
		m.put32(r.Expire)
		m.put32(r.Minttl)
	default:
		if rd, ok := m.snap.Rdata(rr); ok {
			m.putBytes(rd)
		} else {
			m.putOwnRR(rr)
		}
	}
	if m.over {
		return
	}
	rdlen := m.off - lenAt - 2
	if rdlen > 0xffff {
		m.over = true
		return
	}
	binary.BigEndian.PutUint16(m.buf[lenAt:], uint16(rdlen))
}

// putOwnRR writes the RDATA of a record the snapshot synthesized for this answer alone (a
// wildcard or alias answer), which miekg/dns may pack: nobody else reads it.
func (m *msgWriter) putOwnRR(rr dns.RR) {
	if m.w.tmp == nil {
		m.w.tmp = make([]byte, maxMsgLen)
	}
	off, err := dns.PackRR(rr, m.w.tmp, 0, nil, false)
	if err != nil {
		m.over = true
		return
	}
	m.putBytes(m.w.tmp[off-int(rr.Header().Rdlength) : off])
}
