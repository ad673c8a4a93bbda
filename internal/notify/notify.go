// Package notify delivers events to the webhooks and commands of the server's settings, each
// from a bounded queue of its own, so that a slow or failing receiver never delays the caller.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failoverdns/failoverdns/internal/config"
	"github.com/failoverdns/failoverdns/internal/service"
)

// Defaults of the settings left at zero.
const (
	DefaultQueueSize   = 1000
	DefaultRetries     = 3
	DefaultBackoff     = time.Second
	DefaultHTTPTimeout = 10 * time.Second
	DefaultExecTimeout = 30 * time.Second
	maxBackoff         = time.Minute
)

// Notifier fans events out to hooks. Notify never blocks; Run delivers.
type Notifier struct {
	hooks []*hook
	log   *slog.Logger
}

// Stats are the counters of one hook.
type Stats struct {
	// Hook names the hook: "webhook N" or "exec N", N its index in the settings.
	Hook string
	// Type is "webhook" or "exec"; Target the URL or the command.
	Type, Target string
	// Delivered, Failed and Dropped count the events delivered, given up on (after every retry)
	// and dropped because the queue was full.
	Delivered, Failed, Dropped uint64
}

type hook struct {
	name, typ, target string
	filter            filter
	queue             chan service.Event
	attempts          int
	backoff           time.Duration
	send              func(ctx context.Context, ev service.Event) (retry bool, err error)

	delivered, failed, dropped atomic.Uint64
}

// New returns a Notifier for the hooks of cfg (validated); log receives delivery failures.
func New(cfg config.Notify, log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	size := cfg.QueueSize
	if size == 0 {
		size = DefaultQueueSize
	}
	n := &Notifier{log: log}
	client := &http.Client{}
	for i, w := range cfg.Webhooks {
		retries := DefaultRetries
		if w.Retries != nil {
			retries = *w.Retries
		}
		h := &hook{name: fmt.Sprintf("webhook %d", i), typ: "webhook", target: w.URL, filter: newFilter(w.Kinds, w.Names),
			queue: make(chan service.Event, size), attempts: 1 + retries, backoff: orDefault(w.Backoff, DefaultBackoff)}
		h.send = webhookSender(client, w, orDefault(w.Timeout, DefaultHTTPTimeout))
		n.hooks = append(n.hooks, h)
	}
	for i, x := range cfg.Exec {
		h := &hook{name: fmt.Sprintf("exec %d", i), typ: "exec", target: x.Command, filter: newFilter(x.Kinds, x.Names),
			queue: make(chan service.Event, size), attempts: 1}
		h.send = execSender(x, orDefault(x.Timeout, DefaultExecTimeout))
		n.hooks = append(n.hooks, h)
	}
	return n
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// Notify queues ev for every hook whose filter takes it. A full queue drops the event for that
// hook (counted, logged); Notify never waits.
func (n *Notifier) Notify(ev service.Event) {
	for _, h := range n.hooks {
		if !h.filter.match(ev) {
			continue
		}
		select {
		case h.queue <- ev:
		default:
			h.dropped.Add(1)
			n.log.Warn("notify: queue full; event dropped", "hook", h.name, "kind", ev.Kind, "subject", ev.Subject)
		}
	}
}

// Run delivers queued events, one goroutine per hook, until ctx ends; then it returns once
// every delivery in progress has stopped. Events still queued are not delivered.
func (n *Notifier) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, h := range n.hooks {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-h.queue:
					n.deliver(ctx, h, ev)
				}
			}
		})
	}
	wg.Wait()
}

// deliver tries h.attempts times, waiting backoff, 2 x backoff, ... between tries.
func (n *Notifier) deliver(ctx context.Context, h *hook, ev service.Event) {
	wait := h.backoff
	var err error
	for attempt := 1; ; attempt++ {
		var retry bool
		retry, err = h.send(ctx, ev)
		if err == nil {
			h.delivered.Add(1)
			return
		}
		if !retry || attempt >= h.attempts || ctx.Err() != nil {
			break
		}
		n.log.Debug("notify: delivery failed; retrying", "hook", h.name, "attempt", attempt, "in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
	h.failed.Add(1)
	n.log.Warn("notify: delivery failed", "hook", h.name, "target", h.target, "kind", ev.Kind, "subject", ev.Subject, "err", err)
}

// Stats returns the counters of every hook, in the order of the settings (webhooks first).
func (n *Notifier) Stats() []Stats {
	out := make([]Stats, 0, len(n.hooks))
	for _, h := range n.hooks {
		out = append(out, Stats{Hook: h.name, Type: h.typ, Target: h.target,
			Delivered: h.delivered.Load(), Failed: h.failed.Load(), Dropped: h.dropped.Load()})
	}
	return out
}

// filter selects events by kind and by name.
type filter struct {
	kinds map[string]bool
	names []string
}

func newFilter(kinds, names []string) filter {
	f := filter{}
	if len(kinds) > 0 {
		f.kinds = map[string]bool{}
		for _, k := range kinds {
			f.kinds[k] = true
		}
	}
	for _, n := range names {
		f.names = append(f.names, strings.TrimSuffix(strings.ToLower(n), "."))
	}
	return f
}

// match takes an event when its kind is listed (or none is), and when a name pattern matches its
// subject (or none is given). A pattern matches the whole subject ("www.example.com. A", a health
// check id), its name ("www.example.com", the final dot optional), or, as "*.example.com", any
// name below example.com.
func (f filter) match(ev service.Event) bool {
	if f.kinds != nil && !f.kinds[ev.Kind] {
		return false
	}
	if len(f.names) == 0 {
		return true
	}
	subject := strings.ToLower(ev.Subject)
	name, _, _ := strings.Cut(subject, " ")
	name = strings.TrimSuffix(name, ".")
	for _, p := range f.names {
		switch {
		case p == subject || p == name:
			return true
		case strings.HasPrefix(p, "*.") && strings.HasSuffix(name, p[1:]):
			return true
		}
	}
	return false
}

// Body is the JSON a webhook receives: the event, and with Text set a Slack-compatible text.
type Body struct {
	Time    time.Time `json:"Time"`
	Kind    string    `json:"Kind"`
	Subject string    `json:"Subject"`
	Before  string    `json:"Before"`
	After   string    `json:"After"`
	Cause   string    `json:"Cause,omitempty"`
	Reason  string    `json:"Reason,omitempty"`
	Text    string    `json:"text,omitempty"`
}

func body(ev service.Event) Body {
	return Body{Time: ev.Time.UTC(), Kind: ev.Kind, Subject: ev.Subject, Before: ev.Before, After: ev.After, Cause: ev.Cause, Reason: ev.Reason}
}

// Text says what an event is in one line, for chat.
func Text(ev service.Event) string {
	what := map[string]string{service.EventHealth: "health check", service.EventAnswer: "answer for", service.EventMaintenance: "maintenance of"}[ev.Kind]
	if what == "" {
		what = ev.Kind
	}
	s := fmt.Sprintf("failoverdns: %s %s: %s → %s", what, ev.Subject, ev.Before, ev.After)
	switch {
	case ev.Cause != "" && ev.Reason != "":
		s += fmt.Sprintf(" (%s: %s)", ev.Cause, ev.Reason)
	case ev.Cause != "":
		s += " (" + ev.Cause + ")"
	case ev.Reason != "":
		s += " (" + ev.Reason + ")"
	}
	return s
}

func webhookSender(client *http.Client, w config.Webhook, timeout time.Duration) func(context.Context, service.Event) (bool, error) {
	return func(ctx context.Context, ev service.Event) (bool, error) {
		b := body(ev)
		if w.Text {
			b.Text = Text(ev)
		}
		data, err := json.Marshal(b)
		if err != nil {
			return false, err
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(data))
		if err != nil {
			return false, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "failoverdns-notify")
		for k, v := range w.Headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode/100 == 2 {
			return false, nil
		}
		// A client error other than throttling will not go away by itself.
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout
		return retry, fmt.Errorf("notify: %s answered %s: %s", w.URL, resp.Status, strings.TrimSpace(string(msg)))
	}
}

// Env returns the environment variables that describe ev to a command.
func Env(ev service.Event) []string {
	return []string{
		"FAILOVERDNS_EVENT_KIND=" + ev.Kind,
		"FAILOVERDNS_EVENT_SUBJECT=" + ev.Subject,
		"FAILOVERDNS_EVENT_BEFORE=" + ev.Before,
		"FAILOVERDNS_EVENT_AFTER=" + ev.After,
		"FAILOVERDNS_EVENT_CAUSE=" + ev.Cause,
		"FAILOVERDNS_EVENT_REASON=" + ev.Reason,
		"FAILOVERDNS_EVENT_TIME=" + ev.Time.UTC().Format(time.RFC3339Nano),
	}
}

func execSender(x config.ExecHook, timeout time.Duration) func(context.Context, service.Event) (bool, error) {
	return func(ctx context.Context, ev service.Event) (bool, error) {
		data, err := json.Marshal(body(ev))
		if err != nil {
			return false, err
		}
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, x.Command, x.Args...)
		cmd.Env = append(cmd.Environ(), Env(ev)...)
		cmd.Stdin = bytes.NewReader(append(data, '\n'))
		var out tail
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = time.Second // a child that keeps the output open does not hold us
		err = cmd.Run()
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return false, fmt.Errorf("notify: %s: killed after %v", x.Command, timeout)
		}
		if err != nil {
			return false, fmt.Errorf("notify: %s: %w; output: %s", x.Command, err, strings.TrimSpace(out.String()))
		}
		return false, nil
	}
}

// tail keeps the last 1 KiB written to it.
type tail struct{ b []byte }

func (t *tail) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 1024 {
		t.b = t.b[len(t.b)-1024:]
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.b) }
