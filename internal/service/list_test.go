package service

import (
	"slices"
	"testing"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// listAll pages through the zone ref, max sets a page, from start (nil: the beginning), and
// returns the keys listed.
func listAll(t *testing.T, s *Service, ref string, max int, start *zone.Key) []zone.Key {
	t.Helper()
	var got []zone.Key
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("listing does not end")
		}
		var from zone.Key
		if start != nil {
			from = *start
		}
		page, err := s.ListRecordSets(t.Context(), ref, from, max)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.RecordSets) > max {
			t.Fatalf("page of %d sets, max %d", len(page.RecordSets), max)
		}
		for _, rs := range page.RecordSets {
			got = append(got, rs.Key())
		}
		if start = page.Next; start == nil {
			return got
		}
	}
}

// TestListRecordSetsPages: paging through a zone lists each record set once, in Route 53's order
// (labels reversed: a-b.example.com. before a.example.com., which comes before *.a.example.com.),
// whatever the page size; the pages after a commit follow it (the order kept between pages is
// that of the revision read); listing another zone in between mixes nothing.
func TestListRecordSetsPages(t *testing.T) {
	ctx := t.Context()
	s := newService(t)
	hz, _, err := s.CreateZone(ctx, "example.com", "", "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.CreateZone(ctx, "example.org", "", "")
	if err != nil {
		t.Fatal(err)
	}
	var batch zone.ChangeBatch
	for _, n := range []string{"b.a", "a", "*.a", "a-b", "z", "x.y.z", "0", "_srv._tcp"} {
		batch.Changes = append(batch.Changes, upsertA(n+".example.com", "192.0.2.1").Changes...)
	}
	if _, err := s.ChangeRecordSets(ctx, hz.Id, batch); err != nil {
		t.Fatal(err)
	}
	z, err := s.Zone(ctx, hz.Id)
	if err != nil {
		t.Fatal(err)
	}
	var want []zone.Key
	for _, rs := range z.RecordSets {
		want = append(want, rs.Key())
	}
	for _, max := range []int{1, 3, 100} {
		if got := listAll(t, s, hz.Id, max, nil); !slices.Equal(got, want) {
			t.Errorf("pages of %d: %v, want %v", max, got, want)
		}
	}
	pos := func(keys []zone.Key, name string) int {
		return slices.IndexFunc(keys, func(k zone.Key) bool { return k.Name == name })
	}
	if a, ab, wild, ba := pos(want, "a.example.com."), pos(want, "a-b.example.com."), pos(want, "*.a.example.com."), pos(want, "b.a.example.com."); !(ab < a && a < wild && wild < ba) {
		t.Errorf("listing order %v: want a-b, a, *.a, b.a", want)
	}

	first, err := s.ListRecordSets(ctx, hz.Id, zone.Key{}, 3)
	if err != nil || first.Next == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	if got := listAll(t, s, other.Id, 1, nil); len(got) != 2 || got[0].Name != "example.org." {
		t.Errorf("the other zone lists %v", got)
	}
	if got := listAll(t, s, hz.Id, 3, first.Next); !slices.Equal(got, want[3:]) {
		t.Errorf("after the other zone's listing, the rest lists %v, want %v", got, want[3:])
	}

	first, err = s.ListRecordSets(ctx, hz.Id, zone.Key{}, 3)
	if err != nil || first.Next == nil {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	change := upsertA("zz.example.com", "192.0.2.2")
	change.Changes = append(change.Changes, zone.Change{Action: zone.ActionDelete, ResourceRecordSet: zone.RecordSet{
		Name: "z.example.com.", Type: "A", TTL: ttl(60), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}}}})
	if _, err := s.ChangeRecordSets(ctx, hz.Id, change); err != nil {
		t.Fatal(err)
	}
	rest := listAll(t, s, hz.Id, 3, first.Next)
	if pos(rest, "zz.example.com.") < 0 || pos(rest, "z.example.com.") >= 0 {
		t.Errorf("pages after a commit that added zz and deleted z: %v", rest)
	}
	if n := len(first.RecordSets) + len(rest); n != len(want) {
		t.Errorf("%d sets listed across the commit, want %d (one added, one deleted)", n, len(want))
	}
}
