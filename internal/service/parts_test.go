package service

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// TestZoneParts: a zone read in parts is the zone read whole, every name's record sets in one
// part and every part but the last at least n long; the parts reuse one slice; a missing zone
// is not found, and no error.
func TestZoneParts(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, _, err := s.CreateZone(ctx, "parts.test", "ref-parts", ""); err != nil {
		t.Fatal(err)
	}
	var file strings.Builder
	file.WriteString("$TTL 300\n@ IN SOA ns1 hostmaster 1 7200 900 1209600 300\n@ IN NS ns1\nns1 IN A 192.0.2.1\n")
	for i := range 50 {
		fmt.Fprintf(&file, "h%d IN A 192.0.2.%d\n", i, i)
		if i%3 == 0 { // names with several record sets
			fmt.Fprintf(&file, "h%d IN TXT \"t%d\"\nh%d IN AAAA 2001:db8::%d\n", i, i, i, i)
		}
	}
	if _, err := s.ImportMasterFile(ctx, "parts.test", strings.NewReader(file.String()), ""); err != nil {
		t.Fatal(err)
	}
	whole, err := s.Zone(ctx, "parts.test")
	if err != nil {
		t.Fatal(err)
	}
	line := func(rs zone.RecordSet) string { return rs.Name + " " + rs.Type + " " + rs.ResourceRecords[0].Value }
	var want []string
	for _, rs := range whole.RecordSets {
		want = append(want, line(rs))
	}
	slices.Sort(want)
	for _, n := range []int{1, 4, 1000} {
		var (
			got     []string
			parts   [][]string // names of each part
			sizes   []int
			first   *zone.RecordSet
			reused  bool
			began   zone.Zone
			counted int
		)
		found, err := s.ZoneParts(ctx, whole.ID, n, func(z *zone.Zone, sets int) error {
			began, counted = *z, sets
			return nil
		}, func(sets []zone.RecordSet) error {
			if first != nil && &sets[0] == first {
				reused = true
			}
			first = &sets[0]
			var names []string
			for _, rs := range sets {
				got = append(got, line(rs))
				if !slices.Contains(names, rs.Name) {
					names = append(names, rs.Name)
				}
			}
			parts, sizes = append(parts, names), append(sizes, len(sets))
			return nil
		})
		if err != nil || !found {
			t.Fatalf("n=%d: found %v, %v", n, found, err)
		}
		if began.ID != whole.ID || began.Name != whole.Name || len(began.RecordSets) != 0 || counted != len(whole.RecordSets) {
			t.Errorf("n=%d: began with %+v and %d sets", n, began, counted)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: parts hold\n%s\nwant\n%s", n, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		seen := map[string]int{}
		for i, names := range parts {
			for _, name := range names {
				if j, ok := seen[name]; ok {
					t.Errorf("n=%d: %s in parts %d and %d", n, name, j, i)
				}
				seen[name] = i
			}
		}
		for i, size := range sizes[:len(sizes)-1] {
			if size < n {
				t.Errorf("n=%d: part %d of %d holds %d record sets", n, i, len(sizes), size)
			}
		}
		if n == 1 && !reused {
			t.Errorf("n=1: every part in a new slice")
		}
	}
	if found, err := s.ZoneParts(ctx, "ZNOSUCHZONE", 10, nil, nil); found || err != nil {
		t.Errorf("a missing zone: found %v, %v", found, err)
	}
}
