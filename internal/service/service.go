// Package service implements failoverdns's operations (hosted zones, change batches, changes)
// over a store.Store, independent of any HTTP encoding: the native JSON API and the Route 53
// REST-XML facade both call it, so the rules live in one place.
package service

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// Options are the settings the service needs from the server configuration.
type Options struct {
	// Nameservers become the NS records of new zones (the first is the SOA MNAME).
	Nameservers []string
	// Hostmaster is the SOA RNAME of new zones; empty means "hostmaster.<zone>".
	Hostmaster string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// SyncWait bounds how long a change waits to be served before it is reported PENDING;
	// zero means 2 s.
	SyncWait time.Duration
	// Monitor reports live health check states; nil until the daemon runs checks.
	Monitor Monitor
	// ImportChunk is the most record sets an import writes, or deletes, per transaction (see
	// ImportZone); zero means DefaultImportChunk.
	ImportChunk int
}

// Service is failoverdns's operations over a Store. It is safe for concurrent use.
type Service struct {
	st     store.Store
	opts   Options
	mu     sync.Mutex // serialises writers, so a batch is planned against the state it commits to
	served revWaiter
	events revWaiter // the newest event's Seq
	// retired is the revision of the last commit that left a record space to delete (Sweeps).
	retired revWaiter
	lists   listOrder // of the zone listed last
}

// New returns a Service over st.
func New(st store.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SyncWait == 0 {
		opts.SyncWait = 2 * time.Second
	}
	if opts.ImportChunk <= 0 {
		opts.ImportChunk = DefaultImportChunk
	}
	return &Service{st: st, opts: opts, served: revWaiter{ch: make(chan struct{})}, events: revWaiter{ch: make(chan struct{})},
		retired: revWaiter{ch: make(chan struct{})}}
}

// HostedZone is a zone's description as Route 53 returns it.
type HostedZone struct {
	Id                     string           `json:"Id"`
	Name                   string           `json:"Name"`
	CallerReference        string           `json:"CallerReference"`
	Config                 HostedZoneConfig `json:"Config"`
	ResourceRecordSetCount int64            `json:"ResourceRecordSetCount"`
}

// HostedZoneConfig holds a zone's comment (failoverdns zones are never private).
type HostedZoneConfig struct {
	Comment     string `json:"Comment,omitempty"`
	PrivateZone bool   `json:"PrivateZone"`
}

// ChangeInfo is the status of a change, as Route 53 returns it.
type ChangeInfo struct {
	Id          string    `json:"Id"`
	Status      string    `json:"Status"`
	SubmittedAt time.Time `json:"SubmittedAt"`
	Comment     string    `json:"Comment,omitempty"`
}

// Change statuses.
const (
	StatusPending = "PENDING"
	StatusInsync  = "INSYNC"
)

// Route 53 id prefixes, accepted on input and used on output.
const (
	ZonePrefix   = "/hostedzone/"
	ChangePrefix = "/change/"
)

// CreateZone creates a hosted zone with its apex SOA and NS records.
func (s *Service) CreateZone(ctx context.Context, name, callerReference, comment string) (HostedZone, ChangeInfo, error) {
	if len(comment) > 256 {
		return HostedZone{}, ChangeInfo{}, errorf(CodeInvalidInput, "the comment is %d characters long; at most 256 are allowed", len(comment))
	}
	if len(callerReference) > 128 {
		return HostedZone{}, ChangeInfo{}, errorf(CodeInvalidInput, "the caller reference is %d characters long; at most 128 are allowed", len(callerReference))
	}
	canon, err := zone.CanonicalName(name)
	if err != nil || canon == "." {
		return HostedZone{}, ChangeInfo{}, errorf(CodeInvalidDomainName, "%q is not a valid zone name", name)
	}
	if callerReference == "" {
		callerReference = newID("R", 20)
	}
	z, err := zone.New(newID("Z", 20), canon, callerReference, comment, s.opts.Nameservers, s.opts.Hostmaster)
	if err != nil {
		return HostedZone{}, ChangeInfo{}, fromZoneError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	meta := zoneMeta{ID: z.ID, Name: z.Name, CallerReference: callerReference, Comment: comment, Count: int64(len(z.RecordSets))}
	change := s.newChange("create zone " + z.Name)
	rev, err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, ok, err := tx.Get(callerRefKey(callerReference)); err != nil {
			return err
		} else if ok {
			return errorf(CodeHostedZoneAlreadyExists, "a hosted zone has already been created with the caller reference %q", callerReference)
		}
		if _, ok, err := tx.Get(zoneNameKey(z.Name)); err != nil {
			return err
		} else if ok {
			return errorf(CodeConflictingDomainExists, "a hosted zone named %s already exists", z.Name)
		}
		if err := putJSON(tx, zoneKey(z.ID), meta); err != nil {
			return err
		}
		if err := tx.Put(zoneNameKey(z.Name), []byte(z.ID)); err != nil {
			return err
		}
		if err := tx.Put(callerRefKey(callerReference), []byte(z.ID)); err != nil {
			return err
		}
		for _, rs := range z.RecordSets {
			if err := putJSON(tx, recordKey(z.ID, rs.Key()), rs); err != nil {
				return err
			}
		}
		return s.putChange(tx, &change)
	})
	if err != nil {
		return HostedZone{}, ChangeInfo{}, wrapStore("create zone", err)
	}
	return meta.hostedZone(), s.settle(ctx, change, rev), nil
}

// ListZones returns every hosted zone in Route 53's ListHostedZonesByName order.
func (s *Service) ListZones(ctx context.Context) ([]HostedZone, error) {
	var out []HostedZone
	err := s.st.View(ctx, func(r store.Reader) error {
		return r.Scan(zoneNamePrefix, func(_ string, id []byte) error {
			m, err := readMeta(r, string(id))
			if err != nil {
				return err
			}
			out = append(out, m.hostedZone())
			return nil
		})
	})
	// Route 53's ListHostedZonesByName order: names compared with their labels reversed.
	slices.SortStableFunc(out, func(a, b HostedZone) int {
		return zone.CompareNames(a.Name, b.Name)
	})
	return out, wrapStore("list zones", err)
}

// GetZone returns the hosted zone named by ref: its id (with or without "/hostedzone/") or its name.
func (s *Service) GetZone(ctx context.Context, ref string) (HostedZone, error) {
	var m zoneMeta
	err := s.st.View(ctx, func(r store.Reader) (err error) {
		m, err = resolveZone(r, ref)
		return err
	})
	return m.hostedZone(), wrapStore("get zone", err)
}

// Zone returns the hosted zone named by ref with all of its record sets, in Route 53's order.
func (s *Service) Zone(ctx context.Context, ref string) (zone.Zone, error) {
	var z zone.Zone
	err := s.st.View(ctx, func(r store.Reader) error {
		m, err := resolveZone(r, ref)
		if err != nil {
			return err
		}
		z, err = readZone(r, m)
		return err
	})
	return z, wrapStore("read zone", err)
}

// Zones returns the named zones with their record sets (every zone when ids is nil); a zone that
// no longer exists is left out.
func (s *Service) Zones(ctx context.Context, ids []string) ([]zone.Zone, error) {
	var out []zone.Zone
	err := s.st.View(ctx, func(r store.Reader) error {
		if ids == nil {
			if err := r.Scan(zonePrefix, func(k string, _ []byte) error {
				ids = append(ids, k[len(zonePrefix):])
				return nil
			}); err != nil {
				return err
			}
		}
		for _, id := range ids {
			m, err := readMeta(r, id)
			if errors.Is(err, errNoSuchZone) {
				continue
			}
			if err != nil {
				return err
			}
			z, err := readZone(r, m)
			if err != nil {
				return err
			}
			out = append(out, z)
		}
		return nil
	})
	return out, wrapStore("read zones", err)
}

// UpdateZoneComment sets a zone's comment.
func (s *Service) UpdateZoneComment(ctx context.Context, ref, comment string) (HostedZone, error) {
	if len(comment) > 256 {
		return HostedZone{}, errorf(CodeInvalidInput, "the comment is %d characters long; at most 256 are allowed", len(comment))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var m zoneMeta
	_, err := s.st.Update(ctx, func(tx store.Tx) (err error) {
		if m, err = resolveZone(tx, ref); err != nil {
			return err
		}
		m.Comment = comment
		return putJSON(tx, zoneKey(m.ID), m)
	})
	return m.hostedZone(), wrapStore("update zone comment", err)
}

// DeleteZone deletes a zone that holds nothing but its apex SOA and NS records.
func (s *Service) DeleteZone(ctx context.Context, ref string) (ChangeInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var change ChangeInfo
	rev, err := s.st.Update(ctx, func(tx store.Tx) error {
		m, err := resolveZone(tx, ref)
		if err != nil {
			return err
		}
		var keys []string
		err = tx.Scan(recordPrefix(m.space()), func(k string, v []byte) error {
			var rs zone.RecordSet
			if err := decodeSet(k, v, &rs); err != nil {
				return err
			}
			if rs.Name != m.Name || (rs.Type != "SOA" && rs.Type != "NS") {
				return errorf(CodeHostedZoneNotEmpty, "the hosted zone %s contains resource records that are not SOA or NS records (first: %s %s); delete them first", m.Name, rs.Name, rs.Type)
			}
			keys = append(keys, k)
			return nil
		})
		if err != nil {
			return err
		}
		keys = append(keys, zoneKey(m.ID), zoneNameKey(m.Name))
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return err
			}
		}
		change = s.newChange("delete zone " + m.Name)
		return s.putChange(tx, &change)
	})
	if err != nil {
		return ChangeInfo{}, wrapStore("delete zone", err)
	}
	return s.settle(ctx, change, rev), nil
}

// ChangeRecordSets validates a Route 53 change batch against the zone and applies it atomically:
// all of it, or nothing and an error listing every reason. The batch is planned and written in
// one transaction that reads only the names the batch needs, not the whole zone.
func (s *Service) ChangeRecordSets(ctx context.Context, ref string, batch zone.ChangeBatch) (ChangeInfo, error) {
	if len(batch.Comment) > 256 {
		return ChangeInfo{}, errorf(CodeInvalidInput, "the comment is %d characters long; at most 256 are allowed", len(batch.Comment))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	change := s.newChange(batch.Comment)
	rev, err := s.st.Update(ctx, func(tx store.Tx) error {
		m, err := resolveZone(tx, ref)
		if err != nil {
			return err
		}
		v := newTxView(tx, m)
		diff, err := zone.PlanView(v, batch)
		if err != nil {
			return planError(err)
		}
		if err := checkRecordChecks(tx, diff.Put); err != nil {
			return err
		}
		// The zone's count: the diff is minimal, but whether a key exists is checked, not assumed.
		count := m.Count
		for _, k := range diff.Delete {
			if ok, err := v.exists(k); err != nil {
				return err
			} else if ok {
				count--
			}
		}
		for _, rs := range diff.Put {
			if ok, err := v.exists(rs.Key()); err != nil {
				return err
			} else if !ok {
				count++
			}
		}
		for _, k := range diff.Delete {
			if err := tx.Delete(recordKey(m.space(), k)); err != nil {
				return err
			}
		}
		for _, rs := range diff.Put {
			if err := putJSON(tx, recordKey(m.space(), rs.Key()), rs); err != nil {
				return err
			}
		}
		return s.commit(tx, m, count, &change)
	})
	if err != nil {
		return ChangeInfo{}, wrapStore("change record sets", err)
	}
	return s.settle(ctx, change, rev), nil
}

// commit ends a write of a zone's record sets: the zone's record set count when it changed, and
// the change.
func (s *Service) commit(tx store.Tx, m zoneMeta, count int64, change *ChangeInfo) error {
	if count != m.Count {
		m.Count = count
		if err := putJSON(tx, zoneKey(m.ID), m); err != nil {
			return err
		}
	}
	return s.putChange(tx, change)
}

// planError turns the zone package's verdicts (Plan's, ParseMasterFile's) into service errors and
// passes other errors (the store's, a reader's) through.
func planError(err error) error {
	var icb *zone.InvalidChangeBatchError
	var ii *zone.InvalidInputError
	if errors.As(err, &icb) || errors.As(err, &ii) {
		return fromZoneError(err)
	}
	return err
}

// GetChange returns a change's status: INSYNC once this server answers with it.
func (s *Service) GetChange(ctx context.Context, id string) (ChangeInfo, error) {
	id = trimPrefix(id, ChangePrefix)
	var rec changeRecord
	err := s.st.View(ctx, func(r store.Reader) error {
		v, ok, err := r.Get(changeKey(id))
		if err != nil {
			return err
		}
		if !ok {
			return errorf(CodeNoSuchChange, "no change with id %s", id)
		}
		return decodeJSON(changeKey(id), v, &rec)
	})
	if err != nil {
		return ChangeInfo{}, wrapStore("get change", err)
	}
	return rec.info(s.served.get()), nil
}

// SetServed records that DNS now answers from the state of store revision rev (or later).
func (s *Service) SetServed(rev uint64) { s.served.set(rev) }

func (s *Service) newChange(comment string) ChangeInfo {
	return ChangeInfo{Id: newID("C", 20), Status: StatusPending, SubmittedAt: s.opts.Now().UTC().Truncate(time.Millisecond), Comment: comment}
}

// putChange stores the change record with the revision of the commit it is part of.
func (s *Service) putChange(tx store.Tx, c *ChangeInfo) error {
	return putJSON(tx, changeKey(c.Id), changeRecord{ChangeInfo: *c, Revision: tx.Revision()})
}

// settle waits, up to SyncWait, until the commit at rev is served, and returns the change's status.
func (s *Service) settle(ctx context.Context, c ChangeInfo, rev uint64) ChangeInfo {
	wctx, cancel := context.WithTimeout(ctx, s.opts.SyncWait)
	defer cancel()
	if s.served.wait(wctx, rev) {
		c.Status = StatusInsync
	}
	c.Id = ChangePrefix + c.Id
	return c
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix followed by n random upper-case letters and digits, like Route 53's ids.
func newID(prefix string, n int) string {
	b := randomBytes(n)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return b
}

// waitServed waits, up to SyncWait, until DNS answers from the current state, so that a caller
// who changed health checks sees the effect when the call returns. It never fails the call.
func (s *Service) waitServed(ctx context.Context) error {
	rev, err := s.st.Revision(ctx)
	if err != nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, s.opts.SyncWait)
	defer cancel()
	s.served.wait(wctx, rev)
	return nil
}

// revWaiter lets callers wait until a revision has been served.
type revWaiter struct {
	mu  sync.Mutex
	rev uint64
	ch  chan struct{} // closed and replaced on every advance
}

func (w *revWaiter) set(rev uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rev > w.rev {
		w.rev = rev
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

func (w *revWaiter) get() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rev
}

func (w *revWaiter) wait(ctx context.Context, rev uint64) bool {
	for {
		w.mu.Lock()
		cur, ch := w.rev, w.ch
		w.mu.Unlock()
		if cur >= rev {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}
