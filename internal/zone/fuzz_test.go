package zone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseMasterFile checks that any master file either fails cleanly or gives a valid zone
// that survives an export and a re-import unchanged.
func FuzzParseMasterFile(f *testing.F) {
	f.Add(baseZone)
	f.Add("$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n@ NS ns1\n$GENERATE 1-3 h$ A 10.0.0.$\n* TXT \"a\" b\n")
	f.Add("@ 1 SOA a. b. 1 2 3 4 5\n@ 1 NS a.\nx 1 HTTPS 1 . alpn=h2 ech=AAAA\nx 1 CAA 0 issue \";\"\n")
	f.Add("@ 1 SOA a. b. 1 2 3 4 5\n@ 1 NS a.\nx 1 NAPTR 1 1 \"\" \"\" \"\" .\ny 1 SVCB 0 x.\n")
	f.Add("$ORIGIN example.com.\n@ 1 SOA a. b. ( 1\n 2 3 4 5 )\n@ 1 NS a.\n\\# 1 TXT \\# 3 026869\n")
	f.Fuzz(func(t *testing.T, file string) {
		if bigGenerate(file) {
			return // correct but slow: it would stall the fuzzer
		}
		sets, err := ParseMasterFile("example.com.", strings.NewReader(file))
		if err != nil {
			return
		}
		z := &Zone{ID: "Z1", Name: "example.com.", RecordSets: sets}
		if err := Validate(z); err != nil {
			t.Fatalf("imported zone is invalid: %v\n%s", err, file)
		}
		var buf bytes.Buffer
		if err := WriteMasterFile(&buf, z); err != nil {
			t.Fatalf("export: %v", err)
		}
		again, err := ParseMasterFile("example.com.", bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("re-import: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(again, sets) {
			t.Fatalf("re-import differs:\n%s", buf.String())
		}
	})
}

// bigGenerate reports whether file has a $GENERATE of more than 256 steps.
func bigGenerate(file string) bool {
	up := strings.ToUpper(file)
	for {
		i := strings.Index(up, "$GENERATE")
		if i < 0 {
			return false
		}
		up = up[i+len("$GENERATE"):]
		f := strings.Fields(up)
		if len(f) == 0 {
			return false
		}
		rng, _, _ := strings.Cut(f[0], "/")
		lo, hi, _ := strings.Cut(rng, "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil || b-a > 256 {
			return err1 == nil && err2 == nil
		}
	}
}

// FuzzPlan decodes a JSON change batch and plans it against a small zone: no panic, and a
// successful Plan leaves a valid zone.
func FuzzPlan(f *testing.F) {
	f.Add(batch(change("CREATE", set("new.example.com.", "A", 60, "", "192.0.2.9"))))
	f.Add(batch(change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.1", "192.0.2.2")), change("CREATE", set("www.example.com.", "CNAME", 60, "", "x."))))
	f.Add(batch(change("UPSERT", set("example.com.", "SOA", 60, "", "a. b. 0 1 2 3 4"))))
	f.Add(batch(change("UPSERT", set("example.com.", "NS", 60, "", "a.", "b."))))
	f.Add(batch(change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"PRIMARY","HealthCheckId":"h"`, "192.0.2.1")), change("CREATE", alias("f.example.com.", "A", "Z1", "www.example.com.", true, `"SetIdentifier":"b","Failover":"SECONDARY"`))))
	f.Add(batch(change("CREATE", set(`\052.example.com`, "TXT", 60, "", `"x" y`)), change("CREATE", set("w.example.com", "A", 1, `"SetIdentifier":"a","Weight":0`, "1.1.1.1"))))
	f.Add(batch(change("CREATE", set("g.example.com.", "MX", 60, `"SetIdentifier":"d","GeoLocation":{"CountryCode":"*"}`, "1 a."))))
	f.Add(batch(change("CREATE", set("x.example.com.", "HTTPS", 60, "", "1 . alpn=h2 mandatory=alpn"))))
	f.Fuzz(func(t *testing.T, js string) {
		var b ChangeBatch
		if json.Unmarshal([]byte(js), &b) != nil {
			return
		}
		z := zoneOf(t, baseZone)
		d, err := Plan(z, b)
		if err != nil {
			return
		}
		z.Apply(d)
		if err := Validate(z); err != nil {
			t.Fatalf("zone invalid after a successful Plan: %v\nbatch: %s", err, js)
		}
		// The zone still exports and re-imports (its simple record sets unchanged).
		var buf bytes.Buffer
		if err := WriteMasterFile(&buf, z); err != nil {
			t.Fatalf("export: %v", err)
		}
		sets, err := ParseMasterFile(z.Name, bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("re-import: %v\n%s", err, buf.String())
		}
		var want []RecordSet
		for _, rs := range z.RecordSets {
			if rs.AliasTarget == nil && rs.SetIdentifier == "" {
				want = append(want, rs)
			}
		}
		if !reflect.DeepEqual(sets, want) {
			g, _ := json.Marshal(sets)
			w, _ := json.Marshal(want)
			t.Fatalf("re-import differs:\n got %s\nwant %s", g, w)
		}
	})
}

// generatedZone returns a master file with n record sets of mixed types.
func generatedZone(n int) string {
	var b strings.Builder
	b.WriteString("$ORIGIN example.com.\n$TTL 300\n@ SOA ns1.example.net. hostmaster 1 7200 900 1209600 86400\n@ NS ns1.example.net.\n@ NS ns2.example.net.\n")
	for i := 0; b.Len() >= 0 && i < n; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, "host%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		case 1:
			fmt.Fprintf(&b, "host%d AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
		case 2:
			fmt.Fprintf(&b, "txt%d TXT \"v=spf1 ip4:10.0.0.%d -all\"\n", i, i&255)
		case 3:
			fmt.Fprintf(&b, "www%d.sub%d CNAME host%d\n", i, i%100, i-3)
		}
	}
	return b.String()
}

func BenchmarkParseMasterFile(b *testing.B) {
	file := generatedZone(100_000)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		sets, err := ParseMasterFile("example.com.", strings.NewReader(file))
		if err != nil {
			b.Fatal(err)
		}
		if len(sets) != 100_002 {
			b.Fatalf("%d record sets", len(sets))
		}
	}
}

func BenchmarkPlan(b *testing.B) {
	sets, err := ParseMasterFile("example.com.", strings.NewReader(generatedZone(100_000)))
	if err != nil {
		b.Fatal(err)
	}
	z := &Zone{ID: "Z1", Name: "example.com.", RecordSets: sets}
	cb := batchOf(b, batch(
		change("UPSERT", set("host4.example.com.", "A", 60, "", "192.0.2.1")),
		change("CREATE", set("new.example.com.", "A", 60, "", "192.0.2.2")),
		change("DELETE", set("txt2.example.com.", "TXT", 300, "", `"v=spf1 ip4:10.0.0.2 -all"`)),
	))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Plan(z, cb); err != nil {
			b.Fatal(err)
		}
	}
}
