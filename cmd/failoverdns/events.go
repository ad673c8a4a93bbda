package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// event is one line of 'failoverdns events'.
type event struct {
	Seq                                         uint64
	Time                                        time.Time
	Kind, Subject, Before, After, Cause, Reason string
}

func (ev event) line() string {
	s := fmt.Sprintf("%s  %-6s  %s  %s -> %s", ev.Time.Format("2006-01-02T15:04:05.000Z07:00"), ev.Kind, ev.Subject, ev.Before, ev.After)
	if ev.Cause != "" || ev.Reason != "" {
		s += fmt.Sprintf("  (%s", ev.Cause)
		if ev.Reason != "" {
			s += ": " + ev.Reason
		}
		s += ")"
	}
	return s
}

func newEvents(e *env, cl func() *client) *cobra.Command {
	var follow, asJSON bool
	var after uint64
	cmd := &cobra.Command{
		Use:   "events [--follow] [--json] [--after SEQ]",
		Short: "Show health transitions and changes of answer, oldest first",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			c := cl()
			print := func(ev event, raw json.RawMessage) error {
				if asJSON {
					_, err := fmt.Fprintf(e.stdout, "%s\n", raw)
					return err
				}
				_, err := fmt.Fprintln(e.stdout, ev.line())
				return err
			}
			if !follow {
				var out struct{ Events []json.RawMessage }
				for {
					if err := c.do("GET", "/v1/events?after="+strconv.FormatUint(after, 10), nil, &out); err != nil {
						return err
					}
					if len(out.Events) == 0 {
						return nil
					}
					for _, raw := range out.Events {
						var ev event
						if err := json.Unmarshal(raw, &ev); err != nil {
							return err
						}
						if err := print(ev, raw); err != nil {
							return err
						}
						after = ev.Seq
					}
				}
			}
			// Follow: a stream of JSON lines that ends only when the server goes away.
			req, err := http.NewRequest("GET", c.base+"/v1/events?follow=1&after="+strconv.FormatUint(after, 10), nil)
			if err != nil {
				return err
			}
			resp, err := (&http.Client{}).Do(req)
			if err != nil {
				return withHint(fmt.Errorf("cannot reach the failoverdns API at %s: %w", c.base, err), "is 'failoverdns serve' running?")
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				body, _ := io.ReadAll(resp.Body)
				return fmt.Errorf("the API answered %s: %s", resp.Status, body)
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				var ev event
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					return fmt.Errorf("unreadable event from the API: %w", err)
				}
				if err := print(ev, sc.Bytes()); err != nil {
					return err
				}
			}
			if err := sc.Err(); err != nil {
				return fmt.Errorf("the event stream broke: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing events as they happen")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per event")
	cmd.Flags().Uint64Var(&after, "after", 0, "only events after this Seq")
	return cmd
}
