// Command failoverdns is an authoritative DNS server whose answers follow health checks, with
// Route 53's data model and API, and the CLI that drives it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// env is how commands read the environment: only main hands it out.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// run executes the CLI and is the only place errors become messages and exit codes.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := newRoot(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "failoverdns: error: %v\n", err)
	var h *hinted
	if errors.As(err, &h) && h.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.hint)
	}
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

// hinted is an error with a suggestion of what to do about it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, hint string) error { return &hinted{err: err, hint: hint} }

// usageError is a command line that cannot be run as written.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "failoverdns",
		Short:         "An authoritative DNS server whose answers follow health checks",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withHint(&usageError{err.Error()}, fmt.Sprintf("see '%s --help'", c.CommandPath()))
	})
	api := root.PersistentFlags().String("api", "", "URL of the running server's API (env FAILOVERDNS_API; default http://127.0.0.1:8053)")
	cl := func() *client {
		url := *api
		if url == "" {
			url = e.getenv("FAILOVERDNS_API")
		}
		if url == "" {
			url = "http://127.0.0.1:8053"
		}
		return newClient(url)
	}
	root.AddCommand(newServe(e), newZone(e, cl), newRecords(e, cl), newChange(e, cl), newCheck(e, cl), newEvents(e, cl), newWatch(e), newSwitch(e, cl), newVersion(e))
	root.AddCommand(newMaintenance(e, cl))
	return root
}

func newVersion(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(e.stdout, "failoverdns %s\n", version)
			return nil
		},
	}
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return withHint(&usageError{fmt.Sprintf("%s takes no arguments, got %q", c.CommandPath(), args)}, fmt.Sprintf("see '%s --help'", c.CommandPath()))
	}
	return nil
}

func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return withHint(&usageError{fmt.Sprintf("%s needs %s", c.CommandPath(), names)}, "usage: "+c.UseLine())
		}
		return nil
	}
}
