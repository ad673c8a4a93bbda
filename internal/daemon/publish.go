package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/failoverdns/failoverdns/internal/answer"
	"github.com/failoverdns/failoverdns/internal/health"
	"github.com/failoverdns/failoverdns/internal/service"
	"github.com/failoverdns/failoverdns/internal/zone"
)

// publisher keeps the DNS snapshot equal to the store and the health states: it loads every zone
// and health check, then on each store event reloads what the event touched, and on each health
// transition rebuilds the snapshot. Every rebuild is one answer.BuildWithHealth and one atomic
// swap; the changes of answer it causes become events.
type publisher struct {
	d       *Daemon
	zones   map[string]zone.Zone
	routes  map[string]string // "name type" -> answer description, of the snapshot served
	kick    chan struct{}     // a health state changed
	events  chan service.Event
	checker *health.Checker
}

func newPublisher(d *Daemon) *publisher {
	p := &publisher{d: d, zones: map[string]zone.Zone{}, kick: make(chan struct{}, 1), events: make(chan service.Event, 4096)}
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
	if err := p.reload(ctx, nil); err != nil {
		return err
	}
	go p.writeEvents(ctx)
	checkerDone := make(chan error, 1)
	go func() { checkerDone <- p.checker.Run(ctx) }()
	defer func() { <-checkerDone }()
	p.swap(rev, "start")

	failed := false // a reload failed: the next event reloads everything
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.kick:
			p.swap(rev, "health")
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
			all, keys := ev.Reset || failed, ev.Keys
			rev = ev.Revision
			// Coalesce whatever else is already queued into one rebuild.
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
			zoneIDs, checkIDs := service.ZoneIDs(keys), service.CheckIDs(keys)
			if all {
				zoneIDs, checkIDs = nil, nil
			}
			if !all && len(zoneIDs) == 0 && len(checkIDs) == 0 {
				p.d.svc.SetServed(rev)
				continue
			}
			err := p.syncChecks(ctx, checkIDs)
			if err == nil && (all || len(zoneIDs) > 0) {
				err = p.reload(ctx, zoneIDs)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				p.d.log.Error("reloading from the store failed; still serving the previous data", "err", err)
				failed = true
				continue
			}
			failed = false
			cause := "records"
			if !all && len(zoneIDs) == 0 {
				cause = "health" // only health checks changed (a forced state, a new configuration)
			}
			p.swap(rev, cause)
		}
	}
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

// reload rereads the zones with the given ids (all zones when ids is nil).
func (p *publisher) reload(ctx context.Context, ids []string) error {
	loaded, err := p.d.svc.Zones(ctx, ids)
	if err != nil {
		return err
	}
	if ids == nil {
		clear(p.zones)
	}
	for _, id := range ids {
		delete(p.zones, id)
	}
	for _, z := range loaded {
		p.zones[z.ID] = z
	}
	return nil
}

// swap builds a snapshot of the zones and the current health states, serves it, and records
// which routed answers it changed.
func (p *publisher) swap(rev uint64, cause string) {
	start := time.Now()
	list := make([]zone.Zone, 0, len(p.zones))
	for _, z := range p.zones {
		list = append(list, z)
	}
	snap, err := answer.BuildWithHealth(list, p.checker.Healthy)
	if err != nil {
		p.d.log.Error("building the DNS snapshot failed; still serving the previous data", "revision", rev, "err", err)
		return
	}
	p.d.snap.Store(snap)
	p.d.svc.SetServed(rev)
	p.d.log.Debug("snapshot swapped", "revision", rev, "cause", cause, "took", time.Since(start))
	p.diffRoutes(snap, cause, start)
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
