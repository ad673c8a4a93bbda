package dnsserver

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"

	"github.com/failoverdns/failoverdns/internal/answer"
)

// replyCache keeps one UDP reader's replies to questions whose answer does not vary, for the
// snapshot they were written from. A question asked again is answered by copying its reply and
// writing the client's ID, RD bit and question (its letter case, to which the reply's names
// point) over it: no lookup, no packing. A new snapshot empties the cache. A reply drawn at
// random (a weighted pick) is kept under its question and the draw's answer.Result.Variant: it is
// looked up after the draw, so only the packing is saved. Replies from several draws or from a
// multivalue sample are never kept.
//
// The cache is direct-mapped: a question's slot is fixed by a hash of its key (name, type, EDNS
// and DO bits, size limit), and a reply kept replaces what the slot held. Its memory is allocated
// once, with the reader.
type replyCache struct {
	// snap is the ID of the snapshot the kept replies come from: an ID rather than the
	// snapshot, so that an idle reader does not keep an old snapshot's memory alive.
	snap  uint64
	gen   uint32 // slots of another generation are empty
	seed  maphash.Seed
	slots [cacheSlots]cacheSlot
	bytes []byte // cacheSlotBytes per slot: the question name, then the reply
}

// Sizes of the cache: 4096 slots of 768 bytes (3 MiB) per UDP socket.
const (
	cacheSlots     = 4096
	cacheNameBytes = maxName + 1 // a lower-case name as parse prints it, when it is that short
	cacheReplyMax  = 512         // longer replies are written anew each time
	cacheSlotBytes = cacheNameBytes + cacheReplyMax
)

// cacheSlot describes one kept reply.
type cacheSlot struct {
	// asked is the hash of the last question that found the slot without its reply: a reply
	// is kept when its question is asked a second time, so that questions asked once (random
	// names of a large zone) do not write to the cache's memory.
	asked    uint64
	gen      uint32
	hash     uint64
	qtype    uint16
	variant  uint16 // of a drawn answer; 0 for an answer that does not vary
	limit    uint16 // the size limit the reply was written for
	edns, do bool
	tc       bool // the reply is truncated
	rcode    uint8
	nameLen  uint16
	replyLen uint16
}

func newReplyCache() *replyCache {
	return &replyCache{gen: 1, seed: maphash.MakeSeed(), bytes: make([]byte, cacheSlots*cacheSlotBytes)}
}

// cacheKey is where the reply to one question goes: computed once per query, for get and then,
// on a miss, for put.
type cacheKey struct {
	slot    int    // -1: the question cannot be kept
	hash    uint64 // of the name, type, DO bit, limit and variant
	limit   int    // the size limit of the reply
	variant uint16
}

// key returns the key of the question in q for replies within limit. Replies from another
// snapshot than snap are forgotten first.
func (c *replyCache) key(snap *answer.Snapshot, q *request, limit int) cacheKey {
	if id := snap.ID(); id != c.snap {
		c.snap = id
		c.gen++
		if c.gen == 0 { // after 2^32 snapshots: empty every slot for real
			c.slots = [cacheSlots]cacheSlot{}
			c.gen = 1
		}
	}
	if len(q.qname) > cacheNameBytes {
		return cacheKey{slot: -1}
	}
	h := maphash.Bytes(c.seed, q.qname) ^ uint64(q.qtype)<<48 ^ uint64(limit)<<32
	if q.do {
		h ^= 1 << 63
	}
	h *= 0x9e3779b97f4a7c15 // spread the mixed-in bits over the slot index
	return cacheKey{slot: int(h >> (64 - cacheBits)), hash: h, limit: limit}
}

// withVariant returns the key of k's question for the drawn answer v (answer.Result.Variant).
func (k cacheKey) withVariant(v int) cacheKey {
	if k.slot < 0 || v <= 0 || v > 0xffff {
		return cacheKey{slot: -1}
	}
	h := (k.hash ^ uint64(v)*0xbf58476d1ce4e5b9) * 0x9e3779b97f4a7c15
	return cacheKey{slot: int(h >> (64 - cacheBits)), hash: h, limit: k.limit, variant: uint16(v)}
}

// cacheBits is log2(cacheSlots).
const cacheBits = 12

// data returns slot i's bytes.
func (c *replyCache) data(i int) []byte {
	return c.bytes[i*cacheSlotBytes : (i+1)*cacheSlotBytes]
}

// get copies the kept reply to the question of w's request req, whose key is k, into w's output
// buffer, with the request's ID, RD bit and question, and returns it; nil when none is kept.
func (c *replyCache) get(w *worker, k cacheKey, req []byte) []byte {
	if k.slot < 0 {
		return nil
	}
	q := &w.req
	e := &c.slots[k.slot]
	if e.gen != c.gen || e.hash != k.hash || e.variant != k.variant || e.qtype != q.qtype || int(e.limit) != k.limit || e.edns != q.edns || e.do != q.do {
		return nil
	}
	d := c.data(k.slot)
	if !bytes.Equal(d[:e.nameLen], q.qname) {
		return nil
	}
	w.count(int(e.rcode))
	w.c.cached.Add(1)
	if e.tc {
		w.c.truncated.Add(1)
	}
	b := w.out[2 : 2+int(e.replyLen)]
	copy(b, d[cacheNameBytes:])
	binary.BigEndian.PutUint16(b, q.id)
	if q.rd {
		b[2] |= flagRD >> 8
	}
	copy(b[headerLen:], req[headerLen:q.qEnd])
	return b
}

// put keeps reply, the reply with rcode to the question in q, whose key is k.
func (c *replyCache) put(k cacheKey, q *request, rcode int, reply []byte) {
	if k.slot < 0 || len(reply) > cacheReplyMax {
		return
	}
	e := &c.slots[k.slot]
	if e.asked != k.hash {
		e.asked = k.hash
		return
	}
	*e = cacheSlot{
		asked: k.hash, gen: c.gen, hash: k.hash, qtype: q.qtype, variant: k.variant, limit: uint16(k.limit), edns: q.edns, do: q.do,
		tc: reply[2]&(flagTC>>8) != 0, rcode: uint8(rcode), nameLen: uint16(len(q.qname)), replyLen: uint16(len(reply)),
	}
	d := c.data(k.slot)
	copy(d, q.qname)
	copy(d[cacheNameBytes:], reply)
	d[cacheNameBytes+2] &^= flagRD >> 8 // the RD bit is the client's
}
