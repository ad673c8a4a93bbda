package health

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failoverdns/failoverdns/internal/yield"
)

// ProbeFunc runs one probe of cfg. It must return promptly when ctx is done: the Checker holds a
// worker until it returns. (*Prober).Probe is one.
type ProbeFunc func(ctx context.Context, cfg Config) Observation

// DefaultConcurrency is the default bound on probes in flight. Workers start only when probes
// wait for one, so the bound costs nothing while probes are quick; when endpoints answer slowly
// it decides whether the other checks start on time. 10,000 HTTP checks at 1 s beside a DNS flood
// on the same core (bench/run.sh, where the endpoints share the other core with dnsperf and answer
// in tens of milliseconds): schedule lag p99 <= 500 ms with 256, <= 5 ms with 2048. 2048 also
// absorbs a fifth of 10,000 checks at 1 s timing out after 1 s.
const DefaultConcurrency = 2048

// DefaultMaxPendingTransitions is the default bound on transitions waiting for OnTransition.
const DefaultMaxPendingTransitions = 10000

// Options configure a Checker. The zero Options are usable.
type Options struct {
	// Concurrency bounds the probes in flight; default DefaultConcurrency. Size it above
	// (probes per second) x (timeout of a failing probe): with 10,000 checks at 1 s and 1 s
	// timeouts, 1,000 slots absorb 10% of the endpoints hanging.
	Concurrency int
	// Probe runs the probes; default: Prober's. Probe is given a context that ends at the
	// probe's deadline.
	Probe ProbeFunc
	// Prober runs the probes when Probe is nil; default &Prober{}. The Checker closes its idle
	// connections when Run returns. Its settings are read when a check's probes are planned: at
	// Run, and when Set changes the probe.
	Prober *Prober
	// OnTransition receives every transition, in order, from a single goroutine of its own; never
	// from the scheduler or a probe. A slow callback delays only later callbacks. At most
	// MaxPendingTransitions wait; beyond that the oldest are dropped and counted in
	// Stats.DroppedTransitions, so a consumer that must be exact (routing) reads States or Healthy
	// when called rather than replaying transitions.
	OnTransition func(Transition)
	// MaxPendingTransitions bounds the queue in front of OnTransition; default
	// DefaultMaxPendingTransitions.
	MaxPendingTransitions int
	// History is how many observations each check keeps; default DefaultHistory.
	History int
}

// Checker schedules the probes of a set of checks and keeps their up/down state (a Tracker).
//
// Every probed check (not CALCULATED, not Disabled) runs at its RequestInterval on a fixed grid:
// the first run falls at a uniformly random phase within one interval after it is scheduled, so
// that checks added together are spread out, and each later run is moved by a random ±1% of the
// interval, at most ±MaxJitter, so that a failure is always seen within interval x threshold +
// 2 x MaxJitter + WakeGap (45 ms; the performance goal allows 50). A probe ends at its timeout
// (Config.ProbeTimeout), or just before the check's next run when the timeout would overlap it
// by no more than the jitter, so that a check whose timeout equals its interval keeps its rate
// while its endpoint hangs. A run that comes due while the
// check's previous probe is still in flight starts as soon as that probe returns; further runs due
// meanwhile are skipped and counted. At most Options.Concurrency probes run at once: a slot held
// by a hanging endpoint comes back when its probe times out, and other checks only wait if every
// slot is taken.
//
// One goroutine keeps the schedule, a heap of due times, and wakes when the earliest comes due, or
// WakeGap after its last wake when that is later; it hands each due probe to an idle worker
// goroutine, or starts one while fewer than Options.Concurrency exist, and lets the rest of the
// process run after every yieldEvery of them. Stats.Lag measures each probe from its due time to the moment a
// worker starts it, so it includes waiting for a worker and for the CPU.
//
// Time is read with the time package, so tests drive a Checker with testing/synctest. The methods
// are safe for concurrent use, before, during and after Run.
type Checker struct {
	probe   ProbeFunc
	prober  *Prober // the default ProbeFunc's, called directly
	onTrans func(Transition)
	maxPend int
	jobs    chan job // to idle workers
	maxWork int
	wake    chan struct{}
	notify  chan struct{}

	mu      sync.Mutex
	tracker *Tracker
	entries map[string]*entry
	queue   schedule
	epoch   time.Time       // of the due times in queue
	runCtx  context.Context // set while Run runs
	started bool
	pending []Transition
	dropped uint64
	ready   []job // runs that waited for the check's previous probe, to start now

	workers  atomic.Int32
	inFlight atomic.Int32
	probes   atomic.Uint64
	skipped  atomic.Uint64
	lag      lagHistogram
}

// MaxJitter bounds how far a run moves from its place on the check's grid.
const MaxJitter = 20 * time.Millisecond

// WakeGap is the least time between two wakes of the scheduler: the runs that come due within it
// start together at its end, so a run starts at most WakeGap after its due time. Waking for every
// due run makes many checks costly on a loaded core: the scheduler, the probes' writes and the
// endpoints' answers interleave one by one with whatever else runs. 10,000 HTTP checks at 1 s
// beside a DNS flood, endpoints on the other core (bench/run.sh): DNS 117k-123k q/s and 7.0-7.5 us
// of server CPU per query with a wake per run, 145k-147k and 6.0-6.1 us with 5 ms (2 ms:
// 129k-143k); the endpoints' CPU fell from 24 % to 12 % of their core.
const WakeGap = 5 * time.Millisecond

// yieldEvery is how many probes the scheduler starts before it lets the rest of the process run
// (package yield). Probes started together run one after the other, each writing its request,
// before the network is polled again: a DNS reader waiting for its socket waited for all of them.
// 10,000 HTTP checks at 1 s, DNS at 20,000 q/s on the same core: p99 latency 1.1-1.5 ms when the
// ~50 runs of a wake start at once, 0.44-0.61 ms with a yield every 8 (every 16: 0.84 ms); the
// DNS rate under a flood was the same within the noise.
//
// Runs that start WakeGap or more after they were due start without yielding: on a core the DNS
// readers saturate, a reader that never finds its socket empty gives the core away only every
// millisecond (dnsserver's yieldAfter), so each yield here cost a millisecond, a wake's runs took
// longer to start than the gap between wakes, and the lag grew without bound. 10,000 checks at
// 1 s, a DNS flood, the server capped at 70 % of its core: lag p50 250-500 ms and p99 <= 1 s with
// every yield, <= 10 ms and <= 25 ms with this, at the same DNS rate.
const yieldEvery = 8

// entry is the scheduling state of one check.
type entry struct {
	id     string
	cfg    *Config // immutable; replaced by Set
	gen    uint64  // bumped when the probe itself changes; results of older generations are dropped
	ctx    context.Context
	cancel context.CancelFunc
	intr   *interrupter // interrupted when ctx ends, with the default prober
	plan   *plan        // of the generation's probes, with the default prober
	base   time.Time    // the grid time of the next run
	due    time.Time    // base plus jitter
	index  int          // position in the heap, -1 when not scheduled
	busy   bool         // a probe is in flight
	queued bool         // a run came due while busy; it starts when the probe returns
	qdue   time.Time    // when the queued run was due
}

// NewChecker returns a Checker with no checks. Call Run to start probing.
func NewChecker(opts Options) *Checker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	var prober *Prober
	if opts.Probe == nil {
		if prober = opts.Prober; prober == nil {
			prober = &Prober{}
		}
		opts.Probe = prober.Probe
	}
	if opts.MaxPendingTransitions <= 0 {
		opts.MaxPendingTransitions = DefaultMaxPendingTransitions
	}
	return &Checker{
		probe:   opts.Probe,
		prober:  prober,
		onTrans: opts.OnTransition,
		maxPend: opts.MaxPendingTransitions,
		jobs:    make(chan job),
		maxWork: opts.Concurrency,
		wake:    make(chan struct{}, 1),
		notify:  make(chan struct{}, 1),
		tracker: NewTracker(opts.History),
		entries: make(map[string]*entry),
		epoch:   time.Now(),
	}
}

// Set adds the check id or replaces its configuration (see Tracker.Set for the state rules). A
// check whose interval changes is rescheduled at a new random phase; one whose probe changes
// (target, path, type, timeout, ...) has its in-flight probe canceled and its result dropped.
func (c *Checker) Set(id string, cfg Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	trs, err := c.tracker.Set(id, cfg, now)
	if err != nil {
		return err
	}
	c.enqueue(trs)
	cp := new(Config)
	*cp = c.tracker.checks[id].cfg // shares the Tracker's private slices and maps, never mutated

	e, ok := c.entries[id]
	if !ok {
		e = &entry{id: id, cfg: cp, index: -1}
		c.entries[id] = e
		c.newGen(e)
		c.reschedule(e, now)
		return nil
	}
	old := e.cfg
	e.cfg = cp
	if probeChanged(old, cp) {
		c.newGen(e)
	}
	if old.Interval() != cfg.Interval() || old.probed() != cfg.probed() {
		c.reschedule(e, now)
	}
	return nil
}

// Remove deletes the check id, canceling its probe in flight.
func (c *Checker) Remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok {
		return
	}
	if e.cancel != nil {
		e.cancel()
	}
	if e.index >= 0 {
		c.queue.remove(e.index)
	}
	delete(c.entries, id)
	c.enqueue(c.tracker.Remove(id, time.Now()))
}

// Force pins the routing state of the check id (see Tracker.Force).
func (c *Checker) Force(id string, f Force) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	trs, err := c.tracker.Force(id, f, time.Now())
	if err != nil {
		return err
	}
	c.enqueue(trs)
	c.poke()
	return nil
}

// ClearForce ends the forced state of the check id.
func (c *Checker) ClearForce(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	trs, err := c.tracker.ClearForce(id, time.Now())
	if err != nil {
		return err
	}
	c.enqueue(trs)
	return nil
}

// Healthy returns the routing state of the check id, and whether the check exists.
func (c *Checker) Healthy(id string) (healthy, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tracker.Healthy(id)
}

// States returns the routing state of every check, keyed by id.
func (c *Checker) States() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tracker.States()
}

// Status returns what the Checker knows about the check id.
func (c *Checker) Status(id string) (Status, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tracker.Status(id)
}

// Gauges returns what metrics export of every check (see Tracker.Gauges), under one lock.
func (c *Checker) Gauges() []Gauge {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tracker.Gauges()
}

// IDs returns the ids of all checks, sorted.
func (c *Checker) IDs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.entries))
}

// Stats are a Checker's counters.
type Stats struct {
	// Checks is the number of checks; Scheduled the number being probed.
	Checks, Scheduled int
	// InFlight is the number of probes running now.
	InFlight int
	// Workers is the number of goroutines that run probes, started when a probe found none idle:
	// at most Options.Concurrency.
	Workers int
	// Probes counts the probes completed.
	Probes uint64
	// Skipped counts the runs not made because the check's previous probe was still in flight or
	// the scheduler fell a whole interval behind.
	Skipped uint64
	// DroppedTransitions counts the transitions dropped because OnTransition fell behind.
	DroppedTransitions uint64
	// Lag is the distribution of schedule lag: how late each probe started after its due time.
	Lag LagHistogram
}

// Stats returns the Checker's counters.
func (c *Checker) Stats() Stats {
	c.mu.Lock()
	s := Stats{Checks: len(c.entries), Scheduled: c.queue.Len(), DroppedTransitions: c.dropped}
	c.mu.Unlock()
	s.InFlight = int(c.inFlight.Load())
	s.Workers = int(c.workers.Load())
	s.Probes = c.probes.Load()
	s.Skipped = c.skipped.Load()
	s.Lag = c.lag.snapshot()
	return s
}

// Run probes the checks until ctx is done, then waits for the probes in flight (they see ctx
// done) and for OnTransition to receive the transitions already made, and returns nil. Run may be
// called once.
func (c *Checker) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("health: Checker.Run called twice")
	}
	c.started = true
	c.runCtx = ctx
	now := time.Now()
	for _, id := range slices.Sorted(maps.Keys(c.entries)) {
		e := c.entries[id]
		c.newGen(e)
		c.reschedule(e, now)
	}
	c.mu.Unlock()

	stopDeliver := make(chan struct{})
	delivered := make(chan struct{})
	go c.deliver(stopDeliver, delivered)

	var workers sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var batch []job
	y, err := yield.New()
	if err == nil {
		defer y.Close()
	} // else (out of file descriptors) the runs due together start at once
loop:
	for {
		c.mu.Lock()
		now := time.Now()
		c.enqueue(c.tracker.Advance(now))
		batch = append(batch[:0], c.ready...)
		clear(c.ready)
		c.ready = c.ready[:0]
		for at := now.Sub(c.epoch); c.queue.Len() > 0 && c.queue[0].at <= at; {
			e := c.queue[0].e
			due := e.due
			c.advance(e, now)
			switch {
			case e.queued:
				c.skipped.Add(1)
			case e.busy:
				e.queued, e.qdue = true, due
			default:
				e.busy = true
				batch = append(batch, e.job(due))
			}
		}
		var next time.Time
		if c.queue.Len() > 0 {
			next = c.queue[0].e.due
		}
		if exp, ok := c.tracker.NextExpiry(); ok && (next.IsZero() || exp.Before(next)) {
			next = exp
		}
		c.mu.Unlock()

		for i, j := range batch {
			if y != nil && i > 0 && i%yieldEvery == 0 && now.Sub(j.due) < WakeGap {
				y.Yield()
			}
			if !c.dispatch(ctx, j, &workers) {
				c.mu.Lock()
				for _, j := range batch[i:] {
					j.e.busy, j.e.queued = false, false
				}
				c.mu.Unlock()
				break loop
			}
		}

		if next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(max(time.Until(next), time.Until(now.Add(WakeGap))))
		}
		select {
		case <-ctx.Done():
			break loop
		case <-c.wake:
		case <-timer.C:
		}
	}

	workers.Wait()
	if c.prober != nil {
		c.prober.CloseIdle()
	}
	c.mu.Lock()
	c.runCtx = nil
	c.mu.Unlock()
	close(stopDeliver)
	<-delivered
	return nil
}

// job is one probe handed from the scheduler to a worker.
type job struct {
	e    *entry
	gen  uint64
	ctx  context.Context
	intr *interrupter
	plan *plan
	cfg  *Config
	due  time.Time // when the run was due
	next time.Time // when the check's next run is due
}

// job is a run of e's probe of the current generation, due at due; c.mu must be held.
func (e *entry) job(due time.Time) job {
	return job{e: e, gen: e.gen, ctx: e.ctx, intr: e.intr, plan: e.plan, cfg: e.cfg, due: due, next: e.due}
}

// dispatch hands j to an idle worker, or to a new one while there are fewer than the
// concurrency bound, or else waits for a worker to come back. It returns false when ctx ends
// first. Only Run calls it.
func (c *Checker) dispatch(ctx context.Context, j job, wg *sync.WaitGroup) bool {
	select {
	case c.jobs <- j:
		return true
	default:
	}
	if int(c.workers.Load()) < c.maxWork {
		c.workers.Add(1)
		wg.Add(1)
		go c.worker(ctx, j, wg)
		return true
	}
	select {
	case c.jobs <- j:
		return true
	case <-ctx.Done():
		return false
	}
}

// worker runs j, then the jobs dispatch hands it, until ctx ends. Workers are started on demand
// and kept, each with the stack its probes grew: a goroutine per probe would grow a new one.
func (c *Checker) worker(ctx context.Context, j job, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		c.run(j)
		select {
		case j = <-c.jobs:
		case <-ctx.Done():
			return
		}
	}
}

// run runs the probe of j and records its result.
func (c *Checker) run(j job) {
	start := time.Now()
	c.lag.record(start.Sub(j.due))
	c.inFlight.Add(1)
	deadline := probeDeadline(start, j.next, j.cfg.Interval(), j.cfg.ProbeTimeout())
	var obs Observation
	if c.prober != nil {
		obs = c.prober.probe(j.ctx, j.intr, j.cfg, j.plan, deadline)
	} else {
		ctx, cancel := context.WithDeadline(j.ctx, deadline)
		obs = c.probe(ctx, *j.cfg)
		cancel()
	}
	c.inFlight.Add(-1)
	c.probes.Add(1)

	c.mu.Lock()
	defer c.mu.Unlock()
	e := j.e
	e.busy = false
	current := c.entries[e.id] == e
	if e.queued {
		e.queued = false
		if current && e.index >= 0 && e.ctx.Err() == nil {
			e.busy = true
			c.ready = append(c.ready, e.job(e.qdue))
			c.poke()
		}
	}
	if j.ctx.Err() != nil || !current || e.gen != j.gen {
		return // removed, changed or shutting down: the result is stale
	}
	c.enqueue(c.tracker.Observe(e.id, obs, time.Now()))
}

// probeDeadline is when a probe started at start ends: after timeout, or a little earlier, just
// before the next run is due, when the two overlap by no more than the jitter (and less than half
// the timeout). A probe that started late keeps its whole timeout; its next run then waits.
func probeDeadline(start, next time.Time, interval, timeout time.Duration) time.Time {
	deadline := start.Add(timeout)
	if next.IsZero() {
		return deadline
	}
	guard := min(interval/200, 5*time.Millisecond)
	cut := next.Add(-guard)
	if trim := deadline.Sub(cut); trim > 0 && trim <= 2*jitter(interval)+guard && trim < timeout/2 {
		return cut
	}
	return deadline
}

// newGen starts a new probe generation for e, canceling the probe in flight. With the default
// prober, the generation's probes share what they do the same way, made here (Prober.newPlan).
func (c *Checker) newGen(e *entry) {
	e.gen++
	if e.cancel != nil {
		e.cancel()
		e.cancel = nil
	}
	if c.runCtx != nil {
		e.ctx, e.cancel = context.WithCancel(c.runCtx)
		if c.prober != nil {
			e.intr = new(interrupter)
			context.AfterFunc(e.ctx, e.intr.interrupt)
			e.plan = c.prober.newPlan(e.cfg)
		}
	}
}

// reschedule takes e off the schedule and, when it is probed and Run is running, puts it back
// with a random phase in [now, now+interval).
func (c *Checker) reschedule(e *entry, now time.Time) {
	if e.index >= 0 {
		c.queue.remove(e.index)
	}
	if c.runCtx == nil || !e.cfg.probed() {
		return
	}
	iv := e.cfg.Interval()
	e.base = now.Add(time.Duration(rand.Int64N(int64(iv))))
	e.due = e.base
	c.queue.push(e, e.due.Sub(c.epoch))
	c.poke()
}

// advance moves e to its next run after now.
func (c *Checker) advance(e *entry, now time.Time) {
	iv := e.cfg.Interval()
	e.base = e.base.Add(iv)
	if !e.base.After(now) {
		behind := now.Sub(e.base)/iv + 1
		e.base = e.base.Add(behind * iv)
		c.skipped.Add(uint64(behind))
	}
	e.due = e.base
	if j := int64(jitter(iv)); j > 0 {
		if d := e.base.Add(time.Duration(rand.Int64N(2*j+1) - j)); d.After(now) {
			e.due = d
		}
	}
	c.queue.fix(e.index, e.due.Sub(c.epoch))
}

// jitter is the most a run of a check at interval iv moves from its grid: 1 %, at most MaxJitter.
func jitter(iv time.Duration) time.Duration { return min(iv/100, MaxJitter) }

// poke wakes the scheduler to look at the schedule again.
func (c *Checker) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// enqueue queues transitions for OnTransition; c.mu must be held.
func (c *Checker) enqueue(trs []Transition) {
	if len(trs) == 0 || c.onTrans == nil {
		return
	}
	c.pending = append(c.pending, trs...)
	if over := len(c.pending) - c.maxPend; over > 0 {
		c.pending = slices.Delete(c.pending, 0, over)
		c.dropped += uint64(over)
	}
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

// deliver calls OnTransition until stop is closed and the queue is empty.
func (c *Checker) deliver(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for {
		stopping := false
		select {
		case <-c.notify:
		case <-stop:
			stopping = true
		}
		c.mu.Lock()
		batch := c.pending
		c.pending = nil
		c.mu.Unlock()
		for _, tr := range batch {
			c.onTrans(tr)
		}
		if stopping {
			return
		}
	}
}

// probeChanged reports whether a probe of b could give a different answer than one of a: it
// compares every field a probe and its plan (Prober.makePlan) read.
func probeChanged(a, b *Config) bool {
	return a.Type != b.Type || a.IPAddress != b.IPAddress || a.Port != b.Port ||
		a.ResourcePath != b.ResourcePath || a.FullyQualifiedDomainName != b.FullyQualifiedDomainName ||
		a.SearchString != b.SearchString || a.ProbeTimeout() != b.ProbeTimeout() ||
		a.HealthyStatusCodes != b.HealthyStatusCodes || !maps.Equal(a.Headers, b.Headers) ||
		a.InsecureSkipVerify != b.InsecureSkipVerify || a.sniEnabled() != b.sniEnabled() ||
		a.Disabled != b.Disabled
}

// lagBounds are the upper bounds of the lag histogram's buckets.
var lagBounds = []time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

type lagHistogram struct {
	counts [17]atomic.Uint64 // len(lagBounds)+1; the last bucket is the overflow
	max    atomic.Int64
}

func (h *lagHistogram) record(d time.Duration) {
	d = max(d, 0)
	i, _ := slices.BinarySearch(lagBounds, d)
	h.counts[i].Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

func (h *lagHistogram) snapshot() LagHistogram {
	out := LagHistogram{Bounds: lagBounds, Counts: make([]uint64, len(h.counts)), Max: time.Duration(h.max.Load())}
	for i := range h.counts {
		out.Counts[i] = h.counts[i].Load()
	}
	return out
}

// LagHistogram is a distribution of durations in fixed buckets.
type LagHistogram struct {
	// Bounds are the buckets' inclusive upper bounds; Counts has one more entry, for the values
	// above the last bound.
	Bounds []time.Duration
	Counts []uint64
	// Max is the largest value recorded.
	Max time.Duration
}

// Total is the number of values recorded.
func (h LagHistogram) Total() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// Quantile returns an upper bound of the q-quantile (0 < q <= 1): the upper bound of its bucket,
// or Max when it falls in the last bucket or Max is smaller.
func (h LagHistogram) Quantile(q float64) time.Duration {
	total := h.Total()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.999999)
	var seen uint64
	for i, n := range h.Counts {
		seen += n
		if seen >= rank {
			if i < len(h.Bounds) {
				return min(h.Bounds[i], h.Max)
			}
			return h.Max
		}
	}
	return h.Max
}

// String summarizes the distribution.
func (h LagHistogram) String() string {
	return fmt.Sprintf("n=%d p50<=%v p99<=%v max=%v", h.Total(), h.Quantile(0.5), h.Quantile(0.99), h.Max)
}
