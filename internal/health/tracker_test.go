package health

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ok(healthy bool) Observation {
	if healthy {
		return Observation{Healthy: true, Status: "Success: HTTP Status Code 200, OK"}
	}
	return Observation{Status: "Failure: HTTP Status Code 503, Service Unavailable"}
}

func web(mod func(*Config)) Config {
	c := Config{Type: TypeHTTP, IPAddress: "10.0.0.1", RequestInterval: 1}
	if mod != nil {
		mod(&c)
	}
	return c
}

func mustSet(t *testing.T, tr *Tracker, id string, cfg Config) []Transition {
	t.Helper()
	trs, err := tr.Set(id, cfg, t0)
	if err != nil {
		t.Fatalf("Set(%s): %v", id, err)
	}
	return trs
}

func healthy(t *testing.T, tr *Tracker, id string) bool {
	t.Helper()
	h, found := tr.Healthy(id)
	if !found {
		t.Fatalf("Healthy(%s): no such check", id)
	}
	return h
}

// feed observes a string of results ('+' success, '-' failure) one second apart and returns the
// transitions with the index of the observation that caused each.
func feed(tr *Tracker, id, results string) (trs []Transition, at []int) {
	for i, r := range results {
		now := t0.Add(time.Duration(i+1) * time.Second)
		for _, x := range tr.Observe(id, ok(r == '+'), now) {
			trs = append(trs, x)
			at = append(at, i)
		}
	}
	return trs, at
}

func TestThresholds(t *testing.T) {
	tr := NewTracker(0)
	mustSet(t, tr, "a", web(func(c *Config) { c.FailureThreshold = 3; c.RecoveryThreshold = 5 }))
	if !healthy(t, tr, "a") {
		t.Fatal("a new check is unhealthy; Route 53 starts it healthy")
	}

	trs, _ := feed(tr, "a", "--")
	if len(trs) != 0 || !healthy(t, tr, "a") {
		t.Fatalf("2 failures of 3 changed the state: %+v", trs)
	}
	trs, at := feed(tr, "a", "-")
	if len(trs) != 1 || at[0] != 0 || healthy(t, tr, "a") {
		t.Fatalf("3rd failure: transitions %+v, healthy %v", trs, healthy(t, tr, "a"))
	}
	want := Transition{ID: "a", Time: t0.Add(time.Second), From: true, To: false, Cause: CauseProbe,
		Reason: "3 consecutive failures: Failure: HTTP Status Code 503, Service Unavailable", Observation: ok(false)}
	if trs[0] != want {
		t.Errorf("transition = %+v\nwant %+v", trs[0], want)
	}

	// Recovery threshold 5: healthy only after 5 successes.
	trs, _ = feed(tr, "a", "++++")
	if len(trs) != 0 {
		t.Fatalf("4 successes of 5 recovered: %+v", trs)
	}
	trs, _ = feed(tr, "a", "+")
	if len(trs) != 1 || !trs[0].To || trs[0].Reason != "5 consecutive successes: Success: HTTP Status Code 200, OK" {
		t.Fatalf("5th success: %+v", trs)
	}
}

func TestThresholdOne(t *testing.T) {
	tr := NewTracker(0)
	mustSet(t, tr, "a", web(func(c *Config) { c.FailureThreshold = 1 }))
	trs, at := feed(tr, "a", "-+-+")
	if len(trs) != 4 || at[0] != 0 || at[3] != 3 || trs[0].Reason != "1 consecutive failure: Failure: HTTP Status Code 503, Service Unavailable" {
		t.Fatalf("threshold 1 should follow every result: %+v", trs)
	}
}

// Flapping results that never reach a threshold in a row never flip the state.
func TestHysteresis(t *testing.T) {
	tr := NewTracker(0)
	mustSet(t, tr, "a", web(func(c *Config) { c.FailureThreshold = 3 }))
	if trs, _ := feed(tr, "a", "--+--+-+--+--+"); len(trs) != 0 {
		t.Fatalf("flapping flipped a healthy check: %+v", trs)
	}
	if trs, _ := feed(tr, "a", "---"); len(trs) != 1 {
		t.Fatalf("3 in a row did not flip: %+v", trs)
	}
	if trs, _ := feed(tr, "a", "++-++-+-++-"); len(trs) != 0 {
		t.Fatalf("flapping recovered an unhealthy check: %+v", trs)
	}
	st, _ := tr.Status("a")
	if st.ConsecutiveFailures != 1 || st.ConsecutiveSuccesses != 0 || st.Measured {
		t.Errorf("status = %+v", st)
	}
}

func TestInitialState(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mod      func(*Config)
		healthy  bool
		afterOne bool // after one success with RecoveryThreshold 2
	}{
		{"new check", nil, true, true},
		{"new inverted check", func(c *Config) { c.Inverted = true }, false, false},
		{"insufficient data unhealthy", func(c *Config) { c.InsufficientDataHealthStatus = "Unhealthy" }, false, false},
		{"insufficient data healthy", func(c *Config) { c.InsufficientDataHealthStatus = "Healthy" }, true, true},
		{"last known status", func(c *Config) { c.InsufficientDataHealthStatus = "LastKnownStatus" }, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(0)
			cfg := web(tc.mod)
			cfg.RecoveryThreshold = 2
			mustSet(t, tr, "a", cfg)
			if healthy(t, tr, "a") != tc.healthy {
				t.Fatalf("initial state = %v, want %v", !tc.healthy, tc.healthy)
			}
			feed(tr, "a", "+")
			if healthy(t, tr, "a") != tc.afterOne {
				t.Fatalf("after one success = %v, want %v", !tc.afterOne, tc.afterOne)
			}
		})
	}

	tr := NewTracker(0)
	mustSet(t, tr, "a", web(func(c *Config) { c.InsufficientDataHealthStatus = "Unhealthy"; c.RecoveryThreshold = 2 }))
	if trs, at := feed(tr, "a", "++"); len(trs) != 1 || at[0] != 1 || !trs[0].To {
		t.Fatalf("unhealthy-until-proven check: %+v", trs)
	}
}

func TestDisabledInverted(t *testing.T) {
	for _, tc := range []struct {
		disabled, inverted, endpointUp bool
		want                           bool
		reason                         string
	}{
		{false, false, true, true, "endpoint healthy"},
		{false, false, false, false, "endpoint unhealthy"},
		{false, true, true, false, "endpoint healthy (3 failures needed, 0 consecutive), inverted"},
		{false, true, false, true, "endpoint unhealthy (3 successes needed, 0 consecutive), inverted"},
		{true, false, true, true, "disabled"},
		{true, false, false, true, "disabled"},
		{true, true, true, false, "disabled and inverted"},
		{true, true, false, false, "disabled and inverted"},
	} {
		tr := NewTracker(0)
		mustSet(t, tr, "a", web(nil))
		if !tc.endpointUp {
			feed(tr, "a", "---")
		} else {
			feed(tr, "a", "+++")
		}
		mustSet(t, tr, "a", web(func(c *Config) { c.Disabled, c.Inverted = tc.disabled, tc.inverted }))
		st, _ := tr.Status("a")
		if st.Healthy != tc.want || !strings.HasPrefix(st.Reason, tc.reason) {
			t.Errorf("disabled=%v inverted=%v endpoint up=%v: healthy %v (%s), want %v (%s)",
				tc.disabled, tc.inverted, tc.endpointUp, st.Healthy, st.Reason, tc.want, tc.reason)
		}
	}
}

func TestConfigChange(t *testing.T) {
	tr := NewTracker(0)
	mustSet(t, tr, "a", web(nil))
	trs := mustSet(t, tr, "a", web(func(c *Config) { c.Inverted = true }))
	if len(trs) != 1 || trs[0].Cause != CauseConfig || trs[0].To || !strings.HasPrefix(trs[0].Reason, "configuration changed: ") {
		t.Fatalf("inverting: %+v", trs)
	}

	// Observations of a disabled check are ignored; re-enabling starts over as a new check.
	mustSet(t, tr, "a", web(nil))
	feed(tr, "a", "---")
	mustSet(t, tr, "a", web(func(c *Config) { c.Disabled = true }))
	if trs, _ := feed(tr, "a", "-----"); len(trs) != 0 || !healthy(t, tr, "a") {
		t.Fatalf("a disabled check reacted to observations: %+v", trs)
	}
	if trs := mustSet(t, tr, "a", web(nil)); len(trs) != 0 || !healthy(t, tr, "a") {
		t.Fatalf("re-enabled check = %v, want healthy as a new check (%+v)", healthy(t, tr, "a"), trs)
	}

	// With LastKnownStatus it resumes where it was.
	lk := web(func(c *Config) { c.InsufficientDataHealthStatus = "LastKnownStatus" })
	mustSet(t, tr, "b", lk)
	feed(tr, "b", "---")
	lk.Disabled = true
	mustSet(t, tr, "b", lk)
	lk.Disabled = false
	if mustSet(t, tr, "b", lk); healthy(t, tr, "b") {
		t.Fatal("LastKnownStatus check forgot its state while disabled")
	}

	// New thresholds apply from the next observation.
	mustSet(t, tr, "c", web(func(c *Config) { c.FailureThreshold = 5 }))
	feed(tr, "c", "--")
	mustSet(t, tr, "c", web(func(c *Config) { c.FailureThreshold = 2 }))
	if !healthy(t, tr, "c") {
		t.Fatal("lowering the threshold flipped the state without an observation")
	}
	if trs, _ := feed(tr, "c", "-"); len(trs) != 1 {
		t.Fatal("the next failure did not apply the new threshold")
	}

	if _, err := tr.Set("d", Config{Type: "PING"}, t0); err == nil {
		t.Fatal("Set accepted an invalid config")
	}
	if _, found := tr.Healthy("d"); found {
		t.Fatal("an invalid config was added")
	}
}

func TestForce(t *testing.T) {
	tr := NewTracker(0)
	mustSet(t, tr, "a", web(nil))
	until := t0.Add(10 * time.Minute)
	trs, err := tr.Force("a", Force{Healthy: false, Reason: "maintenance", Until: until}, t0)
	if err != nil || len(trs) != 1 || trs[0].Cause != CauseForced || trs[0].Reason != "forced unhealthy: maintenance" {
		t.Fatalf("Force: %+v, %v", trs, err)
	}
	if trs, _ := feed(tr, "a", "++++++"); len(trs) != 0 || healthy(t, tr, "a") {
		t.Fatal("probes overrode a forced state")
	}
	st, _ := tr.Status("a")
	if st.Force == nil || st.Reason != "forced unhealthy until 2026-01-02T03:14:05Z: maintenance" {
		t.Errorf("status = %+v", st)
	}
	if next, found := tr.NextExpiry(); !found || !next.Equal(until) {
		t.Errorf("NextExpiry = %v %v", next, found)
	}
	if trs := tr.Advance(until.Add(-time.Nanosecond)); len(trs) != 0 {
		t.Fatal("force expired early")
	}
	trs = tr.Advance(until)
	if len(trs) != 1 || trs[0].Cause != CauseForceExpired || !trs[0].To || !trs[0].Time.Equal(until) {
		t.Fatalf("expiry: %+v", trs)
	}
	if _, found := tr.NextExpiry(); found {
		t.Error("an expired force is still pending")
	}

	// Forced healthy beats a failing, even disabled+inverted, check; cleared by hand.
	mustSet(t, tr, "a", web(func(c *Config) { c.Disabled, c.Inverted = true, true }))
	if trs, _ := tr.Force("a", Force{Healthy: true}, t0); len(trs) != 1 || !healthy(t, tr, "a") {
		t.Fatal("forced healthy did not win over disabled+inverted")
	}
	if trs, _ := tr.ClearForce("a", t0); len(trs) != 1 || trs[0].Cause != CauseForceCleared || healthy(t, tr, "a") {
		t.Fatalf("ClearForce: %+v", trs)
	}

	if _, err := tr.Force("nope", Force{}, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Force(unknown) = %v", err)
	}
	if _, err := tr.Force("a", Force{Until: t0}, t0); err == nil {
		t.Error("Force accepted an expiry in the past")
	}
}

func TestCalculated(t *testing.T) {
	children := []string{"a", "b", "c"}
	for _, tc := range []struct {
		threshold int
		down      string // children made unhealthy
		want      bool
	}{
		{0, "abc", true},
		{1, "ab", true},
		{1, "abc", false},
		{2, "a", true},
		{2, "ab", false},
		{3, "", true},
		{3, "a", false},
		{4, "", false},
	} {
		tr := NewTracker(0)
		for _, id := range children {
			mustSet(t, tr, id, web(nil))
		}
		mustSet(t, tr, "p", Config{Type: TypeCalculated, HealthThreshold: tc.threshold, ChildHealthChecks: children})
		for _, id := range tc.down {
			feed(tr, string(id), "---")
		}
		if got := healthy(t, tr, "p"); got != tc.want {
			t.Errorf("threshold %d with %q down: %v, want %v", tc.threshold, tc.down, got, tc.want)
		}
	}

	tr := NewTracker(0)
	for _, id := range children {
		mustSet(t, tr, id, web(nil))
	}
	mustSet(t, tr, "p", Config{Type: TypeCalculated, HealthThreshold: 3, ChildHealthChecks: children})

	// A child's change is a transition of the parent, reported right after the child's.
	trs, _ := feed(tr, "b", "---")
	if len(trs) != 2 || trs[0].ID != "b" || trs[1].ID != "p" || trs[1].Cause != CauseChild || trs[1].Child != "b" ||
		trs[1].Reason != "child b became unhealthy; 2 of 3 child health checks healthy, threshold 3" {
		t.Fatalf("child failure: %+v", trs)
	}
	// A disabled child counts healthy; disabled and inverted counts unhealthy.
	if trs := mustSet(t, tr, "b", web(func(c *Config) { c.Disabled = true })); len(trs) != 2 || !healthy(t, tr, "p") {
		t.Fatalf("disabling the failed child: %+v", trs)
	}
	if mustSet(t, tr, "b", web(func(c *Config) { c.Disabled, c.Inverted = true, true })); healthy(t, tr, "p") {
		t.Fatal("a disabled+inverted child counted healthy")
	}
	mustSet(t, tr, "b", web(nil))
	// A forced child counts as forced.
	tr.Force("c", Force{Healthy: false}, t0)
	if healthy(t, tr, "p") {
		t.Fatal("a child forced unhealthy counted healthy")
	}
	tr.ClearForce("c", t0)
	// A missing child counts unhealthy; adding it back re-evaluates the parent.
	if trs := tr.Remove("c", t0); len(trs) != 1 || trs[0].Reason != "child c was removed; 2 of 3 child health checks healthy, threshold 3" {
		t.Fatalf("removing a child: %+v", trs)
	}
	if trs := mustSet(t, tr, "c", web(nil)); len(trs) != 1 || !trs[0].To {
		t.Fatalf("adding the child back: %+v", trs)
	}
	st, _ := tr.Status("p")
	if st.HealthyChildren != 3 || st.Children != 3 {
		t.Errorf("status = %+v", st)
	}
	// Inverted calculated check.
	if mustSet(t, tr, "p", Config{Type: TypeCalculated, HealthThreshold: 3, ChildHealthChecks: children, Inverted: true}); healthy(t, tr, "p") {
		t.Error("inverted calculated check with all children healthy is healthy")
	}
	// Observations of a calculated check are ignored.
	if trs := tr.Observe("p", ok(false), t0); trs != nil {
		t.Error("a calculated check took an observation")
	}

	// Route 53's nesting rules.
	if _, err := tr.Set("q", Config{Type: TypeCalculated, ChildHealthChecks: []string{"p"}}, t0); err == nil {
		t.Error("a calculated check accepted a calculated child")
	}
	if _, err := tr.Set("q", Config{Type: TypeCalculated, ChildHealthChecks: []string{"q"}}, t0); err == nil {
		t.Error("a calculated check accepted itself as a child")
	}
	if _, err := tr.Set("a", Config{Type: TypeCalculated}, t0); err == nil {
		t.Error("a child of a calculated check became calculated")
	}
}

func TestHistory(t *testing.T) {
	tr := NewTracker(3)
	mustSet(t, tr, "a", web(nil))
	for i := range 5 {
		tr.Observe("a", Observation{Time: t0.Add(time.Duration(i) * time.Second)}, t0)
	}
	st, _ := tr.Status("a")
	if len(st.Observations) != 3 {
		t.Fatalf("kept %d observations, want 3", len(st.Observations))
	}
	for i, o := range st.Observations {
		if want := t0.Add(time.Duration(i+2) * time.Second); !o.Time.Equal(want) {
			t.Errorf("observation %d at %v, want %v", i, o.Time, want)
		}
	}
	// Status is a copy.
	st.Observations[0].Status = "changed"
	st.Config.ChildHealthChecks = append(st.Config.ChildHealthChecks, "x")
	again, _ := tr.Status("a")
	if again.Observations[0].Status == "changed" || len(again.Config.ChildHealthChecks) != 0 {
		t.Error("Status shares memory with the Tracker")
	}
	if got := tr.States(); len(got) != 1 || got["a"] { // 5 failed observations
		t.Errorf("States = %v", got)
	}
}
