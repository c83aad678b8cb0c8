// Command otlpd is an OpenTelemetry backend in one binary: it receives OTLP traces, metrics and logs, stores
// them, and serves a web UI and query APIs over them. Run `otlpd help` for the subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand. run gets the arguments after the subcommand's name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "receive, store and serve OTLP traces, metrics and logs", runServe},
		{"loadgen", "send the reference workload to an OTLP endpoint and report throughput and latency", runLoadgen},
		{"query", "search traces and logs, show a trace, evaluate PromQL against a running otlpd", runQuery},
		{"tail", "print spans, logs and metric points live as a running otlpd receives them", runTail},
		{"version", "print the version", runVersion},
	}
}

// usageError marks an error caused by bad arguments: it exits with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "otlpd %s: %v\n", c.name, err)
			return 2
		default:
			fmt.Fprintf(stderr, "otlpd %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "otlpd: unknown command %q; run 'otlpd help'\n", args[0])
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "otlpd: an OpenTelemetry backend in one binary.\n\nUsage: otlpd <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'otlpd <command> --help' for a command's flags and examples.")
}

// newFlagSet returns a flag set whose errors are returned, not printed with os.Exit, and whose --help prints
// the usage with examples to stdout.
func newFlagSet(name, usage string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: otlpd %s [flags]\n\n%s\n\nFlags:\n", name, usage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// tokenFlag registers --token: the bearer token sent to a server with auth.query on. Its default comes from
// the environment variable OTLPD_TOKEN, which keeps the token out of the process list and shell history.
func tokenFlag(fs *flag.FlagSet) *string {
	return fs.String("token", os.Getenv("OTLPD_TOKEN"), "bearer token for a server with authentication on (default $OTLPD_TOKEN)")
}

// authHeaders returns the request headers that carry token, or nil when there is none.
func authHeaders(token string) map[string]string {
	if token = strings.TrimSpace(token); token == "" {
		return nil
	}
	return map[string]string{"Authorization": "Bearer " + token}
}

// parseFlags parses args; --help prints the usage and returns flag.ErrHelp, a bad flag returns a usageError.
func parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package prints the usage on every parse error; only --help should.
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	if err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
