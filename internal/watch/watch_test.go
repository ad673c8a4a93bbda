package watch

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// switching answers "old" until switchAt after it was made, "new" afterwards.
type switching struct {
	start    time.Time
	switchAt time.Duration
	delay    time.Duration
}

func (p switching) Probe(ctx context.Context) Observation {
	o := Observation{Time: time.Now(), Rcode: "NOERROR", Answers: []string{"192.0.2.1"}}
	if time.Since(p.start) >= p.switchAt {
		o.Answers = []string{"192.0.2.2"}
	}
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return Observation{Time: o.Time, Error: "timeout", Timeout: true}
	}
	o.RTT = Millis(p.delay)
	return o
}

// hanging never answers: every poll ends at its timeout.
type hanging struct{}

func (hanging) Probe(ctx context.Context) Observation {
	t := time.Now()
	<-ctx.Done()
	return Observation{Time: t, Error: "timeout", Timeout: true, RTT: Millis(time.Since(t))}
}

func TestRunPollsEveryTargetAtTheInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		targets := []Target{
			{Name: "direct", Kind: KindDNS, Prober: switching{start: start, switchAt: 2500 * time.Millisecond, delay: time.Millisecond}},
			{Name: "resolver", Kind: KindDNS, Prober: switching{start: start, switchAt: 4500 * time.Millisecond, delay: 10 * time.Millisecond}},
			{Name: "http://hangs/", Kind: KindHTTP, Prober: hanging{}},
		}
		s := NewSummary(Options{Expect: []string{"192.0.2.2"}}, targets...)
		var seen []Observation
		Run(context.Background(), Config{Targets: targets, Interval: time.Second, Timeout: 800 * time.Millisecond, Duration: 6500 * time.Millisecond,
			Observe: func(o Observation) { seen = append(seen, o); s.Add(o) }})
		if d := time.Since(start); d != 6500*time.Millisecond {
			t.Errorf("run took %v, want the duration", d)
		}
		r := s.Result(time.Now())
		for i, want := range []struct {
			polls, errors int
			changeAt      time.Duration
		}{{7, 0, 3 * time.Second}, {7, 0, 5 * time.Second}, {6, 6, 0}} { // the last poll of the hanging URL is cut short by the end
			tr := r.Targets[i]
			if tr.Polls != want.polls || tr.Errors != want.errors {
				t.Errorf("%s: %d polls %d errors, want %d and %d", tr.Target, tr.Polls, tr.Errors, want.polls, want.errors)
			}
			if want.changeAt > 0 && (len(tr.Changes) != 1 || tr.Changes[0].Time.Sub(start) != want.changeAt) {
				t.Errorf("%s: changes %+v, want one at +%v", tr.Target, tr.Changes, want.changeAt)
			}
		}
		if m := r.Overall.Mixed; m == nil || m.Start.Sub(start) != 3*time.Second || m.End.Sub(start) != 4*time.Second {
			t.Errorf("mixed window %+v, want +3s to +4s", m)
		}
		if r.Targets[2].Timeouts != 6 || time.Duration(seen[2].RTT) > 800*time.Millisecond {
			t.Errorf("the hanging URL: %+v", r.Targets[2])
		}
		for _, o := range seen {
			if o.Target == "" || o.Kind == "" {
				t.Errorf("observation without target or kind: %+v", o)
			}
		}
	})
}

func TestRunStopsWhenCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		targets := []Target{{Name: "a", Kind: KindDNS, Prober: switching{start: start, switchAt: 2 * time.Second}}}
		n := 0
		// As switch does: stop as soon as the new answer is seen; no duration.
		Run(ctx, Config{Targets: targets, Interval: 500 * time.Millisecond, Observe: func(o Observation) {
			n++
			if o.Answers[0] == "192.0.2.2" {
				cancel()
			}
		}})
		if d := time.Since(start); d != 2*time.Second || n != 5 {
			t.Errorf("stopped after %v and %d polls, want 2s and 5", d, n)
		}
	})
}
