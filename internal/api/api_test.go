package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/store/bolt"
)

func newAPI(t *testing.T) *httptest.Server {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{Nameservers: []string{"ns1.example.net."}, SyncWait: time.Millisecond})
	srv := httptest.NewServer(New(svc, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, ErrorBody, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var eb ErrorBody
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Code == "" {
			t.Fatalf("%s %s: error answer is not an ErrorBody: %s", method, path, data)
		}
	}
	return resp.StatusCode, eb, string(data)
}

// TestErrors checks that what a client gets wrong comes back with Route 53's code, the right
// status, and a message that names the problem.
func TestErrors(t *testing.T) {
	srv := newAPI(t)
	if code, _, body := call(t, srv, "POST", "/v1/zones", `{"Name": "example.com"}`); code != http.StatusCreated {
		t.Fatalf("create zone: %d %s", code, body)
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, want               string
	}{
		{"unknown field", "POST", "/v1/zones/example.com/rrsets", `{"ChangeBatch": {}}`, 400, "InvalidInput", `unknown field "ChangeBatch"`},
		{"bad JSON", "POST", "/v1/zones/example.com/rrsets", `{"Changes": [`, 400, "InvalidInput", "invalid JSON body"},
		{"wrong type", "POST", "/v1/zones/example.com/rrsets", `{"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "a.example.com", "Type": "A", "TTL": "sixty"}}]}`, 400, "InvalidInput", "TTL"},
		{"empty body", "POST", "/v1/zones", ``, 400, "InvalidInput", "empty"},
		{"zone without name", "POST", "/v1/zones", `{}`, 400, "InvalidInput", "Name"},
		{"missing zone", "GET", "/v1/zones/nope.example", ``, 404, "NoSuchHostedZone", "nope.example"},
		{"missing change", "GET", "/v1/changes/CNOPE", ``, 404, "NoSuchChange", "CNOPE"},
		{"missing check", "GET", "/v1/healthchecks/nope", ``, 404, "NoSuchHealthCheck", "nope"},
		{"unknown operation", "GET", "/v1/nothing", ``, 404, "NotFound", "GET /v1/nothing"},
		{"bad zone file", "PUT", "/v1/zones/example.com/file", "$ORIGIN example.com.\nwww IN A not-an-ip\n", 400, "InvalidInput", "line 2"},
		{"change batch rules", "POST", "/v1/zones/example.com/rrsets", `{"Changes": [{"Action": "DELETE", "ResourceRecordSet": {"Name": "www.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}`, 400, "InvalidChangeBatch", "but it was not found"},
		{"bad force state", "PUT", "/v1/healthchecks/x/force", `{"State": "sideways"}`, 400, "InvalidInput", "sideways"},
		{"bad events cursor", "GET", "/v1/events?after=x", ``, 400, "InvalidInput", "after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, eb, body := call(t, srv, tc.method, tc.path, tc.body)
			if status != tc.status || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.want) {
				t.Fatalf("%s %s = %d %s, want %d %s naming %q", tc.method, tc.path, status, body, tc.status, tc.code, tc.want)
			}
		})
	}
}

func TestChangeBatchMessagesListed(t *testing.T) {
	srv := newAPI(t)
	call(t, srv, "POST", "/v1/zones", `{"Name": "example.com"}`)
	_, eb, _ := call(t, srv, "POST", "/v1/zones/example.com/rrsets", `{"Changes": [
		{"Action": "CREATE", "ResourceRecordSet": {"Name": "a.example.org", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}},
		{"Action": "CREATE", "ResourceRecordSet": {"Name": "example.com", "Type": "CNAME", "TTL": 60, "ResourceRecords": [{"Value": "x.example.net"}]}}]}`)
	if eb.Error.Code != "InvalidChangeBatch" || len(eb.Error.Messages) != 2 || !strings.HasPrefix(eb.Error.Message, "[") {
		t.Fatalf("two problems: %+v", eb)
	}
}

func FuzzChangeBatchBody(f *testing.F) {
	f.Add(`{"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "www.example.com", "Type": "A", "TTL": 0, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}`)
	f.Add(`{"Comment": "x", "Changes": []}`)
	f.Fuzz(func(t *testing.T, body string) {
		srv := newAPI(t)
		call(t, srv, "POST", "/v1/zones", `{"Name": "example.com"}`)
		status, _, _ := call(t, srv, "POST", "/v1/zones/example.com/rrsets", body)
		if status != http.StatusOK && status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Fatalf("status %d for %q", status, body)
		}
	})
}
