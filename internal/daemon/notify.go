package daemon

import "github.com/failoverdns/failoverdns/internal/metrics"

// hookStats reads the notification hooks' counters for the metrics.
func (d *Daemon) hookStats() []metrics.HookStats {
	var out []metrics.HookStats
	for _, st := range d.notify.Stats() {
		out = append(out, metrics.HookStats{Hook: st.Hook, Type: st.Type, Delivered: st.Delivered, Failed: st.Failed, Dropped: st.Dropped})
	}
	return out
}
