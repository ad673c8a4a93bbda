package service

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestImportMasterFile: a master file replaces the zone's record sets; one with a bad line is
// refused naming that line, and changes nothing.
func TestImportMasterFile(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, _, err := s.CreateZone(ctx, "imp.test", "ref-imp", ""); err != nil {
		t.Fatal(err)
	}
	good := `$TTL 300
@    IN SOA ns1.imp.test. hostmaster.imp.test. 7 7200 900 1209600 300
@    IN NS  ns1.imp.test.
ns1  IN A   192.0.2.1
www  IN A   192.0.2.2
`
	if _, err := s.ImportMasterFile(ctx, "imp.test", strings.NewReader(good), "import"); err != nil {
		t.Fatal(err)
	}
	z, err := s.Zone(ctx, "imp.test")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rs := range z.RecordSets {
		got = append(got, rs.Name+" "+rs.Type)
	}
	if want := "imp.test. NS,imp.test. SOA,ns1.imp.test. A,www.imp.test. A"; strings.Join(got, ",") != want {
		t.Errorf("after the import the zone holds %s, want %s", strings.Join(got, ","), want)
	}
	hz, _ := s.GetZone(ctx, "imp.test")
	if hz.ResourceRecordSetCount != 4 {
		t.Errorf("ResourceRecordSetCount %d, want 4", hz.ResourceRecordSetCount)
	}

	bad := strings.Replace(good, "www  IN A   192.0.2.2", "www  IN A   192.0.2.300", 1)
	_, err = s.ImportMasterFile(ctx, "imp.test", strings.NewReader(bad), "import")
	var se *Error
	if !errors.As(err, &se) || se.Code != CodeInvalidInput || !strings.Contains(se.Message, "line 5") {
		t.Fatalf("importing a bad address: %v; want InvalidInput naming line 5", err)
	}
	if after, _ := s.Zone(ctx, "imp.test"); len(after.RecordSets) != 4 || after.RecordSets[3].ResourceRecords[0].Value != "192.0.2.2" {
		t.Errorf("a refused import changed the zone: %+v", after.RecordSets)
	}
	if _, err := s.ImportMasterFile(ctx, "nope.test", strings.NewReader(good), ""); !errors.As(err, &se) || se.Code != CodeNoSuchHostedZone {
		t.Errorf("importing into a missing zone: %v", err)
	}
}
