package daemon

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// publisher keeps the DNS snapshot equal to the store and the health states. It builds the
// first snapshot zone by zone from the store; then on each store event it reads the record sets
// of the names the event touched and patches the snapshot in place (answer.Snapshot.Patch), or
// builds it again from the store when the change reaches further; on each health transition it
// decides the routed answers again over the same zones (answer.Snapshot.WithHealth). Every new
// snapshot is one atomic swap; the changes of answer it causes become events.
type publisher struct {
	d       *Daemon
	snap    *answer.Snapshot  // the snapshot served, nil before the first build
	routes  map[string]string // "name type" -> answer description, of the snapshot served
	kick    chan struct{}     // a health state changed
	events  chan service.Event
	checker *health.Checker
	// built is the store's revision when the last full build began reading it: the snapshot
	// serves every commit up to it, whichever events are still queued (a zone an import
	// switched to its new record sets is not built again for the switch's event).
	built uint64
}

// patchLimit is the most names of a zone one update may patch; past it a full build is
// cheaper than patching name by name.
const patchLimit = 100_000

// bigBuild is the number of record sets past which a full build bounds its heap and returns its
// garbage to the operating system when it ends (service.BulkMemory), rather than over the next
// minutes (Go's scavenger returns it slowly): resident memory is what operators watch.
const bigBuild = 100_000

func newPublisher(d *Daemon) *publisher {
	p := &publisher{d: d, kick: make(chan struct{}, 1), events: make(chan service.Event, 4096)}
	p.checker = health.NewChecker(health.Options{OnTransition: p.onTransition})
	return p
}

// onTransition runs on the checker's delivery goroutine: it must be quick.
func (p *publisher) onTransition(tr health.Transition) {
	select {
	case p.kick <- struct{}{}:
	default: // a rebuild is already due; it will read the newest states
	}
	p.emit(service.Event{Time: tr.Time, Kind: service.EventHealth, Subject: tr.ID,
		Before: stateWord(tr.From), After: stateWord(tr.To), Cause: string(tr.Cause), Reason: tr.Reason})
}

func stateWord(healthy bool) string {
	if healthy {
		return "healthy"
	}
	return "unhealthy"
}

// emit logs an event and queues it for the store; a full queue drops it (logged) rather than
// delay health checking or serving.
func (p *publisher) emit(ev service.Event) {
	p.d.log.Info("event", "kind", ev.Kind, "subject", ev.Subject, "before", ev.Before, "after", ev.After, "cause", ev.Cause, "reason", ev.Reason)
	if m := p.d.metrics; m != nil {
		m.Event(ev)
	}
	if n := p.d.notify; n != nil {
		n.Notify(ev)
	}
	select {
	case p.events <- ev:
	default:
		p.d.log.Warn("event queue full; event not stored", "kind", ev.Kind, "subject", ev.Subject)
		if m := p.d.metrics; m != nil {
			m.EventDropped()
		}
	}
}

// writeEvents stores queued events in batches until ctx ends.
func (p *publisher) writeEvents(ctx context.Context) {
	for {
		var batch []service.Event
		select {
		case <-ctx.Done():
			return
		case ev := <-p.events:
			batch = append(batch, ev)
		}
	more:
		for len(batch) < 1000 {
			select {
			case ev := <-p.events:
				batch = append(batch, ev)
			default:
				break more
			}
		}
		if err := p.d.svc.RecordEvents(ctx, batch); err != nil && ctx.Err() == nil {
			p.d.log.Error("storing events failed", "err", err, "events", len(batch))
		}
	}
}

// run publishes until ctx ends.
func (p *publisher) run(ctx context.Context) error {
	events := p.d.st.Watch(ctx) // before the first read, so no commit falls between the two
	rev, err := p.d.st.Revision(ctx)
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	if err := p.syncChecks(ctx, nil); err != nil {
		return err
	}
	failed := false // an update failed: the next event builds everything again
	snap, err := p.build(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		p.d.log.Error("building the DNS snapshot failed; serving no zones until the next change", "err", err)
		snap, _ = answer.NewBuilder().Build(nil)
		failed = true
	}
	go p.writeEvents(ctx)
	checkerDone := make(chan error, 1)
	go func() { checkerDone <- p.checker.Run(ctx) }()
	defer func() { <-checkerDone }()
	p.swap(snap, rev, "start", time.Now())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
			start := time.Now()
			snap, err := p.snap.WithHealth(p.checker.Healthy)
			if err != nil {
				p.d.log.Error("deciding routed answers failed; still serving the previous ones", "err", err)
				continue
			}
			p.swap(snap, rev, "health", start)
			continue
		case ev, ok := <-events:
			if !ok {
				if ctx.Err() == nil {
					return errors.New("daemon: the store stopped sending change events")
				}
				return nil
			}
			if ev.Revision <= rev && !ev.Reset {
				continue
			}
			// The last full build read the store at built or later: what it read is served.
			all, keys, since := ev.Reset || failed, ev.Keys, max(rev, p.built)
			rev = ev.Revision
			// Coalesce whatever else is already queued into one update.
		drain:
			for {
				select {
				case more, ok := <-events:
					if !ok {
						break drain
					}
					rev = max(rev, more.Revision)
					all = all || more.Reset
					keys = append(keys, more.Keys...)
				default:
					break drain
				}
			}
			start := time.Now()
			snap, cause, err := p.update(ctx, all, keys, since, rev)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.d.log.Error("updating from the store failed; still serving the previous data", "err", err)
				failed = true
				continue
			}
			failed = false
			if snap == p.snap {
				p.d.svc.SetServed(rev)
				continue
			}
			p.swap(snap, rev, cause, start)
		}
	}
}

// update returns the snapshot that follows the store after the commits after revision since up
// to upto, which touched keys (every key when all is set), and its cause: "records" for a full
// build, "patch" for a patch, "health" when only health checks changed. It returns the served
// snapshot when nothing it serves changed.
func (p *publisher) update(ctx context.Context, all bool, keys []string, since, upto uint64) (*answer.Snapshot, string, error) {
	rebuild := func() (*answer.Snapshot, string, error) {
		snap, err := p.build(ctx)
		return snap, "records", err
	}
	if all {
		if err := p.syncChecks(ctx, nil); err != nil {
			return nil, "", err
		}
		return rebuild()
	}
	checkIDs := service.CheckIDs(keys)
	if len(checkIDs) > 0 {
		if err := p.syncChecks(ctx, checkIDs); err != nil {
			return nil, "", err
		}
	}
	var changes []service.ZoneChange
	if upto > p.built { // else the last build read these commits already
		var err error
		if changes, err = p.d.svc.Changes(ctx, keys, since, patchLimit); err != nil {
			return nil, "", err
		}
	}
	snap := p.snap
	for _, zc := range changes {
		if !zc.Exists || zc.Whole {
			return rebuild()
		}
		next, err := snap.Patch(zc.ID, zc.Names, zc.Sets)
		switch {
		case errors.Is(err, answer.ErrRebuild):
			return rebuild()
		case err != nil:
			return nil, "", err
		}
		snap = next
	}
	cause := "patch"
	if len(checkIDs) > 0 {
		// A check's configuration or forced state changed: decide again with the states the
		// checker holds now (a transition, if any, comes through kick as well), and compare
		// the routed answers.
		next, err := snap.WithHealth(p.checker.Healthy)
		if err != nil {
			return nil, "", err
		}
		snap, cause = next, "health"
	}
	if snap == p.snap {
		return snap, "", nil
	}
	return snap, cause, nil
}

// build compiles every zone of the store, one at a time, under the checker's health states, and
// sets p.built.
func (p *publisher) build(ctx context.Context) (*answer.Snapshot, error) {
	built, err := p.d.st.Revision(ctx)
	if err != nil {
		return nil, err
	}
	ids, total, err := p.d.svc.ZoneIDList(ctx)
	if err != nil {
		return nil, err
	}
	if total > bigBuild {
		defer service.BulkMemory()()
	}
	snap, err := p.compile(ctx, ids, true)
	if errors.Is(err, answer.ErrSplitGroup) {
		// Names spelled apart in the store that DNS reads as one: compile each zone whole.
		snap, err = p.compile(ctx, ids, false)
	}
	if err != nil {
		return nil, err
	}
	if total > bigBuild {
		// BulkMemory's end returns the build's garbage; the snapshot this one replaces
		// becomes garbage only once it is swapped out and the queries reading it are done.
		time.AfterFunc(5*time.Second, debug.FreeOSMemory)
	}
	p.built = built
	return snap, nil
}

// buildPart is how many record sets a build reads from the store and compiles at a time
// (service.ZoneParts), rather than each zone whole: the snapshot served meanwhile, the one
// being built and a million-set zone read whole were 1.2 GB of heap at once.
const buildPart = 10_000

// compile builds a snapshot of the zones with the given ids, each read in parts or whole.
func (p *publisher) compile(ctx context.Context, ids []string, parts bool) (*answer.Snapshot, error) {
	b := answer.NewBuilder()
	for _, id := range ids {
		if parts {
			var zb *answer.ZoneBuilder
			found, err := p.d.svc.ZoneParts(ctx, id, buildPart,
				func(z *zone.Zone, sets int) (err error) { zb, err = b.Begin(z, sets); return err },
				func(sets []zone.RecordSet) error { return zb.Add(sets) })
			if err != nil {
				return nil, err
			}
			if found {
				if err := zb.End(); err != nil {
					return nil, err
				}
			}
			continue
		}
		zones, err := p.d.svc.Zones(ctx, []string{id})
		if err != nil {
			return nil, err
		}
		for i := range zones {
			if err := b.Add(&zones[i]); err != nil {
				return nil, err
			}
		}
	}
	return b.Build(p.checker.Healthy)
}

// syncChecks hands the checker the stored configuration and forced state of the checks with the
// given ids (every check when ids is nil).
func (p *publisher) syncChecks(ctx context.Context, ids []string) error {
	if ids == nil {
		checks, err := p.d.svc.ListHealthChecks(ctx)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, hc := range checks {
			keep[hc.Id] = true
			p.applyCheck(hc)
		}
		for _, id := range p.checker.IDs() {
			if !keep[id] {
				p.checker.Remove(id)
			}
		}
		return nil
	}
	for _, id := range ids {
		hc, err := p.d.svc.GetHealthCheck(ctx, id)
		var se *service.Error
		switch {
		case errors.As(err, &se) && se.Code == service.CodeNoSuchHealthCheck:
			p.checker.Remove(id)
		case err != nil:
			return err
		default:
			p.applyCheck(hc)
		}
	}
	return nil
}

func (p *publisher) applyCheck(hc service.HealthCheck) {
	if err := p.checker.Set(hc.Id, hc.HealthCheckConfig); err != nil {
		p.d.log.Error("health check refused by the checker", "id", hc.Id, "err", err)
		return
	}
	var err error
	if hc.Force != nil {
		err = p.checker.Force(hc.Id, *hc.Force)
	} else if st, ok := p.checker.Status(hc.Id); ok && st.Force != nil {
		err = p.checker.ClearForce(hc.Id)
	}
	if err != nil {
		p.d.log.Error("forcing the health check failed", "id", hc.Id, "err", err)
	}
}

// swap serves snap as the state of store revision rev and, unless cause is "patch", records which
// routed answers it changed.
func (p *publisher) swap(snap *answer.Snapshot, rev uint64, cause string, start time.Time) {
	p.snap = snap
	p.d.snap.Store(snap)
	p.d.svc.SetServed(rev)
	p.d.log.Debug("snapshot swapped", "revision", rev, "cause", cause, "took", time.Since(start))
	if cause != "patch" { // a patch leaves routed answers alone (Patch rebuilds for those)
		p.diffRoutes(snap, cause, start)
	}
}

// diffRoutes emits an answer event for every routed name whose answer changed.
func (p *publisher) diffRoutes(snap *answer.Snapshot, cause string, at time.Time) {
	next := map[string]string{}
	for _, r := range snap.Routes() {
		next[r.Name+" "+r.Type] = r.Answer
	}
	if p.routes != nil {
		for k, after := range next {
			if before, ok := p.routes[k]; ok && before != after {
				p.emit(service.Event{Time: at, Kind: service.EventAnswer, Subject: k, Before: before, After: after, Cause: cause})
			}
		}
	}
	p.routes = next
}
