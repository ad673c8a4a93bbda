package config

import (
	"fmt"
	"net/url"
	"slices"
	"time"
)

// Notify configures the notifications of events (health transitions, changes of answer,
// maintenance steps): webhooks and commands, each with a filter.
type Notify struct {
	// Webhooks receive each event as a JSON POST.
	Webhooks []Webhook `yaml:"webhooks"`
	// Exec hooks run a command per event, with the event in its environment and on stdin.
	Exec []ExecHook `yaml:"exec"`
	// QueueSize bounds the events waiting for each hook; beyond it events are dropped and
	// counted. 0 means 1000.
	QueueSize int `yaml:"queue-size"`
}

// Webhook is one HTTP receiver of events.
type Webhook struct {
	// URL is the http or https URL events are POSTed to.
	URL string `yaml:"url"`
	// Text adds a Slack-compatible "text" field: one line saying what happened.
	Text bool `yaml:"text"`
	// Kinds and Names filter the events sent (see EventFilter); empty means all.
	Kinds []string `yaml:"kinds"`
	Names []string `yaml:"names"`
	// Retries is how many times a failed delivery is tried again; nil means 3.
	Retries *int `yaml:"retries"`
	// Backoff is the wait before the first retry, doubled before each next one (at most 1
	// minute); 0 means 1 s.
	Backoff time.Duration `yaml:"backoff"`
	// Timeout bounds each attempt; 0 means 10 s.
	Timeout time.Duration `yaml:"timeout"`
	// Headers are added to each request (for example Authorization).
	Headers map[string]string `yaml:"headers"`
}

// ExecHook is one command run for each event.
type ExecHook struct {
	// Command is the program; Args its arguments. It runs with FAILOVERDNS_EVENT_KIND,
	// _SUBJECT, _BEFORE, _AFTER, _CAUSE, _REASON and _TIME set, and the event as JSON on stdin.
	Command string   `yaml:"command"`
	Args    []string `yaml:"args"`
	// Kinds and Names filter the events (see Webhook).
	Kinds []string `yaml:"kinds"`
	Names []string `yaml:"names"`
	// Timeout bounds each run (the command is killed after it); 0 means 30 s.
	Timeout time.Duration `yaml:"timeout"`
}

// EventKinds are the kinds of events a filter may name.
var EventKinds = []string{"health", "answer", "maintenance"}

func (n Notify) validate() error {
	if n.QueueSize < 0 {
		return fmt.Errorf("config: notify.queue-size %d: must not be negative", n.QueueSize)
	}
	for i, w := range n.Webhooks {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("config: notify.webhooks[%d].url %q: want an http:// or https:// URL", i, w.URL)
		}
		if w.Retries != nil && (*w.Retries < 0 || *w.Retries > 100) {
			return fmt.Errorf("config: notify.webhooks[%d].retries %d: must be from 0 to 100", i, *w.Retries)
		}
		if w.Backoff < 0 || w.Timeout < 0 {
			return fmt.Errorf("config: notify.webhooks[%d]: backoff and timeout must not be negative", i)
		}
		if err := checkKinds(fmt.Sprintf("webhooks[%d]", i), w.Kinds); err != nil {
			return err
		}
	}
	for i, x := range n.Exec {
		if x.Command == "" {
			return fmt.Errorf("config: notify.exec[%d].command is empty", i)
		}
		if x.Timeout < 0 {
			return fmt.Errorf("config: notify.exec[%d].timeout must not be negative", i)
		}
		if err := checkKinds(fmt.Sprintf("exec[%d]", i), x.Kinds); err != nil {
			return err
		}
	}
	return nil
}

func checkKinds(where string, kinds []string) error {
	for _, k := range kinds {
		if !slices.Contains(EventKinds, k) {
			return fmt.Errorf("config: notify.%s.kinds: %q is not an event kind; want health, answer or maintenance", where, k)
		}
	}
	return nil
}
