package health

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cause says why a check changed state.
type Cause string

// Causes of a Transition.
const (
	// CauseProbe: enough consecutive probe results crossed a threshold.
	CauseProbe Cause = "probe"
	// CauseForced: an operator forced the state.
	CauseForced Cause = "forced"
	// CauseForceCleared: an operator cleared the forced state.
	CauseForceCleared Cause = "force-cleared"
	// CauseForceExpired: the forced state reached its Until time.
	CauseForceExpired Cause = "force-expired"
	// CauseConfig: the check's configuration changed (Disabled, Inverted, HealthThreshold, ...).
	CauseConfig Cause = "config"
	// CauseChild: a child of a CALCULATED check changed, appeared or disappeared.
	CauseChild Cause = "child"
)

// DefaultHistory is how many observations a check keeps for status display by default.
const DefaultHistory = 20

// Force pins a check's routing state, whatever its probes, Disabled and Inverted say.
type Force struct {
	// Healthy is the pinned state.
	Healthy bool
	// Reason is free text for the operator ("maintenance window, ticket 123").
	Reason string
	// Until is when the force expires; the zero Time means it lasts until cleared.
	Until time.Time
}

// Transition is a change of a check's routing state.
type Transition struct {
	// ID is the check that changed.
	ID string
	// Time is when it changed.
	Time time.Time
	// From and To are the routing states (true: healthy) before and after.
	From, To bool
	// Cause says what kind of event caused the change.
	Cause Cause
	// Reason says it in words: "3 consecutive failures: Failure: Connection refused. ...".
	Reason string
	// Observation is the probe result that crossed the threshold, when Cause is CauseProbe.
	Observation Observation
	// Child is the child check whose change caused this one, when Cause is CauseChild.
	Child string
}

// Gauge is the part of a check's status that metrics export: cheap to read for every check
// at once (Status copies a check's configuration and history).
type Gauge struct {
	ID       string
	Type     string
	Healthy  bool
	Measured bool
	// Latency is that of the newest observation, when Observed.
	Latency  time.Duration
	Observed bool
}

// Gauges returns the Gauge of every check, in id order. The order is kept until a check is added
// or removed: sorting 10,000 checks for every scrape cost a few milliseconds of the DNS core.
func (t *Tracker) Gauges() []Gauge {
	if t.byID == nil {
		t.byID = slices.SortedFunc(maps.Values(t.checks), func(a, b *check) int { return strings.Compare(a.id, b.id) })
	}
	out := make([]Gauge, 0, len(t.byID))
	for _, c := range t.byID {
		g := Gauge{ID: c.id, Type: c.cfg.Type, Healthy: c.healthy, Measured: c.measured}
		if n := len(c.hist); n > 0 {
			g.Latency, g.Observed = c.hist[(c.next+n-1)%n].Latency, true
		}
		out = append(out, g)
	}
	return out
}

// Status is what the state machine knows about one check, for display and the status APIs.
type Status struct {
	// ID is the check's id.
	ID string
	// Config is the check's configuration as given to Set.
	Config Config
	// Healthy is the state routing uses: after Force, Disabled, Inverted and, for CALCULATED
	// checks, the children.
	Healthy bool
	// Reason says why Healthy has its value.
	Reason string
	// Since is when Healthy last changed (or when the check was added).
	Since time.Time
	// Measured is the endpoint's state from probes and thresholds alone, before Inverted.
	Measured bool
	// ConsecutiveFailures and ConsecutiveSuccesses count the latest run of equal probe results.
	ConsecutiveFailures, ConsecutiveSuccesses int
	// Force is the forced state in effect, or nil.
	Force *Force
	// HealthyChildren and Children count the children of a CALCULATED check.
	HealthyChildren, Children int
	// Observations are the latest probe results, oldest first.
	Observations []Observation
}

// Tracker is the up/down state machine of a set of checks. It does no I/O and reads no clock: every
// method takes the current time. It is not safe for concurrent use; Checker wraps one in a mutex.
//
// A probed check's measured state starts healthy (unhealthy if InsufficientDataHealthStatus is
// "Unhealthy"), turns unhealthy after FailureThreshold consecutive failed observations and
// healthy again after RecoveryThreshold consecutive successes. Its routing state is, in order of
// precedence: a Force in effect; for a Disabled check, healthy (unhealthy if also Inverted); for a
// CALCULATED check, whether at least HealthThreshold children are healthy (a missing child counts
// unhealthy), flipped if Inverted; else the measured state, flipped if Inverted.
type Tracker struct {
	history int
	checks  map[string]*check
	// parents maps a check id to the CALCULATED checks that list it as a child.
	parents map[string][]string
	// forced holds the ids of checks with a Force in effect.
	forced map[string]struct{}
	// byID is every check in id order, for Gauges; nil when a check was added or removed since.
	byID []*check
}

type check struct {
	id              string
	cfg             Config
	measured        bool
	fails, succs    int
	force           *Force
	healthy         bool
	since           time.Time
	healthyChildren int
	hist            []Observation // ring buffer
	next            int           // next write position in hist once it is full
}

// NewTracker returns an empty Tracker keeping the last history observations per check
// (DefaultHistory if history <= 0).
func NewTracker(history int) *Tracker {
	if history <= 0 {
		history = DefaultHistory
	}
	return &Tracker{
		history: history,
		checks:  make(map[string]*check),
		parents: make(map[string][]string),
		forced:  make(map[string]struct{}),
	}
}

// ErrNotFound is returned for an id the Tracker or Checker does not know.
var ErrNotFound = errors.New("health: no such health check")

// Set adds the check id or replaces its configuration, after validating it. A replaced check keeps
// its measured state, counters and history; new thresholds apply from the next observation. A
// check that was Disabled and is enabled again starts over as a new check, unless its
// InsufficientDataHealthStatus is "LastKnownStatus". A CALCULATED check may not list itself, nor
// another CALCULATED check, as a child (Route 53's rule). Set returns the transitions it caused:
// the check's own when it existed before (CauseConfig), and its CALCULATED parents'.
func (t *Tracker) Set(id string, cfg Config, now time.Time) ([]Transition, error) {
	if id == "" {
		return nil, errors.New("health: empty health check id")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Type == TypeCalculated {
		if len(t.parents[id]) > 0 {
			return nil, fmt.Errorf("health: %s: a CALCULATED check cannot be the child of CALCULATED check %s", id, t.parents[id][0])
		}
		for _, child := range cfg.ChildHealthChecks {
			if child == id {
				return nil, fmt.Errorf("health: %s: ChildHealthChecks: a check cannot be its own child", id)
			}
			if c, ok := t.checks[child]; ok && c.cfg.Type == TypeCalculated {
				return nil, fmt.Errorf("health: %s: ChildHealthChecks: %s is a CALCULATED check; calculated checks cannot be nested", id, child)
			}
		}
	}
	cfg = cfg.clone()

	c, existed := t.checks[id]
	if !existed {
		c = &check{id: id, cfg: cfg, measured: initialMeasured(&cfg), since: now}
		t.checks[id] = c
		t.byID = nil
		t.link(c)
		c.healthy, _ = t.evaluate(c)
		return t.propagate(nil, c, now, "child "+id+" was added"), nil
	}

	old := c.cfg
	t.unlink(c)
	c.cfg = cfg
	t.link(c)
	if old.Disabled && !cfg.Disabled && cfg.InsufficientDataHealthStatus != InsufficientDataLastKnownStatus {
		c.measured, c.fails, c.succs = initialMeasured(&cfg), 0, 0
	}
	return t.update(nil, c, now, Transition{Cause: CauseConfig}), nil
}

func initialMeasured(cfg *Config) bool {
	return cfg.InsufficientDataHealthStatus != InsufficientDataUnhealthy
}

// Remove deletes the check id and returns the transitions of its CALCULATED parents.
func (t *Tracker) Remove(id string, now time.Time) []Transition {
	c, ok := t.checks[id]
	if !ok {
		return nil
	}
	t.unlink(c)
	delete(t.checks, id)
	delete(t.forced, id)
	t.byID = nil
	return t.propagate(nil, c, now, "child "+id+" was removed")
}

// Observe records one probe result for the check id and returns the transitions it caused. It
// ignores results for unknown, Disabled and CALCULATED checks (a probe that was in flight when the
// check changed).
func (t *Tracker) Observe(id string, obs Observation, now time.Time) []Transition {
	c, ok := t.checks[id]
	if !ok || !c.cfg.probed() {
		return nil
	}
	if c.hist == nil {
		c.hist = make([]Observation, 0, t.history)
	}
	if len(c.hist) < t.history {
		c.hist = append(c.hist, obs)
	} else {
		c.hist[c.next] = obs
		c.next = (c.next + 1) % len(c.hist)
	}
	fall, rise := c.cfg.Thresholds()
	var crossed string
	if obs.Healthy {
		c.succs++
		c.fails = 0
		if !c.measured && c.succs >= rise {
			c.measured = true
			crossed = pluralize(c.succs, "consecutive success", "consecutive successes")
		}
	} else {
		c.fails++
		c.succs = 0
		if c.measured && c.fails >= fall {
			c.measured = false
			crossed = pluralize(c.fails, "consecutive failure", "consecutive failures")
		}
	}
	if crossed == "" {
		return nil
	}
	return t.update(nil, c, now, Transition{Cause: CauseProbe, Reason: crossed + ": " + obs.Status, Observation: obs})
}

func pluralize(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Force pins the routing state of the check id until f.Until (or until ClearForce when zero).
func (t *Tracker) Force(id string, f Force, now time.Time) ([]Transition, error) {
	c, ok := t.checks[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if !f.Until.IsZero() && !f.Until.After(now) {
		return nil, fmt.Errorf("health: %s: force expiry %s is not in the future", id, f.Until.Format(time.RFC3339))
	}
	c.force = &f
	t.forced[id] = struct{}{}
	reason := "forced " + stateWord(f.Healthy)
	if f.Reason != "" {
		reason += ": " + f.Reason
	}
	return t.update(nil, c, now, Transition{Cause: CauseForced, Reason: reason}), nil
}

// ClearForce ends the forced state of the check id, if any.
func (t *Tracker) ClearForce(id string, now time.Time) ([]Transition, error) {
	c, ok := t.checks[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if c.force == nil {
		return nil, nil
	}
	c.force = nil
	delete(t.forced, id)
	return t.update(nil, c, now, Transition{Cause: CauseForceCleared}), nil
}

// Advance expires the forces whose Until is at or before now and returns the transitions.
func (t *Tracker) Advance(now time.Time) []Transition {
	var out []Transition
	for _, id := range slices.Sorted(maps.Keys(t.forced)) {
		c := t.checks[id]
		if c.force.Until.IsZero() || c.force.Until.After(now) {
			continue
		}
		c.force = nil
		delete(t.forced, id)
		out = t.update(out, c, now, Transition{Cause: CauseForceExpired})
	}
	return out
}

// NextExpiry returns the earliest Until of the forces in effect.
func (t *Tracker) NextExpiry() (time.Time, bool) {
	var next time.Time
	for id := range t.forced {
		u := t.checks[id].force.Until
		if !u.IsZero() && (next.IsZero() || u.Before(next)) {
			next = u
		}
	}
	return next, !next.IsZero()
}

// Healthy returns the routing state of the check id, and whether the check exists.
func (t *Tracker) Healthy(id string) (healthy, ok bool) {
	c, ok := t.checks[id]
	if !ok {
		return false, false
	}
	return c.healthy, true
}

// States returns the routing state of every check.
func (t *Tracker) States() map[string]bool {
	out := make(map[string]bool, len(t.checks))
	for id, c := range t.checks {
		out[id] = c.healthy
	}
	return out
}

// Status returns what the Tracker knows about the check id.
func (t *Tracker) Status(id string) (Status, bool) {
	c, ok := t.checks[id]
	if !ok {
		return Status{}, false
	}
	_, reason := t.evaluate(c)
	s := Status{
		ID:                   id,
		Config:               c.cfg.clone(),
		Healthy:              c.healthy,
		Reason:               reason,
		Since:                c.since,
		Measured:             c.measured,
		ConsecutiveFailures:  c.fails,
		ConsecutiveSuccesses: c.succs,
		HealthyChildren:      c.healthyChildren,
		Children:             len(c.cfg.ChildHealthChecks),
		Observations:         make([]Observation, 0, len(c.hist)),
	}
	if c.force != nil {
		f := *c.force
		s.Force = &f
	}
	s.Observations = append(s.Observations, c.hist[c.next:]...)
	s.Observations = append(s.Observations, c.hist[:c.next]...)
	return s, true
}

// evaluate computes c's routing state and the reason for it.
func (t *Tracker) evaluate(c *check) (bool, string) {
	if f := c.force; f != nil {
		r := "forced " + stateWord(f.Healthy)
		if !f.Until.IsZero() {
			r += " until " + f.Until.UTC().Format(time.RFC3339)
		}
		if f.Reason != "" {
			r += ": " + f.Reason
		}
		return f.Healthy, r
	}
	cfg := &c.cfg
	if cfg.Disabled {
		if cfg.Inverted {
			return false, "disabled and inverted"
		}
		return true, "disabled"
	}
	var ok bool
	var r string
	if cfg.Type == TypeCalculated {
		n := 0
		for _, child := range cfg.ChildHealthChecks {
			if cc, found := t.checks[child]; found && cc.healthy {
				n++
			}
		}
		c.healthyChildren = n
		ok = n >= cfg.HealthThreshold
		r = fmt.Sprintf("%d of %d child health checks healthy, threshold %d", n, len(cfg.ChildHealthChecks), cfg.HealthThreshold)
	} else {
		ok = c.measured
		fall, rise := cfg.Thresholds()
		switch {
		case len(c.hist) == 0:
			r = "no observations yet"
		case ok:
			r = fmt.Sprintf("endpoint healthy (%d failures needed, %d consecutive)", fall, c.fails)
		default:
			r = fmt.Sprintf("endpoint unhealthy (%d successes needed, %d consecutive)", rise, c.succs)
		}
	}
	if cfg.Inverted {
		return !ok, r + ", inverted"
	}
	return ok, r
}

// update re-evaluates c; if its state changed it appends the transition tr (completed here) to
// out, then re-evaluates c's CALCULATED parents.
func (t *Tracker) update(out []Transition, c *check, now time.Time, tr Transition) []Transition {
	healthy, reason := t.evaluate(c)
	if healthy == c.healthy {
		return out
	}
	tr.ID, tr.Time, tr.From, tr.To = c.id, now, c.healthy, healthy
	if tr.Reason == "" {
		switch tr.Cause {
		case CauseConfig:
			reason = "configuration changed: " + reason
		case CauseForceCleared:
			reason = "force cleared: " + reason
		case CauseForceExpired:
			reason = "force expired: " + reason
		}
		tr.Reason = reason
	}
	c.healthy, c.since = healthy, now
	out = append(out, tr)
	return t.propagate(out, c, now, "child "+c.id+" became "+stateWord(healthy))
}

// propagate re-evaluates the CALCULATED parents of c.
func (t *Tracker) propagate(out []Transition, c *check, now time.Time, reason string) []Transition {
	for _, pid := range t.parents[c.id] {
		p := t.checks[pid]
		if p == nil {
			continue
		}
		healthy, r := t.evaluate(p)
		if healthy == p.healthy {
			continue
		}
		out = t.update(out, p, now, Transition{Cause: CauseChild, Child: c.id, Reason: reason + "; " + r})
	}
	return out
}

func (t *Tracker) link(c *check) {
	for _, child := range c.cfg.ChildHealthChecks {
		t.parents[child] = append(t.parents[child], c.id)
	}
}

func (t *Tracker) unlink(c *check) {
	for _, child := range c.cfg.ChildHealthChecks {
		ps := slices.DeleteFunc(t.parents[child], func(p string) bool { return p == c.id })
		if len(ps) == 0 {
			delete(t.parents, child)
		} else {
			t.parents[child] = ps
		}
	}
}

func stateWord(healthy bool) string {
	if healthy {
		return "healthy"
	}
	return "unhealthy"
}

// clone returns a copy of c that shares no slices, maps or pointers with it.
func (c Config) clone() Config {
	c.ChildHealthChecks = slices.Clone(c.ChildHealthChecks)
	c.Regions = slices.Clone(c.Regions)
	c.Headers = maps.Clone(c.Headers)
	if c.EnableSNI != nil {
		v := *c.EnableSNI
		c.EnableSNI = &v
	}
	return c
}
