package e2e

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
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

// zoneFile is a zone served from a master file.
type zoneFile struct {
	Name string // fully qualified, e.g. "plain.test."
	Path string // absolute path of the master file
}

// peer is a reference DNS server (NSD or Knot) this test started.
type peer struct {
	name string
	addr string // 127.0.0.1:port, UDP and TCP
	cmd  *exec.Cmd
	done chan struct{}
	log  *logBuffer
	dir  string
}

// freePort finds a loopback port that is free for both UDP and TCP right now. The caller binds it
// later, so a start that collides with another process is retried on a new port.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no loopback port free for both UDP and TCP")
	return 0
}

// startNSD runs NSD in the foreground on the zones, on an ephemeral loopback port.
func startNSD(t testing.TB, zones []zoneFile) *peer {
	t.Helper()
	nsd := needTool(t, "nsd")
	return startPeer(t, "nsd", zones, func(dir string, port int) []string {
		var b strings.Builder
		fmt.Fprintf(&b, `server:
    ip-address: 127.0.0.1@%[2]d
    port: %[2]d
    server-count: 1
    username: ""
    chroot: ""
    database: ""
    zonesdir: "%[1]s"
    pidfile: "%[1]s/nsd.pid"
    xfrdfile: "%[1]s/xfrd.state"
    xfrdir: "%[1]s"
    zonelistfile: "%[1]s/zone.list"
    logfile: "%[1]s/nsd.log"
    verbosity: 1
    hide-version: yes
    hide-identity: yes
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
    reuseport: no
remote-control:
    control-enable: no
`, dir, port)
		for _, z := range zones {
			fmt.Fprintf(&b, "zone:\n    name: %s\n    zonefile: \"%s\"\n", z.Name, z.Path)
		}
		conf := filepath.Join(dir, "nsd.conf")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{nsd, "-d", "-c", conf}
	})
}

// startKnot runs knotd in the foreground on the zones, on an ephemeral loopback port.
func startKnot(t testing.TB, zones []zoneFile) *peer {
	t.Helper()
	knotd := needTool(t, "knotd")
	return startPeer(t, "knot", zones, func(dir string, port int) []string {
		var b strings.Builder
		fmt.Fprintf(&b, `server:
    rundir: "%[1]s"
    listen: 127.0.0.1@%[2]d
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "%[1]s/db"
log:
  - target: stderr
    any: info
template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
`, dir, port)
		for _, z := range zones {
			fmt.Fprintf(&b, "  - domain: %s\n    file: \"%s\"\n", z.Name, z.Path)
		}
		conf := filepath.Join(dir, "knot.conf")
		if err := os.MkdirAll(filepath.Join(dir, "db"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{knotd, "-c", conf}
	})
}

// startPeer starts a server built by command(dir, port) and waits until it answers SOA for every
// zone over UDP and TCP. A start that fails (say, the port was taken meanwhile) is retried on a new
// port. The server is stopped by its PID when the test ends.
func startPeer(t testing.TB, name string, zones []zoneFile, command func(dir string, port int) []string) *peer {
	t.Helper()
	var lastErr error
	for attempt := 1; attempt <= 5; attempt++ {
		dir := t.TempDir()
		port := freePort(t)
		args := command(dir, port)
		p := &peer{name: name, addr: fmt.Sprintf("127.0.0.1:%d", port), log: &logBuffer{}, dir: dir, done: make(chan struct{})}
		p.cmd = exec.Command(args[0], args[1:]...)
		p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
		p.cmd.Dir = dir
		// Its own process group, so helpers it forks (NSD's xfrd, server children) go with it.
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		go func() { p.cmd.Wait(); close(p.done) }()
		err := p.waitReady(zones, 20*time.Second)
		if err == nil {
			t.Cleanup(func() {
				p.stop()
				if t.Failed() {
					t.Logf("%s log:\n%s%s", name, p.log, p.fileLog())
				}
			})
			return p
		}
		exited := false
		select {
		case <-p.done:
			exited = true
		default:
		}
		p.stop()
		lastErr = fmt.Errorf("%w; log:\n%s%s", err, p.log, p.fileLog())
		if !exited {
			break // it runs but does not serve: a new port would not help
		}
		t.Logf("%s on port %d (attempt %d): %v", name, port, attempt, err)
	}
	t.Fatalf("cannot start %s: %v", name, lastErr)
	return nil
}

func (p *peer) fileLog() string {
	b, err := os.ReadFile(filepath.Join(p.dir, "nsd.log"))
	if err != nil {
		return ""
	}
	return string(b)
}

func (p *peer) waitReady(zones []zoneFile, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	pending := append([]zoneFile(nil), zones...)
	for len(pending) > 0 {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v", p.name, p.cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer SOA for %s within %v", p.name, pending[0].Name, timeout)
		}
		z := pending[0]
		if answersSOA(p.addr, z.Name, "udp") && answersSOA(p.addr, z.Name, "tcp") {
			pending = pending[1:]
			continue
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// answersSOA says whether addr answers the zone's SOA authoritatively.
func answersSOA(addr, zone, network string) bool {
	q := new(dns.Msg)
	q.SetQuestion(zone, dns.TypeSOA)
	q.RecursionDesired = false
	r, _, err := exchange(addr, network, q, 500*time.Millisecond)
	return err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) == 1
}

// stop ends the server by its PID (SIGTERM, then SIGKILL after 10 s) and then whatever is left of
// the process group it leads.
func (p *peer) stop() {
	pid := p.cmd.Process.Pid
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL) // helpers in the group we created; ESRCH if none
}

// exchange sends one query over "udp" or "tcp" and returns the reply and the size of its wire form.
// Over UDP it reads up to 64 KiB, so a reply larger than the client allowed is seen as such.
func exchange(addr, network string, q *dns.Msg, timeout time.Duration) (*dns.Msg, int, error) {
	q.Id = uint16(rand.UintN(1 << 16))
	wire, err := q.Pack()
	if err != nil {
		return nil, 0, err
	}
	c, err := net.DialTimeout(network, addr, timeout)
	if err != nil {
		return nil, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	var buf []byte
	if network == "tcp" {
		out := binary.BigEndian.AppendUint16(nil, uint16(len(wire)))
		if _, err := c.Write(append(out, wire...)); err != nil {
			return nil, 0, err
		}
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return nil, 0, err
		}
		buf = make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, buf); err != nil {
			return nil, 0, err
		}
	} else {
		if _, err := c.Write(wire); err != nil {
			return nil, 0, err
		}
		buf = make([]byte, 65535)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return nil, 0, err
			}
			if n >= 2 && binary.BigEndian.Uint16(buf) == q.Id {
				buf = buf[:n]
				break
			}
		}
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf); err != nil {
		return nil, len(buf), fmt.Errorf("unpack reply: %v", err)
	}
	if r.Id != q.Id {
		return nil, len(buf), fmt.Errorf("reply id %d, query id %d", r.Id, q.Id)
	}
	return r, len(buf), nil
}
