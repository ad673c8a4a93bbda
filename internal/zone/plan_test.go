package zone

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// set writes a record set as Route 53 JSON; extra holds more fields ("\"SetIdentifier\":\"a\"").
func set(name, typ string, ttl int, extra string, values ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"Name":%q,"Type":%q`, name, typ)
	if ttl >= 0 {
		fmt.Fprintf(&b, `,"TTL":%d`, ttl)
	}
	if extra != "" {
		b.WriteString("," + extra)
	}
	if len(values) > 0 {
		b.WriteString(`,"ResourceRecords":[`)
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			js, _ := json.Marshal(v)
			fmt.Fprintf(&b, `{"Value":%s}`, js)
		}
		b.WriteString("]")
	}
	b.WriteString("}")
	return b.String()
}

// alias writes an alias record set as Route 53 JSON.
func alias(name, typ, zoneID, target string, eth bool, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return fmt.Sprintf(`{"Name":%q,"Type":%q,"AliasTarget":{"HostedZoneId":%q,"DNSName":%q,"EvaluateTargetHealth":%t}%s}`, name, typ, zoneID, target, eth, extra)
}

func change(action, rrset string) string {
	return fmt.Sprintf(`{"Action":%q,"ResourceRecordSet":%s}`, action, rrset)
}

func batch(changes ...string) string {
	return `{"Changes":[` + strings.Join(changes, ",") + `]}`
}

// base records of baseZone after a successful change (serial 2).
var baseRRs = []string{
	"example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 2 7200 900 1209600 86400",
	"example.com. 172800 IN NS ns1.example.net.",
	"example.com. 172800 IN NS ns2.example.net.",
	"www.example.com. 300 IN A 192.0.2.1",
	"www.example.com. 300 IN A 192.0.2.2",
	"mail.example.com. 300 IN MX 10 mx.example.net.",
	"alias.example.com. 300 IN CNAME www.example.com.",
}

// afterTwo are the records of baseZone after two successful changes (serial 3).
var afterTwo = without([]string{baseRRs[0]}, "example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 3 7200 900 1209600 86400")

// without returns baseRRs minus the given records, plus add.
func without(remove []string, add ...string) []string {
	var out []string
	for _, r := range baseRRs {
		keep := true
		for _, x := range remove {
			if r == x {
				keep = false
			}
		}
		if keep {
			out = append(out, r)
		}
	}
	return append(out, add...)
}

func TestPlanApplies(t *testing.T) {
	tests := []struct {
		name  string
		zone  string // master file; baseZone when empty
		setup string // a batch applied first
		batch string
		want  []string // every simple RR of the zone afterwards, in zone-file notation
		check func(t *testing.T, z *Zone)
	}{
		{
			name:  "create",
			batch: batch(change("CREATE", set("new.example.com.", "A", 60, "", "192.0.2.9"))),
			want:  without(nil, "new.example.com. 60 IN A 192.0.2.9"),
		},
		{
			name:  "names and values are canonicalised",
			batch: batch(change("CREATE", set("NeW.Example.COM", "MX", 60, "", "20 Mail.Example.NET", "10 mx2"))),
			want:  without(nil, "new.example.com. 60 IN MX 20 Mail.Example.NET.", "new.example.com. 60 IN MX 10 mx2."),
		},
		{
			name:  "octal escape for a wildcard",
			batch: batch(change("CREATE", set(`\052.example.com.`, "TXT", 60, "", `"hello world"`))),
			want:  without(nil, `*.example.com. 60 IN TXT "hello world"`),
		},
		{
			name:  "upsert replaces the whole set",
			batch: batch(change("UPSERT", set("www.example.com.", "A", 60, "", "192.0.2.7"))),
			want: without([]string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"},
				"www.example.com. 60 IN A 192.0.2.7"),
		},
		{
			name:  "delete with values in another order",
			batch: batch(change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.2", "192.0.2.1"))),
			want:  without([]string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}),
		},
		{
			name:  "delete matches names case-insensitively",
			batch: batch(change("DELETE", set("ALIAS.example.com", "CNAME", 300, "", "WWW.example.com."))),
			want:  without([]string{"alias.example.com. 300 IN CNAME www.example.com."}),
		},
		{
			name: "delete then create swaps A for CNAME",
			batch: batch(
				change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.1", "192.0.2.2")),
				change("CREATE", set("www.example.com.", "CNAME", 60, "", "web.example.net.")),
			),
			want: without([]string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"},
				"www.example.com. 60 IN CNAME web.example.net."),
		},
		{
			name: "delete then create the same set",
			batch: batch(
				change("DELETE", set("mail.example.com.", "MX", 300, "", "10 mx.example.net.")),
				change("CREATE", set("mail.example.com.", "MX", 300, "", "20 mx.example.net.")),
			),
			want: without([]string{"mail.example.com. 300 IN MX 10 mx.example.net."}, "mail.example.com. 300 IN MX 20 mx.example.net."),
		},
		{
			name:  "upsert the apex NS",
			batch: batch(change("UPSERT", set("example.com.", "NS", 3600, "", "ns3.example.org."))),
			want: without([]string{"example.com. 172800 IN NS ns1.example.net.", "example.com. 172800 IN NS ns2.example.net."},
				"example.com. 3600 IN NS ns3.example.org."),
		},
		{
			name:  "upsert the SOA with a greater serial keeps it",
			batch: batch(change("UPSERT", set("example.com.", "SOA", 60, "", "ns1.example.net. admin.example.com. 2024010100 3600 600 604800 300"))),
			want: without([]string{"example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 2 7200 900 1209600 86400"},
				"example.com. 60 IN SOA ns1.example.net. admin.example.com. 2024010100 3600 600 604800 300"),
		},
		{
			name:  "upsert the SOA with a smaller serial bumps the old one",
			zone:  strings.Replace(baseZone, " 1 7200", " 50 7200", 1),
			batch: batch(change("UPSERT", set("example.com.", "SOA", 900, "", "ns1.example.net. admin.example.com. 7 7200 900 1209600 86400"))),
			want: without([]string{"example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 2 7200 900 1209600 86400"},
				"example.com. 900 IN SOA ns1.example.net. admin.example.com. 51 7200 900 1209600 86400"),
		},
		{
			name:  "serial wraps around and skips 0",
			zone:  strings.Replace(baseZone, " 1 7200", " 4294967295 7200", 1),
			batch: batch(change("CREATE", set("new.example.com.", "A", 60, "", "192.0.2.9"))),
			want: without([]string{"example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 2 7200 900 1209600 86400"},
				"example.com. 900 IN SOA ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400",
				"new.example.com. 60 IN A 192.0.2.9"),
		},
		{
			name: "every supported type",
			batch: batch(
				change("CREATE", set("t.example.com.", "TXT", 60, "", `"v=spf1 -all"`)),
				change("CREATE", set("t.example.com.", "SPF", 60, "", `"v=spf1 -all"`)),
				change("CREATE", set("t.example.com.", "AAAA", 60, "", "2001:DB8::1")),
				change("CREATE", set("t.example.com.", "CAA", 60, "", `0 issue "letsencrypt.org"`)),
				change("CREATE", set("t.example.com.", "NAPTR", 60, "", `100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`)),
				change("CREATE", set("_sip._tcp.example.com.", "SRV", 60, "", "1 2 5060 sip.example.com.")),
				change("CREATE", set("1.2.0.192.example.com.", "PTR", 60, "", "host.example.com.")),
				change("CREATE", set("sub.example.com.", "NS", 60, "", "ns.sub.example.com.")),
				change("CREATE", set("sub.example.com.", "DS", 60, "", "12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")),
				change("CREATE", set("_443._tcp.example.com.", "TLSA", 60, "", "3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")),
				change("CREATE", set("t.example.com.", "SSHFP", 60, "", "4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF")),
				change("CREATE", set("_svc.example.com.", "SVCB", 60, "", "1 svc.example.net. alpn=h2")),
				change("CREATE", set("t.example.com.", "HTTPS", 60, "", "1 . alpn=h2,h3")),
			),
			want: without(nil,
				`t.example.com. 60 IN TXT "v=spf1 -all"`,
				`t.example.com. 60 IN SPF "v=spf1 -all"`,
				"t.example.com. 60 IN AAAA 2001:db8::1",
				`t.example.com. 60 IN CAA 0 issue "letsencrypt.org"`,
				`t.example.com. 60 IN NAPTR 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`,
				"_sip._tcp.example.com. 60 IN SRV 1 2 5060 sip.example.com.",
				"1.2.0.192.example.com. 60 IN PTR host.example.com.",
				"sub.example.com. 60 IN NS ns.sub.example.com.",
				"sub.example.com. 60 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
				"_443._tcp.example.com. 60 IN TLSA 3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
				"t.example.com. 60 IN SSHFP 4 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
				`_svc.example.com. 60 IN SVCB 1 svc.example.net. alpn="h2"`,
				`t.example.com. 60 IN HTTPS 1 . alpn="h2,h3"`,
			),
		},
		{
			name: "weighted TTL changed for the whole group in one batch",
			setup: batch(
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"a","Weight":1`, "192.0.2.1")),
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"b","Weight":1`, "192.0.2.2")),
			),
			batch: batch(
				change("UPSERT", set("w.example.com.", "A", 300, `"SetIdentifier":"a","Weight":1`, "192.0.2.1")),
				change("UPSERT", set("w.example.com.", "A", 300, `"SetIdentifier":"b","Weight":1`, "192.0.2.2")),
			),
			want: afterTwo,
			check: func(t *testing.T, z *Zone) {
				if a, b := findSet(t, z, "w.example.com.", "A", "a"), findSet(t, z, "w.example.com.", "A", "b"); *a.TTL != 300 || *b.TTL != 300 {
					t.Errorf("TTLs %d, %d; want 300", *a.TTL, *b.TTL)
				}
			},
		},
		{
			name: "failover sides swapped in one batch",
			setup: batch(
				change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"PRIMARY","HealthCheckId":"hc-a"`, "192.0.2.1")),
				change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"b","Failover":"SECONDARY"`, "192.0.2.2")),
			),
			batch: batch(
				change("UPSERT", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"SECONDARY"`, "192.0.2.1")),
				change("UPSERT", set("f.example.com.", "A", 60, `"SetIdentifier":"b","Failover":"PRIMARY","HealthCheckId":"hc-b"`, "192.0.2.2")),
			),
			want: afterTwo,
			check: func(t *testing.T, z *Zone) {
				if a, b := findSet(t, z, "f.example.com.", "A", "a"), findSet(t, z, "f.example.com.", "A", "b"); a.Failover != "SECONDARY" || b.Failover != "PRIMARY" {
					t.Errorf("a is %s, b is %s", a.Failover, b.Failover)
				}
			},
		},
		{
			name: "failover pair: checked primary, unchecked secondary",
			batch: batch(
				change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"PRIMARY","HealthCheckId":"hc-a"`, "192.0.2.1")),
				change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"b","Failover":"SECONDARY"`, "192.0.2.2")),
			),
			want: baseRRs,
			check: func(t *testing.T, z *Zone) {
				findSet(t, z, "f.example.com.", "A", "a")
				findSet(t, z, "f.example.com.", "A", "b")
			},
		},
		{
			name: "failover pair of aliases evaluating target health",
			batch: batch(
				change("CREATE", alias("f.example.com.", "A", "Z1", "www.example.com.", true, `"SetIdentifier":"a","Failover":"PRIMARY"`)),
				change("CREATE", alias("f.example.com.", "A", "Z2", "backup.example.net.", false, `"SetIdentifier":"b","Failover":"SECONDARY"`)),
			),
			want: baseRRs,
		},
		{
			name:  "MultiValueAnswer false is no routing policy",
			batch: batch(change("CREATE", set("m.example.com.", "A", 60, `"MultiValueAnswer":false`, "192.0.2.1"))),
			want:  without(nil, "m.example.com. 60 IN A 192.0.2.1"),
			check: func(t *testing.T, z *Zone) {
				if rs := findSet(t, z, "m.example.com.", "A", ""); rs.MultiValueAnswer != nil {
					t.Errorf("MultiValueAnswer stored: %v", *rs.MultiValueAnswer)
				}
			},
		},
		{
			name: "alias to a record set in the same zone",
			batch: batch(
				change("CREATE", alias("example.com.", "A", "Z1", "www.example.com.", true, "")),
				change("CREATE", alias("other.example.com.", "A", "/hostedzone/Z1", "WWW.example.com", false, "")),
				change("CREATE", alias("elb.example.com.", "A", "Z35SXDOTRQ7X7K", "my-lb-123.us-east-1.elb.amazonaws.com.", true, "")),
			),
			want: baseRRs,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.zone
			if text == "" {
				text = baseZone
			}
			z := zoneOf(t, text)
			if tc.setup != "" {
				if err := apply(t, z, batchOf(t, tc.setup)); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			if err := apply(t, z, batchOf(t, tc.batch)); err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if d := diffStrings(rrLines(t, tc.want), simpleRRs(t, z)); d != "" {
				t.Errorf("records after the change:%s", d)
			}
			if tc.check != nil {
				tc.check(t, z)
			}
		})
	}
}

func TestPlanRefuses(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name  string
		zone  string
		setup string // a batch applied first
		batch string
		kind  string // InvalidInput or InvalidChangeBatch
		want  string // the error text, exactly
	}{
		// Malformed requests: InvalidInput, in Route 53's words.
		{
			name:  "unknown action",
			batch: batch(change("PATCH", set("www.example.com.", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-enumeration-valid: Value 'PATCH' is not facet-valid with respect to enumeration '[CREATE, DELETE, UPSERT]'. It must be a value from the enumeration.",
		},
		{
			name:  "unknown type",
			batch: batch(change("CREATE", set("www.example.com.", "HINFO", 60, "", `"cpu" "os"`))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-enumeration-valid: Value 'HINFO' is not facet-valid with respect to enumeration '[SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]'. It must be a value from the enumeration.",
		},
		{
			name:  "no changes",
			batch: `{"Changes":[]}`,
			kind:  "InvalidInput",
			want:  `Invalid XML ; cvc-complex-type.2.4.b: The content of element 'Changes' is not complete. One of '{"https://route53.amazonaws.com/doc/2013-04-01/":Change}' is expected.`,
		},
		{
			name:  "comment too long",
			batch: `{"Comment":"` + strings.Repeat("c", 257) + `","Changes":[` + change("CREATE", set("a.example.com.", "A", 60, "", "192.0.2.1")) + `]}`,
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxLength-valid: Value '" + strings.Repeat("c", 257) + "' with length = '257' is not facet-valid with respect to maxLength '256' for type 'ResourceDescription'.",
		},
		{
			name:  "missing name",
			batch: batch(change("CREATE", set("", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: Missing field 'Name' in Change with [Action=CREATE, Name=, Type=A, SetIdentifier=null]",
		},
		{
			name:  "delete without TTL, values or alias",
			batch: batch(change("DELETE", set("x.example.com.", "A", -1, ""))),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=DELETE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "TTL without values",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, ""))),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "alias and values",
			batch: batch(change("CREATE", `{"Name":"x.example.com.","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}],"AliasTarget":{"HostedZoneId":"Z1","DNSName":"www.example.com.","EvaluateTargetHealth":false}}`)),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "traffic policy instance",
			batch: batch(change("CREATE", `{"Name":"x.example.com.","Type":"A","TrafficPolicyInstanceId":"tp-1"}`)),
			kind:  "InvalidInput",
			want:  "Invalid request: TrafficPolicyInstanceId is not supported in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "negative TTL",
			batch: batch(change("CREATE", set("x.example.com.", "A", -5, `"TTL":-5`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-minInclusive-valid: Value '-5' is not facet-valid with respect to minInclusive '0' for type 'TTL'.",
		},
		{
			name:  "TTL too large",
			batch: batch(change("CREATE", set("x.example.com.", "A", 2147483648, "", "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxInclusive-valid: Value '2147483648' is not facet-valid with respect to maxInclusive '2147483647' for type 'TTL'.",
		},
		{
			name:  "weight too large",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","Weight":256`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxInclusive-valid: Value '256' is not facet-valid with respect to maxInclusive '255' for type 'ResourceRecordSetWeight'.",
		},
		{
			name:  "set identifier too long",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"`+long+`","Weight":1`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxLength-valid: Value '" + long + "' with length = '129' is not facet-valid with respect to maxLength '128' for type 'ResourceRecordSetIdentifier'.",
		},
		{
			name:  "unknown failover side",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"TERTIARY"`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-enumeration-valid: Value 'TERTIARY' is not facet-valid with respect to enumeration '[PRIMARY, SECONDARY]'. It must be a value from the enumeration.",
		},
		{
			name:  "value too long",
			batch: batch(change("CREATE", set("x.example.com.", "TXT", 60, "", strings.Repeat("v", 4001)))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxLength-valid: Value '" + strings.Repeat("v", 4001) + "' with length = '4001' is not facet-valid with respect to maxLength '4000' for type 'RData'.",
		},
		{
			name:  "health check id too long",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"HealthCheckId":"`+strings.Repeat("h", 65)+`"`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxLength-valid: Value '" + strings.Repeat("h", 65) + "' with length = '65' is not facet-valid with respect to maxLength '64' for type 'HealthCheckId'.",
		},
		{
			name:  "set identifier without a routing policy",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a"`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "two routing policies",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","Weight":1,"Region":"us-east-1"`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found more than one in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "routing policy without a set identifier",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"Weight":1`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: Missing field 'SetIdentifier' in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "alias without hosted zone",
			batch: batch(change("CREATE", alias("x.example.com.", "A", "", "www.example.com.", false, ""))),
			kind:  "InvalidInput",
			want:  "Invalid request: Missing field 'AliasTarget.HostedZoneId' in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "alias without DNS name",
			batch: batch(change("CREATE", alias("x.example.com.", "A", "Z1", "", false, ""))),
			kind:  "InvalidInput",
			want:  "Invalid request: Missing field 'AliasTarget.DNSName' in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=null]",
		},
		{
			name:  "continent code of three letters",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoLocation":{"ContinentCode":"EUR"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-length-valid: Value 'EUR' with length = '3' is not facet-valid with respect to length '2' for type 'GeoLocationContinentCode'.",
		},
		{
			name:  "country code of three letters",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoLocation":{"CountryCode":"USA"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxLength-valid: Value 'USA' with length = '3' is not facet-valid with respect to maxLength '2' for type 'GeoLocationCountryCode'.",
		},
		{
			name:  "subdivision code of four letters",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoLocation":{"CountryCode":"US","SubdivisionCode":"WASH"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxLength-valid: Value 'WASH' with length = '4' is not facet-valid with respect to maxLength '3' for type 'GeoLocationSubdivisionCode'.",
		},
		{
			name:  "unknown continent",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoLocation":{"ContinentCode":"XX"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: 'XX' is not a valid ContinentCode (one of AF, AN, AS, EU, OC, NA, SA) in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "continent and country",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoLocation":{"ContinentCode":"EU","CountryCode":"DE"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: GeoLocation cannot have both a ContinentCode and a CountryCode in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "subdivision without country",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoLocation":{"ContinentCode":"NA","SubdivisionCode":"WA"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: GeoLocation SubdivisionCode requires a CountryCode in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "CIDR collection id that is not a UUID",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","CidrRoutingConfig":{"CollectionId":"abc","LocationName":"office"}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-length-valid: Value 'abc' with length = '3' is not facet-valid with respect to length '36' for type 'UUID'.",
		},
		{
			name:  "geoproximity without a location",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoProximityLocation":{"Bias":5}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [AWSRegion, LocalZoneGroup, or Coordinates], but found none in GeoProximityLocation in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "geoproximity bias out of range",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","GeoProximityLocation":{"AWSRegion":"us-east-1","Bias":100}`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-maxInclusive-valid: Value '100' is not facet-valid with respect to maxInclusive '99' for type 'Bias'.",
		},
		{
			name:  "MultiValueAnswer false with a set identifier",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, `"SetIdentifier":"a","MultiValueAnswer":false`, "192.0.2.1"))),
			kind:  "InvalidInput",
			want:  "Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in Change with [Action=CREATE, Name=x.example.com., Type=A, SetIdentifier=a]",
		},
		{
			name:  "the first malformed change ends the request",
			batch: batch(change("CREATE", set("x.example.org.", "A", 60, "", "192.0.2.1")), change("CREATE", set("y.example.com.", "BOGUS", 60, "", "1"))),
			kind:  "InvalidInput",
			want:  "Invalid XML ; cvc-enumeration-valid: Value 'BOGUS' is not facet-valid with respect to enumeration '[SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS]'. It must be a value from the enumeration.",
		},

		// Conflicts with the zone: InvalidChangeBatch, every message of the batch at once.
		{
			name:  "name outside the zone",
			batch: batch(change("CREATE", set("www.example.org.", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet with DNS name www.example.org. is not permitted in zone example.com.]",
		},
		{
			name:  "name that only ends like the zone",
			batch: batch(change("CREATE", set("wwwexample.com.", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet with DNS name wwwexample.com. is not permitted in zone example.com.]",
		},
		{
			name:  "empty label",
			batch: batch(change("CREATE", set("a..example.com", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with 'a..example.com']",
		},
		{
			name:  "label too long",
			batch: batch(change("CREATE", set(strings.Repeat("a", 64)+".example.com.", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[FATAL problem: DomainLabelTooLong (Domain label is too long) encountered with '" + strings.Repeat("a", 64) + ".example.com.']",
		},
		{
			name:  "unescaped space in a name",
			batch: batch(change("CREATE", set("a b.example.com.", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[FATAL problem: UnsupportedCharacter (Value contains unsupported characters) encountered with 'a b.example.com.']",
		},
		{
			name:  "wildcard not leftmost",
			batch: batch(change("CREATE", set("a.*.example.com.", "A", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  `[RRSet with DNS name a.\052.example.com. is not permitted: the * wildcard is only allowed as the leftmost label]`,
		},
		{
			name:  "wildcard NS",
			batch: batch(change("CREATE", set("*.example.com.", "NS", 60, "", "ns.example.net."))),
			kind:  "InvalidChangeBatch",
			want:  `[RRSet of type NS with DNS name \052.example.com. is not permitted: wildcard NS records are not supported]`,
		},
		{
			name:  "create an existing set",
			batch: batch(change("CREATE", set("www.example.com.", "A", 300, "", "192.0.2.1", "192.0.2.2"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]",
		},
		{
			name:  "create an existing set with a set identifier",
			setup: batch(change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":1`, "192.0.2.1"))),
			batch: batch(change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":2`, "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to create resource record set [name='w.example.com.', type='A', set identifier='blue'] but it already exists]",
		},
		{
			name:  "delete a weighted set with another weight",
			setup: batch(change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":1`, "192.0.2.1"))),
			batch: batch(change("DELETE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":2`, "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='w.example.com.', type='A', set identifier='blue'] but the values provided do not match the current values]",
		},
		{
			name: "create, delete and create again",
			batch: batch(
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":1`, "192.0.2.1")),
				change("DELETE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":1`, "192.0.2.1")),
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":1`, "192.0.2.1")),
			),
			kind: "InvalidChangeBatch",
			want: "[The request contains an invalid set of changes for a resource record set 'A w.example.com.']",
		},
		{
			name:  "delete a missing set",
			batch: batch(change("DELETE", set("nope.example.com.", "A", 300, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='nope.example.com.', type='A'] but it was not found]",
		},
		{
			name:  "delete a missing set with a set identifier",
			batch: batch(change("DELETE", set("www.example.com.", "A", 300, `"SetIdentifier":"x","Weight":5`, "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='www.example.com.', type='A', set identifier='x'] but it was not found]",
		},
		{
			name:  "delete with another TTL",
			batch: batch(change("DELETE", set("www.example.com.", "A", 60, "", "192.0.2.1", "192.0.2.2"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]",
		},
		{
			name:  "delete with fewer values",
			batch: batch(change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]",
		},
		{
			name:  "delete with a health check the set does not have",
			batch: batch(change("DELETE", set("www.example.com.", "A", 300, `"HealthCheckId":"hc"`, "192.0.2.1", "192.0.2.2"))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]",
		},
		{
			name:  "delete a set with an alias",
			batch: batch(change("DELETE", alias("www.example.com.", "A", "Z1", "mail.example.com.", false, ""))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]",
		},
		{
			name: "delete the same set twice",
			batch: batch(
				change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.1", "192.0.2.2")),
				change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.1", "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[The request contains an invalid set of changes for a resource record set 'A www.example.com.']",
		},
		{
			name: "upsert the same set twice",
			batch: batch(
				change("UPSERT", set("new.example.com.", "A", 300, "", "192.0.2.1")),
				change("UPSERT", set("NEW.example.com.", "A", 300, "", "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[The request contains an invalid set of changes for a resource record set 'A new.example.com.']",
		},
		{
			name: "create then delete",
			batch: batch(
				change("CREATE", set("new.example.com.", "A", 300, "", "192.0.2.1")),
				change("DELETE", set("new.example.com.", "A", 300, "", "192.0.2.1")),
			),
			kind: "InvalidChangeBatch",
			want: "[The request contains an invalid set of changes for a resource record set 'A new.example.com.']",
		},
		{
			name:  "CNAME next to other types",
			batch: batch(change("CREATE", set("www.example.com.", "CNAME", 300, "", "web.example.net."))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]",
		},
		{
			name:  "CNAME at the apex",
			batch: batch(change("CREATE", set("example.com.", "CNAME", 300, "", "web.example.net."))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type CNAME with DNS name example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]",
		},
		{
			name:  "other type next to a CNAME",
			batch: batch(change("CREATE", set("alias.example.com.", "TXT", 300, "", `"x"`))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type TXT with DNS name alias.example.com. is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone example.com.]",
		},
		{
			name: "create then delete a conflicting type fails (order matters)",
			batch: batch(
				change("CREATE", set("www.example.com.", "CNAME", 60, "", "web.example.net.")),
				change("DELETE", set("www.example.com.", "A", 300, "", "192.0.2.1", "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]",
		},
		{
			name:  "CNAME with two values",
			batch: batch(change("CREATE", set("c.example.com.", "CNAME", 300, "", "a.example.net.", "b.example.net."))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type CNAME with DNS name c.example.com. must contain exactly one resource record]",
		},
		{
			name:  "delete the SOA",
			batch: batch(change("DELETE", set("example.com.", "SOA", 900, "", "ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400"))),
			kind:  "InvalidChangeBatch",
			want:  "[A HostedZone must contain exactly one SOA record.]",
		},
		{
			name:  "delete the apex NS",
			batch: batch(change("DELETE", set("example.com.", "NS", 172800, "", "ns1.example.net.", "ns2.example.net."))),
			kind:  "InvalidChangeBatch",
			want:  "[A HostedZone must contain at least one NS record for the zone itself.]",
		},
		{
			name: "delete both (Route 53's example)",
			batch: batch(
				change("DELETE", set("example.com.", "NS", 172800, "", "ns1.example.net.", "ns2.example.net.")),
				change("DELETE", set("example.com.", "SOA", 900, "", "ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400")),
			),
			kind: "InvalidChangeBatch",
			want: "[A HostedZone must contain at least one NS record for the zone itself., A HostedZone must contain exactly one SOA record.]",
		},
		{
			name:  "SOA below the apex",
			batch: batch(change("CREATE", set("www.example.com.", "SOA", 900, "", "ns1.example.net. hostmaster.example.com. 1 7200 900 1209600 86400"))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type SOA with DNS name www.example.com. is not permitted: SOA records are only allowed at the zone apex example.com.]",
		},
		{
			name:  "SOA with two values",
			batch: batch(change("UPSERT", set("example.com.", "SOA", 900, "", "ns1.example.net. hostmaster.example.com. 5 7200 900 1209600 86400", "ns2.example.net. hostmaster.example.com. 5 7200 900 1209600 86400"))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type SOA with DNS name example.com. must contain exactly one resource record]",
		},
		{
			name:  "apex NS with a routing policy",
			batch: batch(change("CREATE", set("example.com.", "NS", 900, `"SetIdentifier":"a","Weight":1`, "ns3.example.net."))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type NS with DNS name example.com. is not permitted: the zone's own SOA and NS records cannot have a routing policy]",
		},
		{
			name:  "alias of type NS",
			batch: batch(change("CREATE", alias("sub.example.com.", "NS", "Z1", "www.example.com.", false, ""))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet of type NS with DNS name sub.example.com. is not permitted: alias records of type NS and SOA are not supported]",
		},
		{
			name:  "too many records",
			batch: batch(change("CREATE", set("big.example.com.", "TXT", 60, "", manyValues(1001)...))),
			kind:  "InvalidChangeBatch",
			want:  "[Number of records limit of 1000 exceeded.]",
		},
		{
			name:  "upsert counts twice",
			batch: batch(change("UPSERT", set("big.example.com.", "TXT", 60, "", manyValues(501)...))),
			kind:  "InvalidChangeBatch",
			want:  "[Number of records limit of 1000 exceeded.]",
		},
		{
			name:  "too many characters",
			batch: batch(change("CREATE", set("a.example.com.", "TXT", 60, "", append(manyLong(8, 3997), `"x"`)...))),
			kind:  "InvalidChangeBatch",
			want:  "[Number of characters in values limit of 32000 exceeded.]",
		},
		{
			name:  "value that is not an IPv4 address",
			batch: batch(change("CREATE", set("x.example.com.", "A", 60, "", "192.0.2"))),
			kind:  "InvalidChangeBatch",
			want:  "[Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '192.0.2'' for [name='x.example.com.', type='A']]",
		},
		{
			name:  "value that is not an IPv6 address",
			batch: batch(change("CREATE", set("x.example.com.", "AAAA", 60, "", "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[Invalid Resource Record: 'FATAL problem: AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) encountered with '192.0.2.1'' for [name='x.example.com.', type='AAAA']]",
		},
		{
			name:  "MX value without a preference",
			batch: batch(change("CREATE", set("x.example.com.", "MX", 60, "", "mail.example.com."))),
			kind:  "InvalidChangeBatch",
			want:  "[Invalid Resource Record: 'FATAL problem: MXRRDATAIllegal (Value is not valid MX RDATA: bad MX Pref) encountered with 'mail.example.com.'' for [name='x.example.com.', type='MX']]",
		},
		{
			name:  "empty value",
			batch: batch(change("CREATE", set("x.example.com.", "TXT", 60, "", " "))),
			kind:  "InvalidChangeBatch",
			want:  "[Invalid Resource Record: 'FATAL problem: TXTRRDATAIllegal (Value is not valid TXT RDATA: empty value) encountered with ' '' for [name='x.example.com.', type='TXT']]",
		},
		{
			name:  "duplicate values",
			batch: batch(change("CREATE", set("x.example.com.", "NS", 60, "", "ns.example.net.", "NS.example.net"))),
			kind:  "InvalidChangeBatch",
			want:  "[Duplicate Resource Record: 'NS.example.net.']",
		},
		{
			name:  "weighted set next to a simple one (Route 53's example)",
			zone:  baseZone + "txt IN TXT \"a\"\n",
			batch: batch(change("CREATE", set("txt.example.com.", "TXT", 300, `"SetIdentifier":"id","Weight":1`, `"b"`))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet with DNS name txt.example.com., type TXT, SetIdentifier id cannot be created as a non-weighted set exists with the same name and type.]",
		},
		{
			name:  "simple set next to weighted ones",
			batch: batch(change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"a","Weight":1`, "192.0.2.1")), change("CREATE", set("w.example.com.", "A", 60, "", "192.0.2.2"))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet with DNS name w.example.com., type A cannot be created as a non-simple set exists with the same name and type.]",
		},
		{
			name: "failover set next to weighted ones",
			batch: batch(
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"a","Weight":1`, "192.0.2.1")),
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"b","Failover":"SECONDARY"`, "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[RRSet with DNS name w.example.com., type A, SetIdentifier b cannot be created as a non-failover set exists with the same name and type.]",
		},
		{
			name:  "primary without a health check",
			batch: batch(change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"PRIMARY"`, "192.0.2.1"))),
			kind:  "InvalidChangeBatch",
			want:  "[A non-alias primary ResourceRecordSet must have an associated health check.]",
		},
		{
			name:  "primary alias without target health",
			batch: batch(change("CREATE", alias("f.example.com.", "A", "Z1", "www.example.com.", false, `"SetIdentifier":"a","Failover":"PRIMARY"`))),
			kind:  "InvalidChangeBatch",
			want:  "[A primary failover alias ResourceRecordSet must have EvaluateTargetHealth set to true or an associated health check.]",
		},
		{
			name: "two primaries",
			batch: batch(
				change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"PRIMARY","HealthCheckId":"hc-a"`, "192.0.2.1")),
				change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"b","Failover":"PRIMARY","HealthCheckId":"hc-b"`, "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[RRSet with DNS name f.example.com., type A, SetIdentifier b cannot be created as the set with SetIdentifier a has the same Failover PRIMARY.]",
		},
		{
			name: "two latency sets in one region",
			batch: batch(
				change("CREATE", set("l.example.com.", "A", 60, `"SetIdentifier":"a","Region":"eu-west-1"`, "192.0.2.1")),
				change("CREATE", set("l.example.com.", "A", 60, `"SetIdentifier":"b","Region":"eu-west-1"`, "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[RRSet with DNS name l.example.com., type A, SetIdentifier b cannot be created as the set with SetIdentifier a has the same Region eu-west-1.]",
		},
		{
			name: "weighted sets with different TTLs",
			batch: batch(
				change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"a","Weight":1`, "192.0.2.1")),
				change("CREATE", set("w.example.com.", "A", 300, `"SetIdentifier":"b","Weight":1`, "192.0.2.2")),
			),
			kind: "InvalidChangeBatch",
			want: "[RRSet with DNS name w.example.com., type A, SetIdentifier b cannot be created with TTL 300 as the other weighted sets with the same name and type have TTL 60.]",
		},
		{
			name:  "multivalue alias",
			batch: batch(change("CREATE", alias("m.example.com.", "A", "Z1", "www.example.com.", true, `"SetIdentifier":"a","MultiValueAnswer":true`))),
			kind:  "InvalidChangeBatch",
			want:  "[RRSet with DNS name m.example.com., type A, SetIdentifier a is not permitted: multivalue answer records cannot be alias records]",
		},
		{
			name:  "alias to a missing target in the same zone",
			batch: batch(change("CREATE", alias("a.example.com.", "A", "Z1", "nope.example.com.", false, ""))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to create an alias that targets nope.example.com., type A in zone Z1, but that target was not found]",
		},
		{
			name:  "alias to a target of another type",
			batch: batch(change("CREATE", alias("a.example.com.", "AAAA", "Z1", "www.example.com.", false, ""))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to create an alias that targets www.example.com., type AAAA in zone Z1, but that target was not found]",
		},
		{
			name:  "alias to a name outside the same zone",
			batch: batch(change("CREATE", alias("a.example.com.", "A", "Z1", "www.example.org.", false, ""))),
			kind:  "InvalidChangeBatch",
			want:  "[Tried to create an alias that targets www.example.org., type A in zone Z1, but the alias target name does not lie within the target zone]",
		},
		{
			name: "every problem of the batch at once",
			batch: batch(
				change("CREATE", set("www.example.com.", "A", 300, "", "192.0.2.1")),
				change("CREATE", set("x.example.org.", "A", 300, "", "192.0.2.1")),
				change("DELETE", set("gone.example.com.", "A", 300, "", "192.0.2.1")),
				change("CREATE", set("ok.example.com.", "A", 300, "", "192.0.2.1")),
				change("CREATE", set("bad.example.com.", "A", 300, "", "192.0.2.300")),
			),
			kind: "InvalidChangeBatch",
			want: "[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists, " +
				"RRSet with DNS name x.example.org. is not permitted in zone example.com., " +
				"Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found, " +
				"Invalid Resource Record: 'FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '192.0.2.300'' for [name='bad.example.com.', type='A']]",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := tc.zone
			if text == "" {
				text = baseZone
			}
			z := zoneOf(t, text)
			if tc.setup != "" {
				if err := apply(t, z, batchOf(t, tc.setup)); err != nil {
					t.Fatalf("setup: %v", err)
				}
			}
			before := simpleRRs(t, z)
			d, err := Plan(z, batchOf(t, tc.batch))
			kind, got := errorText(err)
			if kind != tc.kind || got != tc.want {
				t.Errorf("Plan error:\n got %s: %s\nwant %s: %s", kind, got, tc.kind, tc.want)
			}
			if len(d.Put)+len(d.Delete) != 0 {
				t.Errorf("a refused batch returned a diff: %+v", d)
			}
			if d := diffStrings(before, simpleRRs(t, z)); d != "" {
				t.Errorf("Plan modified the zone:%s", d)
			}
		})
	}
}

func manyValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`"%d"`, i)
	}
	return out
}

func manyLong(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`"%d%s"`, i, strings.Repeat("b", size))
	}
	return out
}

func TestPlanDiffIsMinimal(t *testing.T) {
	z := zoneOf(t, baseZone)
	d, err := Plan(z, batchOf(t, batch(
		change("UPSERT", set("www.example.com.", "A", 300, "", "192.0.2.2", "192.0.2.1")),
		change("DELETE", set("mail.example.com.", "MX", 300, "", "10 mx.example.net.")),
		change("CREATE", set("mail.example.com.", "MX", 300, "", "10 MX.example.net.")),
		change("CREATE", set("new.example.com.", "A", 60, "", "192.0.2.9")),
		change("DELETE", set("alias.example.com.", "CNAME", 300, "", "www.example.com.")),
	)))
	if err != nil {
		t.Fatal(err)
	}
	var puts []string
	for _, rs := range d.Put {
		puts = append(puts, rs.Name+" "+rs.Type)
	}
	if got, want := strings.Join(puts, ", "), "example.com. SOA, new.example.com. A"; got != want {
		t.Errorf("Put = %s, want %s", got, want)
	}
	if len(d.Delete) != 1 || d.Delete[0] != (Key{Name: "alias.example.com.", Type: "CNAME"}) {
		t.Errorf("Delete = %+v", d.Delete)
	}
}

func TestPlanStoresRoutingFields(t *testing.T) {
	z := zoneOf(t, baseZone)
	err := apply(t, z, batchOf(t, batch(
		change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"a","Failover":"PRIMARY","HealthCheckId":"hc-a"`, "192.0.2.1")),
		change("CREATE", alias("f.example.com.", "A", "Z1", "www.example.com.", true, `"SetIdentifier":"b","Failover":"SECONDARY"`)),
		change("CREATE", set("m.example.com.", "A", 60, `"SetIdentifier":"a","MultiValueAnswer":true`, "192.0.2.1")),
		change("CREATE", set("g.example.com.", "A", 60, `"SetIdentifier":"default","GeoLocation":{"CountryCode":"*"}`, "192.0.2.1")),
		change("CREATE", set("g.example.com.", "A", 60, `"SetIdentifier":"us-wa","GeoLocation":{"CountryCode":"US","SubdivisionCode":"WA"}`, "192.0.2.2")),
		change("CREATE", set("c.example.com.", "A", 60, `"SetIdentifier":"x","CidrRoutingConfig":{"CollectionId":"0f2f7e5c-4c55-4b9a-9a2b-0c5b0c9b1a11","LocationName":"office"}`, "192.0.2.1")),
		change("CREATE", set("p.example.com.", "A", 60, `"SetIdentifier":"x","GeoProximityLocation":{"Coordinates":{"Latitude":"49.22","Longitude":"-74.01"},"Bias":10}`, "192.0.2.1")),
	)))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(findSet(t, z, "f.example.com.", "A", "b"))
	if want := `{"Name":"f.example.com.","Type":"A","SetIdentifier":"b","Failover":"SECONDARY","AliasTarget":{"HostedZoneId":"Z1","DNSName":"www.example.com.","EvaluateTargetHealth":true}}`; string(js) != want {
		t.Errorf("stored\n %s\nwant\n %s", js, want)
	}
	// The caller's batch is not shared with the zone.
	b := batchOf(t, batch(change("CREATE", set("n.example.com.", "A", 60, "", "192.0.2.1"))))
	if err := apply(t, z, b); err != nil {
		t.Fatal(err)
	}
	*b.Changes[0].ResourceRecordSet.TTL = 1
	b.Changes[0].ResourceRecordSet.ResourceRecords[0].Value = "x"
	if rs := findSet(t, z, "n.example.com.", "A", ""); *rs.TTL != 60 || rs.ResourceRecords[0].Value != "192.0.2.1" {
		t.Errorf("zone shares memory with the batch: %+v", rs)
	}
}

func TestValidateRecordSet(t *testing.T) {
	ttl := int64(60)
	tests := []struct {
		name string
		rs   RecordSet
		want string
	}{
		{"valid", RecordSet{Name: "www.example.com", Type: "A", TTL: &ttl, ResourceRecords: []ResourceRecord{{Value: "192.0.2.1"}}}, ""},
		{"outside", RecordSet{Name: "www.example.org", Type: "A", TTL: &ttl, ResourceRecords: []ResourceRecord{{Value: "192.0.2.1"}}}, "[RRSet with DNS name www.example.org. is not permitted in zone example.com.]"},
		{"no values", RecordSet{Name: "www.example.com", Type: "A"}, "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in ResourceRecordSet with [Name=www.example.com., Type=A, SetIdentifier=null]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := errorText(ValidateRecordSet("example.com.", tc.rs))
			if got != tc.want {
				t.Errorf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}
