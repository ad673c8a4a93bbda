package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// watchedStore is a store whose commits a test can watch (after) and make fail (fail: the
// Update that writes numbered fail, counted from 1, those failed included).
type watchedStore struct {
	store.Store
	after  func(rev uint64)
	fail   int
	writes int
}

var errInjected = errors.New("injected store failure")

// spyTx notes whether a transaction wrote.
type spyTx struct {
	store.Tx
	wrote bool
}

func (t *spyTx) Put(key string, value []byte) error { t.wrote = true; return t.Tx.Put(key, value) }
func (t *spyTx) Delete(key string) error            { t.wrote = true; return t.Tx.Delete(key) }

func (w *watchedStore) Update(ctx context.Context, fn func(store.Tx) error) (uint64, error) {
	wrote := false
	rev, err := w.Store.Update(ctx, func(tx store.Tx) error {
		spy := &spyTx{Tx: tx}
		if err := fn(spy); err != nil || !spy.wrote {
			return err
		}
		wrote = true
		if w.writes++; w.writes == w.fail {
			return errInjected
		}
		return nil
	})
	if err == nil && wrote {
		if w.after != nil {
			w.after(rev)
		}
	}
	return rev, err
}

// newStagingZone returns a service over a watched store that imports 4 record sets per
// transaction, and the zone big.test created in it.
func newStagingZone(t *testing.T) (*Service, *watchedStore, HostedZone) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := &watchedStore{Store: st}
	s := New(w, Options{Nameservers: []string{"ns1.example.net."}, SyncWait: time.Millisecond, ImportChunk: 4})
	hz, _, err := s.CreateZone(context.Background(), "big.test", "ref-big", "")
	if err != nil {
		t.Fatal(err)
	}
	return s, w, hz
}

// masterFile is a zone file for big.test with n A records named h<i>, valued base.<i>.
func masterFile(n int, base string) string {
	var b strings.Builder
	b.WriteString("$TTL 60\n@ IN SOA ns1.example.net. hostmaster.big.test. 1 7200 900 1209600 60\n@ IN NS ns1.example.net.\n")
	for i := range n {
		fmt.Fprintf(&b, "h%d IN A %s.%d\n", i, base, i)
	}
	return b.String()
}

// zoneText is the zone's record sets, one "name type values" a line, for comparisons.
func zoneText(z zone.Zone) string {
	var b strings.Builder
	for _, rs := range z.RecordSets {
		fmt.Fprintf(&b, "%s %s", rs.Name, rs.Type)
		for _, v := range rs.ResourceRecords {
			b.WriteString(" " + v.Value)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// storeKeys returns the store's keys with one of the prefixes.
func storeKeys(t *testing.T, st store.Store, prefixes ...string) []string {
	t.Helper()
	var keys []string
	err := st.View(context.Background(), func(r store.Reader) error {
		for _, p := range prefixes {
			if err := r.Scan(p, func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// An import bigger than ImportChunk is written in several transactions, and readers see the old
// zone or the new one after every one of them, never a mix; the old record sets are deleted by
// Sweep, and what is left is the new zone's record sets alone.
func TestStagedImportIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, w, hz := newStagingZone(t)
	load := func(file string) zone.Zone {
		t.Helper()
		if _, err := s.ImportMasterFile(ctx, hz.Id, strings.NewReader(file), ""); err != nil {
			t.Fatal(err)
		}
		z, err := s.Zone(ctx, hz.Id)
		if err != nil {
			t.Fatal(err)
		}
		return z
	}
	first := zoneText(load(masterFile(10, "192.0.2")))
	if strings.Count(first, "\n") != 12 {
		t.Fatalf("after the first import the zone holds\n%s", first)
	}

	var seen []string // each commit's view of the zone: "old", "new", or what it was
	second := zoneText(zone.Zone{RecordSets: mustParse(t, masterFile(14, "198.51.100"))})
	w.after = func(uint64) {
		z, err := s.Zone(ctx, hz.Id)
		if err != nil {
			t.Fatal(err)
		}
		switch got := zoneText(z); got {
		case first:
			seen = append(seen, "old")
		case second:
			seen = append(seen, "new")
		default:
			seen = append(seen, got)
		}
		hz, _ := s.GetZone(ctx, hz.Id)
		if want := int64(strings.Count(zoneText(z), "\n")); hz.ResourceRecordSetCount != want {
			t.Errorf("ResourceRecordSetCount %d while the zone holds %d record sets", hz.ResourceRecordSetCount, want)
		}
	}
	writes := w.writes
	if got := zoneText(load(masterFile(14, "198.51.100"))); got != second {
		t.Fatalf("after the second import the zone holds\n%s\nwant\n%s", got, second)
	}
	// 16 record sets, 4 a transaction, then the switch.
	if want := []string{"old", "old", "old", "old", "new"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("the zone after each commit of the import: %q, want %q", seen, want)
	}
	if w.writes-writes != 5 {
		t.Errorf("the import took %d commits, want 5", w.writes-writes)
	}

	// The old record sets (of the zone as created, of the first import) are still stored,
	// marked for Sweep; afterwards only the zone's are.
	if got := storeKeys(t, w, retiredPrefix); len(got) != 2 {
		t.Errorf("retired spaces before Sweep: %q, want two", got)
	}
	w.after = nil
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storeKeys(t, w, retiredPrefix, stagingPrefix); len(got) != 0 {
		t.Errorf("marks left after Sweep: %q", got)
	}
	var m zoneMeta
	if err := w.View(ctx, func(r store.Reader) (err error) {
		m, err = readMeta(r, strings.TrimPrefix(hz.Id, ZonePrefix))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	keys := storeKeys(t, w, recordPrefix_)
	for _, k := range keys {
		if !strings.HasPrefix(k, recordPrefix(m.space())) {
			t.Errorf("a record set key outside the zone's space %s: %q", m.space(), k)
		}
	}
	if len(keys) != 16 {
		t.Errorf("%d record set keys stored, want 16", len(keys))
	}
	if z, _ := s.Zone(ctx, hz.Id); zoneText(z) != second {
		t.Errorf("Sweep changed the zone:\n%s", zoneText(z))
	}
}

func mustParse(t *testing.T, file string) []zone.RecordSet {
	t.Helper()
	sets, err := zone.ParseMasterFile("big.test.", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return sets
}

// A staged import that fails part way leaves the zone as it was, and Sweep deletes what it
// wrote; so does it for an import that a crash interrupted (its space still marked staging).
func TestStagedImportFailureLeavesNothing(t *testing.T) {
	ctx := context.Background()
	s, w, hz := newStagingZone(t)
	before, _ := s.Zone(ctx, hz.Id)
	for _, fail := range []int{2, 4} { // a chunk's commit; the switch's
		w.fail = w.writes + fail
		if _, err := s.ImportMasterFile(ctx, hz.Id, strings.NewReader(masterFile(10, "192.0.2")), ""); !errors.Is(err, errInjected) {
			t.Fatalf("import failing at its commit %d: %v, want the store's error", fail, err)
		}
		w.fail = 0
		if z, _ := s.Zone(ctx, hz.Id); zoneText(z) != zoneText(before) {
			t.Fatalf("a failed import changed the zone:\n%s", zoneText(z))
		}
		if got := storeKeys(t, w, stagingPrefix); len(got) != 0 {
			t.Errorf("a failed import left its space marked staging: %q", got)
		}
	}

	// An import whose context ends after its first chunk's commit: the import's error, the zone
	// as it was, and the written chunk retired (not under the import's context) and swept.
	cctx, cancel := context.WithCancel(ctx)
	first := w.writes + 1 // the first chunk, with the staging mark
	w.after = func(uint64) {
		if w.writes == first {
			cancel()
		}
	}
	_, err := s.ImportMasterFile(cctx, hz.Id, strings.NewReader(masterFile(10, "192.0.2")), "")
	w.after = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("import canceled after its first chunk: %v, want context.Canceled", err)
	}
	if z, _ := s.Zone(ctx, hz.Id); zoneText(z) != zoneText(before) {
		t.Fatalf("a canceled import changed the zone:\n%s", zoneText(z))
	}
	if got := storeKeys(t, w, stagingPrefix); len(got) != 0 {
		t.Errorf("a canceled import left its space marked staging: %q", got)
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storeKeys(t, w, recordPrefix_); len(got) != len(before.RecordSets) {
		t.Errorf("record set keys after a canceled import and Sweep: %q, want only the zone's %d", got, len(before.RecordSets))
	}

	// A crash during an import: its space marked staging, some record sets written.
	space := strings.TrimPrefix(hz.Id, ZonePrefix) + ".crashed"
	_, err = w.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put(stagingKey(space), nil); err != nil {
			return err
		}
		return tx.Put(recordKey(space, zone.Key{Name: "h1.big.test.", Type: "A"}), []byte(`{}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storeKeys(t, w, stagingPrefix, retiredPrefix); len(got) != 0 {
		t.Errorf("marks left after Sweep: %q", got)
	}
	if got := storeKeys(t, w, recordPrefix_); len(got) != len(before.RecordSets) {
		t.Errorf("record set keys after Sweep: %q, want only the zone's %d", got, len(before.RecordSets))
	}
}

// Changes names what commits changed in the zones as the store holds them now: the names of a
// change batch with their record sets, a zone switched to a new record space (Whole), nothing
// for the keys of a space the zone does not read, and a zone deleted.
func TestChanges(t *testing.T) {
	ctx := context.Background()
	s, w, hz := newStagingZone(t)
	id := strings.TrimPrefix(hz.Id, ZonePrefix)
	var keys [][]string
	var revs []uint64
	events := w.Watch(ctx)
	drain := func() {
		t.Helper()
		for rev, _ := w.Revision(ctx); len(revs) == 0 || revs[len(revs)-1] < rev; {
			ev := <-events
			keys, revs = append(keys, ev.Keys), append(revs, ev.Revision)
		}
	}

	www := zone.RecordSet{Name: "www.big.test.", Type: "A", TTL: ptr(int64(60)), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}}}
	if _, err := s.ChangeRecordSets(ctx, hz.Id, zone.ChangeBatch{Changes: []zone.Change{{Action: "CREATE", ResourceRecordSet: www}}}); err != nil {
		t.Fatal(err)
	}
	drain()
	got, err := s.Changes(ctx, keys[len(keys)-1], revs[len(revs)-1]-1, 100)
	if err != nil {
		t.Fatal(err)
	}
	// The name changed, and the apex (the SOA's serial moves with every change).
	if len(got) != 1 || !got[0].Exists || got[0].Whole || !reflect.DeepEqual(got[0].Names, []string{"big.test.", "www.big.test."}) ||
		len(got[0].Sets) != 3 || got[0].Sets[2].Name != "www.big.test." || got[0].Sets[2].ResourceRecords[0].Value != "192.0.2.1" {
		t.Errorf("Changes after a batch: %+v", got)
	}
	if got, _ := s.Changes(ctx, keys[len(keys)-1], revs[len(revs)-1]-1, 0); len(got) != 1 || !got[0].Whole || got[0].Names != nil {
		t.Errorf("Changes past the limit of names: %+v, want the zone Whole", got)
	}

	// An import, each of its commits looked at as it commits (as the publisher does): before
	// the switch they change nothing served, the switch makes the zone Whole; the commits of
	// Sweep change nothing.
	var kinds []string
	w.after = func(rev uint64) {
		ev := <-events
		keys, revs = append(keys, ev.Keys), append(revs, ev.Revision)
		got, err := s.Changes(ctx, ev.Keys, ev.Revision-1, 100)
		switch {
		case err != nil:
			t.Error(err)
		case len(got) == 0:
			kinds = append(kinds, "none")
		case len(got) == 1 && got[0].Whole:
			kinds = append(kinds, "whole")
		default:
			kinds = append(kinds, fmt.Sprintf("%+v", got))
		}
	}
	if _, err := s.ImportMasterFile(ctx, hz.Id, strings.NewReader(masterFile(10, "192.0.2")), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	w.after = nil
	if want := []string{"none", "none", "none", "whole", "none"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("Changes for each commit of an import, then Sweep: %q, want %q", kinds, want)
	}

	if _, err := s.ChangeRecordSets(ctx, hz.Id, zone.ChangeBatch{Changes: []zone.Change{{Action: "DELETE", ResourceRecordSet: www}}}); err == nil {
		t.Fatal("deleting a record set the import removed succeeded")
	}
	var sets []zone.RecordSet
	z, _ := s.Zone(ctx, hz.Id)
	for _, rs := range z.RecordSets {
		if rs.Type == "A" {
			sets = append(sets, rs)
		}
	}
	var del []zone.Change
	for _, rs := range sets {
		del = append(del, zone.Change{Action: "DELETE", ResourceRecordSet: rs})
	}
	if _, err := s.ChangeRecordSets(ctx, hz.Id, zone.ChangeBatch{Changes: del}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteZone(ctx, hz.Id); err != nil {
		t.Fatal(err)
	}
	drain()
	if got, _ := s.Changes(ctx, keys[len(keys)-1], revs[len(revs)-1]-1, 100); len(got) != 1 || got[0].ID != id || got[0].Exists {
		t.Errorf("Changes after the zone's deletion: %+v", got)
	}
	// The record sets of a zone deleted before (an old copy of it swept since) change nothing.
	if got, _ := s.Changes(ctx, []string{recordKey(id+".old", zone.Key{Name: "h1.big.test.", Type: "A"})}, revs[len(revs)-1], 100); len(got) != 0 {
		t.Errorf("Changes for a deleted zone's old record sets: %+v, want nothing", got)
	}
}

// An import is written in the order of its store keys, which sortSets finds without making them.
func TestSortSetsInKeyOrder(t *testing.T) {
	var sets []zone.RecordSet
	for _, name := range []string{"b.x.", "a.x.", "a-.x.", "a.b.x.", "a\\000.x.", "x."} {
		for _, typ := range []string{"AAAA", "A", "TXT"} {
			for _, id := range []string{"", "s", "s1", "r"} {
				sets = append(sets, zone.RecordSet{Name: name, Type: typ, SetIdentifier: id})
			}
		}
	}
	sorted, _ := sortSets(sets)
	keys, _, err := sorted.encode(0, len(sets))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(keys) || len(keys) != 6*3*4 {
		t.Errorf("keys out of order: %q", keys)
	}
}

// An import naming a health check that does not exist is refused and changes nothing, whether
// it is written in place or beside the zone.
func TestImportNamesMissingCheck(t *testing.T) {
	ctx := context.Background()
	s, w, hz := newStagingZone(t)
	before, _ := s.Zone(ctx, hz.Id)
	for _, n := range []int{1, 10} { // in one transaction; in several
		sets := mustParse(t, masterFile(n, "192.0.2"))
		for i := range sets {
			if sets[i].Type == "A" {
				sets[i].SetIdentifier, sets[i].Failover, sets[i].HealthCheckId = "p", "PRIMARY", "no-such-check"
			}
		}
		_, err := s.ImportZone(ctx, hz.Id, sets, "")
		if code(err) != CodeNoSuchHealthCheck {
			t.Errorf("importing %d sets naming a missing check: %v, want %s", n, err, CodeNoSuchHealthCheck)
		}
		if z, _ := s.Zone(ctx, hz.Id); zoneText(z) != zoneText(before) {
			t.Errorf("a refused import of %d sets changed the zone:\n%s", n, zoneText(z))
		}
	}
	if err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storeKeys(t, w, recordPrefix_); len(got) != len(before.RecordSets) {
		t.Errorf("record set keys after the refused imports and Sweep: %q", got)
	}
}

// A health check named only by the record sets a staged import replaced (the zone's retired old
// copy, not swept yet) is no longer in use: it can be deleted. One the zone still names cannot.
func TestDeleteCheckNamedOnlyByRetiredCopy(t *testing.T) {
	ctx := context.Background()
	s, w, hz := newStagingZone(t)
	hc, _, err := s.CreateHealthCheck(ctx, "web-1", httpCheck("10.0.0.5"))
	if err != nil {
		t.Fatal(err)
	}
	sets := mustParse(t, masterFile(10, "192.0.2"))
	for i := range sets {
		if sets[i].Name == "h1.big.test." {
			sets[i].SetIdentifier, sets[i].Failover, sets[i].HealthCheckId = "p", "PRIMARY", hc.Id
		}
	}
	if _, err := s.ImportZone(ctx, hz.Id, sets, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHealthCheck(ctx, hc.Id); code(err) != CodeHealthCheckInUse {
		t.Fatalf("deleting a check the zone names: %v, want %s", err, CodeHealthCheckInUse)
	}
	if _, err := s.ImportMasterFile(ctx, hz.Id, strings.NewReader(masterFile(10, "192.0.2")), ""); err != nil {
		t.Fatal(err)
	}
	if got := storeKeys(t, w, retiredPrefix); len(got) != 2 { // the zone's first copy, then the one naming the check
		t.Fatalf("retired marks %q, want the two replaced copies' (not swept yet)", got)
	}
	if err := s.DeleteHealthCheck(ctx, hc.Id); err != nil {
		t.Errorf("deleting a check named only by a retired copy: %v", err)
	}
}
