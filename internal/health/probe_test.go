package health

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// target returns the IPAddress and Port of a test server's URL.
func target(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	hostport := rawURL[strings.Index(rawURL, "://")+3:]
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		t.Fatalf("parse %s: %v", rawURL, err)
	}
	return ap.Addr().String(), int(ap.Port())
}

func httpCheck(t *testing.T, srv *httptest.Server, typ string) Config {
	ip, port := target(t, srv.URL)
	return Config{Type: typ, IPAddress: ip, Port: port, RequestInterval: 1, Timeout: 1}
}

// probe runs a probe and fails the test if it is not valid.
func probe(t *testing.T, cfg Config) Observation {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("invalid config in test: %v", err)
	}
	return Probe(context.Background(), cfg, nil)
}

func TestProbeHTTPStatus(t *testing.T) {
	var redirected atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/moved-here":
			redirected.Store(true)
		case "/status":
			code, _ := strconv.Atoi(r.URL.Query().Get("code"))
			if code == http.StatusFound {
				http.Redirect(w, r, "/moved-here", http.StatusFound)
				return
			}
			w.WriteHeader(code)
		}
	}))
	defer srv.Close()

	for _, tc := range []struct {
		code    int
		codes   string
		healthy bool
		status  string
	}{
		{200, "", true, "Success: HTTP Status Code 200, OK"},
		{204, "", true, "Success: HTTP Status Code 204, No Content"},
		{302, "", true, "Success: HTTP Status Code 302, Found"},
		{399, "", true, "Success: HTTP Status Code 399"},
		{404, "", false, "Failure: HTTP Status Code 404, Not Found"},
		{503, "", false, "Failure: HTTP Status Code 503, Service Unavailable"},
		{404, "200,404", true, "Success: HTTP Status Code 404, Not Found"},
		{302, "200-299", false, "Failure: HTTP Status Code 302, Found"},
	} {
		t.Run(strconv.Itoa(tc.code)+"/"+tc.codes, func(t *testing.T) {
			cfg := httpCheck(t, srv, TypeHTTP)
			cfg.ResourcePath = "/status?code=" + strconv.Itoa(tc.code)
			cfg.HealthyStatusCodes = tc.codes
			obs := probe(t, cfg)
			if obs.Healthy != tc.healthy || obs.Status != tc.status {
				t.Fatalf("Probe = %v %q, want %v %q", obs.Healthy, obs.Status, tc.healthy, tc.status)
			}
			if obs.Latency <= 0 || obs.Time.IsZero() || obs.IP != netip.MustParseAddr("127.0.0.1") {
				t.Errorf("Observation = %+v, want latency, time and IP set", obs)
			}
		})
	}
	if redirected.Load() {
		t.Error("the probe followed a redirect")
	}
}

func TestProbeRequest(t *testing.T) {
	type seen struct {
		host, uri, ua, auth, conn string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.RequestURI, r.UserAgent(), r.Header.Get("Authorization"), r.Header.Get("Connection")}
	}))
	defer srv.Close()
	ip, port := target(t, srv.URL)
	p := ":" + strconv.Itoa(port)

	for _, tc := range []struct {
		name string
		cfg  Config
		want seen
	}{
		{"ip", Config{}, seen{ip + p, "/", DefaultUserAgent, "", "close"}},
		{"fqdn on another port", Config{FullyQualifiedDomainName: "svc.example.test.", ResourcePath: "health?deep=1"},
			seen{"svc.example.test" + p, "/health?deep=1", DefaultUserAgent, "", "close"}},
		{"custom headers", Config{Headers: map[string]string{"host": "vhost.internal", "User-Agent": "mine", "Authorization": "Bearer t"}},
			seen{"vhost.internal", "/", "mine", "Bearer t", "close"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Type, cfg.IPAddress, cfg.Port, cfg.RequestInterval = TypeHTTP, ip, port, 1
			if obs := probe(t, cfg); !obs.Healthy {
				t.Fatalf("Probe: %s", obs.Status)
			}
			s := <-got
			if s != tc.want {
				t.Fatalf("request = %+v, want %+v", s, tc.want)
			}
		})
	}
}

func TestAppendHost(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("fe80::1%eth0")
	for _, tc := range []struct {
		typ, fqdn string
		ip        netip.Addr
		port      int
		want      string
	}{
		{TypeHTTP, "www.example.com", v4, 80, "www.example.com"},
		{TypeHTTP, "www.example.com.", v4, 8080, "www.example.com:8080"},
		{TypeHTTPS, "www.example.com", v4, 443, "www.example.com"},
		{TypeHTTPSStrMatch, "www.example.com", v4, 80, "www.example.com:80"},
		{TypeHTTP, "", v4, 80, "192.0.2.1"},
		{TypeHTTP, "", v4, 81, "192.0.2.1:81"},
		{TypeHTTPS, "", v6, 443, "[fe80::1]"},
		{TypeHTTPS, "", v6, 8443, "[fe80::1]:8443"},
	} {
		cfg := Config{Type: tc.typ, FullyQualifiedDomainName: tc.fqdn}
		if got := string(appendHost(nil, &cfg, tc.ip, tc.port)); got != tc.want {
			t.Errorf("appendHost(%s, %q, %v, %d) = %q, want %q", tc.typ, tc.fqdn, tc.ip, tc.port, got, tc.want)
		}
	}
}

// countConns starts srv counting the connections it accepts and the requests that ask to close.
func countConns(srv *httptest.Server) (conns, closeRequested *atomic.Int32) {
	conns, closeRequested = new(atomic.Int32), new(atomic.Int32)
	h := srv.Config.Handler
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Close {
			closeRequested.Add(1)
		}
		h.ServeHTTP(w, r)
	})
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	return conns, closeRequested
}

// Probe, and a Prober with a negative ReuseFor, open a connection per probe and ask the server
// to close it, as Route 53 does.
func TestProbeConnectionPerProbe(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	conns, closeRequested := countConns(srv)
	srv.Start()
	defer srv.Close()
	cfg := httpCheck(t, srv, TypeHTTP)
	p := &Prober{ReuseFor: -1}
	for i := range 4 {
		var obs Observation
		if i%2 == 0 {
			obs = probe(t, cfg)
		} else {
			obs = p.Probe(context.Background(), cfg)
		}
		if !obs.Healthy {
			t.Fatal(obs.Status)
		}
	}
	if conns.Load() != 4 || closeRequested.Load() != 4 {
		t.Fatalf("4 probes made %d connections and %d Connection: close requests, want 4 and 4", conns.Load(), closeRequested.Load())
	}
	if p.idle != 0 {
		t.Errorf("%d connections kept", p.idle)
	}
}

// cannedServer answers every request with the response reply gives for its request URI, in one
// write, keeping the connection open unless the request asks to close it. It returns its port and
// counts the connections.
func cannedServer(t *testing.T, reply func(uri string) string) (int, *atomic.Int32) {
	return countingServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if _, err := io.WriteString(c, reply(req.RequestURI)); err != nil || req.Close {
				return
			}
		}
	})
}

// countingServer runs serve on every connection to a loopback listener, closing the connection
// when serve returns, until the test ends. It returns its port and counts the connections.
func countingServer(t *testing.T, serve func(net.Conn)) (int, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port, &conns
}

// A Prober sends the probes of one target over one connection, for plain and chunked bodies, over
// HTTP and HTTPS; checks with other TLS settings get their own.
func TestProbeReusesConnection(t *testing.T) {
	port, conns := cannedServer(t, func(uri string) string {
		if uri == "/chunked" {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\none, \r\n3\r\ntwo\r\n0\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	})
	p := &Prober{}
	defer p.CloseIdle()
	for _, cfg := range []Config{
		{Type: TypeHTTP, ResourcePath: "/"},
		{Type: TypeHTTP, ResourcePath: "/other"},
		{Type: TypeHTTP, ResourcePath: "/chunked"},
		{Type: TypeHTTPStrMatch, ResourcePath: "/chunked", SearchString: "two"},
		{Type: TypeHTTPStrMatch, ResourcePath: "/", SearchString: "ok"},
	} {
		cfg.IPAddress, cfg.Port, cfg.RequestInterval = "127.0.0.1", port, 1
		if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
			t.Fatalf("%s %s: %s", cfg.Type, cfg.ResourcePath, obs.Status)
		}
	}
	if conns.Load() != 1 {
		t.Fatalf("5 probes made %d connections, want 1", conns.Load())
	}

	cert, pool := selfSigned(t)
	tsrv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	tsrv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	tconns, _ := countConns(tsrv)
	tsrv.StartTLS()
	defer tsrv.Close()
	p.RootCAs = pool
	no := false
	for _, mod := range []func(*Config){
		nil, nil, // shared
		func(c *Config) { c.FullyQualifiedDomainName = "health.test" },                              // another SNI and name
		func(c *Config) { c.FullyQualifiedDomainName = "health.test" },                              // shared with the one before
		func(c *Config) { c.FullyQualifiedDomainName = "health.test"; c.EnableSNI = &no },           // no SNI
		func(c *Config) { c.FullyQualifiedDomainName = "health.test"; c.InsecureSkipVerify = true }, // not verified
	} {
		cfg := httpCheck(t, tsrv, TypeHTTPS)
		if mod != nil {
			mod(&cfg)
		}
		if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
			t.Fatal(obs.Status)
		}
	}
	if tconns.Load() != 4 {
		t.Fatalf("6 HTTPS probes with 4 different TLS settings made %d connections, want 4", tconns.Load())
	}
}

// A kept connection is not reused beyond ReuseFor after it was opened.
func TestProbeReuseFor(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	conns, _ := countConns(srv)
	srv.Start()
	defer srv.Close()
	p := &Prober{ReuseFor: time.Nanosecond}
	for range 3 {
		if obs := p.Probe(context.Background(), httpCheck(t, srv, TypeHTTP)); !obs.Healthy {
			t.Fatal(obs.Status)
		}
	}
	if conns.Load() != 3 || p.idle != 0 {
		t.Fatalf("3 probes with ReuseFor 1ns made %d connections and kept %d, want 3 and 0", conns.Load(), p.idle)
	}
}

// oneShotServer answers each connection's first request with a keep-alive response, then does
// what after says with the connection (nil: closes it at once). It returns its port and counts
// the connections.
func oneShotServer(t *testing.T, after func(net.Conn)) (int, *atomic.Int32) {
	return countingServer(t, func(c net.Conn) {
		c.Read(make([]byte, 4096))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		if after != nil {
			after(c)
		}
	})
}

// A kept connection the server has closed does not fail the probe: it goes over a fresh one.
func TestProbeStaleConnectionRetried(t *testing.T) {
	port, conns := oneShotServer(t, nil)
	p := &Prober{}
	defer p.CloseIdle()
	cfg := Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 1}
	for range 3 {
		if obs := p.Probe(context.Background(), cfg); !obs.Healthy || obs.Status != "Success: HTTP Status Code 200, OK" {
			t.Fatalf("Probe = %v %q", obs.Healthy, obs.Status)
		}
	}
	if conns.Load() != 3 {
		t.Fatalf("3 probes made %d connections, want 3", conns.Load())
	}
}

// A kept connection that the server closes after part of a response is not retried: the server
// took the request, so its failure is the probe's result.
func TestProbePartialResponseNotRetried(t *testing.T) {
	port, conns := oneShotServer(t, func(c net.Conn) {
		c.Read(make([]byte, 4096)) // the second request
		io.WriteString(c, "HTTP/1.1 200")
	})
	p := &Prober{}
	defer p.CloseIdle()
	cfg := Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 1}
	if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
		t.Fatal(obs.Status)
	}
	obs := p.Probe(context.Background(), cfg)
	if obs.Healthy || !strings.HasPrefix(obs.Status, "Failure:") || conns.Load() != 1 {
		t.Fatalf("Probe = %v %q after %d connections, want a failure over the kept one and no retry", obs.Healthy, obs.Status, conns.Load())
	}
}

// Idle connections are closed idleTimeout after their last probe, and their target forgotten.
func TestProbeIdleSweep(t *testing.T) {
	port, conns := cannedServer(t, func(string) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	other, _ := cannedServer(t, func(string) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" })
	synctest.Test(t, func(t *testing.T) {
		p := &Prober{ReuseFor: time.Hour}
		defer p.CloseIdle()
		probeAt := func(port int) {
			t.Helper()
			cfg := Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 30}
			if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
				t.Fatal(obs.Status)
			}
		}
		probeAt(port)
		probeAt(other)
		for range 3 { // the first target is kept in use; the other is left idle
			time.Sleep(idleTimeout / 2)
			probeAt(port)
		}
		synctest.Wait()
		p.mu.Lock()
		idle, pools := p.idle, len(p.pools)
		p.mu.Unlock()
		if idle != 1 || pools != 1 || conns.Load() != 1 {
			t.Fatalf("after %v: %d idle connections for %d targets, %d connections to the busy one; want 1, 1 and 1 (the idle target's swept)", 3*idleTimeout/2, idle, pools, conns.Load())
		}
		time.Sleep(2 * idleTimeout)
		synctest.Wait()
		p.mu.Lock()
		idle, pools, sweeping := p.idle, len(p.pools), p.sweeping
		p.mu.Unlock()
		if idle != 0 || pools != 0 || sweeping {
			t.Fatalf("%v after the last probe: %d idle connections, %d targets kept, sweeping %v; want none", 2*idleTimeout, idle, pools, sweeping)
		}
	})
}

// A fresh connection that fails drops the target's other idle connections: they go to the same
// dead endpoint.
func TestProbeDropsDeadTarget(t *testing.T) {
	var arrived sync.WaitGroup
	arrived.Add(3)
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		arrived.Done()
		arrived.Wait() // three probes at once: three connections
	}))
	p := &Prober{}
	defer p.CloseIdle()
	cfg := httpCheck(t, srv, TypeHTTP)
	var probes sync.WaitGroup
	for range 3 {
		probes.Go(func() {
			if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
				t.Error(obs.Status)
			}
		})
	}
	probes.Wait()
	if p.idle != 3 {
		t.Fatalf("%d idle connections after 3 concurrent probes, want 3", p.idle)
	}
	srv.Close() // the listener and every connection
	if obs := p.Probe(context.Background(), cfg); obs.Healthy || !strings.HasPrefix(obs.Status, "Failure: Connection refused.") {
		t.Fatalf("Probe after the kill = %v %q", obs.Healthy, obs.Status)
	}
	if p.idle != 0 {
		t.Errorf("%d connections to the dead endpoint kept after a refused connection, want 0", p.idle)
	}
}

// A kept connection that stays silent is not retried: the probe times out.
func TestProbeSilentKeptConnection(t *testing.T) {
	port, conns := oneShotServer(t, func(c net.Conn) {
		c.Read(make([]byte, 4096)) // the second request, never answered; returns when the prober closes
		c.Read(make([]byte, 1))
	})
	p := &Prober{}
	defer p.CloseIdle()
	cfg := Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 1, Timeout: 0.2}
	if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
		t.Fatal(obs.Status)
	}
	obs := p.Probe(context.Background(), cfg)
	const want = "Failure: Response timed out. No HTTP status came within the timeout over the connection kept from an earlier probe: the endpoint hangs, or it or the network is down."
	if obs.Healthy || obs.Status != want || conns.Load() != 1 {
		t.Fatalf("Probe = %v %q after %d connections, want a timeout on the kept one", obs.Healthy, obs.Status, conns.Load())
	}
}

// A backend that is killed is reported by the next probe, although its connection was kept.
func TestProbeKilledBackend(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	p := &Prober{}
	defer p.CloseIdle()
	cfg := httpCheck(t, srv, TypeHTTP)
	for range 2 {
		if obs := p.Probe(context.Background(), cfg); !obs.Healthy {
			t.Fatal(obs.Status)
		}
	}
	srv.Close() // the listener and every connection
	obs := p.Probe(context.Background(), cfg)
	if obs.Healthy || !strings.HasPrefix(obs.Status, "Failure: Connection refused.") {
		t.Fatalf("Probe after the kill = %v %q", obs.Healthy, obs.Status)
	}
	if p.idle != 0 {
		t.Errorf("%d connections kept after a refused connection", p.idle)
	}
}

func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func TestProbeConnectionRefused(t *testing.T) {
	port := closedPort(t)
	for _, typ := range []string{TypeHTTP, TypeTCP} {
		obs := probe(t, Config{Type: typ, IPAddress: "127.0.0.1", Port: port, RequestInterval: 1})
		if obs.Healthy || !strings.HasPrefix(obs.Status, "Failure: Connection refused. Nothing is listening on 127.0.0.1:"+strconv.Itoa(port)) {
			t.Errorf("%s: Probe = %v %q", typ, obs.Healthy, obs.Status)
		}
	}
}

// silentListener accepts connections and never answers; it returns its port.
func silentListener(t *testing.T, prelude string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			if prelude != "" {
				go func() {
					buf := make([]byte, 4096)
					c.Read(buf) // the request
					io.WriteString(c, prelude)
				}()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func TestProbeHangingEndpoint(t *testing.T) {
	port := silentListener(t, "")
	cfg := Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 1, Timeout: 0.2}
	start := time.Now()
	obs := probe(t, cfg)
	took := time.Since(start)
	if obs.Healthy || !strings.HasPrefix(obs.Status, "Failure: Response timed out.") {
		t.Fatalf("Probe = %v %q", obs.Healthy, obs.Status)
	}
	if took < 190*time.Millisecond || took > 2*time.Second {
		t.Errorf("probe with a 200ms timeout took %v", took)
	}

	// TCP only needs the connection.
	cfg.Type = TypeTCP
	if obs := probe(t, cfg); !obs.Healthy || obs.Status != "Success: TCP connection established." {
		t.Errorf("TCP Probe = %v %q", obs.Healthy, obs.Status)
	}

	// Headers arrive, then the body never does.
	port = silentListener(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
	cfg = Config{Type: TypeHTTPStrMatch, IPAddress: "127.0.0.1", Port: port, SearchString: "ready", RequestInterval: 1, Timeout: 0.2}
	if obs := probe(t, cfg); obs.Healthy || obs.Status != "Failure: Timed out reading the body before the search string was found." {
		t.Errorf("STR_MATCH Probe = %v %q", obs.Healthy, obs.Status)
	}
	// The plain HTTP check does not wait for the body.
	cfg.Type, cfg.SearchString = TypeHTTP, ""
	if obs := probe(t, cfg); !obs.Healthy {
		t.Errorf("HTTP Probe = %v %q", obs.Healthy, obs.Status)
	}
}

func TestProbeBadResponses(t *testing.T) {
	for _, tc := range []struct {
		name, reply, status string
	}{
		{"closed", "", "Failure: The endpoint closed the connection without sending an HTTP response."},
		{"not http", "SSH-2.0-OpenSSH_9.6\r\n", "Failure: Invalid HTTP response: malformed HTTP response \"SSH-2.0-OpenSSH_9.6\"."},
		{"huge headers", "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 20000) + "\r\n\r\n", "Failure: The response headers exceed 16384 bytes."},
		{"early hints first", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "Success: HTTP Status Code 200, OK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				c.Read(make([]byte, 4096))
				io.WriteString(c, tc.reply)
			}()
			obs := probe(t, Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, RequestInterval: 1})
			if obs.Status != tc.status {
				t.Fatalf("Probe = %q, want %q", obs.Status, tc.status)
			}
		})
	}
}

func compress(t *testing.T, enc string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case "gzip":
		w = gzip.NewWriter(&b)
	case "deflate":
		w = zlib.NewWriter(&b)
	case "raw-deflate":
		w, _ = flate.NewWriter(&b, flate.BestCompression)
	default:
		return data
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestProbeStringMatch(t *testing.T) {
	var acceptEncoding atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acceptEncoding.Store(r.Header.Get("Accept-Encoding"))
		q := r.URL.Query()
		pad, _ := strconv.Atoi(q.Get("pad"))
		body := []byte(strings.Repeat("x", pad) + q.Get("body"))
		enc := q.Get("enc")
		if enc != "" {
			w.Header().Set("Content-Encoding", strings.TrimPrefix(enc, "raw-"))
		}
		code, _ := strconv.Atoi(q.Get("code"))
		if code == 0 {
			code = 200
		}
		w.WriteHeader(code)
		w.Write(compress(t, enc, body))
	}))
	defer srv.Close()

	const search = `"status":"ok"`
	body := `{"status":"ok"}`
	for _, tc := range []struct {
		name, query string
		healthy     bool
		status      string
	}{
		{"plain", "body=" + body, true, "Success: HTTP Status Code 200, OK"},
		{"absent", "body={}", false, searchNotFound},
		{"ends at byte 5120", "pad=" + strconv.Itoa(5120-len(search)) + "&body=" + search, true, "Success: HTTP Status Code 200, OK"},
		{"crosses byte 5120", "pad=" + strconv.Itoa(5121-len(search)) + "&body=" + search, false, searchNotFound},
		{"gzip", "enc=gzip&pad=3000&body=" + body, true, "Success: HTTP Status Code 200, OK"},
		{"gzip beyond window", "enc=gzip&pad=6000&body=" + body, false, searchNotFound},
		{"deflate (zlib)", "enc=deflate&pad=3000&body=" + body, true, "Success: HTTP Status Code 200, OK"},
		{"deflate (raw)", "enc=raw-deflate&pad=3000&body=" + body, true, "Success: HTTP Status Code 200, OK"},
		{"brotli", "enc=br&body=" + body, false, `Failure: The response body has Content-Encoding "br"; only gzip and deflate are decoded.`},
		{"status first", "code=500&body=" + body, false, "Failure: HTTP Status Code 500, Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := httpCheck(t, srv, TypeHTTPStrMatch)
			cfg.SearchString = search
			cfg.ResourcePath = "/?" + strings.NewReplacer(`"`, "%22", "{", "%7B", "}", "%7D").Replace(tc.query)
			obs := probe(t, cfg)
			if obs.Healthy != tc.healthy || obs.Status != tc.status {
				t.Fatalf("Probe = %v %q, want %v %q", obs.Healthy, obs.Status, tc.healthy, tc.status)
			}
		})
	}
	if got := acceptEncoding.Load(); got != "gzip, deflate" {
		t.Errorf("Accept-Encoding = %q", got)
	}
}

// selfSigned returns a certificate for health.test and 127.0.0.1 signed by itself, and a pool
// trusting it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "health.test"},
		DNSNames:              []string{"health.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestProbeHTTPS(t *testing.T) {
	cert, pool := selfSigned(t)
	var sni atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(compress(t, "gzip", []byte("all systems go")))
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			sni.Store(hello.ServerName)
			return nil, nil
		},
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are expected
	srv.StartTLS()
	defer srv.Close()
	no := false

	for _, tc := range []struct {
		name    string
		cfg     Config
		roots   *x509.CertPool
		healthy bool
		status  string // prefix
		sni     string
	}{
		{"verified by default", Config{FullyQualifiedDomainName: "health.test"}, nil, false,
			"Failure: The TLS certificate is not valid: x509: certificate signed by unknown authority", "health.test"},
		{"opt out", Config{FullyQualifiedDomainName: "health.test", InsecureSkipVerify: true}, nil, true,
			"Success: HTTP Status Code 200, OK", "health.test"},
		{"trusted root", Config{FullyQualifiedDomainName: "health.test"}, pool, true, "Success: HTTP Status Code 200, OK", "health.test"},
		{"wrong name", Config{FullyQualifiedDomainName: "other.test"}, pool, false,
			"Failure: The TLS certificate is not valid: x509: certificate is valid for health.test, not other.test", "other.test"},
		{"ip only", Config{}, pool, true, "Success: HTTP Status Code 200, OK", ""},
		{"no sni, still verified against the name", Config{FullyQualifiedDomainName: "health.test", EnableSNI: &no}, pool, true,
			"Success: HTTP Status Code 200, OK", ""},
		{"string match over tls and gzip", Config{Type: TypeHTTPSStrMatch, SearchString: "systems go", FullyQualifiedDomainName: "health.test"}, pool, true,
			"Success: HTTP Status Code 200, OK", "health.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			if cfg.Type == "" {
				cfg.Type = TypeHTTPS
			}
			cfg.IPAddress, cfg.Port = target(t, srv.URL)
			cfg.RequestInterval = 1
			sni.Store("(none)")
			p := Prober{RootCAs: tc.roots}
			obs := p.Probe(context.Background(), cfg)
			if obs.Healthy != tc.healthy || !strings.HasPrefix(obs.Status, tc.status) {
				t.Fatalf("Probe = %v %q, want %v %q...", obs.Healthy, obs.Status, tc.healthy, tc.status)
			}
			if got := sni.Load(); got != tc.sni {
				t.Errorf("SNI = %q, want %q", got, tc.sni)
			}
		})
	}

	// An HTTP check against the TLS port fails cleanly.
	cfg := httpCheck(t, srv, TypeHTTP)
	if obs := probe(t, cfg); obs.Healthy || obs.Status != "Failure: HTTP Status Code 400, Bad Request" {
		t.Errorf("HTTP to an HTTPS port: %v %q", obs.Healthy, obs.Status)
	}
}

func TestProbeResolvesEveryTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "svc.test:"+r.URL.Query().Get("port") {
			w.WriteHeader(http.StatusMisdirectedRequest)
		}
	}))
	defer srv.Close()
	_, port := target(t, srv.URL)

	var calls atomic.Int32
	addrs := []netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("::ffff:127.0.0.1")}
	var failWith error
	resolve := func(ctx context.Context, host string) ([]netip.Addr, error) {
		calls.Add(1)
		if host != "svc.test" {
			return nil, errors.New("unexpected host " + host)
		}
		return addrs, failWith
	}
	cfg := Config{Type: TypeHTTP, FullyQualifiedDomainName: "svc.test", Port: port, ResourcePath: "/?port=" + strconv.Itoa(port), RequestInterval: 1}
	for range 2 {
		obs := Probe(context.Background(), cfg, resolve)
		if !obs.Healthy || obs.IP != netip.MustParseAddr("127.0.0.1") {
			t.Fatalf("Probe = %v %q via %v, want healthy via 127.0.0.1 (IPv4 first)", obs.Healthy, obs.Status, obs.IP)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("2 probes resolved %d times, want 2", calls.Load())
	}

	failWith = errors.New("lookup svc.test: no such host")
	obs := Probe(context.Background(), cfg, resolve)
	if obs.Healthy || obs.Status != "Failure: DNS resolution failed. lookup svc.test: no such host" || obs.IP.IsValid() {
		t.Errorf("Probe = %v %q %v", obs.Healthy, obs.Status, obs.IP)
	}
	failWith, addrs = nil, nil
	if obs := Probe(context.Background(), cfg, resolve); obs.Healthy || obs.Status != "Failure: DNS resolution failed. no address for svc.test" {
		t.Errorf("Probe = %v %q", obs.Healthy, obs.Status)
	}
}

func TestProbeCanceled(t *testing.T) {
	port := silentListener(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	obs := Probe(ctx, Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 10}, nil)
	if obs.Healthy || obs.Status != statusCanceled {
		t.Fatalf("Probe = %v %q", obs.Healthy, obs.Status)
	}
}

// A body that has not arrived by the verdict is not waited for, and its connection not kept.
func TestProbeBodyNotWaitedFor(t *testing.T) {
	port := silentListener(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
	p := &Prober{}
	defer p.CloseIdle()
	obs := p.Probe(context.Background(), Config{Type: TypeHTTP, IPAddress: "127.0.0.1", Port: port, RequestInterval: 1, Timeout: 60})
	if !obs.Healthy || p.idle != 0 {
		t.Fatalf("Probe = %v %q, %d connections kept, want healthy and none", obs.Healthy, obs.Status, p.idle)
	}
}

// An interrupter fails the I/O of the connection attached, and refuses connections attached
// after it was interrupted.
func TestInterrupter(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var i interrupter
	if !i.attach(a) {
		t.Fatal("attach refused before interrupt")
	}
	read := make(chan error)
	go func() {
		_, err := a.Read(make([]byte, 1))
		read <- err
	}()
	i.interrupt()
	if err := <-read; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read after interrupt: %v", err)
	}
	i.detach()
	if i.attach(a) {
		t.Fatal("attach accepted after interrupt")
	}
}

// With no IPAddress and no name but the root, the Host header is the address resolved at this
// probe.
func TestProbeHostIsResolvedAddress(t *testing.T) {
	hosts := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hosts <- r.Host }))
	defer srv.Close()
	ip, port := target(t, srv.URL)
	resolve := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr(ip)}, nil
	}
	obs := Probe(context.Background(), Config{Type: TypeHTTP, FullyQualifiedDomainName: ".", Port: port, RequestInterval: 1}, resolve)
	if !obs.Healthy {
		t.Fatal(obs.Status)
	}
	if got, want := <-hosts, ip+":"+strconv.Itoa(port); got != want {
		t.Errorf("Host = %q, want %q", got, want)
	}
}
