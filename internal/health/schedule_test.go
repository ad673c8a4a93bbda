package health

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The schedule pops entries in due order through pushes, fixes and removals, and keeps every
// entry's index.
func TestSchedule(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s schedule
	due := map[*entry]time.Duration{}
	check := func() {
		t.Helper()
		for i, sl := range s {
			if sl.e.index != i || due[sl.e] != sl.at {
				t.Fatalf("slot %d: entry index %d, at %v, want %d, %v", i, sl.e.index, sl.at, i, due[sl.e])
			}
			if i > 0 && s[(i-1)/4].at > sl.at {
				t.Fatalf("slot %d is due before its parent", i)
			}
		}
	}
	for range 2000 {
		switch op := r.IntN(4); {
		case op <= 1 || len(s) == 0:
			e := &entry{index: -1}
			due[e] = time.Duration(r.IntN(1000))
			s.push(e, due[e])
		case op == 2:
			e := s[r.IntN(len(s))].e
			due[e] = time.Duration(r.IntN(1000))
			s.fix(e.index, due[e])
		default:
			e := s[r.IntN(len(s))].e
			s.remove(e.index)
			if e.index != -1 {
				t.Fatalf("removed entry has index %d", e.index)
			}
			delete(due, e)
		}
		check()
	}
	want := slices.Sorted(func(yield func(time.Duration) bool) {
		for _, d := range due {
			yield(d)
		}
	})
	var got []time.Duration
	for s.Len() > 0 {
		got = append(got, s[0].at)
		s.remove(0)
		check()
	}
	if !slices.Equal(got, want) {
		t.Fatalf("popped %v, want %v", got, want)
	}
}
