package health

import (
	"strings"
	"testing"
	"time"
)

// TestGauges: the gauges of every check agree with its Status, the newest observation included
// once the history has wrapped around, and come in id order as checks are added and removed.
func TestGauges(t *testing.T) {
	tr := NewTracker(3)
	mustSet(t, tr, "a", web(nil))
	mustSet(t, tr, "b", web(nil))
	for i := range 5 {
		tr.Observe("a", Observation{Time: t0.Add(time.Duration(i) * time.Second), Healthy: i < 2, Latency: time.Duration(i+1) * time.Millisecond}, t0.Add(time.Duration(i)*time.Second))
	}
	gauges := tr.Gauges()
	if len(gauges) != 2 {
		t.Fatalf("%d gauges, want 2", len(gauges))
	}
	for _, g := range gauges {
		s, _ := tr.Status(g.ID)
		want := Gauge{ID: g.ID, Type: s.Config.Type, Healthy: s.Healthy, Measured: s.Measured}
		if n := len(s.Observations); n > 0 {
			want.Latency, want.Observed = s.Observations[n-1].Latency, true
		}
		if g != want {
			t.Errorf("gauge %+v, want %+v (from Status)", g, want)
		}
	}
	for _, g := range gauges {
		if g.ID == "a" && g.Latency != 5*time.Millisecond {
			t.Errorf("a's newest latency %v, want 5ms", g.Latency)
		}
	}
	mustSet(t, tr, "c", web(nil))
	mustSet(t, tr, "0", web(nil))
	if got := gaugeIDs(tr); got != "0 a b c" {
		t.Errorf("gauges of %s, want 0 a b c", got)
	}
	tr.Remove("a", t0)
	mustSet(t, tr, "b", web(nil)) // a change keeps the order
	if got := gaugeIDs(tr); got != "0 b c" {
		t.Errorf("gauges of %s after removing a, want 0 b c", got)
	}
}

// gaugeIDs lists the ids of tr's gauges in their order.
func gaugeIDs(tr *Tracker) string {
	var ids []string
	for _, g := range tr.Gauges() {
		ids = append(ids, g.ID)
	}
	return strings.Join(ids, " ")
}
