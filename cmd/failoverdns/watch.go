package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/failoverdns/failoverdns/internal/watch"
)

// resolvConf is where the system's resolvers are read from when no --server is given.
const resolvConf = "/etc/resolv.conf"

// watchFlags are the flags watch and switch share.
type watchFlags struct {
	typ      string
	servers  []string
	interval string
	timeout  string
	duration string
}

// watchRun is one run of the watch engine as the CLI drives it.
type watchRun struct {
	name     string // fully qualified
	typ      string
	targets  []watch.Target
	interval time.Duration
	timeout  time.Duration
	duration time.Duration
	expect   []string
	// stopWhenReached ends the run as soon as every DNS target answers expect.
	stopWhenReached bool
	// observe receives every observation after the summary took it (for files and the screen).
	observe func(watch.Observation, *watch.Summary)
}

func newWatch(e *env) *cobra.Command {
	var (
		f                     watchFlags
		urls, headers, expect []string
		out, csvPath, report  string
		svgPath               string
		asJSON                bool
	)
	cmd := &cobra.Command{
		Use:   "watch NAME [--server HOST:PORT ...] [--http URL ...] [--expect VALUE ...]",
		Short: "Poll DNS servers and URLs and summarize when each answer was seen: measure a switch",
		Long: `Poll every DNS server (default: the system's resolvers from /etc/resolv.conf) for NAME and
every --http URL at the interval, concurrently, each poll with its own timeout. Every observation
is written to --out (JSON lines) and --csv as it is made; a live view shows a row per server and
URL on a terminal, one line per poll otherwise. At the end (--duration, or Ctrl-C) a summary per
server and overall: answers with when they were first and last seen, every change, the mixed
window in which old and new were both answered, answers that were neither, errors, and for URLs
the longest downtime. --json prints the summary as one JSON object (see docs/watch.md).

Exit status: 0 when every server ends on the --expect answer (without --expect: when the run
completed and every server and URL answered at least once), 1 otherwise, 2 for a usage error.`,
		Args: exactArgs(1, "the name to watch"),
		RunE: func(_ *cobra.Command, args []string) error {
			run, err := f.parse(args[0], expect, "--expect")
			if err != nil {
				return err
			}
			for _, u := range urls {
				p, err := url.Parse(u)
				if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
					return withHint(&usageError{fmt.Sprintf("--http %q is not an http or https URL", u)}, "--http takes a URL such as https://www.example.com/")
				}
				run.targets = append(run.targets, watch.Target{Name: u, Kind: watch.KindHTTP, Prober: watch.HTTPProber{URL: u, Headers: headers}})
			}
			if len(run.targets) == 0 {
				return withHint(&usageError{"nothing to watch"}, "give --server HOST:PORT or --http URL")
			}
			outs, err := openOutputs(e, out, csvPath, report, svgPath)
			if err != nil {
				return err
			}
			defer outs.close()
			live := !asJSON && isTerminal(e.stdout)
			var view *watch.Live
			if live {
				view = watch.NewLive(e.stdout, run.targets)
			}
			last := map[string]watch.Observation{}
			run.observe = func(o watch.Observation, s *watch.Summary) {
				outs.record(o)
				last[o.Target] = o
				switch {
				case asJSON:
				case live:
					view.Draw(s, last, time.Now())
				default:
					fmt.Fprintln(e.stdout, watch.Line(o))
				}
			}
			s, res, interrupted := run.run()
			if !asJSON {
				fmt.Fprintln(e.stdout)
				if interrupted {
					fmt.Fprintln(e.stdout, "interrupted: the summary covers what was measured")
				}
				if err := watch.WriteText(e.stdout, res); err != nil {
					return err
				}
			} else if err := printJSON(e.stdout, res); err != nil {
				return err
			}
			problems := outs.finish(s, res)
			problems = append(problems, verdict(res, run.expect != nil)...)
			if len(problems) > 0 {
				return errors.New(strings.Join(problems, "\n  "))
			}
			return nil
		},
	}
	f.add(cmd, "server", "a DNS server to poll, HOST or HOST:PORT (repeatable; default: the system's resolvers)")
	cmd.Flags().StringArrayVar(&urls, "http", nil, "a URL to fetch at each interval (repeatable)")
	cmd.Flags().StringArrayVar(&headers, "header", nil, "a response header to record for --http (repeatable; default Server)")
	cmd.Flags().StringArrayVar(&expect, "expect", nil, "the answer every server should end with (repeatable or comma-separated; the whole set)")
	cmd.Flags().StringVar(&out, "out", "", "write every observation to this file as JSON lines, as it is made")
	cmd.Flags().StringVar(&csvPath, "csv", "", "write every observation to this CSV file, as it is made")
	cmd.Flags().StringVar(&report, "report", "", "write a self-contained HTML report (timeline and summary) at the end")
	cmd.Flags().StringVar(&svgPath, "svg", "", "write the timeline alone as an SVG file at the end")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary as one JSON object instead of text (no per-poll output)")
	return cmd
}

// add registers the shared flags; serverFlag names the flag for the servers to watch.
func (f *watchFlags) add(cmd *cobra.Command, serverFlag, serverUsage string) {
	cmd.Flags().StringVar(&f.typ, "type", "A", "the record type to ask for")
	cmd.Flags().StringArrayVar(&f.servers, serverFlag, nil, serverUsage)
	cmd.Flags().StringVar(&f.interval, "interval", "1s", "time between polls of each server and URL")
	cmd.Flags().StringVar(&f.timeout, "timeout", "", "time one poll may take, below --interval (default 80% of it)")
	cmd.Flags().StringVar(&f.duration, "duration", "", "stop after this long, e.g. 90s or 5m (default: until Ctrl-C)")
}

// parse validates the shared flags and builds the DNS targets.
func (f *watchFlags) parse(name string, expect []string, expectFlag string) (*watchRun, error) {
	r := &watchRun{}
	var err error
	if r.interval, err = parseDuration("--interval", f.interval); err != nil {
		return nil, err
	}
	if r.interval < 10*time.Millisecond {
		return nil, withHint(&usageError{fmt.Sprintf("--interval %s is too short", f.interval)}, "use at least 10ms; 1s is what a person polling by hand would use")
	}
	if f.timeout != "" {
		if r.timeout, err = parseDuration("--timeout", f.timeout); err != nil {
			return nil, err
		}
		if r.timeout >= r.interval || r.timeout <= 0 {
			return nil, withHint(&usageError{fmt.Sprintf("--timeout %s must be shorter than --interval %s", f.timeout, f.interval)}, "a poll must end before the next one starts")
		}
	} else {
		r.timeout = r.interval * 4 / 5
	}
	if f.duration != "" {
		if r.duration, err = parseDuration("--duration", f.duration); err != nil {
			return nil, err
		}
	}
	qtype, ok := dns.StringToType[strings.ToUpper(f.typ)]
	if !ok {
		return nil, withHint(&usageError{fmt.Sprintf("--type %q is not a DNS record type", f.typ)}, "for example A, AAAA, CNAME, MX, TXT")
	}
	r.typ = dns.TypeToString[qtype]
	if _, ok := dns.IsDomainName(name); !ok || name == "" {
		return nil, withHint(&usageError{fmt.Sprintf("%q is not a domain name", name)}, "for example www.example.com")
	}
	r.name = dns.Fqdn(strings.ToLower(name))
	if r.expect, err = answerValues(r.typ, expect, expectFlag); err != nil {
		return nil, err
	}
	servers := f.servers
	if len(servers) == 0 {
		cc, err := dns.ClientConfigFromFile(resolvConf)
		if err != nil || len(cc.Servers) == 0 {
			return nil, withHint(fmt.Errorf("no --server given and the system's resolvers cannot be read from %s: %v", resolvConf, err), "name the servers to poll with --server HOST:PORT")
		}
		for _, s := range cc.Servers {
			servers = append(servers, net.JoinHostPort(s, cc.Port))
		}
	}
	for _, s := range servers {
		addr, err := resolveServer(s)
		if err != nil {
			return nil, err
		}
		r.targets = append(r.targets, watch.Target{Name: s, Kind: watch.KindDNS, Prober: watch.DNSProber{Server: addr, Name: r.name, Type: qtype}})
	}
	return r, nil
}

// parseDuration reads a Go duration with a message that says what the flag takes.
func parseDuration(flag, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, withHint(&usageError{fmt.Sprintf("%s %q is not a duration", flag, s)}, "durations are written like 500ms, 30s, 5m or 1h30m")
	}
	return d, nil
}

// answerValues canonicalizes answer values of a type as the DNS presents them ("10 mx.example.com.").
func answerValues(typ string, values []string, flag string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, one := range strings.Split(v, ",") {
			one = strings.TrimSpace(one)
			if one == "" {
				continue
			}
			rr, err := dns.NewRR(". 0 IN " + typ + " " + one)
			if err != nil || rr == nil {
				return nil, withHint(&usageError{fmt.Sprintf("%s %q is not a value of a %s record", flag, one, typ)}, "give the values as a zone file writes them, e.g. 192.0.2.1 for A")
			}
			out = append(out, watch.Value(rr))
		}
	}
	if len(values) > 0 && len(out) == 0 {
		return nil, &usageError{flag + " is empty"}
	}
	sort.Strings(out)
	return out, nil
}

// resolveServer turns HOST or HOST:PORT into an IP:PORT to send queries to.
func resolveServer(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = strings.Trim(s, "[]"), "53"
	}
	if host == "" {
		return "", withHint(&usageError{fmt.Sprintf("server %q has no host", s)}, "--server takes HOST or HOST:PORT, e.g. 127.0.0.1:5353 or [::1]:53")
	}
	if ip := net.ParseIP(host); ip != nil {
		return net.JoinHostPort(ip.String(), port), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return "", withHint(fmt.Errorf("server %q does not resolve: %v", s, err), "give the server as an IP address, or check its name")
	}
	return net.JoinHostPort(addrs[0], port), nil
}

// run polls until the duration, Ctrl-C or SIGTERM (or every server reached the expected answer,
// when stopWhenReached), and returns the summary. interrupted says a signal ended it.
func (r *watchRun) run() (*watch.Summary, watch.Result, bool) {
	return r.runWith(watch.NewSummary(watch.Options{Expect: r.expect}, r.targets...))
}

func (r *watchRun) runWith(s *watch.Summary) (*watch.Summary, watch.Result, bool) {
	sigCtx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()
	var mu sync.Mutex
	watch.Run(ctx, watch.Config{Targets: r.targets, Interval: r.interval, Timeout: r.timeout, Duration: r.duration,
		Observe: func(o watch.Observation) {
			mu.Lock()
			defer mu.Unlock()
			s.Add(o)
			if r.observe != nil {
				r.observe(o, s)
			}
			if r.stopWhenReached && reachedAll(s, r.targets, r.expect) {
				cancel()
			}
		}})
	interrupted := sigCtx.Err() != nil
	res := s.Result(time.Now())
	res.Name, res.Type = r.name, r.typ
	return s, res, interrupted
}

// reachedAll reports whether every DNS target's latest answer is expect.
func reachedAll(s *watch.Summary, targets []watch.Target, expect []string) bool {
	for _, t := range targets {
		if t.Kind != watch.KindDNS {
			continue
		}
		set, _, ok := s.Latest(t.Name)
		if !ok || strings.Join(set, " ") != strings.Join(expect, " ") {
			return false
		}
	}
	return true
}

// verdict lists what makes the run fail: a server or URL that never answered, a name that does
// not exist anywhere, and with --expect a server that does not end on the expected answer.
func verdict(r watch.Result, expected bool) []string {
	var problems []string
	nx, dnsTargets := 0, 0
	for _, t := range r.Targets {
		if t.Kind == watch.KindDNS {
			dnsTargets++
			if strings.Join(t.Final, " ") == "NXDOMAIN" && len(t.Answers) == 1 {
				nx++
			}
		}
		if t.Polls == 0 {
			problems = append(problems, fmt.Sprintf("%s: no poll completed", t.Target))
			continue
		}
		if t.Final == nil {
			why := "every poll failed"
			if len(t.ErrorsBy) > 0 {
				why = fmt.Sprintf("every poll failed (%s)", t.ErrorsBy[0].Error)
				if t.Timeouts == t.Polls {
					why = fmt.Sprintf("every poll timed out (%d polls)", t.Polls)
				}
			}
			problems = append(problems, fmt.Sprintf("%s: no answer: %s", t.Target, why))
			continue
		}
		if expected && t.Kind == watch.KindDNS && !t.Reached {
			problems = append(problems, fmt.Sprintf("%s does not answer the expected %s: its last answer is %s", t.Target, watch.Show(r.Expect), watch.Show(t.Final)))
		}
	}
	if dnsTargets > 0 && nx == dnsTargets {
		problems = append([]string{fmt.Sprintf("%s does not exist: every server answered NXDOMAIN on every poll", r.Name)}, problems...)
	}
	return problems
}

// outputs are the files a watch writes.
type outputs struct {
	stderr      io.Writer
	jsonl       *watch.JSONLWriter
	csv         *watch.CSVWriter
	files       []*os.File
	report, svg string
	reportF     *os.File
	svgF        *os.File
	reportErr   error
	svgErr      error
	writeErr    error
}

// openOutputs opens --out and --csv (an error: nothing is measured) and tries --report and --svg
// (an error is reported at once and again at the end, and the run goes on).
func openOutputs(e *env, out, csvPath, report, svgPath string) (*outputs, error) {
	o := &outputs{stderr: e.stderr, report: report, svg: svgPath}
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			o.close()
			return nil, withHint(fmt.Errorf("--out: %w", err), "give a path in a directory you can write")
		}
		o.files = append(o.files, f)
		o.jsonl = watch.NewJSONLWriter(f)
	}
	if csvPath != "" {
		f, err := os.Create(csvPath)
		if err == nil {
			o.files = append(o.files, f)
			o.csv, err = watch.NewCSVWriter(f)
		}
		if err != nil {
			o.close()
			return nil, withHint(fmt.Errorf("--csv: %w", err), "give a path in a directory you can write")
		}
	}
	if report != "" {
		o.reportF, o.reportErr = os.Create(report)
		if o.reportErr != nil {
			fmt.Fprintf(e.stderr, "failoverdns: warning: --report %s cannot be written (%v); measuring all the same\n", report, o.reportErr)
		}
	}
	if svgPath != "" {
		o.svgF, o.svgErr = os.Create(svgPath)
		if o.svgErr != nil {
			fmt.Fprintf(e.stderr, "failoverdns: warning: --svg %s cannot be written (%v); measuring all the same\n", svgPath, o.svgErr)
		}
	}
	return o, nil
}

func (o *outputs) record(ob watch.Observation) {
	if o.jsonl != nil {
		if err := o.jsonl.Write(ob); err != nil && o.writeErr == nil {
			o.writeErr = fmt.Errorf("--out: %w", err)
		}
	}
	if o.csv != nil {
		if err := o.csv.Write(ob); err != nil && o.writeErr == nil {
			o.writeErr = fmt.Errorf("--csv: %w", err)
		}
	}
}

// finish writes the report and the chart and returns what could not be written.
func (o *outputs) finish(s *watch.Summary, r watch.Result) []string {
	var problems []string
	if o.writeErr != nil {
		problems = append(problems, o.writeErr.Error())
	}
	write := func(flag, path string, f *os.File, openErr error, w func(io.Writer, watch.Result) error) {
		err := openErr
		if f != nil {
			err = w(f, r)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %s cannot be written: %v (the other outputs hold what was measured)", flag, path, unwrapPath(err)))
		}
	}
	if o.report != "" {
		write("--report", o.report, o.reportF, o.reportErr, s.WriteHTML)
		o.reportF = nil
	}
	if o.svg != "" {
		write("--svg", o.svg, o.svgF, o.svgErr, s.WriteSVG)
		o.svgF = nil
	}
	return problems
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (o *outputs) close() {
	for _, f := range o.files {
		f.Close()
	}
	for _, f := range []*os.File{o.reportF, o.svgF} {
		if f != nil {
			f.Close()
		}
	}
}

// isTerminal reports whether w is a terminal (a character device), for the live view.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
