package answer

import (
	"fmt"

	"github.com/miekg/dns"
)

// packer writes the uncompressed wire form of the RDATA of records for Snapshot.Rdata, into
// shared arenas. A and AAAA records need none: their RDATA is their address.
type packer struct {
	buf   []byte
	arena []byte
}

// needsWire reports whether Rdata needs a packed copy of rr.
func needsWire(rr dns.RR) bool {
	switch r := rr.(type) {
	case *dns.A:
		return r.A.To4() == nil
	case *dns.AAAA:
		return len(r.AAAA) != 16
	}
	return true
}

// add packs rr into wire when Rdata needs it.
func (p *packer) add(zd *zoneData, rr dns.RR, wire func(dns.RR, []byte)) error {
	if !needsWire(rr) {
		return nil
	}
	if p.buf == nil {
		p.buf = make([]byte, dns.MaxMsgSize+1024)
	}
	off, err := dns.PackRR(rr, p.buf, 0, nil, false)
	if err != nil {
		return fmt.Errorf("answer: zone %s (%s): record %s: %w", zd.apex, zd.id, rr, err)
	}
	rd := p.buf[off-int(rr.Header().Rdlength) : off]
	if len(p.arena)+len(rd) > cap(p.arena) {
		p.arena = make([]byte, 0, max(64<<10, len(rd)))
	}
	start := len(p.arena)
	p.arena = append(p.arena, rd...)
	wire(rr, p.arena[start:len(p.arena):len(p.arena)]) // never nil: nil marks a deletion
	return nil
}

// addAll packs every record of rrs.
func (p *packer) addAll(zd *zoneData, rrs []dns.RR, wire func(dns.RR, []byte)) error {
	for _, rr := range rrs {
		if err := p.add(zd, rr, wire); err != nil {
			return err
		}
	}
	return nil
}

// group packs the records of g's record sets.
func (p *packer) group(zd *zoneData, g *group, wire func(dns.RR, []byte)) error {
	if g.plain() {
		return p.addAll(zd, g.rrs, wire)
	}
	for _, m := range g.d.members {
		if err := p.addAll(zd, m.rrs, wire); err != nil {
			return err
		}
	}
	return nil
}
