package health

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Observation is the outcome of one probe.
type Observation struct {
	// Time is when the probe started.
	Time time.Time
	// Healthy is the endpoint's answer before Inverted is applied.
	Healthy bool
	// Latency runs from the start of the TCP connect to the verdict (name resolution excluded).
	Latency time.Duration
	// Status says what happened, in Route 53's wording where Route 53 has one:
	// "Success: HTTP Status Code 200, OK", "Failure: Connection refused. ...".
	Status string
	// IP is the address probed: IPAddress, or the address FullyQualifiedDomainName resolved to.
	// It is invalid when resolution failed.
	IP netip.Addr
}

// ResolveFunc looks up the addresses of host. It must return when ctx is done.
type ResolveFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// DefaultUserAgent is the User-Agent of HTTP probes unless Config.Headers or Prober.UserAgent
// says otherwise.
const DefaultUserAgent = "failoverdns-health-check"

// maxHeaderBytes is Route 53's limit on the size of the response headers.
const maxHeaderBytes = 16384

// maxBodyBytes bounds the raw (possibly compressed, chunked) body bytes read for STR_MATCH.
const maxBodyBytes = 64 << 10

// Prober runs probes. The zero Prober resolves with net.DefaultResolver and verifies certificates
// against the system roots.
type Prober struct {
	// Resolve looks up FullyQualifiedDomainName when IPAddress is empty; nil means
	// net.DefaultResolver.
	Resolve ResolveFunc
	// RootCAs verifies HTTPS certificates; nil means the system roots.
	RootCAs *x509.CertPool
	// UserAgent replaces DefaultUserAgent.
	UserAgent string
}

// Probe runs one probe of cfg with the given resolver (nil: net.DefaultResolver) and system
// roots. See Prober.Probe.
func Probe(ctx context.Context, cfg Config, resolve ResolveFunc) Observation {
	p := Prober{Resolve: resolve}
	return p.Probe(ctx, cfg)
}

// Probe runs one probe of cfg, a TCP, HTTP, HTTPS or STR_MATCH check, and returns within
// cfg.ProbeTimeout() or when ctx is done, whichever comes first. Each probe opens a fresh
// connection and closes it: a pooled connection would hide a listener that no longer accepts.
//
// HTTP types send one GET for ResourcePath with "Connection: close" and do not follow redirects;
// the check is healthy when the status is in HealthyStatusCodes (2xx and 3xx by default). The Host
// header is FullyQualifiedDomainName (bare on the type's default port, "name:port" otherwise),
// else IPAddress. HTTPS sends FullyQualifiedDomainName as SNI when EnableSNI is on, and verifies
// the certificate against FullyQualifiedDomainName (else IPAddress) unless InsecureSkipVerify.
// STR_MATCH types also need SearchString within the first 5120 bytes of the body, after gzip or
// deflate decoding. When IPAddress is empty, FullyQualifiedDomainName is resolved at every probe
// and the first IPv4 address is used (the first IPv6 one if there is no IPv4).
func (p *Prober) Probe(ctx context.Context, cfg Config) Observation {
	start := time.Now()
	obs := Observation{Time: start}
	ctx, cancel := context.WithTimeout(ctx, cfg.ProbeTimeout())
	defer cancel()

	switch cfg.Type {
	case TypeHTTP, TypeHTTPS, TypeHTTPStrMatch, TypeHTTPSStrMatch, TypeTCP:
	default:
		obs.Status = "Failure: Health checks of type " + strconv.Quote(cfg.Type) + " are not probed."
		return obs
	}

	// The address.
	if cfg.IPAddress != "" {
		ip, err := netip.ParseAddr(cfg.IPAddress)
		if err != nil {
			obs.Status = "Failure: Invalid IPAddress " + strconv.Quote(cfg.IPAddress) + "."
			return obs
		}
		obs.IP = ip.Unmap()
	} else {
		ip, err := p.resolve(ctx, cfg.FullyQualifiedDomainName)
		if err != nil {
			obs.Status = "Failure: DNS resolution failed. " + err.Error()
			if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
				obs.Status = statusCanceled
			}
			return obs
		}
		obs.IP = ip
	}
	port := cfg.Port
	if port == 0 {
		port = 80
		if isHTTPSType(cfg.Type) {
			port = 443
		}
	}
	target := netip.AddrPortFrom(obs.IP, uint16(port)).String()

	// The connection.
	connStart := time.Now()
	d := net.Dialer{KeepAlive: -1}
	conn, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		obs.Latency = time.Since(connStart)
		obs.Status = connectFailure(ctx, err, target)
		return obs
	}
	defer conn.Close()
	if cfg.Type == TypeTCP {
		obs.Latency = time.Since(connStart)
		obs.Healthy = true
		obs.Status = "Success: TCP connection established."
		return obs
	}
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	obs.Healthy, obs.Status = p.probeHTTP(ctx, conn, &cfg, obs.IP, port)
	obs.Latency = time.Since(connStart)
	return obs
}

const statusCanceled = "Failure: The probe was canceled."

func (p *Prober) resolve(ctx context.Context, host string) (netip.Addr, error) {
	if host == "" {
		return netip.Addr{}, errors.New("no FullyQualifiedDomainName to resolve")
	}
	var addrs []netip.Addr
	var err error
	if p.Resolve != nil {
		addrs, err = p.Resolve(ctx, host)
	} else {
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	if err != nil {
		return netip.Addr{}, err
	}
	var v6 netip.Addr
	for _, a := range addrs {
		a = a.Unmap()
		if a.Is4() {
			return a, nil
		}
		if !v6.IsValid() && a.IsValid() {
			v6 = a
		}
	}
	if v6.IsValid() {
		return v6, nil
	}
	return netip.Addr{}, errors.New("no address for " + host)
}

// probeHTTP sends the request over conn (TLS added here for HTTPS types) and judges the answer.
func (p *Prober) probeHTTP(ctx context.Context, conn net.Conn, cfg *Config, ip netip.Addr, port int) (bool, string) {
	fqdn := strings.TrimSuffix(cfg.FullyQualifiedDomainName, ".")
	if isHTTPSType(cfg.Type) {
		verifyName := fqdn
		if verifyName == "" {
			verifyName = ip.WithZone("").String()
		}
		tc := &tls.Config{
			// Verification is done by VerifyConnection, against verifyName, so that the name checked
			// does not depend on whether SNI is sent.
			InsecureSkipVerify: true,
		}
		if cfg.sniEnabled() {
			tc.ServerName = fqdn
		}
		if !cfg.InsecureSkipVerify {
			roots := p.RootCAs
			tc.VerifyConnection = func(cs tls.ConnectionState) error {
				return verifyChain(cs, verifyName, roots)
			}
		}
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			return false, tlsFailure(ctx, err)
		}
		conn = tconn
	}

	u, err := url.ParseRequestURI(resourcePath(cfg.ResourcePath))
	if err != nil {
		return false, "Failure: Invalid ResourcePath " + strconv.Quote(cfg.ResourcePath) + "."
	}
	codes := defaultStatusCodes
	if cfg.HealthyStatusCodes != "" {
		if codes, err = parseStatusCodes(cfg.HealthyStatusCodes); err != nil {
			return false, "Failure: Invalid HealthyStatusCodes: " + err.Error() + "."
		}
	}
	strMatch := isStrMatchType(cfg.Type)
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, 4),
		Host:       hostHeader(cfg, ip, port),
		Close:      true,
	}
	ua := p.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "*/*")
	if strMatch {
		req.Header.Set("Accept-Encoding", "gzip, deflate")
	}
	for k, v := range cfg.Headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if err := req.Write(conn); err != nil {
		return false, exchangeFailure(ctx, err, "sending the request")
	}

	cr := &capReader{r: conn, n: maxHeaderBytes}
	br := bufio.NewReaderSize(cr, 4096)
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(br, req)
		if err != nil {
			if cr.exceeded {
				return false, "Failure: The response headers exceed " + strconv.Itoa(maxHeaderBytes) + " bytes."
			}
			return false, responseFailure(ctx, err)
		}
		// Skip informational responses (103 Early Hints and the like).
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	cr.n = maxBodyBytes
	defer resp.Body.Close()

	status := "HTTP Status Code " + strconv.Itoa(resp.StatusCode)
	if text := http.StatusText(resp.StatusCode); text != "" {
		status += ", " + text
	}
	if !codes.contains(resp.StatusCode) {
		return false, "Failure: " + status
	}
	if !strMatch {
		return true, "Success: " + status
	}
	if ok, failure := searchBody(ctx, resp, cfg.SearchString); !ok {
		return false, failure
	}
	return true, "Success: " + status
}

// searchBody reports whether search appears in the first SearchWindow bytes of the decoded body,
// or why not.
func searchBody(ctx context.Context, resp *http.Response, search string) (bool, string) {
	var body io.Reader = resp.Body
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return false, bodyFailure(ctx, err, "decoding the gzip body")
		}
		defer zr.Close()
		body = zr
	case "deflate":
		// "deflate" is meant to be zlib (RFC 9110), but some servers send raw DEFLATE.
		bb := bufio.NewReader(body)
		hdr, err := bb.Peek(2)
		if err != nil && len(hdr) < 2 {
			if errors.Is(err, io.EOF) {
				return false, searchNotFound
			}
			return false, bodyFailure(ctx, err, "reading the body")
		}
		if hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
			zr, err := zlib.NewReader(bb)
			if err != nil {
				return false, bodyFailure(ctx, err, "decoding the deflate body")
			}
			defer zr.Close()
			body = zr
		} else {
			fr := flate.NewReader(bb)
			defer fr.Close()
			body = fr
		}
	default:
		return false, "Failure: The response body has Content-Encoding " + strconv.Quote(enc) +
			"; only gzip and deflate are decoded."
	}

	needle := []byte(search)
	buf := make([]byte, 0, SearchWindow)
	for len(buf) < SearchWindow {
		n, err := body.Read(buf[len(buf):SearchWindow])
		buf = buf[:len(buf)+n]
		if bytes.Contains(buf, needle) {
			return true, ""
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, bodyFailure(ctx, err, "reading the body")
		}
	}
	return false, searchNotFound
}

const searchNotFound = "Failure: The search string was not found in the first 5120 bytes of the response body."

// verifyChain verifies the server's certificate chain against name and roots (nil: system).
func verifyChain(cs tls.ConnectionState, name string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return &certError{errors.New("the server sent no certificate")}
	}
	opts := x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return &certError{err}
	}
	return nil
}

type certError struct{ err error }

func (e *certError) Error() string { return e.err.Error() }
func (e *certError) Unwrap() error { return e.err }

// hostHeader is Route 53's Host header: the FQDN (bare on the type's default port, with the port
// otherwise), else the IP address.
func hostHeader(cfg *Config, ip netip.Addr, port int) string {
	host := strings.TrimSuffix(cfg.FullyQualifiedDomainName, ".")
	if host == "" {
		host = ip.WithZone("").String()
		if ip.Is6() {
			host = "[" + host + "]"
		}
	}
	defaultPort := 80
	if isHTTPSType(cfg.Type) {
		defaultPort = 443
	}
	if port == defaultPort {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// capReader reads at most n more bytes from r, then fails.
type capReader struct {
	r        io.Reader
	n        int
	exceeded bool
}

var errTooLarge = errors.New("response too large")

func (c *capReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.exceeded = true
		return 0, errTooLarge
	}
	if len(p) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

func canceled(ctx context.Context) bool { return errors.Is(ctx.Err(), context.Canceled) }

func connectFailure(ctx context.Context, err error, target string) string {
	switch {
	case canceled(ctx):
		return statusCanceled
	case isTimeout(err):
		return "Failure: Connection timed out. The endpoint or the network is down, or a firewall is dropping the connection to " + target + "."
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Failure: Connection refused. Nothing is listening on " + target + ", or a firewall is rejecting the connection."
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "Failure: No route to " + target + "."
	}
	return "Failure: Could not connect to " + target + ": " + errText(err)
}

func tlsFailure(ctx context.Context, err error) string {
	var ce *certError
	switch {
	case canceled(ctx):
		return statusCanceled
	case errors.As(err, &ce):
		return "Failure: The TLS certificate is not valid: " + ce.Error() + ". Set InsecureSkipVerify to accept it."
	case isTimeout(err):
		return "Failure: The TLS handshake timed out."
	}
	return "Failure: The TLS handshake failed: " + errText(err)
}

func exchangeFailure(ctx context.Context, err error, doing string) string {
	switch {
	case canceled(ctx):
		return statusCanceled
	case isTimeout(err):
		return "Failure: Timed out " + doing + "."
	}
	return "Failure: Error " + doing + ": " + errText(err)
}

func responseFailure(ctx context.Context, err error) string {
	switch {
	case canceled(ctx):
		return statusCanceled
	case isTimeout(err):
		return "Failure: Response timed out. The endpoint accepted the connection but sent no HTTP status within the timeout."
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return "Failure: The endpoint closed the connection without sending an HTTP response."
	}
	return "Failure: Invalid HTTP response: " + errText(err)
}

func bodyFailure(ctx context.Context, err error, doing string) string {
	switch {
	case canceled(ctx):
		return statusCanceled
	case isTimeout(err):
		return "Failure: Timed out " + doing + " before the search string was found."
	}
	return "Failure: Error " + doing + ": " + errText(err)
}

// errText is err's message without the "dial tcp ...:" style prefixes repeated in the status.
func errText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
	}
	s := err.Error()
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
