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
