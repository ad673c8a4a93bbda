package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// The store's key layout. A zone's record sets live in a record space of their own, named by the
// zone's metadata: the zone's id, or after an import too big for one transaction the id, a dot
// and a random suffix (see stage). Every key of a zone's contents starts with its space, so
// that a change event names the zones it touched.
const (
	zonePrefix     = "zone/"     // zone/<id> -> zoneMeta
	zoneNamePrefix = "zonename/" // zonename/<name> -> id
	callerPrefix   = "callerref/zone/"
	recordPrefix_  = "rrset/"   // rrset/<space>/<name>\x00<type>\x00<set id> -> zone.RecordSet
	changePrefix   = "change/"  // change/<id> -> changeRecord
	stagingPrefix  = "staging/" // staging/<space> -> "": a space an import is writing
	retiredPrefix  = "retired/" // retired/<space> -> "": a space no zone reads, to delete
)

func zoneKey(id string) string         { return zonePrefix + id }
func zoneNameKey(name string) string   { return zoneNamePrefix + name }
func callerRefKey(ref string) string   { return callerPrefix + ref }
func changeKey(id string) string       { return changePrefix + id }
func stagingKey(space string) string   { return stagingPrefix + space }
func retiredKey(space string) string   { return retiredPrefix + space }
func recordPrefix(space string) string { return recordPrefix_ + space + "/" }
func recordKey(space string, k zone.Key) string {
	return recordPrefix(space) + relKey(k)
}

// relKey is the part of a record set's key after its space's prefix.
func relKey(k zone.Key) string { return k.Name + "\x00" + k.Type + "\x00" + k.SetIdentifier }

// spaceZone returns the id of the zone a record space belongs to (or belonged to).
func spaceZone(space string) string {
	id, _, _ := strings.Cut(space, ".")
	return id
}

// zoneMeta is what the store keeps of a zone besides its record sets.
type zoneMeta struct {
	ID              string `json:"Id"`
	Name            string `json:"Name"`
	CallerReference string `json:"CallerReference"`
	Comment         string `json:"Comment,omitempty"`
	Count           int64  `json:"ResourceRecordSetCount"`
	// Records is the record space holding the zone's record sets; empty means the zone's id.
	Records string `json:"Records,omitempty"`
	// Switched is the revision that made Records the zone's space (0 for its id).
	Switched uint64 `json:"Switched,omitempty"`
}

// space is the record space holding the zone's record sets.
func (m zoneMeta) space() string {
	if m.Records != "" {
		return m.Records
	}
	return m.ID
}

// zone is the zone m describes, without its record sets.
func (m zoneMeta) zone() zone.Zone {
	return zone.Zone{ID: m.ID, Name: m.Name, CallerReference: m.CallerReference, Comment: m.Comment}
}

func (m zoneMeta) hostedZone() HostedZone {
	if m.ID == "" {
		return HostedZone{}
	}
	return HostedZone{Id: ZonePrefix + m.ID, Name: m.Name, CallerReference: m.CallerReference,
		Config: HostedZoneConfig{Comment: m.Comment}, ResourceRecordSetCount: m.Count}
}

// changeRecord is a change as stored: its info and the revision that committed it.
type changeRecord struct {
	ChangeInfo
	Revision uint64 `json:"Revision"`
}

func (c changeRecord) info(served uint64) ChangeInfo {
	i := c.ChangeInfo
	i.Id = ChangePrefix + i.Id
	i.Status = StatusPending
	if served >= c.Revision {
		i.Status = StatusInsync
	}
	return i
}

var errNoSuchZone = errors.New("no such zone")

func readMeta(r store.Reader, id string) (zoneMeta, error) {
	var m zoneMeta
	v, ok, err := r.Get(zoneKey(id))
	if err != nil {
		return m, err
	}
	if !ok {
		return m, fmt.Errorf("%w: %s", errNoSuchZone, id)
	}
	return m, decodeJSON(zoneKey(id), v, &m)
}

// resolveZone finds a zone by id (with or without "/hostedzone/") or by name.
func resolveZone(r store.Reader, ref string) (zoneMeta, error) {
	id := trimPrefix(ref, ZonePrefix)
	if id != "" && !strings.Contains(id, "/") {
		m, err := readMeta(r, id)
		if !errors.Is(err, errNoSuchZone) {
			return m, err
		}
	}
	if name, err := zone.CanonicalName(ref); err == nil {
		v, ok, err := r.Get(zoneNameKey(name))
		if err != nil {
			return zoneMeta{}, err
		}
		if ok {
			return readMeta(r, string(v))
		}
	}
	return zoneMeta{}, errorf(CodeNoSuchHostedZone, "no hosted zone found with id or name %q", ref)
}

func readZone(r store.Reader, m zoneMeta) (zone.Zone, error) {
	z := m.zone()
	z.RecordSets = make([]zone.RecordSet, 0, m.Count)
	err := r.Scan(recordPrefix(m.space()), func(k string, v []byte) error {
		var rs zone.RecordSet
		if err := decodeSet(k, v, &rs); err != nil {
			return err
		}
		z.RecordSets = append(z.RecordSets, rs)
		return nil
	})
	sort.Slice(z.RecordSets, func(i, j int) bool { return zone.Less(z.RecordSets[i], z.RecordSets[j]) })
	return z, err
}

func putJSON(tx store.Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("service: encode %s: %w", key, err)
	}
	return tx.Put(key, b)
}

func decodeJSON(key string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("service: stored value of %s is corrupt: %w", key, err)
	}
	return nil
}

func trimPrefix(id, prefix string) string {
	id = strings.TrimPrefix(id, prefix)
	return strings.TrimPrefix(id, strings.TrimPrefix(prefix, "/"))
}
