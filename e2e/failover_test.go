package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// backend is a real HTTP server on a loopback address that can be stopped and started again on
// the same address, as the primary of a warm standby is.
type backend struct {
	t    *testing.T
	addr string
	srv  *http.Server
}

func startBackend(t *testing.T, ip string) *backend {
	t.Helper()
	b := &backend{t: t, addr: ip + ":0"}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *backend) start() {
	b.t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatalf("backend listen %s: %v", b.addr, err)
	}
	// The handler keeps its own copy of the address: a handler of the previous server may still
	// be running when start runs again and rewrites b.addr.
	addr := ln.Addr().String()
	b.addr = addr
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok from", addr)
	})}
	go b.srv.Serve(ln)
}

func (b *backend) stop() {
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

func (b *backend) hostPort() (string, string) {
	h, p, _ := net.SplitHostPort(b.addr)
	return h, p
}

// createCheck creates an HTTP health check on the backend and returns its id.
func (s *server) createCheck(t *testing.T, ref string, b *backend, extra string) string {
	t.Helper()
	host, port := b.hostPort()
	cfg := fmt.Sprintf(`{"Type": "HTTP", "IPAddress": %q, "Port": %s, "ResourcePath": "/health", "RequestInterval": 0.2, "FailureThreshold": 2%s}`, host, port, extra)
	out := s.mustCLI(t, "check", "create", "--caller-reference", ref, "--config", cfg)
	var v struct{ HealthCheck struct{ Id string } }
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.HealthCheck.Id == "" {
		t.Fatalf("check create printed no check id: %v\n%s", err, out)
	}
	return v.HealthCheck.Id
}

// waitAnswer digs name until the answer is want (the sorted A values, space-separated), or fails
// after a generous deadline: the point is the switch, not its speed (benchmarks measure that).
func waitAnswer(t *testing.T, s *server, name, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got = aValues(dig(t, s.dns, name, "A"))
		if got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dig %s A: answer %q, want %q", name, got, want)
}

func aValues(r digResult) string {
	var vals []string
	for _, rr := range r.answer {
		f := strings.Fields(rr.String())
		vals = append(vals, f[len(f)-1])
	}
	return strings.Join(vals, " ")
}

// failoverPair creates www.app.test A: PRIMARY 127.0.0.2 guarded by checkID, SECONDARY 127.0.0.3
// without a check, both with TTL 0.
func (s *server) failoverPair(t *testing.T, checkID string) {
	t.Helper()
	batch := fmt.Sprintf(`{"Changes": [
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.app.test", "Type": "A", "TTL": 0, "SetIdentifier": "primary",
	   "Failover": "PRIMARY", "HealthCheckId": %q, "ResourceRecords": [{"Value": "127.0.0.2"}]}},
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.app.test", "Type": "A", "TTL": 0, "SetIdentifier": "standby",
	   "Failover": "SECONDARY", "ResourceRecords": [{"Value": "127.0.0.3"}]}}]}`, checkID)
	s.mustCLI(t, "change", "app.test", "--change-batch", writeFile(t, "failover.json", batch))
}

// waitCheck polls `check status` until the check is in state (HEALTHY or UNHEALTHY).
func waitCheck(t *testing.T, s *server, id, state string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var out string
	for time.Now().Before(deadline) {
		out = s.mustCLI(t, "check", "status", id)
		if strings.Contains(out, ": "+state+" since") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("check %s did not become %s:\n%s", id, state, out)
}

// TestWarmStandbyFailoverAndFailback is the seed's first scenario: a health check on the primary
// fails, DNS answers the standby's address, and the primary again when it recovers.
func TestWarmStandbyFailoverAndFailback(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	primary := startBackend(t, "127.0.0.2")
	checkID := s.createCheck(t, "primary", primary, `, "RecoveryThreshold": 2`)
	s.failoverPair(t, checkID)

	r := dig(t, s.dns, "www.app.test", "A")
	wantStatus(t, r, "NOERROR", true)
	if got := aValues(r); got != "127.0.0.2" {
		t.Fatalf("with the primary up, www answers %q, want 127.0.0.2", got)
	}
	if ttl := r.answer[0].Header().Ttl; ttl != 0 {
		t.Errorf("TTL %d, want the record's 0", ttl)
	}

	primary.stop()
	waitAnswer(t, s, "www.app.test", "127.0.0.3")
	status := s.mustCLI(t, "check", "status", checkID)
	if !strings.Contains(status, "UNHEALTHY") || !strings.Contains(status, "Failure:") {
		t.Errorf("check status after the primary stopped:\n%s", status)
	}

	primary.start() // same address
	waitAnswer(t, s, "www.app.test", "127.0.0.2")

	events := s.mustCLI(t, "events")
	for _, want := range []string{
		checkID + "  healthy -> unhealthy", checkID + "  unhealthy -> healthy",
		"www.app.test. A  primary", "-> standby",
	} {
		if !strings.Contains(events, want) {
			t.Errorf("events lack %q:\n%s", want, events)
		}
	}
}

// TestForcedStateOverridesProbes: an operator forces the primary's check unhealthy for
// maintenance (DNS answers the standby while the primary is still up), then clears it.
func TestForcedStateOverridesProbes(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	primary := startBackend(t, "127.0.0.2")
	checkID := s.createCheck(t, "primary", primary, "")
	s.failoverPair(t, checkID)

	s.mustCLI(t, "check", "force", checkID, "unhealthy", "--reason", "maintenance CHG-42")
	if got := aValues(dig(t, s.dns, "www.app.test", "A")); got != "127.0.0.3" {
		t.Fatalf("forced unhealthy: www answers %q, want the standby 127.0.0.3 at once", got)
	}
	status := s.mustCLI(t, "check", "status", checkID)
	if !strings.Contains(status, "forced unhealthy") || !strings.Contains(status, "maintenance CHG-42") {
		t.Errorf("status does not show the forced state and its reason:\n%s", status)
	}
	// The forced state is stored: it survives a restart.
	s.restart(t)
	if got := aValues(dig(t, s.dns, "www.app.test", "A")); got != "127.0.0.3" {
		t.Fatalf("after a restart, the forced state is lost: www answers %q", got)
	}
	s.mustCLI(t, "check", "force", checkID, "--clear")
	if got := aValues(dig(t, s.dns, "www.app.test", "A")); got != "127.0.0.2" {
		t.Fatalf("cleared: www answers %q, want the primary 127.0.0.2 at once", got)
	}
}

// TestHealthCheckMistakes: what a user gets wrong is refused with a message naming it.
func TestHealthCheckMistakes(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"interval below 0.1 s", []string{"check", "create", "--caller-reference", "x", "--config", `{"Type": "HTTP", "IPAddress": "127.0.0.2", "RequestInterval": 0.05}`}, "RequestInterval"},
		{"unknown type", []string{"check", "create", "--caller-reference", "y", "--config", `{"Type": "PING", "IPAddress": "127.0.0.2"}`}, "PING"},
		{"not JSON", []string{"check", "create", "--caller-reference", "z", "--config", `{"Type": `}, "not valid JSON"},
		{"missing check", []string{"check", "get", "00000000-0000-4000-8000-000000000000"}, "NoSuchHealthCheck"},
		{"record naming a missing check", []string{"change", "app.test", "--change-batch", writeFile(t, "b.json", `{"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.app.test", "Type": "A", "TTL": 0, "SetIdentifier": "p", "Failover": "PRIMARY", "HealthCheckId": "00000000-0000-4000-8000-000000000000", "ResourceRecords": [{"Value": "127.0.0.2"}]}}]}`)}, "00000000-0000-4000-8000-000000000000"},
		{"primary without a check", []string{"change", "app.test", "--change-batch", writeFile(t, "c.json", `{"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.app.test", "Type": "A", "TTL": 0, "SetIdentifier": "p", "Failover": "PRIMARY", "ResourceRecords": [{"Value": "127.0.0.2"}]}}]}`)}, "must have an associated health check"},
		{"force with a bad state", []string{"check", "force", "00000000-0000-4000-8000-000000000000", "sideways"}, "healthy or unhealthy"},
		{"force until in the past", []string{"check", "force", "00000000-0000-4000-8000-000000000000", "unhealthy", "--until", "yesterday"}, "--until"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := s.cli(t, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) || !strings.HasPrefix(errOut, "failoverdns: error:") {
				t.Fatalf("exit %d, stderr %q; want a failure naming %q", code, errOut, tc.want)
			}
		})
	}
}

// TestCheckCommands walks a check through the CLI: list, get, update with the version guard,
// delete refused while a record uses it, and `events --follow --json` printing a transition as it
// happens.
func TestCheckCommands(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "app.test")
	b := startBackend(t, "127.0.0.2")
	id := s.createCheck(t, "cmds", b, "")
	if out := s.mustCLI(t, "check", "list"); !strings.Contains(out, id) || !strings.Contains(out, "HTTP") || !strings.Contains(out, "cmds") {
		t.Fatalf("check list:\n%s", out)
	}
	var got struct {
		HealthCheck struct{ HealthCheckVersion int64 }
	}
	if err := json.Unmarshal([]byte(s.mustCLI(t, "check", "get", id)), &got); err != nil || got.HealthCheck.HealthCheckVersion != 1 {
		t.Fatalf("check get: %+v %v", got, err)
	}
	s.mustCLI(t, "check", "update", id, "--version", "1", "--config", `{"FailureThreshold": 1}`)
	if _, errOut, code := s.cli(t, "check", "update", id, "--version", "1", "--config", `{"FailureThreshold": 2}`); code == 0 || !strings.Contains(errOut, "HealthCheckVersionMismatch") {
		t.Fatalf("stale update: exit %d, %s", code, errOut)
	}
	s.mustCLI(t, "change", "app.test", "--change-batch", writeFile(t, "w.json", fmt.Sprintf(`{"Changes": [{"Action": "CREATE", "ResourceRecordSet": {"Name": "www.app.test", "Type": "A", "TTL": 0, "SetIdentifier": "p", "Failover": "PRIMARY", "HealthCheckId": %q, "ResourceRecords": [{"Value": "127.0.0.2"}]}}]}`, id)))
	if _, errOut, code := s.cli(t, "check", "delete", id); code == 0 || !strings.Contains(errOut, "HealthCheckInUse") || !strings.Contains(errOut, "www.app.test.") {
		t.Fatalf("delete in use: exit %d, %s", code, errOut)
	}

	// Follow the events, then cause one.
	follow := exec.Command(binPath, "events", "--follow", "--json", "--after", "0")
	follow.Env = append(binEnv(), "FAILOVERDNS_API="+s.api)
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { follow.Process.Kill(); follow.Wait() }()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	s.mustCLI(t, "check", "force", id, "unhealthy", "--reason", "drill")
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("events --follow ended")
			}
			var ev struct{ Kind, Subject, Before, After, Cause string }
			if err := json.Unmarshal([]byte(line), &ev); err != nil {
				t.Fatalf("events --json printed %q: %v", line, err)
			}
			if ev.Kind == "health" && ev.Subject == id && ev.After == "unhealthy" && ev.Cause == "forced" {
				return
			}
		case <-deadline:
			t.Fatal("events --follow printed no forced transition")
		}
	}
}

// tcpBackend is a TCP listener on a loopback address that can be closed and reopened.
type tcpBackend struct {
	addr string
	ln   net.Listener
}

func startTCP(t *testing.T, ip string) *tcpBackend {
	t.Helper()
	b := &tcpBackend{addr: ip + ":0"}
	b.open(t)
	t.Cleanup(func() { b.close() })
	return b
}

func (b *tcpBackend) open(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	b.ln, b.addr = ln, ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func (b *tcpBackend) close() {
	if b.ln != nil {
		b.ln.Close()
		b.ln = nil
	}
}

// servedA returns the number of A queries the server has answered, from its metrics.
func servedA(t *testing.T, s *server) float64 {
	t.Helper()
	n, _ := sample(scrapeMetrics(t, s), "failoverdns_dns_queries_total", "qtype", "A")
	return n
}

// TestCalculatedCheckAndWeightedPool: a CDN pair where the primary side is healthy while at least
// one of its two edge nodes accepts TCP (a CALCULATED check over two TCP checks), and a weighted
// pool whose unhealthy member leaves the answer while the other stays.
func TestCalculatedCheckAndWeightedPool(t *testing.T) {
	s := startServer(t)
	s.mustCLI(t, "zone", "create", "cdn.test")
	edge1, edge2 := startTCP(t, "127.0.0.4"), startTCP(t, "127.0.0.5")
	tcpCheck := func(ref string, b *tcpBackend) string {
		host, port, _ := net.SplitHostPort(b.addr)
		out := s.mustCLI(t, "check", "create", "--caller-reference", ref, "--config",
			fmt.Sprintf(`{"Type": "TCP", "IPAddress": %q, "Port": %s, "RequestInterval": 0.2, "FailureThreshold": 1}`, host, port))
		var v struct{ HealthCheck struct{ Id string } }
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		return v.HealthCheck.Id
	}
	c1, c2 := tcpCheck("edge1", edge1), tcpCheck("edge2", edge2)
	out := s.mustCLI(t, "check", "create", "--caller-reference", "cdn-a", "--config",
		fmt.Sprintf(`{"Type": "CALCULATED", "HealthThreshold": 1, "ChildHealthChecks": [%q, %q]}`, c1, c2))
	var calc struct{ HealthCheck struct{ Id string } }
	if err := json.Unmarshal([]byte(out), &calc); err != nil {
		t.Fatal(err)
	}
	batch := fmt.Sprintf(`{"Changes": [
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.cdn.test", "Type": "A", "TTL": 0, "SetIdentifier": "cdn-a", "Failover": "PRIMARY", "HealthCheckId": %q, "ResourceRecords": [{"Value": "127.0.0.4"}]}},
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "www.cdn.test", "Type": "A", "TTL": 0, "SetIdentifier": "cdn-b", "Failover": "SECONDARY", "ResourceRecords": [{"Value": "127.0.0.9"}]}},
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "pool.cdn.test", "Type": "A", "TTL": 0, "SetIdentifier": "e1", "Weight": 50, "HealthCheckId": %q, "ResourceRecords": [{"Value": "127.0.0.4"}]}},
	  {"Action": "CREATE", "ResourceRecordSet": {"Name": "pool.cdn.test", "Type": "A", "TTL": 0, "SetIdentifier": "e2", "Weight": 50, "HealthCheckId": %q, "ResourceRecords": [{"Value": "127.0.0.5"}]}}]}`,
		calc.HealthCheck.Id, c1, c2)
	s.mustCLI(t, "change", "cdn.test", "--change-batch", writeFile(t, "cdn.json", batch))

	waitAnswer(t, s, "www.cdn.test", "127.0.0.4")
	seen := map[string]bool{}
	before := servedA(t, s)
	for i := 0; i < 40; i++ {
		r := dig(t, s.dns, "pool.cdn.test", "A")
		if aValues(r) == "" {
			// Say whether this server sent that reply: a process of the same user that binds
			// the port with SO_REUSEPORT takes a share of the server's UDP queries.
			t.Errorf("query %d of a healthy pool got no address; the server answered %v of the %d A queries sent since the pool was served:\n%s",
				i, servedA(t, s)-before, i+1, r.raw)
		}
		seen[aValues(r)] = true
	}
	if !seen["127.0.0.4"] || !seen["127.0.0.5"] || len(seen) != 2 {
		t.Fatalf("a healthy 50/50 pool answered %v over 40 queries, want both members, one at a time", seen)
	}

	edge1.close() // one edge down: the CDN side stays (1 of 2 healthy), the pool drops edge 1
	waitCheck(t, s, c1, "UNHEALTHY")
	for i := 0; i < 20; i++ {
		if got := aValues(dig(t, s.dns, "pool.cdn.test", "A")); got != "127.0.0.5" {
			t.Fatalf("with edge 1 down the pool answered %q", got)
		}
	}
	if got := aValues(dig(t, s.dns, "www.cdn.test", "A")); got != "127.0.0.4" {
		t.Fatalf("with one edge of two up, the CDN pair answered %q, want the primary", got)
	}

	edge2.close() // both down: the calculated check fails, the secondary CDN takes over
	waitAnswer(t, s, "www.cdn.test", "127.0.0.9")
	// The pool fails open: with every member unhealthy, both are answered again.
	seen = map[string]bool{}
	for i := 0; i < 40; i++ {
		seen[aValues(dig(t, s.dns, "pool.cdn.test", "A"))] = true
	}
	if !seen["127.0.0.4"] || !seen["127.0.0.5"] {
		t.Fatalf("an all-unhealthy pool answered %v, want fail-open to both members", seen)
	}

	edge2.open(t) // failback
	waitAnswer(t, s, "www.cdn.test", "127.0.0.4")
}
