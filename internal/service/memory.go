package service

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// BulkHeadroom is how far above the live heap at its start bulk work may take the heap before
// the garbage collector runs (see BulkMemory). A 1M-set import into an empty zone, then one
// changing every address, on one core: peak resident memory 946 and 1752 MiB with 768 MiB,
// 823 and 1387 MiB with 384 MiB; the last name served after 8.7 and 13.0 s, 9.6 and 17.9 s.
const BulkHeadroom = 384 << 20

// bulk is the process's soft memory limit while bulk work runs.
var bulk struct {
	mu    sync.Mutex
	n     int           // bulk operations running
	saved int64         // the limit before the first began
	stop  chan struct{} // closed when the last ends; nil when the limit is not ours to set
}

// BulkMemory bounds the heap while bulk work runs (an import, a full build of the DNS snapshot),
// and the returned func ends it; operations may overlap. With the default settings the garbage
// collector lets the heap grow to twice what it held live at the end of its last cycle: for a
// million record sets, whose import or build holds 500-700 MB live at its peak, that is well
// past a gigabyte of resident memory, most of it garbage. So while bulk work runs the soft
// memory limit (runtime/debug.SetMemoryLimit) is the live heap at its start plus BulkHeadroom,
// or 5/4 of the live heap when that is more (followHeap), so that larger work
// costs collections in proportion, never a collector running back to back. A limit already set
// (GOMEMLIMIT) is left as it is.
func BulkMemory() (done func()) {
	b := &bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	if b.n == 1 {
		b.saved = debug.SetMemoryLimit(-1)
		if b.saved == math.MaxInt64 {
			b.stop = make(chan struct{})
			limit := liveHeap() + BulkHeadroom
			debug.SetMemoryLimit(limit)
			go followHeap(b.stop, limit)
		}
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.n--; b.n == 0 {
				if b.stop != nil {
					close(b.stop)
					b.stop = nil
					debug.SetMemoryLimit(b.saved)
				}
				// The work's garbage goes back to the system now: with the limit gone the
				// next collection waits for the heap to double, which an idle server (an
				// import that changed nothing, so no build follows) may never reach.
				go freed(debug.FreeOSMemory)
			}
		})
	}
}

// freed runs free (debug.FreeOSMemory, a collection and the return of free memory) when the last
// bulk work ends; a variable, read under bulk.mu, so that a test can see it run.
var freed = func(free func()) { free() }

// followHeap keeps the limit at base (the live heap at the start plus BulkHeadroom) or 5/4 of the
// live heap, whichever is more, until stop is closed. It lowers the limit as well as raising
// it: a collection that runs while the work allocates much counts what it allocates as live, so
// one reading can be far above the true live heap, and a limit raised to follow it for the rest
// of the work let a re-import of a million record sets, on a busy core, reach 1.8 GB resident
// where the next reading was half of it. (Lowering base as well, to BulkHeadroom above the
// least live heap seen, made that re-import 50% slower for no lower peak.)
func followHeap(stop chan struct{}, base int64) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	limit := base
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		next := heapLimit(base, liveHeap())
		if next == limit {
			continue
		}
		limit = next
		bulk.mu.Lock()
		if bulk.stop == stop {
			debug.SetMemoryLimit(limit)
		}
		bulk.mu.Unlock()
	}
}

// heapLimit is the soft memory limit of bulk work that began with limit base, when the last
// collection found live bytes live.
func heapLimit(base, live int64) int64 {
	return max(base, live/4*5)
}

// liveHeap returns the bytes of heap objects the last garbage collection found live.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}
