package answer

import (
	"testing"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// TestSnapshotIDs: every way of making a snapshot gives it an ID of its own, which caches of
// replies key on.
func TestSnapshotIDs(t *testing.T) {
	z := healthZone(t)
	a, err := BuildWithHealth([]zone.Zone{z}, downChecks(""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := BuildWithHealth([]zone.Zone{z}, downChecks(""))
	if err != nil {
		t.Fatal(err)
	}
	h, err := a.WithHealth(downChecks("hc-p"))
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(60)
	p, err := a.Patch(z.ID, []string{"new.example.org."}, []zone.RecordSet{{Name: "new.example.org.", Type: "A", TTL: &ttl,
		ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.77"}}}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]string{}
	for _, s := range []struct {
		what string
		s    *Snapshot
	}{{"Build", a}, {"Build again", b}, {"WithHealth", h}, {"Patch", p}} {
		if other, dup := seen[s.s.ID()]; dup {
			t.Errorf("%s made a snapshot with the ID of %s's", s.what, other)
		}
		seen[s.s.ID()] = s.what
	}
}
