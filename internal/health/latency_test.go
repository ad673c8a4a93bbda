package health

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
)

// TestFailoverBound: across Route 53's range of intervals and thresholds, a target that fails
// at any moment is declared unhealthy within interval x FailureThreshold (+ the jitter of two
// runs) of the failure, and healthy again within interval x RecoveryThreshold of its recovery:
// the performance goal allows interval x threshold + 50 ms to the changed answer, which follows
// the transition within a millisecond (BenchmarkFlip).
func TestFailoverBound(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 7))
	for _, interval := range []float64{0.1, 1, 10, 30} {
		for _, threshold := range []int{1, 3} {
			t.Run(fmt.Sprintf("%gs x %d", interval, threshold), func(t *testing.T) {
				every := time.Duration(interval * float64(time.Second))
				bound := every*time.Duration(threshold) + 2*MaxJitter
				for trial := range 20 {
					synctest.Test(t, func(t *testing.T) {
						begin := time.Now()
						// The target fails and recovers at phases of the schedule drawn at random.
						failAt := begin.Add(3*every + time.Duration(r.Int64N(int64(every))))
						upAt := failAt.Add(bound + 2*every + time.Duration(r.Int64N(int64(every))))
						s := newScript(func(string, int) bool {
							now := time.Now()
							return now.Before(failAt) || !now.Before(upAt)
						})
						var rec recorder
						c := NewChecker(Options{Probe: s.probe, OnTransition: rec.add})
						mustCheckerSet(t, c, "a", scripted("a", interval, func(c *Config) {
							c.FailureThreshold, c.RecoveryThreshold = threshold, threshold
						}))
						start(t, c)
						time.Sleep(upAt.Sub(begin) + bound + every)
						synctest.Wait()
						trs := rec.all()
						if len(trs) != 2 || trs[0].To || !trs[1].To {
							t.Fatalf("trial %d: transitions %+v, want down then up", trial, trs)
						}
						if d := trs[0].Time.Sub(failAt); d < 0 || d > bound {
							t.Errorf("trial %d: unhealthy %v after the failure, want within %v", trial, d, bound)
						}
						if d := trs[1].Time.Sub(upAt); d < 0 || d > bound {
							t.Errorf("trial %d: healthy %v after the recovery, want within %v", trial, d, bound)
						}
					})
				}
			})
		}
	}
}
