package watch

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSProber asks one server for one name and type, with recursion desired (so that a resolver
// answers; an authoritative server ignores the flag), over UDP and again over TCP when truncated.
type DNSProber struct {
	Server string // host:port
	Name   string // fully qualified
	Type   uint16
}

// Probe sends one query.
func (p DNSProber) Probe(ctx context.Context) Observation {
	o := Observation{Time: time.Now(), Target: p.Server, Kind: KindDNS}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(p.Name), p.Type)
	m.SetEdns0(1232, false)
	c := &dns.Client{Net: "udp"} // ExchangeContext takes its deadline from ctx
	r, rtt, err := c.ExchangeContext(ctx, m, p.Server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, rtt, err = c.ExchangeContext(ctx, m, p.Server)
	}
	o.RTT = Millis(time.Since(o.Time))
	if err != nil {
		o.Error, o.Timeout = describe(err)
		return o
	}
	o.RTT = Millis(rtt)
	o.Rcode = dns.RcodeToString[r.Rcode]
	for _, rr := range r.Answer {
		if rr.Header().Rrtype != p.Type {
			continue
		}
		o.Answers = append(o.Answers, Value(rr))
		if ttl := rr.Header().Ttl; o.TTL == nil || ttl < *o.TTL {
			o.TTL = &ttl
		}
	}
	sort.Strings(o.Answers)
	return o
}

// Value is a record's data in presentation format, without owner, TTL, class and type.
func Value(rr dns.RR) string {
	return strings.TrimSpace(strings.TrimPrefix(rr.String(), rr.Header().String()))
}

// HTTPProber fetches one URL on a new connection each time (so that every poll resolves the name
// again and reaches whichever system it now points at) and keeps the chosen response headers.
type HTTPProber struct {
	URL     string
	Headers []string // canonical header names to keep, "Server" when empty
}

// Probe sends one GET and reads at most 64 KiB of the body.
func (p HTTPProber) Probe(ctx context.Context) Observation {
	o := Observation{Time: time.Now(), Target: p.URL, Kind: KindHTTP}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		o.Error = err.Error()
		return o
	}
	req.Header.Set("User-Agent", "failoverdns-watch")
	tr := &http.Transport{DisableKeepAlives: true, Proxy: nil}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		o.RTT = Millis(time.Since(o.Time))
		o.Error, o.Timeout = describe(err)
		return o
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	o.RTT = Millis(time.Since(o.Time))
	o.Status = resp.StatusCode
	names := p.Headers
	if len(names) == 0 {
		names = []string{"Server"}
	}
	for _, h := range names {
		if v := resp.Header.Get(h); v != "" {
			if o.Headers == nil {
				o.Headers = map[string]string{}
			}
			o.Headers[http.CanonicalHeaderKey(h)] = v
		}
	}
	return o
}

// describe turns a poll's error into a short message and whether it was a timeout.
func describe(err error) (string, bool) {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout", true
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error(), false
}
