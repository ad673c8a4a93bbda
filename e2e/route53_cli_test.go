package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Debian's aws CLI and python3 (with python3-boto3), by full path: a pyenv or pip copy earlier on
// PATH is not what these tests are about.
const (
	awsPath     = "/usr/bin/aws"
	python3Path = "/usr/bin/python3"
)

// needFile is needTool for a program at a fixed path.
func needFile(t testing.TB, path string) {
	t.Helper()
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI must run this test (scripts/test.sh installs it)", path)
	}
	t.Skipf("%s is not installed (scripts/test.sh installs it)", path)
}

// awsEnv is a clean environment for the aws CLI and boto3: fixed credentials and region, and a
// temporary HOME so that no user configuration or credentials file leaks in.
func awsEnv(t testing.TB, keyID, secret string) []string {
	home := t.TempDir()
	return []string{
		"PATH=/usr/bin:/bin", "HOME=" + home, "LANG=C.UTF-8",
		"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_DEFAULT_REGION=eu-central-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
	}
}

type awsCLI struct {
	t   testing.TB
	s   *server
	env []string
	dir string // working directory, for file:// arguments
}

func newAWS(t testing.TB, s *server, keyID, secret string) *awsCLI {
	needFile(t, awsPath)
	return &awsCLI{t: t, s: s, env: awsEnv(t, keyID, secret), dir: t.TempDir()}
}

// run runs `aws route53 ARGS --endpoint-url API --output json` and returns stdout, stderr and the
// exit code.
func (a *awsCLI) run(args ...string) (string, string, int) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	full := append(append([]string{"route53"}, args...), "--endpoint-url", a.s.api, "--output", "json")
	cmd := exec.CommandContext(ctx, awsPath, full...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return o.String(), e.String(), 0
	case errors.As(err, &exit) && exit.ExitCode() > 0:
		return o.String(), e.String(), exit.ExitCode()
	}
	a.t.Fatalf("aws %s: %v\n%s", strings.Join(full, " "), err, e.String())
	return "", "", 0
}

// json runs a command that must succeed and decodes its JSON output.
func (a *awsCLI) json(args ...string) map[string]any {
	a.t.Helper()
	out, errOut, code := a.run(args...)
	if code != 0 {
		a.t.Fatalf("aws route53 %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	var v map[string]any
	if strings.TrimSpace(out) == "" {
		return v
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		a.t.Fatalf("aws route53 %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// fails runs a command that must fail with the given error code in its message.
func (a *awsCLI) fails(code string, args ...string) string {
	a.t.Helper()
	_, errOut, exit := a.run(args...)
	if exit == 0 || !strings.Contains(errOut, "("+code+")") {
		a.t.Fatalf("aws route53 %s: exit %d, stderr %q; want an error (%s)", strings.Join(args, " "), exit, errOut, code)
	}
	return errOut
}

// file writes a file in the CLI's working directory and returns its file:// argument.
func (a *awsCLI) file(name, content string) string {
	a.t.Helper()
	if err := os.WriteFile(filepath.Join(a.dir, name), []byte(content), 0o644); err != nil {
		a.t.Fatal(err)
	}
	return "file://" + name
}

// get walks a decoded JSON value along keys (strings for objects, ints for arrays).
func get(t testing.TB, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: not an object: %v", p, v)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: not a list that long: %v", p, v)
			}
			v = l[k]
		}
	}
	return v
}

func str(t testing.TB, v any, path ...any) string {
	t.Helper()
	s, _ := get(t, v, path...).(string)
	return s
}

// TestRoute53SeedScenario is the failover script people bring from Route 53: an UPSERT of an A
// record with TTL 0 from a change-batch file, which dig must see at once, and get-change INSYNC.
func TestRoute53SeedScenario(t *testing.T) {
	s := startServer(t)
	a := newAWS(t, s, "AKIDEXAMPLE", "secret")
	zone := a.json("create-hosted-zone", "--name", "example.com", "--caller-reference", "seed-1")
	zoneID := strings.TrimPrefix(str(t, zone, "HostedZone", "Id"), "/hostedzone/")
	batch, err := os.ReadFile("testdata/route53/upsert-db.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"192.0.2.10", "198.51.100.20"} {
		arg := a.file("failover.json", strings.ReplaceAll(string(batch), "ADDRESS", addr))
		start := time.Now()
		out := a.json("change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", arg)
		if st := str(t, out, "ChangeInfo", "Status"); st != "INSYNC" {
			t.Fatalf("change status %s, want INSYNC (the change is served when the call returns)", st)
		}
		r := dig(t, s.dns, "db.example.com", "A")
		checkRRs(t, "dig right after the change", r.answer, "db.example.com. 0 IN A "+addr)
		changeID := str(t, out, "ChangeInfo", "Id")
		if st := str(t, a.json("get-change", "--id", changeID), "ChangeInfo", "Status"); st != "INSYNC" {
			t.Fatalf("get-change: %s", st)
		}
		// The waiter polls every 30 s while PENDING; INSYNC returns on the first call.
		if _, errOut, code := a.run("wait", "resource-record-sets-changed", "--id", changeID); code != 0 {
			t.Fatalf("aws route53 wait: exit %d: %s", code, errOut)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("change, dig and wait took %v", d)
		}
	}
}

// TestRoute53CLIOperations drives every supported operation with the aws CLI.
func TestRoute53CLIOperations(t *testing.T) {
	s := startServer(t)
	a := newAWS(t, s, "AKIDEXAMPLE", "secret")

	// Hosted zones.
	created := a.json("create-hosted-zone", "--name", "example.com", "--caller-reference", "ops-1", "--hosted-zone-config", "Comment=first")
	zoneID := strings.TrimPrefix(str(t, created, "HostedZone", "Id"), "/hostedzone/")
	if ns := get(t, created, "DelegationSet", "NameServers").([]any); len(ns) == 0 {
		t.Fatalf("no name servers: %v", created)
	}
	a.fails("HostedZoneAlreadyExists", "create-hosted-zone", "--name", "example.org", "--caller-reference", "ops-1")
	if c := str(t, a.json("get-hosted-zone", "--id", "/hostedzone/"+zoneID), "HostedZone", "Config", "Comment"); c != "first" {
		t.Fatalf("comment %q", c)
	}
	a.fails("NoSuchHostedZone", "get-hosted-zone", "--id", "ZNOSUCHZONE")
	a.json("update-hosted-zone-comment", "--id", zoneID, "--comment", "second")
	a.json("create-hosted-zone", "--name", "example.net", "--caller-reference", "ops-2")
	if n := len(get(t, a.json("list-hosted-zones"), "HostedZones").([]any)); n != 2 {
		t.Fatalf("list-hosted-zones: %d zones", n)
	}
	byName := a.json("list-hosted-zones-by-name", "--dns-name", "example.net")
	if str(t, byName, "HostedZones", 0, "Name") != "example.net." {
		t.Fatalf("list-hosted-zones-by-name: %v", byName)
	}
	if n := get(t, a.json("get-hosted-zone-count"), "HostedZoneCount"); n != float64(2) {
		t.Fatalf("get-hosted-zone-count: %v", n)
	}

	// Record sets: 310 of them, listed with the CLI's automatic pagination (pages of 300).
	var changes []string
	for i := range 310 {
		changes = append(changes, fmt.Sprintf(`{"Action":"CREATE","ResourceRecordSet":{"Name":"h%03d.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.1"}]}}`, i))
	}
	a.json("change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", a.file("bulk.json", `{"Changes":[`+strings.Join(changes, ",")+`]}`))
	sets := get(t, a.json("list-resource-record-sets", "--hosted-zone-id", zoneID), "ResourceRecordSets").([]any)
	if len(sets) != 312 {
		t.Fatalf("list-resource-record-sets: %d sets, want 312", len(sets))
	}
	page := a.json("list-resource-record-sets", "--hosted-zone-id", zoneID, "--no-paginate", "--start-record-name", "h100.example.com", "--max-items", "2")
	if str(t, page, "ResourceRecordSets", 0, "Name") != "h100.example.com." {
		t.Fatalf("start-record-name: %v", page)
	}
	msg := a.fails("InvalidChangeBatch", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch",
		a.file("dup.json", `{"Changes":[`+changes[0]+`]}`))
	if !strings.Contains(msg, "[Tried to create resource record set") {
		t.Fatalf("InvalidChangeBatch message: %s", msg)
	}
	a.fails("HostedZoneNotEmpty", "delete-hosted-zone", "--id", zoneID)

	// Health checks, against a TCP listener of this test.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	hcConfig := fmt.Sprintf(`{"Type":"TCP","IPAddress":"127.0.0.1","Port":%d,"RequestInterval":10,"FailureThreshold":1}`, port)
	hc := a.json("create-health-check", "--caller-reference", "hc-1", "--health-check-config", hcConfig)
	hcID := str(t, hc, "HealthCheck", "Id")
	if again := a.json("create-health-check", "--caller-reference", "hc-1", "--health-check-config", hcConfig); str(t, again, "HealthCheck", "Id") != hcID {
		t.Fatalf("a retried create-health-check made a second check")
	}
	a.fails("HealthCheckAlreadyExists", "create-health-check", "--caller-reference", "hc-1", "--health-check-config",
		strings.Replace(hcConfig, `"FailureThreshold":1`, `"FailureThreshold":2`, 1))
	a.json("get-health-check", "--health-check-id", hcID)
	if n := len(get(t, a.json("list-health-checks"), "HealthChecks").([]any)); n != 1 {
		t.Fatalf("list-health-checks: %d", n)
	}
	if n := get(t, a.json("get-health-check-count"), "HealthCheckCount"); n != float64(1) {
		t.Fatalf("get-health-check-count: %v", n)
	}
	upd := a.json("update-health-check", "--health-check-id", hcID, "--health-check-version", "1", "--failure-threshold", "2")
	if v := get(t, upd, "HealthCheck", "HealthCheckVersion"); v != float64(2) {
		t.Fatalf("version after update: %v", v)
	}
	a.fails("HealthCheckVersionMismatch", "update-health-check", "--health-check-id", hcID, "--health-check-version", "1", "--inverted")
	// A sub-second interval through a tag: the first probe result comes quickly.
	a.json("change-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", hcID, "--add-tags", "Key=failoverdns:RequestInterval,Value=0.2")
	var status string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		obs := get(t, a.json("get-health-check-status", "--health-check-id", hcID), "HealthCheckObservations").([]any)
		if len(obs) > 0 {
			status = str(t, obs, 0, "StatusReport", "Status")
			if str(t, obs, 0, "Region") != "local" || str(t, obs, 0, "IPAddress") != "127.0.0.1" {
				t.Fatalf("observation: %v", obs)
			}
			break
		}
	}
	if !strings.HasPrefix(status, "Success") {
		t.Fatalf("get-health-check-status: %q, want a Success observation", status)
	}
	a.json("get-health-check-last-failure-reason", "--health-check-id", hcID)

	// Failover: PRIMARY on the check, SECONDARY; force the check down with a tag.
	a.json("change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", a.file("failover.json", fmt.Sprintf(`{"Changes":[
		{"Action":"UPSERT","ResourceRecordSet":{"Name":"app.example.com","Type":"A","TTL":0,"SetIdentifier":"primary","Failover":"PRIMARY","HealthCheckId":%q,"ResourceRecords":[{"Value":"192.0.2.1"}]}},
		{"Action":"UPSERT","ResourceRecordSet":{"Name":"app.example.com","Type":"A","TTL":0,"SetIdentifier":"secondary","Failover":"SECONDARY","ResourceRecords":[{"Value":"192.0.2.2"}]}}]}`, hcID)))
	answer := func() string {
		t.Helper()
		out := a.json("test-dns-answer", "--hosted-zone-id", zoneID, "--record-name", "app.example.com", "--record-type", "A")
		if str(t, out, "ResponseCode") != "NOERROR" {
			t.Fatalf("test-dns-answer: %v", out)
		}
		return str(t, out, "RecordData", 0)
	}
	if got := answer(); got != "192.0.2.1" {
		t.Fatalf("test-dns-answer while healthy: %s", got)
	}
	a.json("change-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", hcID,
		"--add-tags", "Key=failoverdns:Force,Value=unhealthy", "Key=failoverdns:ForceReason,Value=drill")
	if got := answer(); got != "192.0.2.2" {
		t.Fatalf("test-dns-answer after forcing the primary down: %s", got)
	}
	checkRRs(t, "dig after the forced failover", dig(t, s.dns, "app.example.com", "A").answer, "app.example.com. 0 IN A 192.0.2.2")
	tags := a.json("list-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", hcID)
	if n := len(get(t, tags, "ResourceTagSet", "Tags").([]any)); n != 3 {
		t.Fatalf("list-tags-for-resource: %v", tags)
	}
	a.json("change-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", hcID, "--remove-tag-keys", "failoverdns:Force")
	if got := answer(); got != "192.0.2.1" {
		t.Fatalf("test-dns-answer after clearing the force: %s", got)
	}
	a.fails("InvalidInput", "change-tags-for-resource", "--resource-type", "healthcheck", "--resource-id", hcID, "--add-tags", "Key=failoverdns:Force,Value=sideways")
	a.json("change-tags-for-resource", "--resource-type", "hostedzone", "--resource-id", zoneID, "--add-tags", "Key=team,Value=sre")
	if str(t, a.json("list-tags-for-resource", "--resource-type", "hostedzone", "--resource-id", zoneID), "ResourceTagSet", "Tags", 0, "Value") != "sre" {
		t.Fatalf("zone tags")
	}

	// Cleanup in Route 53's order: records, then the check, then the zone.
	var deletes []string
	for _, rs := range sets {
		m := rs.(map[string]any)
		if m["Type"] == "A" {
			b, _ := json.Marshal(map[string]any{"Action": "DELETE", "ResourceRecordSet": m})
			deletes = append(deletes, string(b))
		}
	}
	a.json("change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", a.file("del.json", `{"Changes":[`+strings.Join(deletes, ",")+`]}`))
	for _, id := range []string{"primary", "secondary"} {
		ip := map[string]string{"primary": "192.0.2.1", "secondary": "192.0.2.2"}[id]
		extra := ""
		if id == "primary" {
			extra = fmt.Sprintf(`,"Failover":"PRIMARY","HealthCheckId":%q`, hcID)
		} else {
			extra = `,"Failover":"SECONDARY"`
		}
		a.json("change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", a.file("del-"+id+".json",
			fmt.Sprintf(`{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"app.example.com","Type":"A","TTL":0,"SetIdentifier":%q%s,"ResourceRecords":[{"Value":%q}]}}]}`, id, extra, ip)))
	}
	a.json("delete-health-check", "--health-check-id", hcID)
	a.fails("NoSuchHealthCheck", "get-health-check", "--health-check-id", hcID)
	if st := str(t, a.json("delete-hosted-zone", "--id", zoneID), "ChangeInfo", "Status"); st != "INSYNC" {
		t.Fatalf("delete-hosted-zone: %s", st)
	}
}

// TestRoute53Boto3Pagination pages through more than 100 zones and 300 record sets with boto3.
func TestRoute53Boto3Pagination(t *testing.T) {
	needFile(t, python3Path)
	s := startServer(t)
	out := runPython(t, awsEnv(t, "AKIDEXAMPLE", "secret"), "testdata/route53/paginate.py", s.api)
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("paginate.py output: %v\n%s", err, out)
	}
	want := map[string]any{"change_status": "INSYNC", "get_change": "INSYNC", "zones": 104.0, "distinct_zones": 104.0, "zone_pages": 2.0,
		"records": 626.0, "distinct_records": 626.0, "record_pages": 3.0, "missing": "NoSuchHostedZone"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func runPython(t testing.TB, env []string, script string, args ...string) string {
	t.Helper()
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python3Path, append([]string{abs}, args...)...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("python3 %s: %v\n%s", script, err, e.String())
	}
	return o.String()
}

// TestRoute53Signatures starts the server with access keys: good signatures work, a wrong secret
// or an unknown key is refused with AWS's error, by the aws CLI and by boto3, and changes nothing.
func TestRoute53Signatures(t *testing.T) {
	needFile(t, python3Path)
	t.Setenv("FAILOVERDNS_API_ACCESS_KEYS", "AKIDGOOD:good-secret,AKIDSECOND:second-secret")
	s := startServer(t)
	good := newAWS(t, s, "AKIDGOOD", "good-secret")
	good.json("create-hosted-zone", "--name", "example.com", "--caller-reference", "sig-1")
	newAWS(t, s, "AKIDSECOND", "second-secret").json("list-hosted-zones")

	bad := newAWS(t, s, "AKIDGOOD", "wrong-secret")
	bad.fails("SignatureDoesNotMatch", "create-hosted-zone", "--name", "example.org", "--caller-reference", "sig-2")
	newAWS(t, s, "AKIDUNKNOWN", "good-secret").fails("InvalidClientTokenId", "create-hosted-zone", "--name", "example.net", "--caller-reference", "sig-3")

	for _, tc := range []struct{ id, secret, want string }{
		{"AKIDGOOD", "good-secret", `{"ok": 1}`},
		{"AKIDGOOD", "wrong-secret", `{"code": "SignatureDoesNotMatch", "status": 403}`},
		{"AKIDNOPE", "x", `{"code": "InvalidClientTokenId", "status": 403}`},
	} {
		if got := strings.TrimSpace(runPython(t, awsEnv(t, tc.id, tc.secret), "testdata/route53/signed.py", s.api)); got != tc.want {
			t.Errorf("boto3 as %s/%s: %s, want %s", tc.id, tc.secret, got, tc.want)
		}
	}
	if n := get(t, good.json("get-hosted-zone-count"), "HostedZoneCount"); n != float64(1) {
		t.Fatalf("refused requests changed something: %v zones", n)
	}
}

// TestRoute53RefusesOpenListenWithoutKeys: without access keys, the API must not listen beyond
// loopback.
func TestRoute53RefusesOpenListenWithoutKeys(t *testing.T) {
	cmd := exec.Command(binPath, "serve", "--data-dir", t.TempDir(), "--dns-listen", "127.0.0.1:0", "--api-listen", "0.0.0.0:0")
	cmd.Env = binEnv()
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("serve with api-listen 0.0.0.0 and no keys started:\n%s", out)
	}
	if !strings.Contains(string(out), "api-access-keys") {
		t.Fatalf("the error does not say what to set:\n%s", out)
	}
}
