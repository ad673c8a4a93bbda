package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Scenarios through the built binary and the real dig, as a user would run them.

// rrset is one change of a Route 53 change batch, in the JSON the aws CLI takes.
type rrset struct {
	Action string
	Name   string
	Type   string
	TTL    int64
	Values []string
}

// batchJSON renders a Route 53 change batch.
func batchJSON(t testing.TB, changes ...rrset) string {
	t.Helper()
	type rr struct {
		Value string `json:"Value"`
	}
	type set struct {
		Name            string `json:"Name"`
		Type            string `json:"Type"`
		TTL             int64  `json:"TTL"`
		ResourceRecords []rr   `json:"ResourceRecords"`
	}
	type change struct {
		Action            string `json:"Action"`
		ResourceRecordSet set    `json:"ResourceRecordSet"`
	}
	var b struct {
		Comment string   `json:"Comment"`
		Changes []change `json:"Changes"`
	}
	b.Comment = "e2e " + t.Name()
	for _, c := range changes {
		s := set{Name: c.Name, Type: c.Type, TTL: c.TTL}
		for _, v := range c.Values {
			s.ResourceRecords = append(s.ResourceRecords, rr{v})
		}
		b.Changes = append(b.Changes, change{c.Action, s})
	}
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// writeFile writes content to a new file in the test's temp dir and returns its path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// change applies a change batch from a file with `failoverdns change`.
func (s *server) change(t testing.TB, zone string, changes ...rrset) (stdout, stderr string, code int) {
	t.Helper()
	f := writeFile(t, "batch.json", batchJSON(t, changes...))
	return s.cli(t, "change", zone, "--change-batch", f)
}

// mustChange applies a change batch that must succeed, and checks the ChangeInfo it prints.
func (s *server) mustChange(t testing.TB, zone string, changes ...rrset) {
	t.Helper()
	out, errOut, code := s.change(t, zone, changes...)
	if code != 0 {
		t.Fatalf("change %s: exit %d\nbatch:\n%s\nstderr:\n%s", zone, code, batchJSON(t, changes...), errOut)
	}
	checkChangeInfo(t, out)
}

// checkChangeInfo checks that out is ChangeInfo JSON with a Route 53 Status.
func checkChangeInfo(t testing.TB, out string) {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("change printed no JSON object: %v\n%s", err, out)
	}
	if ci, ok := v["ChangeInfo"].(map[string]any); ok {
		v = ci
	}
	if st, _ := v["Status"].(string); st != "PENDING" && st != "INSYNC" {
		t.Errorf("change printed Status %q, want PENDING or INSYNC:\n%s", st, out)
	}
}

// export returns `failoverdns zone export NAME`.
func (s *server) export(t testing.TB, zone string) string {
	t.Helper()
	return s.mustCLI(t, "zone", "export", zone)
}

// soa returns the zone's SOA as served.
func soaOf(t testing.TB, addr, zone string) *dns.SOA {
	t.Helper()
	r := dig(t, addr, zone, "SOA")
	if r.status != "NOERROR" || len(r.answer) != 1 {
		t.Fatalf("dig %s SOA: status %s, %d answers\n%s", zone, r.status, len(r.answer), r.raw)
	}
	soa, ok := r.answer[0].(*dns.SOA)
	if !ok {
		t.Fatalf("dig %s SOA answered %s", zone, r.answer[0])
	}
	return soa
}

func wantStatus(t testing.TB, r digResult, status string, aa bool) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %s, want %s\n%s", r.status, status, r.raw)
	}
	if r.flags["aa"] != aa {
		t.Errorf("aa flag %v, want %v\n%s", r.flags["aa"], aa, r.raw)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(binPath, "version")
	cmd.Env = binEnv()
	out, err := cmd.Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("failoverdns version: %v, output %q", err, out)
	}
}

func TestZoneCreateServesSOAAndNS(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	out := srv.mustCLI(t, "zone", "create", "example.test", "--comment", "made by e2e")
	var z map[string]any
	if err := json.Unmarshal([]byte(out), &z); err != nil || !strings.Contains(out, `"Id"`) {
		t.Fatalf("zone create printed no zone JSON with an Id (%v):\n%s", err, out)
	}

	r := dig(t, srv.dns, "example.test", "SOA")
	wantStatus(t, r, "NOERROR", true)
	if len(r.answer) != 1 {
		t.Fatalf("SOA answer has %d records\n%s", len(r.answer), r.raw)
	}
	soa, ok := r.answer[0].(*dns.SOA)
	if !ok {
		t.Fatalf("SOA query answered %s", r.answer[0])
	}
	if soa.Hdr.Ttl != 900 || soa.Serial != 1 || soa.Refresh != 7200 || soa.Retry != 900 ||
		soa.Expire != 1209600 || soa.Minttl != 86400 ||
		!strings.HasPrefix(soa.Ns, "ns1") || !strings.HasPrefix(soa.Mbox, "hostmaster") {
		t.Errorf("new zone SOA is\n  %s\nwant TTL 900, ns1... hostmaster... 1 7200 900 1209600 86400", soa)
	}

	r = dig(t, srv.dns, "example.test", "NS")
	wantStatus(t, r, "NOERROR", true)
	if len(r.answer) == 0 {
		t.Errorf("no NS records at the apex of a new zone\n%s", r.raw)
	}
	for _, rr := range r.answer {
		if rr.Header().Rrtype != dns.TypeNS || rr.Header().Ttl != 172800 {
			t.Errorf("apex NS answer %s: want NS records with TTL 172800", rr)
		}
	}

	list := srv.mustCLI(t, "zone", "list")
	if !strings.Contains(list, "example.test") {
		t.Errorf("zone list does not show example.test:\n%s", list)
	}
}

func TestZoneDeleteStopsServing(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "gone.test")
	wantStatus(t, dig(t, srv.dns, "gone.test", "SOA"), "NOERROR", true)
	srv.mustCLI(t, "zone", "delete", "gone.test")
	wantStatus(t, dig(t, srv.dns, "gone.test", "SOA"), "REFUSED", false)
	if list := srv.mustCLI(t, "zone", "list"); strings.Contains(list, "gone.test") {
		t.Errorf("zone list still shows the deleted zone:\n%s", list)
	}
}

func TestChangeBatchSeenByDigAtOnce(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")

	// CREATE, from a file path.
	srv.mustChange(t, "example.test",
		rrset{"CREATE", "www.example.test.", "A", 300, []string{"192.0.2.1"}},
		rrset{"CREATE", "example.test.", "MX", 3600, []string{"10 mail.example.test."}},
		rrset{"CREATE", "mail.example.test.", "TXT", 60, []string{`"hello world"`}},
	)
	r := dig(t, srv.dns, "www.example.test", "A")
	wantStatus(t, r, "NOERROR", true)
	checkRRs(t, "www A after CREATE", r.answer, "www.example.test. 300 IN A 192.0.2.1")
	checkRRs(t, "apex MX after CREATE", dig(t, srv.dns, "example.test", "MX").answer,
		"example.test. 3600 IN MX 10 mail.example.test.")
	checkRRs(t, "mail TXT after CREATE", dig(t, srv.dns, "mail.example.test", "TXT").answer,
		`mail.example.test. 60 IN TXT "hello world"`)

	// UPSERT, from file://.
	f := writeFile(t, "upsert.json", batchJSON(t,
		rrset{"UPSERT", "www.example.test.", "A", 60, []string{"192.0.2.2", "192.0.2.3"}}))
	out := srv.mustCLI(t, "change", "example.test", "--change-batch", "file://"+f)
	checkChangeInfo(t, out)
	checkRRs(t, "www A after UPSERT", dig(t, srv.dns, "www.example.test", "A").answer,
		"www.example.test. 60 IN A 192.0.2.2",
		"www.example.test. 60 IN A 192.0.2.3")

	// DELETE, from standard input.
	del := batchJSON(t, rrset{"DELETE", "www.example.test.", "A", 60, []string{"192.0.2.2", "192.0.2.3"}})
	out, errOut, code := srv.cliStdin(t, del, "change", "example.test", "--change-batch", "-")
	if code != 0 {
		t.Fatalf("change --change-batch - (DELETE): exit %d\n%s", code, errOut)
	}
	checkChangeInfo(t, out)
	r = dig(t, srv.dns, "www.example.test", "A")
	wantStatus(t, r, "NXDOMAIN", true)
	if len(r.answer) != 0 {
		t.Errorf("www A still answered after DELETE:\n%s", r.raw)
	}

	recs := srv.mustCLI(t, "records", "example.test", "--json")
	if strings.Contains(recs, "www.example.test") || !strings.Contains(recs, "mail.example.test") {
		t.Errorf("records --json after the batches:\n%s", recs)
	}
}

func TestUpsertTTLZero(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	srv.mustChange(t, "example.test", rrset{"UPSERT", "zero.example.test.", "A", 0, []string{"192.0.2.9"}})
	r := dig(t, srv.dns, "zero.example.test", "A")
	wantStatus(t, r, "NOERROR", true)
	checkRRs(t, "TTL 0 A", r.answer, "zero.example.test. 0 IN A 192.0.2.9")
}

func TestNXDOMAINHasSOAInAuthority(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	soa := soaOf(t, srv.dns, "example.test")
	r := dig(t, srv.dns, "nope.example.test", "A")
	wantStatus(t, r, "NXDOMAIN", true)
	if len(r.answer) != 0 {
		t.Errorf("NXDOMAIN with answers:\n%s", r.raw)
	}
	// RFC 2308: the SOA's TTL in a negative answer is min(SOA TTL, SOA MINIMUM) = min(900, 86400).
	neg := dns.Copy(soa)
	neg.Header().Ttl = 900
	checkRRs(t, "NXDOMAIN authority", r.authority, neg.String())

	r = dig(t, srv.dns, "example.test", "AAAA")
	wantStatus(t, r, "NOERROR", true)
	checkRRs(t, "NODATA authority", r.authority, neg.String())
}

func TestRefusedOutsideZones(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	for _, name := range []string{"www.nowhere.invalid", "test", "example.org"} {
		r := dig(t, srv.dns, name, "A")
		wantStatus(t, r, "REFUSED", false)
		if len(r.answer)+len(r.authority) != 0 {
			t.Errorf("REFUSED for %s carries records:\n%s", name, r.raw)
		}
	}
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	srv.mustChange(t, "example.test",
		rrset{"CREATE", "www.example.test.", "A", 300, []string{"192.0.2.1", "192.0.2.2"}},
		rrset{"CREATE", "example.test.", "TXT", 300, []string{`"v=spf1 -all"`}},
	)
	before := srv.export(t, "example.test")
	srv.restart(t)
	if after := srv.export(t, "example.test"); after != before {
		t.Errorf("export changed across a restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	r := dig(t, srv.dns, "www.example.test", "A")
	wantStatus(t, r, "NOERROR", true)
	checkRRs(t, "www A after restart", r.answer,
		"www.example.test. 300 IN A 192.0.2.1",
		"www.example.test. 300 IN A 192.0.2.2")
	checkRRs(t, "apex TXT after restart", dig(t, srv.dns, "example.test", "TXT").answer,
		`example.test. 300 IN TXT "v=spf1 -all"`)
}

func TestInvalidChangeBatchesLeaveZoneUnchanged(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	srv.mustChange(t, "example.test",
		rrset{"CREATE", "www.example.test.", "A", 300, []string{"192.0.2.1"}},
		rrset{"CREATE", "mail.example.test.", "TXT", 300, []string{`"mail"`}},
		rrset{"CREATE", "alias.example.test.", "CNAME", 300, []string{"www.example.test."}},
	)
	cases := []struct {
		name    string
		changes []rrset
		want    []string // substrings of stderr, Route 53's wording
	}{
		{
			name: "CREATE of an existing record set, after a valid change",
			changes: []rrset{
				{"CREATE", "new.example.test.", "A", 300, []string{"192.0.2.7"}},
				{"CREATE", "www.example.test.", "A", 300, []string{"192.0.2.2"}},
			},
			want: []string{"Tried to create resource record set [name='www.example.test.', type='A'] but it already exists"},
		},
		{
			name:    "DELETE with values that do not match",
			changes: []rrset{{"DELETE", "www.example.test.", "A", 300, []string{"192.0.2.99"}}},
			want:    []string{"Tried to delete resource record set [name='www.example.test.', type='A'] but the values provided do not match the current values"},
		},
		{
			name:    "DELETE with a TTL that does not match",
			changes: []rrset{{"DELETE", "www.example.test.", "A", 60, []string{"192.0.2.1"}}},
			want:    []string{"Tried to delete resource record set [name='www.example.test.', type='A'] but the values provided do not match the current values"},
		},
		{
			name:    "DELETE of a record set that does not exist",
			changes: []rrset{{"DELETE", "gone.example.test.", "A", 300, []string{"192.0.2.1"}}},
			want:    []string{"Tried to delete resource record set [name='gone.example.test.', type='A'] but it was not found"},
		},
		{
			name:    "CNAME beside other data",
			changes: []rrset{{"CREATE", "www.example.test.", "CNAME", 300, []string{"target.example.net."}}},
			want:    []string{"RRSet of type CNAME with DNS name www.example.test. is not permitted as it conflicts with other records with the same DNS name in zone example.test."},
		},
		{
			name:    "other data beside a CNAME",
			changes: []rrset{{"CREATE", "alias.example.test.", "TXT", 300, []string{`"x"`}}},
			want:    []string{"RRSet of type TXT with DNS name alias.example.test. is not permitted"},
		},
		{
			name:    "name outside the zone",
			changes: []rrset{{"CREATE", "www.other.test.", "A", 300, []string{"192.0.2.1"}}},
			want:    []string{"RRSet with DNS name www.other.test. is not permitted in zone example.test."},
		},
		{
			name:    "bad IPv4 address",
			changes: []rrset{{"CREATE", "bad.example.test.", "A", 300, []string{"300.1.2.3"}}},
			want:    []string{"ARRDATAIllegalIPv4Address", "300.1.2.3", "bad.example.test."},
		},
		{
			name:    "bad IPv6 address",
			changes: []rrset{{"CREATE", "bad.example.test.", "AAAA", 300, []string{"2001:db8::zz"}}},
			want:    []string{"AAAARRDATAIllegalIPv6Address", "2001:db8::zz", "bad.example.test."},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := srv.export(t, "example.test")
			_, errOut, code := srv.change(t, "example.test", c.changes...)
			t.Logf("exit %d, stderr:\n%s", code, errOut)
			if code == 0 {
				t.Errorf("change exited 0 for an invalid batch:\n%s", batchJSON(t, c.changes...))
			}
			if !strings.HasPrefix(errOut, "failoverdns: error:") {
				t.Errorf("stderr does not start with %q:\n%s", "failoverdns: error:", errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if after := srv.export(t, "example.test"); after != before {
				t.Errorf("a refused batch changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	// Nothing of the refused batches is served.
	for _, name := range []string{"new.example.test", "bad.example.test"} {
		wantStatus(t, dig(t, srv.dns, name, "A"), "NXDOMAIN", true)
	}
	checkRRs(t, "www A after the refused batches", dig(t, srv.dns, "www.example.test", "A").answer,
		"www.example.test. 300 IN A 192.0.2.1")
	checkRRs(t, "alias TXT after the refused batches", dig(t, srv.dns, "alias.example.test", "TXT").answer,
		"alias.example.test. 300 IN CNAME www.example.test.")
}

// brokenZone has a bad A record on line 7.
const brokenZone = `$ORIGIN broken.test.
$TTL 300
@       900 IN SOA ns1.broken.test. hostmaster.broken.test. 5 7200 900 1209600 86400
@    172800 IN NS  ns1.broken.test.
ns1         IN A   192.0.2.53
ok          IN A   192.0.2.1
www         IN A   not-an-address
after       IN A   192.0.2.2
`

var lineSeven = regexp.MustCompile(`(?i)line\W{0,3}7\b|:7(:|\b)`)

func TestZoneImportBrokenFileNamesTheLine(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	f := writeFile(t, "broken.test.zone", brokenZone)
	_, errOut, code := srv.cli(t, "zone", "import", "broken.test", f)
	t.Logf("import of the broken file: exit %d, stderr:\n%s", code, errOut)
	if code == 0 {
		t.Fatalf("import of a broken file exited 0")
	}
	if !strings.HasPrefix(errOut, "failoverdns: error:") || !lineSeven.MatchString(errOut) {
		t.Errorf("stderr should start %q and name line 7:\n%s", "failoverdns: error:", errOut)
	}

	// A broken import into an existing zone leaves it as it was.
	good := writeFile(t, "good.zone", strings.Replace(brokenZone, "not-an-address", "192.0.2.80", 1))
	srv.mustCLI(t, "zone", "import", "broken.test", good)
	before := srv.export(t, "broken.test")
	f2 := writeFile(t, "broken2.zone", strings.Replace(brokenZone, "192.0.2.2", "192.0.2.3", 1))
	if _, errOut, code := srv.cli(t, "zone", "import", "broken.test", f2); code == 0 || !lineSeven.MatchString(errOut) {
		t.Errorf("import of a broken file into an existing zone: exit %d, stderr:\n%s", code, errOut)
	}
	if after := srv.export(t, "broken.test"); after != before {
		t.Errorf("a refused import changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkRRs(t, "www A after the refused import", dig(t, srv.dns, "www.broken.test", "A").answer,
		"www.broken.test. 300 IN A 192.0.2.80")
}

// TestZoneExportRoundTrip imports every corpus zone, checks the export with named-checkzone, and
// imports the export into a second server: records and export must come out the same.
func TestZoneExportRoundTrip(t *testing.T) {
	t.Parallel()
	checkzone := needTool(t, "named-checkzone")
	a, b := startServer(t), startServer(t)
	for _, z := range diffZones(t) {
		name := strings.TrimSuffix(z.Name, ".")
		t.Run(name, func(t *testing.T) {
			a.mustCLI(t, "zone", "import", name, z.Path)
			exported := a.export(t, name)
			f := writeFile(t, name+".zone", exported)
			if out, err := exec.Command(checkzone, name, f).CombinedOutput(); err != nil {
				t.Errorf("named-checkzone %s on the export: %v\n%s\nexport:\n%s", name, err, out, exported)
			}
			// The export holds exactly the file's records.
			if got, want := fileRRs(t, f, z.Name), fileRRs(t, z.Path, z.Name); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("export's records differ from the imported file's:\nexport:\n  %s\nfile:\n  %s",
					strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			// The file's SOA, serial included, is what is exported and served.
			want := fileSOA(t, z.Path)
			checkRRs(t, "served SOA", dig(t, a.dns, name, "SOA").answer, want.String())
			if !strings.Contains(exported, fmt.Sprint(want.Serial)) {
				t.Errorf("export lacks the file's SOA serial %d:\n%s", want.Serial, exported)
			}
			b.mustCLI(t, "zone", "import", name, f)
			ra, rb := normJSON(t, a.mustCLI(t, "records", name, "--json")), normJSON(t, b.mustCLI(t, "records", name, "--json"))
			if ra != rb {
				t.Errorf("records differ after export and re-import:\nfirst:\n%s\nre-imported:\n%s", ra, rb)
			}
			if again := b.export(t, name); again != exported {
				t.Errorf("export of the re-imported zone differs:\nfirst:\n%s\nre-imported:\n%s", exported, again)
			}
		})
	}
}

// fileRRs reads a master file's records as a sorted set in canonical text.
func fileRRs(t testing.TB, path, origin string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, origin, path)
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return canonicalSet(rrs)
}

// fileSOA reads the SOA record of a master file.
func fileSOA(t testing.TB, path string) *dns.SOA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zp := dns.NewZoneParser(f, "", path)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	t.Fatalf("%s: no SOA (%v)", path, zp.Err())
	return nil
}

// normJSON re-encodes JSON so that formatting differences do not count.
func normJSON(t testing.TB, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	return string(out)
}

// serveMustFail runs `failoverdns serve` with args that must make it exit non-zero within 15 s
// without ever becoming ready, and returns its stderr.
func serveMustFail(t testing.TB, dataDir string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, serveArgs(dataDir)...)
	cmd.Env = binEnv()
	var stderr bytes.Buffer
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		fmt.Fprintln(&stderr, sc.Text())
		if readyLine.MatchString(sc.Text()) {
			cancel() // kills it
			cmd.Wait()
			t.Fatalf("serve --data-dir %s became ready but should have failed:\n%s", dataDir, stderr.String())
		}
	}
	err = cmd.Wait()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("serve --data-dir %s neither served nor exited within 15 s (hangs):\n%s", dataDir, stderr.String())
	case err == nil:
		t.Fatalf("serve --data-dir %s exited 0 without serving:\n%s", dataDir, stderr.String())
	}
	return stderr.String()
}

func TestSecondServeOnSameDataDirFails(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	errOut := serveMustFail(t, srv.dataDir)
	t.Logf("second serve's stderr:\n%s", errOut)
	if !strings.Contains(errOut, "failoverdns: error:") || !strings.Contains(errOut, srv.dataDir) {
		t.Errorf("second serve should say %q and name the data dir %s:\n%s", "failoverdns: error:", srv.dataDir, errOut)
	}
	// The first server is unharmed.
	wantStatus(t, dig(t, srv.dns, "example.test", "SOA"), "NOERROR", true)
	srv.mustCLI(t, "zone", "list")
}

func TestDataDirUnderAFileFails(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "not-a-dir", "x")
	dataDir := filepath.Join(file, "data")
	errOut := serveMustFail(t, dataDir)
	t.Logf("serve's stderr:\n%s", errOut)
	if !strings.Contains(errOut, "failoverdns: error:") || !strings.Contains(errOut, file) {
		t.Errorf("serve should say %q and name the path %s:\n%s", "failoverdns: error:", dataDir, errOut)
	}
}

func TestCLIWithoutServerFails(t *testing.T) {
	t.Parallel()
	s := &server{api: fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	_, errOut, code := s.cli(t, "zone", "list")
	if code == 0 || !strings.HasPrefix(errOut, "failoverdns: error:") {
		t.Errorf("zone list with no server: exit %d, stderr:\n%s", code, errOut)
	}
}

func TestTruncationFallsBackToTCP(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	var values, want []string
	for i := 1; i <= 40; i++ {
		values = append(values, fmt.Sprintf("192.0.2.%d", i))
		want = append(want, fmt.Sprintf("many.example.test. 300 IN A 192.0.2.%d", i))
	}
	srv.mustChange(t, "example.test", rrset{"CREATE", "many.example.test.", "A", 300, values})

	// Over UDP with a 512-byte buffer the reply is truncated ...
	r := dig(t, srv.dns, "+ignore", "+bufsize=512", "many.example.test", "A")
	wantStatus(t, r, "NOERROR", true)
	if !r.flags["tc"] {
		t.Errorf("a 40-address answer fits 512 bytes? no tc flag:\n%s", r.raw)
	}
	r = dig(t, srv.dns, "+ignore", "+noedns", "many.example.test", "A")
	if !r.flags["tc"] {
		t.Errorf("no tc flag without EDNS:\n%s", r.raw)
	}
	// ... dig then retries over TCP and gets it all ...
	r = dig(t, srv.dns, "+bufsize=512", "many.example.test", "A")
	wantStatus(t, r, "NOERROR", true)
	if r.flags["tc"] || !strings.Contains(r.raw, "Truncated, retrying in TCP mode") {
		t.Errorf("dig did not retry over TCP:\n%s", r.raw)
	}
	checkRRs(t, "answer after the TCP retry", r.answer, want...)
	// ... and with a large enough buffer UDP carries it all.
	r = dig(t, srv.dns, "+bufsize=1232", "many.example.test", "A")
	if r.flags["tc"] {
		t.Errorf("truncated at 1232 bytes:\n%s", r.raw)
	}
	checkRRs(t, "answer over UDP with a 1232-byte buffer", r.answer, want...)
	checkRRs(t, "answer over TCP", dig(t, srv.dns, "+tcp", "many.example.test", "A").answer, want...)
}

// TestAnswersStayWholeDuringChanges queries a name without pause while change batches replace
// its addresses: every reply must be a complete answer of one version, never an error, an empty
// answer or a mix (the snapshot swap is atomic).
func TestAnswersStayWholeDuringChanges(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	version := func(i int) []string {
		return []string{fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("198.51.100.%d", i)}
	}
	srv.mustChange(t, "example.test", rrset{"CREATE", "flip.example.test.", "A", 60, version(0)})

	const batches = 15
	stop := make(chan struct{})
	results := make(chan string, 4)
	for w := range 4 {
		go func() {
			q := new(dns.Msg)
			q.SetQuestion("flip.example.test.", dns.TypeA)
			network := []string{"udp", "tcp"}[w%2]
			n := 0
			for ; n < 20000; n++ { // bounded, whatever happens
				select {
				case <-stop:
					results <- fmt.Sprintf("ok %d", n)
					return
				default:
				}
				r, _, err := exchange(srv.dns, network, q.Copy(), 2*time.Second)
				if err != nil {
					results <- fmt.Sprintf("query %d over %s: %v", n, network, err)
					return
				}
				if msg := wholeAnswer(r, batches); msg != "" {
					results <- fmt.Sprintf("query %d over %s: %s:\n%s", n, network, msg, r)
					return
				}
			}
			results <- fmt.Sprintf("ok %d", n)
		}()
	}
	for i := 1; i <= batches; i++ {
		srv.mustChange(t, "example.test", rrset{"UPSERT", "flip.example.test.", "A", 60, version(i)})
	}
	close(stop)
	total := 0
	for range 4 {
		res := <-results
		var n int
		if _, err := fmt.Sscanf(res, "ok %d", &n); err != nil {
			t.Error(res)
		}
		total += n
	}
	t.Logf("%d queries during %d change batches", total, batches)
	checkRRs(t, "final answer", dig(t, srv.dns, "flip.example.test", "A").answer,
		fmt.Sprintf("flip.example.test. 60 IN A 192.0.2.%d", batches),
		fmt.Sprintf("flip.example.test. 60 IN A 198.51.100.%d", batches))
}

// wholeAnswer says what is wrong with a reply for flip.example.test, or "" if it is one whole
// version of its two addresses.
func wholeAnswer(r *dns.Msg, versions int) string {
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return fmt.Sprintf("rcode %s, aa %v", dns.RcodeToString[r.Rcode], r.Authoritative)
	}
	if len(r.Answer) != 2 {
		return fmt.Sprintf("%d answers, want 2", len(r.Answer))
	}
	var last []int
	for _, rr := range r.Answer {
		a, ok := rr.(*dns.A)
		if !ok {
			return "not an A record: " + rr.String()
		}
		last = append(last, int(a.A.To4()[3]))
	}
	if last[0] != last[1] || last[0] > versions {
		return "addresses of different versions"
	}
	return ""
}

func TestZoneCommandsRefuseMistakes(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	before := srv.export(t, "example.test")

	if _, errOut, code := srv.cli(t, "zone", "create", "example.test"); code == 0 || !strings.HasPrefix(errOut, "failoverdns: error:") {
		t.Errorf("zone create of an existing zone: exit %d, stderr:\n%s", code, errOut)
	}
	// A file for another zone: its names are outside example.test.
	plain, err := filepath.Abs(filepath.Join("testdata", "zones", "plain.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := srv.cli(t, "zone", "import", "example.test", plain); code == 0 || !strings.HasPrefix(errOut, "failoverdns: error:") {
		t.Errorf("zone import of another zone's file: exit %d, stderr:\n%s", code, errOut)
	}
	for _, args := range [][]string{
		{"change", "nosuch.test", "--change-batch", writeFile(t, "b.json", batchJSON(t, rrset{"CREATE", "www.nosuch.test.", "A", 300, []string{"192.0.2.1"}}))},
		{"change", "example.test", "--change-batch", writeFile(t, "bad.json", `{"Changes": [`)},
		{"change", "example.test", "--change-batch", filepath.Join(t.TempDir(), "missing.json")},
		{"zone", "export", "nosuch.test"},
		{"zone", "delete", "nosuch.test"},
		{"records", "nosuch.test"},
	} {
		if _, errOut, code := srv.cli(t, args...); code == 0 || !strings.HasPrefix(errOut, "failoverdns: error:") {
			t.Errorf("failoverdns %s: exit %d, stderr:\n%s", strings.Join(args, " "), code, errOut)
		}
	}
	if after := srv.export(t, "example.test"); after != before {
		t.Errorf("refused commands changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestDeletedZoneStaysDeletedAfterRestart(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "keep.test")
	srv.mustCLI(t, "zone", "create", "drop.test")
	srv.mustChange(t, "keep.test", rrset{"CREATE", "www.keep.test.", "AAAA", 120, []string{"2001:db8::1"}})
	srv.mustCLI(t, "zone", "delete", "drop.test")
	srv.restart(t)
	wantStatus(t, dig(t, srv.dns, "drop.test", "SOA"), "REFUSED", false)
	checkRRs(t, "www AAAA after restart", dig(t, srv.dns, "+tcp", "www.keep.test", "AAAA").answer,
		"www.keep.test. 120 IN AAAA 2001:db8::1")
	recs := srv.mustCLI(t, "records", "keep.test")
	if !strings.Contains(recs, "www.keep.test") || !strings.Contains(recs, "2001:db8::1") {
		t.Errorf("records keep.test does not list www:\n%s", recs)
	}
}

// TestZoneImportErrorLinesAfterMultilineRecords breaks one record at a time in a file that has
// records over several lines (parentheses) before it: the error must name the record's line.
func TestZoneImportErrorLinesAfterMultilineRecords(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	good, err := os.ReadFile(filepath.Join("testdata", "zones", "syntax.test.zone"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		old, new string
		line     int
	}{
		{"AAAA 2001:db8::53 ", "AAAA 2001:db8::5g3", 14},
		{"192.0.2.90 ", "192.0.2.900", 20},
		{"Upper.Case  IN  CNAME www", "Upper.Case  IN  CNAME www..", 25},
		{`quoted      IN  TXT "a;b" "c\"d"`, `quoted      IN  TXT "a;b" "c\"d`, 26},
	} {
		t.Run(fmt.Sprintf("line %d", c.line), func(t *testing.T) {
			if !bytes.Contains(good, []byte(c.old)) {
				t.Fatalf("testdata changed: %q not found", c.old)
			}
			f := writeFile(t, "syntax.test.zone", string(bytes.Replace(good, []byte(c.old), []byte(c.new), 1)))
			_, errOut, code := srv.cli(t, "zone", "import", "syntax.test", f)
			t.Logf("exit %d, stderr:\n%s", code, errOut)
			want := regexp.MustCompile(fmt.Sprintf(`(?i)line\W{0,3}%d\b`, c.line))
			if code == 0 || !strings.HasPrefix(errOut, "failoverdns: error:") || !want.MatchString(errOut) {
				t.Errorf("import should fail and name line %d", c.line)
			}
		})
	}
}

// TestTCPPipelinedQueries sends several queries on one TCP connection before reading any reply,
// as resolvers do (RFC 7766): every one must be answered, on the same connection.
func TestTCPPipelinedQueries(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	srv.mustChange(t, "example.test", rrset{"CREATE", "www.example.test.", "A", 300, []string{"192.0.2.1"}})
	co, err := dns.DialTimeout("tcp", srv.dns, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	co.SetDeadline(time.Now().Add(10 * time.Second))
	names := []string{"www.example.test.", "example.test.", "nope.example.test.", "www.example.test."}
	types := []uint16{dns.TypeA, dns.TypeSOA, dns.TypeA, dns.TypeAAAA}
	want := map[uint16]string{}
	for i := range names {
		q := new(dns.Msg)
		q.SetQuestion(names[i], types[i])
		q.Id = uint16(1000 + i)
		want[q.Id] = q.Question[0].String()
		if err := co.WriteMsg(q); err != nil {
			t.Fatalf("write query %d: %v", i, err)
		}
	}
	for range names {
		r, err := co.ReadMsg()
		if err != nil {
			t.Fatalf("read reply: %v (still waiting for %d replies)", err, len(want))
		}
		q, ok := want[r.Id]
		if !ok || len(r.Question) != 1 || r.Question[0].String() != q {
			t.Fatalf("unexpected reply:\n%s", r)
		}
		delete(want, r.Id)
		if !r.Authoritative {
			t.Errorf("reply to %s is not authoritative", q)
		}
	}
}

// TestAcknowledgedChangesSurviveSIGKILL: a change the CLI reported as applied is still there after
// the server is killed without warning and started again.
func TestAcknowledgedChangesSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	srv.mustCLI(t, "zone", "create", "example.test")
	srv.mustChange(t, "example.test", rrset{"CREATE", "www.example.test.", "A", 300, []string{"192.0.2.1"}})
	srv.mustChange(t, "example.test", rrset{"UPSERT", "www.example.test.", "A", 300, []string{"192.0.2.2"}})
	before := srv.export(t, "example.test")
	srv.crash(t)
	if after := srv.export(t, "example.test"); after != before {
		t.Errorf("export changed across SIGKILL and start:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	checkRRs(t, "www A after SIGKILL", dig(t, srv.dns, "www.example.test", "A").answer,
		"www.example.test. 300 IN A 192.0.2.2")
}
