package service

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// fakeClock is the service's clock in these tests: it moves only when told.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

// maintenanceFixture is a service on a fake clock with the zone example.com holding
// www.example.com. A 192.0.2.1 with TTL 300, and a weighted pair routed.example.com.
func maintenanceFixture(t *testing.T) (*Service, *fakeClock, store.Store) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &fakeClock{now: t0}
	s := New(st, Options{Nameservers: []string{"ns1.example.net."}, SyncWait: time.Millisecond, Now: clock.Now})
	ctx := context.Background()
	if _, _, err := s.CreateZone(ctx, "example.com", "", ""); err != nil {
		t.Fatal(err)
	}
	batch := zone.ChangeBatch{Changes: []zone.Change{
		{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{Name: "www.example.com", Type: "A", TTL: ttl(300), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}}}},
		{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{Name: "routed.example.com", Type: "A", TTL: ttl(60), SetIdentifier: "p", Weight: ttl(1), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}}}},
		{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{Name: "routed.example.com", Type: "A", TTL: ttl(60), SetIdentifier: "s", Weight: ttl(1), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.2"}}}},
	}}
	if _, err := s.ChangeRecordSets(ctx, "example.com", batch); err != nil {
		t.Fatal(err)
	}
	return s, clock, st
}

// www returns the values and TTL of www.example.com. A, and the zone's SOA serial.
func www(t *testing.T, s *Service) (string, int64, string) {
	t.Helper()
	z, err := s.Zone(context.Background(), "example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, rs := range z.RecordSets {
		if rs.Name == "www.example.com." && rs.Type == "A" {
			return strings.Join(values(rs), " "), *rs.TTL, soaSerial(t, z)
		}
	}
	t.Fatal("www.example.com. A is gone")
	return "", 0, ""
}

func request(start, end time.Time, during int64) MaintenanceRequest {
	return MaintenanceRequest{Zone: "example.com", Name: "www", To: []string{"192.0.2.9"}, Start: start, End: end, TTLDuring: &during}
}

// TestMaintenanceWindowStepByStep runs a whole window on the fake clock: each step falls due at
// its time, changes the record with one UPSERT (a new SOA serial), and is an event; a restart in
// the middle (a new Service over the same store) resumes where the window is.
func TestMaintenanceWindowStepByStep(t *testing.T) {
	ctx := context.Background()
	s, clock, st := maintenanceFixture(t)
	start, end := t0.Add(time.Hour), t0.Add(2*time.Hour)
	w, err := s.CreateMaintenance(ctx, request(start, end, 30))
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "www.example.com." || w.Type != "A" || w.TTL != 300 || w.State != WindowScheduled ||
		!w.LowerTTLAt.Equal(start.Add(-300*time.Second)) || !w.RestoreTTLAt.Equal(end.Add(30*time.Second)) || len(w.Warnings) != 0 {
		t.Fatalf("created %+v", w)
	}

	steps := []struct {
		at    time.Duration // after t0
		step  string
		vals  string
		ttl   int64
		state string
		next  time.Time
	}{
		{0, "", "192.0.2.1", 300, WindowScheduled, w.LowerTTLAt},
		{time.Hour - 301*time.Second, "", "192.0.2.1", 300, WindowScheduled, w.LowerTTLAt},
		{time.Hour - 300*time.Second, StepLowerTTL, "192.0.2.1", 30, WindowTTLLowered, start},
		{time.Hour, StepSwitch, "192.0.2.9", 30, WindowActive, end},
		{90 * time.Minute, "", "192.0.2.9", 30, WindowActive, end}, // after a restart, see below
		{2 * time.Hour, StepSwitchBack, "192.0.2.1", 30, WindowSwitchedBak, w.RestoreTTLAt},
		{2*time.Hour + 29*time.Second, "", "192.0.2.1", 30, WindowSwitchedBak, w.RestoreTTLAt},
		{2*time.Hour + 30*time.Second, StepRestoreTTL, "192.0.2.1", 300, WindowDone, time.Time{}},
		{3 * time.Hour, "", "192.0.2.1", 300, WindowDone, time.Time{}},
	}
	_, _, serial := www(t, s)
	for _, e := range steps {
		clock.now = t0.Add(e.at)
		if e.at == 90*time.Minute {
			s = New(st, Options{Nameservers: []string{"ns1.example.net."}, SyncWait: time.Millisecond, Now: clock.Now})
		}
		evs, next, err := s.RunMaintenance(ctx)
		if err != nil {
			t.Fatalf("at +%v: %v", e.at, err)
		}
		vals, ttl, newSerial := www(t, s)
		got, _ := s.GetMaintenance(ctx, w.Id)
		switch {
		case e.step == "" && len(evs) != 0:
			t.Errorf("at +%v: events %+v, want none", e.at, evs)
		case e.step != "" && (len(evs) != 1 || evs[0].Kind != EventMaintenance || evs[0].Cause != e.step || evs[0].Subject != "www.example.com. A" || !evs[0].Time.Equal(clock.now)):
			t.Errorf("at +%v: events %+v, want one %s step", e.at, evs, e.step)
		}
		if vals != e.vals || ttl != e.ttl || got.State != e.state || !next.Equal(e.next) {
			t.Errorf("at +%v: www %s TTL %d, state %s, next %v; want %s TTL %d, %s, next %v", e.at, vals, ttl, got.State, next, e.vals, e.ttl, e.state, e.next)
		}
		if changed := newSerial != serial; changed != (e.step != "") {
			t.Errorf("at +%v: SOA serial %s -> %s; a step is one change batch, no step none", e.at, serial, newSerial)
		}
		serial = newSerial
	}
	got, _ := s.GetMaintenance(ctx, w.Id)
	var names []string
	for _, st := range got.Steps {
		if !strings.HasPrefix(st.ChangeId, ChangePrefix) {
			t.Errorf("step %s has no change id", st.Step)
		}
		names = append(names, st.Step)
	}
	if !slices.Equal(names, []string{StepLowerTTL, StepSwitch, StepSwitchBack, StepRestoreTTL}) {
		t.Errorf("steps %v", names)
	}
}

// TestMaintenanceResumesAfterDowntime: a server that was down when steps fell due takes the step
// the clock calls for, in one change, without replaying the ones it missed.
func TestMaintenanceResumesAfterDowntime(t *testing.T) {
	ctx := context.Background()
	s, clock, _ := maintenanceFixture(t)
	w, err := s.CreateMaintenance(ctx, request(t0.Add(time.Hour), t0.Add(2*time.Hour), 30))
	if err != nil {
		t.Fatal(err)
	}
	clock.now = t0.Add(90 * time.Minute) // down through the TTL step and the start
	evs, next, err := s.RunMaintenance(ctx)
	if err != nil || len(evs) != 1 || evs[0].Cause != StepSwitch || evs[0].After != "192.0.2.9 (TTL 30)" || evs[0].Before != "192.0.2.1 (TTL 300)" || !next.Equal(w.End) {
		t.Fatalf("resumed mid-window: %+v, next %v, %v", evs, next, err)
	}
	clock.now = t0.Add(5 * time.Hour) // down through the end and the TTL restoration
	evs, next, err = s.RunMaintenance(ctx)
	if err != nil || len(evs) != 1 || evs[0].Cause != StepRestoreTTL || evs[0].After != "192.0.2.1 (TTL 300)" || !next.IsZero() {
		t.Fatalf("resumed after the window: %+v, next %v, %v", evs, next, err)
	}
	if vals, ttl, _ := www(t, s); vals != "192.0.2.1" || ttl != 300 {
		t.Errorf("www %s TTL %d after the window", vals, ttl)
	}
}

func TestMaintenanceCancel(t *testing.T) {
	ctx := context.Background()
	s, clock, _ := maintenanceFixture(t)
	w, err := s.CreateMaintenance(ctx, request(t0.Add(time.Hour), t0.Add(2*time.Hour), 30))
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.CancelMaintenance(ctx, w.Id)
	if err != nil || c.State != WindowCancelled {
		t.Fatalf("cancel before it begins: %+v, %v", c, err)
	}
	if evs, next, err := s.RunMaintenance(ctx); len(evs) != 0 || !next.IsZero() || err != nil {
		t.Errorf("a cancelled window still runs: %+v %v %v", evs, next, err)
	}
	if _, err := s.CancelMaintenance(ctx, w.Id); code(err) != CodeInvalidInput || !strings.Contains(err.Error(), "already cancelled") {
		t.Errorf("cancel twice: %v", err)
	}
	if _, err := s.CancelMaintenance(ctx, "M404"); code(err) != CodeNoSuchMaintenanceWindow {
		t.Errorf("cancel unknown: %v", err)
	}

	// Cancelled while active: it switches back at once and restores the TTL after TTLDuring.
	w, err = s.CreateMaintenance(ctx, request(t0.Add(time.Hour), t0.Add(2*time.Hour), 30))
	if err != nil {
		t.Fatal(err)
	}
	clock.now = t0.Add(time.Hour)
	s.RunMaintenance(ctx)
	clock.now = t0.Add(70 * time.Minute)
	if c, err = s.CancelMaintenance(ctx, w.Id); err != nil || !c.End.Equal(clock.now) || c.State != WindowActive {
		t.Fatalf("cancel while active: %+v, %v", c, err)
	}
	evs, next, _ := s.RunMaintenance(ctx)
	if len(evs) != 1 || evs[0].Cause != StepSwitchBack || !next.Equal(clock.now.Add(30*time.Second)) {
		t.Errorf("after cancelling: %+v, next %v", evs, next)
	}
	if vals, _, _ := www(t, s); vals != "192.0.2.1" {
		t.Errorf("www %s after cancelling", vals)
	}
}

func TestMaintenanceRefused(t *testing.T) {
	ctx := context.Background()
	s, _, _ := maintenanceFixture(t)
	if _, err := s.CreateMaintenance(ctx, request(t0.Add(time.Hour), t0.Add(2*time.Hour), 30)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*MaintenanceRequest)
		want string
	}{
		{"in the past", func(r *MaintenanceRequest) { r.Start, r.End = t0.Add(-time.Hour), t0.Add(time.Minute) }, "in the past"},
		{"end before start", func(r *MaintenanceRequest) { r.Start, r.End = t0.Add(5*time.Hour), t0.Add(4*time.Hour) }, "End must be after Start"},
		{"end at start", func(r *MaintenanceRequest) { r.End = r.Start }, "End must be after Start"},
		{"overlap", func(r *MaintenanceRequest) { r.Start, r.End = t0.Add(2*time.Hour), t0.Add(3*time.Hour) }, "overlaps maintenance window M"},
		{"no such name", func(r *MaintenanceRequest) { r.Name = "nothere" }, "no A record set named nothere.example.com."},
		{"no such type", func(r *MaintenanceRequest) { r.Type = "aaaa" }, "no AAAA record set named www.example.com."},
		{"routed", func(r *MaintenanceRequest) { r.Name = "routed.example.com." }, "simple record sets only"},
		{"bad value", func(r *MaintenanceRequest) { r.To = []string{"not-an-address"} }, "not-an-address"},
		{"no values", func(r *MaintenanceRequest) { r.To = nil }, "no values"},
		{"ttl above the record's", func(r *MaintenanceRequest) { r.TTLDuring = ttl(600) }, "TTLDuring 600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request(t0.Add(5*time.Hour), t0.Add(6*time.Hour), 30)
			tc.edit(&r)
			_, err := s.CreateMaintenance(ctx, r)
			if c := code(err); (c != CodeInvalidInput && c != CodeInvalidChangeBatch) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want a client error naming %q", err, tc.want)
			}
		})
	}
	if _, err := s.CreateMaintenance(ctx, MaintenanceRequest{Zone: "nope.test", Name: "www", To: []string{"192.0.2.9"}, Start: t0.Add(time.Hour), End: t0.Add(2 * time.Hour)}); code(err) != CodeNoSuchHostedZone {
		t.Errorf("unknown zone: %v", err)
	}
	// A window after the first one's TTL is restored does not overlap; the default TTLDuring is
	// 60 s, and a window too close to lower the TTL in time says so.
	w, err := s.CreateMaintenance(ctx, MaintenanceRequest{Zone: "example.com", Name: "www.example.com.", To: []string{"192.0.2.9"},
		Start: t0.Add(2*time.Hour + 30*time.Second + 300*time.Second), End: t0.Add(3 * time.Hour)})
	if err != nil || w.TTLDuring != 60 {
		t.Errorf("adjacent window: %+v, %v", w, err)
	}
}

func TestMaintenanceTooSoonWarns(t *testing.T) {
	s, _, _ := maintenanceFixture(t)
	w, err := s.CreateMaintenance(context.Background(), request(t0.Add(time.Minute), t0.Add(2*time.Minute), 5))
	if err != nil || len(w.Warnings) != 1 || !strings.Contains(w.Warnings[0], "TTL is 300 s") || !w.LowerTTLAt.Before(t0) {
		t.Errorf("%+v, %v", w, err)
	}
}
