package e2e

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A differential test: every zone in testdata/zones is served by NSD, Knot and failoverdns (which
// imports the same master file with `zone import`), every query of the zone's .queries file is
// sent to all three, and failoverdns must answer as the references do, section by section. Where
// NSD and Knot disagree, failoverdns may match either.

// query is one line of a .queries file: NAME TYPE [tcp] [noedns] [do] [bufsize=N] [ednsver=N].
type query struct {
	text    string
	name    string
	qtype   uint16
	tcp     bool
	noedns  bool
	do      bool
	bufsize uint16
	ednsver uint8
}

func loadQueries(t *testing.T, path string) []query {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var qs []query
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			t.Fatalf("%s:%d: want NAME TYPE [options]", path, n)
		}
		q := query{text: line, name: dns.Fqdn(fields[0]), bufsize: 1232}
		qt, ok := dns.StringToType[strings.ToUpper(fields[1])]
		if !ok && strings.HasPrefix(strings.ToUpper(fields[1]), "TYPE") {
			v, err := strconv.ParseUint(fields[1][4:], 10, 16)
			qt, ok = uint16(v), err == nil
		}
		if !ok {
			t.Fatalf("%s:%d: unknown type %q", path, n, fields[1])
		}
		q.qtype = qt
		for _, o := range fields[2:] {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "tcp":
				q.tcp = true
			case "noedns":
				q.noedns = true
			case "do":
				q.do = true
			case "bufsize":
				q.bufsize = uint16(atoi(t, v))
			case "ednsver":
				q.ednsver = uint8(atoi(t, v))
			default:
				t.Fatalf("%s:%d: unknown option %q", path, n, o)
			}
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return qs
}

func (q query) msg() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(q.name, q.qtype)
	m.RecursionDesired = false
	if !q.noedns {
		m.SetEdns0(q.bufsize, q.do)
		m.IsEdns0().SetVersion(q.ednsver)
	}
	return m
}

// udpLimit is the largest UDP reply the query allows.
func (q query) udpLimit() int {
	if q.noedns || q.bufsize < 512 {
		return 512
	}
	return int(q.bufsize)
}

// reply is the part of a response that is compared, each field in canonical text.
type reply struct {
	fields     map[string]string
	additional []string // canonical, sorted
	size       int
	msg        *dns.Msg
}

// fieldOrder is the order in which reply fields are compared and reported.
var fieldOrder = []string{"rcode", "aa", "tc", "opt", "question", "answer", "authority", "additional"}

func ask(addr string, q query) (reply, error) {
	network := "udp"
	if q.tcp {
		network = "tcp"
	}
	var (
		r    *dns.Msg
		size int
		err  error
	)
	for range 3 { // loopback UDP does not drop, but a busy 2-core machine may be slow
		if r, size, err = exchange(addr, network, q.msg(), 2*time.Second); err == nil {
			break
		}
	}
	if err != nil {
		return reply{}, err
	}
	opt := "none"
	if o := r.IsEdns0(); o != nil {
		opt = "present"
	}
	question := make([]string, len(r.Question))
	for i, qq := range r.Question {
		question[i] = qq.String()
	}
	rcode := dns.RcodeToString[r.Rcode]
	if r.Rcode == dns.RcodeBadVers {
		rcode = "BADVERS"
	}
	extra := canonicalSet(r.Extra)
	return reply{
		additional: extra,
		fields: map[string]string{
			"rcode":      rcode,
			"aa":         strconv.FormatBool(r.Authoritative),
			"tc":         strconv.FormatBool(r.Truncated),
			"opt":        opt,
			"question":   strings.Join(question, "\n"),
			"answer":     strings.Join(canonicalSet(r.Answer), "\n"),
			"authority":  strings.Join(canonicalSet(r.Ns), "\n"),
			"additional": strings.Join(extra, "\n"),
		},
		size: size,
		msg:  r,
	}, nil
}

// diffZones lists the corpus: testdata/zones/NAME.zone with NAME.queries beside it.
func diffZones(t *testing.T) []zoneFile {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "zones", "*.zone"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no zones in testdata/zones: %v", err)
	}
	var zones []zoneFile
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		zones = append(zones, zoneFile{Name: strings.TrimSuffix(filepath.Base(p), ".zone") + ".", Path: abs})
	}
	return zones
}

func TestDifferential(t *testing.T) {
	zones := diffZones(t)
	nsd := startNSD(t, zones)
	knot := startKnot(t, zones)
	srv := startServer(t)
	for _, z := range zones {
		srv.mustCLI(t, "zone", "import", strings.TrimSuffix(z.Name, "."), z.Path)
	}
	for _, z := range zones {
		waitSOA(t, srv.dns, z.Name)
	}
	for _, z := range zones {
		t.Run(strings.TrimSuffix(z.Name, "."), func(t *testing.T) {
			for _, q := range loadQueries(t, strings.TrimSuffix(z.Path, ".zone")+".queries") {
				t.Run(q.text, func(t *testing.T) {
					compareOne(t, q, nsd.addr, knot.addr, srv.dns)
				})
			}
		})
	}
}

// waitSOA waits (10 s at most) until addr answers the zone's SOA authoritatively.
func waitSOA(t *testing.T, addr, zone string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !answersSOA(addr, zone, "udp") {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer SOA for %s", addr, zone)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func compareOne(t *testing.T, q query, nsdAddr, knotAddr, ourAddr string) {
	n, err := ask(nsdAddr, q)
	if err != nil {
		t.Fatalf("nsd: %v", err)
	}
	k, err := ask(knotAddr, q)
	if err != nil {
		t.Fatalf("knot: %v", err)
	}
	f, err := ask(ourAddr, q)
	if err != nil {
		t.Fatalf("failoverdns: no usable reply to %q: %v", q.text, err)
	}
	var bad []string
	for _, field := range fieldOrder {
		nv, kv, fv := n.fields[field], k.fields[field], f.fields[field]
		if nv != kv {
			t.Logf("nsd and knot disagree on %s (failoverdns may match either):\n  nsd:  %s\n  knot: %s",
				field, indent(nv), indent(kv))
		}
		if fv == nv || fv == kv {
			continue
		}
		if field == "additional" && extraAcceptable(f.additional, n.additional, k.additional) {
			t.Logf("failoverdns's additional section matches neither, but holds only records one of them sends, and no fewer than the sparer one:\n  failoverdns: %s", indent(fv))
			continue
		}
		bad = append(bad, field)
	}
	if !q.tcp && f.size > q.udpLimit() {
		t.Errorf("failoverdns sent a %d-byte UDP reply; the query allows %d", f.size, q.udpLimit())
	}
	if len(bad) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "query %q: failoverdns differs from both NSD and Knot in: %s\n", q.text, strings.Join(bad, ", "))
		fmt.Fprintf(&b, "reply size:\n  nsd:         %d\n  knot:        %d\n  failoverdns: %d\n", n.size, k.size, f.size)
		for _, field := range fieldOrder {
			fmt.Fprintf(&b, "%s:\n  nsd:         %s\n  knot:        %s\n  failoverdns: %s\n",
				field, indent(n.fields[field]), indent(k.fields[field]), indent(f.fields[field]))
		}
		t.Error(b.String())
	}
}

// extraAcceptable says whether an additional section that matches neither reference is still
// one they could have sent: the additional section is optional data, filled as space allows, and
// NSD and Knot fill it differently. It must hold only records that NSD or Knot send, and no fewer
// records than the sparer of the two.
func extraAcceptable(ours, nsd, knot []string) bool {
	union := map[string]bool{}
	for _, rr := range append(append([]string(nil), nsd...), knot...) {
		union[rr] = true
	}
	for _, rr := range ours {
		if !union[rr] {
			return false
		}
	}
	return len(ours) >= min(len(nsd), len(knot))
}

func indent(s string) string {
	if s == "" {
		return "(empty)"
	}
	return strings.ReplaceAll(s, "\n", "\n               ")
}

// oddQuery is a hand-made message that the defensive entry point must handle as NSD and Knot do.
type oddQuery struct {
	name  string
	build func() *dns.Msg
}

// oddAlsoOK are further values a reply field may take, where NSD's and Knot's are not the only
// right ones.
var oddAlsoOK = map[string]map[string]string{
	// NSD and Knot serve secondaries and refuse a NOTIFY from a stranger; failoverdns has no
	// secondaries and may say it does not implement NOTIFY at all.
	"opcode NOTIFY": {"rcode": "NOTIMP"},
}

func oddQueries() []oddQuery {
	base := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("www.plain.test.", dns.TypeA)
		m.RecursionDesired = false
		return m
	}
	with := func(f func(m *dns.Msg)) func() *dns.Msg {
		return func() *dns.Msg { m := base(); f(m); return m }
	}
	return []oddQuery{
		{"no question", with(func(m *dns.Msg) { m.Question = nil })},
		{"two questions", with(func(m *dns.Msg) {
			m.Question = append(m.Question, dns.Question{Name: "plain.test.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET})
		})},
		{"a response (QR set)", with(func(m *dns.Msg) { m.Response = true })},
		{"opcode IQUERY", with(func(m *dns.Msg) { m.Opcode = dns.OpcodeIQuery })},
		{"opcode STATUS", with(func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus })},
		{"opcode NOTIFY", with(func(m *dns.Msg) {
			m.Opcode = dns.OpcodeNotify
			m.Question[0] = dns.Question{Name: "plain.test.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}
			m.Authoritative = true
		})},
		{"opcode UPDATE", with(func(m *dns.Msg) {
			m.Opcode = dns.OpcodeUpdate
			m.Question[0] = dns.Question{Name: "plain.test.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET}
		})},
		{"class CH version.bind", with(func(m *dns.Msg) {
			m.Question[0] = dns.Question{Name: "version.bind.", Qtype: dns.TypeTXT, Qclass: dns.ClassCHAOS}
		})},
		{"class CH in a zone", with(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })},
		{"class ANY", with(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY })},
		{"qtype AXFR over UDP", with(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeAXFR })},
		{"qtype IXFR over UDP", with(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeIXFR })},
		{"qtype OPT", with(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeOPT })},
		{"two OPT records", with(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.SetEdns0(1232, false) // SetEdns0 appends; a second one is a FORMERR (RFC 6891)
			if len(m.Extra) != 2 {
				m.Extra = append(m.Extra, dns.Copy(m.Extra[0]))
			}
		})},
		{"EDNS with an unknown option", with(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte("hi")})
		})},
		{"EDNS with a cookie", with(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0123456789abcdef"})
		})},
		{"EDNS with NSID", with(func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
		})},
		{"TC set in the query", with(func(m *dns.Msg) { m.Truncated = true })},
		{"RD set", with(func(m *dns.Msg) { m.RecursionDesired = true })},
		{"CD and AD set", with(func(m *dns.Msg) { m.CheckingDisabled, m.AuthenticatedData = true, true })},
		{"an answer record in the query", with(func(m *dns.Msg) {
			rr, _ := dns.NewRR("www.plain.test. 60 IN A 192.0.2.99")
			m.Answer = append(m.Answer, rr)
		})},
	}
}

// TestDifferentialOddQueries sends unusual or malformed messages, over UDP and TCP, and compares
// the replies (or their absence) as TestDifferential does.
func TestDifferentialOddQueries(t *testing.T) {
	var zones []zoneFile
	for _, z := range diffZones(t) {
		if z.Name == "plain.test." {
			zones = append(zones, z)
		}
	}
	nsd := startNSD(t, zones)
	knot := startKnot(t, zones)
	srv := startServer(t)
	srv.mustCLI(t, "zone", "import", "plain.test", zones[0].Path)
	waitSOA(t, srv.dns, "plain.test.")
	for _, network := range []string{"udp", "tcp"} {
		for _, oq := range oddQueries() {
			t.Run(network+"/"+oq.name, func(t *testing.T) {
				n, k, f := askRaw(nsd.addr, network, oq.build()), askRaw(knot.addr, network, oq.build()), askRaw(srv.dns, network, oq.build())
				var bad []string
				for _, field := range append([]string{"reply"}, fieldOrder...) {
					nv, kv, fv := n[field], k[field], f[field]
					if nv != kv {
						t.Logf("nsd and knot disagree on %s (failoverdns may match either):\n  nsd:  %s\n  knot: %s", field, indent(nv), indent(kv))
					}
					also, hasAlso := oddAlsoOK[oq.name][field]
					if fv != nv && fv != kv && (!hasAlso || fv != also) {
						bad = append(bad, field)
					}
				}
				if len(bad) > 0 {
					var b strings.Builder
					fmt.Fprintf(&b, "%s over %s: failoverdns differs from both NSD and Knot in: %s\n", oq.name, network, strings.Join(bad, ", "))
					for _, field := range append([]string{"reply"}, fieldOrder...) {
						fmt.Fprintf(&b, "%s:\n  nsd:         %s\n  knot:        %s\n  failoverdns: %s\n", field, indent(n[field]), indent(k[field]), indent(f[field]))
					}
					t.Error(b.String())
				}
			})
		}
	}
	// The server is still well after all that.
	waitSOA(t, srv.dns, "plain.test.")
}

// askRaw sends a message once and describes the reply as fields; "reply" is "none" when no reply
// came within a second (or the connection was closed) and "ok" otherwise.
func askRaw(addr, network string, m *dns.Msg) map[string]string {
	r, _, err := exchange(addr, network, m, time.Second)
	if err != nil {
		if r == nil && strings.Contains(err.Error(), "unpack") {
			return map[string]string{"reply": "unparseable: " + err.Error()}
		}
		return map[string]string{"reply": "none"}
	}
	out := map[string]string{"reply": "ok"}
	opt := "none"
	if r.IsEdns0() != nil {
		opt = "present"
	}
	q := make([]string, len(r.Question))
	for i, qq := range r.Question {
		q[i] = qq.String()
	}
	out["rcode"] = dns.RcodeToString[r.Rcode]
	if r.Rcode == dns.RcodeBadVers {
		out["rcode"] = "BADVERS"
	}
	out["aa"] = fmt.Sprint(r.Authoritative)
	out["tc"] = fmt.Sprint(r.Truncated)
	out["opt"] = opt
	out["question"] = strings.Join(q, "\n")
	out["answer"] = strings.Join(canonicalSet(r.Answer), "\n")
	out["authority"] = strings.Join(canonicalSet(r.Ns), "\n")
	out["additional"] = strings.Join(canonicalSet(r.Extra), "\n")
	return out
}
