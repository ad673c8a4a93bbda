package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/failoverdns/failoverdns/internal/config"
	"github.com/failoverdns/failoverdns/internal/service"
)

// receiver is a real HTTP server on 127.0.0.1 that records the bodies POSTed to it and answers
// with the statuses in fail first, then 200.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []Body
	fail   []int
	hits   int
	got    chan struct{}
}

func newReceiver(t *testing.T, fail ...int) *receiver {
	r := &receiver{fail: fail, got: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits++
		if len(r.fail) > 0 {
			code := r.fail[0]
			r.fail = r.fail[1:]
			r.mu.Unlock()
			http.Error(w, "not now", code)
			return
		}
		var b Body
		if err := json.Unmarshal(data, &b); err != nil || req.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook body %q (%s): %v", data, req.Header.Get("Content-Type"), err)
		}
		r.bodies = append(r.bodies, b)
		r.mu.Unlock()
		r.got <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) hitCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hits
}

func (r *receiver) wait(t *testing.T, n int) []Body {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("the receiver got %d of %d events", len(r.bodies), n)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Body(nil), r.bodies...)
}

// start runs n until the test ends.
func start(t *testing.T, n *Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func ptr[T any](v T) *T { return &v }

var (
	t0      = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	evDown  = service.Event{Time: t0, Kind: service.EventHealth, Subject: "0b5c-check", Before: "healthy", After: "unhealthy", Cause: "probe", Reason: "3 consecutive failures"}
	evWWW   = service.Event{Time: t0, Kind: service.EventAnswer, Subject: "www.example.com. A", Before: "primary (192.0.2.1)", After: "standby (192.0.2.2)", Cause: "health"}
	evOther = service.Event{Time: t0, Kind: service.EventAnswer, Subject: "api.example.org. AAAA", Before: "a", After: "b", Cause: "records"}
)

func TestWebhookBodyTextAndFilter(t *testing.T) {
	all, www := newReceiver(t), newReceiver(t)
	n := New(config.Notify{Webhooks: []config.Webhook{
		{URL: all.URL, Text: true},
		{URL: www.URL, Kinds: []string{"answer"}, Names: []string{"*.example.com"}},
	}}, nil)
	start(t, n)
	for _, ev := range []service.Event{evDown, evWWW, evOther} {
		n.Notify(ev)
	}
	got := all.wait(t, 3)
	if got[0].Kind != "health" || got[0].Subject != "0b5c-check" || got[0].After != "unhealthy" || !got[0].Time.Equal(t0) || got[0].Reason != "3 consecutive failures" {
		t.Errorf("first body %+v", got[0])
	}
	if want := "failoverdns: health check 0b5c-check: healthy → unhealthy (probe: 3 consecutive failures)"; got[0].Text != want {
		t.Errorf("text %q, want %q", got[0].Text, want)
	}
	filtered := www.wait(t, 1)
	time.Sleep(50 * time.Millisecond) // nothing else arrives
	www.mu.Lock()
	defer www.mu.Unlock()
	if len(www.bodies) != 1 || filtered[0].Subject != evWWW.Subject || filtered[0].Text != "" {
		t.Errorf("filtered webhook got %+v, want only %s without text", www.bodies, evWWW.Subject)
	}
}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	r := newReceiver(t, 500, 503)
	n := New(config.Notify{Webhooks: []config.Webhook{{URL: r.URL, Retries: ptr(2), Backoff: 20 * time.Millisecond}}}, nil)
	start(t, n)
	begin := time.Now()
	n.Notify(evDown)
	r.wait(t, 1)
	if took := time.Since(begin); took < 60*time.Millisecond {
		t.Errorf("delivered after %v; two retries with a 20 ms backoff wait at least 60 ms", took)
	}
	waitFor(t, func() bool { return n.Stats()[0].Delivered == 1 })
	st := n.Stats()[0]
	if r.hitCount() != 3 || st.Delivered != 1 || st.Failed != 0 {
		t.Errorf("hits %d, stats %+v; want 3 attempts, 1 delivered", r.hits, st)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	r := newReceiver(t, 500, 500, 400, 500)
	n := New(config.Notify{Webhooks: []config.Webhook{
		{URL: r.URL, Retries: ptr(1), Backoff: time.Millisecond}, // 500, 500: gives up
	}}, nil)
	start(t, n)
	n.Notify(evDown)
	waitFor(t, func() bool { return n.Stats()[0].Failed == 1 })
	n.Notify(evDown) // 400: not retried
	waitFor(t, func() bool { return n.Stats()[0].Failed == 2 })
	if r.hitCount() != 3 {
		t.Errorf("hits %d, want 3 (a 4xx is not retried)", r.hits)
	}
	// An unreachable receiver fails the same way.
	r.Close()
	n.Notify(evDown)
	waitFor(t, func() bool { return n.Stats()[0].Failed == 3 })
}

// TestSlowHookNeverBlocks: a receiver that hangs fills its queue; Notify drops and counts, and
// returns at once; another hook still gets every event.
func TestSlowHookNeverBlocks(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer slow.Close()
	defer close(release)
	fast := newReceiver(t)
	n := New(config.Notify{QueueSize: 2, Webhooks: []config.Webhook{{URL: slow.URL, Timeout: time.Minute}, {URL: fast.URL}}}, nil)
	start(t, n)
	begin := time.Now()
	for range 10 {
		n.Notify(evWWW)
		fast.wait(t, 1) // the fast hook keeps up
	}
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("10 events took %v", took)
	}
	waitFor(t, func() bool { return n.Stats()[1].Delivered == 10 })
	st := n.Stats()
	if st[0].Dropped < 7 || st[1].Dropped != 0 || st[1].Delivered != 10 {
		t.Errorf("stats %+v: want the slow hook to drop at least 7, the fast one none", st)
	}
}

func TestExecHook(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "hook.sh")
	out := filepath.Join(dir, "env.txt")
	in := filepath.Join(dir, "stdin.json")
	writeScript(t, script, "#!/bin/sh\nenv | grep '^FAILOVERDNS_EVENT_' | sort > \"$1\"\ncat > \"$2\"\n")
	n := New(config.Notify{Exec: []config.ExecHook{{Command: script, Args: []string{out, in}, Kinds: []string{"health"}}}}, nil)
	start(t, n)
	n.Notify(evWWW) // filtered out
	n.Notify(evDown)
	waitFor(t, func() bool { return n.Stats()[0].Delivered == 1 })
	env, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "FAILOVERDNS_EVENT_AFTER=unhealthy\nFAILOVERDNS_EVENT_BEFORE=healthy\nFAILOVERDNS_EVENT_CAUSE=probe\n" +
		"FAILOVERDNS_EVENT_KIND=health\nFAILOVERDNS_EVENT_REASON=3 consecutive failures\nFAILOVERDNS_EVENT_SUBJECT=0b5c-check\n" +
		"FAILOVERDNS_EVENT_TIME=2026-11-23T10:00:00Z\n"
	if string(env) != want {
		t.Errorf("the command's environment:\n%s\nwant:\n%s", env, want)
	}
	var b Body
	data, _ := os.ReadFile(in)
	if err := json.Unmarshal(data, &b); err != nil || b.Subject != evDown.Subject {
		t.Errorf("stdin %q: %v", data, err)
	}
}

func TestExecHookFailureAndTimeout(t *testing.T) {
	dir := t.TempDir()
	failing := filepath.Join(dir, "fail.sh")
	writeScript(t, failing, "#!/bin/sh\necho broken >&2\nexit 3\n")
	hanging := filepath.Join(dir, "hang.sh")
	writeScript(t, hanging, "#!/bin/sh\nexec sleep 30\n")
	n := New(config.Notify{Exec: []config.ExecHook{{Command: failing}, {Command: hanging, Timeout: 100 * time.Millisecond}}}, nil)
	start(t, n)
	begin := time.Now()
	n.Notify(evDown)
	waitFor(t, func() bool { st := n.Stats(); return st[0].Failed == 1 && st[1].Failed == 1 })
	if took := time.Since(begin); took > 5*time.Second {
		t.Errorf("the hanging command was stopped after %v, want about 100 ms", took)
	}
}

func TestFilterNames(t *testing.T) {
	f := newFilter(nil, []string{"WWW.example.com.", "*.example.org", "0b5c-check"})
	for subject, want := range map[string]bool{
		"www.example.com. A":   true,
		"www.example.com. TXT": true,
		"example.com. A":       false,
		"a.b.example.org. A":   true,
		"example.org. A":       false,
		"0b5c-check":           true,
		"other-check":          false,
	} {
		if got := f.match(service.Event{Subject: subject}); got != want {
			t.Errorf("match(%q) = %v, want %v", subject, got, want)
		}
	}
}

func writeScript(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
