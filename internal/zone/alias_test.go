package zone

import (
	"strings"
	"testing"
)

func TestAliasCyclesRefused(t *testing.T) {
	z := zoneOf(t, baseZone)
	// b -> www, a -> b, c -> a: a chain that one UPSERT of b can close.
	if err := apply(t, z, batchOf(t, batch(
		change("CREATE", alias("b.example.com.", "A", "Z1", "www.example.com.", false, "")),
		change("CREATE", alias("a.example.com.", "A", "Z1", "b.example.com.", false, "")),
		change("CREATE", alias("c.example.com.", "A", "Z1", "a.example.com.", false, ""))))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		batch string
		want  string // "" for success
	}{
		{"self", batch(change("UPSERT", alias("b.example.com.", "A", "Z1", "b.example.com.", false, ""))),
			"that target was not found"},
		{"two", batch(change("UPSERT", alias("b.example.com.", "A", "Z1", "a.example.com.", false, ""))),
			"Alias record sets of type A form a cycle: b.example.com. -> a.example.com. -> b.example.com."},
		{"three", batch(change("UPSERT", alias("b.example.com.", "A", "Z1", "c.example.com.", false, ""))),
			"form a cycle: b.example.com. -> c.example.com. -> a.example.com. -> b.example.com."},
		{"through a failover group", batch(
			change("DELETE", alias("c.example.com.", "A", "Z1", "a.example.com.", false, "")),
			change("CREATE", alias("c.example.com.", "A", "Z1", "a.example.com.", true, `"SetIdentifier":"p","Failover":"PRIMARY"`)),
			change("CREATE", set("c.example.com.", "A", 60, `"SetIdentifier":"s","Failover":"SECONDARY"`, "192.0.2.9")),
			change("UPSERT", alias("b.example.com.", "A", "Z1", "c.example.com.", false, ""))),
			"form a cycle"},
		{"longer chain without a cycle", batch(change("UPSERT", set("mail.example.com.", "A", 60, "", "192.0.2.25")),
			change("UPSERT", alias("b.example.com.", "A", "Z1", "mail.example.com.", false, ""))),
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Plan(z, batchOf(t, tc.batch))
			kind, text := errorText(err)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Plan: %v", err)
				}
				return
			}
			if kind != "InvalidChangeBatch" || !strings.Contains(text, tc.want) {
				t.Fatalf("Plan error = %s %q, want InvalidChangeBatch containing %q", kind, text, tc.want)
			}
		})
	}
}
