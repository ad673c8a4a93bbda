package dnsserver

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/answer"
)

var handleBenchmarks = []struct {
	name string
	q    query
	// allocs is the most allocations one handle call may make.
	allocs float64
}{
	{"exact", query{name: "web.example.com.", qtype: dns.TypeA}, 1}, // the query name string
	{"exact-0x20", query{name: "WeB.ExAmPlE.cOm.", qtype: dns.TypeA}, 1},
	{"nxdomain", query{name: "nothere.example.com.", qtype: dns.TypeA}, 1},
	{"wildcard", query{name: "x.wild.example.com.", qtype: dns.TypeA}, 3},
	{"cname", query{name: "www.example.com.", qtype: dns.TypeA}, 2},
	{"referral", query{name: "www.sub.example.com.", qtype: dns.TypeA}, 1},
	{"refused", query{name: "www.example.net.", qtype: dns.TypeA}, 1},
	{"truncated", query{name: "many.big.test.", qtype: dns.TypeA, noEDNS: true}, 1},
	{"weighted", query{name: "w.example.org.", qtype: dns.TypeA}, 1}, // a 1:1 pick, kept per draw
}

// TestHandleAllocs guards the allocations of a whole request-to-response pass.
func TestHandleAllocs(t *testing.T) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(cacheSnapshot(t, "192.0.2.150"))
	s := New(Config{}, p)
	w := newWorker(&s.shared)
	for _, b := range handleBenchmarks {
		t.Run(b.name, func(t *testing.T) {
			req, _ := b.q.msg().Pack()
			got := testing.AllocsPerRun(200, func() { s.handle(w, req, false) })
			if got > b.allocs {
				t.Errorf("handle makes %v allocations, budget %v", got, b.allocs)
			}
		})
	}
}

// BenchmarkHandle measures one request in wire format to the response in wire format.
func BenchmarkHandle(b *testing.B) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(cacheSnapshot(b, "192.0.2.150"))
	s := New(Config{}, p)
	fresh, cached := newWorker(&s.shared), newWorker(&s.shared)
	cached.cache = newReplyCache()
	for _, w := range []*worker{fresh, cached} {
		for _, c := range handleBenchmarks {
			name := c.name
			if w.cache != nil {
				name += "/cached"
			}
			b.Run(name, func(b *testing.B) {
				req, _ := c.q.msg().Pack()
				b.ReportAllocs()
				for b.Loop() {
					if s.handle(w, req, false) == nil {
						b.Fatal("no reply")
					}
				}
			})
		}
	}
}

// udpAllocs is the most heap allocations the server may make per query on the UDP path, from the
// datagram read to the reply sent: the question name handed to the snapshot as a string. A reply
// copied from the reader's cache makes none.
const udpAllocs = 1

// udpClient is a loopback client of a running server that allocates nothing per query, so that
// the process's allocations while it runs are the server's.
type udpClient struct {
	c    *net.UDPConn
	reqs [][]byte // sent in turn
	next int
	buf  []byte
}

func dialUDP(t testing.TB, addr string) *udpClient {
	t.Helper()
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", nil, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	req, _ := query{name: "web.example.com.", qtype: dns.TypeA}.msg().Pack()
	return &udpClient{c: c, reqs: [][]byte{req}, buf: make([]byte, 1500)}
}

// distinct makes u ask n different questions in turn (names that do not exist), so that the
// server's reply cache, which keeps a reply when its question comes a second time, misses.
func (u *udpClient) distinct(n int) {
	u.reqs = u.reqs[:0]
	for i := range n {
		req, _ := query{name: fmt.Sprintf("nx%d.example.com.", i), qtype: dns.TypeA}.msg().Pack()
		u.reqs = append(u.reqs, req)
	}
}

// burst sends n queries, then reads their n replies: the server reads them in batches.
func (u *udpClient) burst(t testing.TB, n int) {
	for range n {
		if _, err := u.c.Write(u.reqs[u.next]); err != nil {
			t.Fatal(err)
		}
		u.next = (u.next + 1) % len(u.reqs)
	}
	for range n {
		if _, err := u.c.Read(u.buf); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUDPAllocs guards the allocations of the whole UDP path on the server's side, without timing
// anything: a real server on loopback answers queries sent one at a time (a read after each
// wait) and in bursts (batches of many datagrams), and the process's allocations over them,
// divided by the queries, stay within udpAllocs.
func TestUDPAllocs(t *testing.T) {
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0"} { // batched with packet info on a wildcard
		t.Run(listen, func(t *testing.T) { testUDPAllocs(t, listen) })
	}
}

func testUDPAllocs(t *testing.T, listen string) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(testSnapshot(t))
	s := New(Config{Listen: listen, Sockets: 1}, p)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	_, port, _ := net.SplitHostPort(s.Addr())
	u := dialUDP(t, net.JoinHostPort("127.0.0.1", port))
	for _, c := range []struct {
		name        string
		distinct    int // questions asked in turn: 1 is answered from the cache after the second time
		rounds, per int
		budget      float64
	}{
		{"sequential/cached", 1, 2000, 1, 0},
		{"burst/cached", 1, 100, 32, 0},
		{"sequential/distinct", 20000, 2000, 1, udpAllocs},
		{"burst/distinct", 20000, 100, 32, udpAllocs},
	} {
		t.Run(c.name, func(t *testing.T) {
			u.distinct(c.distinct)
			if c.distinct == 1 {
				u.reqs[0], _ = query{name: "web.example.com.", qtype: dns.TypeA}.msg().Pack()
			}
			u.burst(t, 64) // the server's first queries allocate what it keeps
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range c.rounds {
				u.burst(t, c.per)
			}
			runtime.ReadMemStats(&after)
			got := float64(after.Mallocs-before.Mallocs) / float64(c.rounds*c.per)
			t.Logf("%.3f allocations per query", got)
			if got > c.budget+0.01 { // leeway for the runtime's own, not per query or batch
				t.Errorf("the UDP path makes %.2f allocations per query, budget %v", got, c.budget)
			}
		})
	}
}

// BenchmarkUDP measures round trips over loopback UDP: one query in flight per client
// goroutine (sequential is one client; parallel runs GOMAXPROCS clients), and bursts of 32
// queries that the server reads and answers in batches (ns/op is per query). Allocations per
// op are the server's (the clients make none).
func BenchmarkUDP(b *testing.B) {
	s, _ := startServer(b, testSnapshot(b), 0)
	b.Run("sequential", func(b *testing.B) {
		u := dialUDP(b, s.Addr())
		b.ReportAllocs()
		for b.Loop() {
			u.burst(b, 1)
		}
	})
	b.Run("burst", func(b *testing.B) {
		const n = 32
		u := dialUDP(b, s.Addr())
		b.ReportAllocs()
		for b.Loop() {
			u.burst(b, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/query")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			u := dialUDP(b, s.Addr())
			for pb.Next() {
				u.burst(b, 1)
			}
		})
	})
}
