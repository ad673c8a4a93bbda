package routing_test

import (
	"fmt"

	"github.com/failoverdns/failoverdns/internal/routing"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// A failover tree: the PRIMARY is an alias that evaluates the health of a weighted pool, so the
// pool's Healthy becomes the alias's health. When both pool members fail, answers move to the
// SECONDARY.
func ExampleDecide() {
	weight := func(w int64) *int64 { return &w }
	pool := []zone.RecordSet{
		{Name: "pool.example.com.", Type: "A", SetIdentifier: "a", Weight: weight(1), HealthCheckId: "hc-a"},
		{Name: "pool.example.com.", Type: "A", SetIdentifier: "b", Weight: weight(1), HealthCheckId: "hc-b"},
	}
	www := []zone.RecordSet{
		{Name: "www.example.com.", Type: "A", SetIdentifier: "main", Failover: "PRIMARY",
			AliasTarget: &zone.AliasTarget{DNSName: "pool.example.com.", EvaluateTargetHealth: true}},
		{Name: "www.example.com.", Type: "A", SetIdentifier: "backup", Failover: "SECONDARY"},
	}
	var buf [routing.MaxPick]int
	for _, poolUp := range [][]bool{{true, false}, {false, false}} {
		p := routing.Decide(pool, poolUp)
		d := routing.Decide(www, []bool{p.Healthy(), true}) // the secondary has no health check
		i := d.Pick(0x9e3779b97f4a7c15, buf[:0])[0]
		fmt.Printf("pool %v: pool healthy %v, www answers %s\n", poolUp, p.Healthy(), www[i].SetIdentifier)
	}
	// Output:
	// pool [true false]: pool healthy true, www answers main
	// pool [false false]: pool healthy false, www answers backup
}
