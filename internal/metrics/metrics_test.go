package metrics

import (
	"io"
	"net/http/httptest"
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
	return out
}

// scrape serves the metrics once and parses them with Prometheus's own text parser.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.Reader(rec.Body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, rec.Body)
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
	checks := fakeChecker{
		"up":   {ID: "up", Healthy: true, Measured: true, Observations: []health.Observation{{Latency: 20 * time.Millisecond}}},
		"down": {ID: "down", Healthy: false, Measured: true, Force: &health.Force{}},
	}
	m := New(Sources{DNS: func() dnsserver.Stats { return st }, Checker: checks,
		Hooks: func() []HookStats { return []HookStats{{Hook: "webhook 0", Type: "webhook", Delivered: 4, Failed: 1}} }})
	m.Event(service.Event{Kind: service.EventHealth, After: "unhealthy", Cause: "probe"})
	m.Event(service.Event{Kind: service.EventAnswer, Cause: "health"})
	m.Event(service.Event{Kind: service.EventMaintenance, Cause: "switch"})
	m.Event(service.Event{Kind: service.EventMaintenance, Cause: "switch"})

	fams := scrape(t, m)
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
}

// TestNoSources: a server that has not started its parts still serves its metrics.
func TestNoSources(t *testing.T) {
	fams := scrape(t, New(Sources{}))
	if fams["go_goroutines"] == nil {
		t.Errorf("no Go runtime metrics")
	}
}
