package service

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// ZoneChange is what commits changed in one zone, read as the store holds it now.
type ZoneChange struct {
	ID string
	// Exists is false when the zone no longer exists.
	Exists bool
	// Whole means the zone must be read whole again: its record sets were replaced by an import
	// written beside them, or more than the limit of its names changed. Names and Sets are
	// then empty.
	Whole bool
	// Names are the canonical names whose record sets changed; Sets are the record sets at
	// those names now.
	Names []string
	Sets  []zone.RecordSet
}

// Changes reads, in one transaction, what the commits after revision since changed in the
// zones, given the keys they wrote (their change events'). Keys of a record space that is not a
// zone's (an import writing its new copy of the zone, an old copy being deleted) change nothing.
// A zone with more than limit changed names is Whole.
func (s *Service) Changes(ctx context.Context, keys []string, since uint64, limit int) ([]ZoneChange, error) {
	// The zones touched: their own keys, and the record spaces of record set keys, which are
	// all of one space, and each space's together, when they come from one commit.
	var ids, spaces []string
	add := func(list []string, v string) []string {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
		return list
	}
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, zonePrefix):
			ids = add(ids, k[len(zonePrefix):])
		case strings.HasPrefix(k, recordPrefix_):
			space, _, ok := strings.Cut(k[len(recordPrefix_):], "/")
			if ok && (len(spaces) == 0 || spaces[len(spaces)-1] != space) {
				spaces = add(spaces, space)
			}
		}
	}
	zoneKeys := slices.Clone(ids)
	for _, space := range spaces {
		ids = add(ids, spaceZone(space))
	}
	slices.Sort(ids)
	var out []ZoneChange
	err := s.st.View(ctx, func(r store.Reader) error {
		out = out[:0]
		for _, id := range ids {
			zc := ZoneChange{ID: id}
			m, err := readMeta(r, id)
			switch {
			case errors.Is(err, errNoSuchZone):
				// Deleted, when its own key changed; else these are record sets of a zone
				// deleted before (an old copy swept after it).
				if slices.Contains(zoneKeys, id) {
					out = append(out, zc)
				}
				continue
			case err != nil:
				return err
			}
			zc.Exists = true
			zc.Whole = m.Switched > since
			if !zc.Whole && slices.Contains(spaces, m.space()) {
				zc.Names = changedNames(keys, recordPrefix(m.space()))
				if len(zc.Names) > limit {
					zc.Whole, zc.Names = true, nil
				}
			}
			for _, name := range zc.Names {
				if zc.Sets, err = readAt(r, m.space(), name, zc.Sets); err != nil {
					return err
				}
			}
			if zc.Whole || len(zc.Names) > 0 || slices.Contains(zoneKeys, id) {
				out = append(out, zc)
			}
		}
		return nil
	})
	return out, wrapStore("read changed record sets", err)
}

// changedNames returns the names of the record sets whose keys, among keys, have the prefix of a
// record space, sorted and once each.
func changedNames(keys []string, prefix string) []string {
	var names []string
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			name, _, _ := strings.Cut(k[len(prefix):], "\x00")
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// NameServers returns the values of the NS record set at the apex of the hosted zone named by
// ref (its delegation set, as GetHostedZone reports it), reading that name alone: a zone of a
// million record sets is not read to find them.
func (s *Service) NameServers(ctx context.Context, ref string) ([]string, error) {
	ns := []string{}
	err := s.st.View(ctx, func(r store.Reader) error {
		m, err := resolveZone(r, ref)
		if err != nil {
			return err
		}
		sets, err := readAt(r, m.space(), m.Name, nil)
		for _, rs := range sets {
			if rs.Type == "NS" {
				for _, v := range rs.ResourceRecords {
					ns = append(ns, v.Value)
				}
			}
		}
		return err
	})
	return ns, wrapStore("read name servers", err)
}

// readAt appends the record sets named name in record space space (canonical) to sets.
func readAt(r store.Reader, space, name string, sets []zone.RecordSet) ([]zone.RecordSet, error) {
	err := r.Scan(recordPrefix(space)+name+"\x00", func(k string, v []byte) error {
		var rs zone.RecordSet
		if err := decodeSet(k, v, &rs); err != nil {
			return err
		}
		sets = append(sets, rs)
		return nil
	})
	return sets, err
}

// ZoneIDList returns the id of every hosted zone, and the number of record sets they hold.
func (s *Service) ZoneIDList(ctx context.Context) (ids []string, sets int64, err error) {
	err = s.st.View(ctx, func(r store.Reader) error {
		return r.Scan(zonePrefix, func(k string, v []byte) error {
			var m zoneMeta
			if err := decodeJSON(k, v, &m); err != nil {
				return err
			}
			ids = append(ids, k[len(zonePrefix):])
			sets += m.Count
			return nil
		})
	})
	return ids, sets, wrapStore("list zones", err)
}

// ZoneParts reads zone id in one read transaction for a snapshot build that compiles it part by
// part, so that the build never holds the zone's record sets all at once (a million of them are
// a few hundred megabytes as zone.RecordSet values). begin gets the zone without its record
// sets, then add gets those in parts of at least n (but the last), in store order, not Less
// order: the record sets of one name are all in the same part. add must not keep the slice,
// which the next part reuses. A zone that does not exist is no error: found is false, and
// neither func is called.
func (s *Service) ZoneParts(ctx context.Context, id string, n int, begin func(z *zone.Zone, sets int) error, add func([]zone.RecordSet) error) (found bool, err error) {
	err = s.st.View(ctx, func(r store.Reader) error {
		m, err := readMeta(r, id)
		if errors.Is(err, errNoSuchZone) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		z := m.zone()
		if err := begin(&z, int(m.Count)); err != nil {
			return err
		}
		part := make([]zone.RecordSet, 0, n+1)
		err = r.Scan(recordPrefix(m.space()), func(k string, v []byte) error {
			part = append(part, zone.RecordSet{})
			rs := &part[len(part)-1]
			if err := decodeSet(k, v, rs); err != nil {
				return err
			}
			if last := len(part) - 1; last >= n && rs.Name != part[last-1].Name {
				if err := add(part[:last]); err != nil {
					return err
				}
				part = append(part[:0], *rs)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return add(part)
	})
	return found, wrapStore("read zone", err)
}

// zoneAt returns the zone named by ref holding only its record sets at its apex and at the
// given canonical names, in Route 53's order: enough to plan a change of those names alone
// (zone.Plan reads the names a change touches and the apex's SOA) without reading the zone.
func (s *Service) zoneAt(ctx context.Context, ref string, names ...string) (zone.Zone, error) {
	var z zone.Zone
	err := s.st.View(ctx, func(r store.Reader) error {
		m, err := resolveZone(r, ref)
		if err != nil {
			return err
		}
		z = m.zone()
		read := []string{m.Name}
		for _, n := range names {
			if !slices.Contains(read, n) {
				read = append(read, n)
			}
		}
		for _, n := range read {
			if z.RecordSets, err = readAt(r, m.space(), n, z.RecordSets); err != nil {
				return err
			}
		}
		return nil
	})
	sort.Slice(z.RecordSets, func(i, j int) bool { return zone.Less(z.RecordSets[i], z.RecordSets[j]) })
	return z, wrapStore("read zone", err)
}
