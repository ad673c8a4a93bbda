//go:build unix

package health

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func instantProbe(context.Context, Config) Observation {
	return Observation{Healthy: true, Status: "Success: TCP connection established."}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startBench runs a Checker with n instant checks at interval seconds until the benchmark ends.
func startBench(b *testing.B, n int, interval float64) *Checker {
	c := NewChecker(Options{Probe: instantProbe})
	for i := range n {
		id := fmt.Sprintf("hc-%05d", i)
		if err := c.Set(id, Config{Type: TypeTCP, IPAddress: "127.0.0.1", Port: 9, RequestInterval: interval}); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		c.Run(ctx)
		close(done)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

// BenchmarkCheckerOverhead is the scheduler's cost per probe: 10,000 checks at 0.1 s (100,000
// probes/s) with an instant prober. One op is one probe; ns/op is therefore the probe period
// (about 10 µs), and cpu-ns/probe the CPU time the scheduler, the state machine and the
// workers cost.
func BenchmarkCheckerOverhead(b *testing.B) {
	c := startBench(b, 10000, 0.1)
	time.Sleep(200 * time.Millisecond) // past the first, phase-spreading interval
	p0 := c.Stats().Probes
	cpu0 := cpuTime()
	b.ReportAllocs()
	b.ResetTimer()
	for c.Stats().Probes-p0 < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	probes := c.Stats().Probes - p0
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(probes), "cpu-ns/probe")
}

// BenchmarkScheduleLag10k runs 10,000 checks at 1 s with an instant prober for 5 s of real time
// and reports how late the probes started: p50, p99 (bucket upper bounds) and max, in ms.
// Run it with -cpu 2 for the 2-core target (10,000 checks at 1 s, p99 lag < 100 ms).
func BenchmarkScheduleLag10k(b *testing.B) {
	for range b.N {
		c := NewChecker(Options{Probe: instantProbe})
		for i := range 10000 {
			id := fmt.Sprintf("hc-%05d", i)
			if err := c.Set(id, Config{Type: TypeTCP, IPAddress: "127.0.0.1", Port: 9, RequestInterval: 1}); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		cpu0 := cpuTime()
		go func() {
			c.Run(ctx)
			close(done)
		}()
		time.Sleep(5 * time.Second)
		cancel()
		<-done
		cpu := cpuTime() - cpu0
		st := c.Stats()
		b.ReportMetric(float64(st.Lag.Quantile(0.5))/1e6, "p50-lag-ms")
		b.ReportMetric(float64(st.Lag.Quantile(0.99))/1e6, "p99-lag-ms")
		b.ReportMetric(float64(st.Lag.Max)/1e6, "max-lag-ms")
		b.ReportMetric(float64(st.Probes)/5, "probes/s")
		b.ReportMetric(float64(st.Skipped), "skipped")
		b.ReportMetric(cpu.Seconds()/5*100, "cpu-%")
	}
}

// BenchmarkProbe is the cost of one real probe against a local server, client and server in the
// same process, over a connection per probe (Probe) and, for HTTP types, over a kept one
// (a Prober's, "-reuse").
func BenchmarkProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	for _, name := range []string{TypeTCP, TypeHTTP, TypeHTTPStrMatch, TypeHTTP + "-reuse", TypeHTTPStrMatch + "-reuse"} {
		b.Run(name, func(b *testing.B) {
			typ, reuse := strings.CutSuffix(name, "-reuse")
			cfg := Config{Type: typ, IPAddress: u.Hostname(), Port: port, RequestInterval: 1}
			if typ == TypeHTTPStrMatch {
				cfg.SearchString = "ok"
			}
			probe := func(ctx context.Context, cfg Config) Observation { return Probe(ctx, cfg, nil) }
			if reuse {
				p := &Prober{}
				defer p.CloseIdle()
				probe = p.Probe
			}
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				if obs := probe(context.Background(), cfg); !obs.Healthy {
					b.Fatal(obs.Status)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/probe")
		})
	}
}

// The HTTP backends of BenchmarkHTTPChecks run in a child process (this test binary, started
// again with backendsEnv set) so that the CPU time the benchmark reads is the checker's alone.
const backendsEnv = "FAILOVERDNS_HEALTH_BENCH_BACKENDS"

// TestHelperBackends is not a test: run with backendsEnv=N it serves "ok\n" on N loopback ports,
// prints one port a line and "ready", and exits when its stdin closes.
func TestHelperBackends(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(backendsEnv))
	if n <= 0 {
		t.Skip("helper process for BenchmarkHTTPChecks")
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go http.Serve(ln, h)
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// startBackends starts n HTTP backends in a child process and returns their ports.
func startBackends(b *testing.B, n int) []int {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBackends$", "-test.count=1")
	cmd.Env = append(os.Environ(), backendsEnv+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	var ports []int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && sc.Text() != "ready" {
		p, err := strconv.Atoi(sc.Text())
		if err != nil {
			b.Fatalf("backends: %q", sc.Text())
		}
		ports = append(ports, p)
	}
	if len(ports) != n {
		b.Fatalf("backends: %d ports, want %d", len(ports), n)
	}
	return ports
}

// BenchmarkHTTPChecks runs 10,000 HTTP checks at 1 s (bench/run.sh's "checks" phase) with the
// default Prober against 100 real HTTP backends on loopback, in another process, for 5 s of real
// time per op, and reports the checker's CPU per probe (this process's user+system time, kernel
// TCP work included), allocations per probe, probes/s and the schedule lag; "reuse" keeps
// connections, "fresh" opens one per probe, "reuse-busy" keeps connections while another
// goroutine keeps the core busy and yields every millisecond, as dnsperf makes the DNS server's
// reader do (dnsserver's yielder), and "reuse-hog" while one keeps it busy without ever yielding,
// as the reader did before. reuse-busy also reports the CPU per probe without the hog's
// (checker-cpu-µs/probe): what the checks take from the DNS server under load. Run it
// with -cpu 1, as the server runs on one core: go test -run X -bench HTTPChecks -cpu 1 -benchtime 1x.
func BenchmarkHTTPChecks(b *testing.B) {
	ports := startBackends(b, 100)
	b.Run("reuse", func(b *testing.B) { benchHTTPChecks(b, ports, 0, false, false) })
	b.Run("fresh", func(b *testing.B) { benchHTTPChecks(b, ports, -1, false, false) })
	b.Run("reuse-busy", func(b *testing.B) { benchHTTPChecks(b, ports, 0, true, true) })
	b.Run("reuse-hog", func(b *testing.B) { benchHTTPChecks(b, ports, 0, true, false) })
}

// hog keeps one goroutine busy until ctx ends, making a system call every few microseconds, as
// the DNS server's reader does under load. When yield is set it parks every millisecond on an
// eventfd it has just made readable, so that the scheduler runs the other goroutines and polls
// the network, as the reader does. It adds the CPU time it takes to cpu, read on its thread
// around its work (other goroutines share the thread only between those reads, unless they
// preempt the hog, which they do not while it yields).
func hog(ctx context.Context, yield bool, cpu *atomic.Int64) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		panic(err)
	}
	f := os.NewFile(uintptr(fd), "yield")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		panic(err)
	}
	woke := false
	wait := func(fd uintptr) bool {
		if !woke {
			woke = true
			unix.Write(int(fd), eventfdOne[:])
			return false
		}
		return true
	}
	last := time.Now()
	for ctx.Err() == nil {
		t0 := threadCPU()
		for range 100 {
			syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0) // raw, as the reader's: it keeps its thread
		}
		cpu.Add(int64(threadCPU() - t0))
		if now := time.Now(); yield && now.Sub(last) >= time.Millisecond {
			woke = false
			rc.Read(wait)
			last = time.Now()
		}
	}
}

var eventfdOne = [8]byte{1}

func threadCPU() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return time.Duration(ts.Nano())
}

// benchHTTPChecks runs the checks, with a hog beside them when busy (yielding when yield).
func benchHTTPChecks(b *testing.B, ports []int, reuseFor time.Duration, busy, yield bool) {
	const checks, window = 10000, 5 * time.Second
	for range b.N {
		c := NewChecker(Options{Prober: &Prober{ReuseFor: reuseFor}})
		for i := range checks {
			cfg := Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: ports[i%len(ports)],
				ResourcePath: "/c/" + strconv.Itoa(i), RequestInterval: 1}
			if err := c.Set(fmt.Sprintf("hc-%05d", i), cfg); err != nil {
				b.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			c.Run(ctx)
			close(done)
		}()
		time.Sleep(2 * time.Second) // past the first, phase-spreading interval
		var hogCPU atomic.Int64
		if busy {
			go hog(ctx, yield, &hogCPU)
		}
		st0 := c.Stats()
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0, hog0 := cpuTime(), hogCPU.Load()
		time.Sleep(window)
		cpu, hog := cpuTime()-cpu0, time.Duration(hogCPU.Load()-hog0)
		runtime.ReadMemStats(&ms1)
		st1 := c.Stats()
		cancel()
		<-done

		probes := st1.Probes - st0.Probes
		lag := st1.Lag
		for i := range lag.Counts {
			lag.Counts[i] -= st0.Lag.Counts[i]
		}
		var healthy int
		for _, h := range c.States() {
			if h {
				healthy++
			}
		}
		if healthy != checks {
			b.Errorf("%d of %d checks healthy", healthy, checks)
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(probes)/1e3, "cpu-µs/probe")
		if busy && yield { // a hog that does not yield is preempted within its reads of the clock
			b.ReportMetric(float64((cpu-hog).Nanoseconds())/float64(probes)/1e3, "checker-cpu-µs/probe")
		}
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(probes), "allocs/probe")
		b.ReportMetric(float64(ms1.NumGC-ms0.NumGC)/window.Seconds(), "gc/s")
		b.ReportMetric(float64(probes)/window.Seconds(), "probes/s")
		b.ReportMetric(float64(st1.Skipped-st0.Skipped), "skipped")
		b.ReportMetric(float64(st1.Workers), "workers")
		b.ReportMetric(float64(lag.Quantile(0.5))/1e6, "p50-lag-ms")
		b.ReportMetric(float64(lag.Quantile(0.99))/1e6, "p99-lag-ms")
		b.ReportMetric(float64(lag.Quantile(0.999))/1e6, "p99.9-lag-ms")
	}
}

// rawServer answers every request on a loopback port with reply, in one write, keeping the
// connection open, at little cost of its own: the benchmark measures the prober. When cert is
// not nil it serves TLS.
func rawServer(b *testing.B, reply string, cert *tls.Certificate) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if cert != nil {
				c = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) == 2 && line[0] == '\r' {
						if _, err := io.WriteString(c, reply); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// BenchmarkCheckerProbe is the Checker's cost of one probe of one check, over a kept connection
// to a minimal server in the same process, from a worker's start of the run to the result in the
// tracker, without the scheduler: what 10,000 checks at 1 s pay 10,000 times a second. The
// variants are a plain HTTP check, one with headers and its own status codes, a STR_MATCH one, and
// an HTTPS one with only an address.
func BenchmarkCheckerProbe(b *testing.B) {
	const reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	cert, roots := selfSigned(b)
	port, tlsPort := rawServer(b, reply, nil), rawServer(b, reply, &cert)
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"HTTP", Config{Type: TypeHTTP, Port: port, ResourcePath: "/c/1"}},
		{"HTTP-headers", Config{Type: TypeHTTP, Port: port, ResourcePath: "/c/1", HealthyStatusCodes: "200,204",
			Headers: map[string]string{"authorization": "Bearer 0123456789", "X-Probe-Source": "failoverdns"}}},
		{"HTTP_STR_MATCH", Config{Type: TypeHTTPStrMatch, Port: port, ResourcePath: "/c/1", SearchString: "ok"}},
		{"HTTPS-ip", Config{Type: TypeHTTPS, Port: tlsPort, ResourcePath: "/c/1"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p := &Prober{RootCAs: roots}
			defer p.CloseIdle()
			c := NewChecker(Options{Prober: p})
			withoutScheduler(c, context.Background())
			cfg := tc.cfg
			cfg.IPAddress, cfg.RequestInterval = "127.0.0.1", 1
			if err := c.Set("hc", cfg); err != nil {
				b.Fatal(err)
			}
			probeNow(c, "hc") // opens the connection
			b.ReportAllocs()
			for b.Loop() {
				probeNow(c, "hc")
			}
			if obs := lastObservation(b, c, "hc"); !obs.Healthy {
				b.Fatal(obs.Status)
			}
		})
	}
}
