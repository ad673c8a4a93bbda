package yield

import (
	"runtime"
	"testing"
	"time"
)

// TestYield: a yield returns by itself, with nothing else to run and no traffic anywhere, and
// allocates nothing (a DNS reader under load yields every millisecond).
func TestYield(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1)) // as on one pinned core
	y, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	done := make(chan struct{})
	go func() {
		for range 1000 {
			y.Yield()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("1000 yields did not return within 10 s")
	}
	if n := testing.AllocsPerRun(100, y.Yield); n != 0 {
		t.Errorf("a yield makes %v allocations", n)
	}
}
