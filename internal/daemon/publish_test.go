package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/failoverdns/failoverdns/internal/config"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// runDaemon starts a daemon on loopback with a fresh data dir and stops it when the test ends;
// set, when given, changes the daemon before it runs.
func runDaemon(t testing.TB, set ...func(*Daemon)) (*Daemon, context.Context) {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir, cfg.DNSListen, cfg.APIListen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	d := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range set {
		f(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, func() error { close(ready); return nil }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return d, ctx
}

// served answers qname, qtype from the snapshot DNS serves now, one record a line.
func served(d *Daemon, qname string, qtype uint16) string {
	res := d.snap.Load().Lookup(qname, qtype)
	if res.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[res.Rcode]
	}
	var b strings.Builder
	for _, rr := range res.Answer {
		b.WriteString(strings.TrimPrefix(rr.String(), rr.Header().String()))
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

func change(action string, rs zone.RecordSet) zone.Change {
	return zone.Change{Action: action, ResourceRecordSet: rs}
}

func aSet(name, value string) zone.RecordSet {
	ttl := int64(60)
	return zone.RecordSet{Name: name, Type: "A", TTL: &ttl, ResourceRecords: []zone.ResourceRecord{{Value: value}}}
}

// apply commits a batch and fails unless it is served when the call returns (INSYNC).
func apply(t *testing.T, ctx context.Context, svc *service.Service, zoneID string, changes ...zone.Change) {
	t.Helper()
	ci, err := svc.ChangeRecordSets(ctx, zoneID, zone.ChangeBatch{Changes: changes})
	if err != nil {
		t.Fatal(err)
	}
	if ci.Status != service.StatusInsync {
		t.Fatalf("change %s is %s when its call returns, want INSYNC", ci.Id, ci.Status)
	}
}

// TestPublisherFollowsStore walks the publisher through every way it updates the snapshot:
// patches of plain record sets (many at once included), changes that need a full build (an
// alias and its target, a new zone, a deleted zone) and health transitions, and checks after
// each what DNS serves.
func TestPublisherFollowsStore(t *testing.T) {
	d, ctx := runDaemon(t)
	svc := d.Service()
	hz, _, err := svc.CreateZone(ctx, "pub.test", "ref-pub", "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, qname string, qtype uint16, want string) {
		t.Helper()
		if got := served(d, qname, qtype); got != want {
			t.Errorf("%s: %s %s = %q, want %q", what, qname, dns.TypeToString[qtype], got, want)
		}
	}

	// Patches.
	apply(t, ctx, svc, hz.Id, change("CREATE", aSet("www.pub.test.", "192.0.2.1")))
	check("created", "www.pub.test.", dns.TypeA, "192.0.2.1")
	apply(t, ctx, svc, hz.Id, change("UPSERT", aSet("www.pub.test.", "192.0.2.2")), change("CREATE", aSet("a.b.pub.test.", "192.0.2.3")))
	check("upserted", "www.pub.test.", dns.TypeA, "192.0.2.2")
	check("below an empty non-terminal", "a.b.pub.test.", dns.TypeA, "192.0.2.3")
	check("the empty non-terminal", "b.pub.test.", dns.TypeA, "")
	apply(t, ctx, svc, hz.Id, change("DELETE", aSet("a.b.pub.test.", "192.0.2.3")))
	check("deleted", "a.b.pub.test.", dns.TypeA, "NXDOMAIN")
	check("the empty non-terminal, gone", "b.pub.test.", dns.TypeA, "NXDOMAIN")
	var many []zone.Change
	for i := range 1000 {
		many = append(many, change("CREATE", aSet(fmt.Sprintf("n%d.pub.test.", i), fmt.Sprintf("198.51.100.%d", i%250+1))))
	}
	apply(t, ctx, svc, hz.Id, many...)
	for i := range 1000 {
		check("a batch of 1000", fmt.Sprintf("n%d.pub.test.", i), dns.TypeA, fmt.Sprintf("198.51.100.%d", i%250+1))
	}
	soa := served(d, "pub.test.", dns.TypeSOA)

	// An alias and its target: full builds.
	al := zone.RecordSet{Name: "al.pub.test.", Type: "A", AliasTarget: &zone.AliasTarget{HostedZoneId: strings.TrimPrefix(hz.Id, service.ZonePrefix), DNSName: "www.pub.test."}}
	apply(t, ctx, svc, hz.Id, change("CREATE", al))
	check("alias", "al.pub.test.", dns.TypeA, "192.0.2.2")
	apply(t, ctx, svc, hz.Id, change("UPSERT", aSet("www.pub.test.", "192.0.2.9")))
	check("alias after its target changed", "al.pub.test.", dns.TypeA, "192.0.2.9")
	if got := served(d, "pub.test.", dns.TypeSOA); got == soa {
		t.Errorf("the SOA serial did not move: %s", got)
	}

	// Health: a failover pair whose primary's check is forced down and up again.
	hc, _, err := svc.CreateHealthCheck(ctx, "pub-primary", health.Config{Type: health.TypeTCP, IPAddress: "127.0.0.1", Port: 9, RequestInterval: 30})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ForceHealthCheck(ctx, hc.Id, &health.Force{Healthy: true}); err != nil {
		t.Fatal(err)
	}
	pri, sec := aSet("fo.pub.test.", "192.0.2.20"), aSet("fo.pub.test.", "192.0.2.30")
	pri.SetIdentifier, pri.Failover, pri.HealthCheckId = "p", "PRIMARY", hc.Id
	sec.SetIdentifier, sec.Failover = "s", "SECONDARY"
	apply(t, ctx, svc, hz.Id, change("CREATE", pri), change("CREATE", sec))
	check("failover, primary healthy", "fo.pub.test.", dns.TypeA, "192.0.2.20")
	if _, err := svc.ForceHealthCheck(ctx, hc.Id, &health.Force{Healthy: false}); err != nil {
		t.Fatal(err)
	}
	check("failover, primary forced down", "fo.pub.test.", dns.TypeA, "192.0.2.30")
	apply(t, ctx, svc, hz.Id, change("CREATE", aSet("beside.pub.test.", "192.0.2.40")))
	check("a patch keeps the health decision", "fo.pub.test.", dns.TypeA, "192.0.2.30")
	if _, err := svc.ForceHealthCheck(ctx, hc.Id, &health.Force{Healthy: true}); err != nil {
		t.Fatal(err)
	}
	check("failover, primary forced up", "fo.pub.test.", dns.TypeA, "192.0.2.20")

	// Zones come and go.
	hz2, _, err := svc.CreateZone(ctx, "other.test", "ref-other", "")
	if err != nil {
		t.Fatal(err)
	}
	apply(t, ctx, svc, hz2.Id, change("CREATE", aSet("x.other.test.", "192.0.2.50")))
	check("a second zone", "x.other.test.", dns.TypeA, "192.0.2.50")
	check("the first zone still", "n999.pub.test.", dns.TypeA, "198.51.100.250")
	apply(t, ctx, svc, hz2.Id, change("DELETE", aSet("x.other.test.", "192.0.2.50")))
	if _, err := svc.DeleteZone(ctx, hz2.Id); err != nil {
		t.Fatal(err)
	}
	check("a deleted zone", "other.test.", dns.TypeSOA, "REFUSED")
	check("the first zone after the other's deletion", "fo.pub.test.", dns.TypeA, "192.0.2.20")
}

// zoneFile is a master file for imp.test with n A records h<i> valued base.<i>.
func zoneFile(n int, base string) string {
	var b strings.Builder
	b.WriteString("$TTL 60\n@ IN SOA ns1.example.net. hostmaster.imp.test. 1 7200 900 1209600 60\n@ IN NS ns1.example.net.\n")
	for i := range n {
		fmt.Fprintf(&b, "h%d IN A %s.%d\n", i, base, i)
	}
	return b.String()
}

// TestPublisherFollowsImports: imports bigger than a transaction (written beside the zone's
// record sets, then switched to) are served whole once the import returns, and the daemon then
// deletes the record sets the zone no longer reads.
func TestPublisherFollowsImports(t *testing.T) {
	d, ctx := runDaemon(t, func(d *Daemon) { d.importChunk = 4 })
	svc := d.Service()
	hz, _, err := svc.CreateZone(ctx, "imp.test", "ref-imp", "")
	if err != nil {
		t.Fatal(err)
	}
	load := func(file string) {
		t.Helper()
		ci, err := svc.ImportMasterFile(ctx, hz.Id, strings.NewReader(file), "")
		if err != nil {
			t.Fatal(err)
		}
		if ci.Status != service.StatusInsync {
			t.Fatalf("import %s is %s when its call returns, want INSYNC", ci.Id, ci.Status)
		}
	}
	load(zoneFile(10, "192.0.2"))
	for i := range 10 {
		if got, want := served(d, fmt.Sprintf("h%d.imp.test.", i), dns.TypeA), fmt.Sprintf("192.0.2.%d", i); got != want {
			t.Errorf("after the first import: h%d = %q, want %q", i, got, want)
		}
	}
	load(zoneFile(7, "198.51.100"))
	for i := range 10 {
		want := fmt.Sprintf("198.51.100.%d", i)
		if i >= 7 {
			want = "NXDOMAIN"
		}
		if got := served(d, fmt.Sprintf("h%d.imp.test.", i), dns.TypeA); got != want {
			t.Errorf("after the second import: h%d = %q, want %q", i, got, want)
		}
	}
	// The sweeper runs once the import is served; the record sets left are the zone's.
	z, err := svc.Zone(ctx, hz.Id)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var keys int
		err := d.st.View(ctx, func(r store.Reader) error {
			return r.Scan("rrset/", func(string, []byte) error { keys++; return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		if keys == len(z.RecordSets) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d record set keys stored 10 s after the import, want the zone's %d", keys, len(z.RecordSets))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
