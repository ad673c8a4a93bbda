package dnsserver

import (
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
)

// worker is what one goroutine answers queries with: buffers reused from query to query, never
// shared.
type worker struct {
	req  request
	in   []byte     // the request, for readers
	name []byte     // the question name, lower case
	out  []byte     // two bytes for a TCP length prefix, then the response
	tmp  []byte     // scratch for packing synthesized records, allocated on first use
	comp *compTable // compression offsets of the response being written
	// cache keeps replies that do not vary: a UDP reader's worker has one (3 MiB), TCP
	// connections' workers do not.
	cache *replyCache
	c     *counters
	tick  uint32 // requests handled, for sampling the latency
}

func newWorker(c *counters) *worker {
	return &worker{
		in:   make([]byte, maxMsgLen),
		name: make([]byte, 0, 5*maxName), // every octet escaped as \DDD, plus the dots
		out:  make([]byte, 2+maxMsgLen),
		comp: new(compTable),
		c:    c,
	}
}

// counters count what the server did; Stats adds them up. Each UDP socket has its own, so the
// atomic adds of the hot path are uncontended.
type counters struct {
	queries, dropped, formErr, notImp, refused, servFail, panics, truncated, cached atomic.Uint64

	qtypes  [numTypeSlots]atomic.Uint64 // answered requests by question type; see typeSlot
	rcodes  [numRcodes]atomic.Uint64    // answered requests by rcode (the last slot: larger ones)
	latency [len(LatencyBounds) + 1]atomic.Uint64
	latSum  atomic.Uint64 // nanoseconds
}

// Question types are counted in a fixed array: types 0 to 257 (CAA) by their number, the rest
// together in otherTypeSlot, requests without a readable question in noQuestionSlot.
const (
	otherTypeSlot  = 258
	noQuestionSlot = 259
	numTypeSlots   = 260
	numRcodes      = 24
)

// latencySample: one request in latencySample has its latency measured.
const latencySample = 8

// LatencyBounds are the upper bounds of the buckets of Stats.Latency: the time from a request's
// bytes to its response's bytes, reading and writing excluded, of one request in 8.
var LatencyBounds = [...]time.Duration{
	2 * time.Microsecond, 5 * time.Microsecond, 10 * time.Microsecond, 25 * time.Microsecond,
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 5 * time.Millisecond, 25 * time.Millisecond, 100 * time.Millisecond,
}

func (c *counters) observe(d time.Duration) {
	i := 0
	for i < len(LatencyBounds) && d > LatencyBounds[i] {
		i++
	}
	c.latency[i].Add(1)
	c.latSum.Add(uint64(max(d, 0)))
}

// accept is the defensive first look at a request (a dns.MsgAcceptFunc, also installed on the
// miekg/dns servers): it ignores responses, answers NOTIMP to opcodes other than QUERY (NOTIFY
// and UPDATE included, for now) and FORMERR to a question count other than one or to more
// records than a query carries (an IXFR's SOA, an OPT and a TSIG).
func accept(dh dns.Header) dns.MsgAcceptAction {
	if dh.Bits&flagQR != 0 {
		return dns.MsgIgnore
	}
	if opcode := int(dh.Bits>>11) & 0xf; opcode != dns.OpcodeQuery {
		return dns.MsgRejectNotImplemented
	}
	if dh.Qdcount != 1 || dh.Ancount > 1 || dh.Nscount > 1 || dh.Arcount > 2 {
		return dns.MsgReject
	}
	return dns.MsgAccept
}

// handle answers one request in wire format and returns the response, or nil when the request
// gets no answer (a response, or fewer bytes than a header). The response is in w's buffer,
// valid until w's next use. tcp selects the size limit: 65535 bytes instead of the client's
// EDNS buffer size. handle never panics: a panic while answering becomes SERVFAIL, counted.
func (s *Server) handle(w *worker, req []byte, tcp bool) (resp []byte) {
	if len(req) < headerLen {
		w.c.dropped.Add(1)
		return nil
	}
	dh := dns.Header{
		Id:      binary.BigEndian.Uint16(req),
		Bits:    binary.BigEndian.Uint16(req[2:]),
		Qdcount: binary.BigEndian.Uint16(req[4:]),
		Ancount: binary.BigEndian.Uint16(req[6:]),
		Nscount: binary.BigEndian.Uint16(req[8:]),
		Arcount: binary.BigEndian.Uint16(req[10:]),
	}
	w.req.qEnd = 0
	// Reading the clock costs about as much as a lookup on some machines, so the latency of
	// one request in latencySample is measured.
	w.tick++
	var start time.Time
	if w.tick%latencySample == 0 {
		start = time.Now()
	}
	defer func() {
		if r := recover(); r != nil {
			w.c.panics.Add(1)
			s.log.Error("dnsserver: answering a query panicked; answered SERVFAIL", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp = w.errorReply(dh, req, dns.RcodeServerFailure)
		}
		if resp != nil && !start.IsZero() {
			w.c.observe(time.Since(start))
		}
	}()
	switch accept(dh) {
	case dns.MsgIgnore:
		w.c.dropped.Add(1)
		return nil
	case dns.MsgReject:
		return w.headerReply(dh, dns.RcodeFormatError)
	case dns.MsgRejectNotImplemented:
		return w.headerReply(dh, dns.RcodeNotImplemented)
	}
	if len(req) > maxRequest {
		return w.headerReply(dh, dns.RcodeFormatError)
	}
	switch w.parse(req) {
	case parseNoQuestion:
		return w.headerReply(dh, dns.RcodeFormatError)
	case parseBad:
		return w.errorReply(dh, req, dns.RcodeFormatError)
	}
	return s.answer(w, req, tcp)
}

// answer answers a well-formed query.
func (s *Server) answer(w *worker, req []byte, tcp bool) []byte {
	q := &w.req
	if q.edns && q.version > 0 {
		return w.reply(req, nil, dns.RcodeBadVers, nil, "", tcp)
	}
	switch q.qclass {
	case dns.ClassINET, dns.ClassANY: // class ANY is answered as IN, as NSD and Knot do
	default: // CHAOS (no version.bind), HESIOD, NONE, ...
		return w.reply(req, nil, dns.RcodeRefused, nil, "", tcp)
	}
	snap := s.snap.Load()
	if snap == nil {
		return w.reply(req, nil, dns.RcodeServerFailure, nil, "", tcp)
	}
	switch q.qtype {
	case 0: // Knot: NOTIMP (NSD answers NODATA)
		return w.reply(req, nil, dns.RcodeNotImplemented, nil, "", tcp)
	case dns.TypeAXFR, dns.TypeIXFR:
		// Zone transfers come later. AXFR over UDP is NOTIMP (NSD and Knot); a transfer of a
		// zone we serve is REFUSED (NSD; Knot says NOTAUTH), of anything else NOTAUTH (both).
		switch {
		case q.qtype == dns.TypeAXFR && !tcp:
			return w.reply(req, nil, dns.RcodeNotImplemented, nil, "", tcp)
		case snap.IsZone(string(q.qname)):
			return w.reply(req, nil, dns.RcodeRefused, nil, "", tcp)
		}
		return w.reply(req, nil, dns.RcodeNotAuth, nil, "", tcp)
	}
	c := w.cache // UDP readers only
	if tcp {
		c = nil
	}
	var k cacheKey
	if c != nil {
		k = c.key(snap, q, w.limit(tcp))
		if b := c.get(w, k, req); b != nil {
			return b
		}
	}
	qname := string(q.qname)
	res := snap.Lookup(qname, q.qtype)
	if c != nil && res.Varies {
		if k = k.withVariant(res.Variant); k.slot >= 0 {
			if b := c.get(w, k, req); b != nil {
				return b
			}
		}
	}
	b := w.reply(req, snap, res.Rcode, &res, qname, tcp)
	if c != nil {
		c.put(k, q, res.Rcode, b)
	}
	return b
}

// limit is the most bytes the reply to w's request may have: 65535 over TCP; over UDP the
// client's EDNS buffer size (512 without EDNS), at most ourUDPSize.
func (w *worker) limit(tcp bool) int {
	switch {
	case tcp:
		return maxMsgLen
	case w.req.edns:
		return min(max(int(w.req.udpSize), minUDPSize), ourUDPSize)
	}
	return minUDPSize
}

// headerReply is a reply of a header alone: for requests whose question cannot be read.
func (w *worker) headerReply(dh dns.Header, rcode int) []byte {
	w.count(rcode)
	b := w.out[2 : 2+headerLen]
	clear(b)
	binary.BigEndian.PutUint16(b, dh.Id)
	binary.BigEndian.PutUint16(b[2:], flagQR|dh.Bits&(0xf<<11|flagRD)|uint16(rcode&0xf))
	return b
}

// errorReply answers rcode with the question echoed when it could be read, without EDNS.
func (w *worker) errorReply(dh dns.Header, req []byte, rcode int) []byte {
	if w.req.qEnd == 0 {
		return w.headerReply(dh, rcode)
	}
	w.headerReply(dh, rcode)
	b := w.out[2 : 2+w.req.qEnd]
	copy(b[headerLen:], req[headerLen:w.req.qEnd])
	binary.BigEndian.PutUint16(b[4:], 1)
	return b
}

func (w *worker) count(rcode int) {
	w.c.queries.Add(1)
	slot := noQuestionSlot
	if w.req.qEnd != 0 {
		slot = min(int(w.req.qtype), otherTypeSlot)
	}
	w.c.qtypes[slot].Add(1)
	w.c.rcodes[min(rcode, numRcodes-1)].Add(1)
	switch rcode {
	case dns.RcodeFormatError:
		w.c.formErr.Add(1)
	case dns.RcodeNotImplemented:
		w.c.notImp.Add(1)
	case dns.RcodeRefused:
		w.c.refused.Add(1)
	case dns.RcodeServerFailure:
		w.c.servFail.Add(1)
	}
}

// reply writes a response to the query in w.req: the question as the client wrote it (its
// letter case included), the sections of res (nil for an error without records), and an OPT
// record when the query had one. Over UDP the response fits the client's EDNS buffer size
// (512 without EDNS, at most ourUDPSize); when the answer or authority section does not fit,
// the response keeps only its question and sets TC, as NSD and Knot do. Additional records that
// do not fit are left out, except that missing glue below a referral's cut sets TC (RFC 9471).
func (w *worker) reply(req []byte, snap *answer.Snapshot, rcode int, res *answer.Result, qname string, tcp bool) []byte {
	q := &w.req
	w.count(rcode)
	w.comp.n = 0
	m := msgWriter{buf: w.out[2:], off: headerLen, comp: w.comp, snap: snap, w: w}
	m.putBytes(req[headerLen:q.qEnd])
	qEnd := m.off
	if qname != "" {
		// Names of the answer point into the question, taking the client's letter case.
		for i := 0; i < q.nlabels; i++ {
			m.comp.add(qname[q.presOff[i]:], headerLen+int(q.wireOff[i]))
		}
	}

	limit := w.limit(tcp)
	if q.edns {
		limit -= optLen
	}

	var (
		counts [3]uint16
		aa, tc bool
	)
	if res != nil {
		aa = res.Authoritative
		if tc = w.section(&m, res.Answer, &counts[0], limit) || w.section(&m, res.Ns, &counts[1], limit); tc {
			m.rollback(qEnd)
			counts = [3]uint16{}
		} else {
			tc = w.additional(&m, res, &counts[2], limit)
		}
	}
	if tc && !tcp {
		w.c.truncated.Add(1)
	}

	if q.edns {
		// OPT: root owner, our buffer size, the extended rcode, the DO bit echoed (RFC 3225).
		var ttl uint32
		if q.do {
			ttl |= flagDO
		}
		ttl |= uint32(rcode>>4) << 24
		m.putByte(0) // the root name
		m.put16(dns.TypeOPT)
		m.put16(ourUDPSize)
		m.put32(ttl)
		m.put16(0)
		counts[2]++
	}

	b := m.buf[:m.off]
	flags := flagQR | uint16(q.opcode)<<11 | uint16(rcode&0xf)
	if aa {
		flags |= flagAA
	}
	if tc {
		flags |= flagTC
	}
	if q.rd {
		flags |= flagRD
	}
	binary.BigEndian.PutUint16(b, q.id)
	binary.BigEndian.PutUint16(b[2:], flags)
	binary.BigEndian.PutUint16(b[4:], 1)
	binary.BigEndian.PutUint16(b[6:], counts[0])
	binary.BigEndian.PutUint16(b[8:], counts[1])
	binary.BigEndian.PutUint16(b[10:], counts[2])
	return b
}

// section writes rrs and reports whether they did not all fit within limit.
func (w *worker) section(m *msgWriter, rrs []dns.RR, count *uint16, limit int) bool {
	for _, rr := range rrs {
		m.putRR(rr)
		if m.over || m.off > limit {
			return true
		}
		*count++
	}
	return false
}

// additional writes the additional records that fit, skipping those that do not (as Knot
// does, a smaller record after a larger one may still fit), and reports whether a record left
// out is glue a referral needs: an address of a name server at or below the cut (RFC 9471).
func (w *worker) additional(m *msgWriter, res *answer.Result, count *uint16, limit int) (tc bool) {
	cut := ""
	if len(res.Ns) > 0 && res.Ns[0].Header().Rrtype == dns.TypeNS {
		cut = res.Ns[0].Header().Name
	}
	for _, rr := range res.Extra {
		save := m.off
		m.putRR(rr)
		if m.over || m.off > limit {
			m.rollback(save)
			if cut != "" && dns.IsSubDomain(cut, rr.Header().Name) {
				tc = true
			}
			continue
		}
		*count++
	}
	return tc
}
