package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// watchSummary is the part of `watch --json` these tests read (docs/watch.md has all of it).
type watchSummary struct {
	Targets []struct {
		Target        string
		Kind          string
		Polls, Errors int
		Timeouts      int
		Changes       []struct {
			Time          time.Time
			Before, After []string
		}
		Final   []string
		Reached bool
	}
	Overall struct {
		Old, New   []string
		AllReached bool
		Mixed      *struct{ Start, End time.Time }
	}
}

// watchObs is one line of watch --out.
type watchObs struct {
	Time    time.Time
	Target  string
	Answers []string
	TTL     *uint32
	Error   string
	Timeout bool
}

// setA points name's simple A record set at value with the TTL, through `failoverdns change`.
func setA(t *testing.T, s *server, name, value string, ttl int) {
	t.Helper()
	batch := fmt.Sprintf(`{"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": %q, "Type": "A", "TTL": %d, "ResourceRecords": [{"Value": %q}]}}]}`, name, ttl, value)
	s.mustCLI(t, "change", "app.test", "--change-batch", writeFile(t, "set.json", batch))
}

// bgWatch is a `failoverdns watch` running in the background.
type bgWatch struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	done     chan error
}

func startWatch(t *testing.T, s *server, args ...string) *bgWatch {
	t.Helper()
	w := &bgWatch{done: make(chan error, 1)}
	w.cmd = exec.Command(binPath, append([]string{"watch"}, args...)...)
	w.cmd.Env = append(binEnv(), "FAILOVERDNS_API="+s.api)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.err
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- w.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Kill()
			<-w.done
		}
	})
	return w
}

// wait waits (at most 60 s) for the watch to end and returns its exit code.
func (w *bgWatch) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-w.done:
		w.done <- err
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		return 0
	case <-time.After(60 * time.Second):
		t.Fatalf("watch did not end within 60 s; stderr:\n%s", w.err.String())
		return -1
	}
}

func (w *bgWatch) summary(t *testing.T) watchSummary {
	t.Helper()
	var v watchSummary
	if err := json.Unmarshal(w.out.Bytes(), &v); err != nil {
		t.Fatalf("watch --json printed no JSON object: %v\nstdout:\n%s\nstderr:\n%s", err, w.out.String(), w.err.String())
	}
	return v
}

// readObs reads a watch --out file.
func readObs(t *testing.T, path string) []watchObs {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // not created yet
	}
	if err != nil {
		t.Fatal(err)
	}
	var obs []watchObs
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var o watchObs
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			break // a line being written as we read
		}
		obs = append(obs, o)
	}
	return obs
}

// TestWatchSeesTheSwitchAtOnce: watch straight at failoverdns while a change is applied sees it
// within a poll or two, and the JSON summary names the change.
func TestWatchSeesTheSwitchAtOnce(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	setA(t, s, "www.app.test", "192.0.2.1", 2)
	out := filepath.Join(t.TempDir(), "obs.jsonl")
	csvPath := filepath.Join(t.TempDir(), "obs.csv")
	report := filepath.Join(t.TempDir(), "report.html")
	const interval = 200 * time.Millisecond
	w := startWatch(t, s, "www.app.test", "--server", s.dns, "--interval", "200ms", "--duration", "3s",
		"--expect", "192.0.2.2", "--json", "--out", out, "--csv", csvPath, "--report", report)
	time.Sleep(time.Second)
	before := time.Now()
	setA(t, s, "www.app.test", "192.0.2.2", 2)
	acked := time.Now()
	if code := w.wait(t); code != 0 {
		t.Fatalf("watch exit %d, want 0 (the server reached --expect)\nstderr:\n%s", code, w.err.String())
	}
	v := w.summary(t)
	if len(v.Targets) != 1 {
		t.Fatalf("targets: %+v", v.Targets)
	}
	tr := v.Targets[0]
	if tr.Target != s.dns || tr.Errors != 0 || tr.Polls < 12 || !tr.Reached {
		t.Errorf("target summary %+v", tr)
	}
	if len(tr.Changes) != 1 || strings.Join(tr.Changes[0].Before, " ") != "192.0.2.1" || strings.Join(tr.Changes[0].After, " ") != "192.0.2.2" {
		t.Fatalf("changes %+v, want one from 192.0.2.1 to 192.0.2.2", tr.Changes)
	}
	if at := tr.Changes[0].Time; at.Before(before) || at.After(acked.Add(2*interval)) {
		t.Errorf("change seen at %v; the change was applied between %v and %v: want it within two polls", at, before, acked)
	}
	if obs := readObs(t, out); len(obs) != tr.Polls {
		t.Errorf("--out has %d observations, the summary %d polls", len(obs), tr.Polls)
	}
	csvData, _ := os.ReadFile(csvPath)
	if n := strings.Count(string(csvData), "\n"); n != tr.Polls+1 {
		t.Errorf("--csv has %d lines, want a header and %d rows", n, tr.Polls)
	}
	html, _ := os.ReadFile(report)
	if !bytes.Contains(html, []byte("<svg")) || !bytes.Contains(html, []byte("192.0.2.2")) || bytes.Contains(html, []byte("src=")) {
		t.Errorf("--report is not a self-contained page with the timeline:\n%.500s", html)
	}
}

// startUnbound runs a real unbound on 127.0.0.1 (a free port) with the zone app.test stubbed to
// upstream, caching with the records' own TTLs, and returns its address once it answers.
func startUnbound(t *testing.T, upstream string) string {
	t.Helper()
	bin := needTool(t, "unbound")
	dir := t.TempDir()
	uhost, uport, _ := net.SplitHostPort(upstream)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		conf := fmt.Sprintf(`server:
	interface: 127.0.0.1
	port: %d
	do-ip6: no
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: %q
	pidfile: %q
	use-syslog: no
	logfile: ""
	verbosity: 1
	num-threads: 1
	so-reuseport: no
	module-config: "iterator"
	cache-min-ttl: 0
	prefetch: no
	serve-expired: no
	qname-minimisation: no
	local-zone: "test." nodefault
remote-control:
	control-enable: no
stub-zone:
	name: "app.test."
	stub-addr: %s@%s
`, port, dir, filepath.Join(dir, "unbound.pid"), uhost, uport)
		path := filepath.Join(dir, "unbound.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		log := &logBuffer{}
		cmd := exec.Command(bin, "-d", "-c", path)
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("unbound log:\n%s", log)
			}
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-done:
				lastErr = fmt.Errorf("unbound exited: %s", log)
			default:
			}
			if lastErr != nil {
				break
			}
			m := new(dns.Msg)
			m.SetQuestion("app.test.", dns.TypeSOA)
			c := &dns.Client{Timeout: 500 * time.Millisecond}
			if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 {
				return addr
			} else if err == nil {
				lastErr = fmt.Errorf("unbound answers app.test SOA with %s: %v", dns.RcodeToString[r.Rcode], r)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if lastErr == nil {
			lastErr = fmt.Errorf("unbound did not answer within 10 s: %s", log)
		}
		_ = cmd.Process.Kill()
	}
	t.Fatalf("unbound: %v", lastErr)
	return ""
}

// TestWatchThroughCachingResolver is the seed's measurement: a switch of a record with TTL 2 is
// seen at once by a poll straight at failoverdns, and through unbound only after about the TTL.
func TestWatchThroughCachingResolver(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	setA(t, s, "www.app.test", "192.0.2.1", 2)
	resolver := startUnbound(t, s.dns)
	out := filepath.Join(t.TempDir(), "obs.jsonl")
	const interval = 200 * time.Millisecond
	w := startWatch(t, s, "www.app.test", "--server", s.dns, "--server", resolver, "--interval", "200ms", "--duration", "7s",
		"--expect", "192.0.2.2", "--json", "--out", out)
	// Switch just after unbound fetched the record afresh (it answers TTL 2), so that its cache
	// certainly holds the old answer for more than a poll.
	start := time.Now()
	for time.Since(start) < 4*time.Second {
		fresh := false
		for _, o := range readObs(t, out) {
			if o.Target == resolver && o.TTL != nil && *o.TTL == 2 && o.Time.After(start.Add(500*time.Millisecond)) && time.Since(o.Time) < 300*time.Millisecond {
				fresh = true
			}
		}
		if fresh {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	before := time.Now()
	setA(t, s, "www.app.test", "192.0.2.2", 2)
	acked := time.Now()
	if code := w.wait(t); code != 0 {
		t.Fatalf("watch exit %d, want 0 (both servers reached --expect)\nstdout:\n%s\nstderr:\n%s", code, w.out.String(), w.err.String())
	}
	v := w.summary(t)
	changeAt := map[string]time.Time{}
	for _, tr := range v.Targets {
		if len(tr.Changes) != 1 || strings.Join(tr.Changes[0].After, " ") != "192.0.2.2" || tr.Errors != 0 {
			t.Fatalf("%s: changes %+v, errors %d; want one change to 192.0.2.2", tr.Target, tr.Changes, tr.Errors)
		}
		changeAt[tr.Target] = tr.Changes[0].Time
	}
	direct, cached := changeAt[s.dns], changeAt[resolver]
	if direct.Before(before) || direct.After(acked.Add(2*interval)) {
		t.Errorf("failoverdns answered the new value at %v; the change was applied between %v and %v", direct, before, acked)
	}
	// unbound kept answering the old value for at least one poll after failoverdns switched ...
	oldAfter := 0
	for _, o := range readObs(t, out) {
		if o.Target == resolver && o.Time.After(direct) && strings.Join(o.Answers, " ") == "192.0.2.1" {
			oldAfter++
		}
	}
	if oldAfter == 0 || !cached.After(direct) {
		t.Errorf("unbound switched at %v, failoverdns at %v, with %d old answers after: want the cache to hold the old value", cached, direct, oldAfter)
	}
	// ... and switched within the TTL plus two polls. unbound's cache clock counts whole seconds
	// and keeps a record while its expiry second has not passed, so a record fetched at x.0 s with
	// TTL 2 is answered (with TTL 0 at the end) until (x+2).999 s: up to TTL + 1 s.
	if lag := cached.Sub(direct); lag > 2*time.Second+time.Second+2*interval {
		t.Errorf("unbound answered the new value %v after failoverdns; want within TTL 2 s (+1 s of unbound's whole-second clock) + 2 polls", lag)
	}
	if v.Overall.Mixed == nil || !v.Overall.AllReached {
		t.Errorf("overall %+v: want a mixed window and every server reached", v.Overall)
	}
	t.Logf("failoverdns switched %v after the change was acknowledged, unbound %v after failoverdns (%d old answers)",
		direct.Sub(acked).Round(time.Millisecond), cached.Sub(direct).Round(time.Millisecond), oldAfter)
}

// TestSwitchPrintsTimePerServer: switch applies the change and prints how long each server took.
func TestSwitchPrintsTimePerServer(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	setA(t, s, "www.app.test", "192.0.2.1", 1)
	resolver := startUnbound(t, s.dns)
	dig(t, resolver, "www.app.test", "A") // cache the old answer
	begin := time.Now()
	out := s.mustCLI(t, "switch", "app.test", "www", "--to", "192.0.2.2,192.0.2.3", "--watch-server", s.dns, "--watch-server", resolver,
		"--interval", "100ms", "--duration", "10s")
	took := time.Since(begin)
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = l
		}
	}
	for _, srv := range []string{s.dns, resolver} {
		l := lines[srv]
		if !strings.Contains(l, "answers 192.0.2.2 192.0.2.3 after ") {
			t.Errorf("no time for %s:\n%s", srv, out)
			continue
		}
		d, err := time.ParseDuration(strings.TrimSpace(l[strings.LastIndex(l, "after ")+6:]))
		if err != nil || d < 0 || d > 3*time.Second {
			t.Errorf("%s: %q: want a duration of at most the TTL plus a few polls", srv, l)
		}
	}
	if !strings.Contains(out, "TTL 1") || !strings.Contains(out, "INSYNC") {
		t.Errorf("switch output lacks the TTL kept from the record set or the change status:\n%s", out)
	}
	if took > 8*time.Second {
		t.Errorf("switch took %v: it should stop once every server answers the new values", took)
	}
	if got := aValues(dig(t, s.dns, "www.app.test", "A")); got != "192.0.2.2 192.0.2.3" && got != "192.0.2.3 192.0.2.2" {
		t.Errorf("after switch, www answers %q", got)
	}
}

// TestWatchBadInput: what a user gets wrong gets a clear message and a non-zero exit, and what
// was measured is still written out.
func TestWatchBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	setA(t, s, "www.app.test", "192.0.2.1", 60)
	// A URL that hangs: a listener that accepts and never answers.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stderr   string
		jsonOut  bool   // stdout must be the JSON summary
		outLines string // a --out file that must hold observations
	}{
		{"duration without a unit", []string{"watch", "www.app.test", "--server", s.dns, "--duration", "5"}, 2, `--duration "5" is not a duration`, false, ""},
		{"interval not a duration", []string{"watch", "www.app.test", "--server", s.dns, "--interval", "fast"}, 2, `--interval "fast" is not a duration`, false, ""},
		{"expect not an address", []string{"watch", "www.app.test", "--server", s.dns, "--expect", "192.0.2"}, 2, `--expect "192.0.2" is not a value of a A record`, false, ""},
		{"name does not exist", []string{"watch", "nosuch.app.test", "--server", s.dns, "--interval", "100ms", "--duration", "500ms", "--json"}, 1, "nosuch.app.test. does not exist: every server answered NXDOMAIN", true, ""},
		{"server does not resolve", []string{"watch", "www.app.test", "--server", "no-such-server.invalid:53"}, 1, `server "no-such-server.invalid:53" does not resolve`, false, ""},
		{"URL hangs", []string{"watch", "www.app.test", "--server", s.dns, "--http", "http://" + hang.Addr().String() + "/", "--interval", "200ms", "--duration", "1s", "--json",
			"--out", filepath.Join(dir, "hang.jsonl")}, 1, "every poll timed out", true, filepath.Join(dir, "hang.jsonl")},
		{"report cannot be written", []string{"watch", "www.app.test", "--server", s.dns, "--interval", "100ms", "--duration", "500ms", "--json",
			"--out", filepath.Join(dir, "r.jsonl"), "--report", filepath.Join(dir, "no", "such", "dir", "r.html")}, 1, "--report " + filepath.Join(dir, "no", "such", "dir", "r.html") + " cannot be written", true, filepath.Join(dir, "r.jsonl")},
		{"expected answer not reached", []string{"watch", "www.app.test", "--server", s.dns, "--interval", "100ms", "--duration", "300ms", "--expect", "192.0.2.9"}, 1, "does not answer the expected 192.0.2.9", false, ""},
		{"switch without --to", []string{"switch", "app.test", "www", "--watch-server", s.dns}, 2, "--to is required", false, ""},
		{"switch of a missing zone", []string{"switch", "nosuch.test", "www", "--to", "192.0.2.2", "--watch-server", s.dns}, 1, "NoSuchHostedZone", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := s.cli(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) || !strings.HasPrefix(stderr, "failoverdns: ") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, tc.code, tc.stderr)
			}
			if tc.jsonOut {
				var v watchSummary
				if err := json.Unmarshal([]byte(stdout), &v); err != nil || len(v.Targets) == 0 || v.Targets[0].Polls == 0 {
					t.Errorf("the summary was not printed: %v\n%s", err, stdout)
				}
			}
			if tc.outLines != "" {
				obs := readObs(t, tc.outLines)
				if len(obs) < 2 {
					t.Errorf("--out holds %d observations", len(obs))
				}
				if tc.name == "URL hangs" {
					timeouts := 0
					for _, o := range obs {
						if o.Timeout {
							timeouts++
						}
					}
					if timeouts == 0 {
						t.Errorf("--out records no timeout of the hanging URL: %+v", obs)
					}
				}
			}
		})
	}
}

// TestWatchInterrupted: Ctrl-C (SIGINT) ends a watch without --duration with the summary, and the
// observations are on disk.
func TestWatchInterrupted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	setA(t, s, "www.app.test", "192.0.2.1", 60)
	out := filepath.Join(t.TempDir(), "obs.jsonl")
	w := startWatch(t, s, "www.app.test", "--server", s.dns, "--interval", "100ms", "--out", out)
	deadline := time.Now().Add(10 * time.Second)
	for len(readObs(t, out)) < 3 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	if code := w.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGINT, want 0\nstderr:\n%s", code, w.err.String())
	}
	for _, want := range []string{"interrupted", "summary of www.app.test. A", s.dns + " (dns): ", "answer 192.0.2.1", "no server changed its answer"} {
		if !strings.Contains(w.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, w.out.String())
		}
	}
	if n := len(readObs(t, out)); n < 3 {
		t.Errorf("--out holds %d observations", n)
	}
}
