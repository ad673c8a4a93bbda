package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newZone(e *env, cl func() *client) *cobra.Command {
	cmd := &cobra.Command{Use: "zone", Short: "Create, list, delete, import and export hosted zones"}
	var comment string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a hosted zone (with its SOA and NS records) and print it as JSON",
		Args:  exactArgs(1, "the zone's domain name, e.g. example.com"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out json.RawMessage
			if err := cl().do("POST", "/v1/zones", map[string]string{"Name": args[0], "Comment": comment}, &out); err != nil {
				return err
			}
			return printJSON(e.stdout, out)
		},
	}
	create.Flags().StringVar(&comment, "comment", "", "a comment stored with the zone")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the hosted zones",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			var out struct {
				HostedZones []struct {
					Id, Name               string
					ResourceRecordSetCount int64
					Config                 struct{ Comment string }
				}
			}
			if err := cl().do("GET", "/v1/zones", nil, &out); err != nil {
				return err
			}
			if listJSON {
				return printJSON(e.stdout, out)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tRECORD SETS\tCOMMENT")
			for _, z := range out.HostedZones {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", strings.TrimPrefix(z.Id, "/hostedzone/"), z.Name, z.ResourceRecordSetCount, z.Config.Comment)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON instead of a table")

	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a hosted zone that holds only its SOA and NS records",
		Args:  exactArgs(1, "the zone's name or id"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out json.RawMessage
			if err := cl().do("DELETE", zonePath(args[0]), nil, &out); err != nil {
				return notEmptyHint(err, args[0])
			}
			return printJSON(e.stdout, out)
		},
	}

	imp := &cobra.Command{
		Use:   "import NAME FILE",
		Short: "Replace a zone's records with a BIND master file (creating the zone if missing)",
		Long: `Replace every record of the zone with the contents of a BIND master file: $ORIGIN, $TTL and
relative names are understood, $INCLUDE is refused. The zone is created when it does not exist.
The SOA of the file, serial included, becomes the zone's SOA. FILE may be - for standard input.`,
		Args: exactArgs(2, "the zone's name and a master file"),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := openInput(e, args[1])
			if err != nil {
				return err
			}
			defer f.Close()
			c := cl()
			err = c.do("GET", zonePath(args[0]), nil, nil)
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				err = c.do("POST", "/v1/zones", map[string]string{"Name": args[0]}, nil)
			}
			if err != nil {
				return err
			}
			var out json.RawMessage
			if err := c.do("PUT", zonePath(args[0])+"/file", f, &out); err != nil {
				return err
			}
			return printJSON(e.stdout, out)
		},
	}

	export := &cobra.Command{
		Use:   "export NAME",
		Short: "Print a zone as a BIND master file",
		Args:  exactArgs(1, "the zone's name or id"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out []byte
			if err := cl().do("GET", zonePath(args[0])+"/file", nil, &out); err != nil {
				return err
			}
			_, err := e.stdout.Write(out)
			return err
		},
	}
	cmd.AddCommand(create, list, del, imp, export)
	return cmd
}

func notEmptyHint(err error, ref string) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Code == "HostedZoneNotEmpty" {
		return withHint(err, fmt.Sprintf("list them with 'failoverdns records %s' and DELETE them with 'failoverdns change'", ref))
	}
	return err
}

// openInput opens a file argument: a path, file://PATH, or - for standard input.
func openInput(e *env, arg string) (io.ReadCloser, error) {
	if arg == "-" {
		return io.NopCloser(e.stdin), nil
	}
	f, err := os.Open(strings.TrimPrefix(arg, "file://"))
	if err != nil {
		return nil, withHint(err, "give a readable file, file://PATH, or - for standard input")
	}
	return f, nil
}
