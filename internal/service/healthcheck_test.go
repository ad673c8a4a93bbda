package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/zone"
)

func httpCheck(ip string) health.Config {
	return health.Config{Type: health.TypeHTTP, IPAddress: ip, Port: 80, RequestInterval: 1, FailureThreshold: 2}
}

func TestHealthCheckLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hc, created, err := s.CreateHealthCheck(ctx, "web-1", httpCheck("10.0.0.5"))
	if err != nil || !created || hc.HealthCheckVersion != 1 || len(hc.Id) != 36 {
		t.Fatalf("create = %+v, %v, %v", hc, created, err)
	}
	again, created, err := s.CreateHealthCheck(ctx, "web-1", httpCheck("10.0.0.5"))
	if err != nil || created || again.Id != hc.Id {
		t.Fatalf("same reference and config = %+v, created %v, %v; want the existing check", again, created, err)
	}
	if _, _, err := s.CreateHealthCheck(ctx, "web-1", httpCheck("10.0.0.6")); code(err) != CodeHealthCheckAlreadyExists {
		t.Fatalf("same reference, other config: %v", err)
	}
	if _, _, err := s.CreateHealthCheck(ctx, "bad", health.Config{Type: "HTTP", IPAddress: "10.0.0.5", RequestInterval: 0.05}); code(err) != CodeInvalidInput || !strings.Contains(err.Error(), "RequestInterval") {
		t.Fatalf("interval below 0.1 s: %v", err)
	}

	up, err := s.UpdateHealthCheck(ctx, hc.Id, 1, func(c *health.Config) error { c.FailureThreshold = 5; return nil })
	if err != nil || up.HealthCheckVersion != 2 || up.HealthCheckConfig.FailureThreshold != 5 {
		t.Fatalf("update = %+v, %v", up, err)
	}
	if _, err := s.UpdateHealthCheck(ctx, hc.Id, 1, func(c *health.Config) error { return nil }); code(err) != CodeHealthCheckVersionMismatch {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := s.UpdateHealthCheck(ctx, hc.Id, 0, func(c *health.Config) error { c.Type = health.TypeTCP; return nil }); code(err) != CodeInvalidInput || !strings.Contains(err.Error(), "Type") {
		t.Fatalf("type change: %v", err)
	}
	if _, err := s.UpdateHealthCheck(ctx, hc.Id, 0, func(c *health.Config) error {
		c.IPAddress = ""
		c.FullyQualifiedDomainName = "web.example.com"
		return nil
	}); code(err) != CodeInvalidInput {
		t.Fatalf("address removed: %v", err)
	}

	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	f, err := s.ForceHealthCheck(ctx, hc.Id, &health.Force{Healthy: false, Reason: "maintenance", Until: until})
	if err != nil || f.Force == nil || f.Force.Reason != "maintenance" {
		t.Fatalf("force = %+v, %v", f, err)
	}
	if got, _ := s.GetHealthCheck(ctx, hc.Id); got.Force == nil || !got.Force.Until.Equal(until) {
		t.Fatalf("forced state not stored: %+v", got.Force)
	}
	if _, err := s.ForceHealthCheck(ctx, hc.Id, &health.Force{Until: time.Now().Add(-time.Minute)}); code(err) != CodeInvalidInput {
		t.Fatalf("force expiring in the past: %v", err)
	}
	if got, _ := s.ForceHealthCheck(ctx, hc.Id, nil); got.Force != nil {
		t.Fatalf("clear left %+v", got.Force)
	}

	if err := s.DeleteHealthCheck(ctx, hc.Id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHealthCheck(ctx, hc.Id); code(err) != CodeNoSuchHealthCheck {
		t.Fatalf("get after delete: %v", err)
	}
	if _, _, err := s.CreateHealthCheck(ctx, "web-1", httpCheck("10.0.0.5")); code(err) != CodeHealthCheckAlreadyExists {
		t.Fatalf("reference of a deleted check: %v", err)
	}
}

func TestRecordsNeedExistingChecks(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, _ := s.CreateZone(ctx, "example.com", "", "")
	primary := func(check string) zone.ChangeBatch {
		b := upsertA("www.example.com", "192.0.2.1")
		b.Changes[0].ResourceRecordSet.SetIdentifier = "primary"
		b.Changes[0].ResourceRecordSet.Failover = "PRIMARY"
		b.Changes[0].ResourceRecordSet.HealthCheckId = check
		return b
	}
	_, err := s.ChangeRecordSets(ctx, hz.Id, primary("0b9e1f2c-0000-4000-8000-000000000000"))
	if code(err) != CodeNoSuchHealthCheck || !strings.Contains(err.Error(), "www.example.com.") {
		t.Fatalf("record naming a missing check: %v", err)
	}
	hc, _, err := s.CreateHealthCheck(ctx, "p", httpCheck("10.0.0.5"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeRecordSets(ctx, hz.Id, primary(hc.Id)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHealthCheck(ctx, hc.Id); code(err) != CodeHealthCheckInUse || !strings.Contains(err.Error(), "www.example.com.") {
		t.Fatalf("delete of a check in use: %v", err)
	}
}

func TestCalculatedChildren(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	child, _, _ := s.CreateHealthCheck(ctx, "c1", httpCheck("10.0.0.5"))
	calc := func(kids ...string) health.Config {
		return health.Config{Type: health.TypeCalculated, HealthThreshold: 1, ChildHealthChecks: kids}
	}
	if _, _, err := s.CreateHealthCheck(ctx, "calc-bad", calc("0b9e1f2c-0000-4000-8000-000000000000")); code(err) != CodeNoSuchHealthCheck {
		t.Fatalf("missing child: %v", err)
	}
	parent, _, err := s.CreateHealthCheck(ctx, "calc", calc(child.Id))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreateHealthCheck(ctx, "calc2", calc(parent.Id)); code(err) != CodeInvalidInput || !strings.Contains(err.Error(), "CALCULATED") {
		t.Fatalf("calculated child: %v", err)
	}
	if err := s.DeleteHealthCheck(ctx, child.Id); code(err) != CodeHealthCheckInUse {
		t.Fatalf("delete of a child in use: %v", err)
	}
}

func TestEvents(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if err := s.RecordEvents(ctx, []Event{{Kind: EventHealth, Subject: "a", Before: "healthy", After: "unhealthy"}, {Kind: EventAnswer, Subject: "www.example.com. A"}}); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, 0, 100, false)
	if err != nil || len(evs) != 2 || evs[0].Subject != "a" || evs[1].Seq <= evs[0].Seq {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	if evs, _ := s.Events(ctx, evs[0].Seq, 100, false); len(evs) != 1 || evs[0].Kind != EventAnswer {
		t.Fatalf("events after the first = %+v", evs)
	}
	last := evs[1].Seq
	got := make(chan []Event)
	go func() {
		evs, _ := s.Events(ctx, last, 100, true)
		got <- evs
	}()
	if err := s.RecordEvents(ctx, []Event{{Kind: EventHealth, Subject: "b"}}); err != nil {
		t.Fatal(err)
	}
	if evs := <-got; len(evs) != 1 || evs[0].Subject != "b" {
		t.Fatalf("waiting reader got %+v", evs)
	}
}
