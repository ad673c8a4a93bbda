package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/failoverdns/failoverdns/internal/watch"
	"github.com/failoverdns/failoverdns/internal/zone"
)

func newSwitch(e *env, cl func() *client) *cobra.Command {
	var (
		f   watchFlags
		to  []string
		ttl int64
	)
	cmd := &cobra.Command{
		Use:   "switch ZONE NAME --to VALUE[,VALUE] [--watch-server HOST:PORT ...]",
		Short: "Point a record at new values through the API and measure how long each server takes to answer them",
		Long: `Switch applies an UPSERT of NAME's simple record set (NAME relative to ZONE, or fully qualified)
and watches the --watch-server servers (default: the system's resolvers) in the same command.
Time zero is the moment the API acknowledged the change; for each server it prints how long it
took to answer the new values. It stops once every server answers them, or at --duration
(default: twice the TTL plus 30 s). Exit status 0 when every server answers the new values.`,
		Args: exactArgs(2, "the zone and the name"),
		RunE: func(c *cobra.Command, args []string) error {
			if len(to) == 0 {
				return withHint(&usageError{"--to is required"}, "give the new values, e.g. --to 192.0.2.2 or --to 192.0.2.2,192.0.2.3")
			}
			api := cl()
			var hz struct{ HostedZone struct{ Id, Name string } }
			if err := api.do("GET", zonePath(args[0]), nil, &hz); err != nil {
				return err
			}
			zoneName := dns.Fqdn(strings.ToLower(hz.HostedZone.Name))
			name := dns.Fqdn(strings.ToLower(args[1]))
			if name != zoneName && !strings.HasSuffix(name, "."+zoneName) {
				name = strings.TrimSuffix(name, ".") + "." + zoneName
			}
			run, err := f.parse(name, to, "--to")
			if err != nil {
				return err
			}
			// The TTL: --ttl, or the record set's own, or 300 for a new one.
			var sets struct{ ResourceRecordSets []zone.RecordSet }
			if err := api.do("GET", zonePath(args[0])+"/rrsets", nil, &sets); err != nil {
				return err
			}
			ttlNow := int64(300)
			for _, rs := range sets.ResourceRecordSets {
				if dns.Fqdn(strings.ToLower(rs.Name)) != name || rs.Type != run.typ {
					continue
				}
				if rs.SetIdentifier != "" || rs.AliasTarget != nil {
					return withHint(fmt.Errorf("%s %s is not a simple record set (it has a routing policy or is an alias); switch changes simple record sets only", name, run.typ),
						"change it with 'failoverdns change' and measure with 'failoverdns watch'")
				}
				if rs.TTL != nil {
					ttlNow = *rs.TTL
				}
			}
			if c.Flags().Changed("ttl") {
				if ttl < 0 || ttl > 2147483647 {
					return withHint(&usageError{fmt.Sprintf("--ttl %d is out of range", ttl)}, "a TTL is 0 to 2147483647 seconds")
				}
				ttlNow = ttl
			}
			if f.duration == "" {
				run.duration = 2*time.Duration(ttlNow)*time.Second + 30*time.Second
			}
			// The answer before the change, from every server once.
			before := probeOnce(run)
			rs := zone.RecordSet{Name: name, Type: run.typ, TTL: &ttlNow}
			for _, v := range run.expect {
				rs.ResourceRecords = append(rs.ResourceRecords, zone.ResourceRecord{Value: v})
			}
			batch := map[string]any{"Comment": "failoverdns switch", "Changes": []any{map[string]any{"Action": "UPSERT", "ResourceRecordSet": rs}}}
			var ack struct{ ChangeInfo struct{ Id, Status string } }
			if err := api.do("POST", zonePath(args[0])+"/rrsets", batch, &ack); err != nil {
				return err
			}
			zero := time.Now()
			fmt.Fprintf(e.stdout, "%s %s -> %s (TTL %d): the API acknowledged %s (%s) at %s; watching %d servers\n",
				name, run.typ, watch.Show(run.expect), ttlNow, ack.ChangeInfo.Id, ack.ChangeInfo.Status, zero.UTC().Format(watch.TimeLayout), len(run.targets))
			summary := watch.NewSummary(watch.Options{Expect: run.expect, Zero: zero}, run.targets...)
			for _, o := range before {
				summary.Add(o)
			}
			run.stopWhenReached = true
			_, res, interrupted := run.runWith(summary)
			if interrupted {
				fmt.Fprintln(e.stdout, "interrupted")
			}
			var late []string
			for _, t := range res.Targets {
				if t.Reached {
					fmt.Fprintf(e.stdout, "%s  answers %s after %s\n", t.Target, watch.Show(res.Expect), time.Duration(*t.After).Round(time.Microsecond))
					continue
				}
				fmt.Fprintf(e.stdout, "%s  still answers %s after %s\n", t.Target, finalText(t), res.End.Sub(zero).Round(time.Millisecond))
				late = append(late, t.Target)
			}
			if len(late) > 0 {
				return withHint(errors.New("not every server answers the new values: "+strings.Join(late, ", ")),
					"a caching resolver answers the old values until the TTL it cached them with runs out; a longer --duration waits for it")
			}
			return nil
		},
	}
	f.add(cmd, "watch-server", "a DNS server to watch, HOST or HOST:PORT (repeatable; default: the system's resolvers)")
	cmd.Flags().StringSliceVar(&to, "to", nil, "the new values (comma-separated or repeated)")
	cmd.Flags().Int64Var(&ttl, "ttl", 0, "the record set's TTL (default: keep it; 300 for a new record set)")
	return cmd
}

// probeOnce polls every target once, concurrently: the answers before a change.
func probeOnce(run *watchRun) []watch.Observation {
	obs := make([]watch.Observation, len(run.targets))
	var wg sync.WaitGroup
	for i, t := range run.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), run.timeout)
			defer cancel()
			obs[i] = t.Prober.Probe(ctx)
			obs[i].Target, obs[i].Kind = t.Name, t.Kind
		}()
	}
	wg.Wait()
	return obs
}

func finalText(t watch.TargetResult) string {
	if t.Final == nil {
		return "nothing (every poll failed)"
	}
	return watch.Show(t.Final)
}
