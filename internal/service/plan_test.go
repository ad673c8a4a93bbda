package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/failoverdns/failoverdns/internal/store"
	"github.com/failoverdns/failoverdns/internal/zone"
)

func rset(name, typ string, values ...string) zone.RecordSet {
	rs := zone.RecordSet{Name: name, Type: typ, TTL: ttl(300)}
	for _, v := range values {
		rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: v})
	}
	return rs
}

func aliasSet(name, typ, zoneID, target string) zone.RecordSet {
	return zone.RecordSet{Name: name, Type: typ, AliasTarget: &zone.AliasTarget{HostedZoneId: zoneID, DNSName: target}}
}

func changes(pairs ...any) zone.ChangeBatch {
	var b zone.ChangeBatch
	for i := 0; i < len(pairs); i += 2 {
		b.Changes = append(b.Changes, zone.Change{Action: pairs[i].(string), ResourceRecordSet: pairs[i+1].(zone.RecordSet)})
	}
	return b
}

// asJSON is how the tests compare record sets that went through the store.
func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestChangeRecordSetsReadsOnlyWhatItNeeds runs batches through the service, which plans
// against the names it reads in the commit's transaction, and through zone.Plan against the
// whole zone read before: both give the same verdict in the same words and the same zone, and
// the zone's ResourceRecordSetCount stays its number of record sets.
func TestChangeRecordSetsReadsOnlyWhatItNeeds(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(hz.Id, ZonePrefix)
	const C, D, U = zone.ActionCreate, zone.ActionDelete, zone.ActionUpsert
	steps := []struct {
		name  string
		batch zone.ChangeBatch
		want  string // the error message, "" for success
	}{
		{"seed", changes(
			C, rset("www.example.com.", "A", "192.0.2.1", "192.0.2.2"),
			C, rset("mail.example.com.", "MX", "10 mx.example.net."),
			C, rset("alias.example.com.", "CNAME", "www.example.com."),
			C, aliasSet("b.example.com.", "A", id, "www.example.com."),
			C, aliasSet("a.example.com.", "A", id, "b.example.com."),
			C, aliasSet("c.example.com.", "A", id, "a.example.com.")), ""},
		{"CNAME beside existing records", changes(C, rset("www.example.com.", "CNAME", "x.example.net.")),
			"RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
		{"record beside an existing CNAME", changes(C, rset("alias.example.com.", "TXT", `"hello"`)),
			"RRSet of type TXT with DNS name alias.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com."},
		{"alias to a missing name", changes(C, aliasSet("x.example.com.", "A", id, "missing.example.com.")),
			"Tried to create an alias that targets missing.example.com., type A in zone " + id + ", but that target was not found"},
		{"alias to a name of another type", changes(C, aliasSet("x.example.com.", "AAAA", id, "www.example.com.")),
			"Tried to create an alias that targets www.example.com., type AAAA in zone " + id + ", but that target was not found"},
		{"alias outside the zone", changes(C, aliasSet("x.example.com.", "A", id, "www.example.org.")),
			"Tried to create an alias that targets www.example.org., type A in zone " + id + ", but the alias target name does not lie within the target zone"},
		{"alias to a name the batch creates first", changes(C, rset("mail.example.com.", "A", "192.0.2.25"), C, aliasSet("x.example.com.", "A", id, "mail.example.com.")), ""},
		{"alias to a stored name", changes(C, aliasSet("y.example.com.", "A", id, "www.example.com.")), ""},
		{"cycle of two through a stored alias", changes(U, aliasSet("b.example.com.", "A", id, "a.example.com.")),
			"Alias record sets of type A form a cycle: b.example.com. -> a.example.com. -> b.example.com."},
		{"cycle of three through stored aliases", changes(U, aliasSet("b.example.com.", "A", id, "c.example.com.")),
			"Alias record sets of type A form a cycle: b.example.com. -> c.example.com. -> a.example.com. -> b.example.com."},
		{"delete of a missing set", changes(D, rset("nope.example.com.", "A", "192.0.2.1")),
			"Tried to delete resource record set [name='nope.example.com.', type='A'] but it was not found"},
		{"delete with other values", changes(D, rset("www.example.com.", "A", "192.0.2.1")),
			"Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values"},
		{"delete with other TTL", changes(D, zone.RecordSet{Name: "www.example.com.", Type: "A", TTL: ttl(60), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}, {Value: "192.0.2.2"}}}),
			"Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values"},
		{"create of an existing set", changes(C, rset("www.example.com.", "A", "192.0.2.9")),
			"Tried to create resource record set [name='www.example.com.', type='A'] but it already exists"},
		{"delete of the SOA", changes(D, rset("example.com.", "SOA", "ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400")),
			"A HostedZone must contain exactly one SOA record."},
		{"upserts, a delete and a replaced CNAME", changes(
			U, rset("www.example.com.", "A", "192.0.2.3"),
			U, rset("new.example.com.", "A", "192.0.2.4"),
			D, rset("mail.example.com.", "MX", "10 mx.example.net."),
			D, rset("alias.example.com.", "CNAME", "www.example.com."),
			C, rset("alias.example.com.", "A", "192.0.2.5")), ""},
		{"delete and create of one key", changes(
			D, rset("www.example.com.", "A", "192.0.2.3"),
			C, rset("www.example.com.", "A", "192.0.2.6")), ""},
		{"upsert of the same values", changes(U, rset("new.example.com.", "A", "192.0.2.4")), ""},
		{"deletes down to the apex", changes(
			D, aliasSet("c.example.com.", "A", id, "a.example.com."),
			D, aliasSet("a.example.com.", "A", id, "b.example.com."),
			D, aliasSet("b.example.com.", "A", id, "www.example.com.")), ""},
		{"delete of a stored alias and its target", changes(D, rset("mail.example.com.", "A", "192.0.2.25"), D, aliasSet("x.example.com.", "A", id, "mail.example.com.")), ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			full, err := s.Zone(ctx, hz.Id)
			if err != nil {
				t.Fatal(err)
			}
			diff, planErr := zone.Plan(&full, st.batch)
			_, err = s.ChangeRecordSets(ctx, hz.Id, st.batch)
			var se *Error
			switch {
			case st.want == "" && err != nil:
				t.Fatalf("ChangeRecordSets: %v", err)
			case st.want != "" && (!errors.As(err, &se) || se.Code != CodeInvalidChangeBatch || !slices.Equal(se.Messages, []string{st.want})):
				t.Fatalf("ChangeRecordSets error = %v, want InvalidChangeBatch %q", err, st.want)
			case (planErr == nil) != (err == nil):
				t.Fatalf("zone.Plan against the whole zone: %v; the service: %v", planErr, err)
			case planErr != nil && fromZoneError(planErr).Error() != err.Error():
				t.Fatalf("messages differ:\nwhole zone: %v\nservice:    %v", planErr, err)
			}
			if planErr == nil {
				full.Apply(diff)
			}
			after, err := s.Zone(ctx, hz.Id)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := asJSON(t, after.RecordSets), asJSON(t, full.RecordSets); g != w {
				t.Fatalf("zone after the batch:\n got %s\nwant %s", g, w)
			}
			if got, _ := s.GetZone(ctx, hz.Id); got.ResourceRecordSetCount != int64(len(after.RecordSets)) {
				t.Fatalf("ResourceRecordSetCount = %d, the zone holds %d record sets", got.ResourceRecordSetCount, len(after.RecordSets))
			}
		})
	}
}

// TestChangeRecordSetsSerial checks the SOA serial: one more on every batch, an UPSERTed serial
// kept when it is greater and replaced when it is not.
func TestChangeRecordSetsSerial(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	soa := func(serial int) zone.ChangeBatch {
		return changes(zone.ActionUpsert, rset("example.com.", "SOA", fmt.Sprintf("ns1.example.net. hostmaster.example.com. %d 7200 900 1209600 86400", serial)))
	}
	for _, step := range []struct {
		batch zone.ChangeBatch
		want  string
	}{
		{upsertA("www.example.com", "192.0.2.1"), "2"},
		{upsertA("www.example.com", "192.0.2.2"), "3"},
		{soa(100), "100"},
		{upsertA("www.example.com", "192.0.2.3"), "101"},
		{soa(50), "102"},
		{soa(102), "103"},
	} {
		if _, err := s.ChangeRecordSets(ctx, hz.Id, step.batch); err != nil {
			t.Fatal(err)
		}
		z, err := s.Zone(ctx, hz.Id)
		if err != nil {
			t.Fatal(err)
		}
		if got := soaSerial(t, z); got != step.want {
			t.Fatalf("serial = %s, want %s", got, step.want)
		}
	}
}

// TestChangeRecordSetsCountInBigZone keeps the count right in a zone that is never read whole.
func TestChangeRecordSetsCountInBigZone(t *testing.T) {
	ctx := context.Background()
	s, hz := bigZone(t, t.TempDir(), 2000)
	if _, err := s.ChangeRecordSets(ctx, hz.Id, creates(0, 1000)); err != nil {
		t.Fatal(err)
	}
	b := creates(1, 10)
	for i := range 10 { // UPSERTs of existing names, and of new ones
		b.Changes = append(b.Changes, zone.Change{Action: zone.ActionUpsert, ResourceRecordSet: rset(fmt.Sprintf("h%d.big.test.", i), "A", "192.0.2.1")})
		b.Changes = append(b.Changes, zone.Change{Action: zone.ActionUpsert, ResourceRecordSet: rset(fmt.Sprintf("up%d.big.test.", i), "A", "192.0.2.1")})
	}
	for i := 10; i < 30; i++ {
		v := fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255)
		b.Changes = append(b.Changes, zone.Change{Action: zone.ActionDelete, ResourceRecordSet: rset(fmt.Sprintf("h%d.big.test.", i), "A", v)})
	}
	if _, err := s.ChangeRecordSets(ctx, hz.Id, b); err != nil {
		t.Fatal(err)
	}
	z, err := s.Zone(ctx, hz.Id)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetZone(ctx, hz.Id)
	if want := 2 + 2000 + 1000 + 10 + 10 - 20; len(z.RecordSets) != want || got.ResourceRecordSetCount != int64(want) {
		t.Fatalf("%d record sets, ResourceRecordSetCount %d; want %d", len(z.RecordSets), got.ResourceRecordSetCount, want)
	}
}

// TestImportZoneWritesOnlyChanges imports over a zone: record sets that are gone are deleted,
// unchanged ones are not rewritten, and the count follows.
func TestImportZoneWritesOnlyChanges(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	parse := func(text string) []zone.RecordSet {
		t.Helper()
		sets, err := zone.ParseMasterFile("example.com.", strings.NewReader("$ORIGIN example.com.\n$TTL 300\n@ 900 SOA ns1.example.net. hostmaster 7 7200 900 1209600 86400\n@ NS ns1.example.net.\n"+text))
		if err != nil {
			t.Fatal(err)
		}
		return sets
	}
	first := parse("www A 192.0.2.1\nold A 192.0.2.2\nkeep TXT \"x\"\n")
	if _, err := s.ImportZone(ctx, "example.com", first, ""); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := s.st.Watch(wctx)
	second := parse("www A 192.0.2.9\nkeep TXT \"x\"\nnew AAAA 2001:db8::1\n")
	if _, err := s.ImportZone(ctx, "example.com", second, ""); err != nil {
		t.Fatal(err)
	}
	var written []string
	for _, k := range (<-events).Keys {
		if key, ok := strings.CutPrefix(k, recordPrefix(strings.TrimPrefix(hz.Id, ZonePrefix))); ok {
			written = append(written, strings.ReplaceAll(key, "\x00", " "))
		}
	}
	if want := []string{"new.example.com. AAAA ", "old.example.com. A ", "www.example.com. A "}; !slices.Equal(written, want) {
		t.Errorf("import wrote %q, want %q", written, want)
	}
	z, err := s.Zone(ctx, hz.Id)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := asJSON(t, z.RecordSets), asJSON(t, second); g != w {
		t.Fatalf("zone after import:\n got %s\nwant %s", g, w)
	}
	if got, _ := s.GetZone(ctx, hz.Id); got.ResourceRecordSetCount != int64(len(second)) {
		t.Fatalf("ResourceRecordSetCount = %d, want %d", got.ResourceRecordSetCount, len(second))
	}
	// The same file again writes no record set.
	if _, err := s.ImportZone(ctx, "example.com", second, ""); err != nil {
		t.Fatal(err)
	}
	for _, k := range (<-events).Keys {
		if strings.HasPrefix(k, recordPrefix_) {
			t.Errorf("an import of the same file wrote %q", k)
		}
	}
}

// failingReader fails every read of a record set key.
type failingReader struct{ store.Reader }

func (failingReader) Scan(prefix string, fn func(string, []byte) error) error {
	return errors.New("disk on fire")
}

// TestPlanViewPassesStoreErrors checks that a failed read is an error of its own, not a verdict
// on the batch.
func TestPlanViewPassesStoreErrors(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	err = s.st.View(ctx, func(r store.Reader) error {
		m, err := resolveZone(r, hz.Id)
		if err != nil {
			return err
		}
		_, err = zone.PlanView(newTxView(failingReader{r}, m), upsertA("www.example.com", "192.0.2.1"))
		return planError(err)
	})
	var se *Error
	if err == nil || errors.As(err, &se) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("PlanView over a failing store = %v, want the store's error", err)
	}
}
