// Package e2e tests the built failoverdns binary as users meet it: started as a real process on
// loopback ports, driven through its CLI, and queried with real dig beside real NSD and Knot.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// binPath is the failoverdns executable built once by TestMain.
var binPath string

// readyTimeout bounds how long a started server may take to log its ready line.
const readyTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if b := os.Getenv("FAILOVERDNS_E2E_BINARY"); b != "" {
		// A binary built elsewhere (say, a release build) is tested as it is.
		binPath = b
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "failoverdns-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "failoverdns")
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		// A race in the server is a failure of the scenario that provoked it (see checkLog).
		args = append(args, "-race")
	}
	args = append(args, "./cmd/failoverdns")
	cmd := exec.Command("go", args...)
	cmd.Dir = ".." // the module root
	out, err := cmd.CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: cannot build the binary under test: go %s: %v\n%s\n",
			strings.Join(args, " "), err, out)
		return 1
	}
	return m.Run()
}

// binEnv is the environment of the processes of the binary under test. A -race build sleeps 1 s
// at exit by default (GORACE atexit_sleep_ms); the CLI runs hundreds of times, so not here.
func binEnv() []string {
	return append(os.Environ(), "GORACE=atexit_sleep_ms=0 "+os.Getenv("GORACE"))
}

// needTool returns the path of an external program a test drives. When it is missing the test
// fails if CI is set (CI must run every test) and is skipped otherwise.
func needTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/sbin", "/bin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; CI must run this test (scripts/test.sh installs it)", name)
	}
	t.Skipf("%s is not installed (scripts/test.sh installs it)", name)
	return ""
}

// logBuffer collects a process's output from its reader goroutine for later reading.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is one running `failoverdns serve` process.
type server struct {
	dataDir string
	dns     string // host:port, UDP and TCP
	api     string // http://host:port
	log     *logBuffer

	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has been waited for
	err  error         // cmd.Wait's result, set before done is closed
}

var (
	readyLine = regexp.MustCompile(`msg="?failoverdns serving"?`)
	dnsAttr   = regexp.MustCompile(`\bdns="?([^"\s]+)"?`)
	apiAttr   = regexp.MustCompile(`\bapi="?([^"\s]+)"?`)
)

// startServer runs `failoverdns serve` on loopback ephemeral ports with a fresh data dir and waits
// until it logs that it is serving. The server is stopped with SIGTERM when the test ends (it must
// exit 0), and its log is printed if the test failed.
func startServer(t testing.TB) *server {
	t.Helper()
	s := &server{dataDir: filepath.Join(t.TempDir(), "data"), log: &logBuffer{}}
	t.Cleanup(func() {
		s.stop(t)
		s.checkLog(t)
		if t.Failed() {
			t.Logf("failoverdns log (data dir %s):\n%s", s.dataDir, s.log)
		}
	})
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	return s
}

// serveArgs are the arguments of a serve command on loopback ephemeral ports.
func serveArgs(dataDir string) []string {
	return []string{"serve", "--data-dir", dataDir, "--dns-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"}
}

func (s *server) start() error {
	cmd := exec.Command(binPath, serveArgs(s.dataDir)...)
	cmd.Env = binEnv()
	cmd.Stdout = s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %v", binPath, err)
	}
	fmt.Fprintf(s.log, "----- started pid %d: %s\n", cmd.Process.Pid, strings.Join(cmd.Args, " "))
	s.cmd, s.done, s.err = cmd, make(chan struct{}), nil
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.log, line)
			if readyLine.MatchString(line) {
				select {
				case ready <- line:
				default:
				}
			}
		}
		io.Copy(s.log, stderr)
		s.err = cmd.Wait()
		close(s.done)
	}()
	select {
	case line := <-ready:
		d, a := dnsAttr.FindStringSubmatch(line), apiAttr.FindStringSubmatch(line)
		if d == nil || a == nil {
			return fmt.Errorf("ready line lacks dns= or api=: %s", line)
		}
		s.dns, s.api = d[1], a[1]
		if !strings.HasPrefix(s.dns, "127.0.0.1:") || !strings.HasPrefix(s.api, "http://127.0.0.1:") {
			return fmt.Errorf("ready line does not name loopback addresses: %s", line)
		}
		return nil
	case <-s.done:
		return fmt.Errorf("failoverdns serve exited before it was ready (%v); log:\n%s", s.err, s.log)
	case <-time.After(readyTimeout):
		return fmt.Errorf("failoverdns serve logged no %q line within %v; log:\n%s",
			`msg="failoverdns serving"`, readyTimeout, s.log)
	}
}

// stop sends SIGTERM and waits; the server must exit 0 within 15 s.
func (s *server) stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	defer func() { s.cmd = nil }()
	select {
	case <-s.done:
		t.Errorf("failoverdns (pid %d) had exited on its own before it was stopped: %v", s.cmd.Process.Pid, s.err)
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("failoverdns (pid %d) did not exit cleanly after SIGTERM: %v", s.cmd.Process.Pid, s.err)
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		t.Errorf("failoverdns (pid %d) did not exit within 15 s of SIGTERM; killed", s.cmd.Process.Pid)
	}
}

// checkLog fails the test on a data race report from a -race build of the server.
func (s *server) checkLog(t testing.TB) {
	t.Helper()
	if strings.Contains(s.log.String(), "WARNING: DATA RACE") {
		t.Errorf("the race detector reported a data race in failoverdns (see its log)")
	}
}

// crash kills the server with SIGKILL, as a power cut or the OOM killer would, and starts it again
// on the same data dir.
func (s *server) crash(t testing.TB) {
	t.Helper()
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
	if err := s.start(); err != nil {
		t.Fatalf("start after SIGKILL: %v", err)
	}
}

// restart stops the server with SIGTERM and starts it again on the same data dir (on new ports).
func (s *server) restart(t testing.TB) {
	t.Helper()
	s.stop(t)
	if err := s.start(); err != nil {
		t.Fatalf("restart: %v", err)
	}
}

// cli runs a failoverdns CLI verb against this server's API (through FAILOVERDNS_API).
func (s *server) cli(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return s.cliStdin(t, "", args...)
}

// cliStdin is cli with the given standard input.
func (s *server) cliStdin(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(binEnv(), "FAILOVERDNS_API="+s.api)
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		code = exit.ExitCode()
	case ctx.Err() != nil:
		t.Fatalf("failoverdns %s: no exit within 60 s; stderr:\n%s", strings.Join(args, " "), e.String())
	default:
		t.Fatalf("failoverdns %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// mustCLI runs a CLI verb that must succeed and returns its standard output.
func (s *server) mustCLI(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := s.cli(t, args...)
	if code != 0 {
		t.Fatalf("failoverdns %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// digResult is a parsed dig reply.
type digResult struct {
	status     string          // NOERROR, NXDOMAIN, REFUSED ...
	flags      map[string]bool // qr, aa, tc, rd, ra ...
	answer     []dns.RR
	authority  []dns.RR
	additional []dns.RR // without the OPT pseudo-record
	raw        string
}

var (
	digHeader = regexp.MustCompile(`;; ->>HEADER<<- opcode: \w+, status: (\w+), id: \d+`)
	digFlags  = regexp.MustCompile(`;; flags:([^;]*);`)
)

// dig runs the real dig against addr (host:port) with +tries=1 +time=2 and the given arguments,
// and parses its reply. The test fails if dig gets no reply.
func dig(t testing.TB, addr string, args ...string) digResult {
	t.Helper()
	path := needTool(t, "dig")
	host, port, ok := strings.Cut(addr, ":")
	if !ok {
		t.Fatalf("dig: bad address %q", addr)
	}
	full := append([]string{"@" + host, "-p", port, "+tries=1", "+time=2"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, full...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %s: %v\n%s", strings.Join(full, " "), err, out)
	}
	r := digResult{flags: map[string]bool{}, raw: string(out)}
	m := digHeader.FindStringSubmatch(r.raw)
	if m == nil {
		t.Fatalf("dig %s: no reply header in output:\n%s", strings.Join(full, " "), out)
	}
	r.status = m[1]
	if f := digFlags.FindStringSubmatch(r.raw); f != nil {
		for _, fl := range strings.Fields(f[1]) {
			r.flags[fl] = true
		}
	}
	var section *[]dns.RR
	for _, line := range strings.Split(r.raw, "\n") {
		switch {
		case strings.HasPrefix(line, ";; ANSWER SECTION:"):
			section = &r.answer
		case strings.HasPrefix(line, ";; AUTHORITY SECTION:"):
			section = &r.authority
		case strings.HasPrefix(line, ";; ADDITIONAL SECTION:"):
			section = &r.additional
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, ";"):
			if strings.TrimSpace(line) == "" {
				section = nil
			}
		case section != nil:
			rr, err := dns.NewRR(line)
			if err != nil {
				t.Fatalf("dig output line %q: %v\n%s", line, err, out)
			}
			if rr != nil {
				*section = append(*section, rr)
			}
		}
	}
	return r
}

// canonical returns an RR in RFC 4034 canonical text: owner and embedded domain names lower-cased.
func canonical(rr dns.RR) string {
	rr = dns.Copy(rr)
	h := rr.Header()
	h.Name = strings.ToLower(h.Name)
	l := strings.ToLower
	switch v := rr.(type) {
	case *dns.NS:
		v.Ns = l(v.Ns)
	case *dns.CNAME:
		v.Target = l(v.Target)
	case *dns.DNAME:
		v.Target = l(v.Target)
	case *dns.PTR:
		v.Ptr = l(v.Ptr)
	case *dns.MX:
		v.Mx = l(v.Mx)
	case *dns.SRV:
		v.Target = l(v.Target)
	case *dns.SOA:
		v.Ns, v.Mbox = l(v.Ns), l(v.Mbox)
	case *dns.NAPTR:
		v.Replacement = l(v.Replacement)
	case *dns.SVCB:
		v.Target = l(v.Target)
	case *dns.HTTPS:
		v.Target = l(v.Target)
	}
	return rr.String()
}

// canonicalSet returns the RRs' canonical texts, sorted, without OPT records.
func canonicalSet(rrs []dns.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, canonical(rr))
	}
	sort.Strings(out)
	return out
}

// mustRRs parses zone-file lines into RRs.
func mustRRs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	var rrs []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("bad expected RR %q: %v", l, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

// checkRRs reports a difference between a section and the expected zone-file lines, as sets.
func checkRRs(t testing.TB, what string, got []dns.RR, want ...string) {
	t.Helper()
	g, w := canonicalSet(got), canonicalSet(mustRRs(t, want...))
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

// atoi is strconv.Atoi for test inputs known to be numbers.
func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
