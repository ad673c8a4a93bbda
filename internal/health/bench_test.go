//go:build unix

package health

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"syscall"
	"testing"
	"time"
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
// goroutine per probe cost.
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
// same process: a first estimate of what 10,000 HTTP checks per second cost in CPU.
func BenchmarkProbe(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	port, _ := strconv.Atoi(u.Port())
	for _, typ := range []string{TypeTCP, TypeHTTP, TypeHTTPStrMatch} {
		b.Run(typ, func(b *testing.B) {
			cfg := Config{Type: typ, IPAddress: u.Hostname(), Port: port, RequestInterval: 1}
			if typ == TypeHTTPStrMatch {
				cfg.SearchString = "ok"
			}
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				if obs := Probe(context.Background(), cfg, nil); !obs.Healthy {
					b.Fatal(obs.Status)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/probe")
		})
	}
}
