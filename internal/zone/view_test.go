package zone

import (
	"errors"
	"slices"
	"testing"
)

// countingView is the View of a zone in memory that records the names Plan asks for, and
// fails for the name fail.
type countingView struct {
	z    *Zone
	read []string
	fail string
}

func (v *countingView) ID() string   { return v.z.ID }
func (v *countingView) Name() string { return v.z.Name }

func (v *countingView) At(name string) ([]RecordSet, error) {
	v.read = append(v.read, name)
	if name == v.fail {
		return nil, errDiskOnFire
	}
	// A copy, as a store would decode it: Plan must not rely on sharing the zone's memory.
	lo, hi := v.z.nameRange(name)
	return slices.Clone(v.z.RecordSets[lo:hi]), nil
}

var errDiskOnFire = errors.New("disk on fire")

func TestPlanViewReadsOnlyWhatItNeeds(t *testing.T) {
	b := batchOf(t, batch(
		change("UPSERT", set("mail.example.com.", "MX", 60, "", "20 mx.example.net.")),
		change("CREATE", alias("b.example.com.", "A", "Z1", "www.example.com.", false, "")),
		change("CREATE", alias("a.example.com.", "A", "Z1", "b.example.com.", false, "")),
		change("DELETE", set("alias.example.com.", "CNAME", 300, "", "www.example.com."))))
	z := zoneOf(t, baseZone)
	want, err := Plan(z, b)
	if err != nil {
		t.Fatal(err)
	}
	v := &countingView{z: zoneOf(t, baseZone)}
	got, err := PlanView(v, b)
	if err != nil {
		t.Fatal(err)
	}
	if !equalDiffs(got, want) {
		t.Fatalf("PlanView = %+v\nPlan    = %+v", got, want)
	}
	slices.Sort(v.read)
	wantRead := []string{"a.example.com.", "alias.example.com.", "b.example.com.", "example.com.", "mail.example.com.", "www.example.com."}
	if !slices.Equal(v.read, wantRead) {
		t.Fatalf("PlanView read %q, want each of %q once", v.read, wantRead)
	}
}

func TestPlanViewPassesReadErrors(t *testing.T) {
	for _, fail := range []string{"new.example.com.", "www.example.com.", "example.com."} {
		t.Run(fail, func(t *testing.T) {
			v := &countingView{z: zoneOf(t, baseZone), fail: fail}
			_, err := PlanView(v, batchOf(t, batch(
				change("CREATE", alias("new.example.com.", "A", "Z1", "www.example.com.", false, "")))))
			var icb *InvalidChangeBatchError
			if !errors.Is(err, errDiskOnFire) || errors.As(err, &icb) {
				t.Fatalf("PlanView = %v, want the View's error", err)
			}
		})
	}
}

func equalDiffs(a, b Diff) bool {
	if len(a.Put) != len(b.Put) || !slices.Equal(a.Delete, b.Delete) {
		return false
	}
	for i := range a.Put {
		if !equalSets(&a.Put[i], &b.Put[i]) {
			return false
		}
	}
	return true
}
