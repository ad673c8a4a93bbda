package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// window is a maintenance window as the API returns it.
type window struct {
	Id, Zone, Name, Type, State, Comment            string
	To, Original, Warnings                          []string
	TTL, TTLDuring                                  int64
	Start, End, LowerTTLAt, RestoreTTLAt, Cancelled time.Time
	Steps                                           []struct {
		Step     string
		Time     time.Time
		ChangeId string
		Note     string
	}
}

const timeLayout = "2006-01-02T15:04:05Z07:00"

// parseWhen reads a time given as RFC 3339 or as +DURATION from now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, withHint(&usageError{"maintenance create needs --" + flag}, "give a time in RFC 3339 (2026-11-23T22:00:00Z) or relative to now (+10m)")
	}
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err == nil && dur > 0 {
			return now.Add(dur), nil
		}
	} else if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, withHint(&usageError{fmt.Sprintf("--%s %q is not a time", flag, s)}, "give a time in RFC 3339 (2026-11-23T22:00:00Z, or with an offset like +02:00) or relative to now (+10m, +1h30m)")
}

func newMaintenance(e *env, cl func() *client) *cobra.Command {
	cmd := &cobra.Command{Use: "maintenance", Short: "Plan, list and cancel maintenance windows: a record switched to other values for a while"}

	var zoneRef, name, typ, start, end, comment string
	var to []string
	var ttlDuring int64
	var createJSON bool
	create := &cobra.Command{
		Use:   "create --zone ZONE --name NAME [--type A] --to VALUE[,VALUE] --start TIME --end TIME [--ttl-during SECONDS]",
		Short: "Schedule a maintenance window on a simple record set",
		Long: `Schedule a maintenance window: the server switches the record set NAME TYPE of ZONE to the
--to values at --start and back at --end. Ahead of the start it lowers the record's TTL to
--ttl-during (default 60, or the record's TTL when lower) early enough that no cache holds the
old TTL when the window starts, and it restores the TTL once the lowered one has expired after
the end. Each step is one atomic change and an event. Times are RFC 3339 or +DURATION from now.`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if zoneRef == "" || name == "" || len(to) == 0 {
				return withHint(&usageError{"maintenance create needs --zone, --name and --to"}, "usage: "+c.UseLine())
			}
			now := time.Now()
			st, err := parseWhen("start", start, now)
			if err != nil {
				return err
			}
			en, err := parseWhen("end", end, now)
			if err != nil {
				return err
			}
			req := map[string]any{"Zone": zoneRef, "Name": name, "Type": typ, "To": to, "Start": st, "End": en, "Comment": comment}
			if c.Flags().Changed("ttl-during") {
				req["TTLDuring"] = ttlDuring
			}
			var out struct{ MaintenanceWindow json.RawMessage }
			if err := cl().do("POST", "/v1/maintenance", req, &out); err != nil {
				return err
			}
			var w window
			if err := json.Unmarshal(out.MaintenanceWindow, &w); err != nil {
				return err
			}
			for _, warn := range w.Warnings {
				fmt.Fprintf(e.stderr, "failoverdns: warning: %s\n", warn)
			}
			if createJSON {
				return printJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "maintenance window %s on %s %s\n", w.Id, w.Name, w.Type)
			if w.LowerTTLAt.Before(w.Start) {
				fmt.Fprintf(e.stdout, "  %s  TTL %d -> %d\n", w.LowerTTLAt.Format(timeLayout), w.TTL, w.TTLDuring)
			}
			fmt.Fprintf(e.stdout, "  %s  %s -> %s (TTL %d)\n", w.Start.Format(timeLayout), strings.Join(w.Original, ","), strings.Join(w.To, ","), w.TTLDuring)
			fmt.Fprintf(e.stdout, "  %s  back to %s\n", w.End.Format(timeLayout), strings.Join(w.Original, ","))
			if w.TTLDuring != w.TTL {
				fmt.Fprintf(e.stdout, "  %s  TTL %d -> %d\n", w.RestoreTTLAt.Format(timeLayout), w.TTLDuring, w.TTL)
			}
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&zoneRef, "zone", "", "the hosted zone (name or id)")
	f.StringVar(&name, "name", "", "the record set's name (relative to the zone unless it ends with a dot)")
	f.StringVar(&typ, "type", "A", "the record set's type")
	f.StringSliceVar(&to, "to", nil, "the values served during the window (comma-separated or repeated)")
	f.StringVar(&start, "start", "", "when the window starts: RFC 3339 or +DURATION")
	f.StringVar(&end, "end", "", "when the window ends: RFC 3339 or +DURATION")
	f.Int64Var(&ttlDuring, "ttl-during", 0, "the TTL served from before the start until after the end (default 60, or the record's TTL when lower)")
	f.StringVar(&comment, "comment", "", "a note kept with the window")
	f.BoolVar(&createJSON, "json", false, "print the window as JSON")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the maintenance windows, by start time",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			var out struct{ MaintenanceWindows []json.RawMessage }
			if err := cl().do("GET", "/v1/maintenance", nil, &out); err != nil {
				return err
			}
			if listJSON {
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tNAME\tTYPE\tSTART\tEND\tTO\tTTL")
			for _, raw := range out.MaintenanceWindows {
				var w window
				if err := json.Unmarshal(raw, &w); err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d -> %d\n", w.Id, w.State, w.Name, w.Type,
					w.Start.Local().Format(timeLayout), w.End.Local().Format(timeLayout), strings.Join(w.To, ","), w.TTL, w.TTLDuring)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print the windows as JSON")

	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a maintenance window; one under way ends now (switch back, then restore the TTL)",
		Args:  exactArgs(1, "the window's ID (see 'failoverdns maintenance list')"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out struct{ MaintenanceWindow window }
			if err := cl().do("DELETE", "/v1/maintenance/"+url.PathEscape(args[0]), nil, &out); err != nil {
				return err
			}
			w := out.MaintenanceWindow
			if w.State == "cancelled" {
				fmt.Fprintf(e.stdout, "maintenance window %s cancelled; nothing had changed\n", w.Id)
			} else {
				fmt.Fprintf(e.stdout, "maintenance window %s ends now: %s %s switches back to %s\n", w.Id, w.Name, w.Type, strings.Join(w.Original, ","))
			}
			return nil
		},
	}
	cmd.AddCommand(create, list, cancel)
	return cmd
}
