package service

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// HealthCheck is a health check as Route 53 returns it, with failoverdns's forced state.
type HealthCheck struct {
	Id                 string        `json:"Id"`
	CallerReference    string        `json:"CallerReference"`
	HealthCheckConfig  health.Config `json:"HealthCheckConfig"`
	HealthCheckVersion int64         `json:"HealthCheckVersion"`
	// Force is the operator's forced state, persisted, or nil.
	Force *health.Force `json:"Force,omitempty"`
}

// Monitor reports the live state of health checks (the daemon's health.Checker).
type Monitor interface {
	Status(id string) (health.Status, bool)
}

const (
	checkPrefix       = "healthcheck/"
	checkCallerPrefix = "callerref/healthcheck/"
)

func checkKey(id string) string        { return checkPrefix + id }
func checkCallerKey(ref string) string { return checkCallerPrefix + ref }

// CheckIDs returns the ids of the health checks the given keys touch.
func CheckIDs(keys []string) []string {
	var ids []string
	for _, k := range keys {
		if id, ok := strings.CutPrefix(k, checkPrefix); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// CreateHealthCheck creates a health check. A repeated caller reference with the same
// configuration returns the existing check (created is false), as Route 53 does.
func (s *Service) CreateHealthCheck(ctx context.Context, callerReference string, cfg health.Config) (hc HealthCheck, created bool, err error) {
	if callerReference == "" || len(callerReference) > 64 {
		return hc, false, errorf(CodeInvalidInput, "CallerReference must be 1 to 64 characters long")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return hc, false, healthConfigError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.st.Update(ctx, func(tx store.Tx) error {
		if v, ok, err := tx.Get(checkCallerKey(callerReference)); err != nil {
			return err
		} else if ok {
			old, err := readCheck(tx, string(v))
			if err == nil && reflect.DeepEqual(old.HealthCheckConfig, cfg) {
				hc = old
				return nil
			}
			return errorf(CodeHealthCheckAlreadyExists, "a health check has already been created with the caller reference %q and a different configuration (or was deleted)", callerReference)
		}
		if err := checkChildren(tx, "", cfg); err != nil {
			return err
		}
		hc = HealthCheck{Id: newUUID(), CallerReference: callerReference, HealthCheckConfig: cfg, HealthCheckVersion: 1}
		created = true
		if err := tx.Put(checkCallerKey(callerReference), []byte(hc.Id)); err != nil {
			return err
		}
		return putJSON(tx, checkKey(hc.Id), hc)
	})
	if err != nil {
		return HealthCheck{}, false, wrapStore("create health check", err)
	}
	return hc, created, s.waitServed(ctx)
}

// GetHealthCheck returns the health check with the given id or caller reference.
func (s *Service) GetHealthCheck(ctx context.Context, id string) (HealthCheck, error) {
	var hc HealthCheck
	err := s.st.View(ctx, func(r store.Reader) (err error) {
		hc, err = resolveCheck(r, id)
		return err
	})
	return hc, wrapStore("get health check", err)
}

// ListHealthChecks returns every health check, ordered by id.
func (s *Service) ListHealthChecks(ctx context.Context) ([]HealthCheck, error) {
	var out []HealthCheck
	err := s.st.View(ctx, func(r store.Reader) error {
		return r.Scan(checkPrefix, func(k string, v []byte) error {
			var hc HealthCheck
			if err := decodeJSON(k, v, &hc); err != nil {
				return err
			}
			out = append(out, hc)
			return nil
		})
	})
	return out, wrapStore("list health checks", err)
}

// UpdateHealthCheck changes a check's configuration with edit. A non-zero version must equal the
// check's HealthCheckVersion (Route 53's optimistic concurrency); the version then goes up by one.
// The type cannot change, nor can an address-based check become name-based or the reverse.
func (s *Service) UpdateHealthCheck(ctx context.Context, ref string, version int64, edit func(*health.Config) error) (HealthCheck, error) {
	return s.editCheck(ctx, ref, "update health check", func(tx store.Tx, hc *HealthCheck) error {
		if version != 0 && version != hc.HealthCheckVersion {
			return errorf(CodeHealthCheckVersionMismatch, "the health check %s is at version %d, not %d: read it again and retry", hc.Id, hc.HealthCheckVersion, version)
		}
		cfg := hc.HealthCheckConfig
		cfg.ChildHealthChecks = slices.Clone(cfg.ChildHealthChecks)
		if err := edit(&cfg); err != nil {
			return err
		}
		if cfg.Type != hc.HealthCheckConfig.Type {
			return errorf(CodeInvalidInput, "the Type of a health check cannot be changed (it is %s)", hc.HealthCheckConfig.Type)
		}
		if (cfg.IPAddress == "") != (hc.HealthCheckConfig.IPAddress == "") {
			return errorf(CodeInvalidInput, "an IPAddress cannot be added to or removed from an existing health check; create a new one")
		}
		cfg.SetDefaults()
		if err := cfg.Validate(); err != nil {
			return healthConfigError(err)
		}
		if err := checkChildren(tx, hc.Id, cfg); err != nil {
			return err
		}
		hc.HealthCheckConfig = cfg
		hc.HealthCheckVersion++
		return nil
	})
}

// ForceHealthCheck pins the check's routing state (f non-nil) or clears a forced state (f nil).
func (s *Service) ForceHealthCheck(ctx context.Context, ref string, f *health.Force) (HealthCheck, error) {
	if f != nil && !f.Until.IsZero() && !f.Until.After(s.opts.Now()) {
		return HealthCheck{}, errorf(CodeInvalidInput, "the forced state would expire at %s, which is not in the future", f.Until.Format(time.RFC3339))
	}
	return s.editCheck(ctx, ref, "force health check", func(_ store.Tx, hc *HealthCheck) error {
		hc.Force = f
		return nil
	})
}

// editCheck changes the check named by ref (id or caller reference) with edit and stores it, in
// one transaction, then waits until DNS answers from the new state.
func (s *Service) editCheck(ctx context.Context, ref, op string, edit func(store.Tx, *HealthCheck) error) (HealthCheck, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hc HealthCheck
	_, err := s.st.Update(ctx, func(tx store.Tx) (err error) {
		if hc, err = resolveCheck(tx, ref); err != nil {
			return err
		}
		if err := edit(tx, &hc); err != nil {
			return err
		}
		return putJSON(tx, checkKey(hc.Id), hc)
	})
	if err != nil {
		return HealthCheck{}, wrapStore(op, err)
	}
	return hc, s.waitServed(ctx)
}

// DeleteHealthCheck deletes a check that no record set and no CALCULATED check uses. (Route 53
// deletes checks in use and leaves their records' fate "unpredictable"; failoverdns refuses.)
func (s *Service) DeleteHealthCheck(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		hc, err := resolveCheck(tx, id)
		if err != nil {
			return err
		}
		id = hc.Id
		if err := tx.Scan(checkPrefix, func(k string, v []byte) error {
			var hc HealthCheck
			if err := decodeJSON(k, v, &hc); err != nil {
				return err
			}
			if slices.Contains(hc.HealthCheckConfig.ChildHealthChecks, id) {
				return errorf(CodeHealthCheckInUse, "the health check %s is a child of the CALCULATED health check %s; remove it from there first", id, hc.Id)
			}
			return nil
		}); err != nil {
			return err
		}
		// The record sets of every zone (not those of an import still being written, nor the
		// old copy of a zone being deleted).
		if err := tx.Scan(zonePrefix, func(k string, v []byte) error {
			var m zoneMeta
			if err := decodeJSON(k, v, &m); err != nil {
				return err
			}
			return tx.Scan(recordPrefix(m.space()), func(k string, v []byte) error {
				var rs zone.RecordSet
				if err := decodeSet(k, v, &rs); err != nil {
					return err
				}
				if rs.HealthCheckId == id {
					return errorf(CodeHealthCheckInUse, "the health check %s is used by the record set [name='%s', type='%s', set identifier='%s']; delete or change that record set first", id, rs.Name, rs.Type, rs.SetIdentifier)
				}
				return nil
			})
		}); err != nil {
			return err
		}
		return tx.Delete(checkKey(id))
	})
	if err != nil {
		return wrapStore("delete health check", err)
	}
	return s.waitServed(ctx)
}

// HealthCheckStatus returns the live state of the check id.
func (s *Service) HealthCheckStatus(ctx context.Context, id string) (health.Status, error) {
	hc, err := s.GetHealthCheck(ctx, id)
	if err != nil {
		return health.Status{}, err
	}
	id = hc.Id
	if s.opts.Monitor != nil {
		if st, ok := s.opts.Monitor.Status(id); ok {
			return st, nil
		}
	}
	return health.Status{}, errorf(CodeInternal, "the health check %s is not running yet; try again in a moment", id)
}

// checkRecordChecks fails unless every health check the record sets name exists.
func checkRecordChecks(r store.Reader, sets []zone.RecordSet) error {
	seen := map[string]bool{}
	for _, rs := range sets {
		if rs.HealthCheckId == "" || seen[rs.HealthCheckId] {
			continue
		}
		seen[rs.HealthCheckId] = true
		if _, ok, err := r.Get(checkKey(rs.HealthCheckId)); err != nil {
			return err
		} else if !ok {
			return errorf(CodeNoSuchHealthCheck, "the record set [name='%s', type='%s'] names the health check %s, which does not exist; create it first with 'failoverdns check create'", rs.Name, rs.Type, rs.HealthCheckId)
		}
	}
	return nil
}

// checkChildren fails unless every child of a CALCULATED check exists and is not itself CALCULATED.
func checkChildren(r store.Reader, self string, cfg health.Config) error {
	for _, child := range cfg.ChildHealthChecks {
		if child == self {
			return errorf(CodeInvalidInput, "the CALCULATED health check %s cannot be its own child", self)
		}
		c, err := readCheck(r, child)
		if err != nil {
			var se *Error
			if errors.As(err, &se) {
				return errorf(CodeNoSuchHealthCheck, "the child health check %s does not exist", child)
			}
			return err
		}
		if c.HealthCheckConfig.Type == health.TypeCalculated {
			return errorf(CodeInvalidInput, "the child health check %s is CALCULATED; a CALCULATED check cannot have CALCULATED children", child)
		}
	}
	return nil
}

// resolveCheck finds a check by id or, failing that, by its caller reference (a name people
// remember, such as "primary-web").
func resolveCheck(r store.Reader, ref string) (HealthCheck, error) {
	hc, err := readCheck(r, ref)
	var se *Error
	if !errors.As(err, &se) || se.Code != CodeNoSuchHealthCheck {
		return hc, err
	}
	v, ok, gerr := r.Get(checkCallerKey(ref))
	if gerr != nil {
		return hc, gerr
	}
	if !ok {
		return hc, errorf(CodeNoSuchHealthCheck, "no health check with id or caller reference %q", ref)
	}
	return readCheck(r, string(v))
}

func readCheck(r store.Reader, id string) (HealthCheck, error) {
	var hc HealthCheck
	v, ok, err := r.Get(checkKey(id))
	if err != nil {
		return hc, err
	}
	if !ok {
		return hc, errorf(CodeNoSuchHealthCheck, "no health check with id %s", id)
	}
	return hc, decodeJSON(checkKey(id), v, &hc)
}

func healthConfigError(err error) error {
	var ce *health.ConfigError
	if errors.As(err, &ce) {
		e := &Error{Code: CodeInvalidInput, Message: ce.Error()}
		for _, p := range ce.Problems {
			e.Messages = append(e.Messages, p.Field+": "+p.Message)
		}
		return e
	}
	return errorf(CodeInvalidInput, "%v", err)
}

// newUUID returns a random (version 4) UUID, the form of Route 53's health check ids.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}
