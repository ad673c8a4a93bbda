package metrics

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/failoverdns/failoverdns/internal/dnsserver"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
)

type fakeChecker map[string]health.Status

func (f fakeChecker) Stats() health.Stats {
	return health.Stats{Checks: len(f), Probes: 7, Lag: health.LagHistogram{Bounds: []time.Duration{time.Millisecond}, Counts: []uint64{3, 1}, Max: 2 * time.Millisecond}}
}
func (f fakeChecker) Gauges() []health.Gauge {
	var out []health.Gauge
	for id, s := range f {
		g := health.Gauge{ID: id, Type: s.Config.Type, Healthy: s.Healthy, Measured: s.Measured}
		if n := len(s.Observations); n > 0 {
			g.Latency, g.Observed = s.Observations[n-1].Latency, true
		}
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b health.Gauge) int { return strings.Compare(a.ID, b.ID) }) // as the Checker's
	return out
}

// scrape serves the metrics once and parses them with Prometheus's own text parser; acceptGzip
// asks for them gzipped, as Prometheus does.
func scrape(t testing.TB, m *Metrics, acceptGzip ...bool) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	gz := len(acceptGzip) > 0 && acceptGzip[0]
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	m.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	var body io.Reader = rec.Body
	if gz {
		if e := rec.Header().Get("Content-Encoding"); e != "gzip" {
			t.Fatalf("Content-Encoding %q, want gzip", e)
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body = zr
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return fams
}

// value returns the value of the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want ...string) float64 {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i < len(want); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == want[i] && l.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("no sample of %s with labels %q", name, want)
	return 0
}

func TestScrape(t *testing.T) {
	var st dnsserver.Stats
	st.QTypes = map[uint16]uint64{dns.TypeA: 5, dns.TypeAAAA: 2, 0: 1}
	st.Rcodes = map[int]uint64{dns.RcodeSuccess: 6, dns.RcodeNameError: 2}
	st.Latency[0], st.Latency[3] = 2, 1
	st.LatencySum = 30 * time.Microsecond
	odd := "a \"quoted\" \\ id\nof two lines" // label values escaped as the text format wants
	checks := fakeChecker{
		"up":   {ID: "up", Healthy: true, Measured: true, Observations: []health.Observation{{Latency: 20 * time.Millisecond}}},
		"down": {ID: "down", Healthy: false, Measured: true, Force: &health.Force{}},
		odd:    {ID: odd, Healthy: true, Measured: true},
		"calc": {ID: "calc", Healthy: true, Config: health.Config{Type: health.TypeCalculated}},
	}
	m := New(Sources{DNS: func() dnsserver.Stats { return st }, Checker: checks,
		Hooks: func() []HookStats { return []HookStats{{Hook: "webhook 0", Type: "webhook", Delivered: 4, Failed: 1}} }})
	m.Event(service.Event{Kind: service.EventHealth, After: "unhealthy", Cause: "probe"})
	m.Event(service.Event{Kind: service.EventAnswer, Cause: "health"})
	m.Event(service.Event{Kind: service.EventMaintenance, Cause: "switch"})
	m.Event(service.Event{Kind: service.EventMaintenance, Cause: "switch"})

	fams := scrape(t, m, true)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"failoverdns_dns_queries_total", []string{"qtype", "A"}, 5},
		{"failoverdns_dns_queries_total", []string{"qtype", "AAAA"}, 2},
		{"failoverdns_dns_queries_total", []string{"qtype", "NONE"}, 1},
		{"failoverdns_dns_responses_total", []string{"rcode", "NXDOMAIN"}, 2},
		{"failoverdns_dns_response_duration_seconds", nil, 3},
		{"failoverdns_health_check_status", []string{"check", "up"}, 1},
		{"failoverdns_health_check_status", []string{"check", "down"}, 0},
		{"failoverdns_health_check_checkers_healthy_ratio", []string{"check", "down"}, 1}, // forced down, measured up
		{"failoverdns_health_check_probe_latency_seconds", []string{"check", "up"}, 0.02},
		{"failoverdns_health_check_status", []string{"check", odd}, 1},
		{"failoverdns_health_check_status", []string{"check", "calc"}, 1},
		{"failoverdns_health_probes_total", nil, 7},
		{"failoverdns_health_schedule_lag_seconds", nil, 4},
		{"failoverdns_health_transitions_total", []string{"to", "unhealthy", "cause", "probe"}, 1},
		{"failoverdns_answer_changes_total", []string{"cause", "health"}, 1},
		{"failoverdns_maintenance_steps_total", []string{"step", "switch"}, 2},
		{"failoverdns_hook_failures_total", []string{"hook", "webhook 0"}, 1},
		{"failoverdns_hook_deliveries_total", []string{"hook", "webhook 0"}, 4},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	h := fams["failoverdns_dns_response_duration_seconds"].Metric[0].Histogram
	if b := h.Bucket[0]; b.GetUpperBound() != dnsserver.LatencyBounds[0].Seconds() || b.GetCumulativeCount() != 2 {
		t.Errorf("first latency bucket %v", b)
	}
	if h.GetSampleSum() != 30e-6 {
		t.Errorf("latency sum %v", h.GetSampleSum())
	}
	// A calculated check has no probes: no share, no latency; a check not yet probed no latency.
	if n := len(fams["failoverdns_health_check_checkers_healthy_ratio"].Metric); n != 3 {
		t.Errorf("%d healthy-ratio series, want 3 (not the calculated check's)", n)
	}
	if n := len(fams["failoverdns_health_check_probe_latency_seconds"].Metric); n != 1 {
		t.Errorf("%d probe latency series, want 1 (the observed check's)", n)
	}
}

// manyChecks is a checker of n HTTP checks.
func manyChecks(n int) fakeChecker {
	f := fakeChecker{}
	for i := range n {
		id := fmt.Sprintf("%08x-1111-2222-3333-444455556666", i)
		f[id] = health.Status{ID: id, Healthy: i%3 != 0, Measured: true, Observations: []health.Observation{{Latency: time.Millisecond}}}
	}
	return f
}

// TestScrapeManyChecks: every check has its series, once.
func TestScrapeManyChecks(t *testing.T) {
	fams := scrape(t, New(Sources{Checker: manyChecks(1000)}))
	for _, name := range []string{"failoverdns_health_check_status", "failoverdns_health_check_checkers_healthy_ratio",
		"failoverdns_health_check_probe_latency_seconds"} {
		if n := len(fams[name].Metric); n != 1000 {
			t.Errorf("%s: %d series, want 1000", name, n)
		}
	}
}

// BenchmarkScrape10k serves the metrics of 10,000 health checks (what Prometheus's scrape costs
// the core the checks run on), gzipped as Prometheus asks.
func BenchmarkScrape10k(b *testing.B) {
	m := New(Sources{Checker: manyChecks(10_000)})
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	for b.Loop() {
		m.Handler().ServeHTTP(httptest.NewRecorder(), req)
	}
}

// TestNoSources: a server that has not started its parts still serves its metrics.
func TestNoSources(t *testing.T) {
	fams := scrape(t, New(Sources{}))
	if fams["go_goroutines"] == nil {
		t.Errorf("no Go runtime metrics")
	}
}
