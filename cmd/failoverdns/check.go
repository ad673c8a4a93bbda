package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newCheck(e *env, cl func() *client) *cobra.Command {
	cmd := &cobra.Command{Use: "check", Short: "Create, inspect, update, force and delete health checks"}

	var ref, cfgArg string
	create := &cobra.Command{
		Use:   "create --caller-reference REF --config FILE|JSON",
		Short: "Create a health check (Route 53's HealthCheckConfig) and print it with its Id",
		Long: `Create a health check from a Route 53 HealthCheckConfig, given inline as JSON or as a file
(FILE, file://FILE, or - for standard input), e.g.
  {"Type": "HTTP", "IPAddress": "10.0.0.5", "Port": 80, "ResourcePath": "/health",
   "RequestInterval": 1, "FailureThreshold": 3, "RecoveryThreshold": 5}
RequestInterval is in seconds and may be as short as 0.1. Running the same command again
returns the same check.`,
		Args: noArgs,
		RunE: func(*cobra.Command, []string) error {
			if ref == "" || cfgArg == "" {
				return withHint(&usageError{"check create needs --caller-reference and --config"}, "the caller reference is any unique string, e.g. primary-web-1")
			}
			cfg, err := jsonArg(e, cfgArg)
			if err != nil {
				return err
			}
			var out json.RawMessage
			if err := cl().do("POST", "/v1/healthchecks", map[string]any{"CallerReference": ref, "HealthCheckConfig": cfg}, &out); err != nil {
				return err
			}
			return printJSON(e.stdout, out)
		},
	}
	create.Flags().StringVar(&ref, "caller-reference", "", "a unique string that makes retries safe")
	create.Flags().StringVar(&cfgArg, "config", "", "the HealthCheckConfig: JSON, FILE, file://FILE or -")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the health checks",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			var out struct {
				HealthChecks []struct {
					Id                 string
					CallerReference    string
					HealthCheckVersion int64
					HealthCheckConfig  map[string]any
					Force              *struct{ Healthy bool }
				}
			}
			if err := cl().do("GET", "/v1/healthchecks", nil, &out); err != nil {
				return err
			}
			if listJSON {
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tTARGET\tINTERVAL\tFORCED\tCALLER REFERENCE")
			for _, hc := range out.HealthChecks {
				c := hc.HealthCheckConfig
				forced := "-"
				if hc.Force != nil {
					forced = map[bool]string{true: "healthy", false: "unhealthy"}[hc.Force.Healthy]
				}
				fmt.Fprintf(tw, "%s\t%v\t%s\t%vs\t%s\t%s\n", hc.Id, c["Type"], target(c), orZero(c["RequestInterval"]), forced, hc.CallerReference)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON instead of a table")

	get := &cobra.Command{
		Use:   "get ID",
		Short: "Print a health check as JSON",
		Args:  exactArgs(1, "a health check id"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out json.RawMessage
			if err := cl().do("GET", "/v1/healthchecks/"+args[0], nil, &out); err != nil {
				return err
			}
			return printJSON(e.stdout, out)
		},
	}

	var version int64
	var reset []string
	update := &cobra.Command{
		Use:   "update ID --config JSON [--version N] [--reset FIELD]",
		Short: "Change fields of a health check (the fields given replace the stored ones)",
		Args:  exactArgs(1, "a health check id"),
		RunE: func(_ *cobra.Command, args []string) error {
			body := map[string]any{"HealthCheckVersion": version, "ResetElements": reset}
			if cfgArg != "" {
				cfg, err := jsonArg(e, cfgArg)
				if err != nil {
					return err
				}
				body["HealthCheckConfig"] = cfg
			}
			var out json.RawMessage
			if err := cl().do("PATCH", "/v1/healthchecks/"+args[0], body, &out); err != nil {
				return err
			}
			return printJSON(e.stdout, out)
		},
	}
	update.Flags().StringVar(&cfgArg, "config", "", "the fields to change, as JSON, FILE, file://FILE or -")
	update.Flags().Int64Var(&version, "version", 0, "fail unless the check is at this HealthCheckVersion")
	update.Flags().StringSliceVar(&reset, "reset", nil, "reset a field to its default (FullyQualifiedDomainName, Regions, ResourcePath, ChildHealthChecks)")

	del := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a health check that no record set uses",
		Args:  exactArgs(1, "a health check id"),
		RunE: func(_ *cobra.Command, args []string) error {
			return cl().do("DELETE", "/v1/healthchecks/"+args[0], nil, nil)
		},
	}

	var statusJSON bool
	status := &cobra.Command{
		Use:   "status ID",
		Short: "Show a health check's state and its latest observations",
		Args:  exactArgs(1, "a health check id"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out checkStatus
			var raw json.RawMessage
			if err := cl().do("GET", "/v1/healthchecks/"+args[0]+"/status", nil, &raw); err != nil {
				return err
			}
			if statusJSON {
				return printJSON(e.stdout, raw)
			}
			if err := json.Unmarshal(raw, &out); err != nil {
				return err
			}
			return out.print(e.stdout)
		},
	}
	status.Flags().BoolVar(&statusJSON, "json", false, "print JSON")

	var reason, until string
	var clearForce bool
	force := &cobra.Command{
		Use:   "force ID healthy|unhealthy [--reason TEXT] [--until TIME] | force ID --clear",
		Short: "Pin a health check's state (maintenance, drills), or --clear the pin",
		Long: `Pin the state routing uses for a health check, whatever its probes say, until --clear or
--until (an RFC 3339 time such as 2026-11-23T18:00:00Z, or a duration from now such as 30m).
The forced state is stored: it survives restarts, and 'check status' shows it with its reason.`,
		Args: func(c *cobra.Command, args []string) error {
			if clearForce && len(args) == 1 || !clearForce && len(args) == 2 && (args[1] == "healthy" || args[1] == "unhealthy") {
				return nil
			}
			return withHint(&usageError{"check force needs a check id and healthy or unhealthy, or --clear"}, "usage: "+c.UseLine())
		},
		RunE: func(_ *cobra.Command, args []string) error {
			path := "/v1/healthchecks/" + args[0] + "/force"
			var out json.RawMessage
			if clearForce {
				if err := cl().do("DELETE", path, nil, &out); err != nil {
					return err
				}
				return printJSON(e.stdout, out)
			}
			body := map[string]any{"State": args[1], "Reason": reason}
			if until != "" {
				t, err := parseUntil(until, time.Now())
				if err != nil {
					return err
				}
				body["Until"] = t
			}
			if err := cl().do("PUT", path, body, &out); err != nil {
				return err
			}
			return printJSON(e.stdout, out)
		},
	}
	force.Flags().StringVar(&reason, "reason", "", "why, shown in status and events")
	force.Flags().StringVar(&until, "until", "", "when the forced state ends: RFC 3339 time or a duration (30m)")
	force.Flags().BoolVar(&clearForce, "clear", false, "end the forced state")

	cmd.AddCommand(create, list, get, update, del, status, force)
	return cmd
}

// parseUntil reads an RFC 3339 time or a duration from now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, withHint(&usageError{fmt.Sprintf("--until %q is neither an RFC 3339 time nor a positive duration", s)}, "e.g. --until 2026-11-23T18:00:00Z or --until 30m")
}

// jsonArg reads a JSON argument given inline ({...}) or as FILE, file://FILE or -.
func jsonArg(e *env, arg string) (json.RawMessage, error) {
	var data []byte
	if strings.HasPrefix(strings.TrimSpace(arg), "{") {
		data = []byte(arg)
	} else {
		f, err := openInput(e, arg)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if data, err = io.ReadAll(f); err != nil {
			return nil, err
		}
	}
	if !json.Valid(data) {
		return nil, withHint(fmt.Errorf("%s is not valid JSON", describeArg(arg)), `e.g. {"Type": "HTTP", "IPAddress": "192.0.2.10", "Port": 80}`)
	}
	return data, nil
}

func describeArg(arg string) string {
	if strings.HasPrefix(strings.TrimSpace(arg), "{") {
		return "the inline argument"
	}
	return arg
}

func target(c map[string]any) string {
	host, _ := c["IPAddress"].(string)
	if host == "" {
		host, _ = c["FullyQualifiedDomainName"].(string)
	}
	if kids, ok := c["ChildHealthChecks"].([]any); ok {
		return fmt.Sprintf("%v of %d children", orZero(c["HealthThreshold"]), len(kids))
	}
	if p, ok := c["Port"]; ok {
		host = fmt.Sprintf("%s:%v", host, p)
	}
	if path, ok := c["ResourcePath"].(string); ok {
		host += path
	}
	return host
}

func orZero(v any) any {
	if v == nil {
		return 0
	}
	return v
}

// checkStatus is what 'check status' shows.
type checkStatus struct {
	Id, Status, Reason string
	Since              time.Time
	Force              *struct {
		Healthy bool
		Reason  string
		Until   time.Time
	}
	ConsecutiveFailures, ConsecutiveSuccesses int
	HealthyChildren                           *int
	Observations                              []struct {
		Time    time.Time
		Healthy bool
		Latency time.Duration
		Status  string
	}
}

func (s checkStatus) print(w io.Writer) error {
	fmt.Fprintf(w, "%s: %s since %s (%s)\n", s.Id, strings.ToUpper(s.Status), s.Since.Format(time.RFC3339), s.Reason)
	if s.Force != nil {
		until := "until cleared"
		if !s.Force.Until.IsZero() {
			until = "until " + s.Force.Until.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "forced %s %s: %s\n", map[bool]string{true: "healthy", false: "unhealthy"}[s.Force.Healthy], until, s.Force.Reason)
	}
	fmt.Fprintf(w, "consecutive failures %d, successes %d\n", s.ConsecutiveFailures, s.ConsecutiveSuccesses)
	if len(s.Observations) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tLATENCY\tSTATUS")
	for _, o := range s.Observations {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", o.Time.Format("15:04:05.000"), o.Latency.Round(time.Microsecond*100), o.Status)
	}
	return tw.Flush()
}
