package service

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/store/bolt"
	"github.com/failoverdns/failoverdns/internal/zone"
)

func newService(t testing.TB) *Service {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return New(st, Options{Nameservers: []string{"ns1.example.net.", "ns2.example.net."}, SyncWait: 10 * time.Millisecond})
}

func code(err error) string {
	var se *Error
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

func ttl(n int64) *int64 { return &n }

func upsertA(name, ip string) zone.ChangeBatch {
	return zone.ChangeBatch{Changes: []zone.Change{{Action: zone.ActionUpsert, ResourceRecordSet: zone.RecordSet{
		Name: name, Type: "A", TTL: ttl(60), ResourceRecords: []zone.ResourceRecord{{Value: ip}}}}}}
}

func soaSerial(t *testing.T, z zone.Zone) string {
	t.Helper()
	for _, rs := range z.RecordSets {
		if rs.Type == "SOA" && rs.Name == z.Name {
			return strings.Fields(rs.ResourceRecords[0].Value)[2]
		}
	}
	t.Fatalf("zone %s has no SOA", z.Name)
	return ""
}

func TestCreateZone(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, ci, err := s.CreateZone(ctx, "Example.COM", "ref-1", "hello")
	if err != nil {
		t.Fatal(err)
	}
	if hz.Name != "example.com." || !strings.HasPrefix(hz.Id, "/hostedzone/Z") || hz.Config.Comment != "hello" || hz.ResourceRecordSetCount != 2 {
		t.Fatalf("CreateZone = %+v", hz)
	}
	if !strings.HasPrefix(ci.Id, "/change/C") {
		t.Fatalf("change id %q", ci.Id)
	}
	z, err := s.Zone(ctx, hz.Id)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, rs := range z.RecordSets {
		types = append(types, rs.Name+" "+rs.Type)
	}
	if !reflect.DeepEqual(types, []string{"example.com. NS", "example.com. SOA"}) {
		t.Fatalf("record sets = %v", types)
	}
	for _, ref := range []string{hz.Id, strings.TrimPrefix(hz.Id, "/hostedzone/"), "example.com", "EXAMPLE.com."} {
		if got, err := s.GetZone(ctx, ref); err != nil || got.Id != hz.Id {
			t.Errorf("GetZone(%q) = %+v, %v", ref, got, err)
		}
	}
	if _, _, err := s.CreateZone(ctx, "example.com.", "ref-2", ""); code(err) != CodeConflictingDomainExists {
		t.Errorf("same name again: %v", err)
	}
	if _, _, err := s.CreateZone(ctx, "other.com.", "ref-1", ""); code(err) != CodeHostedZoneAlreadyExists {
		t.Errorf("same caller reference again: %v", err)
	}
	if _, _, err := s.CreateZone(ctx, "bad..name", "", ""); code(err) != CodeInvalidDomainName {
		t.Errorf("bad name: %v", err)
	}
	if _, err := s.GetZone(ctx, "nope.example."); code(err) != CodeNoSuchHostedZone {
		t.Errorf("missing zone: %v", err)
	}
}

func TestChangeBumpsSerialAndIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	z0, _ := s.Zone(ctx, hz.Id)
	if _, err := s.ChangeRecordSets(ctx, hz.Id, upsertA("www.example.com", "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	z1, _ := s.Zone(ctx, hz.Id)
	if soaSerial(t, z0) == soaSerial(t, z1) {
		t.Errorf("serial not bumped: %s", soaSerial(t, z1))
	}
	if got, _ := s.GetZone(ctx, hz.Id); got.ResourceRecordSetCount != 3 {
		t.Errorf("count = %d, want 3", got.ResourceRecordSetCount)
	}
	// A batch whose second change is invalid writes nothing, not even its first change.
	bad := upsertA("ok.example.com", "192.0.2.2")
	bad.Changes = append(bad.Changes, upsertA("outside.example.org", "192.0.2.3").Changes...)
	_, err = s.ChangeRecordSets(ctx, hz.Id, bad)
	if code(err) != CodeInvalidChangeBatch || !strings.Contains(err.Error(), "outside.example.org") {
		t.Fatalf("invalid batch: %v", err)
	}
	z2, _ := s.Zone(ctx, hz.Id)
	if !reflect.DeepEqual(z1, z2) {
		t.Fatalf("zone changed by a refused batch:\nbefore %+v\nafter  %+v", z1, z2)
	}
}

func TestChangeStatusFollowsServing(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := s.ChangeRecordSets(ctx, hz.Id, upsertA("www.example.com", "192.0.2.1"))
	if err != nil {
		t.Fatal(err)
	}
	if ci.Status != StatusPending {
		t.Fatalf("status before anything is served = %s, want PENDING", ci.Status)
	}
	rev, err := s.st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.SetServed(rev - 1)
	if got, _ := s.GetChange(ctx, ci.Id); got.Status != StatusPending {
		t.Fatalf("status with an older revision served = %s, want PENDING", got.Status)
	}
	s.SetServed(rev)
	got, err := s.GetChange(ctx, strings.TrimPrefix(ci.Id, "/change/"))
	if err != nil || got.Status != StatusInsync || got.Id != ci.Id {
		t.Fatalf("GetChange = %+v, %v; want INSYNC", got, err)
	}
	// Once served, a new change waits for its own revision and returns INSYNC.
	go func() {
		time.Sleep(5 * time.Millisecond)
		s.SetServed(rev + 1)
	}()
	s.opts.SyncWait = 5 * time.Second
	if ci, err := s.ChangeRecordSets(ctx, hz.Id, upsertA("www.example.com", "192.0.2.2")); err != nil || ci.Status != StatusInsync {
		t.Fatalf("change served while waiting = %+v, %v", ci, err)
	}
	if _, err := s.GetChange(ctx, "CNOSUCH"); code(err) != CodeNoSuchChange {
		t.Fatalf("missing change: %v", err)
	}
}

func TestDeleteZone(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, _ := s.CreateZone(ctx, "example.com", "", "")
	if _, err := s.ChangeRecordSets(ctx, hz.Id, upsertA("www.example.com", "192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteZone(ctx, hz.Id); code(err) != CodeHostedZoneNotEmpty || !strings.Contains(err.Error(), "www.example.com.") {
		t.Fatalf("delete non-empty: %v", err)
	}
	del := upsertA("www.example.com", "192.0.2.1")
	del.Changes[0].Action = zone.ActionDelete
	if _, err := s.ChangeRecordSets(ctx, hz.Id, del); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteZone(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if zs, _ := s.ListZones(ctx); len(zs) != 0 {
		t.Fatalf("zones after delete: %+v", zs)
	}
	// The name is free again.
	if _, _, err := s.CreateZone(ctx, "example.com", "", ""); err != nil {
		t.Fatal(err)
	}
}

func TestImportZone(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, _ := s.CreateZone(ctx, "example.com", "", "")
	file := `$ORIGIN example.com.
$TTL 300
@ 3600 IN SOA ns1.example.com. admin.example.com. 2024010101 7200 900 1209600 300
@ 3600 IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.1
`
	sets, err := zone.ParseMasterFile("example.com.", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ImportZone(ctx, "example.com", sets, ""); err != nil {
		t.Fatal(err)
	}
	z, _ := s.Zone(ctx, hz.Id)
	if soaSerial(t, z) != "2024010101" || len(z.RecordSets) != 4 {
		t.Fatalf("imported zone: serial %s, %d sets", soaSerial(t, z), len(z.RecordSets))
	}
	if got, _ := s.GetZone(ctx, hz.Id); got.ResourceRecordSetCount != 4 {
		t.Fatalf("count after import = %d", got.ResourceRecordSetCount)
	}
}

// NameServers are the apex NS record set's values, whichever form of the zone's reference is
// given, and not a delegation's below it.
func TestNameServers(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "r1", "")
	if err != nil {
		t.Fatal(err)
	}
	sub := zone.ChangeBatch{Changes: []zone.Change{{Action: zone.ActionCreate, ResourceRecordSet: zone.RecordSet{
		Name: "sub.example.com.", Type: "NS", TTL: ttl(60), ResourceRecords: []zone.ResourceRecord{{Value: "ns.elsewhere.net."}}}}}}
	if _, err := s.ChangeRecordSets(ctx, hz.Id, sub); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{hz.Id, strings.TrimPrefix(hz.Id, ZonePrefix), "Example.COM"} {
		ns, err := s.NameServers(ctx, ref)
		if err != nil || !slices.Equal(ns, []string{"ns1.example.net.", "ns2.example.net."}) {
			t.Fatalf("NameServers(%q) = %v, %v; want the two apex name servers", ref, ns, err)
		}
	}
	if _, err := s.NameServers(ctx, "nosuch.example."); code(err) != "NoSuchHostedZone" {
		t.Fatalf("NameServers of an unknown zone: %v, want NoSuchHostedZone", err)
	}
}
