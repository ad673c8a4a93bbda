package health

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// script is a scripted prober: checks are told apart by FullyQualifiedDomainName ("<id>.test").
type script struct {
	mu     sync.Mutex
	times  map[string][]time.Time
	result func(id string, n int) bool // the n-th (0-based) result of id
	hang   map[string]bool             // ids whose probes block until their context ends
	ctxErr map[string]int              // probes of id that ended by their context
}

func newScript(result func(id string, n int) bool) *script {
	if result == nil {
		result = func(string, int) bool { return true }
	}
	return &script{times: map[string][]time.Time{}, result: result, hang: map[string]bool{}, ctxErr: map[string]int{}}
}

func (s *script) probe(ctx context.Context, cfg Config) Observation {
	id := strings.TrimSuffix(cfg.FullyQualifiedDomainName, ".test")
	now := time.Now()
	s.mu.Lock()
	n := len(s.times[id])
	s.times[id] = append(s.times[id], now)
	hang := s.hang[id]
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		s.mu.Lock()
		s.ctxErr[id]++
		s.mu.Unlock()
		return Observation{Time: now, Latency: time.Since(now), Status: "Failure: Connection timed out."}
	}
	if s.result(id, n) {
		return Observation{Time: now, Healthy: true, Status: "Success: HTTP Status Code 200, OK"}
	}
	return Observation{Time: now, Status: "Failure: HTTP Status Code 503, Service Unavailable"}
}

func (s *script) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times[id])
}

func (s *script) canceled(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ctxErr[id]
}

func (s *script) probeTimes(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times[id]...)
}

// recorder collects transitions.
type recorder struct {
	mu  sync.Mutex
	trs []Transition
}

func (r *recorder) add(tr Transition) {
	r.mu.Lock()
	r.trs = append(r.trs, tr)
	r.mu.Unlock()
}

func (r *recorder) all() []Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Transition(nil), r.trs...)
}

// start runs c until the test ends.
func start(t *testing.T, c *Checker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func scripted(id string, interval float64, mod func(*Config)) Config {
	c := Config{Type: TypeHTTP, FullyQualifiedDomainName: id + ".test", RequestInterval: interval}
	if mod != nil {
		mod(&c)
	}
	return c
}

func mustCheckerSet(t *testing.T, c *Checker, id string, cfg Config) {
	t.Helper()
	if err := c.Set(id, cfg); err != nil {
		t.Fatalf("Set(%s): %v", id, err)
	}
}

// stateEvery samples (probes so far, healthy) every step for d.
func stateEvery(t *testing.T, c *Checker, s *script, id string, step, d time.Duration) (probes []int, healthy []bool) {
	t.Helper()
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		time.Sleep(step)
		synctest.Wait()
		h, _ := c.Healthy(id)
		probes = append(probes, s.count(id))
		healthy = append(healthy, h)
	}
	return probes, healthy
}

// 3 failures at a 1 s interval: unhealthy at the 3rd failure, not before.
func TestCheckerFailureThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(func(string, int) bool { return false })
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
		begin := time.Now()
		mustCheckerSet(t, c, "a", scripted("a", 1, func(c *Config) { c.FailureThreshold = 3 }))
		start(t, c)

		probes, healthy := stateEvery(t, c, s, "a", 50*time.Millisecond, 5*time.Second)
		for i := range probes {
			if want := probes[i] < 3; healthy[i] != want {
				t.Fatalf("after %d failed probes (at +%v): healthy %v, want %v", probes[i], time.Duration(i+1)*50*time.Millisecond, healthy[i], want)
			}
		}
		trs := rec.all()
		times := s.probeTimes("a")
		if len(trs) != 1 || trs[0].To || !trs[0].Time.Equal(times[2]) || !trs[0].Observation.Time.Equal(times[2]) {
			t.Fatalf("transitions %+v, want one, at the 3rd probe (%v)", trs, times[2])
		}
		// The 3rd run is 2 s after the first, which falls within a second of the start; each run
		// moves by its jitter and waits for the scheduler's wake.
		if d, j := trs[0].Time.Sub(begin), jitter(time.Second); d < 2*time.Second-j || d >= 3*time.Second+j+WakeGap {
			t.Errorf("unhealthy %v after the check was added, want within [2s, 3s) ± jitter", d)
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); !onGrid(gap, time.Second) {
				t.Errorf("probes %d and %d are %v apart, want 1s ±(1%% + WakeGap)", i-1, i, gap)
			}
		}
	})
}

// Recovery threshold 5: healthy only after 5 successes.
func TestCheckerRecoveryThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(func(_ string, n int) bool { return n >= 3 })
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
		mustCheckerSet(t, c, "a", scripted("a", 1, func(c *Config) { c.FailureThreshold = 3; c.RecoveryThreshold = 5 }))
		start(t, c)

		probes, healthy := stateEvery(t, c, s, "a", 100*time.Millisecond, 12*time.Second)
		for i := range probes {
			if want := probes[i] < 3 || probes[i] >= 8; healthy[i] != want {
				t.Fatalf("after %d probes (3 failures, then successes): healthy %v, want %v", probes[i], healthy[i], want)
			}
		}
		trs := rec.all()
		if len(trs) != 2 || !trs[1].To || trs[1].Reason != "5 consecutive successes: Success: HTTP Status Code 200, OK" {
			t.Fatalf("transitions: %+v", trs)
		}
	})
}

// A forced state wins over the probes and expires at its time.
func TestCheckerForceExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(nil)
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
		mustCheckerSet(t, c, "a", scripted("a", 1, nil))
		start(t, c)
		time.Sleep(1500 * time.Millisecond)

		until := time.Now().Add(10 * time.Second)
		if err := c.Force("a", Force{Healthy: false, Reason: "drain", Until: until}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if h, _ := c.Healthy("a"); h {
			t.Fatal("forced unhealthy, but healthy")
		}
		time.Sleep(time.Until(until) - time.Millisecond)
		synctest.Wait()
		if h, _ := c.Healthy("a"); h {
			t.Fatal("the force ended early")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if h, _ := c.Healthy("a"); !h {
			t.Fatal("the force did not end at its time")
		}
		trs := rec.all()
		if len(trs) != 2 || trs[0].Cause != CauseForced || trs[1].Cause != CauseForceExpired || !trs[1].Time.Equal(until) {
			t.Fatalf("transitions: %+v", trs)
		}
		if err := c.Force("nope", Force{}); err == nil {
			t.Error("Force(unknown) succeeded")
		}
	})
}

// onGrid reports whether two consecutive runs of a check at interval iv are gap apart: iv moved by
// the jitter of each run and the wait for the scheduler's next wake.
func onGrid(gap, iv time.Duration) bool {
	return (gap - iv).Abs() <= 2*jitter(iv)+WakeGap
}

// A check at 0.1 s stays on schedule while another check's endpoint hangs forever.
func TestCheckerHangingNeighbour(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(nil)
		s.hang["stuck"] = true
		c := NewChecker(Options{Probe: s.probe, Concurrency: 4})
		mustCheckerSet(t, c, "stuck", scripted("stuck", 1, nil)) // timeout defaults to the interval
		mustCheckerSet(t, c, "fast", scripted("fast", 0.1, nil))
		start(t, c)
		time.Sleep(10 * time.Second)
		synctest.Wait()

		if n := s.count("fast"); n < 99 || n > 101 {
			t.Errorf("the 0.1 s check ran %d times in 10 s, want about 100", n)
		}
		if n := s.count("stuck"); n < 9 || n > 11 {
			t.Errorf("the hanging check ran %d times in 10 s, want about 10", n)
		}
		if h, _ := c.Healthy("stuck"); h {
			t.Error("the hanging check is healthy")
		}
		if st := c.Stats(); st.Skipped != 0 || st.InFlight > 1 {
			t.Errorf("stats = %+v, want no skipped runs and at most the hanging probe in flight", st)
		}
		times := s.probeTimes("stuck")
		for i := 1; i < len(times); i++ {
			if gap := times[i].Sub(times[i-1]); !onGrid(gap, time.Second) {
				t.Errorf("hanging check: probes %d and %d are %v apart, want 1s ±(1%% + WakeGap)", i-1, i, gap)
			}
		}
	})
}

// 1000 checks at 1 s with 50 slots all run every second, spread over the second.
func TestChecker1000Checks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(nil)
		c := NewChecker(Options{Probe: s.probe, Concurrency: 50})
		for i := range 1000 {
			id := fmt.Sprintf("c%d", i)
			mustCheckerSet(t, c, id, scripted(id, 1, nil))
		}
		start(t, c)
		begin := time.Now()
		time.Sleep(10 * time.Second)
		synctest.Wait()

		var firsts [10]int
		var starts []time.Time
		for i := range 1000 {
			id := fmt.Sprintf("c%d", i)
			times := s.probeTimes(id)
			// 9 or 11 when the phase is within the jitter of 1 s or 0 s.
			if len(times) < 9 || len(times) > 11 {
				t.Fatalf("%s ran %d times in 10 s, want 10", id, len(times))
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i].Sub(times[i-1]); !onGrid(gap, time.Second) {
					t.Fatalf("%s: probes %d and %d are %v apart, want 1s ±(1%% + WakeGap)", id, i-1, i, gap)
				}
			}
			starts = append(starts, times...)
			firsts[min(times[0].Sub(begin)/(100*time.Millisecond), 9)]++ // the last tenth has WakeGap more
		}
		for i, n := range firsts {
			if n < 50 || n > 150 {
				t.Errorf("%d of 1000 first runs fell in [%dms, %dms), want about 100: phases are not spread", n, i*100, (i+1)*100)
			}
		}
		// The scheduler wakes at most once per WakeGap: probes start together or WakeGap apart.
		slices.SortFunc(starts, time.Time.Compare)
		starts = slices.Compact(starts)
		for i := 1; i < len(starts); i++ {
			if d := starts[i].Sub(starts[i-1]); d < WakeGap {
				t.Fatalf("probes started %v apart at %v, want together or at least WakeGap (%v) apart", d, starts[i].Sub(begin), WakeGap)
			}
		}
		if len(starts) < 1900 {
			t.Errorf("probes started at %d distinct times in 10 s, want about 2000 (one per WakeGap)", len(starts))
		}
		st := c.Stats()
		if st.Probes < 9900 || st.Probes > 10100 || st.Skipped != 0 || st.Lag.Max > WakeGap || st.Scheduled != 1000 {
			t.Errorf("stats = %+v, want lag at most WakeGap", st)
		}
	})
}

func TestCheckerAddUpdateRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(nil)
		s.hang["slow"] = true
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
		start(t, c)

		mustCheckerSet(t, c, "a", scripted("a", 1, nil))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := s.count("a"); n != 5 {
			t.Fatalf("added while running: %d probes in 5 s, want 5", n)
		}

		// A faster interval takes effect at once.
		mustCheckerSet(t, c, "a", scripted("a", 0.5, nil))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if n := s.count("a"); n < 14 || n > 16 {
			t.Fatalf("after moving to 0.5 s: %d probes in total, want about 5+10", n)
		}

		// Disabled: no probes, healthy.
		mustCheckerSet(t, c, "a", scripted("a", 0.5, func(c *Config) { c.Disabled = true }))
		n := s.count("a")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if s.count("a") != n {
			t.Fatal("a disabled check was probed")
		}
		mustCheckerSet(t, c, "a", scripted("a", 0.5, nil))
		time.Sleep(time.Second)
		synctest.Wait()
		if s.count("a") == n {
			t.Fatal("a re-enabled check was not probed")
		}

		// Removed: no probes, unknown; its probe in flight is canceled and its result dropped.
		mustCheckerSet(t, c, "slow", scripted("slow", 10, func(c *Config) { c.FailureThreshold = 1 }))
		for s.count("slow") == 0 {
			time.Sleep(100 * time.Millisecond)
		}
		c.Remove("slow")
		c.Remove("a")
		synctest.Wait()
		n = s.count("a")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if s.count("a") != n || s.count("slow") != 1 {
			t.Fatal("a removed check was probed")
		}
		if _, found := c.Healthy("a"); found {
			t.Fatal("a removed check is still known")
		}
		if s.canceled("slow") != 1 || len(rec.all()) != 0 || c.Stats().InFlight != 0 {
			t.Fatalf("removing a check with a probe in flight: canceled %d, transitions %+v", s.canceled("slow"), rec.all())
		}
		if ids := c.IDs(); len(ids) != 0 {
			t.Fatalf("IDs = %v", ids)
		}
	})
}

// Changing what a check probes cancels its probe in flight and drops the result.
func TestCheckerProbeChangeCancels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(nil)
		s.hang["old"] = true
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
		start(t, c)
		mustCheckerSet(t, c, "x", scripted("old", 10, func(c *Config) { c.FailureThreshold = 1 }))
		for s.count("old") == 0 {
			time.Sleep(100 * time.Millisecond)
		}
		mustCheckerSet(t, c, "x", scripted("new", 10, func(c *Config) { c.FailureThreshold = 1 }))
		synctest.Wait()
		if s.canceled("old") != 1 || len(rec.all()) != 0 {
			t.Fatalf("old probe canceled %d times, transitions %+v", s.canceled("old"), rec.all())
		}
		// Inverting does not change the probe: nothing is canceled, the state flips at once.
		mustCheckerSet(t, c, "x", scripted("new", 10, func(c *Config) { c.FailureThreshold = 1; c.Inverted = true }))
		synctest.Wait()
		if trs := rec.all(); len(trs) != 1 || trs[0].Cause != CauseConfig {
			t.Fatalf("transitions %+v", trs)
		}
	})
}

func TestCheckerCalculated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(func(id string, n int) bool { return id != "b" || n < 2 })
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
		mustCheckerSet(t, c, "p", Config{Type: TypeCalculated, HealthThreshold: 2, ChildHealthChecks: []string{"a", "b"}})
		mustCheckerSet(t, c, "a", scripted("a", 1, nil))
		mustCheckerSet(t, c, "b", scripted("b", 1, func(c *Config) { c.FailureThreshold = 1 }))
		start(t, c)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if s.count("p") != 0 {
			t.Error("a calculated check was probed")
		}
		// p went unhealthy when a and b appeared (Set order), recovered, then followed b's failure.
		var got []string
		for _, tr := range rec.all() {
			got = append(got, fmt.Sprintf("%s:%v:%s", tr.ID, tr.To, tr.Cause))
		}
		want := "p:true:child b:false:probe p:false:child"
		if strings.Join(got, " ") != want {
			t.Errorf("transitions = %s, want %s", strings.Join(got, " "), want)
		}
	})
}

// OnTransition never blocks the scheduler; a consumer that falls behind loses the oldest ones.
func TestCheckerSlowConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newScript(func(_ string, n int) bool { return n%2 == 0 })
		release := make(chan struct{})
		var rec recorder
		c := NewChecker(Options{Probe: s.probe, MaxPendingTransitions: 5, OnTransition: func(tr Transition) {
			<-release
			rec.add(tr)
		}})
		mustCheckerSet(t, c, "a", scripted("a", 0.1, func(c *Config) { c.FailureThreshold = 1 }))
		start(t, c)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := s.count("a"); n < 99 {
			t.Fatalf("a blocked consumer slowed probing to %d probes in 10 s", n)
		}
		close(release)
		synctest.Wait()
		trs := rec.all()
		st := c.Stats()
		// Every probe but the first flips the state; the consumer holds one and 5 wait.
		if made := uint64(s.count("a") - 1); len(trs) != 6 || st.DroppedTransitions != made-6 {
			t.Fatalf("delivered %d, dropped %d of %d", len(trs), st.DroppedTransitions, made)
		}
		for i := 1; i < len(trs); i++ {
			if !trs[i].Time.After(trs[i-1].Time) || i > 1 && trs[i].To == trs[i-1].To {
				t.Fatalf("transitions out of order: %+v", trs)
			}
		}
	})
}

func TestCheckerRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewChecker(Options{Probe: newScript(nil).probe})
		start(t, c)
		synctest.Wait()
		if err := c.Run(context.Background()); err == nil {
			t.Fatal("second Run succeeded")
		}
	})
}

func TestProbeDeadline(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name                            string
		startAfterDue, nextAfterDue     time.Duration
		interval, timeout, wantDuration time.Duration
	}{
		{"on time, timeout = interval, next run early", 0, 990 * time.Millisecond, time.Second, time.Second, 985 * time.Millisecond},
		{"on time, next run late", 0, 1010 * time.Millisecond, time.Second, time.Second, time.Second},
		{"short timeout", 0, 990 * time.Millisecond, time.Second, 200 * time.Millisecond, 200 * time.Millisecond},
		{"started late", 300 * time.Millisecond, 990 * time.Millisecond, time.Second, time.Second, time.Second},
		{"30 s interval", 0, 29700 * time.Millisecond, 30 * time.Second, 4 * time.Second, 4 * time.Second},
		{"30 s interval, started late", 300 * time.Millisecond, 30 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second},
	} {
		start := base.Add(tc.startAfterDue)
		got := probeDeadline(start, base.Add(tc.nextAfterDue), tc.interval, tc.timeout).Sub(start)
		if got != tc.wantDuration {
			t.Errorf("%s: probe budget %v, want %v", tc.name, got, tc.wantDuration)
		}
	}
}

func TestLagHistogram(t *testing.T) {
	var h lagHistogram
	for range 98 {
		h.record(30 * time.Microsecond)
	}
	h.record(3 * time.Millisecond)
	h.record(7 * time.Second)
	s := h.snapshot()
	if s.Total() != 100 || s.Quantile(0.5) != 50*time.Microsecond || s.Quantile(0.99) != 5*time.Millisecond || s.Quantile(1) != 7*time.Second {
		t.Fatalf("histogram %v: p50 %v p99 %v p100 %v", s, s.Quantile(0.5), s.Quantile(0.99), s.Quantile(1))
	}
}

// The Checker with its default Prober follows a real server down and up (real time, ~1 s).
func TestCheckerRealServer(t *testing.T) {
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ip, port := target(t, srv.URL)
	trs := make(chan Transition, 10)
	c := NewChecker(Options{OnTransition: func(tr Transition) { trs <- tr }})
	err := c.Set("web", Config{Type: TypeHTTP, IPAddress: ip, Port: port, RequestInterval: 0.1, FailureThreshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	start(t, c)

	for _, want := range []bool{false, true} {
		down.Store(!want)
		select {
		case tr := <-trs:
			if tr.To != want || tr.Cause != CauseProbe {
				t.Fatalf("transition %+v, want to %v", tr, want)
			}
			if !want && tr.Reason != "2 consecutive failures: Failure: HTTP Status Code 503, Service Unavailable" {
				t.Errorf("reason %q", tr.Reason)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no transition to %v within 5 s", want)
		}
	}
	st, _ := c.Status("web")
	if len(st.Observations) < 4 || !st.Healthy {
		t.Errorf("status = %+v", st)
	}
}

// With the default prober, removing a check or changing its probe interrupts the connection of
// its probe in flight.
func TestCheckerInterruptsProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := NewChecker(Options{})
		start(t, c)
		cfg := Config{Type: TypeHTTP, IPAddress: "192.0.2.1", RequestInterval: 3600} // never due here
		mustCheckerSet(t, c, "a", cfg)
		mustCheckerSet(t, c, "b", cfg)
		synctest.Wait()
		intr := func(id string) *interrupter {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.entries[id].intr
		}
		interrupted := func(i *interrupter) bool {
			i.mu.Lock()
			defer i.mu.Unlock()
			return i.interrupted
		}
		a, b := intr("a"), intr("b")
		c.Remove("a")
		cfg.ResourcePath = "/other"
		mustCheckerSet(t, c, "b", cfg)
		synctest.Wait()
		if !interrupted(a) || !interrupted(b) || interrupted(intr("b")) {
			t.Fatalf("interrupted: removed %v, changed %v, its new probe %v; want true, true, false", interrupted(a), interrupted(b), interrupted(intr("b")))
		}
	})
}

// On one core, the runs started together let a goroutine waiting for the network run after
// every yieldEvery of them: a DNS reader is not held behind a whole wake's probes, which run one
// after the other until the network is polled again. Each probe here is CPU work; at some of
// them a datagram is sent to a goroutine waiting for it, which counts the probes run before it
// woke. The probes take a third of the core or so (less than half under the race detector): a
// checker that falls a WakeGap behind starts its runs without yielding, to catch up.
func TestCheckerYieldsToNetwork(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rx, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := net.Dial("udp", rx.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()

	var ran atomic.Int64
	sentAt := make(chan int64, 1)
	var sink atomic.Uint64
	probe := func(context.Context, Config) Observation {
		n := ran.Add(1)
		if n%500 == 0 {
			select {
			case sentAt <- n:
				tx.Write([]byte{1})
			default:
			}
		}
		x := uint64(n)
		for range 20000 { // tens of microseconds of CPU, as a probe's write takes
			x = x*6364136223846793005 + 1442695040888963407
		}
		sink.Add(x)
		return Observation{Healthy: true}
	}
	c := NewChecker(Options{Probe: probe})
	for i := range 1500 { // at 0.2 s: about 37 runs per WakeGap
		mustCheckerSet(t, c, fmt.Sprint("c", i), Config{Type: TypeTCP, IPAddress: "127.0.0.1", Port: 9, RequestInterval: 0.2})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		c.Run(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	worst := int64(0)
	buf := make([]byte, 16)
	for range 10 {
		if _, _, err := rx.ReadFrom(buf); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, ran.Load()-<-sentAt)
	}
	// Twice yieldEvery; without the yields it is the rest of a wake's ~37 runs.
	const limit = 16
	if worst > limit {
		t.Errorf("a goroutine waiting for a datagram woke up to %d probes after it was sent, want at most %d", worst, limit)
	}
}

// withoutScheduler makes c act as if Run were running with ctx, without its scheduler: checks
// set from now on get their probe generations, and probeNow runs their probes.
func withoutScheduler(c *Checker, ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started, c.runCtx = true, ctx
}

// probeNow runs one probe of the check id as a worker of c would.
func probeNow(c *Checker, id string) {
	c.mu.Lock()
	e := c.entries[id]
	j := e.job(time.Now())
	e.busy = true
	c.mu.Unlock()
	c.run(j)
}

// lastObservation is the latest observation of the check id.
func lastObservation(t testing.TB, c *Checker, id string) Observation {
	t.Helper()
	st, ok := c.Status(id)
	if !ok || len(st.Observations) == 0 {
		t.Fatalf("check %s: no observation", id)
	}
	return st.Observations[len(st.Observations)-1]
}

// The bytes a Checker sends for a check are those of its configuration, made once per probe
// generation: the same request at every probe, and after a change of the probe the new request
// and status codes, not the ones made for the old configuration; a change that leaves the probe
// alone (the interval) keeps the request.
func TestCheckerSendsCurrentRequest(t *testing.T) {
	reqs := make(chan string, 10)
	port, conns := countingServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			var req strings.Builder
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				req.WriteString(line)
				if line == "\r\n" {
					break
				}
			}
			reqs <- req.String()
			if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"); err != nil {
				return
			}
		}
	})
	c := NewChecker(Options{})
	withoutScheduler(c, context.Background())
	defer c.prober.CloseIdle()
	host := "Host: svc.example.test:" + strconv.Itoa(port) + "\r\n"

	for _, step := range []struct {
		name   string
		cfg    Config
		req    string
		status string
	}{
		{"first", Config{ResourcePath: "health?deep=1", Headers: map[string]string{"x-probe": "a", "accept": "text/plain"}},
			"GET /health?deep=1 HTTP/1.1\r\n" + host + "User-Agent: " + DefaultUserAgent + "\r\nAccept: text/plain\r\nX-Probe: a\r\n\r\n",
			"Success: HTTP Status Code 200, OK"},
		{"changed", Config{ResourcePath: "/v2", HealthyStatusCodes: "204", Headers: map[string]string{"Authorization": "Bearer t"}},
			"GET /v2 HTTP/1.1\r\n" + host + "User-Agent: " + DefaultUserAgent + "\r\nAccept: */*\r\nAuthorization: Bearer t\r\n\r\n",
			"Failure: HTTP Status Code 200, OK"},
		{"interval only", Config{ResourcePath: "/v2", HealthyStatusCodes: "204", Headers: map[string]string{"Authorization": "Bearer t"}, RequestInterval: 2},
			"GET /v2 HTTP/1.1\r\n" + host + "User-Agent: " + DefaultUserAgent + "\r\nAccept: */*\r\nAuthorization: Bearer t\r\n\r\n",
			"Failure: HTTP Status Code 200, OK"},
	} {
		cfg := step.cfg
		cfg.Type, cfg.IPAddress, cfg.Port, cfg.FullyQualifiedDomainName = TypeHTTP, "127.0.0.1", port, "svc.example.test."
		if cfg.RequestInterval == 0 {
			cfg.RequestInterval = 1
		}
		mustCheckerSet(t, c, "web", cfg)
		for i := range 2 {
			probeNow(c, "web")
			if got := <-reqs; got != step.req {
				t.Fatalf("%s, probe %d sent\n%q\nwant\n%q", step.name, i+1, got, step.req)
			}
			if obs := lastObservation(t, c, "web"); obs.Status != step.status {
				t.Fatalf("%s, probe %d: %q, want %q", step.name, i+1, obs.Status, step.status)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("6 probes of one target made %d connections, want 1", n)
	}
}
