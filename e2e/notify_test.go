package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// hookReceiver is a real HTTP server on 127.0.0.1 recording the JSON bodies POSTed to it.
type hookReceiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []map[string]any
}

func newHookReceiver(t *testing.T, status int) *hookReceiver {
	r := &hookReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, _ := io.ReadAll(req.Body)
		var b map[string]any
		if err := json.Unmarshal(data, &b); err != nil {
			t.Errorf("webhook body is not JSON: %q", data)
		}
		r.mu.Lock()
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

// find waits until a body has the given Kind and After, and returns it.
func (r *hookReceiver) find(t *testing.T, kind, after string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, b := range r.bodies {
			if b["Kind"] == kind && b["After"] == after {
				r.mu.Unlock()
				return b
			}
		}
		r.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("no %s event to %q among %d webhook bodies: %v", kind, after, len(r.bodies), r.bodies)
	return nil
}

// startServerWithConfig starts a server with the settings file text (FAILOVERDNS_CONFIG).
func startServerWithConfig(t *testing.T, yaml string) *server {
	t.Helper()
	t.Setenv("FAILOVERDNS_CONFIG", writeFile(t, "failoverdns.yaml", yaml))
	return startServer(t)
}

// TestNotifications: a forced failover reaches a webhook (with Slack text), a filtered webhook,
// and a command whose environment describes the event; a receiver that always fails is counted
// in the metrics and delays nothing.
func TestNotifications(t *testing.T) {
	all := newHookReceiver(t, http.StatusOK)
	answers := newHookReceiver(t, http.StatusOK)
	broken := newHookReceiver(t, http.StatusInternalServerError)
	dir := t.TempDir()
	script := filepath.Join(dir, "on-event.sh")
	envFile := filepath.Join(dir, "env.txt")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n[ \"$FAILOVERDNS_EVENT_KIND\" = health ] || exit 0\nenv | grep '^FAILOVERDNS_EVENT_' | sort > \"$1.tmp\"\ncat >> \"$1.tmp\"\nmv \"$1.tmp\" \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServerWithConfig(t, fmt.Sprintf(`
notify:
  webhooks:
    - url: %s
      text: true
    - url: %s
      kinds: [answer]
      names: [www.app.test]
    - url: %s
      retries: 1
      backoff: 10ms
  exec:
    - command: %s
      args: [%s]
      kinds: [health]
      timeout: 5s
`, all.URL, answers.URL, broken.URL, script, envFile))
	s.mustCLI(t, "zone", "create", "app.test")
	primary := startBackend(t, "127.0.0.2")
	checkID := s.createCheck(t, "primary", primary, "")
	s.failoverPair(t, checkID)
	waitCheck(t, s, checkID, "HEALTHY")

	s.mustCLI(t, "check", "force", checkID, "unhealthy", "--reason", "CHG-7")
	if got := aValues(dig(t, s.dns, "www.app.test", "A")); got != "127.0.0.3" {
		t.Fatalf("forced unhealthy: www answers %q, want 127.0.0.3 at once (hooks must not delay it)", got)
	}

	h := all.find(t, "health", "unhealthy")
	if h["Subject"] != checkID || h["Cause"] != "forced" || !strings.Contains(fmt.Sprint(h["text"]), "healthy → unhealthy") {
		t.Errorf("health event body %v", h)
	}
	a := answers.find(t, "answer", "standby (127.0.0.3)")
	if a["Subject"] != "www.app.test. A" || a["text"] != nil {
		t.Errorf("answer event body %v", a)
	}
	answers.mu.Lock()
	for _, b := range answers.bodies {
		if b["Kind"] != "answer" {
			t.Errorf("the answer-only webhook got %v", b)
		}
	}
	answers.mu.Unlock()

	var env []byte
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(envFile); err == nil {
			env = b
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{"FAILOVERDNS_EVENT_KIND=health\n", "FAILOVERDNS_EVENT_SUBJECT=" + checkID + "\n",
		"FAILOVERDNS_EVENT_BEFORE=healthy\n", "FAILOVERDNS_EVENT_AFTER=unhealthy\n", "FAILOVERDNS_EVENT_CAUSE=forced\n",
		"FAILOVERDNS_EVENT_TIME=", `"Subject":"` + checkID + `"`} {
		if !strings.Contains(string(env), want) {
			t.Errorf("the command's environment and stdin lack %q:\n%s", want, env)
		}
	}

	deadline = time.Now().Add(20 * time.Second)
	for {
		fams := scrapeMetrics(t, s)
		failed, _ := sample(fams, "failoverdns_hook_failures_total", "hook", "webhook 2")
		delivered, _ := sample(fams, "failoverdns_hook_deliveries_total", "hook", "webhook 0")
		if failed >= 1 && delivered >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics: webhook 2 failures %v, webhook 0 deliveries %v", failed, delivered)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestNotifySettingsRefused: a bad hook setting stops the server at start with a message naming it.
func TestNotifySettingsRefused(t *testing.T) {
	cfg := writeFile(t, "bad.yaml", "notify:\n  webhooks:\n    - url: ftp://example.com/\n")
	out, errOut, code := (&server{}).cli(t, "serve", "--config", cfg, "--data-dir", t.TempDir(), "--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errOut, "notify.webhooks[0].url") {
		t.Errorf("serve with a bad webhook URL: exit %d\n%s%s", code, out, errOut)
	}
}
