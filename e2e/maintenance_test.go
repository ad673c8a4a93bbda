package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// simpleA creates name A value with the given TTL in zone.
func (s *server) simpleA(t *testing.T, zone, name, value string, ttl int) {
	t.Helper()
	batch := fmt.Sprintf(`{"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": %q, "Type": "A", "TTL": %d,
	  "ResourceRecords": [{"Value": %q}]}}]}`, name, ttl, value)
	s.mustCLI(t, "change", zone, "--change-batch", writeFile(t, "simple.json", batch))
}

// windows returns `maintenance list --json`.
func (s *server) windows(t *testing.T) []window {
	t.Helper()
	var out struct{ MaintenanceWindows []window }
	if err := json.Unmarshal([]byte(s.mustCLI(t, "maintenance", "list", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	return out.MaintenanceWindows
}

type window struct {
	Id, State                string
	Start, End, RestoreTTLAt time.Time
	To, Original             []string
	Steps                    []struct{ Step string }
}

func waitWindowState(t *testing.T, s *server, id, state string) window {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, w := range s.windows(t) {
			if w.Id == id && w.State == state {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("window %s did not reach %s: %+v", id, state, s.windows(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createWindow runs `maintenance create --json` and returns the window.
func (s *server) createWindow(t *testing.T, args ...string) window {
	t.Helper()
	out := s.mustCLI(t, append([]string{"maintenance", "create", "--json"}, args...)...)
	var v struct{ MaintenanceWindow window }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.MaintenanceWindow.Id == "" {
		t.Fatalf("maintenance create printed no window: %v\n%s", err, out)
	}
	return v.MaintenanceWindow
}

// TestMaintenanceWindowLive runs a short real window while dig polls every 100 ms: every poll
// gets one of the two systems' addresses, both are seen, the TTL is lowered before the start and
// restored after the end, and each step is an event and a metric.
func TestMaintenanceWindowLive(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	s.simpleA(t, "app.test", "www.app.test", "127.0.0.2", 2)
	w := s.createWindow(t, "--zone", "app.test", "--name", "www", "--to", "127.0.0.3", "--start", "+3s", "--end", "+5s", "--ttl-during", "1")

	// failoverdns watch measures the two switches beside the dig loop: from now to the middle of
	// the window, and from there to after the end.
	mid := w.Start.Add(w.End.Sub(w.Start) / 2)
	type watched struct {
		out, errOut string
		err         error
	}
	watches := make(chan watched, 2)
	go func() {
		for _, part := range []struct {
			until  time.Time
			expect string
		}{{mid, "127.0.0.3"}, {w.RestoreTTLAt.Add(500 * time.Millisecond), "127.0.0.2"}} {
			ctx, cancel := context.WithTimeout(context.Background(), time.Until(part.until)+30*time.Second)
			cmd := exec.CommandContext(ctx, binPath, "watch", "www.app.test", "--server", s.dns, "--interval", "100ms",
				"--duration", time.Until(part.until).Round(time.Millisecond).String(), "--expect", part.expect, "--json")
			cmd.Env = binEnv()
			var o, e bytes.Buffer
			cmd.Stdout, cmd.Stderr = &o, &e
			err := cmd.Run()
			cancel()
			watches <- watched{o.String(), e.String(), err}
		}
	}()

	seen := map[string]int{}
	ttls := map[string]map[uint32]bool{"127.0.0.2": {}, "127.0.0.3": {}}
	var polls int
	for time.Now().Before(w.RestoreTTLAt.Add(700 * time.Millisecond)) {
		at := time.Now()
		r := dig(t, s.dns, "www.app.test", "A")
		got := aValues(r)
		polls++
		if got != "127.0.0.2" && got != "127.0.0.3" {
			t.Fatalf("poll at %s answered %q (%s): neither system", at.Format("15:04:05.000"), got, r.status)
		}
		seen[got]++
		ttls[got][r.answer[0].Header().Ttl] = true
		// Away from the edges, the answer is the one the window calls for.
		switch {
		case at.After(w.Start.Add(300*time.Millisecond)) && at.Before(w.End.Add(-300*time.Millisecond)) && got != "127.0.0.3":
			t.Errorf("poll at %s, inside the window, answered %s", at.Format("15:04:05.000"), got)
		case (at.Before(w.Start.Add(-300*time.Millisecond)) || at.After(w.End.Add(300*time.Millisecond))) && got != "127.0.0.2":
			t.Errorf("poll at %s, outside the window, answered %s", at.Format("15:04:05.000"), got)
		}
		time.Sleep(time.Until(at.Add(100 * time.Millisecond)))
	}
	if seen["127.0.0.2"] == 0 || seen["127.0.0.3"] == 0 {
		t.Errorf("answers seen in %d polls: %v; want both systems", polls, seen)
	}
	if !ttls["127.0.0.2"][2] || !ttls["127.0.0.2"][1] || !ttls["127.0.0.3"][1] || ttls["127.0.0.3"][2] {
		t.Errorf("TTLs seen: %v; want 2 and 1 for the original system, 1 only for the maintenance one", ttls)
	}

	for i, want := range [][2]string{{"127.0.0.2", "127.0.0.3"}, {"127.0.0.3", "127.0.0.2"}} {
		var res watched
		select {
		case res = <-watches:
		case <-time.After(60 * time.Second):
			t.Fatalf("failoverdns watch %d did not end", i+1)
		}
		var sum struct {
			Targets []struct {
				Polls, Errors int
				Changes       []struct{ Before, After []string }
				Unexpected    [][]string
				Reached       bool
			}
		}
		if res.err != nil || json.Unmarshal([]byte(res.out), &sum) != nil || len(sum.Targets) != 1 {
			t.Errorf("failoverdns watch %d: %v\n%s\n%s", i+1, res.err, res.out, res.errOut)
			continue
		}
		tr := sum.Targets[0]
		if tr.Errors != 0 || len(tr.Unexpected) != 0 || !tr.Reached || len(tr.Changes) != 1 || tr.Polls < 5 ||
			fmt.Sprint(tr.Changes[0].Before, tr.Changes[0].After) != fmt.Sprint([]string{want[0]}, []string{want[1]}) {
			t.Errorf("failoverdns watch %d: want one clean change %s -> %s:\n%s", i+1, want[0], want[1], res.out)
		}
	}

	done := waitWindowState(t, s, w.Id, "done")
	var steps []string
	for _, st := range done.Steps {
		steps = append(steps, st.Step)
	}
	if strings.Join(steps, " ") != "lower-ttl switch switch-back restore-ttl" {
		t.Errorf("steps %v", steps)
	}
	if r := dig(t, s.dns, "www.app.test", "A"); aValues(r) != "127.0.0.2" || r.answer[0].Header().Ttl != 2 {
		t.Errorf("after the window: %s TTL %d", aValues(r), r.answer[0].Header().Ttl)
	}
	events := s.mustCLI(t, "events")
	for _, want := range []string{"maintenance  www.app.test. A  127.0.0.2 (TTL 2) -> 127.0.0.2 (TTL 1)  (lower-ttl",
		"127.0.0.2 (TTL 1) -> 127.0.0.3 (TTL 1)  (switch", "127.0.0.3 (TTL 1) -> 127.0.0.2 (TTL 1)  (switch-back",
		"127.0.0.2 (TTL 1) -> 127.0.0.2 (TTL 2)  (restore-ttl"} {
		if !strings.Contains(events, want) {
			t.Errorf("events lack %q:\n%s", want, events)
		}
	}
	if v, _ := sample(scrapeMetrics(t, s), "failoverdns_maintenance_steps_total", "step", "switch"); v != 1 {
		t.Errorf("failoverdns_maintenance_steps_total{step=switch} = %v", v)
	}
}

// TestMaintenanceWindowSurvivesRestart: a server stopped in the middle of a window serves the
// maintenance values when it comes back, and still switches back at the end, once.
func TestMaintenanceWindowSurvivesRestart(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	s.simpleA(t, "app.test", "www.app.test", "127.0.0.2", 1)
	w := s.createWindow(t, "--zone", "app.test", "--name", "www.app.test.", "--to", "127.0.0.3", "--start", "+1s", "--end", "+6s", "--ttl-during", "1")
	waitAnswer(t, s, "www.app.test", "127.0.0.3")
	s.restart(t)
	if time.Now().After(w.End) {
		t.Skip("the restart took longer than the window") // never expected on a working machine
	}
	if got := aValues(dig(t, s.dns, "www.app.test", "A")); got != "127.0.0.3" {
		t.Errorf("after a restart inside the window: %q, want 127.0.0.3", got)
	}
	waitAnswer(t, s, "www.app.test", "127.0.0.2")
	done := waitWindowState(t, s, w.Id, "done")
	if len(done.Steps) != 3 { // the TTL is already 1: lower-ttl is no step of its own
		t.Errorf("steps %+v, want switch, switch-back and restore-ttl once each", done.Steps)
	}
	if n := strings.Count(s.mustCLI(t, "events"), "(switch:"); n != 1 {
		t.Errorf("%d switch events, want 1", n)
	}
}

// TestMaintenanceMistakes: what the user gets wrong is refused with a message that names it, and
// cancelling works.
func TestMaintenanceMistakes(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	s.simpleA(t, "app.test", "www.app.test", "127.0.0.2", 60)
	w := s.createWindow(t, "--zone", "app.test", "--name", "www", "--to", "127.0.0.3", "--start", "+1h", "--end", "+2h")
	future := time.Now().Add(24 * time.Hour).UTC()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"in the past", []string{"--start", "2020-01-01T00:00:00Z", "--end", "2020-01-01T01:00:00Z"}, "in the past"},
		{"end before start", []string{"--start", future.Format(time.RFC3339), "--end", future.Add(-time.Minute).Format(time.RFC3339)}, "End must be after Start"},
		{"overlap", []string{"--start", "+90m", "--end", "+3h"}, "overlaps maintenance window " + w.Id},
		{"no such name", []string{"--name", "nothere", "--start", "+5h", "--end", "+6h"}, "no A record set named nothere.app.test."},
		{"bad time", []string{"--start", "tomorrow", "--end", "+6h"}, `--start "tomorrow" is not a time`},
		{"bad value", []string{"--to", "not-an-ip", "--start", "+5h", "--end", "+6h"}, "not-an-ip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"maintenance", "create", "--zone", "app.test", "--name", "www", "--to", "127.0.0.3"}
			args = append(args, tc.args...)
			_, errOut, code := s.cli(t, args...)
			if code == 0 || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "failoverdns: error: ") {
				t.Errorf("exit %d, stderr:\n%s\nwant an error naming %q", code, errOut, tc.want)
			}
		})
	}
	if _, errOut, code := s.cli(t, "maintenance", "cancel", "M0000"); code == 0 || !strings.Contains(errOut, "NoSuchMaintenanceWindow") {
		t.Errorf("cancel of an unknown window: exit %d\n%s", code, errOut)
	}
	out := s.mustCLI(t, "maintenance", "cancel", w.Id)
	if !strings.Contains(out, "cancelled") {
		t.Errorf("cancel: %s", out)
	}
	list := s.mustCLI(t, "maintenance", "list")
	if !strings.Contains(list, w.Id) || !strings.Contains(list, "cancelled") {
		t.Errorf("list after cancel:\n%s", list)
	}
	// A window that starts too soon to lower the TTL in time is accepted with a warning.
	_, errOut, code := s.cli(t, "maintenance", "create", "--zone", "app.test", "--name", "www", "--to", "127.0.0.3", "--start", "+10s", "--end", "+20s", "--ttl-during", "5")
	if code != 0 || !strings.Contains(errOut, "warning: the record's TTL is 60 s") {
		t.Errorf("a window 10 s ahead of a TTL of 60 s: exit %d\n%s", code, errOut)
	}
}
