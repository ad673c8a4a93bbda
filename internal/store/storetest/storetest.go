// Package storetest is the conformance suite that every store.Store backend must pass.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
)

// SlowWatcherCommits is how many commits Run makes while a Watch receiver reads nothing. A
// backend must deliver a Reset before that many events pile up, so its per-receiver buffer
// must hold fewer events than this.
const SlowWatcherCommits = 2500

// waitTimeout bounds every wait for an event or a closed channel; reaching it fails the test.
const waitTimeout = 10 * time.Second

// Run runs the conformance suite against the backend that open creates. open is called once
// per subtest, possibly in parallel, and must return a new empty store; it should register a
// t.Cleanup that closes the store and tolerates store.ErrClosed (some subtests close it
// themselves).
//
// Run assumes that a Watch receiver may fall at least 64 events behind without a Reset, and
// gets one before it is SlowWatcherCommits behind.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetPutDelete", testGetPutDelete},
		{"EmptyValue", testEmptyValue},
		{"EmptyKey", testEmptyKey},
		{"BinaryKeys", testBinaryKeys},
		{"ScanOrder", testScanOrder},
		{"ScanPrefixBounds", testScanPrefixBounds},
		{"ScanStopsOnError", testScanStopsOnError},
		{"ScanWhileWriting", testScanWhileWriting},
		{"ReadOwnWrites", testReadOwnWrites},
		{"Atomicity", testAtomicity},
		{"PanicRollsBack", testPanicRollsBack},
		{"Revision", testRevision},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConsistentViews", testConsistentViews},
		{"ValueOwnership", testValueOwnership},
		{"ContextDone", testContextDone},
		{"Watch", testWatch},
		{"WatchMany", testWatchMany},
		{"WatchConcurrentWriters", testWatchConcurrentWriters},
		{"WatchSlowReceiver", testWatchSlowReceiver},
		{"WatchCancel", testWatchCancel},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

// errTest is the error the suite's Update and Scan callbacks fail with.
var errTest = errors.New("storetest: deliberate failure")

func testGetPutDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, ok := get(t, s, "k"); ok {
		t.Fatal(`Get("k") on an empty store: present, want absent`)
	}
	update(t, s, func(tx store.Tx) error { return tx.Put("k", []byte("v1")) })
	wantValue(t, s, "k", "v1")
	update(t, s, func(tx store.Tx) error { return tx.Put("k", []byte("v2")) })
	wantValue(t, s, "k", "v2")
	update(t, s, func(tx store.Tx) error { return tx.Delete("k") })
	if v, ok := get(t, s, "k"); ok {
		t.Fatalf(`Get("k") after Delete = %q, want absent`, v)
	}
	// Deleting an absent key is not an error.
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("never-there") }); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	// Several keys in one commit.
	update(t, s, func(tx store.Tx) error {
		for i := range 10 {
			if err := tx.Put("multi/"+strconv.Itoa(i), []byte(strconv.Itoa(i*i))); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range 10 {
		wantValue(t, s, "multi/"+strconv.Itoa(i), strconv.Itoa(i*i))
	}
}

func testEmptyValue(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("nil", nil); err != nil {
			return err
		}
		if err := tx.Put("empty", []byte{}); err != nil {
			return err
		}
		// Visible as present inside the transaction too.
		for _, k := range []string{"nil", "empty"} {
			v, ok, err := tx.Get(k)
			if err != nil {
				return err
			}
			if !ok || len(v) != 0 {
				t.Errorf("in Tx: Get(%q) = %q, %v; want empty, present", k, v, ok)
			}
		}
		return nil
	})
	for _, k := range []string{"nil", "empty"} {
		v, ok := get(t, s, k)
		if !ok || len(v) != 0 {
			t.Errorf("Get(%q) = %q, %v; want empty, present", k, v, ok)
		}
	}
	if got := scanKeys(t, s, ""); !slices.Equal(got, []string{"empty", "nil"}) {
		t.Errorf("Scan over empty values = %q, want [empty nil]", got)
	}
}

func testEmptyKey(t *testing.T, s store.Store) {
	var putErr error
	rev, err := s.Update(t.Context(), func(tx store.Tx) error {
		putErr = tx.Put("", []byte("v"))
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if putErr == nil {
		t.Error(`Put("") succeeded, want an error`)
	}
	if rev != 0 {
		t.Errorf("Update with only a failed Put returned revision %d, want 0", rev)
	}
	if got := scanKeys(t, s, ""); len(got) != 0 {
		t.Errorf("store holds %q after a failed Put, want nothing", got)
	}
}

func testBinaryKeys(t *testing.T, s store.Store) {
	keys := []string{"\x00", "\x00\x00", "a\x00b", "\xff", "\xff\xff", "é", "a\xffz"}
	update(t, s, func(tx store.Tx) error {
		for i, k := range keys {
			if err := tx.Put(k, []byte{byte(i), 0, 0xff}); err != nil {
				return err
			}
		}
		return nil
	})
	for i, k := range keys {
		v, ok := get(t, s, k)
		if !ok || !bytes.Equal(v, []byte{byte(i), 0, 0xff}) {
			t.Errorf("Get(%q) = %x, %v; want %x, true", k, v, ok, []byte{byte(i), 0, 0xff})
		}
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	if got := scanKeys(t, s, ""); !slices.Equal(got, want) {
		t.Errorf("Scan(\"\") = %q, want %q", got, want)
	}
}

// scanFixture are the keys the Scan tests store, in bytewise order.
var scanFixture = []string{
	"\x00",
	"a",
	"a\x00",
	"a/1",
	"a/2",
	"a/2/x",
	"aa",
	"ab",
	"a\xff",
	"a\xff\xff",
	"b",
	"b/1",
	"\xff",
	"\xff\x00",
	"\xff\xff",
}

func putScanFixture(t *testing.T, s store.Store) {
	t.Helper()
	// Insert in a scrambled order so that a backend returning insertion order fails.
	order := slices.Clone(scanFixture)
	slices.Reverse(order)
	order[0], order[len(order)/2] = order[len(order)/2], order[0]
	update(t, s, func(tx store.Tx) error {
		for _, k := range order {
			if err := tx.Put(k, []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func testScanOrder(t *testing.T, s store.Store) {
	putScanFixture(t, s)
	if !sort.StringsAreSorted(scanFixture) {
		t.Fatal("scanFixture is not sorted")
	}
	if got := scanKeys(t, s, ""); !slices.Equal(got, scanFixture) {
		t.Errorf("Scan(\"\") = %q, want %q", got, scanFixture)
	}
	// Values arrive with their keys.
	err := s.View(t.Context(), func(r store.Reader) error {
		return r.Scan("", func(k string, v []byte) error {
			if string(v) != "v:"+k {
				t.Errorf("Scan: key %q has value %q, want %q", k, v, "v:"+k)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
}

func testScanPrefixBounds(t *testing.T, s store.Store) {
	putScanFixture(t, s)
	for _, prefix := range []string{
		"", "a", "a/", "a/2", "a\x00", "a\xff", "a\xff\xff", "a\xff\xff\xff", "b", "\x00", "\xff", "\xff\xff",
		"c", "0", "a/3", "\x00\x00",
	} {
		var want []string
		for _, k := range scanFixture {
			if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
				want = append(want, k)
			}
		}
		if got := scanKeys(t, s, prefix); !slices.Equal(got, want) {
			t.Errorf("Scan(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func testScanStopsOnError(t *testing.T, s store.Store) {
	putScanFixture(t, s)
	var seen []string
	err := s.View(t.Context(), func(r store.Reader) error {
		return r.Scan("a", func(k string, _ []byte) error {
			seen = append(seen, k)
			if len(seen) == 3 {
				return errTest
			}
			return nil
		})
	})
	if !errors.Is(err, errTest) {
		t.Errorf("View returned %v, want the Scan callback's error", err)
	}
	if want := scanFixture[1:4]; !slices.Equal(seen, want) {
		t.Errorf("Scan visited %q before stopping, want %q", seen, want)
	}
}

func testScanWhileWriting(t *testing.T, s store.Store) {
	putScanFixture(t, s)
	// Delete every key under "a" while scanning it, and rewrite each key under "b".
	var deleted, rewritten []string
	update(t, s, func(tx store.Tx) error {
		deleted, rewritten = nil, nil
		err := tx.Scan("a", func(k string, _ []byte) error {
			deleted = append(deleted, k)
			return tx.Delete(k)
		})
		if err != nil {
			return err
		}
		return tx.Scan("b", func(k string, v []byte) error {
			rewritten = append(rewritten, k)
			return tx.Put(k, append([]byte("new "), v...))
		})
	})
	var wantA, wantB, rest []string
	for _, k := range scanFixture {
		switch {
		case k[0] == 'a':
			wantA = append(wantA, k)
		case k[0] == 'b':
			wantB = append(wantB, k)
			rest = append(rest, k)
		default:
			rest = append(rest, k)
		}
	}
	if !slices.Equal(deleted, wantA) {
		t.Errorf("deleting Scan(\"a\") visited %q, want %q", deleted, wantA)
	}
	if !slices.Equal(rewritten, wantB) {
		t.Errorf("rewriting Scan(\"b\") visited %q, want %q", rewritten, wantB)
	}
	if got := scanKeys(t, s, ""); !slices.Equal(got, rest) {
		t.Errorf("after the Update the store holds %q, want %q", got, rest)
	}
	for _, k := range wantB {
		wantValue(t, s, k, "new v:"+k)
	}

	// Keys written ahead of the scan are seen as they are then: over many pages, every odd
	// key adds the following even one and deletes the next odd one.
	const n = 2000
	key := func(i int) string { return fmt.Sprintf("q/%05d", i) }
	update(t, s, func(tx store.Tx) error {
		for i := 1; i < n; i += 2 {
			if err := tx.Put(key(i), bytes.Repeat([]byte{'v'}, 100)); err != nil {
				return err
			}
		}
		return nil
	})
	var visited []string
	update(t, s, func(tx store.Tx) error {
		visited = nil
		return tx.Scan("q/", func(k string, _ []byte) error {
			visited = append(visited, k)
			var i int
			if _, err := fmt.Sscanf(k, "q/%d", &i); err != nil {
				return err
			}
			if i%4 != 1 {
				return nil
			}
			if err := tx.Put(key(i+1), []byte("added")); err != nil {
				return err
			}
			return tx.Delete(key(i + 2))
		})
	})
	var want []string
	for i := 1; i < n; i += 4 {
		want = append(want, key(i), key(i+1))
	}
	if !slices.Equal(visited, want) {
		t.Errorf("Scan writing ahead of itself visited %d keys, want %d (first difference at %d)",
			len(visited), len(want), firstDifference(visited, want))
	}
	if got := scanKeys(t, s, "q/"); !slices.Equal(got, want) {
		t.Errorf("after the Update: %d q/ keys, want %d", len(got), len(want))
	}
}

// firstDifference returns the first index at which a and b differ.
func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testReadOwnWrites(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		for _, k := range []string{"x/1", "x/2", "x/3"} {
			if err := tx.Put(k, []byte("old")); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("x/2", []byte("new")); err != nil {
			return err
		}
		if err := tx.Put("x/4", []byte("added")); err != nil {
			return err
		}
		if err := tx.Delete("x/1"); err != nil {
			return err
		}
		if v, ok, err := tx.Get("x/2"); err != nil || !ok || string(v) != "new" {
			t.Errorf(`in Tx: Get("x/2") = %q, %v, %v; want "new", true, nil`, v, ok, err)
		}
		if v, ok, err := tx.Get("x/4"); err != nil || !ok || string(v) != "added" {
			t.Errorf(`in Tx: Get("x/4") = %q, %v, %v; want "added", true, nil`, v, ok, err)
		}
		if v, ok, err := tx.Get("x/1"); err != nil || ok {
			t.Errorf(`in Tx: Get("x/1") after Delete = %q, %v, %v; want absent`, v, ok, err)
		}
		var got []string
		err := tx.Scan("x/", func(k string, v []byte) error {
			got = append(got, k+"="+string(v))
			return nil
		})
		if err != nil {
			return err
		}
		if want := []string{"x/2=new", "x/3=old", "x/4=added"}; !slices.Equal(got, want) {
			t.Errorf("in Tx: Scan(\"x/\") = %q, want %q", got, want)
		}
		return nil
	})
}

func testAtomicity(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("keep", []byte("original")); err != nil {
			return err
		}
		return tx.Put("doomed", []byte("still here"))
	})
	rev := revision(t, s)
	w := s.Watch(ctx)

	got, err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 100 {
			if err := tx.Put(fmt.Sprintf("new/%03d", i), []byte("x")); err != nil {
				return err
			}
		}
		if err := tx.Put("keep", []byte("changed")); err != nil {
			return err
		}
		if err := tx.Delete("doomed"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", errTest)
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if got != 0 && got != rev {
		t.Errorf("failed Update returned revision %d, want 0 or %d", got, rev)
	}
	if r := revision(t, s); r != rev {
		t.Errorf("revision after a failed Update = %d, want %d", r, rev)
	}
	wantValue(t, s, "keep", "original")
	wantValue(t, s, "doomed", "still here")
	if keys := scanKeys(t, s, "new/"); len(keys) != 0 {
		t.Errorf("failed Update left %d keys behind: %q", len(keys), keys)
	}

	// No event for the failed Update: the next event is the next real commit.
	next := update(t, s, func(tx store.Tx) error { return tx.Put("after", nil) })
	if ev := receive(t, w); ev.Revision != next || ev.Reset || !slices.Equal(ev.Keys, []string{"after"}) {
		t.Errorf("first event after a failed Update = %+v, want revision %d keys [after]", ev, next)
	}
}

func testPanicRollsBack(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.Put("k", []byte("before")) })
	rev := revision(t, s)
	func() {
		defer func() {
			if r := recover(); r != errTest {
				t.Errorf("recovered %v, want the panic value from fn", r)
			}
		}()
		_, _ = s.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.Put("k", []byte("during")); err != nil {
				return err
			}
			panic(errTest)
		})
	}()
	wantValue(t, s, "k", "before")
	if r := revision(t, s); r != rev {
		t.Errorf("revision after a panicking Update = %d, want %d", r, rev)
	}
	// The store is still usable: the panic released every lock.
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := s.Update(t.Context(), func(tx store.Tx) error { return tx.Put("k", []byte("after")) }); err != nil {
			t.Errorf("Update after a panicking Update: %v", err)
		}
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Update after a panicking Update did not return")
	}
	wantValue(t, s, "k", "after")
}

func testRevision(t *testing.T, s store.Store) {
	ctx := t.Context()
	if r := revision(t, s); r != 0 {
		t.Fatalf("Revision of an empty store = %d, want 0", r)
	}
	for want := uint64(1); want <= 5; want++ {
		got := update(t, s, func(tx store.Tx) error {
			if r := tx.Revision(); r != want {
				t.Errorf("Tx.Revision in Update #%d = %d, want %d", want, r, want)
			}
			if r := tx.Seen(); r != want-1 {
				t.Errorf("Tx.Seen in Update #%d = %d, want %d", want, r, want-1)
			}
			// Several writes, and the same key twice, still make one commit.
			if err := tx.Put("a", []byte{byte(want)}); err != nil {
				return err
			}
			if err := tx.Put("a", []byte{byte(want), 1}); err != nil {
				return err
			}
			return tx.Put("b"+strconv.Itoa(int(want)), nil)
		})
		if got != want {
			t.Fatalf("Update #%d returned revision %d, want %d", want, got, want)
		}
		if r := revision(t, s); r != want {
			t.Fatalf("Revision after Update #%d = %d, want %d", want, r, want)
		}
		if err := s.View(ctx, func(r store.Reader) error {
			if seen := r.Seen(); seen != want {
				t.Errorf("Reader.Seen after Update #%d = %d, want %d", want, seen, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// Updates that write nothing return the current revision and do not bump it.
	noops := map[string]func(store.Tx) error{
		"empty fn": func(store.Tx) error { return nil },
		"only Tx.Revision": func(tx store.Tx) error {
			if r := tx.Revision(); r != 6 {
				t.Errorf("Tx.Revision in a no-op Update = %d, want 6", r)
			}
			return nil
		},
		"only reads":          func(tx store.Tx) error { _, _, err := tx.Get("a"); return err },
		"delete absent":       func(tx store.Tx) error { return tx.Delete("absent") },
		"failed put of empty": func(tx store.Tx) error { _ = tx.Put("", nil); return nil },
	}
	for name, fn := range noops {
		got, err := s.Update(ctx, fn)
		if err != nil {
			t.Fatalf("no-op Update (%s): %v", name, err)
		}
		if got != 5 {
			t.Errorf("no-op Update (%s) returned revision %d, want 5", name, got)
		}
		if r := revision(t, s); r != 5 {
			t.Errorf("Revision after no-op Update (%s) = %d, want 5", name, r)
		}
	}

	// A Delete of a present key is a write.
	if got := update(t, s, func(tx store.Tx) error { return tx.Delete("b1") }); got != 6 {
		t.Errorf("Update deleting a present key returned revision %d, want 6", got)
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	const goroutines, increments = 20, 50
	ctx := t.Context()
	var (
		mu   sync.Mutex
		revs = make(map[uint64]bool)
		wg   sync.WaitGroup
	)
	for range goroutines {
		wg.Go(func() {
			for range increments {
				var txRev uint64
				rev, err := s.Update(ctx, func(tx store.Tx) error {
					txRev = tx.Revision()
					v, _, err := tx.Get("counter")
					if err != nil {
						return err
					}
					n := 0
					if len(v) > 0 {
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					return tx.Put("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				if rev != txRev {
					t.Errorf("Update returned revision %d, but its Tx.Revision was %d", rev, txRev)
				}
				mu.Lock()
				if revs[rev] {
					t.Errorf("revision %d returned by two Updates", rev)
				}
				revs[rev] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const total = goroutines * increments
	wantValue(t, s, "counter", strconv.Itoa(total))
	if r := revision(t, s); r != total {
		t.Errorf("Revision = %d, want %d", r, total)
	}
	for r := uint64(1); r <= total; r++ {
		if !revs[r] {
			t.Errorf("no Update returned revision %d", r)
			break
		}
	}
}

func testConsistentViews(t *testing.T, s store.Store) {
	// A writer keeps keys "pair/a" and "pair/b" equal in every commit; readers must never see
	// them differ, nor see a revision go backwards.
	ctx := t.Context()
	const commits = 200
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var last uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := s.View(ctx, func(r store.Reader) error {
					a, okA, err := r.Get("pair/a")
					if err != nil {
						return err
					}
					b, okB, err := r.Get("pair/b")
					if err != nil {
						return err
					}
					if okA != okB || !bytes.Equal(a, b) {
						t.Errorf("View saw a torn commit: pair/a = %q (%v), pair/b = %q (%v)", a, okA, b, okB)
					}
					var n int
					err = r.Scan("pair/", func(string, []byte) error { n++; return nil })
					if err != nil {
						return err
					}
					if n != 0 && n != 2 {
						t.Errorf("View's Scan saw %d pair keys, want 0 or 2", n)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
				rev, err := s.Revision(ctx)
				if err != nil {
					t.Errorf("Revision: %v", err)
					return
				}
				if rev < last {
					t.Errorf("Revision went backwards: %d after %d", rev, last)
				}
				last = rev
			}
		})
	}
	for i := range commits {
		update(t, s, func(tx store.Tx) error {
			v := []byte(strconv.Itoa(i))
			if err := tx.Put("pair/a", v); err != nil {
				return err
			}
			return tx.Put("pair/b", v)
		})
	}
	close(stop)
	wg.Wait()
}

func testValueOwnership(t *testing.T, s store.Store) {
	// The caller may reuse a buffer passed to Put, inside fn and after Update returns.
	buf := []byte("first")
	update(t, s, func(tx store.Tx) error {
		buf = append(buf[:0], "first"...)
		if err := tx.Put("k", buf); err != nil {
			return err
		}
		copy(buf, "XXXXX")
		if v, _, err := tx.Get("k"); err != nil || string(v) != "first" {
			t.Errorf(`in Tx: Get("k") after reusing Put's buffer = %q, %v; want "first"`, v, err)
		}
		return nil
	})
	copy(buf, "YYYYY")
	wantValue(t, s, "k", "first")

	// A value returned by Get is the caller's: keeping it across commits and modifying it
	// does not affect the store, and it survives later writes.
	kept, _ := get(t, s, "k")
	for i := range 50 {
		update(t, s, func(tx store.Tx) error {
			return tx.Put("k", bytes.Repeat([]byte{byte('a' + i%26)}, 5000))
		})
	}
	if string(kept) != "first" {
		t.Errorf("value kept from Get changed to %q after later commits", kept)
	}
	copy(kept, "ZZZZZ")
	if v, _ := get(t, s, "k"); len(v) != 5000 || v[0] != 'a'+49%26 {
		t.Errorf("modifying a value returned by Get changed the store")
	}
	// Inside a Tx too.
	update(t, s, func(tx store.Tx) error {
		v, _, err := tx.Get("k")
		if err != nil {
			return err
		}
		clear(v)
		w, _, err := tx.Get("k")
		if err != nil {
			return err
		}
		if w[0] != 'a'+49%26 {
			t.Errorf("modifying a value returned by Tx.Get changed the store")
		}
		return tx.Put("other", nil)
	})
}

func testContextDone(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	if err := s.View(ctx, func(store.Reader) error { called = true; return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a canceled context returned %v, want context.Canceled", err)
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error { called = true; return tx.Put("k", []byte("x")) }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a canceled context returned %v, want context.Canceled", err)
	}
	if called {
		t.Error("fn ran although the context had ended")
	}
	if _, err := s.Revision(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Revision with a canceled context returned %v, want context.Canceled", err)
	}
	wantValue(t, s, "k", "v")
	if r := revision(t, s); r != 1 {
		t.Errorf("Revision = %d, want 1", r)
	}
}

func testWatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error { return tx.Put("before", nil) })
	update(t, s, func(tx store.Tx) error { return tx.Put("gone", nil) })
	w := s.Watch(ctx)

	type commit struct {
		fn   func(tx store.Tx) error
		keys []string
	}
	commits := []commit{
		{func(tx store.Tx) error { return tx.Put("z", nil) }, []string{"z"}},
		{func(tx store.Tx) error {
			// Unsorted, duplicated, and mixed with deletes (of present and absent keys).
			for _, k := range []string{"c", "a", "b", "a", "c"} {
				if err := tx.Put(k, []byte(k)); err != nil {
					return err
				}
			}
			if err := tx.Delete("gone"); err != nil {
				return err
			}
			return tx.Delete("never-there")
		}, []string{"a", "b", "c", "gone"}},
		{func(tx store.Tx) error { return nil }, nil},                           // no event
		{func(tx store.Tx) error { return tx.Delete("absent") }, nil},           // no event
		{func(tx store.Tx) error { _ = tx.Put("x", nil); return errTest }, nil}, // no event
		{func(tx store.Tx) error {
			if err := tx.Put("\xff", nil); err != nil {
				return err
			}
			return tx.Put("\x00", nil)
		}, []string{"\x00", "\xff"}},
		{func(tx store.Tx) error { return tx.Delete("a") }, []string{"a"}},
	}
	type want struct {
		rev  uint64
		keys []string
	}
	var wants []want
	for _, c := range commits {
		rev, err := s.Update(ctx, c.fn)
		if c.keys == nil {
			continue
		}
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		wants = append(wants, want{rev, c.keys})
	}
	for _, wt := range wants {
		ev := receive(t, w)
		if ev.Reset || ev.Revision != wt.rev || !slices.Equal(ev.Keys, wt.keys) {
			t.Errorf("event = %+v, want revision %d keys %q", ev, wt.rev, wt.keys)
		}
	}
	select {
	case ev, ok := <-w:
		if ok {
			t.Errorf("unexpected extra event %+v", ev)
		}
	case <-time.After(50 * time.Millisecond):
	}

	// Once an event has arrived, a View sees its commit.
	rev := update(t, s, func(tx store.Tx) error { return tx.Put("sync", []byte("1")) })
	if ev := receive(t, w); ev.Revision != rev {
		t.Errorf("event revision %d, want %d", ev.Revision, rev)
	}
	wantValue(t, s, "sync", "1")
	if r := revision(t, s); r < rev {
		t.Errorf("Revision = %d after receiving the event for revision %d", r, rev)
	}
}

func testWatchMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	watches := make([]<-chan store.Event, 5)
	for i := range watches {
		watches[i] = s.Watch(ctx)
	}
	var revs []uint64
	for i := range 20 {
		revs = append(revs, update(t, s, func(tx store.Tx) error { return tx.Put(strconv.Itoa(i), nil) }))
	}
	for i, w := range watches {
		for j, rev := range revs {
			ev := receive(t, w)
			if ev.Reset || ev.Revision != rev || !slices.Equal(ev.Keys, []string{strconv.Itoa(j)}) {
				t.Errorf("watch %d: event = %+v, want revision %d keys [%d]", i, ev, rev, j)
			}
		}
	}
}

func testWatchConcurrentWriters(t *testing.T, s store.Store) {
	// Events arrive in revision order even when many goroutines commit at once, and each
	// carries the keys of the commit with that revision.
	const writers, commits = 8, 40
	ctx := t.Context()
	w := s.Watch(ctx)
	var (
		mu     sync.Mutex
		keyOf  = make(map[uint64]string)
		wg     sync.WaitGroup
		events []store.Event
	)
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		timeout := time.After(waitTimeout)
		for {
			select {
			case ev, ok := <-w:
				if !ok {
					return
				}
				events = append(events, ev)
				if ev.Revision == writers*commits {
					return
				}
			case <-timeout:
				return
			}
		}
	}()
	for g := range writers {
		wg.Go(func() {
			for i := range commits {
				key := fmt.Sprintf("w/%d/%d", g, i)
				rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, nil) })
				if err != nil {
					t.Errorf("Update: %v", err)
					return
				}
				mu.Lock()
				keyOf[rev] = key
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	<-recvDone
	checkSequence(t, events, 0, writers*commits)
	for _, ev := range events {
		if !ev.Reset && !slices.Equal(ev.Keys, []string{keyOf[ev.Revision]}) {
			t.Errorf("event for revision %d has keys %q, want [%s]", ev.Revision, ev.Keys, keyOf[ev.Revision])
		}
	}
}

func testWatchSlowReceiver(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := s.Watch(ctx)    // never read until the end
	fast := s.Watch(ctx) // read all along: another receiver's slowness must not affect it
	fastEvents := make(chan []store.Event, 1)
	go func() {
		var evs []store.Event
		for ev := range fast {
			evs = append(evs, ev)
			if ev.Revision == SlowWatcherCommits+1 {
				break
			}
		}
		fastEvents <- evs
	}()

	// Every Update must complete although nobody reads w.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range SlowWatcherCommits {
			if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte(strconv.Itoa(i))) }); err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(3 * waitTimeout):
		// Unblock the writer by reading, so that the failure is reported instead of hanging.
		t.Errorf("%d Updates did not finish while a Watch receiver was not reading: Update blocks on it", SlowWatcherCommits)
		go func() {
			for range w {
			}
		}()
		<-done
		t.FailNow()
	}

	// The slow receiver now reads: whatever it got must be in order and contain a Reset, and
	// it keeps receiving later commits normally.
	last := update(t, s, func(tx store.Tx) error { return tx.Put("last", nil) })
	var events []store.Event
	for {
		ev := receive(t, w)
		events = append(events, ev)
		if ev.Revision >= last {
			break
		}
	}
	checkSequence(t, events, 0, last)
	resets := 0
	for _, ev := range events {
		if ev.Reset {
			resets++
			if len(ev.Keys) != 0 {
				t.Errorf("Reset event carries keys %q", ev.Keys)
			}
		}
	}
	if resets == 0 {
		t.Errorf("a receiver %d events behind got no Reset (%d events, all in order)", SlowWatcherCommits, len(events))
	}
	if ev := events[len(events)-1]; ev.Reset || !slices.Equal(ev.Keys, []string{"last"}) {
		t.Errorf("event after catching up = %+v, want a normal event for key last", ev)
	}

	select {
	case evs := <-fastEvents:
		checkSequence(t, evs, 0, SlowWatcherCommits+1)
	case <-time.After(waitTimeout):
		t.Fatal("the reading receiver did not get every event")
	}
}

func testWatchCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	w := s.Watch(ctx)
	other := s.Watch(t.Context())
	rev := update(t, s, func(tx store.Tx) error { return tx.Put("k", nil) })
	cancel()
	waitClosed(t, w, "Watch channel after its context was canceled")
	// Writers and other receivers are unaffected.
	rev2 := update(t, s, func(tx store.Tx) error { return tx.Put("k2", nil) })
	if ev := receive(t, other); ev.Revision != rev {
		t.Errorf("other watch: event revision %d, want %d", ev.Revision, rev)
	}
	if ev := receive(t, other); ev.Revision != rev2 {
		t.Errorf("other watch: event revision %d, want %d", ev.Revision, rev2)
	}

	// A Watch whose context already ended is closed at once.
	waitClosed(t, s.Watch(ctx), "Watch channel for an already canceled context")
}

func testClose(t *testing.T, s store.Store) {
	ctx := t.Context()
	update(t, s, func(tx store.Tx) error { return tx.Put("k", nil) })
	w1, w2 := s.Watch(ctx), s.Watch(ctx)
	update(t, s, func(tx store.Tx) error { return tx.Put("k2", nil) })
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, w1, "Watch channel after Close")
	waitClosed(t, w2, "Watch channel after Close")
	waitClosed(t, s.Watch(ctx), "Watch channel opened after Close")

	if err := s.View(ctx, func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k3", nil) }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Revision(ctx); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Revision after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// checkSequence checks that events are what a receiver may legally see of the commits after
// revision from up to revision to: strictly increasing, without gaps except right before a
// Reset, and ending at to.
func checkSequence(t *testing.T, events []store.Event, from, to uint64) {
	t.Helper()
	prev := from
	for i, ev := range events {
		switch {
		case ev.Reset && ev.Revision <= prev:
			t.Errorf("event %d: Reset at revision %d after revision %d", i, ev.Revision, prev)
			return
		case !ev.Reset && ev.Revision != prev+1:
			t.Errorf("event %d: revision %d after revision %d without a Reset", i, ev.Revision, prev)
			return
		case !ev.Reset && len(ev.Keys) == 0:
			t.Errorf("event %d: revision %d has no keys", i, ev.Revision)
		}
		prev = ev.Revision
	}
	if prev != to {
		t.Errorf("events end at revision %d, want %d", prev, to)
	}
}

// update runs a writing Update that must succeed and returns its revision.
func update(t *testing.T, s store.Store, fn func(store.Tx) error) uint64 {
	t.Helper()
	rev, err := s.Update(t.Context(), fn)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

func revision(t *testing.T, s store.Store) uint64 {
	t.Helper()
	rev, err := s.Revision(t.Context())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func get(t *testing.T, s store.Store, key string) (value []byte, ok bool) {
	t.Helper()
	err := s.View(t.Context(), func(r store.Reader) error {
		var err error
		value, ok, err = r.Get(key)
		return err
	})
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return value, ok
}

func wantValue(t *testing.T, s store.Store, key, want string) {
	t.Helper()
	v, ok := get(t, s, key)
	if !ok {
		t.Errorf("Get(%q): absent, want %q", key, want)
	} else if string(v) != want {
		t.Errorf("Get(%q) = %q, want %q", key, v, want)
	}
}

func scanKeys(t *testing.T, s store.Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.View(t.Context(), func(r store.Reader) error {
		return r.Scan(prefix, func(k string, _ []byte) error {
			keys = append(keys, k)
			return nil
		})
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return keys
}

func receive(t *testing.T, w <-chan store.Event) store.Event {
	t.Helper()
	select {
	case ev, ok := <-w:
		if !ok {
			t.Fatal("Watch channel closed, want an event")
		}
		return ev
	case <-time.After(waitTimeout):
		t.Fatal("no Watch event")
	}
	panic("unreachable")
}

// waitClosed drains w until it is closed.
func waitClosed(t *testing.T, w <-chan store.Event, what string) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case _, ok := <-w:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("%s: not closed", what)
		}
	}
}
