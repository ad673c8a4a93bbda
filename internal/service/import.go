package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// DefaultImportChunk is Options.ImportChunk's default.
const DefaultImportChunk = 50_000

// ImportZone replaces every record set of the zone named by ref with sets (the contents of a
// master file), after validating the whole result.
//
// The replacement is atomic: readers see the old zone or the new one. A zone that stays within
// Options.ImportChunk record sets, old and new, is rewritten in place in one transaction (a key
// that stays is rewritten only when its value changes). A bigger one is written beside the old
// record sets, into a new record space, ImportChunk sets per transaction, then the zone is
// switched to it in one small transaction; the old space is left to Sweep, which deletes it
// ImportChunk keys at a time. One transaction holding every changed page of a million-set zone
// took more memory than the zone itself.
func (s *Service) ImportZone(ctx context.Context, ref string, sets []zone.RecordSet, comment string) (ChangeInfo, error) {
	defer BulkMemory()()
	return s.importSets(ctx, ref, "", sets, comment)
}

// ImportMasterFile is ImportZone of the record sets of a master file for the zone. A file that
// does not parse, or does not make a valid zone, is an InvalidInput error naming the line of
// each problem; an error reading r is returned as it is.
func (s *Service) ImportMasterFile(ctx context.Context, ref string, r io.Reader, comment string) (ChangeInfo, error) {
	defer BulkMemory()()
	hz, err := s.GetZone(ctx, ref)
	if err != nil {
		return ChangeInfo{}, err
	}
	sets, err := zone.ParseMasterFile(hz.Name, r)
	if err != nil {
		return ChangeInfo{}, planError(err)
	}
	// ParseMasterFile validated the sets as a whole zone named hz.Name: no need to parse every
	// value again, as long as the zone still has that name.
	return s.importSets(ctx, ref, hz.Name, sets, comment)
}

// importSets is ImportZone; when validated names a zone, sets are a valid zone of that name.
//
// A million record sets are a few hundred megabytes as zone.RecordSet values, more than their
// stored form, so they are not copied (a master file's are the new zone as they are: in Less
// order, each key once), and they are encoded for the store a transaction's worth at a time.
func (s *Service) importSets(ctx context.Context, ref, validated string, sets []zone.RecordSet, comment string) (ChangeInfo, error) {
	change, rev, err := s.replaceSets(ctx, ref, validated, sets, comment)
	if err != nil {
		return ChangeInfo{}, err
	}
	return s.settle(ctx, change, rev), nil
}

// replaceSets writes the import and returns its change and the revision that made it visible.
func (s *Service) replaceSets(ctx context.Context, ref, validated string, sets []zone.RecordSet, comment string) (ChangeInfo, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m zoneMeta
	err := s.st.View(ctx, func(r store.Reader) (err error) {
		m, err = resolveZone(r, ref)
		return err
	})
	if err != nil {
		return ChangeInfo{}, 0, wrapStore("import zone", err)
	}
	if validated != m.Name {
		next := zone.Zone{ID: m.ID, Name: m.Name}
		next.Apply(zone.Diff{Put: sets})
		if err := zone.Validate(&next); err != nil {
			return ChangeInfo{}, 0, fromZoneError(err)
		}
		sets = next.RecordSets
	}
	sorted, checked := sortSets(sets)
	count := int64(len(sets))
	sets = nil // sorted holds them
	change := s.newChange(comment)
	var rev uint64
	if chunk := s.opts.ImportChunk; count <= int64(chunk) && m.Count <= int64(chunk) {
		var keys []string
		var vals [][]byte
		if keys, vals, err = sorted.encode(0, len(sorted.order)); err != nil {
			return ChangeInfo{}, 0, err
		}
		rev, err = s.st.Update(ctx, func(tx store.Tx) error {
			m, err := readMeta(tx, m.ID)
			if err != nil {
				return err
			}
			if err := rewrite(tx, m.space(), keys, vals); err != nil {
				return err
			}
			if err := checkRecordChecks(tx, checked); err != nil {
				return err
			}
			return s.commit(tx, m, count, &change)
		})
	} else {
		rev, err = s.stage(ctx, m.ID, sorted, func(tx store.Tx, m *zoneMeta) error {
			if err := checkRecordChecks(tx, checked); err != nil {
				return err
			}
			m.Count = count
			return s.putChange(tx, &change)
		})
	}
	if err != nil {
		return ChangeInfo{}, 0, wrapStore("import zone", err)
	}
	return change, rev, nil
}

// rewrite makes the record sets of space the given ones (keys relative to the space, in order),
// writing only the keys whose value changes and deleting the others.
func rewrite(tx store.Tx, space string, keys []string, vals [][]byte) error {
	prefix := recordPrefix(space)
	same := make([]bool, len(keys)) // the stored value is already this one
	err := tx.Scan(prefix, func(k string, v []byte) error {
		if i, found := slices.BinarySearch(keys, k[len(prefix):]); found {
			same[i] = bytes.Equal(v, vals[i])
			return nil
		}
		return tx.Delete(k)
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if !same[i] {
			if err := tx.Put(prefix+k, vals[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// stage writes the record sets into a new record space of zone id, ImportChunk per transaction,
// then switches the zone to that space in one transaction, in which switchTo may check the zone
// and change its metadata. The space being written is marked staging, and the zone's old space
// is marked retired when the switch commits: Sweep deletes both kinds, so a failed or
// interrupted import leaves no keys behind for long. It returns the switch's revision. The
// caller holds s.mu.
func (s *Service) stage(ctx context.Context, id string, sets sortedSets, switchTo func(tx store.Tx, m *zoneMeta) error) (uint64, error) {
	space := id + "." + newID("", 12)
	prefix := recordPrefix(space)
	chunk := s.opts.ImportChunk
	for i := 0; i < len(sets.order); i += chunk {
		part, vals, err := sets.encode(i, min(i+chunk, len(sets.order)))
		if err != nil {
			return 0, s.abandon(space, err)
		}
		_, err = s.st.Update(ctx, func(tx store.Tx) error {
			if i == 0 {
				if err := tx.Put(stagingKey(space), nil); err != nil {
					return err
				}
			}
			for j, k := range part {
				if err := tx.Put(prefix+k, vals[j]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, s.abandon(space, err)
		}
	}
	rev, err := s.st.Update(ctx, func(tx store.Tx) error {
		m, err := readMeta(tx, id)
		if err != nil {
			return err
		}
		old := m.space()
		m.Records, m.Switched = space, tx.Revision()
		if err := switchTo(tx, &m); err != nil {
			return err
		}
		if err := putJSON(tx, zoneKey(id), m); err != nil {
			return err
		}
		if err := tx.Delete(stagingKey(space)); err != nil {
			return err
		}
		return tx.Put(retiredKey(old), nil)
	})
	if err != nil {
		return 0, s.abandon(space, err)
	}
	s.retired.set(rev)
	return rev, nil
}

// abandon retires the record space of a failed import and returns err, the failure; the next
// sweep deletes the space.
func (s *Service) abandon(space string, err error) error {
	// Not under the import's context, which may be what failed.
	rev, rerr := s.st.Update(context.Background(), func(tx store.Tx) error { return retire(tx, space) })
	if rerr != nil {
		return errors.Join(err, fmt.Errorf("retiring the import's record space %s: %w", space, rerr))
	}
	s.retired.set(rev)
	return err
}

// retire marks the record space an import was writing as one to delete.
func retire(tx store.Tx, space string) error {
	if err := tx.Delete(stagingKey(space)); err != nil {
		return err
	}
	return tx.Put(retiredKey(space), nil)
}

// errStop ends a Scan early.
var errStop = errors.New("stop")

// firstRetired returns the first record space marked retired, "" when there is none.
func firstRetired(r store.Reader) (string, error) {
	var space string
	err := r.Scan(retiredPrefix, func(k string, _ []byte) error {
		space = k[len(retiredPrefix):]
		return errStop
	})
	if err == errStop {
		err = nil
	}
	return space, err
}

// Sweep deletes the old record sets of zones that imports replaced, and what failed or
// interrupted imports left in the store, ImportChunk keys per transaction.
func (s *Service) Sweep(ctx context.Context) error {
	s.mu.Lock()
	var staging []string
	err := s.st.View(ctx, func(r store.Reader) error {
		return r.Scan(stagingPrefix, func(k string, _ []byte) error {
			staging = append(staging, k[len(stagingPrefix):])
			return nil
		})
	})
	if err == nil && len(staging) > 0 {
		_, err = s.st.Update(ctx, func(tx store.Tx) error {
			for _, space := range staging {
				if err := retire(tx, space); err != nil {
					return err
				}
			}
			return nil
		})
	}
	s.mu.Unlock()
	if err != nil {
		return wrapStore("sweep", err)
	}
	return s.sweep(ctx)
}

// AwaitRetired waits until an import commits after revision after and leaves a record space to
// delete, and then until this server serves the import (SetServed), and returns that commit's
// revision; false when ctx ends first. The daemon sweeps then: deleting the old copy of a big
// zone while the new one is being compiled, beside the copy served, only added to that peak of
// memory.
func (s *Service) AwaitRetired(ctx context.Context, after uint64) (uint64, bool) {
	if !s.retired.wait(ctx, after+1) {
		return 0, false
	}
	rev := s.retired.get()
	return rev, s.served.wait(ctx, rev)
}

// sweep deletes the retired record spaces, ImportChunk keys per transaction, and each one's mark
// with its last keys. It needs no lock: no zone reads a retired space, and deleting is
// idempotent.
//
// Deleting a million keys allocates a few hundred megabytes over its transactions. When it
// starts, the heap may still hold the snapshot the import replaced, which the collector
// counted live last, and lets the heap grow to twice that: a collection first, and the bulk
// limit from there.
func (s *Service) sweep(ctx context.Context) error {
	var first string
	err := s.st.View(ctx, func(r store.Reader) (err error) {
		first, err = firstRetired(r)
		return err
	})
	if err != nil || first == "" {
		return wrapStore("sweep", err)
	}
	runtime.GC()
	defer BulkMemory()()
	for {
		done := false
		_, err := s.st.Update(ctx, func(tx store.Tx) error {
			space, err := firstRetired(tx)
			if err != nil {
				return err
			}
			if space == "" {
				done = true
				return nil
			}
			n := 0
			err = tx.Scan(recordPrefix(space), func(k string, _ []byte) error {
				if n == s.opts.ImportChunk {
					return errStop
				}
				n++
				return tx.Delete(k)
			})
			switch {
			case err == nil:
				return tx.Delete(retiredKey(space))
			case err == errStop:
				return nil
			}
			return err
		})
		if err != nil {
			return wrapStore("delete an old copy of a zone", err)
		}
		if done {
			return nil
		}
	}
}

// sortedSets is an import's record sets in store order (the order in which bbolt inserts by
// appending; in another it moves the rest of a page that grows until the commit), encoded for
// the store a range at a time, so that the encoded form of a big import never exists whole
// beside the parsed one.
type sortedSets struct {
	sets  []zone.RecordSet
	order []int32 // indexes into sets, in the order of their keys
}

// sortSets returns sets in store order, and those naming a health check.
func sortSets(sets []zone.RecordSet) (s sortedSets, checked []zone.RecordSet) {
	s = sortedSets{sets: sets, order: make([]int32, len(sets))}
	for i := range sets {
		s.order[i] = int32(i)
		if sets[i].HealthCheckId != "" {
			checked = append(checked, sets[i])
		}
	}
	// The order of relKey's strings, without making them: a name, type or set identifier that
	// is a prefix of another sorts first, as it does followed by relKey's zero byte.
	slices.SortFunc(s.order, func(a, b int32) int {
		x, y := &sets[a], &sets[b]
		if c := strings.Compare(x.Name, y.Name); c != 0 {
			return c
		}
		if c := strings.Compare(x.Type, y.Type); c != 0 {
			return c
		}
		return strings.Compare(x.SetIdentifier, y.SetIdentifier)
	})
	return s, checked
}

// encode returns the keys, relative to a space, and the values of the record sets in store order
// from i to j, the values packed into a few large buffers. It clears each record set once
// encoded, so that the collector can take what it held while the rest are written: the sets
// must be the import's own.
func (s sortedSets) encode(i, j int) (keys []string, vals [][]byte, err error) {
	keys, vals = make([]string, 0, j-i), make([][]byte, 0, j-i)
	var (
		buf   bytes.Buffer
		enc   = json.NewEncoder(&buf) // as json.Marshal, plus a newline, into one buffer
		arena []byte
	)
	for _, n := range s.order[i:j] {
		rs := &s.sets[n]
		buf.Reset()
		if err := enc.Encode(rs); err != nil {
			return nil, nil, fmt.Errorf("service: encode %s %s: %w", rs.Name, rs.Type, err)
		}
		v := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if len(arena)+len(v) > cap(arena) {
			arena = make([]byte, 0, max(1<<20, len(v)))
		}
		arena = append(arena, v...)
		keys, vals = append(keys, relKey(rs.Key())), append(vals, arena[len(arena)-len(v):len(arena):len(arena)])
		*rs = zone.RecordSet{}
	}
	return keys, vals, nil
}
