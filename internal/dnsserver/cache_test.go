package dnsserver

import (
	"bytes"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// cacheSnapshot is the zones of the server tests with www.example.org. at addr and a weighted
// pair at w.example.org.
func cacheSnapshot(t testing.TB, addr string) *answer.Snapshot {
	t.Helper()
	ttl, one := int64(60), int64(1)
	var pair []zone.RecordSet
	for _, a := range []string{"192.0.2.11", "192.0.2.12"} {
		pair = append(pair, zone.RecordSet{Name: "w.example.org.", Type: "A", SetIdentifier: a,
			Weight: &one, TTL: &ttl, ResourceRecords: []zone.ResourceRecord{{Value: a}}})
	}
	return serverSnapshot(t, addr, pair...)
}

// randomCase writes name's letters in random case, as a resolver using 0x20 does.
func randomCase(r *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && r.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestReplyCacheMatchesFresh asks the questions of the server tests, each several times with
// another ID, RD bit and letter case, of a UDP reader's worker (which keeps replies) and of a
// worker without a cache: every reply must be the same bytes, also after the snapshot changes.
// Weighted answers must still be drawn per query.
func TestReplyCacheMatchesFresh(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	p := new(atomic.Pointer[answer.Snapshot])
	s := New(Config{}, p)
	cached, fresh := newWorker(new(counters)), newWorker(new(counters))
	cached.cache = newReplyCache()

	names := []string{"example.com.", "www.example.com.", "web.example.com.", "mail.example.com.",
		"x.wild.example.com.", "y.x.wild.example.com.", "sub.example.com.", "www.sub.example.com.",
		"nx.example.com.", "b.c.example.com.", "a.b.c.example.com.", "ttl0.example.com.", "multi.example.com.",
		`a\.b\000.example.com.`, "many.big.test.", "txt.big.test.", "x.deleg.big.test.", "big.test.",
		"example.org.", "www.example.org.", "fo.example.org.", "example.net.", "."}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeNS, dns.TypeSOA,
		dns.TypeANY, dns.TypeDS, dns.TypeCNAME}
	variants := []query{{noEDNS: true}, {}, {size: 700}, {size: 4096, do: true}, {do: true}, {qclass: dns.ClassANY}}

	pack := func(q query) []byte {
		m := q.msg()
		m.Question[0].Name = randomCase(r, q.name)
		m.Id = uint16(r.Uint32())
		req, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	ask := func(q query) (got, want []byte) {
		req := pack(q)
		return bytes.Clone(s.handle(cached, req, false)), bytes.Clone(s.handle(fresh, req, false))
	}
	for _, addr := range []string{"192.0.2.150", "192.0.2.151"} {
		p.Store(cacheSnapshot(t, addr))
		var qs []query
		for _, n := range names {
			for _, typ := range types {
				for _, v := range variants {
					v.name, v.qtype = n, typ
					qs = append(qs, v)
				}
			}
		}
		for round := range 3 {
			r.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
			for _, q := range qs {
				q.rd = r.IntN(2) == 0
				got, want := ask(q)
				if !bytes.Equal(got, want) {
					gm, wm := new(dns.Msg), new(dns.Msg)
					_, _ = gm.Unpack(got), wm.Unpack(want)
					t.Fatalf("www at %s, round %d, %+v:\nreply with the cache:\n%v\nwithout:\n%v", addr, round, q, gm, wm)
				}
			}
		}
		m := new(dns.Msg)
		got, _ := ask(query{name: "www.example.org.", qtype: dns.TypeA})
		if err := m.Unpack(got); err != nil || len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != addr {
			t.Fatalf("www.example.org. after the snapshot changed: %v (%v)", m, err)
		}
	}
	// A reply is kept when its question is asked the second time: the third round comes from
	// the cache, less the questions whose slots others took.
	if hits, total := cached.c.cached.Load(), cached.c.queries.Load(); hits < total/4 {
		t.Errorf("%d of %d replies came from the cache, want about a third", hits, total)
	}

	// A weighted pair is drawn per query; the reply of each draw is kept, and is the bytes a
	// worker without a cache writes for that draw.
	seen := map[string]int{}
	before := cached.c.cached.Load()
	for range 200 {
		req := pack(query{name: "w.example.org.", qtype: dns.TypeA, rd: r.IntN(2) == 0, do: r.IntN(2) == 0})
		got := bytes.Clone(s.handle(cached, req, false))
		m := new(dns.Msg)
		if err := m.Unpack(got); err != nil || len(m.Answer) != 1 {
			t.Fatalf("weighted answer: %v (%v)", m, err)
		}
		seen[m.Answer[0].(*dns.A).A.String()]++
		// The same request drawn afresh until both replies are known.
		drawn := map[string]bool{}
		for i := 0; i < 64 && len(drawn) < 2; i++ {
			drawn[string(s.handle(fresh, req, false))] = true
		}
		if !drawn[string(got)] {
			t.Fatalf("a weighted reply through the cache is none of the fresh ones:\n%v", m)
		}
	}
	if len(seen) != 2 || seen["192.0.2.11"] < 50 || seen["192.0.2.12"] < 50 {
		t.Errorf("a weighted 1:1 pair answered %v in 200 queries through the cache, want about 100 each", seen)
	}
	if hits := cached.c.cached.Load() - before; hits < 150 {
		t.Errorf("%d of 200 weighted replies came from the cache, want nearly all (one kept per draw)", hits)
	}
}

// TestReplyCacheAllocs: a reply copied from the cache allocates nothing.
func TestReplyCacheAllocs(t *testing.T) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(cacheSnapshot(t, "192.0.2.150"))
	s := New(Config{}, p)
	w := newWorker(new(counters))
	w.cache = newReplyCache()
	req, err := query{name: "WWW.example.org.", qtype: dns.TypeA}.msg().Pack()
	if err != nil {
		t.Fatal(err)
	}
	s.handle(w, req, false)
	if n := testing.AllocsPerRun(1000, func() { s.handle(w, req, false) }); n != 0 {
		t.Errorf("a cached reply makes %v allocations, want 0", n)
	}
}
