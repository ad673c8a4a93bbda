package routing

import (
	"math"
	"slices"
	"testing"

	"github.com/failoverdns/failoverdns/internal/zone"
)

// fuzzGroup builds a group from fuzz input: two bytes per record set. The first byte is a
// parameter (weight, side, location); the second holds the health bit (bit 0), a SetIdentifier
// letter (bits 1-3) and, in bit 4, "use policy b>>5 instead of the group's policy", which makes
// mixed (invalid) groups too.
func fuzzGroup(policy byte, spec []byte) ([]zone.RecordSet, []bool) {
	n := min(len(spec)/2, 300)
	group := make([]zone.RecordSet, n)
	up := make([]bool, n)
	for i := range n {
		param, flags := spec[2*i], spec[2*i+1]
		up[i] = flags&1 == 1
		p := policy % 9
		if flags&0x10 != 0 {
			p = flags >> 5
		}
		rs := zone.RecordSet{Name: "x.example.", Type: "A", SetIdentifier: string(rune('a' + flags>>1&7))}
		if param&1 == 1 {
			rs.HealthCheckId = "hc"
		}
		switch p {
		case 0:
			rs.SetIdentifier = ""
		case 1:
			rs.Failover = [...]string{"PRIMARY", "SECONDARY", "primary", "OTHER"}[param%4]
		case 2:
			rs.Weight = ptr(int64(param%64) - 4) // a few negative, many zero-to-small
		case 3:
			rs.MultiValueAnswer = ptr(true)
		case 4:
			rs.Region = "r"
		case 5:
			rs.GeoLocation = &zone.GeoLocation{CountryCode: [...]string{"*", "DE", "US", ""}[param%4], ContinentCode: "EU"}
		case 6:
			rs.CidrRoutingConfig = &zone.CidrRoutingConfig{LocationName: [...]string{"*", "a"}[param%2]}
		default:
			rs.GeoProximityLocation = &zone.GeoProximityLocation{AWSRegion: "r"}
		}
		group[i] = rs
	}
	return group, up
}

func FuzzDecide(f *testing.F) {
	f.Add(byte(0), []byte{0, 1}, uint64(0))
	f.Add(byte(1), []byte{0, 0, 1, 1}, uint64(1))
	f.Add(byte(2), []byte{10, 1, 0, 1, 20, 0, 0, 0}, uint64(golden))
	f.Add(byte(3), slices.Repeat([]byte{0, 1}, 20), uint64(12345))
	f.Add(byte(3), slices.Repeat([]byte{0, 0}, 20), ^uint64(0))
	f.Add(byte(5), []byte{1, 0, 0, 1, 2, 1}, uint64(7))
	f.Add(byte(2), []byte{10, 1, 0, 0x31}, uint64(7))
	f.Fuzz(func(t *testing.T, policy byte, spec []byte, rnd uint64) {
		group, up := fuzzGroup(policy, spec)
		d := Decide(group, up)

		anyUp := slices.Contains(up, true)
		if d.Healthy() != anyUp {
			t.Fatalf("Healthy() = %v, want %v", d.Healthy(), anyUp)
		}
		prefix := []int{-1, -2}
		buf := make([]int, len(prefix), len(prefix)+MaxPick)
		copy(buf, prefix)
		got := d.Pick(rnd, buf)
		if !slices.Equal(got[:len(prefix)], prefix) {
			t.Fatalf("Pick overwrote the buffer's contents: %v", got)
		}
		picked := got[len(prefix):]
		if len(group) == 0 {
			if len(picked) != 0 {
				t.Fatalf("Pick on an empty group = %v", picked)
			}
			return
		}
		if len(picked) < 1 || len(picked) > MaxPick {
			t.Fatalf("Pick = %v: want 1..%d indices", picked, MaxPick)
		}
		for k, i := range picked {
			if i < 0 || i >= len(group) {
				t.Fatalf("Pick = %v: index %d out of range [0,%d)", picked, i, len(group))
			}
			if slices.Contains(picked[:k], i) {
				t.Fatalf("Pick = %v: index %d twice", picked, i)
			}
		}
		if d.Fixed() && !slices.Equal(d.Pick(rnd^golden, nil), picked) {
			t.Fatalf("Fixed() but Pick differs across rnd")
		}
		// Candidates hold every pick; the shares add up to the size of one answer.
		cand := d.Candidates(nil)
		sum := 0.0
		for k := range cand {
			sum += d.Share(k)
		}
		if math.Abs(sum-float64(len(picked))) > 1e-6 {
			t.Fatalf("shares of %v sum to %v, want %d", cand, sum, len(picked))
		}
		for _, i := range picked {
			if !slices.Contains(cand, i) {
				t.Fatalf("Pick = %v: %d is not among Candidates %v", picked, i, cand)
			}
		}

		// A valid group with a healthy record set answers only with healthy ones.
		p := Policy(group[0])
		valid := !(p == "simple" && len(group) > 1)
		for _, rs := range group {
			valid = valid && Policy(rs) == p && (p != "failover" || rs.Failover != "OTHER")
		}
		if !valid {
			return
		}
		if anyUp {
			for _, i := range picked {
				if !up[i] {
					t.Fatalf("Pick = %v: %d is unhealthy while the group has a healthy record set", picked, i)
				}
			}
		}
		switch p {
		case "weighted":
			activeUp, active := false, false
			for i, rs := range group {
				if *rs.Weight > 0 {
					active = true
					activeUp = activeUp || up[i]
				}
			}
			if (activeUp || (!anyUp && active)) && *group[picked[0]].Weight <= 0 {
				t.Fatalf("Pick = %v: a zero-weight record set while a non-zero one is eligible", picked)
			}
		case "multivalue":
			candidates := len(group)
			if anyUp {
				candidates = 0
				for _, u := range up {
					if u {
						candidates++
					}
				}
			}
			if len(picked) != min(candidates, MaxPick) {
				t.Fatalf("Pick = %v: want %d record sets of %d candidates", picked, min(candidates, MaxPick), candidates)
			}
		}
	})
}
