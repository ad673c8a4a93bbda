package api_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/api"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
)

// fakeMonitor reports every check healthy with one probe observation, or the forced state the
// service stored.
type fakeMonitor struct{ svc *service.Service }

func (m *fakeMonitor) Status(id string) (health.Status, bool) {
	hc, err := m.svc.GetHealthCheck(context.Background(), id)
	if err != nil {
		return health.Status{}, false
	}
	t := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	return health.Status{ID: id, Healthy: true, Force: hc.Force, Since: t, Observations: []health.Observation{
		{Time: t.Add(-time.Second), Healthy: false, Status: "Failure: HTTP Status Code 503", IP: netip.MustParseAddr("192.0.2.10")},
		{Time: t, Healthy: true, Status: "Success: HTTP Status Code 200, OK", IP: netip.MustParseAddr("192.0.2.10")},
	}}, true
}

type fixture struct {
	svc *service.Service
	url string
	r53 *route53.Client
}

// newFixture serves the Route 53 facade over a real service and bolt store. A watcher marks every
// commit served at once and TestDNSAnswer answers from a snapshot built on demand, as the daemon's
// publisher would.
func newFixture(t *testing.T, keys map[string]string) *fixture {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mon := &fakeMonitor{}
	svc := service.New(st, service.Options{Nameservers: []string{"ns1.example.net.", "ns2.example.net."}, Monitor: mon})
	mon.svc = svc
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events := st.Watch(ctx)
	go func() {
		for ev := range events {
			svc.SetServed(ev.Revision)
		}
	}()
	snapshot := func() *answer.Snapshot {
		zones, err := svc.Zones(context.Background(), nil)
		if err != nil {
			t.Error(err)
			return nil
		}
		snap, err := answer.Build(zones)
		if err != nil {
			t.Error(err)
		}
		return snap
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(api.NewRoute53(svc, log, api.Route53Options{AccessKeys: keys, Snapshot: snapshot}))
	t.Cleanup(srv.Close)
	f := &fixture{svc: svc, url: srv.URL}
	f.r53 = f.client("AKIDTEST", "secret")
	return f
}

func (f *fixture) client(id, secret string) *route53.Client {
	return route53.New(route53.Options{
		Region:           "eu-west-3", // any region: the scope's region is the one verified
		BaseEndpoint:     aws.String(f.url),
		Credentials:      credentials.NewStaticCredentialsProvider(id, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// apiCode returns the error code and HTTP status of an SDK error.
func apiCode(err error) (string, int) {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return "", 0
	}
	status := 0
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func wantErr(t *testing.T, what string, err error, code string, status int) string {
	t.Helper()
	got, st := apiCode(err)
	if got != code || st != status {
		t.Fatalf("%s: error %v (code %q, status %d); want %s %d", what, err, got, st, code, status)
	}
	var ae smithy.APIError
	errors.As(err, &ae)
	return ae.ErrorMessage()
}

// must returns v, or panics (failing the test with the operation's error) when err is set.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func createZone(t *testing.T, c *route53.Client, name string) *route53.CreateHostedZoneOutput {
	t.Helper()
	return must(c.CreateHostedZone(context.Background(), &route53.CreateHostedZoneInput{
		Name: aws.String(name), CallerReference: aws.String("ref-" + name)}))
}

func TestRoute53HostedZones(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	c := f.r53
	out := must(c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("Example.COM"), CallerReference: aws.String("r1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("first")}}))
	id := aws.ToString(out.HostedZone.Id)
	if !strings.HasPrefix(id, "/hostedzone/Z") || aws.ToString(out.HostedZone.Name) != "example.com." ||
		aws.ToString(out.HostedZone.Config.Comment) != "first" || aws.ToInt64(out.HostedZone.ResourceRecordSetCount) != 2 {
		t.Fatalf("CreateHostedZone: %+v", out.HostedZone)
	}
	if out.ChangeInfo.Status != types.ChangeStatusInsync || out.ChangeInfo.SubmittedAt == nil || !strings.HasPrefix(aws.ToString(out.ChangeInfo.Id), "/change/C") {
		t.Fatalf("ChangeInfo: %+v", out.ChangeInfo)
	}
	if got := out.DelegationSet.NameServers; len(got) != 2 || got[0] != "ns1.example.net." {
		t.Fatalf("DelegationSet: %v", got)
	}
	if loc := aws.ToString(out.Location); loc != f.url+"/2013-04-01/hostedzone/"+strings.TrimPrefix(id, "/hostedzone/") {
		t.Fatalf("Location %q", loc)
	}
	_, err := c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String("r1")})
	wantErr(t, "reused caller reference", err, "HostedZoneAlreadyExists", 409)
	_, err = c.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("bad..name"), CallerReference: aws.String("r2")})
	wantErr(t, "bad name", err, "InvalidDomainName", 400)

	for _, ref := range []string{id, strings.TrimPrefix(id, "/hostedzone/")} {
		got := must(c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(ref)}))
		if aws.ToString(got.HostedZone.Id) != id || len(got.DelegationSet.NameServers) != 2 {
			t.Fatalf("GetHostedZone(%s): %+v", ref, got.HostedZone)
		}
	}
	_, err = c.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String("ZNOSUCHZONE")})
	wantErr(t, "unknown zone", err, "NoSuchHostedZone", 404)

	upd := must(c.UpdateHostedZoneComment(ctx, &route53.UpdateHostedZoneCommentInput{Id: aws.String(id), Comment: aws.String("second")}))
	if aws.ToString(upd.HostedZone.Config.Comment) != "second" {
		t.Fatalf("UpdateHostedZoneComment: %+v", upd.HostedZone.Config)
	}
	_, err = c.UpdateHostedZoneComment(ctx, &route53.UpdateHostedZoneCommentInput{Id: aws.String(id), Comment: aws.String(strings.Repeat("x", 257))})
	wantErr(t, "long comment", err, "InvalidInput", 400)

	// More than a page of zones: the paginator must see each exactly once.
	for i := range 104 {
		createZone(t, c, fmt.Sprintf("z%03d.example.org", i))
	}
	seen := map[string]bool{}
	pages := 0
	for p := route53.NewListHostedZonesPaginator(c, &route53.ListHostedZonesInput{}); p.HasMorePages(); {
		page := must(p.NextPage(ctx))
		pages++
		if len(page.HostedZones) > 100 {
			t.Fatalf("page of %d zones", len(page.HostedZones))
		}
		for _, hz := range page.HostedZones {
			if seen[aws.ToString(hz.Id)] {
				t.Fatalf("zone %s listed twice", aws.ToString(hz.Name))
			}
			seen[aws.ToString(hz.Id)] = true
		}
	}
	if len(seen) != 105 || pages != 2 {
		t.Fatalf("ListHostedZones: %d zones in %d pages; want 105 in 2", len(seen), pages)
	}
	small := must(c.ListHostedZones(ctx, &route53.ListHostedZonesInput{MaxItems: aws.Int32(3)}))
	if !small.IsTruncated || len(small.HostedZones) != 3 || aws.ToString(small.NextMarker) == "" || aws.ToInt32(small.MaxItems) != 3 {
		t.Fatalf("ListHostedZones maxitems 3: %+v", small)
	}
	byName := must(c.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String("z100.example.org"), MaxItems: aws.Int32(2)}))
	if len(byName.HostedZones) != 2 || aws.ToString(byName.HostedZones[0].Name) != "z100.example.org." || !byName.IsTruncated ||
		aws.ToString(byName.NextDNSName) != "z102.example.org." {
		t.Fatalf("ListHostedZonesByName: %+v", byName)
	}
	count := must(c.GetHostedZoneCount(ctx, &route53.GetHostedZoneCountInput{}))
	if aws.ToInt64(count.HostedZoneCount) != 105 {
		t.Fatalf("GetHostedZoneCount = %d", aws.ToInt64(count.HostedZoneCount))
	}

	// A zone with records besides SOA and NS cannot be deleted.
	must(c.ChangeResourceRecordSets(ctx, upsert(id, "www.example.com", "192.0.2.1", 60)))
	_, err = c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String(id)})
	wantErr(t, "non-empty zone", err, "HostedZoneNotEmpty", 400)
	del := must(c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String("/hostedzone/" + idOf(t, c, "z000.example.org."))}))
	if del.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("DeleteHostedZone: %+v", del.ChangeInfo)
	}
	_, err = c.DeleteHostedZone(ctx, &route53.DeleteHostedZoneInput{Id: aws.String("ZNOSUCHZONE")})
	wantErr(t, "delete unknown", err, "NoSuchHostedZone", 404)
}

func idOf(t *testing.T, c *route53.Client, name string) string {
	t.Helper()
	out := must(c.ListHostedZonesByName(context.Background(), &route53.ListHostedZonesByNameInput{DNSName: aws.String(name), MaxItems: aws.Int32(1)}))
	if len(out.HostedZones) == 0 || aws.ToString(out.HostedZones[0].Name) != name {
		t.Fatalf("no zone %s", name)
	}
	return strings.TrimPrefix(aws.ToString(out.HostedZones[0].Id), "/hostedzone/")
}

func upsert(zoneID, name, ip string, ttl int64) *route53.ChangeResourceRecordSetsInput {
	return &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zoneID), ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{
		Action: types.ChangeActionUpsert, ResourceRecordSet: &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA,
			TTL: aws.Int64(ttl), ResourceRecords: []types.ResourceRecord{{Value: aws.String(ip)}}}}}}}
}

func TestRoute53RecordSets(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	c := f.r53
	id := aws.ToString(createZone(t, c, "example.com").HostedZone.Id)

	ch := must(c.ChangeResourceRecordSets(ctx, upsert(id, "www.example.com", "192.0.2.1", 0)))
	if ch.ChangeInfo.Status != types.ChangeStatusInsync {
		t.Fatalf("change: %+v", ch.ChangeInfo)
	}
	got := must(c.GetChange(ctx, &route53.GetChangeInput{Id: ch.ChangeInfo.Id}))
	if got.ChangeInfo.Status != types.ChangeStatusInsync || aws.ToString(got.ChangeInfo.Id) != aws.ToString(ch.ChangeInfo.Id) {
		t.Fatalf("GetChange: %+v", got.ChangeInfo)
	}
	_, err := c.GetChange(ctx, &route53.GetChangeInput{Id: aws.String("CNOSUCHCHANGE")})
	wantErr(t, "unknown change", err, "NoSuchChange", 404)

	// CREATE of an existing set: InvalidChangeBatch with Route 53's bracketed message, nothing applied.
	create := upsert(id, "www.example.com", "192.0.2.2", 60)
	create.ChangeBatch.Changes[0].Action = types.ChangeActionCreate
	create.ChangeBatch.Changes = append(create.ChangeBatch.Changes, upsert(id, "new.example.com", "192.0.2.3", 60).ChangeBatch.Changes[0])
	msg := wantErr(t, "create existing", must2(c.ChangeResourceRecordSets(ctx, create)), "InvalidChangeBatch", 400)
	if !strings.HasPrefix(msg, "[") || !strings.Contains(msg, "but it already exists") {
		t.Fatalf("InvalidChangeBatch message %q", msg)
	}
	list := must(c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)}))
	if n := len(list.ResourceRecordSets); n != 3 {
		t.Fatalf("after a refused batch: %d record sets, want 3 (half-applied?)", n)
	}
	www := list.ResourceRecordSets[2]
	if aws.ToString(www.Name) != "www.example.com." || aws.ToInt64(www.TTL) != 0 || aws.ToString(www.ResourceRecords[0].Value) != "192.0.2.1" {
		t.Fatalf("www: %+v", www)
	}
	_, err = c.ChangeResourceRecordSets(ctx, upsert("ZNOSUCHZONE", "www.example.com", "192.0.2.1", 0))
	wantErr(t, "unknown zone", err, "NoSuchHostedZone", 404)

	// More than a page: 640 plain sets and a weighted group of 5 across a page boundary.
	var changes []types.Change
	for i := range 640 {
		changes = append(changes, upsert(id, fmt.Sprintf("h%03d.example.com", i), "192.0.2.9", 60).ChangeBatch.Changes[0])
	}
	for i := range 5 {
		rs := upsert(id, "w.example.com", fmt.Sprintf("192.0.2.%d", 20+i), 60).ChangeBatch.Changes[0]
		rs.ResourceRecordSet.SetIdentifier = aws.String(fmt.Sprintf("id%d", i))
		rs.ResourceRecordSet.Weight = aws.Int64(10)
		changes = append(changes, rs)
	}
	for i := range changes {
		changes[i].Action = types.ChangeActionCreate // an UPSERT counts twice towards the 1000 records
	}
	must(c.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(id), ChangeBatch: &types.ChangeBatch{Changes: changes}}))
	var names []string
	pages := 0
	for p := route53.NewListResourceRecordSetsPaginator(c, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)}); p.HasMorePages(); {
		page := must(p.NextPage(ctx))
		pages++
		if len(page.ResourceRecordSets) > 300 {
			t.Fatalf("page of %d", len(page.ResourceRecordSets))
		}
		for _, rs := range page.ResourceRecordSets {
			names = append(names, aws.ToString(rs.Name)+" "+string(rs.Type)+" "+aws.ToString(rs.SetIdentifier))
		}
	}
	if len(names) != 648 || pages != 3 {
		t.Fatalf("paginated %d record sets in %d pages; want 648 in 3", len(names), pages)
	}
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			t.Fatalf("%s listed twice", n)
		}
		seen[n] = true
	}
	// Start inside the weighted group.
	mid := must(c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id),
		StartRecordName: aws.String("w.example.com"), StartRecordType: types.RRTypeA, StartRecordIdentifier: aws.String("id3"), MaxItems: aws.Int32(1)}))
	if len(mid.ResourceRecordSets) != 1 || aws.ToString(mid.ResourceRecordSets[0].SetIdentifier) != "id3" ||
		aws.ToString(mid.NextRecordIdentifier) != "id4" || aws.ToString(mid.NextRecordName) != "w.example.com." || mid.NextRecordType != types.RRTypeA {
		t.Fatalf("start inside a group: %+v", mid)
	}
	_, err = c.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordType: types.RRTypeA})
	wantErr(t, "type without name", err, "InvalidInput", 400)

	// The model's path has a trailing slash; clients disagree. Both work, neither redirects.
	for _, path := range []string{"/rrset", "/rrset/"} {
		body := `<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes><Change><Action>UPSERT</Action><ResourceRecordSet><Name>slash.example.com</Name><Type>A</Type><TTL>5</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.77</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
		status, resp := raw(t, "POST", f.url+"/2013-04-01"+id+path, body)
		if status != 200 || !strings.Contains(resp, "<ChangeResourceRecordSetsResponse") || !strings.Contains(resp, "INSYNC") {
			t.Fatalf("POST %s: %d %s", path, status, resp)
		}
	}
}

func must2[T any](_ T, err error) error { return err }

// raw sends an unsigned request (the fixture without keys accepts it) and returns status and body.
func raw(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("%s %s: no x-amzn-RequestId header", method, url)
	}
	return resp.StatusCode, string(b)
}

func TestRoute53HealthChecks(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	c := f.r53
	cfg := &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("192.0.2.10"), Port: aws.Int32(8080),
		ResourcePath: aws.String("health"), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(2)}
	out := must(c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: cfg}))
	hc := out.HealthCheck
	id := aws.ToString(hc.Id)
	got := hc.HealthCheckConfig
	if len(id) != 36 || aws.ToInt64(hc.HealthCheckVersion) != 1 || aws.ToString(got.ResourcePath) != "/health" ||
		aws.ToInt32(got.RequestInterval) != 10 || aws.ToInt32(got.FailureThreshold) != 2 || aws.ToInt32(got.Port) != 8080 {
		t.Fatalf("CreateHealthCheck: %+v %+v", hc, got)
	}
	if !strings.HasSuffix(aws.ToString(out.Location), "/2013-04-01/healthcheck/"+id) {
		t.Fatalf("Location %q", aws.ToString(out.Location))
	}
	again := must(c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: cfg}))
	if aws.ToString(again.HealthCheck.Id) != id {
		t.Fatalf("a retry with the same caller reference made a new check")
	}
	cfg2 := *cfg
	cfg2.Port = aws.Int32(9090)
	_, err := c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc1"), HealthCheckConfig: &cfg2})
	wantErr(t, "reused reference", err, "HealthCheckAlreadyExists", 409)
	_, err = c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("hc2"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FailureThreshold: aws.Int32(11), IPAddress: aws.String("192.0.2.1")}})
	wantErr(t, "threshold 11", err, "InvalidInput", 400)

	g := must(c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(id)}))
	if aws.ToString(g.HealthCheck.CallerReference) != "hc1" {
		t.Fatalf("GetHealthCheck: %+v", g.HealthCheck)
	}
	_, err = c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantErr(t, "unknown check", err, "NoSuchHealthCheck", 404)

	u := must(c.UpdateHealthCheck(ctx, &route53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(1),
		FailureThreshold: aws.Int32(5), ResetElements: []types.ResettableElementName{types.ResettableElementNameResourcePath}}))
	if aws.ToInt64(u.HealthCheck.HealthCheckVersion) != 2 || aws.ToInt32(u.HealthCheck.HealthCheckConfig.FailureThreshold) != 5 ||
		aws.ToString(u.HealthCheck.HealthCheckConfig.ResourcePath) != "/" {
		t.Fatalf("UpdateHealthCheck: %+v", u.HealthCheck.HealthCheckConfig)
	}
	_, err = c.UpdateHealthCheck(ctx, &route53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(1), Inverted: aws.Bool(true)})
	wantErr(t, "stale version", err, "HealthCheckVersionMismatch", 409)

	st := must(c.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(id)}))
	if len(st.HealthCheckObservations) != 1 {
		t.Fatalf("observations: %+v", st.HealthCheckObservations)
	}
	o := st.HealthCheckObservations[0]
	if o.Region != "local" || aws.ToString(o.IPAddress) != "192.0.2.10" || aws.ToString(o.StatusReport.Status) != "Success: HTTP Status Code 200, OK" ||
		!o.StatusReport.CheckedTime.Equal(time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)) {
		t.Fatalf("observation: %+v %+v", o, o.StatusReport)
	}
	lf := must(c.GetHealthCheckLastFailureReason(ctx, &route53.GetHealthCheckLastFailureReasonInput{HealthCheckId: aws.String(id)}))
	if len(lf.HealthCheckObservations) != 1 || aws.ToString(lf.HealthCheckObservations[0].StatusReport.Status) != "Failure: HTTP Status Code 503" {
		t.Fatalf("last failure: %+v", lf.HealthCheckObservations)
	}

	for i := range 3 {
		must(c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String(fmt.Sprint("tcp", i)),
			HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("192.0.2.11"), Port: aws.Int32(int32(1000 + i))}}))
	}
	n := 0
	for p := route53.NewListHealthChecksPaginator(c, &route53.ListHealthChecksInput{MaxItems: aws.Int32(3)}); p.HasMorePages(); {
		n += len(must(p.NextPage(ctx)).HealthChecks)
	}
	count := must(c.GetHealthCheckCount(ctx, &route53.GetHealthCheckCountInput{}))
	if n != 4 || aws.ToInt64(count.HealthCheckCount) != 4 {
		t.Fatalf("listed %d checks, count %d; want 4", n, aws.ToInt64(count.HealthCheckCount))
	}

	must(c.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)}))
	_, err = c.DeleteHealthCheck(ctx, &route53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)})
	wantErr(t, "delete twice", err, "NoSuchHealthCheck", 404)
}

func TestRoute53Tags(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	c := f.r53
	zid := strings.TrimPrefix(aws.ToString(createZone(t, c, "example.com").HostedZone.Id), "/hostedzone/")
	must(c.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid),
		AddTags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sre")}, {Key: aws.String("env"), Value: aws.String("prod")}}}))
	lt := must(c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid)}))
	if aws.ToString(lt.ResourceTagSet.ResourceId) != zid || len(lt.ResourceTagSet.Tags) != 2 || aws.ToString(lt.ResourceTagSet.Tags[0].Key) != "env" {
		t.Fatalf("ListTagsForResource: %+v", lt.ResourceTagSet)
	}
	must(c.ChangeTagsForResource(ctx, &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid), RemoveTagKeys: []string{"env"}}))
	lt = must(c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(zid)}))
	if len(lt.ResourceTagSet.Tags) != 1 {
		t.Fatalf("after removing env: %+v", lt.ResourceTagSet.Tags)
	}
	_, err := c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String("ZNOSUCH")})
	wantErr(t, "unknown zone", err, "NoSuchHostedZone", 404)

	// Extension tags change the check; removing them restores the defaults.
	hc := must(c.CreateHealthCheck(ctx, &route53.CreateHealthCheckInput{CallerReference: aws.String("x"),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("192.0.2.1"), Port: aws.Int32(80)}})).HealthCheck
	hid := aws.ToString(hc.Id)
	tag := func(add map[string]string, remove ...string) error {
		in := &route53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String(hid), RemoveTagKeys: remove}
		for k, v := range add {
			in.AddTags = append(in.AddTags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		_, err := c.ChangeTagsForResource(ctx, in)
		return err
	}
	if err := tag(map[string]string{"failoverdns:RequestInterval": "0.5", "failoverdns:RecoveryThreshold": "6", "failoverdns:Timeout": "0.25",
		"failoverdns:Force": "unhealthy", "failoverdns:ForceReason": "maintenance"}); err != nil {
		t.Fatal(err)
	}
	stored := must(f.svc.GetHealthCheck(ctx, hid))
	if cfg := stored.HealthCheckConfig; cfg.RequestInterval != 0.5 || cfg.RecoveryThreshold != 6 || cfg.Timeout != 0.25 ||
		stored.Force == nil || stored.Force.Healthy || stored.Force.Reason != "maintenance" {
		t.Fatalf("after extension tags: %+v force %+v", cfg, stored.Force)
	}
	xmlCheck := must(c.GetHealthCheck(ctx, &route53.GetHealthCheckInput{HealthCheckId: aws.String(hid)}))
	if aws.ToInt32(xmlCheck.HealthCheck.HealthCheckConfig.RequestInterval) != 1 {
		t.Fatalf("RequestInterval 0.5 s is reported as %d, want 1 (rounded up)", aws.ToInt32(xmlCheck.HealthCheck.HealthCheckConfig.RequestInterval))
	}
	st := must(c.GetHealthCheckStatus(ctx, &route53.GetHealthCheckStatusInput{HealthCheckId: aws.String(hid)}))
	if s := aws.ToString(st.HealthCheckObservations[0].StatusReport.Status); !strings.HasPrefix(s, "Failure: forced unhealthy") || !strings.Contains(s, "maintenance") {
		t.Fatalf("status of a forced check: %q", s)
	}
	err = tag(map[string]string{"failoverdns:RequestInterval": "0.01"})
	wantErr(t, "interval 0.01", err, "InvalidInput", 400)
	err = tag(map[string]string{"failoverdns:Force": "maybe"})
	wantErr(t, "force maybe", err, "InvalidInput", 400)
	err = tag(map[string]string{"failoverdns:Intervall": "1"})
	wantErr(t, "typo", err, "InvalidInput", 400)
	if after := must(f.svc.GetHealthCheck(ctx, hid)); after.HealthCheckConfig.RequestInterval != 0.5 {
		t.Fatalf("a refused tag changed the check: %+v", after.HealthCheckConfig)
	}
	if err := tag(nil, "failoverdns:RequestInterval", "failoverdns:RecoveryThreshold", "failoverdns:Timeout", "failoverdns:Force"); err != nil {
		t.Fatal(err)
	}
	stored = must(f.svc.GetHealthCheck(ctx, hid))
	if cfg := stored.HealthCheckConfig; cfg.RequestInterval != 30 || cfg.RecoveryThreshold != 0 || cfg.Timeout != 0 || stored.Force != nil {
		t.Fatalf("after removing extension tags: %+v force %+v", cfg, stored.Force)
	}
	lt = must(c.ListTagsForResource(ctx, &route53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String(hid)}))
	if len(lt.ResourceTagSet.Tags) != 1 || aws.ToString(lt.ResourceTagSet.Tags[0].Key) != "failoverdns:ForceReason" {
		t.Fatalf("tags left: %+v", lt.ResourceTagSet.Tags)
	}
	many := must(c.ListTagsForResources(ctx, &route53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceIds: []string{hid}}))
	if len(many.ResourceTagSets) != 1 {
		t.Fatalf("ListTagsForResources: %+v", many)
	}
}

func TestRoute53TestDNSAnswer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	c := f.r53
	id := aws.ToString(createZone(t, c, "example.com").HostedZone.Id)
	must(c.ChangeResourceRecordSets(ctx, upsert(id, "www.example.com", "192.0.2.1", 0)))
	a := must(c.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(id), RecordName: aws.String("www.example.com"), RecordType: types.RRTypeA}))
	if aws.ToString(a.ResponseCode) != "NOERROR" || len(a.RecordData) != 1 || a.RecordData[0] != "192.0.2.1" || aws.ToString(a.Protocol) != "UDP" ||
		aws.ToString(a.Nameserver) != "ns1.example.net." {
		t.Fatalf("TestDNSAnswer: %+v", a)
	}
	nx := must(c.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(id), RecordName: aws.String("nope.example.com"), RecordType: types.RRTypeA}))
	if aws.ToString(nx.ResponseCode) != "NXDOMAIN" || len(nx.RecordData) != 0 {
		t.Fatalf("TestDNSAnswer nope: %+v", nx)
	}
	_, err := c.TestDNSAnswer(ctx, &route53.TestDNSAnswerInput{HostedZoneId: aws.String(id), RecordName: aws.String("www.example.org"), RecordType: types.RRTypeA})
	wantErr(t, "name outside the zone", err, "InvalidInput", 400)
}

func TestRoute53BadInput(t *testing.T) {
	f := newFixture(t, nil)
	id := aws.ToString(createZone(t, f.r53, "example.com").HostedZone.Id)
	const ns = ` xmlns="https://route53.amazonaws.com/doc/2013-04-01/"`
	change := func(inner string) string {
		return `<ChangeResourceRecordSetsRequest` + ns + `><ChangeBatch><Changes><Change>` + inner + `</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
	}
	rrset := `<ResourceRecordSet><Name>x.example.com</Name><Type>A</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, msg                string
	}{
		{"malformed", "POST", "/hostedzone" + id[len("/hostedzone"):] + "/rrset/", "<ChangeResourceRecordSetsRequest" + ns + "><ChangeBatch>", 400, "InvalidInput", "Invalid XML"},
		{"empty body", "POST", "/hostedzone", "", 400, "InvalidInput", "Premature end of file"},
		{"wrong root", "POST", "/hostedzone", "<CreateHealthCheckRequest" + ns + "/>", 400, "InvalidInput", "CreateHostedZoneRequest"},
		{"unknown element", "POST", "/hostedzone", "<CreateHostedZoneRequest" + ns + "><Name>a.com</Name><CallerReference>r</CallerReference><Colour>red</Colour></CreateHostedZoneRequest>", 400, "InvalidInput", "'Colour'"},
		{"bad action", "POST", id[len(""):] + "/rrset/", change("<Action>REPLACE</Action>" + rrset), 400, "InvalidInput", "cvc-enumeration-valid: Value 'REPLACE'"},
		{"bad ttl", "POST", id + "/rrset/", change("<Action>UPSERT</Action>" + strings.Replace(rrset, "<TTL>60", "<TTL>sixty", 1)), 400, "InvalidInput", "'sixty' is not a valid value for 'integer' (element TTL)"},
		{"bad type", "POST", id + "/rrset/", change("<Action>UPSERT</Action>" + strings.Replace(rrset, "<Type>A", "<Type>AX", 1)), 400, "InvalidInput", "Value 'AX'"},
		{"long value", "POST", id + "/rrset/", change("<Action>UPSERT</Action>" + strings.Replace(rrset, "<Name>x", "<Name>"+strings.Repeat("x", 64), 1)), 400, "InvalidChangeBatch", ""},
		{"unknown zone", "GET", "/hostedzone/ZNOPE", "", 404, "NoSuchHostedZone", "ZNOPE"},
		{"unknown zone with prefix", "GET", "/hostedzone/%2Fhostedzone%2FZNOPE", "", 404, "NoSuchHostedZone", "ZNOPE"},
		{"zone with prefix", "GET", "/hostedzone/%2Fhostedzone%2F" + id[len("/hostedzone/"):], "", 200, "", ""},
		{"change with prefix", "GET", "/change/%2Fchange%2FCNOPE", "", 404, "NoSuchChange", "CNOPE"},
		{"unknown operation", "GET", "/trafficpolicies", "", 400, "InvalidAction", "trafficpolicies"},
		{"bad maxitems", "GET", "/hostedzone?maxitems=zero", "", 400, "InvalidInput", "maxitems"},
		{"oversized", "POST", "/hostedzone", "<CreateHostedZoneRequest" + ns + "><Name>" + strings.Repeat("a", 5<<20) + "</Name></CreateHostedZoneRequest>", 400, "InvalidInput", "bytes"},
		{"bad tag resource", "GET", "/tags/trafficpolicy/x", "", 400, "InvalidInput", "healthcheck, hostedzone"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := raw(t, tc.method, f.url+"/2013-04-01"+tc.path, tc.body)
			body = html.UnescapeString(body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			if !strings.Contains(body, "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Error><Type>Sender</Type><Code>"+tc.code+"</Code>") ||
				!strings.Contains(body, tc.msg) || !strings.Contains(body, "<RequestId>") {
				t.Fatalf("body %s; want code %s and %q", body, tc.code, tc.msg)
			}
		})
	}
	list := must(f.r53.ListResourceRecordSets(context.Background(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id)}))
	if len(list.ResourceRecordSets) != 2 {
		t.Fatalf("bad requests changed the zone: %d record sets", len(list.ResourceRecordSets))
	}
}

func TestRoute53SigV4(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, map[string]string{"AKIDGOOD": "s3cret", "AKIDOTHER": "other"})
	good := f.client("AKIDGOOD", "s3cret")
	createZone(t, good, "example.com")
	must(f.client("AKIDOTHER", "other").ListHostedZones(ctx, &route53.ListHostedZonesInput{}))

	_, err := f.client("AKIDGOOD", "wrong").CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("b.com"), CallerReference: aws.String("b")})
	wantErr(t, "wrong secret", err, "SignatureDoesNotMatch", 403)
	_, err = f.client("AKIDUNKNOWN", "s3cret").CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("c.com"), CallerReference: aws.String("c")})
	wantErr(t, "unknown key", err, "InvalidClientTokenId", 403)
	status, body := raw(t, "POST", f.url+"/2013-04-01/hostedzone", `<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>d.com</Name><CallerReference>d</CallerReference></CreateHostedZoneRequest>`)
	if status != 403 || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned: %d %s", status, body)
	}
	req, _ := http.NewRequest("GET", f.url+"/2013-04-01/hostedzone", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDGOOD/20260101/us-east-1/route53/aws4_request")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), "IncompleteSignature") {
		t.Fatalf("incomplete: %d %s", resp.StatusCode, b)
	}
	// A signed request whose body was changed in transit is refused.
	count := must(good.GetHostedZoneCount(ctx, &route53.GetHostedZoneCountInput{}))
	if aws.ToInt64(count.HostedZoneCount) != 1 {
		t.Fatalf("refused requests changed something: %d zones", aws.ToInt64(count.HostedZoneCount))
	}
}

func TestRoute53ClockSkew(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := service.New(st, service.Options{Nameservers: []string{"ns1.example.net."}})
	h := api.NewRoute53(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), api.Route53Options{
		AccessKeys: map[string]string{"AKID": "secret"},
		Now:        func() time.Time { return time.Now().Add(time.Hour) }})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	_, err = c.GetHostedZoneCount(context.Background(), &route53.GetHostedZoneCountInput{})
	msg := wantErr(t, "skewed clock", err, "SignatureDoesNotMatch", 403)
	if !strings.Contains(msg, "Signature expired") {
		t.Fatalf("message %q", msg)
	}
}
