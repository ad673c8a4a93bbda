// Package metrics exposes failoverdns's counters and states in the Prometheus text format: what
// the DNS server answered, the health checks' states, and the events of the server.
package metrics

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"

	"github.com/failoverdns/failoverdns/internal/dnsserver"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/yield"
)

// Checker is what metrics reads from the health checker at scrape time.
type Checker interface {
	Stats() health.Stats
	Gauges() []health.Gauge // by check id
}

// HookStats are the counters of one notification hook.
type HookStats struct {
	// Hook names the hook ("webhook 0", "exec 1"); Type is "webhook" or "exec".
	Hook, Type string
	// Delivered, Failed and Dropped count the events delivered, given up on after every retry,
	// and dropped because the hook's queue was full.
	Delivered, Failed, Dropped uint64
}

// Sources are read at scrape time; any of them may be nil.
type Sources struct {
	DNS     func() dnsserver.Stats
	Checker Checker
	Hooks   func() []HookStats
}

// Metrics holds the registry served at /metrics. Its methods are safe for concurrent use.
type Metrics struct {
	src         Sources
	reg         *prometheus.Registry
	transitions *prometheus.CounterVec
	answers     *prometheus.CounterVec
	steps       *prometheus.CounterVec
	events      *prometheus.CounterVec
	dropped     prometheus.Counter
}

// New returns the metrics of a server whose state src reads.
func New(src Sources) *Metrics {
	m := &Metrics{
		src: src,
		reg: prometheus.NewRegistry(),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failoverdns_health_transitions_total",
			Help: "Health check transitions, by the state entered and their cause."}, []string{"to", "cause"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failoverdns_answer_changes_total",
			Help: "Changes of the answer served for a routed name, by cause."}, []string{"cause"}),
		steps: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failoverdns_maintenance_steps_total",
			Help: "Steps of maintenance windows taken, by step."}, []string{"step"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "failoverdns_events_total",
			Help: "Events emitted, by kind."}, []string{"kind"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "failoverdns_events_dropped_total",
			Help: "Events not stored because the event queue was full."}),
	}
	m.reg.MustRegister(m.transitions, m.answers, m.steps, m.events, m.dropped,
		&collector{src: src},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format, gzipped when the client accepts it.
//
// The registry's metrics go through the Prometheus client's encoder; the gauges of every health
// check (three series per check) are written straight to the response: through the client they
// cost 30 µs a series, and a scrape of 10,000 checks took 0.1-0.8 s of the core the checks run
// on, during which their probes started late.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(m.serve)
}

func (m *Metrics) serve(w http.ResponseWriter, r *http.Request) {
	fams, err := m.reg.Gather()
	if err != nil {
		http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
		return
	}
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	w.Header().Set("Content-Type", string(format))
	var out io.Writer = w
	if gzipAccepted(r) {
		w.Header().Set("Content-Encoding", "gzip")
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		defer gz.Close()
		out = gz
	}
	// A scrape of 10,000 checks is 2.8 MB, 10 ms of formatting (30 ms gzipped) on the core the
	// DNS readers answer from. It yields after each 16 KiB: 10,000 checks, DNS at 20,000 q/s on
	// one core and a scrape a second, p99 0.25 ms without scrapes, 2.8 ms with them and no yield,
	// 1.3 ms yielding after each 64 KiB, 0.27 ms after each 16 KiB (gzipped: 0.65 ms; the
	// compressor works in 64 KiB blocks).
	yw := yield.NewWriter(out)
	defer yw.Close()
	bw := bufio.NewWriterSize(yw, 16<<10)
	defer bw.Flush()
	enc := expfmt.NewEncoder(bw, format)
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return // the client went away
		}
	}
	if m.src.Checker != nil {
		writeCheckGauges(bw, m.src.Checker.Gauges())
	}
}

// gzipAccepted reports whether the request accepts a gzip-encoded response.
func gzipAccepted(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if enc, q, _ := strings.Cut(strings.TrimSpace(part), ";"); strings.TrimSpace(enc) == "gzip" {
			return strings.ReplaceAll(q, " ", "") != "q=0"
		}
	}
	return false
}

// Families of one series per health check, written by writeCheckGauges.
const (
	nameStatus       = "failoverdns_health_check_status"
	helpStatus       = "Routing state of a health check: 1 healthy, 0 unhealthy."
	nameShare        = "failoverdns_health_check_checkers_healthy_ratio"
	helpShare        = "Share of the health checkers that report the endpoint healthy (one checker: 1 or 0), before forced states and inversion."
	nameProbeLatency = "failoverdns_health_check_probe_latency_seconds"
	helpProbeLatency = "Latency of the check's latest probe."
)

// writeCheckGauges writes the per-check gauge families in the text format, in the order of
// gauges (the Checker's: by ID).
func writeCheckGauges(w *bufio.Writer, gauges []health.Gauge) {
	var line []byte
	family := func(name, help string, value func(g *health.Gauge) (float64, bool)) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name)
		for i := range gauges {
			v, ok := value(&gauges[i])
			if !ok {
				continue
			}
			line = append(line[:0], name...)
			line = append(line, `{check="`...)
			line = appendLabelValue(line, gauges[i].ID)
			line = append(line, `"} `...)
			line = strconv.AppendFloat(line, v, 'g', -1, 64)
			line = append(line, '\n')
			w.Write(line)
		}
	}
	family(nameStatus, helpStatus, func(g *health.Gauge) (float64, bool) { return b2f(g.Healthy), true })
	family(nameShare, helpShare, func(g *health.Gauge) (float64, bool) {
		return b2f(g.Measured), g.Type != health.TypeCalculated // no probes of its own
	})
	family(nameProbeLatency, helpProbeLatency, func(g *health.Gauge) (float64, bool) {
		return g.Latency.Seconds(), g.Type != health.TypeCalculated && g.Observed
	})
}

// appendLabelValue appends v escaped as the text format wants a label value: backslash, double
// quote and line feed.
func appendLabelValue(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\"\n") {
		return append(b, v...) // check ids: nothing to escape
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// Event counts an event the server emitted.
func (m *Metrics) Event(ev service.Event) {
	m.events.WithLabelValues(ev.Kind).Inc()
	switch ev.Kind {
	case service.EventHealth:
		m.transitions.WithLabelValues(ev.After, ev.Cause).Inc()
	case service.EventAnswer:
		m.answers.WithLabelValues(ev.Cause).Inc()
	case service.EventMaintenance:
		m.steps.WithLabelValues(ev.Cause).Inc()
	}
}

// EventDropped counts an event the full event queue did not take.
func (m *Metrics) EventDropped() { m.dropped.Inc() }

var (
	descQueries = prometheus.NewDesc("failoverdns_dns_queries_total",
		"DNS requests answered, by question type (NONE: no readable question; OTHER: types above CAA).", []string{"qtype"}, nil)
	descResponses = prometheus.NewDesc("failoverdns_dns_responses_total",
		"DNS responses sent, by rcode.", []string{"rcode"}, nil)
	descDropped = prometheus.NewDesc("failoverdns_dns_dropped_total",
		"DNS requests not answered (responses, runts).", nil, nil)
	descTruncated = prometheus.NewDesc("failoverdns_dns_truncated_total",
		"UDP responses sent with TC set.", nil, nil)
	descCached = prometheus.NewDesc("failoverdns_dns_cached_total",
		"UDP responses copied from a kept reply (answers that do not vary, from the current snapshot).", nil, nil)
	descPanics = prometheus.NewDesc("failoverdns_dns_panics_total",
		"DNS requests whose answering panicked (answered SERVFAIL).", nil, nil)
	descLatency = prometheus.NewDesc("failoverdns_dns_response_duration_seconds",
		"Time from a request's bytes to its response's bytes, of a sample of one request in 8.", nil, nil)
	descChecks = prometheus.NewDesc("failoverdns_health_checks",
		"Health checks configured.", nil, nil)
	descProbes = prometheus.NewDesc("failoverdns_health_probes_total",
		"Probes completed.", nil, nil)
	descSkipped = prometheus.NewDesc("failoverdns_health_probes_skipped_total",
		"Probe runs skipped because the previous probe was still in flight or the scheduler fell behind.", nil, nil)
	descInFlight = prometheus.NewDesc("failoverdns_health_probes_in_flight",
		"Probes running now.", nil, nil)
	descTrDropped = prometheus.NewDesc("failoverdns_health_transitions_dropped_total",
		"Transitions dropped because their consumer fell behind.", nil, nil)
	descLag = prometheus.NewDesc("failoverdns_health_schedule_lag_seconds",
		"How late probes started after their due time (the sum is not tracked and reads 0).", nil, nil)
	descLagMax = prometheus.NewDesc("failoverdns_health_schedule_lag_max_seconds",
		"The largest schedule lag seen.", nil, nil)
	descHookDelivered = prometheus.NewDesc("failoverdns_hook_deliveries_total",
		"Events delivered to a notification hook.", []string{"hook", "type"}, nil)
	descHookFailed = prometheus.NewDesc("failoverdns_hook_failures_total",
		"Events a notification hook failed to take after every retry.", []string{"hook", "type"}, nil)
	descHookDropped = prometheus.NewDesc("failoverdns_hook_dropped_total",
		"Events dropped because a notification hook's queue was full.", []string{"hook", "type"}, nil)
)

// collector reads the server's own counters at scrape time, so that the DNS path and the
// checker keep nothing for Prometheus.
type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueries, descResponses, descDropped, descTruncated, descCached, descPanics, descLatency,
		descChecks, descProbes, descSkipped, descInFlight, descTrDropped, descLag, descLagMax,
		descHookDelivered, descHookFailed, descHookDropped} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.DNS != nil {
		st := c.src.DNS()
		for t, n := range st.QTypes {
			counter(descQueries, n, qtypeName(t))
		}
		for r, n := range st.Rcodes {
			counter(descResponses, n, rcodeName(r))
		}
		counter(descDropped, st.Dropped)
		counter(descTruncated, st.Truncated)
		counter(descCached, st.Cached)
		counter(descPanics, st.Panics)
		buckets := map[float64]uint64{}
		var total uint64
		for i, b := range dnsserver.LatencyBounds {
			total += st.Latency[i]
			buckets[b.Seconds()] = total
		}
		total += st.Latency[len(dnsserver.LatencyBounds)]
		ch <- prometheus.MustNewConstHistogram(descLatency, total, st.LatencySum.Seconds(), buckets)
	}
	if c.src.Checker != nil {
		st := c.src.Checker.Stats()
		gauge(descChecks, float64(st.Checks))
		counter(descProbes, st.Probes)
		counter(descSkipped, st.Skipped)
		gauge(descInFlight, float64(st.InFlight))
		counter(descTrDropped, st.DroppedTransitions)
		buckets := map[float64]uint64{}
		var total uint64
		for i, b := range st.Lag.Bounds {
			total += st.Lag.Counts[i]
			buckets[b.Seconds()] = total
		}
		for _, n := range st.Lag.Counts[len(st.Lag.Bounds):] {
			total += n
		}
		ch <- prometheus.MustNewConstHistogram(descLag, total, 0, buckets)
		gauge(descLagMax, st.Lag.Max.Seconds())
		// The gauges of each check: see Handler.
	}
	if c.src.Hooks != nil {
		for _, h := range c.src.Hooks() {
			counter(descHookDelivered, h.Delivered, h.Hook, h.Type)
			counter(descHookFailed, h.Failed, h.Hook, h.Type)
			counter(descHookDropped, h.Dropped, h.Hook, h.Type)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func qtypeName(t uint16) string {
	switch t {
	case 0:
		return "NONE"
	case 65535:
		return "OTHER"
	}
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

func rcodeName(r int) string {
	if s, ok := dns.RcodeToString[r]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(r)
}
