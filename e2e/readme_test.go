package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlocks returns the ```sh blocks of the README section with the given heading.
func readmeBlocks(t *testing.T, heading string) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README has no %q section", heading)
	}
	if i := strings.Index(section, "\n## "); i >= 0 {
		section = section[:i]
	}
	var blocks []string
	for _, part := range strings.Split(section, "```sh\n")[1:] {
		block, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, block)
	}
	return blocks
}

// TestReadmeQuickStart runs the README's quick start as a newcomer would: the build-and-serve
// command, the dig that shows the demo zone answering, and the change that moves www. Only the
// ports differ: the server listens on ephemeral ports (set through the documented FAILOVERDNS_*
// variables, which the README's command line leaves free), and "-p 5300" becomes that port.
func TestReadmeQuickStart(t *testing.T) {
	needTool(t, "dig")
	blocks := readmeBlocks(t, "Quick start")
	if len(blocks) != 4 {
		t.Fatalf("the quick start has %d sh blocks, want 4 (serve, dig, change, test)", len(blocks))
	}
	serve := strings.TrimSpace(blocks[0])
	build, run, ok := strings.Cut(serve, " && ")
	if !ok || !strings.HasPrefix(build, "go build ") || !strings.HasPrefix(run, "./failoverdns serve") {
		t.Fatalf("the first block should be `go build ... && ./failoverdns serve ...`, is %q", serve)
	}
	if strings.TrimSpace(blocks[3]) != "./scripts/test.sh" {
		t.Fatalf("the last block should be the test command ./scripts/test.sh, is %q", blocks[3])
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil || !strings.Contains(string(ci), "./scripts/test.sh") {
		t.Fatalf(".ci/run does not run the README's test command: %v\n%s", err, ci)
	}

	// The build, exactly as written, from the repository root.
	root, _ := filepath.Abs("..")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	buildCmd := exec.CommandContext(ctx, "bash", "-c", build)
	buildCmd.Dir = root
	if out, err := buildCmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	bin := filepath.Join(root, "failoverdns")

	// The serve command, exactly as written, from a fresh directory (its ./failoverdns-data).
	work := t.TempDir()
	runCmd := strings.Replace(run, "./failoverdns", bin, 1)
	cmd := exec.Command("bash", "-c", "exec "+runCmd)
	cmd.Dir = work
	cmd.Env = append(binEnv(), "FAILOVERDNS_DNS_LISTEN=127.0.0.1:0", "FAILOVERDNS_API_LISTEN=127.0.0.1:0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &logBuffer{}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s did not exit cleanly on SIGTERM: %v", run, err)
		}
		if t.Failed() {
			t.Logf("server log:\n%s", log)
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write([]byte(sc.Text() + "\n"))
			if strings.Contains(sc.Text(), "created the demo zone") {
				ready <- log.String()
			}
		}
	}()
	var dnsAddr, api string
	select {
	case l := <-ready:
		dnsAddr, api = dnsAttr.FindStringSubmatch(l)[1], apiAttr.FindStringSubmatch(l)[1]
	case <-time.After(readyTimeout):
		t.Fatalf("%s did not create the demo zone within %v; log:\n%s", run, readyTimeout, log)
	}
	port := dnsAddr[strings.LastIndex(dnsAddr, ":")+1:]

	shell := func(block string) string {
		t.Helper()
		block = regexp.MustCompile(`-p 5300\b`).ReplaceAllString(block, "-p "+port)
		block = strings.ReplaceAll(block, "./failoverdns ", bin+" ")
		c := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", block)
		c.Dir = work
		c.Env = append(binEnv(), "FAILOVERDNS_API="+api)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("README block failed: %v\n%s\noutput:\n%s", err, block, out)
		}
		return string(out)
	}
	out := shell(blocks[1])
	if !strings.Contains(out, "flags: qr aa") || !regexp.MustCompile(`www\.demo\.test\.\s+60\s+IN\s+A\s+192\.0\.2\.10`).MatchString(out) {
		t.Fatalf("the README's dig does not show what the README promises (aa, www 60 A 192.0.2.10):\n%s", out)
	}
	out = shell(blocks[2])
	ips := regexp.MustCompile(`(?m)^192\.0\.2\.\d+$`).FindAllString(out, -1)
	if strings.Join(ips, " ") != "192.0.2.99 192.0.2.20 192.0.2.30 192.0.2.20" {
		t.Fatalf("the README's change and failover show %v, want www moved to 192.0.2.99, then app: primary, standby, primary:\n%s", ips, out)
	}
	if !strings.Contains(out, `"Status": "INSYNC"`) || !strings.Contains(out, "app.demo.test. A  primary (192.0.2.20) -> standby (192.0.2.30)") {
		t.Fatalf("the README's change is not INSYNC, or events do not show the failover:\n%s", out)
	}
}
