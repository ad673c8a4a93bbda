package e2e

import (
	"net/http"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrapeMetrics fetches GET /metrics from the server's API and parses it with Prometheus's text
// parser.
func scrapeMetrics(t *testing.T, s *server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(s.api + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics is not Prometheus text: %v", err)
	}
	return fams
}

// sample returns the value of the sample of family name with the given label (or the only
// sample when label is empty), and whether there is one.
func sample(fams map[string]*dto.MetricFamily, name, label, value string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		match := label == ""
		for _, l := range m.Label {
			if l.GetName() == label && l.GetValue() == value {
				match = true
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics: dig queries, a health check and a failover show in /metrics, parsed with
// Prometheus's own text parser.
func TestMetrics(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	primary := startBackend(t, "127.0.0.2")
	checkID := s.createCheck(t, "primary", primary, "")
	s.failoverPair(t, checkID)
	waitCheck(t, s, checkID, "HEALTHY")

	for range 5 {
		dig(t, s.dns, "www.app.test", "A")
	}
	for range 3 {
		dig(t, s.dns, "nothere.app.test", "AAAA")
	}
	before := scrapeMetrics(t, s)
	want := func(fams map[string]*dto.MetricFamily, name, label, value string, min float64) {
		t.Helper()
		got, ok := sample(fams, name, label, value)
		if !ok || got < min {
			t.Errorf("%s{%s=%q} = %v (present: %v), want at least %v", name, label, value, got, ok, min)
		}
	}
	want(before, "failoverdns_dns_queries_total", "qtype", "A", 5)
	want(before, "failoverdns_dns_queries_total", "qtype", "AAAA", 3)
	want(before, "failoverdns_dns_responses_total", "rcode", "NXDOMAIN", 3)
	want(before, "failoverdns_dns_responses_total", "rcode", "NOERROR", 5)
	want(before, "failoverdns_health_check_status", "check", checkID, 1)
	want(before, "failoverdns_health_check_checkers_healthy_ratio", "check", checkID, 1)
	want(before, "failoverdns_health_check_probe_latency_seconds", "check", checkID, 0)
	want(before, "failoverdns_health_probes_total", "", "", 1)
	want(before, "failoverdns_health_schedule_lag_seconds", "", "", 1)
	if _, ok := before["failoverdns_dns_response_duration_seconds"]; !ok {
		t.Errorf("no latency histogram")
	}

	s.mustCLI(t, "check", "force", checkID, "unhealthy")
	waitAnswer(t, s, "www.app.test", "127.0.0.3")
	after := scrapeMetrics(t, s)
	if v, ok := sample(after, "failoverdns_health_check_status", "check", checkID); !ok || v != 0 {
		t.Errorf("status of the forced check = %v, %v; want 0", v, ok)
	}
	want(after, "failoverdns_health_transitions_total", "to", "unhealthy", 1)
	want(after, "failoverdns_answer_changes_total", "", "", 1)
	want(after, "failoverdns_events_total", "kind", "health", 1)
}
