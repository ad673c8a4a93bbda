package api

import (
	"errors"
	"testing"

	"github.com/failoverdns/failoverdns/internal/service"
)

// FuzzRoute53Body feeds arbitrary bodies to the strict XML reader of change batches and health
// checks: it must never panic, and every refusal must be an InvalidInput a client can act on.
func FuzzRoute53Body(f *testing.F) {
	f.Add(`<ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>a.example.com</Name><Type>A</Type><TTL>0</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`)
	f.Add(`<CreateHealthCheckRequest><CallerReference>r</CallerReference><HealthCheckConfig><Type>TCP</Type><Port>80</Port><Inverted>true</Inverted></HealthCheckConfig></CreateHealthCheckRequest>`)
	f.Add(`<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><TTL><X/></TTL>`)
	f.Add(`<a/><b/>`)
	f.Fuzz(func(t *testing.T, body string) {
		for _, tc := range []struct {
			root string
			v    any
		}{
			{"ChangeResourceRecordSetsRequest", &changeBatchRequest{}},
			{"CreateHealthCheckRequest", &createCheckRequest{}},
		} {
			err := decodeXML([]byte(body), tc.root, tc.v)
			var se *service.Error
			if err != nil && (!errors.As(err, &se) || se.Code != service.CodeInvalidInput || se.Message == "") {
				t.Fatalf("decodeXML(%q) = %v; want nil or an InvalidInput", body, err)
			}
		}
	})
}
