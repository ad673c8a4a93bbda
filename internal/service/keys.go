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

// The store's key layout. Every key of a zone's contents starts with the zone's id, so that a
// change event names the zones it touched.
const (
	zonePrefix     = "zone/"     // zone/<id> -> zoneMeta
	zoneNamePrefix = "zonename/" // zonename/<name> -> id
	callerPrefix   = "callerref/zone/"
	recordPrefix_  = "rrset/"  // rrset/<id>/<name>\x00<type>\x00<set id> -> zone.RecordSet
	changePrefix   = "change/" // change/<id> -> changeRecord
)

func zoneKey(id string) string       { return zonePrefix + id }
func zoneNameKey(name string) string { return zoneNamePrefix + name }
func callerRefKey(ref string) string { return callerPrefix + ref }
func changeKey(id string) string     { return changePrefix + id }
func recordPrefix(id string) string  { return recordPrefix_ + id + "/" }
func recordKey(id string, k zone.Key) string {
	return recordPrefix(id) + k.Name + "\x00" + k.Type + "\x00" + k.SetIdentifier
}

// zoneMeta is what the store keeps of a zone besides its record sets.
type zoneMeta struct {
	ID              string `json:"Id"`
	Name            string `json:"Name"`
	CallerReference string `json:"CallerReference"`
	Comment         string `json:"Comment,omitempty"`
	Count           int64  `json:"ResourceRecordSetCount"`
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
	err := r.Scan(recordPrefix(m.ID), func(k string, v []byte) error {
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
