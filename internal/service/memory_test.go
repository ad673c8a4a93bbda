package service

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestBulkMemory: bulk work sets a soft memory limit while it runs, overlapping work keeps it
// until the last ends, and a limit set before (GOMEMLIMIT) stays as it is.
func TestBulkMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)

	frees := make(chan struct{}, 4)
	bulk.mu.Lock() // done reads freed under the lock
	old := freed
	freed = func(func()) { frees <- struct{}{} }
	bulk.mu.Unlock()
	defer func() {
		bulk.mu.Lock()
		freed = old
		bulk.mu.Unlock()
	}()

	debug.SetMemoryLimit(math.MaxInt64)
	done1 := BulkMemory()
	if l := debug.SetMemoryLimit(-1); l == math.MaxInt64 || l < BulkHeadroom {
		t.Fatalf("limit during bulk work: %d, want at least %d", l, BulkHeadroom)
	}
	done2 := BulkMemory()
	done1()
	done1() // a second call does nothing
	if l := debug.SetMemoryLimit(-1); l == math.MaxInt64 {
		t.Fatal("the limit went with the first of two overlapping operations")
	}
	if len(frees) != 0 {
		t.Fatal("memory freed while bulk work still runs")
	}
	done2()
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Fatalf("limit after bulk work: %d, want none", l)
	}
	<-frees // the garbage of the work is returned when the last ends

	debug.SetMemoryLimit(1 << 40)
	done := BulkMemory()
	if l := debug.SetMemoryLimit(-1); l != 1<<40 {
		t.Errorf("bulk work changed a limit set before it to %d", l)
	}
	done()
	if l := debug.SetMemoryLimit(-1); l != 1<<40 {
		t.Errorf("limit set before bulk work is %d after it", l)
	}
}

// TestHeapLimit: the limit of bulk work is the one it began with, or 5/4 of the live heap when
// that is more, and comes down again when a reading falls.
func TestHeapLimit(t *testing.T) {
	const mb = 1 << 20
	base := 300*mb + int64(BulkHeadroom)
	if got := heapLimit(base, 300*mb); got != base {
		t.Errorf("live heap as at the start: %d MB, want the base", got/mb)
	}
	if got := heapLimit(base, 1000*mb); got != 1250*mb {
		t.Errorf("live heap 1000 MB: %d MB, want 1250", got/mb)
	}
	if got := heapLimit(base, 500*mb); got != base {
		t.Errorf("after a reading of 1000 MB, one of 500: %d MB, want the base", got/mb)
	}
}
