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
// raised to 5/4 of the live heap whenever that grows past 4/5 of the limit, so that larger work
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

// followHeap raises the limit with the live heap until stop is closed.
func followHeap(stop chan struct{}, limit int64) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		live := liveHeap()
		if live <= limit/5*4 {
			continue
		}
		limit = live / 4 * 5
		bulk.mu.Lock()
		if bulk.stop == stop {
			debug.SetMemoryLimit(limit)
		}
		bulk.mu.Unlock()
	}
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
