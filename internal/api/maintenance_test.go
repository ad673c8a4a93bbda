package api

import (
	"encoding/json"
	"fmt"
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

func TestMaintenanceAPI(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := service.New(st, service.Options{Nameservers: []string{"ns1.example.net."}, SyncWait: time.Millisecond})
	s := New(svc, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.MaintenanceRoutes()
	s.Metrics(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "# metrics\n") }))
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	call(t, srv, "POST", "/v1/zones", `{"Name": "example.com"}`)
	if code, _, body := call(t, srv, "POST", "/v1/zones/example.com/rrsets", `{"Changes": [{"Action": "CREATE", "ResourceRecordSet":
		{"Name": "www.example.com", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}`); code != http.StatusOK {
		t.Fatalf("create record: %d %s", code, body)
	}
	start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	end := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	code, _, body := call(t, srv, "POST", "/v1/maintenance", fmt.Sprintf(`{"Zone": "example.com", "Name": "www", "To": ["192.0.2.9"], "Start": %q, "End": %q, "TTLDuring": 30}`, start, end))
	var created MaintenanceResponse
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || created.MaintenanceWindow.State != service.WindowScheduled {
		t.Fatalf("create: %d %s", code, body)
	}
	id := created.MaintenanceWindow.Id
	if code, _, body := call(t, srv, "GET", "/v1/maintenance", ""); code != http.StatusOK || !strings.Contains(body, id) {
		t.Errorf("list: %d %s", code, body)
	}
	if code, _, body := call(t, srv, "DELETE", "/v1/maintenance/"+id, ""); code != http.StatusOK || !strings.Contains(body, `"State": "cancelled"`) {
		t.Errorf("cancel: %d %s", code, body)
	}
	for _, tc := range []struct {
		method, path, body, code string
		status                   int
	}{
		{"GET", "/v1/maintenance/M404", "", service.CodeNoSuchMaintenanceWindow, http.StatusNotFound},
		{"DELETE", "/v1/maintenance/M404", "", service.CodeNoSuchMaintenanceWindow, http.StatusNotFound},
		{"DELETE", "/v1/maintenance/" + id, "", service.CodeInvalidInput, http.StatusBadRequest},
		{"POST", "/v1/maintenance", `{"Zone": "example.com", "Name": "www", "To": ["192.0.2.9"], "Start": "2020-01-01T00:00:00Z", "End": "2020-01-01T01:00:00Z"}`, service.CodeInvalidInput, http.StatusBadRequest},
		{"POST", "/v1/maintenance", `{"Zone": "nope.test", "Name": "www", "To": ["192.0.2.9"], "Start": "` + start + `", "End": "` + end + `"}`, service.CodeNoSuchHostedZone, http.StatusNotFound},
		{"POST", "/v1/maintenance", `{"Zone": "example.com", "Nam": "www"}`, service.CodeInvalidInput, http.StatusBadRequest},
	} {
		code, eb, body := call(t, srv, tc.method, tc.path, tc.body)
		if code != tc.status || eb.Error.Code != tc.code {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, code, body, tc.status, tc.code)
		}
	}
	if code, _, body := call(t, srv, "GET", "/metrics", ""); code != http.StatusOK || body != "# metrics\n" {
		t.Errorf("GET /metrics: %d %q", code, body)
	}
}
