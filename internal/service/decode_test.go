package service

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/failoverdns/failoverdns/internal/zone"
)

func ptr[T any](v T) *T { return &v }

// decodeCases are record sets as the store holds them: simple ones, which decodeSimple reads,
// and others, which it leaves to encoding/json.
var decodeCases = []zone.RecordSet{
	{Name: "www.example.com.", Type: "A", TTL: ptr(int64(300)), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}}},
	{Name: "example.com.", Type: "NS", TTL: ptr(int64(0)), ResourceRecords: []zone.ResourceRecord{{Value: "ns1.example.net."}, {Value: "ns2.example.net."}}},
	{Name: "t.example.com.", Type: "TXT", TTL: ptr(int64(60)), ResourceRecords: []zone.ResourceRecord{{Value: `"a;b" "c"`}}},
	{Name: "t.example.com.", Type: "TXT", TTL: ptr(int64(60)), ResourceRecords: []zone.ResourceRecord{{Value: `"<&>"`}}},
	{Name: `a\.b.example.com.`, Type: "SPF", TTL: ptr(int64(2147483647)), ResourceRecords: []zone.ResourceRecord{{Value: `"v=spf1 -all"`}}},
	{Name: "ü.example.com.", Type: "AAAA", TTL: ptr(int64(1)), ResourceRecords: []zone.ResourceRecord{{Value: "2001:db8::1"}}},
	{Name: "w.example.com.", Type: "A", SetIdentifier: "one", Weight: ptr(int64(10)), TTL: ptr(int64(60)), ResourceRecords: []zone.ResourceRecord{{Value: "192.0.2.1"}}, HealthCheckId: "hc"},
	{Name: "alias.example.com.", Type: "A", AliasTarget: &zone.AliasTarget{HostedZoneId: "Z1", DNSName: "www.example.com.", EvaluateTargetHealth: true}},
	{Name: "e.example.com.", Type: "A", TTL: ptr(int64(60))},
}

// TestDecodeSet: every stored record set decodes as encoding/json decodes it, the simple ones
// without it.
func TestDecodeSet(t *testing.T) {
	simple := 0
	for _, want := range decodeCases {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var got zone.RecordSet
		if err := decodeSet("k", b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		var viaJSON zone.RecordSet
		if err := json.Unmarshal(b, &viaJSON); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, viaJSON) {
			t.Errorf("%s decodes as %+v, want %+v", b, got, viaJSON)
		}
		var rs zone.RecordSet
		if decodeSimple(b, &rs) {
			simple++
		}
	}
	if simple != 3 {
		t.Errorf("%d of the cases were read directly, want 3 (the simple ones without escapes)", simple)
	}
	var rs zone.RecordSet
	if err := decodeSet("rrset/Z/x", []byte(`{"Name":`), &rs); err == nil {
		t.Error("a truncated value decoded")
	}
}

// FuzzDecodeSet: whatever decodeSimple reads, encoding/json reads the same.
func FuzzDecodeSet(f *testing.F) {
	for _, rs := range decodeCases {
		b, _ := json.Marshal(rs)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got zone.RecordSet
		if !decodeSimple(b, &got) {
			return
		}
		var want zone.RecordSet
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%q: read directly as %+v, but encoding/json fails: %v", b, got, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read directly as %+v, encoding/json reads %+v", b, got, want)
		}
	})
}

// BenchmarkDecodeSet reads the value of a simple record set, as a full build reads every one.
func BenchmarkDecodeSet(b *testing.B) {
	v, _ := json.Marshal(decodeCases[0])
	for _, bc := range []struct {
		name   string
		decode func(*zone.RecordSet) error
	}{
		{"direct", func(rs *zone.RecordSet) error { return decodeSet("k", v, rs) }},
		{"encoding-json", func(rs *zone.RecordSet) error { return json.Unmarshal(v, rs) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var rs zone.RecordSet
				if err := bc.decode(&rs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
