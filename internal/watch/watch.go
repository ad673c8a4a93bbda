// Package watch polls DNS servers and URLs at an interval, records every observation, and
// summarizes a switch: when each answer was seen, every change, the mixed window and the downtime.
package watch

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is what a target is: a DNS server or an HTTP URL.
type Kind string

// The kinds of target.
const (
	KindDNS  Kind = "dns"
	KindHTTP Kind = "http"
)

// Observation is the result of one poll of one target.
type Observation struct {
	Time   time.Time `json:"Time"`   // when the poll was sent
	Target string    `json:"Target"` // the server (host:port) or the URL
	Kind   Kind      `json:"Kind"`
	// DNS: the answer's values of the queried type, sorted; the smallest TTL among them; the rcode.
	Answers []string `json:"Answers,omitempty"`
	TTL     *uint32  `json:"TTL,omitempty"`
	Rcode   string   `json:"Rcode,omitempty"`
	// HTTP: the status code and the chosen response headers.
	Status  int               `json:"Status,omitempty"`
	Headers map[string]string `json:"Headers,omitempty"`
	// RTT is how long the poll took, Error why it got no answer ("timeout" for a timeout).
	RTT     Millis `json:"RTTMillis"`
	Error   string `json:"Error,omitempty"`
	Timeout bool   `json:"Timeout,omitempty"`
}

// Millis is a duration that JSON encodes as a number of milliseconds.
type Millis time.Duration

// MarshalJSON writes the duration in milliseconds with microsecond precision.
func (m Millis) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Duration(m).Microseconds())/1000, 'f', -1, 64)), nil
}

// UnmarshalJSON reads a number of milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*m = Millis(time.Duration(f * float64(time.Millisecond)))
	return nil
}

// Answer is the observation's answer as one comparable string: the sorted values joined by
// spaces, "NODATA" for an empty NOERROR answer, the rcode otherwise; for a URL the status and the
// chosen headers. It is "" when the poll failed (Error is set).
func (o Observation) Answer() string {
	if o.Error != "" {
		return ""
	}
	if o.Kind == KindHTTP {
		s := strconv.Itoa(o.Status)
		keys := make([]string, 0, len(o.Headers))
		for k := range o.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s += " " + k + "=" + o.Headers[k]
		}
		return s
	}
	if o.Rcode != "" && o.Rcode != "NOERROR" {
		return o.Rcode
	}
	if len(o.Answers) == 0 {
		return "NODATA"
	}
	return strings.Join(o.Answers, " ")
}

// Failed reports whether the poll counts as a failure: no answer at all, a DNS rcode other than
// NOERROR and NXDOMAIN, or an HTTP status outside 200-399.
func (o Observation) Failed() bool {
	switch {
	case o.Error != "":
		return true
	case o.Kind == KindHTTP:
		return o.Status < 200 || o.Status > 399
	default:
		return o.Rcode != "" && o.Rcode != "NOERROR" && o.Rcode != "NXDOMAIN"
	}
}

// Prober polls one target once; it returns an observation whether or not the target answered.
// Time, Target and Kind are filled in by the engine when left empty.
type Prober interface {
	Probe(ctx context.Context) Observation
}

// Target is one thing to poll.
type Target struct {
	Name   string // the server's host:port or the URL, as observations name it
	Kind   Kind
	Prober Prober
}

// Config is what Run polls and how often.
type Config struct {
	Targets  []Target
	Interval time.Duration // between polls of one target
	Timeout  time.Duration // of one poll; below Interval
	// Duration ends the run after this long; 0 runs until ctx is done.
	Duration time.Duration
	// Observe receives every observation, one at a time, in the order they complete.
	Observe func(Observation)
}

// Run polls every target concurrently, each at the interval with its own timeout, until the
// duration has passed or ctx is done, and hands each observation to cfg.Observe. Polls cut short
// by ctx are not reported. It returns when every poll has ended.
func Run(ctx context.Context, cfg Config) {
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = time.Now().Add(cfg.Duration)
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	timeout := cfg.Timeout
	if timeout <= 0 || timeout >= cfg.Interval {
		timeout = cfg.Interval * 4 / 5
	}
	results := make(chan Observation)
	var wg sync.WaitGroup
	for _, tg := range cfg.Targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(cfg.Interval)
			defer tick.Stop()
			for {
				start := time.Now()
				pctx, cancel := context.WithTimeout(ctx, timeout)
				o := tg.Prober.Probe(pctx)
				cancel()
				if ctx.Err() != nil || (o.Error != "" && !deadline.IsZero() && !time.Now().Before(deadline)) {
					return // the run ended during the poll: not a measurement of the target
				}
				if o.Time.IsZero() {
					o.Time = start
				}
				if o.Target == "" {
					o.Target = tg.Name
				}
				if o.Kind == "" {
					o.Kind = tg.Kind
				}
				select {
				case results <- o:
				case <-ctx.Done():
					return
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	for o := range results {
		if cfg.Observe != nil {
			cfg.Observe(o)
		}
	}
}
