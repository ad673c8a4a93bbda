package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/spf13/cobra"
)

func newChange(e *env, cl func() *client) *cobra.Command {
	var batchArg string
	cmd := &cobra.Command{
		Use:   "change ZONE --change-batch FILE",
		Short: "Apply a Route 53 change batch (CREATE, DELETE, UPSERT) to a zone, all or nothing",
		Long: `Apply a change batch: exactly the JSON 'aws route53 change-resource-record-sets --change-batch'
takes, {"Comment": "...", "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {...}}]}.
FILE may be a path, file://PATH, or - for standard input. Prints the ChangeInfo; its Status is
INSYNC once DNS answers with the change.`,
		Args: exactArgs(1, "the zone's name or id"),
		RunE: func(_ *cobra.Command, args []string) error {
			if batchArg == "" {
				return withHint(&usageError{"--change-batch is required"}, `write the batch to a file: {"Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "www.example.com", "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.1"}]}}]}`)
			}
			f, err := openInput(e, batchArg)
			if err != nil {
				return err
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil {
				return err
			}
			var out json.RawMessage
			err = cl().do("POST", zonePath(args[0])+"/rrsets", bytes.NewReader(data), &out)
			if err != nil {
				var ae *apiError
				if errors.As(err, &ae) && bytes.Contains(data, []byte(`"ChangeBatch"`)) {
					return withHint(err, `the file holds the ChangeBatch object itself: {"Comment": ..., "Changes": [...]}, without a "ChangeBatch" key`)
				}
				return err
			}
			return printJSON(e.stdout, out)
		},
	}
	cmd.Flags().StringVar(&batchArg, "change-batch", "", "the change batch JSON: FILE, file://FILE or - (stdin)")
	return cmd
}
