package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// EventMaintenance is a step of a planned maintenance window.
const EventMaintenance = "maintenance"

// CodeNoSuchMaintenanceWindow is the error code of an unknown maintenance window id.
const CodeNoSuchMaintenanceWindow = "NoSuchMaintenanceWindow"

// States of a maintenance window, in the order they are reached (Cancelled and Failed end it
// early).
const (
	WindowScheduled   = "scheduled"     // nothing changed yet
	WindowTTLLowered  = "ttl-lowered"   // the record's TTL is lowered ahead of the start
	WindowActive      = "active"        // the maintenance values are served
	WindowSwitchedBak = "switched-back" // the original values are served again, TTL still low
	WindowDone        = "done"          // the TTL is restored
	WindowCancelled   = "cancelled"     // cancelled before any step
	WindowFailed      = "failed"        // a step could not be taken (the record set is gone)
)

// Steps of a maintenance window; each is an event whose Cause is the step.
const (
	StepLowerTTL   = "lower-ttl"
	StepSwitch     = "switch"
	StepSwitchBack = "switch-back"
	StepRestoreTTL = "restore-ttl"
)

var windowPhases = []string{WindowScheduled, WindowTTLLowered, WindowActive, WindowSwitchedBak, WindowDone}
var phaseSteps = []string{"", StepLowerTTL, StepSwitch, StepSwitchBack, StepRestoreTTL}

// DefaultTTLDuring is the TTL served during a window when none is given (or the record's own TTL
// when that is lower).
const DefaultTTLDuring = 60

// MaintenanceRequest asks for a maintenance window on a simple record set.
type MaintenanceRequest struct {
	// Zone is the hosted zone's id or name.
	Zone string `json:"Zone"`
	// Name is the record set's name (relative names are taken within the zone); Type defaults
	// to A.
	Name string `json:"Name"`
	Type string `json:"Type,omitempty"`
	// To are the values served during the window.
	To []string `json:"To"`
	// Start and End bound the window.
	Start time.Time `json:"Start"`
	End   time.Time `json:"End"`
	// TTLDuring is the TTL served from before the start until after the end; nil means
	// DefaultTTLDuring, or the record's TTL when lower.
	TTLDuring *int64 `json:"TTLDuring,omitempty"`
	Comment   string `json:"Comment,omitempty"`
}

// MaintenanceWindow is a planned switch of a simple record set to other values for a while. Its
// steps are taken at fixed times derived from the window and the record's TTL:
//
//   - LowerTTLAt (Start - TTL): the TTL becomes TTLDuring, so that at Start no cache still holds
//     the original answer for longer than TTLDuring;
//   - Start: the values become To (one UPSERT: resolvers see the old or the new set, never none);
//   - End: the values become the original ones again;
//   - RestoreTTLAt (End + TTLDuring): the TTL becomes TTL again, once no cache holds an answer
//     with the lowered TTL.
//
// The state is stored and each step is idempotent: a server that was down when a step fell due
// takes the step that the clock calls for when it comes back.
type MaintenanceWindow struct {
	Id           string    `json:"Id"`
	HostedZoneId string    `json:"HostedZoneId"`
	Zone         string    `json:"Zone"`
	Name         string    `json:"Name"`
	Type         string    `json:"Type"`
	To           []string  `json:"To"`
	Original     []string  `json:"Original"`
	TTL          int64     `json:"TTL"`
	TTLDuring    int64     `json:"TTLDuring"`
	Start        time.Time `json:"Start"`
	End          time.Time `json:"End"`
	LowerTTLAt   time.Time `json:"LowerTTLAt"`
	RestoreTTLAt time.Time `json:"RestoreTTLAt"`
	State        string    `json:"State"`
	Comment      string    `json:"Comment,omitempty"`
	Created      time.Time `json:"Created"`
	// Cancelled is when the window was cancelled, if it was.
	Cancelled time.Time `json:"Cancelled,omitzero"`
	// Steps are the steps taken, in order.
	Steps []MaintenanceStep `json:"Steps"`
	// Warnings are said when the window is created, e.g. that the TTL cannot be lowered early
	// enough.
	Warnings []string `json:"Warnings,omitempty"`
}

// MaintenanceStep is one step taken.
type MaintenanceStep struct {
	Step     string    `json:"Step"`
	Time     time.Time `json:"Time"`
	ChangeId string    `json:"ChangeId,omitempty"`
	Note     string    `json:"Note,omitempty"`
}

const maintenancePrefix = "maintenance/"

func maintenanceKey(id string) string { return maintenancePrefix + id }

// MaintenanceTouched reports whether any of the keys of a store event is a maintenance window.
func MaintenanceTouched(keys []string) bool {
	return slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, maintenancePrefix) })
}

func (w *MaintenanceWindow) terminal() bool {
	return w.State == WindowDone || w.State == WindowCancelled || w.State == WindowFailed
}

func phaseOf(state string) int { return slices.Index(windowPhases, state) }

// phaseAt is the phase the clock calls for at now.
func (w *MaintenanceWindow) phaseAt(now time.Time) int {
	switch {
	case !now.Before(w.RestoreTTLAt):
		return 4
	case !now.Before(w.End):
		return 3
	case !now.Before(w.Start):
		return 2
	case !now.Before(w.LowerTTLAt):
		return 1
	}
	return 0
}

// nextAt is when the next step after phase falls due.
func (w *MaintenanceWindow) nextAt(phase int) time.Time {
	return []time.Time{w.LowerTTLAt, w.Start, w.End, w.RestoreTTLAt, {}}[phase]
}

// desired returns the values and TTL of the record set in phase p.
func (w *MaintenanceWindow) desired(p int) ([]string, int64) {
	switch p {
	case 1, 3:
		return w.Original, w.TTLDuring
	case 2:
		return w.To, w.TTLDuring
	}
	return w.Original, w.TTL
}

func (w *MaintenanceWindow) plan() {
	w.LowerTTLAt = w.Start
	if w.TTL > w.TTLDuring {
		w.LowerTTLAt = w.Start.Add(-time.Duration(w.TTL) * time.Second)
	}
	w.RestoreTTLAt = w.End.Add(time.Duration(w.TTLDuring) * time.Second)
}

// CreateMaintenance schedules a maintenance window. It refuses a window that ends before it
// starts or starts in the past, a record set that does not exist or is not a simple one (routed
// and alias sets are switched with forced health states instead), and a window whose span (from
// lowering the TTL to restoring it) overlaps another one's on the same name and type.
func (s *Service) CreateMaintenance(ctx context.Context, req MaintenanceRequest) (MaintenanceWindow, error) {
	now := s.opts.Now().UTC()
	bad := func(format string, args ...any) (MaintenanceWindow, error) {
		return MaintenanceWindow{}, errorf(CodeInvalidInput, format, args...)
	}
	if req.Start.IsZero() || req.End.IsZero() {
		return bad("a maintenance window needs a Start and an End")
	}
	if !req.End.After(req.Start) {
		return bad("the window ends (%s) before it starts (%s); End must be after Start", fmtTime(req.End), fmtTime(req.Start))
	}
	if req.Start.Before(now) {
		return bad("the window starts at %s, which is in the past (the server's time is %s)", fmtTime(req.Start), fmtTime(now))
	}
	if len(req.To) == 0 {
		return bad("the window has no values to switch to (To)")
	}
	if len(req.Comment) > 256 {
		return bad("the comment is %d characters long; at most 256 are allowed", len(req.Comment))
	}
	hz, err := s.GetZone(ctx, req.Zone)
	if err != nil {
		return MaintenanceWindow{}, err
	}
	typ := strings.ToUpper(req.Type)
	if typ == "" {
		typ = "A"
	}
	name, err := zone.CanonicalName(req.Name)
	if err != nil || req.Name == "" {
		return bad("%q is not a valid record name", req.Name)
	}
	if name != hz.Name && !strings.HasSuffix(name, "."+hz.Name) && !strings.HasSuffix(req.Name, ".") {
		name = strings.TrimSuffix(name, ".") + "." + hz.Name
	}
	z, err := s.zoneAt(ctx, hz.Id, name)
	if err != nil {
		return MaintenanceWindow{}, err
	}
	rs, err := simpleSet(&z, name, typ)
	if err != nil {
		return MaintenanceWindow{}, err
	}
	w := MaintenanceWindow{Id: newID("M", 14), HostedZoneId: z.ID, Zone: z.Name, Name: name, Type: typ,
		Original: values(rs), TTL: *rs.TTL, Start: req.Start.UTC(), End: req.End.UTC(), State: WindowScheduled,
		Comment: req.Comment, Created: now, Steps: []MaintenanceStep{}}
	w.TTLDuring = min(w.TTL, DefaultTTLDuring)
	if req.TTLDuring != nil {
		w.TTLDuring = *req.TTLDuring
		if w.TTLDuring < 0 || w.TTLDuring > w.TTL {
			return bad("TTLDuring %d: must be from 0 to the record's TTL (%d)", w.TTLDuring, w.TTL)
		}
	}
	// The values must make a valid record set: plan the switch without applying it.
	next := rs
	next.ResourceRecords = records(req.To)
	diff, err := zone.Plan(&z, zone.ChangeBatch{Changes: []zone.Change{{Action: zone.ActionUpsert, ResourceRecordSet: next}}})
	if err != nil {
		return MaintenanceWindow{}, fromZoneError(err)
	}
	for _, put := range diff.Put {
		if put.Key() == rs.Key() {
			w.To = values(put)
		}
	}
	w.plan()
	if w.LowerTTLAt.Before(now) {
		w.Warnings = append(w.Warnings, fmt.Sprintf("the record's TTL is %d s but the window starts in %v: caches may serve the original values with their old TTL until %s",
			w.TTL, w.Start.Sub(now).Round(time.Second), fmtTime(now.Add(time.Duration(w.TTL)*time.Second))))
	}
	_, err = s.st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Scan(maintenancePrefix, func(k string, v []byte) error {
			var o MaintenanceWindow
			if err := decodeJSON(k, v, &o); err != nil {
				return err
			}
			if o.terminal() || o.HostedZoneId != w.HostedZoneId || o.Name != w.Name || o.Type != w.Type {
				return nil
			}
			if w.LowerTTLAt.Before(o.RestoreTTLAt) && o.LowerTTLAt.Before(w.RestoreTTLAt) {
				return errorf(CodeInvalidInput, "the window overlaps maintenance window %s on %s %s, which changes the record from %s to %s (start %s, end %s); cancel it or pick another time",
					o.Id, o.Name, o.Type, fmtTime(o.LowerTTLAt), fmtTime(o.RestoreTTLAt), fmtTime(o.Start), fmtTime(o.End))
			}
			return nil
		}); err != nil {
			return err
		}
		return putJSON(tx, maintenanceKey(w.Id), w)
	})
	if err != nil {
		return MaintenanceWindow{}, wrapStore("create maintenance window", err)
	}
	return w, nil
}

// simpleSet finds the simple record set name/typ of z, or says why there is none.
func simpleSet(z *zone.Zone, name, typ string) (zone.RecordSet, error) {
	routed := false
	for _, rs := range z.RecordSets {
		if rs.Name != name || rs.Type != typ {
			continue
		}
		if rs.SetIdentifier == "" && rs.AliasTarget == nil && rs.TTL != nil {
			return rs, nil
		}
		routed = true
	}
	if routed {
		return zone.RecordSet{}, errorf(CodeInvalidInput, "%s %s is a routed or alias record set: maintenance windows switch simple record sets only (force the health state of a routed set's check instead)", name, typ)
	}
	if typ == "SOA" || typ == "NS" && name == z.Name {
		return zone.RecordSet{}, errorf(CodeInvalidInput, "the zone's apex %s cannot be switched by a maintenance window", typ)
	}
	return zone.RecordSet{}, errorf(CodeInvalidInput, "there is no %s record set named %s in the zone %s", typ, name, z.Name)
}

func values(rs zone.RecordSet) []string {
	out := make([]string, 0, len(rs.ResourceRecords))
	for _, r := range rs.ResourceRecords {
		out = append(out, r.Value)
	}
	return out
}

func records(vals []string) []zone.ResourceRecord {
	out := make([]zone.ResourceRecord, 0, len(vals))
	for _, v := range vals {
		out = append(out, zone.ResourceRecord{Value: strings.TrimSpace(v)})
	}
	return out
}

func fmtTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ListMaintenance returns every maintenance window, by start time.
func (s *Service) ListMaintenance(ctx context.Context) ([]MaintenanceWindow, error) {
	var out []MaintenanceWindow
	err := s.st.View(ctx, func(r store.Reader) error {
		return r.Scan(maintenancePrefix, func(k string, v []byte) error {
			var w MaintenanceWindow
			if err := decodeJSON(k, v, &w); err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, wrapStore("list maintenance windows", err)
}

// GetMaintenance returns the maintenance window id.
func (s *Service) GetMaintenance(ctx context.Context, id string) (MaintenanceWindow, error) {
	var w MaintenanceWindow
	err := s.st.View(ctx, func(r store.Reader) error {
		var err error
		w, err = readWindow(r, id)
		return err
	})
	return w, wrapStore("get maintenance window", err)
}

func readWindow(r store.Reader, id string) (MaintenanceWindow, error) {
	var w MaintenanceWindow
	v, ok, err := r.Get(maintenanceKey(id))
	if err != nil {
		return w, err
	}
	if !ok || id == "" {
		return w, errorf(CodeNoSuchMaintenanceWindow, "no maintenance window with id %q", id)
	}
	return w, decodeJSON(maintenanceKey(id), v, &w)
}

// CancelMaintenance cancels a window. One that has not begun (nothing changed yet) is simply
// cancelled; one under way ends now: its values switch back and its TTL is restored as at a
// normal end, so the record is never left in the window's state.
func (s *Service) CancelMaintenance(ctx context.Context, id string) (MaintenanceWindow, error) {
	now := s.opts.Now().UTC()
	var w MaintenanceWindow
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if w, err = readWindow(tx, id); err != nil {
			return err
		}
		if w.terminal() || !w.Cancelled.IsZero() {
			return errorf(CodeInvalidInput, "maintenance window %s is already %s", id, map[bool]string{true: "cancelled", false: w.State}[!w.Cancelled.IsZero()])
		}
		w.Cancelled = now
		if w.State == WindowScheduled {
			w.State = WindowCancelled
		} else if now.Before(w.End) {
			w.End = now
			w.Start = minTime(w.Start, w.End)
			w.RestoreTTLAt = w.End.Add(time.Duration(w.TTLDuring) * time.Second)
		}
		return putJSON(tx, maintenanceKey(id), w)
	})
	return w, wrapStore("cancel maintenance window", err)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// RunMaintenance takes every step of every window that the clock calls for, and returns an
// event per step and when the next step falls due (zero when none is planned). A step whose
// time has passed while the server was down is taken now; steps skipped over (a window that
// began and ended while the server was down) are not replayed: the record set is brought to the
// state the clock calls for, in one change.
func (s *Service) RunMaintenance(ctx context.Context) (events []Event, next time.Time, err error) {
	windows, err := s.ListMaintenance(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.opts.Now().UTC()
	for i := range windows {
		w := &windows[i]
		if w.terminal() {
			continue
		}
		cur := phaseOf(w.State)
		if want := w.phaseAt(now); want > cur {
			ev, err := s.takeStep(ctx, w, want, now)
			if err != nil {
				return events, now.Add(5 * time.Second), fmt.Errorf("service: maintenance window %s: %w", w.Id, err)
			}
			events = append(events, ev)
			cur = want
		}
		if w.State == WindowFailed || cur >= 4 {
			continue
		}
		if at := w.nextAt(cur); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return events, next, nil
}

// takeStep brings the record set of w to phase p with one UPSERT and records the step.
func (s *Service) takeStep(ctx context.Context, w *MaintenanceWindow, p int, now time.Time) (Event, error) {
	step := phaseSteps[p]
	subject := w.Name + " " + w.Type
	ev := Event{Time: now, Kind: EventMaintenance, Subject: subject, Cause: step}
	z, err := s.zoneAt(ctx, w.HostedZoneId, w.Name)
	var rs zone.RecordSet
	if err == nil {
		rs, err = simpleSet(&z, w.Name, w.Type)
	}
	if err != nil {
		var se *Error
		if !errors.As(err, &se) {
			return ev, err
		}
		// The zone or the record set is gone: nothing to switch, and nothing to switch back.
		ev.Before, ev.After = w.State, WindowFailed
		ev.Reason = fmt.Sprintf("window %s: %s cannot be taken: %v", w.Id, step, err)
		return ev, s.saveStep(ctx, w, WindowFailed, MaintenanceStep{Step: step, Time: now, Note: err.Error()})
	}
	cur := values(rs)
	if p == 2 && !slices.Equal(cur, w.To) {
		w.Original = cur // the values users get outside the window, as they are now
	}
	vals, ttl := w.desired(p)
	ev.Before, ev.After = describe(cur, *rs.TTL), describe(vals, ttl)
	ev.Reason = fmt.Sprintf("window %s (%s to %s): %s", w.Id, fmtTime(w.Start), fmtTime(w.End), stepWords[step])
	ms := MaintenanceStep{Step: step, Time: now}
	if slices.Equal(cur, vals) && *rs.TTL == ttl {
		ms.Note = "already in place"
	} else {
		next := rs
		next.TTL = &ttl
		next.ResourceRecords = records(vals)
		ci, err := s.ChangeRecordSets(ctx, w.HostedZoneId, zone.ChangeBatch{Comment: "maintenance " + w.Id + ": " + step,
			Changes: []zone.Change{{Action: zone.ActionUpsert, ResourceRecordSet: next}}})
		if err != nil {
			return ev, err
		}
		ms.ChangeId = ci.Id
	}
	return ev, s.saveStep(ctx, w, windowPhases[p], ms)
}

var stepWords = map[string]string{
	StepLowerTTL:   "TTL lowered so that no cache holds the old TTL when the window starts",
	StepSwitch:     "switched to the maintenance values",
	StepSwitchBack: "switched back to the original values",
	StepRestoreTTL: "TTL restored",
}

func describe(vals []string, ttl int64) string {
	return fmt.Sprintf("%s (TTL %d)", strings.Join(vals, " "), ttl)
}

// saveStep stores the window's new state and step, keeping a cancellation made meanwhile.
func (s *Service) saveStep(ctx context.Context, w *MaintenanceWindow, state string, step MaintenanceStep) error {
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		stored, err := readWindow(tx, w.Id)
		if err != nil {
			return err
		}
		if stored.State == WindowCancelled && state != WindowFailed {
			// Cancelled while this step was being taken: the window is under way after all, and
			// ends now.
			stored.End = minTime(stored.End, stored.Cancelled)
			stored.Start = minTime(stored.Start, stored.End)
			stored.RestoreTTLAt = stored.End.Add(time.Duration(stored.TTLDuring) * time.Second)
		}
		stored.State = state
		stored.Original = w.Original
		stored.Steps = append(stored.Steps, step)
		*w = stored
		return putJSON(tx, maintenanceKey(w.Id), stored)
	})
	return err
}
