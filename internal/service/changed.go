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

// Changed is what a set of store keys touched among the zones: zones whose own record changed
// (created, deleted, renamed, recounted) and, per zone id, the names whose record sets changed.
type Changed struct {
	Zones []string            // ids of zones whose zone/<id> key changed
	Names map[string][]string // zone id -> canonical names with a changed record set, once each
}

// ChangedNames sorts store keys (a change event's) into the zones and names they touched.
func ChangedNames(keys []string) Changed {
	c := Changed{Names: map[string][]string{}}
	seen := map[string]bool{}
	for _, k := range keys {
		switch {
		case strings.HasPrefix(k, zonePrefix):
			id := k[len(zonePrefix):]
			if !slices.Contains(c.Zones, id) {
				c.Zones = append(c.Zones, id)
			}
		case strings.HasPrefix(k, recordPrefix_):
			id, rest, ok := strings.Cut(k[len(recordPrefix_):], "/")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(rest, "\x00")
			if seen[id+"/"+name] {
				continue
			}
			seen[id+"/"+name] = true
			c.Names[id] = append(c.Names[id], name)
		}
	}
	return c
}

// RecordSetsAt returns the record sets of the zone with id at the given canonical names, read in
// one transaction, and whether the zone exists.
func (s *Service) RecordSetsAt(ctx context.Context, id string, names []string) (sets []zone.RecordSet, exists bool, err error) {
	err = s.st.View(ctx, func(r store.Reader) error {
		if _, ok, err := r.Get(zoneKey(id)); err != nil || !ok {
			return err
		}
		exists = true
		for _, name := range names {
			if sets, err = readAt(r, id, name, sets); err != nil {
				return err
			}
		}
		return nil
	})
	return sets, exists, wrapStore("read record sets", err)
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
		sets, err := readAt(r, m.ID, m.Name, nil)
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

// readAt appends the record sets of zone id named name (canonical) to sets.
func readAt(r store.Reader, id, name string, sets []zone.RecordSet) ([]zone.RecordSet, error) {
	err := r.Scan(recordPrefix(id)+name+"\x00", func(k string, v []byte) error {
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
		err = r.Scan(recordPrefix(m.ID), func(k string, v []byte) error {
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
		z = zone.Zone{ID: m.ID, Name: m.Name, CallerReference: m.CallerReference, Comment: m.Comment}
		read := []string{m.Name}
		for _, n := range names {
			if !slices.Contains(read, n) {
				read = append(read, n)
			}
		}
		for _, n := range read {
			if z.RecordSets, err = readAt(r, m.ID, n, z.RecordSets); err != nil {
				return err
			}
		}
		return nil
	})
	sort.Slice(z.RecordSets, func(i, j int) bool { return zone.Less(z.RecordSets[i], z.RecordSets[j]) })
	return z, wrapStore("read zone", err)
}
