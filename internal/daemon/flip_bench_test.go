package daemon

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// BenchmarkFlip measures, in real time, how long a health transition takes to reach DNS answers:
// from the transition's time (for a probe, the observation that decided it) to the first answer a
// client polling every 200 µs gets with the other address. The bound to meet is 50 ms.
// Run: go test -run - -bench Flip -benchtime 20x ./internal/daemon/
func BenchmarkFlip(b *testing.B) {
	b.Run("forced", func(b *testing.B) { benchFlip(b, true) })
	b.Run("probe", func(b *testing.B) { benchFlip(b, false) })
}

// benchFlip flips the primary's check each round: by forcing its state, or by closing and
// reopening the TCP listener its probe (every 0.1 s, threshold 1) connects to.
func benchFlip(b *testing.B, forced bool) {
	d, ctx := runDaemon(b)

	addr := "127.0.0.1:0"
	var ln net.Listener
	listen := func() {
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			b.Fatal(err)
		}
		addr = ln.Addr().String()
		go func(ln net.Listener) {
			for c, err := ln.Accept(); err == nil; c, err = ln.Accept() {
				c.Close()
			}
		}(ln)
	}
	listen()
	defer func() { ln.Close() }()
	port, _ := strconv.Atoi(addr[len("127.0.0.1:"):])
	svc := d.Service()
	hz, _, err := svc.CreateZone(ctx, "flip.test", "", "")
	if err != nil {
		b.Fatal(err)
	}
	hc, _, err := svc.CreateHealthCheck(ctx, "flip", health.Config{Type: health.TypeTCP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 0.1, FailureThreshold: 1})
	if err != nil {
		b.Fatal(err)
	}
	ttl := int64(0)
	rec := func(id, role, ip, check string) zone.Change {
		return zone.Change{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{Name: "www.flip.test.", Type: "A", TTL: &ttl,
			SetIdentifier: id, Failover: role, HealthCheckId: check, ResourceRecords: []zone.ResourceRecord{{Value: ip}}}}
	}
	if _, err := svc.ChangeRecordSets(ctx, hz.Id, zone.ChangeBatch{Changes: []zone.Change{
		rec("p", "PRIMARY", "192.0.2.1", hc.Id), rec("s", "SECONDARY", "192.0.2.2", "")}}); err != nil {
		b.Fatal(err)
	}
	client := &dns.Client{Timeout: time.Second}
	query := new(dns.Msg).SetQuestion("www.flip.test.", dns.TypeA)
	answer := func() string {
		r, _, err := client.Exchange(query, d.DNSAddr())
		if err != nil || len(r.Answer) == 0 {
			return ""
		}
		return r.Answer[0].(*dns.A).A.String()
	}
	var worst time.Duration
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		want := "192.0.2.2"
		if i%2 == 1 {
			want = "192.0.2.1"
		}
		force := &health.Force{Healthy: i%2 == 1, Reason: "bench"}
		var after uint64
		if evs, _ := svc.Events(ctx, 0, 100000, false); len(evs) > 0 {
			after = evs[len(evs)-1].Seq
		}
		switch {
		case forced:
			if _, err := svc.ForceHealthCheck(ctx, hc.Id, force); err != nil {
				b.Fatal(err)
			}
		case i%2 == 0:
			ln.Close()
		default:
			listen()
		}
		var seen time.Time
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Microsecond) {
			if answer() == want {
				seen = time.Now()
				break
			}
		}
		if seen.IsZero() {
			b.Fatalf("round %d: DNS never answered %s", i, want)
		}
		var decided time.Time
		for decided.IsZero() {
			evs, err := svc.Events(ctx, after, 100, true)
			if err != nil || len(evs) == 0 {
				b.Fatalf("round %d: no events: %v", i, err)
			}
			for _, ev := range evs {
				if ev.Kind == service.EventHealth && decided.IsZero() {
					decided = ev.Time
				}
				after = ev.Seq
			}
		}
		lat := seen.Sub(decided)
		total += lat
		worst = max(worst, lat)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/flip")
	b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
}
