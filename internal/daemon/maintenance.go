package daemon

import (
	"context"
	"time"

	"github.com/failoverdns/failoverdns/internal/service"
)

// maxMaintenanceSleep bounds how long the maintenance loop sleeps without looking again, so
// that a jump of the wall clock (the steps follow it) is noticed.
const maxMaintenanceSleep = time.Minute

// runMaintenance takes the steps of maintenance windows when they fall due, until ctx ends: it
// runs the service's steps, sleeps until the next one, and wakes early when a window is created
// or cancelled. Each step goes through the normal change path; its event goes to emit.
func (d *Daemon) runMaintenance(ctx context.Context, emit func(service.Event)) {
	changes := d.st.Watch(ctx)
	for {
		evs, next, err := d.svc.RunMaintenance(ctx)
		for _, ev := range evs {
			emit(ev)
		}
		if err != nil && ctx.Err() == nil {
			d.log.Error("maintenance step failed; trying again", "err", err)
		}
		sleep := maxMaintenanceSleep
		if !next.IsZero() {
			sleep = min(max(time.Until(next), 0), sleep)
		}
		timer := time.NewTimer(sleep)
	wait:
		for {
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
				break wait
			case ev, ok := <-changes:
				if !ok {
					timer.Stop()
					return
				}
				if ev.Reset || service.MaintenanceTouched(ev.Keys) {
					timer.Stop()
					break wait
				}
			}
		}
	}
}
