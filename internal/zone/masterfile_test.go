package zone

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseMasterFile(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{
			name: "directives, relative names and a multi-line SOA",
			file: `$ORIGIN example.com.
$TTL 1h
@ IN SOA ns1.example.net. hostmaster (
        2024010101 ; serial
        7200 900 1209600 86400 )
  IN NS ns1.example.net.
  IN NS ns2.example.net.
WWW 60 IN A 192.0.2.1
$ORIGIN sub.example.com.
deep IN TXT "a;b" ; a comment
`,
			want: []string{
				"example.com. 3600 IN SOA ns1.example.net. hostmaster.example.com. 2024010101 7200 900 1209600 86400",
				"example.com. 3600 IN NS ns1.example.net.",
				"example.com. 3600 IN NS ns2.example.net.",
				"www.example.com. 60 IN A 192.0.2.1",
				`deep.sub.example.com. 3600 IN TXT "a;b"`,
			},
		},
		{
			name: "a set takes the smallest TTL and drops duplicates",
			file: `example.com. 300 IN SOA ns1.example.net. hostmaster.example.com. 1 2 3 4 5
example.com. 300 IN NS ns1.example.net.
www.example.com. 300 IN A 192.0.2.1
www.example.com. 60 IN A 192.0.2.2
www.example.com. 300 IN A 192.0.2.1
example.com. 300 IN NS NS1.example.net.
`,
			want: []string{
				"example.com. 300 IN SOA ns1.example.net. hostmaster.example.com. 1 2 3 4 5",
				"example.com. 300 IN NS ns1.example.net.",
				"www.example.com. 60 IN A 192.0.2.1",
				"www.example.com. 60 IN A 192.0.2.2",
			},
		},
		{
			name: "$GENERATE takes the $TTL default unless it has a TTL",
			file: `$TTL 600
@ SOA ns1.example.net. hostmaster 1 2 3 4 5
@ NS ns1.example.net.
$GENERATE 1-2 host$ A 192.0.2.$
$GENERATE 3-3 host$ 30 A 192.0.2.$
$GENERATE 4-4 host$ IN 40 A 192.0.2.$
after A 192.0.2.99
`,
			want: []string{
				"example.com. 600 IN SOA ns1.example.net. hostmaster.example.com. 1 2 3 4 5",
				"example.com. 600 IN NS ns1.example.net.",
				"host1.example.com. 600 IN A 192.0.2.1",
				"host2.example.com. 600 IN A 192.0.2.2",
				"host3.example.com. 30 IN A 192.0.2.3",
				"host4.example.com. 40 IN A 192.0.2.4",
				"after.example.com. 600 IN A 192.0.2.99",
			},
		},
		{
			name: "wildcards and escapes",
			file: `@ 300 SOA ns1.example.net. hostmaster 1 2 3 4 5
@ 300 NS ns1.example.net.
* 300 MX 10 mail
a\.b 300 TXT "dot"
`,
			want: []string{
				"example.com. 300 IN SOA ns1.example.net. hostmaster.example.com. 1 2 3 4 5",
				"example.com. 300 IN NS ns1.example.net.",
				"*.example.com. 300 IN MX 10 mail.example.com.",
				`a\.b.example.com. 300 IN TXT "dot"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sets, err := ParseMasterFile("example.com.", strings.NewReader(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			z := &Zone{Name: "example.com.", RecordSets: sets}
			if err := Validate(z); err != nil {
				t.Fatalf("parsed zone is not valid: %v", err)
			}
			if d := diffStrings(rrLines(t, tc.want), simpleRRs(t, z)); d != "" {
				t.Errorf("records:%s", d)
			}
		})
	}
}

func TestParseMasterFileRefuses(t *testing.T) {
	const head = "$ORIGIN example.com.\n$TTL 300\n@ SOA ns1.example.net. hostmaster 1 2 3 4 5\n@ NS ns1.example.net.\n"
	tests := []struct {
		name string
		file string
		want string
	}{
		{"$INCLUDE", head + "$INCLUDE /etc/passwd\n", "zone file: line 5: $INCLUDE is not supported: import one self-contained zone file"},
		{"syntax error", head + "www A 192.0.2\n", `zone file: line 5: bad A A: "192.0.2"`},
		{"outside the origin", head + "www.example.org. A 192.0.2.1\n", "zone file: line 5: www.example.org. is outside the zone example.com.: www.example.org.\t300\tIN\tA\t192.0.2.1"},
		{"outside after $ORIGIN", head + "$ORIGIN example.net.\nwww A 192.0.2.1\n", "zone file: line 6: www.example.net. is outside the zone example.com.: www.example.net.\t300\tIN\tA\t192.0.2.1"},
		{"no SOA", "$TTL 300\nexample.com. NS ns1.example.net.\n", "zone file: the zone file has no SOA record at the zone apex example.com."},
		{"two SOA", head + "@ SOA ns2.example.net. hostmaster 1 2 3 4 5\n", "zone file: line 5: a second SOA record (the first is on line 3); a zone has exactly one"},
		{"SOA below the apex", head + "www SOA ns1.example.net. hostmaster 1 2 3 4 5\n", "zone file: line 5: the SOA record must be at the zone apex example.com., not at www.example.com."},
		{"class CH", head + "www CH A 192.0.2.1\n", "zone file: line 5: class CH is not supported, only IN: www.example.com.\t300\tCH\tA\t192.0.2.1"},
		{"unsupported type", head + "www HINFO \"cpu\" \"os\"\n", "zone file: line 5: type HINFO is not supported (supported: SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS): www.example.com.\t300\tIN\tHINFO\t\"cpu\" \"os\""},
		{"CNAME and other data", head + "www A 192.0.2.1\n\n; the conflict\nwww CNAME web.example.net.\n", "zone file: line 8: RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com."},
		{"CNAME with two values", head + "www CNAME a.example.net.\nwww CNAME b.example.net.\n", "zone file: line 5: RRSet of type CNAME with DNS name www.example.com. must contain exactly one resource record"},
		{"no apex NS", "@ 300 SOA ns1.example.net. hostmaster 1 2 3 4 5\nwww 300 A 192.0.2.1\n", "zone file: line 1: A HostedZone must contain at least one NS record for the zone itself."},
		{"wildcard NS", head + "* NS ns.example.net.\n", `zone file: line 5: RRSet of type NS with DNS name \052.example.com. is not permitted: wildcard NS records are not supported`},
		{"TTL too large", head + "www 4294967295 A 192.0.2.1\n", "zone file: line 5: TTL 4294967295 is greater than 2147483647: www.example.com.\t4294967295\tIN\tA\t192.0.2.1"},
		{"several problems", head + "a.example.org. A 192.0.2.1\nb CH A 192.0.2.1\n", "zone file: line 5: a.example.org. is outside the zone example.com.: a.example.org.\t300\tIN\tA\t192.0.2.1; line 6: class CH is not supported, only IN: b.example.com.\t300\tCH\tA\t192.0.2.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMasterFile("example.com.", strings.NewReader(tc.file))
			kind, got := errorText(err)
			if kind != "InvalidInput" || got != tc.want {
				t.Errorf("got %s: %q\nwant InvalidInput: %q", kind, got, tc.want)
			}
		})
	}
}

// exportZone is a zone with every supported type, an alias and routed record sets.
func exportZone(t testing.TB) *Zone {
	t.Helper()
	z, err := New("Z1", "example.com", "ref", "", []string{"ns1.example.com", "ns2.example.com"}, "")
	if err != nil {
		t.Fatal(err)
	}
	err = apply(t, &z, batchOf(t, batch(
		change("CREATE", set("ns1.example.com.", "A", 3600, "", "192.0.2.53")),
		change("CREATE", set("ns2.example.com.", "AAAA", 3600, "", "2001:db8::53")),
		change("CREATE", set("example.com.", "MX", 300, "", "10 mail.example.com.", "20 mail2.example.net.")),
		change("CREATE", set("example.com.", "TXT", 300, "", `"v=spf1 mx -all"`, `"long `+strings.Repeat("x", 300)+`"`)),
		change("CREATE", set("example.com.", "CAA", 300, "", `0 issue "letsencrypt.org"`)),
		change("CREATE", set("mail.example.com.", "A", 300, "", "192.0.2.25")),
		change("CREATE", set("www.example.com.", "CNAME", 300, "", "web.example.net.")),
		change("CREATE", set("*.example.com.", "A", 60, "", "192.0.2.80")),
		change("CREATE", set("_sip._tcp.example.com.", "SRV", 300, "", "10 5 5060 sip.example.net.")),
		change("CREATE", set("_443._tcp.example.com.", "TLSA", 300, "", "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")),
		change("CREATE", set("sub.example.com.", "NS", 300, "", "ns.sub.example.net.")),
		change("CREATE", set("sub.example.com.", "DS", 300, "", "12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")),
		change("CREATE", set("host.example.com.", "SSHFP", 300, "", "4 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")),
		change("CREATE", set("host.example.com.", "HTTPS", 300, "", "1 . alpn=h2 ipv4hint=192.0.2.1")),
		change("CREATE", set("_svc.example.com.", "SVCB", 300, "", "1 svc.example.net. port=8443")),
		change("CREATE", set("4.2.0.192.example.com.", "PTR", 300, "", "host.example.com.")),
		change("CREATE", set("sip.example.com.", "NAPTR", 300, "", `100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`)),
		change("CREATE", set("spf.example.com.", "SPF", 300, "", `"v=spf1 -all"`)),
		change("CREATE", set("a-b.example.com.", "A", 300, "", "192.0.2.2")),
		change("CREATE", alias("apex-alias.example.com.", "A", "Z1", "mail.example.com.", true, "")),
		change("CREATE", set("f.example.com.", "A", 60, `"SetIdentifier":"main","Failover":"PRIMARY","HealthCheckId":"hc-1"`, "192.0.2.10")),
		change("CREATE", alias("f.example.com.", "A", "Z1", "mail.example.com.", true, `"SetIdentifier":"backup","Failover":"SECONDARY"`)),
	)))
	if err != nil {
		t.Fatal(err)
	}
	return &z
}

func TestWriteMasterFile(t *testing.T) {
	z, err := New("Z1", "example.com", "ref", "", []string{"ns1.example.net"}, "")
	if err != nil {
		t.Fatal(err)
	}
	err = apply(t, &z, batchOf(t, batch(
		change("CREATE", set("www.example.com.", "A", 300, "", "192.0.2.2", "192.0.2.1")),
		change("CREATE", set("a-b.example.com.", "TXT", 300, "", `"x"`)),
		change("CREATE", alias("www.example.com.", "AAAA", "Z2", "lb.example.net.", true, "")),
		change("CREATE", set("w.example.com.", "A", 60, `"SetIdentifier":"blue","Weight":10`, "192.0.2.3")),
	)))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteMasterFile(&buf, &z); err != nil {
		t.Fatal(err)
	}
	want := `$ORIGIN example.com.
example.com.	900	IN	SOA	ns1.example.net. hostmaster.example.com. 2 7200 900 1209600 86400
example.com.	172800	IN	NS	ns1.example.net.
a-b.example.com.	300	IN	TXT	"x"
; w.example.com.	60	IN	A	192.0.2.3 ; set-identifier "blue", weight 10
www.example.com.	300	IN	A	192.0.2.2
www.example.com.	300	IN	A	192.0.2.1
; alias www.example.com. AAAA -> lb.example.net. (zone "Z2", evaluate target health)
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMasterFileRoundTrip(t *testing.T) {
	z := exportZone(t)
	var buf bytes.Buffer
	if err := WriteMasterFile(&buf, z); err != nil {
		t.Fatal(err)
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
		g, _ := json.MarshalIndent(sets, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("re-imported zone differs\n got %s\nwant %s", g, w)
	}
}

// TestNamedCheckzone checks that BIND accepts an exported zone. CI installs named-checkzone
// (bind9-utils); there the test never skips.
func TestNamedCheckzone(t *testing.T) {
	bin, err := exec.LookPath("named-checkzone")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("named-checkzone is not installed (CI is set: install bind9-utils)")
		}
		t.Skip("named-checkzone is not installed")
	}
	z := exportZone(t)
	path := filepath.Join(t.TempDir(), "example.com.zone")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteMasterFile(f, z); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "example.com", path).CombinedOutput()
	if err != nil {
		text, _ := os.ReadFile(path)
		t.Fatalf("named-checkzone: %v\n%s\nzone:\n%s", err, out, text)
	}
	if !strings.Contains(string(out), "loaded serial 2") {
		t.Errorf("named-checkzone output: %s", out)
	}
}

// failingReader returns data, then fails with err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestParseMasterFileReadError: a file that cannot be read to its end is that error (a request
// body over its limit, say), not a syntax error of the file.
func TestParseMasterFileReadError(t *testing.T) {
	tooBig := errors.New("request body too large")
	_, err := ParseMasterFile("example.com.", &failingReader{
		data: "$ORIGIN example.com.\n@ 3600 IN SOA ns1 h 1 7200 900 1209600 300\nwww 60 IN A 192.0.2.1\nmail 60 IN ",
		err:  tooBig,
	})
	var bad *InvalidInputError
	if !errors.Is(err, tooBig) || errors.As(err, &bad) {
		t.Fatalf("ParseMasterFile = %v (%T), want the read error, not invalid input", err, err)
	}
}

// Value is the part of rr.String() after its header, for addresses (which it formats itself)
// as for every other type.
func TestValueIsStringWithoutHeader(t *testing.T) {
	for _, s := range []string{
		"a.example. 60 IN A 192.0.2.1",
		"a.example. 60 IN AAAA 2001:db8::1",
		"a.example. 60 IN AAAA ::ffff:192.0.2.1",
		"a.example. 60 IN MX 10 mx.example.",
		"a.example. 60 IN TXT \"two\" \"strings\"",
		"a\\009b.example. 60 IN CNAME c.example.",
	} {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimPrefix(rr.String(), rr.Header().String())
		if got := Value(rr); got != want {
			t.Errorf("Value(%s) = %q, want %q", s, got, want)
		}
	}
	if got := Value(&dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}}); got != "" {
		t.Errorf("Value of an A without an address = %q, want empty", got)
	}
}
