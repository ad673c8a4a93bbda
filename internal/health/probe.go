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
	"sync"
	"syscall"
	"time"
)

// Observation is the outcome of one probe.
type Observation struct {
	// Time is when the probe started.
	Time time.Time
	// Healthy is the endpoint's answer before Inverted is applied.
	Healthy bool
	// Latency runs from the start of the TCP connect, or of the request on a kept connection, to
	// the verdict (name resolution excluded).
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

// Prober runs probes and keeps the connections of HTTP types open between them. The zero Prober
// resolves with net.DefaultResolver, verifies certificates against the system roots and reuses
// connections as described at Probe. A Prober must not be copied after its first probe.
type Prober struct {
	// Resolve looks up FullyQualifiedDomainName when IPAddress is empty; nil means
	// net.DefaultResolver.
	Resolve ResolveFunc
	// RootCAs verifies HTTPS certificates; nil means the system roots.
	RootCAs *x509.CertPool
	// UserAgent replaces DefaultUserAgent.
	UserAgent string
	// ReuseFor is how long after it was opened a connection may carry further probes of the same
	// target; 0 means DefaultReuseFor. Negative: every probe opens its own connection and sends
	// "Connection: close", as Route 53 does.
	ReuseFor time.Duration
	// MaxIdleConns bounds the connections kept open between probes, all targets together; 0 means
	// DefaultMaxIdleConns. A probe that finds the bound reached closes its connection.
	MaxIdleConns int

	mu       sync.Mutex
	pools    map[poolKey]*idlePool
	idle     int // connections in pools
	sweeper  *time.Timer
	sweeping bool // sweeper is armed
}

// Probe runs one probe of cfg with the given resolver (nil: net.DefaultResolver) and system
// roots, over a connection of its own that it closes. See Prober.Probe.
func Probe(ctx context.Context, cfg Config, resolve ResolveFunc) Observation {
	p := Prober{Resolve: resolve, ReuseFor: -1}
	return p.Probe(ctx, cfg)
}

// Probe runs one probe of cfg, a TCP, HTTP, HTTPS or STR_MATCH check, and returns within
// cfg.ProbeTimeout() or when ctx is done, whichever comes first.
//
// TCP checks open a connection and close it. HTTP types send one GET for ResourcePath and do not
// follow redirects; the check is healthy when the status is in HealthyStatusCodes (2xx and 3xx by
// default). The Host header is FullyQualifiedDomainName (bare on the type's default port,
// "name:port" otherwise), else IPAddress. HTTPS sends FullyQualifiedDomainName as SNI when
// EnableSNI is on, and verifies the certificate against FullyQualifiedDomainName (else IPAddress)
// unless InsecureSkipVerify. STR_MATCH types also need SearchString within the first 5120 bytes
// of the body, after gzip or deflate decoding. When IPAddress is empty, FullyQualifiedDomainName
// is resolved at every probe and the first IPv4 address is used (the first IPv6 one if there is
// no IPv4).
//
// HTTP types reuse connections (HTTP/1.1 keep-alive). After a probe has read a whole response
// that does not ask to close, its connection stays open, and the next probe of a check with the
// same address, port and TLS settings (SNI, verification name, InsecureSkipVerify) sends its
// request over it, if the connection was idle for less than 4 s and opened less than ReuseFor
// ago (10 s by default). A response whose body has not fully arrived by the verdict is not waited
// for: its connection is closed. What a reused connection means for the verdict:
//
//   - A reused connection that fails before the first byte of the response (closed or reset by
//     the server, as when the backend is killed or restarted, or drops idle connections) does not
//     count: the probe opens a fresh connection at once and judges the endpoint by that attempt,
//     so a killed backend is reported by the same probe ("Connection refused").
//   - A reused connection that stays silent is not retried: the probe times out, as it would on a
//     fresh connection, and its Status says that the connection was kept (a host that is down
//     and an endpoint that hangs look the same on it).
//   - What only a new connection shows (a listener that stops accepting while it keeps serving
//     open connections, a certificate replaced or expired on the server, since the certificate
//     is verified at the handshake) is seen at most ReuseFor later than with a connection per
//     probe: no connection is reused beyond that age.
//   - Observation.Latency runs from the request on a reused connection, from the connect on a
//     fresh one.
//
// Set ReuseFor negative for a connection per probe.
func (p *Prober) Probe(ctx context.Context, cfg Config) Observation {
	bp := requestBufs.Get().(*[]byte)
	defer requestBufs.Put(bp)
	pl := p.makePlan(&cfg, bp)
	return p.probe(ctx, nil, &cfg, &pl, time.Time{})
}

// plan is what the probes of one configuration do the same way, made once rather than at every
// probe: the address when it is IPAddress, the port, and for HTTP types the request, the healthy
// status codes and the key of the connections they may reuse. A Checker makes one per check and
// probe generation (newPlan), Probe one per call. A plan belongs to the Prober that made it
// (UserAgent, ReuseFor) and is not modified after it was made. It holds no *Config, so that
// Probe's stays on the stack.
type plan struct {
	timeout time.Duration // Config.ProbeTimeout
	fail    string        // when not "", every probe fails at once with this status
	ip      netip.Addr    // IPAddress, unmapped; invalid when host is resolved at every probe
	host    string        // FullyQualifiedDomainName
	port    uint16
	tcp     bool

	// HTTP types. When the request or the key would name the address and that is resolved at
	// every probe (no IPAddress, and no FullyQualifiedDomainName to name instead), they are made
	// at every probe: perProbe.
	perProbe bool
	httpFail string // when not "", every probe fails with this status once it has an address
	reqErr   error  // the request cannot be made: every probe fails sending it
	req      []byte // the request sent
	codes    statusCodes
	strMatch bool
	search   string  // SearchString
	key      poolKey // addr is set at every probe
	reuse    bool    // connections are kept (the request does not ask to close)
}

// newPlan returns the plan of cfg's probes, whose request has storage of its own.
func (p *Prober) newPlan(cfg *Config) *plan {
	bp := requestBufs.Get().(*[]byte)
	pl := p.makePlan(cfg, bp)
	pl.req = bytes.Clone(pl.req)
	requestBufs.Put(bp)
	return &pl
}

// makePlan returns the plan of cfg's probes, its request in the storage of *bp, which it sets to
// the storage used: the request is valid while *bp is not reused.
func (p *Prober) makePlan(cfg *Config, bp *[]byte) plan {
	pl := plan{timeout: cfg.ProbeTimeout(), host: cfg.FullyQualifiedDomainName, tcp: cfg.Type == TypeTCP, reuse: p.ReuseFor >= 0}
	switch cfg.Type {
	case TypeHTTP, TypeHTTPS, TypeHTTPStrMatch, TypeHTTPSStrMatch, TypeTCP:
	default:
		pl.fail = "Failure: Health checks of type " + strconv.Quote(cfg.Type) + " are not probed."
		return pl
	}
	if cfg.IPAddress != "" {
		ip, err := netip.ParseAddr(cfg.IPAddress)
		if err != nil {
			pl.fail = "Failure: Invalid IPAddress " + strconv.Quote(cfg.IPAddress) + "."
			return pl
		}
		pl.ip = ip.Unmap()
	}
	port := cfg.Port
	if port == 0 {
		port = 80
		if isHTTPSType(cfg.Type) {
			port = 443
		}
	}
	pl.port = uint16(port)
	if pl.tcp {
		return pl
	}
	if pl.perProbe = !pl.ip.IsValid() && strings.TrimSuffix(cfg.FullyQualifiedDomainName, ".") == ""; !pl.perProbe {
		p.planHTTP(&pl, cfg, pl.ip, bp)
	}
	return pl
}

// planHTTP makes the HTTP part of pl, cfg's plan, for probes of the address ip, the request in
// the storage of *bp, which it sets to the storage used.
func (p *Prober) planHTTP(pl *plan, cfg *Config, ip netip.Addr, bp *[]byte) {
	uri, ok := requestURI(cfg.ResourcePath)
	if !ok {
		pl.httpFail = "Failure: Invalid ResourcePath " + strconv.Quote(cfg.ResourcePath) + "."
		return
	}
	pl.codes = defaultStatusCodes
	if cfg.HealthyStatusCodes != "" && cfg.HealthyStatusCodes != DefaultHealthyStatusCodes {
		var err error
		if pl.codes, err = parseStatusCodes(cfg.HealthyStatusCodes); err != nil {
			pl.httpFail = "Failure: Invalid HealthyStatusCodes: " + err.Error() + "."
			return
		}
	}
	pl.strMatch, pl.search = isStrMatchType(cfg.Type), cfg.SearchString
	pl.req, pl.reqErr = p.appendRequest((*bp)[:0], cfg, uri, ip, int(pl.port), !pl.reuse)
	*bp = pl.req
	if pl.reqErr != nil {
		return
	}
	if isHTTPSType(cfg.Type) {
		pl.key.tls = true
		fqdn := strings.TrimSuffix(cfg.FullyQualifiedDomainName, ".")
		if cfg.sniEnabled() {
			pl.key.sni = fqdn
		}
		if cfg.InsecureSkipVerify {
			pl.key.insecure = true
		} else if pl.key.verify = fqdn; fqdn == "" {
			pl.key.verify = ip.WithZone("").String()
		}
	}
}

// probe runs one probe of cfg, whose plan is pl, that ends by deadline (zero: the probe timeout
// after it starts, and never later than that) or when ctx is done. intr, when not nil, is called
// when ctx is done.
func (p *Prober) probe(ctx context.Context, intr *interrupter, cfg *Config, pl *plan, deadline time.Time) Observation {
	start := time.Now()
	obs := Observation{Time: start}
	if end := start.Add(pl.timeout); deadline.IsZero() || end.Before(deadline) {
		deadline = end
	}
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if pl.fail != "" {
		obs.Status = pl.fail
		return obs
	}

	// The address.
	if pl.ip.IsValid() {
		obs.IP = pl.ip
	} else {
		rctx, cancel := context.WithDeadline(ctx, deadline)
		ip, err := p.resolve(rctx, pl.host)
		cancel()
		if err != nil {
			obs.Status = "Failure: DNS resolution failed. " + err.Error()
			if canceled(ctx) {
				obs.Status = statusCanceled
			}
			return obs
		}
		obs.IP = ip
	}
	target := netip.AddrPortFrom(obs.IP, pl.port)

	if pl.tcp {
		connStart := time.Now()
		conn, err := dial(ctx, target, deadline)
		obs.Latency = time.Since(connStart)
		if err != nil {
			obs.Status = connectFailure(ctx, err, target.String())
			return obs
		}
		conn.Close()
		obs.Healthy = true
		obs.Status = "Success: TCP connection established."
		return obs
	}
	if intr == nil {
		intr = new(interrupter)
		if ctx.Done() != nil {
			defer context.AfterFunc(ctx, intr.interrupt)()
		}
	}
	p.probeHTTP(ctx, intr, cfg, pl, &obs, target, deadline)
	return obs
}

const statusCanceled = "Failure: The probe was canceled."

// aLongTimeAgo is a deadline that makes every pending and later I/O on a connection fail at once.
var aLongTimeAgo = time.Unix(1, 0)

func dial(ctx context.Context, target netip.AddrPort, deadline time.Time) (net.Conn, error) {
	d := net.Dialer{KeepAlive: -1, Deadline: deadline}
	return d.DialContext(ctx, "tcp", target.String())
}

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

// probeHTTP sends the request of pl, cfg's plan, over a kept connection to target when there is
// one, else over a fresh one (TLS added here for HTTPS types), and judges the answer into obs.
func (p *Prober) probeHTTP(ctx context.Context, intr *interrupter, cfg *Config, pl *plan, obs *Observation, target netip.AddrPort, deadline time.Time) {
	if pl.perProbe {
		bp := requestBufs.Get().(*[]byte)
		defer requestBufs.Put(bp)
		own := *pl
		p.planHTTP(&own, cfg, obs.IP, bp)
		pl = &own
	}
	if pl.httpFail != "" {
		obs.Status = pl.httpFail
		return
	}
	if pl.reqErr != nil {
		obs.Status = exchangeFailure(ctx, pl.reqErr, "sending the request")
		return
	}
	reuse := pl.reuse
	key := pl.key
	key.addr = target
	var pc *pconn
	if reuse {
		pc = p.get(key, obs.Time)
	}
	reused := pc != nil
	for {
		connStart := time.Now()
		if pc == nil {
			conn, err := dial(ctx, target, deadline)
			if err != nil {
				obs.Latency = time.Since(connStart)
				obs.Status = connectFailure(ctx, err, target.String())
				p.drop(key)
				return
			}
			if key.tls {
				tconn, status := p.handshake(ctx, conn, &key, deadline)
				if tconn == nil {
					conn.Close()
					obs.Latency = time.Since(connStart)
					obs.Status = status
					return
				}
				conn = tconn
			}
			pc = newPconn(conn, connStart)
		}
		healthy, status, keep, retry := exchange(ctx, intr, pc, reused, pl, deadline)
		if retry && reused {
			// The server closed the kept connection: judge by a fresh one.
			pc.conn.Close()
			pc, reused = nil, false
			continue
		}
		end := time.Now()
		obs.Latency = end.Sub(connStart)
		obs.Healthy, obs.Status = healthy, status
		if keep && reuse {
			p.put(key, pc, end)
		} else {
			pc.conn.Close()
		}
		return
	}
}

// requestBufs holds the buffers requests are written into.
var requestBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// handshake runs the TLS handshake of a fresh connection for the HTTPS check described by key.
func (p *Prober) handshake(ctx context.Context, conn net.Conn, key *poolKey, deadline time.Time) (net.Conn, string) {
	tc := &tls.Config{
		// Verification is done by VerifyConnection, against key.verify, so that the name checked
		// does not depend on whether SNI is sent.
		InsecureSkipVerify: true,
		ServerName:         key.sni,
	}
	if !key.insecure {
		verifyName, roots := key.verify, p.RootCAs
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			return verifyChain(cs, verifyName, roots)
		}
	}
	conn.SetDeadline(deadline)
	tconn := tls.Client(conn, tc)
	if err := tconn.HandshakeContext(ctx); err != nil {
		return nil, tlsFailure(ctx, err)
	}
	return tconn, ""
}

// exchange sends the request of pl over pc, a connection kept from an earlier probe when kept,
// and judges the answer. keep says pc may carry another request; retry that pc failed before the first byte of
// a response arrived, as a connection the server has closed does.
func exchange(ctx context.Context, intr *interrupter, pc *pconn, kept bool, pl *plan, deadline time.Time) (healthy bool, status string, keep, retry bool) {
	pc.conn.SetDeadline(deadline)
	if !intr.attach(pc.conn) {
		return false, statusCanceled, false, false
	}
	defer intr.detach()
	pc.cr.n, pc.cr.got, pc.cr.exceeded, pc.cr.off = maxHeaderBytes, 0, false, false
	if err := pc.send(pl.req); err != nil {
		return false, exchangeFailure(ctx, err, "sending the request"), false, closedByPeer(ctx, err)
	}

	if !pl.strMatch {
		h, ok, err := readPlainHead(pc.br)
		if err != nil {
			return false, responseFailure(ctx, err, kept), false, pc.cr.got == 0 && closedByPeer(ctx, err)
		}
		if ok {
			healthy = pl.codes.contains(h.code)
			// The connection is kept when the body has already arrived: it is not waited for.
			if keep = !h.close && pc.br.Buffered() == h.contentLength; keep {
				pc.br.Discard(h.contentLength)
			}
			return healthy, statusLine(h.code, healthy), keep, false
		}
	}

	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(pc.br, nil)
		if err != nil {
			if pc.cr.exceeded {
				return false, "Failure: The response headers exceed " + strconv.Itoa(maxHeaderBytes) + " bytes.", false, false
			}
			return false, responseFailure(ctx, err, kept), false, pc.cr.got == 0 && closedByPeer(ctx, err)
		}
		// Skip informational responses (103 Early Hints and the like).
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	pc.cr.n = maxBodyBytes

	switch healthy = pl.codes.contains(resp.StatusCode); {
	case !healthy:
		status = statusLine(resp.StatusCode, false)
	case pl.strMatch:
		healthy, status = searchBody(ctx, resp, pl.search)
	}
	if healthy {
		status = statusLine(resp.StatusCode, true)
	}

	// The connection is kept when the rest of the body has already arrived: it is not waited for.
	pc.cr.off = true
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	keep = err == nil && !resp.Close && resp.StatusCode != http.StatusSwitchingProtocols && pc.br.Buffered() == 0
	return healthy, status, keep, false
}

// interrupter makes the cancellation of a probe's context reach the connection the probe is
// using: a Checker registers one per check with context.AfterFunc, rather than one per probe.
type interrupter struct {
	mu          sync.Mutex
	conn        net.Conn
	interrupted bool
}

// interrupt makes the I/O of the attached connection, and of any attached later, fail at once.
func (i *interrupter) interrupt() {
	i.mu.Lock()
	i.interrupted = true
	if i.conn != nil {
		i.conn.SetDeadline(aLongTimeAgo)
	}
	i.mu.Unlock()
}

// attach makes conn the connection to interrupt, unless interrupt was called: then it returns false.
func (i *interrupter) attach(conn net.Conn) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.conn = conn
	return !i.interrupted
}

func (i *interrupter) detach() {
	i.mu.Lock()
	i.conn = nil
	i.mu.Unlock()
}

// closedByPeer reports whether err is what a connection the server has closed gives: the request
// may be sent again over a fresh one.
func closedByPeer(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !isTimeout(err) &&
		(errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
			errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED))
}

// statusLine is "Success: HTTP Status Code 200, OK" or "Failure: HTTP Status Code 503, Service
// Unavailable", from a table for the codes net/http names.
func statusLine(code int, healthy bool) string {
	i := 0
	if healthy {
		i = 1
	}
	if code >= 0 && code < len(statusLines[i]) && statusLines[i][code] != "" {
		return statusLines[i][code]
	}
	return formatStatus(code, healthy)
}

var statusLines = func() (t [2][600]string) {
	for code := range 600 {
		if http.StatusText(code) != "" {
			t[0][code] = formatStatus(code, false)
			t[1][code] = formatStatus(code, true)
		}
	}
	return t
}()

func formatStatus(code int, healthy bool) string {
	s := "Failure: HTTP Status Code " + strconv.Itoa(code)
	if healthy {
		s = "Success: HTTP Status Code " + strconv.Itoa(code)
	}
	if text := http.StatusText(code); text != "" {
		s += ", " + text
	}
	return s
}

// requestURI is the request target for ResourcePath, as net/http would send it, and whether it
// is valid.
func requestURI(path string) (string, bool) {
	path = resourcePath(path)
	plain := true
	for i := 0; i < len(path) && plain; i++ {
		c := path[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/?=&,;:@+$", c) >= 0
	}
	if plain {
		return path, true
	}
	u, err := url.ParseRequestURI(path)
	if err != nil {
		return "", false
	}
	return u.RequestURI(), true
}

// appendRequest appends the GET request of cfg to b: the request line, Host, User-Agent,
// "Connection: close" when closing, then the other headers in sorted order (Accept, the
// Accept-Encoding of STR_MATCH types, and cfg.Headers, which replace any of them).
func (p *Prober) appendRequest(b []byte, cfg *Config, uri string, ip netip.Addr, port int, closing bool) ([]byte, error) {
	ua := p.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	host := ""
	accept, encoding := "*/*", ""
	if isStrMatchType(cfg.Type) {
		encoding = "gzip, deflate"
	}
	var extra []string // canonical key, value, ...
	for k, v := range cfg.Headers {
		switch ck := http.CanonicalHeaderKey(k); ck {
		case "Host":
			host = v
		case "User-Agent":
			ua = headerValue(v)
		case "Accept":
			accept = headerValue(v)
		case "Accept-Encoding":
			encoding = headerValue(v)
		case "Content-Length", "Transfer-Encoding", "Trailer":
		default:
			if validHeaderName(ck) {
				extra = append(extra, ck, headerValue(v))
			}
		}
	}

	b = append(b, "GET "...)
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	if host != "" {
		if !validHeaderValue(host) || strings.ContainsAny(host, " \t") {
			return b, errors.New("http: invalid Host header")
		}
		b = append(b, host...)
	} else {
		b = appendHost(b, cfg, ip, port)
	}
	if ua != "" {
		b = append(b, "\r\nUser-Agent: "...)
		b = append(b, ua...)
	}
	if closing {
		b = append(b, "\r\nConnection: close"...)
	}
	if len(extra) > 0 || accept != "*/*" {
		if accept != "" {
			extra = append(extra, "Accept", accept)
		}
		if encoding != "" {
			extra = append(extra, "Accept-Encoding", encoding)
		}
		sortPairs(extra)
		for i := 0; i < len(extra); i += 2 {
			b = append(b, "\r\n"...)
			b = append(b, extra[i]...)
			b = append(b, ": "...)
			b = append(b, extra[i+1]...)
		}
	} else {
		b = append(b, "\r\nAccept: */*"...)
		if encoding != "" {
			b = append(b, "\r\nAccept-Encoding: "...)
			b = append(b, encoding...)
		}
	}
	b = append(b, "\r\n\r\n"...)
	return b, nil
}

// sortPairs sorts a key, value, key, value, ... list by key.
func sortPairs(kv []string) {
	for i := 2; i < len(kv); i += 2 {
		for j := i; j > 0 && kv[j] < kv[j-2]; j -= 2 {
			kv[j], kv[j+1], kv[j-2], kv[j-1] = kv[j-2], kv[j-1], kv[j], kv[j+1]
		}
	}
}

// headerValue is v as net/http writes it: line breaks replaced by spaces, trimmed.
func headerValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
	}
	return strings.Trim(v, " \t")
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

	bp := searchBufs.Get().(*[SearchWindow]byte)
	defer searchBufs.Put(bp)
	buf := bp[:0]
	for len(buf) < SearchWindow {
		n, err := body.Read(buf[len(buf):SearchWindow])
		buf = buf[:len(buf)+n]
		if bytes.Contains(buf, []byte(search)) {
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

// searchBufs holds the buffers of searchBody.
var searchBufs = sync.Pool{New: func() any { return new([SearchWindow]byte) }}

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

// appendHost appends Route 53's Host header: the FQDN (bare on the type's default port, with the
// port otherwise), else the IP address.
func appendHost(b []byte, cfg *Config, ip netip.Addr, port int) []byte {
	if host := strings.TrimSuffix(cfg.FullyQualifiedDomainName, "."); host != "" {
		b = append(b, host...)
	} else if ip = ip.WithZone(""); ip.Is6() {
		b = append(b, '[')
		b = ip.AppendTo(b)
		b = append(b, ']')
	} else {
		b = ip.AppendTo(b)
	}
	defaultPort := 80
	if isHTTPSType(cfg.Type) {
		defaultPort = 443
	}
	if port != defaultPort {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(port), 10)
	}
	return b
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

func responseFailure(ctx context.Context, err error, kept bool) string {
	switch {
	case canceled(ctx):
		return statusCanceled
	case isTimeout(err) && kept:
		return "Failure: Response timed out. No HTTP status came within the timeout over the connection kept from an earlier probe: the endpoint hangs, or it or the network is down."
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
