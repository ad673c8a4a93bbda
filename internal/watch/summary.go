package watch

import (
	"sort"
	"strings"
	"time"
)

// Time is a time that JSON encodes in RFC 3339 with milliseconds, in UTC.
type Time struct{ time.Time }

// TimeLayout is RFC 3339 with milliseconds.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the time in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(TimeLayout) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 time.
func (t *Time) UnmarshalJSON(b []byte) error {
	v, err := time.Parse(`"`+time.RFC3339Nano+`"`, string(b))
	t.Time = v
	return err
}

// Answer sets are lists of strings: a DNS answer's sorted values ([] for NOERROR without records
// of the type, [RCODE] for NXDOMAIN), a URL's status and chosen headers (["200", "Server=nginx"]).

// answerSet is the observation's answer set, nil for a failed poll.
func answerSet(o Observation) []string {
	if o.Failed() {
		return nil
	}
	if o.Kind == KindHTTP {
		return strings.Fields(o.Answer())
	}
	if o.Rcode != "" && o.Rcode != "NOERROR" {
		return []string{o.Rcode}
	}
	if o.Answers == nil {
		return []string{}
	}
	return o.Answers
}

func key(set []string) string { return strings.Join(set, " ") }

// Show is how an answer set reads in text: its values, or "(no records)".
func Show(set []string) string {
	if len(set) == 0 {
		return "(no records)"
	}
	return strings.Join(set, " ")
}

// Options are what a summary judges answers by.
type Options struct {
	// Expect is the answer set every DNS server should end with; nil: whatever the servers
	// switched to.
	Expect []string
	// Zero is time zero (switch: when the API acknowledged the change); zero: the run's start.
	Zero time.Time
}

// Summary accumulates observations, in any order of targets but in time order per target.
type Summary struct {
	opts    Options
	order   []string
	targets map[string]*track
	first   time.Time
	last    time.Time
}

// track is what a summary keeps per target.
type track struct {
	kind     Kind
	polls    int
	errors   int
	timeouts int
	obs      []point // one per poll, for the mixed window and the timeline
	answers  []*AnswerSeen
	changes  []Change
	current  []string // the last answer set, nil before any
	lastAt   time.Time
	errs     []*ErrorSeen
	run      *Outage // the failure run in progress
	longest  *Outage
}

// point is one poll reduced to what the summary and the chart need.
type point struct {
	t      time.Time
	key    string
	failed bool
}

// NewSummary starts a summary of the named targets, in the order they are reported.
func NewSummary(opts Options, targets ...Target) *Summary {
	s := &Summary{opts: opts, targets: map[string]*track{}}
	for _, t := range targets {
		s.target(t.Name, t.Kind)
	}
	return s
}

func (s *Summary) target(name string, kind Kind) *track {
	tr := s.targets[name]
	if tr == nil {
		tr = &track{kind: kind}
		s.targets[name] = tr
		s.order = append(s.order, name)
	}
	return tr
}

// Add takes one observation into account.
func (s *Summary) Add(o Observation) {
	tr := s.target(o.Target, o.Kind)
	if s.first.IsZero() || o.Time.Before(s.first) {
		s.first = o.Time
	}
	if o.Time.After(s.last) {
		s.last = o.Time
	}
	tr.polls++
	set := answerSet(o)
	tr.obs = append(tr.obs, point{t: o.Time, key: key(set), failed: set == nil})
	if set == nil {
		tr.errors++
		if o.Timeout {
			tr.timeouts++
		}
		msg := o.Error
		if msg == "" {
			msg = o.Answer()
		}
		var es *ErrorSeen
		for _, e := range tr.errs {
			if e.Error == msg {
				es = e
			}
		}
		if es == nil {
			es = &ErrorSeen{Error: msg, First: Time{o.Time}}
			tr.errs = append(tr.errs, es)
		}
		es.Count++
		es.Last = Time{o.Time}
		if tr.run == nil {
			tr.run = &Outage{Start: Time{o.Time}}
		}
		tr.run.Polls++
		tr.run.End = Time{o.Time}
		tr.run.Ongoing = true
		tr.run.Duration = Millis(o.Time.Sub(tr.run.Start.Time))
		return
	}
	if tr.run != nil {
		tr.run.End, tr.run.Ongoing = Time{o.Time}, false
		tr.run.Duration = Millis(o.Time.Sub(tr.run.Start.Time))
		if tr.longest == nil || tr.run.Duration > tr.longest.Duration {
			tr.longest = tr.run
		}
		tr.run = nil
	}
	k := key(set)
	var seen *AnswerSeen
	for _, a := range tr.answers {
		if key(a.Answer) == k {
			seen = a
		}
	}
	if seen == nil {
		seen = &AnswerSeen{Answer: set, First: Time{o.Time}}
		tr.answers = append(tr.answers, seen)
	}
	seen.Polls++
	seen.Last = Time{o.Time}
	if tr.current != nil && key(tr.current) != k {
		tr.changes = append(tr.changes, Change{Time: Time{o.Time}, LastBefore: Time{tr.lastAt}, Before: tr.current, After: set})
	}
	tr.current, tr.lastAt = set, o.Time
}

// longestOutage is the longest failure run, the one in progress included.
func (tr *track) longestOutage() *Outage {
	best := tr.longest
	if tr.run != nil && (best == nil || tr.run.Duration > best.Duration) {
		best = tr.run
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}

// Result is a summary as it is printed and written as JSON (see docs/watch.md).
type Result struct {
	Name    string         `json:"Name,omitempty"`
	Type    string         `json:"Type,omitempty"`
	Start   Time           `json:"Start"`
	End     Time           `json:"End"`
	Zero    *Time          `json:"Zero,omitempty"`
	Expect  []string       `json:"Expect,omitempty"`
	Targets []TargetResult `json:"Targets"`
	Overall Overall        `json:"Overall"`
}

// TargetResult is the summary of one server or URL.
type TargetResult struct {
	Target     string       `json:"Target"`
	Kind       Kind         `json:"Kind"`
	Polls      int          `json:"Polls"`
	Errors     int          `json:"Errors"`
	Timeouts   int          `json:"Timeouts"`
	Answers    []AnswerSeen `json:"Answers"`
	Changes    []Change     `json:"Changes"`
	ErrorsBy   []ErrorSeen  `json:"ErrorsSeen,omitempty"`
	Final      []string     `json:"Final"` // the last answer set, null when none was seen
	Unexpected [][]string   `json:"Unexpected,omitempty"`
	// Reached: the last answer is the expected (or new) one; ReachedAt: when this server's
	// answer last changed to it (its first poll when it never changed); After: since time zero.
	Reached   bool    `json:"Reached"`
	ReachedAt *Time   `json:"ReachedAt,omitempty"`
	After     *Millis `json:"AfterMillis,omitempty"`
	// LongestOutage is the longest run of failed polls: the downtime of a URL.
	LongestOutage *Outage `json:"LongestOutage,omitempty"`
}

// AnswerSeen is one answer set a target gave, with when it was first and last seen.
type AnswerSeen struct {
	Answer []string `json:"Answer"`
	First  Time     `json:"First"`
	Last   Time     `json:"Last"`
	Polls  int      `json:"Polls"`
}

// Change is a target's answer changing: Time is the first poll with the new answer, LastBefore
// the last poll with the old one.
type Change struct {
	Time       Time     `json:"Time"`
	LastBefore Time     `json:"LastBefore"`
	Before     []string `json:"Before"`
	After      []string `json:"After"`
}

// ErrorSeen is one kind of failed poll.
type ErrorSeen struct {
	Error string `json:"Error"`
	Count int    `json:"Count"`
	First Time   `json:"First"`
	Last  Time   `json:"Last"`
}

// Outage is a run of consecutive failed polls: from the first failed poll to the first poll that
// succeeded again (or to the last failed poll while Ongoing).
type Outage struct {
	Start    Time   `json:"Start"`
	End      Time   `json:"End"`
	Duration Millis `json:"DurationMillis"`
	Polls    int    `json:"Polls"`
	Ongoing  bool   `json:"Ongoing"`
}

// Overall is the summary across the DNS servers.
type Overall struct {
	Polls    int      `json:"Polls"`
	Errors   int      `json:"Errors"`
	Timeouts int      `json:"Timeouts"`
	Old      []string `json:"Old"` // the answer the first poll got
	New      []string `json:"New"` // --expect, or the answer the servers switched to; null if none
	// FirstNew and LastOld: when any server first answered new and last answered old.
	FirstNew *Time `json:"FirstNew,omitempty"`
	LastOld  *Time `json:"LastOld,omitempty"`
	// Mixed is the window in which old and new were both answered, nil for a clean switch.
	Mixed      *Window      `json:"Mixed,omitempty"`
	Unexpected []AnswerSeen `json:"Unexpected,omitempty"`
	AllReached bool         `json:"AllReached"`
}

// Window is a span of time.
type Window struct {
	Start    Time   `json:"Start"`
	End      Time   `json:"End"`
	Duration Millis `json:"DurationMillis"`
}

// Result computes the summary of what was added so far; end is when the run ended (zero: the
// last observation).
func (s *Summary) Result(end time.Time) Result {
	if end.IsZero() || end.Before(s.last) {
		end = s.last
	}
	r := Result{Start: Time{s.first}, End: Time{end}, Expect: s.opts.Expect}
	zero := s.opts.Zero
	if !zero.IsZero() {
		r.Zero = &Time{zero}
	} else {
		zero = s.first
	}
	// Old: the first answer of the earliest DNS poll that got one.
	var old []string
	var oldAt time.Time
	for _, name := range s.order {
		tr := s.targets[name]
		if tr.kind != KindDNS || len(tr.answers) == 0 {
			continue
		}
		if a := tr.answers[0]; old == nil || a.First.Before(oldAt) {
			old, oldAt = a.Answer, a.First.Time
		}
	}
	// New: --expect, or the most common final answer that is not the old one (the latest on a tie).
	newSet := s.opts.Expect
	if newSet == nil {
		count := map[string]int{}
		at := map[string]time.Time{}
		for _, name := range s.order {
			tr := s.targets[name]
			if tr.kind == KindDNS && tr.current != nil && key(tr.current) != key(old) {
				k := key(tr.current)
				count[k]++
				if tr.lastAt.After(at[k]) {
					at[k] = tr.lastAt
				}
				if newSet == nil || count[k] > count[key(newSet)] || (count[k] == count[key(newSet)] && at[k].After(at[key(newSet)])) {
					newSet = tr.current
				}
			}
		}
	}
	r.Overall.Old, r.Overall.New = old, newSet
	r.Overall.AllReached = true
	var firstNew, lastOld time.Time
	dnsTargets := 0
	unexpected := map[string]*AnswerSeen{}
	var unexpectedOrder []string
	for _, name := range s.order {
		tr := s.targets[name]
		tres := TargetResult{Target: name, Kind: tr.kind, Polls: tr.polls, Errors: tr.errors, Timeouts: tr.timeouts,
			Answers: []AnswerSeen{}, Changes: []Change{}, Final: tr.current, LongestOutage: tr.longestOutage()}
		for _, a := range tr.answers {
			tres.Answers = append(tres.Answers, *a)
		}
		tres.Changes = append(tres.Changes, tr.changes...)
		for _, e := range tr.errs {
			tres.ErrorsBy = append(tres.ErrorsBy, *e)
		}
		if tr.kind == KindDNS {
			dnsTargets++
			r.Overall.Polls += tr.polls
			r.Overall.Errors += tr.errors
			r.Overall.Timeouts += tr.timeouts
			if newSet != nil && tr.current != nil && key(tr.current) == key(newSet) {
				tres.Reached = true
				at := tr.answers[0].First
				if n := len(tr.changes); n > 0 {
					at = tr.changes[n-1].Time
				}
				tres.ReachedAt = &at
				after := Millis(at.Sub(zero))
				if after < 0 {
					after = 0
				}
				tres.After = &after
			} else {
				r.Overall.AllReached = false
			}
			for _, p := range tr.obs {
				switch {
				case p.failed:
				case newSet != nil && p.key == key(newSet):
					if firstNew.IsZero() || p.t.Before(firstNew) {
						firstNew = p.t
					}
				case p.key == key(old):
					if p.t.After(lastOld) {
						lastOld = p.t
					}
				}
			}
			if newSet != nil {
				for _, a := range tr.answers {
					k := key(a.Answer)
					if k == key(old) || k == key(newSet) {
						continue
					}
					tres.Unexpected = append(tres.Unexpected, a.Answer)
					u := unexpected[k]
					if u == nil {
						u = &AnswerSeen{Answer: a.Answer, First: a.First, Last: a.Last}
						unexpected[k] = u
						unexpectedOrder = append(unexpectedOrder, k)
					}
					u.Polls += a.Polls
					if a.First.Before(u.First.Time) {
						u.First = a.First
					}
					if a.Last.After(u.Last.Time) {
						u.Last = a.Last
					}
				}
			}
		}
		r.Targets = append(r.Targets, tres)
	}
	if dnsTargets == 0 {
		r.Overall.AllReached = false
	}
	for _, k := range unexpectedOrder {
		r.Overall.Unexpected = append(r.Overall.Unexpected, *unexpected[k])
	}
	sort.SliceStable(r.Overall.Unexpected, func(i, j int) bool {
		return r.Overall.Unexpected[i].First.Before(r.Overall.Unexpected[j].First.Time)
	})
	if !firstNew.IsZero() {
		r.Overall.FirstNew = &Time{firstNew}
	}
	if !lastOld.IsZero() && key(old) != key(newSet) {
		r.Overall.LastOld = &Time{lastOld}
	}
	if !firstNew.IsZero() && !lastOld.IsZero() && !lastOld.Before(firstNew) && key(old) != key(newSet) {
		r.Overall.Mixed = &Window{Start: Time{firstNew}, End: Time{lastOld}, Duration: Millis(lastOld.Sub(firstNew))}
	}
	return r
}

// Latest is the last answer set a target gave and when its answer last changed (or was first
// seen), for the live view; ok is false before any answer.
func (s *Summary) Latest(target string) (set []string, since time.Time, ok bool) {
	tr := s.targets[target]
	if tr == nil || tr.current == nil {
		return nil, time.Time{}, false
	}
	since = tr.answers[0].First.Time
	if n := len(tr.changes); n > 0 {
		since = tr.changes[n-1].Time.Time
	}
	return tr.current, since, true
}

// Counts are a target's polls and failed polls so far.
func (s *Summary) Counts(target string) (polls, errors int) {
	if tr := s.targets[target]; tr != nil {
		return tr.polls, tr.errors
	}
	return 0, 0
}
