// Command benchtool is the Go half of the bench/ harness: HTTP backends for health checks, the
// setup of health-checked names through failoverdns's API, zone generation, the change-batch
// latency probe and the schedule-lag reader. bench/run.sh drives it; it is not shipped.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool http|setup|bigzone|batch|checks|lag ...")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"http": cmdHTTP, "setup": cmdSetup, "bigzone": cmdBigZone, "batch": cmdBatch,
		"checks": cmdChecks, "lag": cmdLag, "queries": cmdQueries, "failover": cmdFailover,
	}
	f, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchtool: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := f(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// cmdHTTP serves "ok" with status 200 on every address given (-listen a,b,c) and on -ports
// consecutive ports from -base on -ip, until SIGTERM.
func cmdHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ExitOnError)
	listen := fs.String("listen", "", "comma-separated host:port list")
	ip := fs.String("ip", "127.0.0.1", "address for -ports")
	base := fs.Int("base", 20000, "first port for -ports")
	ports := fs.Int("ports", 0, "number of consecutive ports to listen on")
	lean := fs.Bool("lean", false, "answer every request head with 200 without parsing it (keep-alive GETs only)")
	_ = fs.Parse(args)
	addrs := []string{}
	if *listen != "" {
		addrs = strings.Split(*listen, ",")
	}
	for i := range *ports {
		addrs = append(addrs, net.JoinHostPort(*ip, strconv.Itoa(*base+i)))
	}
	var served atomic.Uint64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, "ok\n")
	})
	if *lean {
		if err := serveLean(addrs, &served); err != nil {
			return err
		}
	} else {
		for _, a := range addrs {
			l, err := net.Listen("tcp", a)
			if err != nil {
				return err
			}
			go func() { _ = http.Serve(l, h) }()
		}
	}
	fmt.Println("listening")
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
	fmt.Fprintf(os.Stderr, "served %d requests\n", served.Load())
	return nil
}

type api struct{ base string }

func (a api) do(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a api) createCheck(ref string, cfg map[string]any) (string, error) {
	var out struct{ HealthCheck struct{ Id string } }
	err := a.do("POST", "/v1/healthchecks", map[string]any{"CallerReference": ref, "HealthCheckConfig": cfg}, &out)
	return out.HealthCheck.Id, err
}

type changeInfo struct {
	ChangeInfo struct{ Id, Status string }
}

func (a api) change(zone string, changes []map[string]any) (changeInfo, error) {
	var ci changeInfo
	err := a.do("POST", "/v1/zones/"+zone+"/rrsets", map[string]any{"Changes": changes}, &ci)
	return ci, err
}

func upsert(rs map[string]any) map[string]any {
	return map[string]any{"Action": "UPSERT", "ResourceRecordSet": rs}
}

func rrs(vals ...string) []map[string]string {
	out := []map[string]string{}
	for _, v := range vals {
		out = append(out, map[string]string{"Value": v})
	}
	return out
}

// cmdSetup creates the health-checked names of the benchmark in zone: fo (failover PRIMARY
// -p / SECONDARY -s), dyn (multivalue, both addresses), w (weighted 1:1) and mv (= dyn under
// another name), each checked by an HTTP check of -port every -interval seconds.
func cmdSetup(args []string) error {
	fs := flag.NewFlagSet("setup", flag.ExitOnError)
	base := fs.String("api", "", "API URL")
	zone := fs.String("zone", "bench.test", "zone")
	p := fs.String("p", "127.0.0.2", "primary address")
	s := fs.String("s", "127.0.0.3", "secondary address")
	port := fs.Int("port", 8080, "HTTP port of the backends")
	interval := fs.Float64("interval", 1, "RequestInterval, seconds")
	threshold := fs.Int("threshold", 1, "FailureThreshold (and RecoveryThreshold)")
	ttl := fs.Int64("ttl", 5, "TTL")
	_ = fs.Parse(args)
	a := api{*base}
	ids := map[string]string{}
	for _, ip := range []string{*p, *s} {
		id, err := a.createCheck(fmt.Sprintf("bench-%s-%v", ip, *interval), map[string]any{
			"Type": "HTTP", "IPAddress": ip, "Port": *port, "ResourcePath": "/",
			"RequestInterval": *interval, "FailureThreshold": *threshold, "RecoveryThreshold": *threshold,
		})
		if err != nil {
			return err
		}
		ids[ip] = id
	}
	name := func(n string) string { return n + "." + *zone + "." }
	var ch []map[string]any
	ch = append(ch,
		upsert(map[string]any{"Name": name("fo"), "Type": "A", "TTL": *ttl, "SetIdentifier": "p", "Failover": "PRIMARY", "HealthCheckId": ids[*p], "ResourceRecords": rrs(*p)}),
		upsert(map[string]any{"Name": name("fo"), "Type": "A", "TTL": *ttl, "SetIdentifier": "s", "Failover": "SECONDARY", "HealthCheckId": ids[*s], "ResourceRecords": rrs(*s)}))
	for _, n := range []string{"dyn", "mv"} {
		for _, ip := range []string{*p, *s} {
			ch = append(ch, upsert(map[string]any{"Name": name(n), "Type": "A", "TTL": *ttl, "SetIdentifier": ip, "MultiValueAnswer": true, "HealthCheckId": ids[ip], "ResourceRecords": rrs(ip)}))
		}
	}
	for _, ip := range []string{*p, *s} {
		ch = append(ch, upsert(map[string]any{"Name": name("w"), "Type": "A", "TTL": *ttl, "SetIdentifier": ip, "Weight": 1, "HealthCheckId": ids[ip], "ResourceRecords": rrs(ip)}))
	}
	_, err := a.change(*zone, ch)
	return err
}

// cmdBigZone writes a master file of -n A record sets (plus SOA and NS) for -zone, their
// addresses in -net.0.0.0/8.
func cmdBigZone(args []string) error {
	fs := flag.NewFlagSet("bigzone", flag.ExitOnError)
	zone := fs.String("zone", "big.test", "zone")
	n := fs.Int("n", 1_000_000, "record sets")
	net := fs.Int("net", 10, "first octet of every address")
	_ = fs.Parse(args)
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	fmt.Fprintf(w, "$ORIGIN %s.\n$TTL 300\n@ IN SOA ns1.%s. hostmaster.%s. 1 7200 900 1209600 300\n@ IN NS ns1.%s.\nns1 IN A 192.0.2.1\n", *zone, *zone, *zone, *zone)
	for i := range *n {
		fmt.Fprintf(w, "h%d IN A %d.%d.%d.%d\n", i, *net, i>>16&255, i>>8&255, i&255)
	}
	return w.Flush()
}

// cmdQueries writes a dnsperf query file of -n random names of a bigzone zone.
func cmdQueries(args []string) error {
	fs := flag.NewFlagSet("queries", flag.ExitOnError)
	zone := fs.String("zone", "big.test", "zone")
	n := fs.Int("n", 1_000_000, "record sets in the zone")
	lines := fs.Int("lines", 100_000, "query lines")
	_ = fs.Parse(args)
	w := bufio.NewWriter(os.Stdout)
	x := uint64(88172645463325252)
	for range *lines {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		fmt.Fprintf(w, "h%d.%s A\n", x%uint64(*n), *zone)
	}
	return w.Flush()
}

// cmdBatch applies -rounds change batches of -n CREATEs each and measures, from each batch's
// acknowledgement (the API's reply), the time until the DNS server answers every name of the
// batch with its new value (polled in a tight loop, one name at a time).
func cmdBatch(args []string) error {
	fs := flag.NewFlagSet("batch", flag.ExitOnError)
	base := fs.String("api", "", "API URL")
	zone := fs.String("zone", "big.test", "zone")
	server := fs.String("dns", "", "DNS server host:port")
	n := fs.Int("n", 1000, "changes per batch")
	rounds := fs.Int("rounds", 5, "batches")
	_ = fs.Parse(args)
	a := api{*base}
	c := &dns.Client{Timeout: 500 * time.Millisecond}
	conn, err := c.Dial(*server)
	if err != nil {
		return err
	}
	defer conn.Close()
	// answers reports whether the server answers name with the one A record val; a query that
	// times out or fails is asked again, up to three times.
	answers := func(name, val string) bool {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		for range 3 {
			in, _, err := c.ExchangeWithConn(m, conn)
			if err != nil {
				continue
			}
			if len(in.Answer) != 1 {
				return false
			}
			a, ok := in.Answer[0].(*dns.A)
			return ok && a.A.String() == val
		}
		return false
	}
	var acks, served []float64
	for r := range *rounds {
		var ch []map[string]any
		names := make([]string, *n)
		vals := make([]string, *n)
		for i := range *n {
			// CREATE of new names: Route 53 counts an UPSERT twice against its 1000-record limit
			names[i] = fmt.Sprintf("new%d-%d-%d.%s.", os.Getpid(), r, i, *zone)
			vals[i] = fmt.Sprintf("198.18.%d.%d", r, i%250+1)
			ch = append(ch, map[string]any{"Action": "CREATE", "ResourceRecordSet": map[string]any{"Name": names[i], "Type": "A", "TTL": 300, "ResourceRecords": rrs(vals[i])}})
		}
		t0 := time.Now()
		if _, err := a.change(*zone, ch); err != nil {
			return err
		}
		ack := time.Now()
		// A batch is atomic: it is served when its last name answers. Poll that one name over
		// one socket, as fast as the server answers.
		last := *n - 1
		deadline := ack.Add(30 * time.Second)
		for !answers(names[last], vals[last]) {
			if time.Now().After(deadline) {
				return fmt.Errorf("round %d: %s not served after 30 s", r, names[last])
			}
		}
		done := time.Now()
		// Untimed: every name of the batch answers now.
		for i := range *n {
			if !answers(names[i], vals[i]) {
				return fmt.Errorf("round %d: %s was served, but %s does not answer %s", r, names[last], names[i], vals[i])
			}
		}
		acks = append(acks, ack.Sub(t0).Seconds()*1000)
		served = append(served, done.Sub(ack).Seconds()*1000)
		fmt.Fprintf(os.Stderr, "round %d: ack %.1f ms, last of %d names served %.1f ms after ack, all checked\n", r, acks[r], *n, served[r])
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("ack_ms\t%s\nserved_after_ack_ms\t%s\n", stats(acks), stats(served))
	return nil
}

func stats(v []float64) string {
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("%.1f / %.1f / %.1f", s[0], s[(len(s)-1)/2], s[len(s)-1])
}

// cmdChecks creates -n HTTP checks at -interval, spread over -ports ports from -base on -ip,
// with -workers requests in flight.
func cmdChecks(args []string) error {
	fs := flag.NewFlagSet("checks", flag.ExitOnError)
	base := fs.String("api", "", "API URL")
	n := fs.Int("n", 10000, "checks")
	interval := fs.Float64("interval", 1, "RequestInterval, seconds")
	ip := fs.String("ip", "127.0.0.1", "backend address")
	pbase := fs.Int("base", 20000, "first backend port")
	ports := fs.Int("ports", 100, "backend ports")
	workers := fs.Int("workers", 8, "concurrent API requests")
	_ = fs.Parse(args)
	a := api{*base}
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, *workers)
	t0 := time.Now()
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= *n {
					return
				}
				_, err := a.createCheck(fmt.Sprintf("scale-%d", i), map[string]any{
					"Type": "HTTP", "IPAddress": *ip, "Port": *pbase + i%*ports, "ResourcePath": fmt.Sprintf("/c/%d", i),
					"RequestInterval": *interval, "FailureThreshold": 3,
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	fmt.Printf("created %d checks in %.1f s\n", *n, time.Since(t0).Seconds())
	return nil
}

// cmdLag reads failoverdns_health_schedule_lag_seconds from /metrics twice, -window apart, and
// prints the count and the p50/p99 (upper bucket bounds) of the lag of probes in between, and how
// long each scrape took: the server renders every check's metrics for a scrape (megabytes with
// 10,000 checks) on the core the checks run on, and the probes due meanwhile, counted in the
// window, start late.
func cmdLag(args []string) error {
	fs := flag.NewFlagSet("lag", flag.ExitOnError)
	base := fs.String("api", "", "API URL")
	window := fs.Duration("window", 20*time.Second, "measuring window")
	_ = fs.Parse(args)
	t0 := time.Now()
	b0, err := scrape(*base)
	if err != nil {
		return err
	}
	d0 := time.Since(t0)
	time.Sleep(*window)
	t1 := time.Now()
	b1, err := scrape(*base)
	if err != nil {
		return err
	}
	d1 := time.Since(t1)
	var bounds []float64
	for le := range b1 {
		bounds = append(bounds, le)
	}
	slices.Sort(bounds)
	total := b1[math.Inf(1)] - b0[math.Inf(1)]
	q := func(p float64) string {
		for _, le := range bounds {
			if float64(b1[le]-b0[le]) >= p*float64(total) {
				if math.IsInf(le, 1) {
					return "> last bucket"
				}
				return fmt.Sprintf("<= %g ms", le*1000)
			}
		}
		return "-"
	}
	fmt.Printf("probes\t%d\nprobes_per_s\t%.0f\nlag_p50\t%s\nlag_p99\t%s\nscrapes_s\t%.3f %.3f\n",
		total, float64(total)/window.Seconds(), q(0.5), q(0.99), d0.Seconds(), d1.Seconds())
	return nil
}

// scrape returns the cumulative bucket counts of the lag histogram, by upper bound.
func scrape(base string) (map[float64]uint64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[float64]uint64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "failoverdns_health_schedule_lag_seconds_bucket{") {
			continue
		}
		i := strings.Index(l, `le="`)
		j := strings.Index(l[i+4:], `"`)
		le, err := strconv.ParseFloat(l[i+4:i+4+j], 64)
		if err != nil {
			return nil, err
		}
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		out[le] = uint64(v)
	}
	if len(out) == 0 {
		return nil, errors.New("no schedule lag histogram in /metrics")
	}
	return out, nil
}

// backend is an HTTP server on one address that can be killed (listener and connections closed,
// so connections are refused at once) and started again.
type backend struct {
	addr string
	srv  *http.Server
}

func (b *backend) start() error {
	l, err := net.Listen("tcp", b.addr)
	if err != nil {
		return err
	}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })}
	go func() { _ = b.srv.Serve(l) }()
	return nil
}

func (b *backend) kill() { _ = b.srv.Close() }

// answerOf returns the sorted A answers for name, space-separated, or "?" on failure.
func answerOf(c *dns.Client, server, name string) string {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	in, _, err := c.Exchange(m, server)
	if err != nil {
		return "?"
	}
	var v []string
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			v = append(v, a.A.String())
		}
	}
	slices.Sort(v)
	return strings.Join(v, " ")
}

// cmdFailover runs failover trials against a DNS server whose fo.ZONE (failover p -> s) and
// dyn.ZONE (both, minus the dead) are checked against HTTP backends this command serves itself
// on -p and -s (port -port). Each trial waits for the healthy answers, waits a varying phase,
// kills the primary backend and polls both names every -poll until they change (failover),
// then restarts it and polls until they are back (failback). Prints one line per trial, seconds.
func cmdFailover(args []string) error {
	fs := flag.NewFlagSet("failover", flag.ExitOnError)
	server := fs.String("dns", "", "DNS server host:port")
	zone := fs.String("zone", "bench.test", "zone")
	p := fs.String("p", "127.0.0.2", "primary address")
	s := fs.String("s", "127.0.0.3", "secondary address")
	port := fs.Int("port", 8080, "backend port")
	trials := fs.Int("trials", 5, "trials")
	poll := fs.Duration("poll", 10*time.Millisecond, "poll period")
	maxWait := fs.Duration("max", 90*time.Second, "longest wait for one phase")
	settle := fs.Duration("settle", 3*time.Second, "base wait in the healthy state before a kill")
	_ = fs.Parse(args)
	bp := &backend{addr: net.JoinHostPort(*p, strconv.Itoa(*port))}
	bs := &backend{addr: net.JoinHostPort(*s, strconv.Itoa(*port))}
	if err := bp.start(); err != nil {
		return err
	}
	if err := bs.start(); err != nil {
		return err
	}
	fmt.Println("backends up")
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	fo, dyn := "fo."+*zone+".", "dyn."+*zone+"."
	// wait polls until fo and dyn answer wantFo and wantDyn; it returns each one's time since t0.
	wait := func(wantFo, wantDyn string, t0 time.Time) (float64, float64) {
		gotFo, gotDyn := -1.0, -1.0
		tick := time.NewTicker(*poll)
		defer tick.Stop()
		for time.Since(t0) < *maxWait {
			t := time.Since(t0).Seconds()
			if gotFo < 0 && answerOf(c, *server, fo) == wantFo {
				gotFo = t
			}
			if gotDyn < 0 && answerOf(c, *server, dyn) == wantDyn {
				gotDyn = t
			}
			if gotFo >= 0 && gotDyn >= 0 {
				break
			}
			<-tick.C
		}
		return gotFo, gotDyn
	}
	both := *p + " " + *s
	if *s < *p {
		both = *s + " " + *p
	}
	show := func(v float64) string {
		if v < 0 {
			return ">" + maxWait.String()
		}
		return fmt.Sprintf("%.3f", v)
	}
	for i := 1; i <= *trials; i++ {
		if f, d := wait(*p, both, time.Now()); f < 0 || d < 0 {
			fmt.Printf("trial %d: never healthy\n", i)
			continue
		}
		// a different phase of the check schedule each trial
		time.Sleep(*settle + time.Duration(i)*700*time.Millisecond + time.Duration(i*37%100)*time.Millisecond)
		t0 := time.Now()
		bp.kill()
		foDown, dynDown := wait(*s, *s, t0)
		if err := bp.start(); err != nil {
			return err
		}
		t2 := time.Now()
		foUp, dynUp := wait(*p, both, t2)
		fmt.Printf("trial\t%d\t%s\t%s\t%s\t%s\n", i, show(foDown), show(dynDown), show(foUp), show(dynUp))
	}
	bp.kill()
	bs.kill()
	return nil
}
