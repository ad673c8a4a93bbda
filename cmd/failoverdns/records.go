package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/failoverdns/failoverdns/internal/zone"
)

func newRecords(e *env, cl func() *client) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "records ZONE",
		Short: "List a zone's record sets (--json: as 'aws route53 list-resource-record-sets' prints them)",
		Args:  exactArgs(1, "the zone's name or id"),
		RunE: func(_ *cobra.Command, args []string) error {
			var out struct {
				ResourceRecordSets []zone.RecordSet
			}
			if err := cl().do("GET", zonePath(args[0])+"/rrsets", nil, &out); err != nil {
				return err
			}
			if asJSON {
				return printJSON(e.stdout, out)
			}
			return printRecordTable(e.stdout, out.ResourceRecordSets)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func printRecordTable(w io.Writer, sets []zone.RecordSet) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tTTL\tROUTING\tHEALTH CHECK\tVALUES")
	for _, rs := range sets {
		ttl := "-"
		if rs.TTL != nil {
			ttl = strconv.FormatInt(*rs.TTL, 10)
		}
		var values []string
		for _, v := range rs.ResourceRecords {
			values = append(values, v.Value)
		}
		if rs.AliasTarget != nil {
			values = append(values, "alias "+rs.AliasTarget.DNSName)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", rs.Name, rs.Type, ttl, routing(rs), orDash(rs.HealthCheckId), strings.Join(values, " | "))
	}
	return tw.Flush()
}

// routing describes a record set's routing policy in a few words.
func routing(rs zone.RecordSet) string {
	var p string
	switch {
	case rs.Failover != "":
		p = "failover " + rs.Failover
	case rs.Weight != nil:
		p = "weight " + strconv.FormatInt(*rs.Weight, 10)
	case rs.MultiValueAnswer != nil && *rs.MultiValueAnswer:
		p = "multivalue"
	case rs.Region != "":
		p = "latency " + rs.Region
	case rs.GeoLocation != nil:
		g, _ := json.Marshal(rs.GeoLocation)
		p = "geo " + string(g)
	case rs.CidrRoutingConfig != nil:
		p = "cidr " + rs.CidrRoutingConfig.LocationName
	case rs.GeoProximityLocation != nil:
		p = "geoproximity"
	default:
		return "simple"
	}
	return p + " (" + rs.SetIdentifier + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
