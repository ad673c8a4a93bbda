package dnsserver

import (
	"net"
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
}

// TestHandleAllocs guards the allocations of a whole request-to-response pass.
func TestHandleAllocs(t *testing.T) {
	p := new(atomic.Pointer[answer.Snapshot])
	p.Store(testSnapshot(t))
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
	p.Store(testSnapshot(b))
	s := New(Config{}, p)
	w := newWorker(&s.shared)
	for _, c := range handleBenchmarks {
		b.Run(c.name, func(b *testing.B) {
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

// BenchmarkUDP measures round trips over loopback UDP: one query in flight per client
// goroutine (sequential is one client; parallel runs GOMAXPROCS clients).
func BenchmarkUDP(b *testing.B) {
	s, _ := startServer(b, testSnapshot(b), 0)
	req, _ := query{name: "web.example.com.", qtype: dns.TypeA}.msg().Pack()
	roundTrip := func(b *testing.B, c net.Conn, buf []byte) {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
	dial := func(b *testing.B) net.Conn {
		c, err := net.Dial("udp", s.Addr())
		if err != nil {
			b.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		return c
	}
	b.Run("sequential", func(b *testing.B) {
		c := dial(b)
		defer c.Close()
		buf := make([]byte, 1500)
		b.ReportAllocs()
		for b.Loop() {
			roundTrip(b, c, buf)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			c := dial(b)
			defer c.Close()
			buf := make([]byte, 1500)
			for pb.Next() {
				roundTrip(b, c, buf)
			}
		})
	})
}
