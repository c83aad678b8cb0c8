package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/apiclient"
	"github.com/otlpd/otlpd/internal/tail"
)

const queryUsage = `Query a running otlpd from the terminal: search traces, show one trace, search logs, evaluate PromQL.
Results print as a table, or as the server's JSON with --output json.

Usage:
  otlpd query traces [flags]              search traces (newest first)
  otlpd query trace [flags] TRACE_ID      every span of one trace, as a tree
  otlpd query logs [flags]                search log records
  otlpd query promql [flags] EXPRESSION   evaluate PromQL (instant, or a range with --since)
  otlpd query services [flags]            the services that sent spans

Examples:
  otlpd query traces --filter 'service.name = "checkout" and duration > 250ms' --since 1h
  otlpd query trace 4bf92f3577b34da6a3ce929d0e0e4736
  otlpd query logs --filter 'severity >= error' --limit 50
  otlpd query promql 'sum by (http_route) (rate(http_server_request_duration_milliseconds_count[5m]))'
  otlpd query promql --since 1h --step 1m 'count by (job) (target_info)'
  otlpd query traces --service cart --output json | jq '.traces[].traceId'`

// queryFlags are the flags every query subcommand takes.
type queryFlags struct {
	server, output, filter, service, operation, traceID, order, start, end, at string
	since, minDuration, maxDuration, step, timeout                             time.Duration
	limit                                                                      int
	utc                                                                        bool
}

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlagSet("query", queryUsage, stdout)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fmt.Fprintln(stdout, queryUsage)
		return usageError{errors.New("missing what to query: traces, trace, logs, promql or services")}
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("query "+sub, queryUsage, stdout)
	var f queryFlags
	fs.StringVar(&f.server, "server", "127.0.0.1:4320", "UI/API address of the running otlpd")
	token := tokenFlag(fs)
	fs.StringVar(&f.output, "output", "table", "table or json")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for the answer")
	fs.BoolVar(&f.utc, "utc", false, "print times in UTC instead of local time")
	fs.DurationVar(&f.since, "since", 0, "look back this far from now, e.g. 15m or 24h (default: the server's default range)")
	fs.StringVar(&f.start, "start", "", "start of the time range, RFC 3339 (instead of --since)")
	fs.StringVar(&f.end, "end", "", "end of the time range, RFC 3339 (default now)")
	switch sub {
	case "traces":
		fs.StringVar(&f.filter, "filter", "", "filter expression (docs/filter.md)")
		fs.StringVar(&f.service, "service", "", "service.name")
		fs.StringVar(&f.operation, "operation", "", "span name")
		fs.DurationVar(&f.minDuration, "min-duration", 0, "only traces with a matching span at least this long")
		fs.DurationVar(&f.maxDuration, "max-duration", 0, "only traces with a matching span at most this long")
		fs.IntVar(&f.limit, "limit", 20, "how many traces")
	case "logs":
		fs.StringVar(&f.filter, "filter", "", "filter expression (docs/filter.md)")
		fs.StringVar(&f.traceID, "trace-id", "", "only records of this trace")
		fs.StringVar(&f.order, "order", "newest", "newest or oldest first")
		fs.IntVar(&f.limit, "limit", 100, "how many records")
	case "promql":
		fs.DurationVar(&f.step, "step", 0, "with --since or --start: the step of a range query (default: about 60 points)")
		fs.StringVar(&f.at, "time", "", "evaluation time of an instant query, RFC 3339 (default now)")
	case "trace", "services":
	default:
		return usageError{fmt.Errorf("unknown query %q: want traces, trace, logs, promql or services", sub)}
	}
	positional, flagArgs := splitPositional(sub, args)
	if err := parseFlags(fs, flagArgs); err != nil {
		return err
	}
	if f.output != "table" && f.output != "json" {
		return usageError{fmt.Errorf("--output %q: want table or json", f.output)}
	}
	loc := time.Local
	if f.utc {
		loc = time.UTC
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	c := &apiclient.Client{BaseURL: f.server, Headers: authHeaders(*token)}
	q := url.Values{}
	if err := f.timeRange(q, sub == "promql"); err != nil {
		return err
	}
	var (
		path   string
		render func(body []byte) error
	)
	switch sub {
	case "traces":
		path = "/api/otlpd/traces"
		setIf(q, "filter", f.filter)
		setIf(q, "service", f.service)
		setIf(q, "operation", f.operation)
		if f.minDuration > 0 {
			q.Set("minDuration", f.minDuration.String())
		}
		if f.maxDuration > 0 {
			q.Set("maxDuration", f.maxDuration.String())
		}
		q.Set("limit", strconv.Itoa(f.limit))
		render = func(b []byte) error { return renderTraces(stdout, b, loc) }
	case "trace":
		if len(positional) != 1 {
			return usageError{errors.New("want one trace ID: otlpd query trace TRACE_ID")}
		}
		path = "/api/otlpd/traces/" + url.PathEscape(positional[0])
		q = url.Values{}
		render = func(b []byte) error { return renderTrace(stdout, b) }
	case "logs":
		path = "/api/otlpd/logs/search"
		setIf(q, "filter", f.filter)
		setIf(q, "traceID", f.traceID)
		q.Set("order", f.order)
		q.Set("limit", strconv.Itoa(f.limit))
		render = func(b []byte) error { return renderLogs(stdout, b, loc) }
	case "services":
		path = "/api/otlpd/services"
		q = url.Values{}
		render = func(b []byte) error { return renderServices(stdout, b) }
	case "promql":
		if len(positional) != 1 {
			return usageError{errors.New("want one PromQL expression (quote it): otlpd query promql 'EXPRESSION'")}
		}
		q.Set("query", positional[0])
		path = "/api/v1/query"
		if q.Has("start") {
			path = "/api/v1/query_range"
			if err := promRange(q, f.step); err != nil {
				return err
			}
		} else if f.at != "" {
			t, err := time.Parse(time.RFC3339Nano, f.at)
			if err != nil {
				return usageError{fmt.Errorf("--time %q: want an RFC 3339 time", f.at)}
			}
			q.Set("time", strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
		}
		render = func(b []byte) error { return renderPromQL(stdout, b, loc) }
	}
	body, err := c.Get(ctx, path, q)
	var se *apiclient.StatusError
	if errors.As(err, &se) && se.Code/100 == 4 && se.Code != 404 {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if f.output == "json" {
		var out bytes.Buffer
		if json.Indent(&out, body, "", "  ") != nil {
			out.Reset()
			out.Write(body)
		}
		out.WriteByte('\n')
		_, err := stdout.Write(out.Bytes())
		return err
	}
	return render(body)
}

// splitPositional separates the positional arguments (a trace ID, a PromQL expression) from the flags, which
// may come before or after them.
func splitPositional(sub string, args []string) (positional, flags []string) {
	if sub != "trace" && sub != "promql" {
		return nil, args
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(positional, args[i+1:]...), flags
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && name != "utc" && name != "h" && name != "help" && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	return positional, flags
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// timeRange sets start and end from the flags, in the encoding of the API asked (Unix seconds for PromQL,
// RFC 3339 for the native API).
func (f *queryFlags) timeRange(q url.Values, prom bool) error {
	var start, end time.Time
	if f.since > 0 && f.start != "" {
		return usageError{errors.New("--since and --start exclude each other")}
	}
	if f.start != "" {
		t, err := time.Parse(time.RFC3339Nano, f.start)
		if err != nil {
			return usageError{fmt.Errorf("--start %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", f.start)}
		}
		start = t
	}
	if f.end != "" {
		t, err := time.Parse(time.RFC3339Nano, f.end)
		if err != nil {
			return usageError{fmt.Errorf("--end %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", f.end)}
		}
		end = t
	}
	if f.since > 0 {
		if end.IsZero() {
			end = time.Now()
		}
		start = end.Add(-f.since)
	}
	if !start.IsZero() && end.IsZero() {
		end = time.Now()
	}
	format := func(t time.Time) string {
		if prom {
			return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	if !start.IsZero() {
		q.Set("start", format(start))
	}
	if !end.IsZero() {
		q.Set("end", format(end))
	}
	return nil
}

// promRange sets the step of a range query: the flag, or the range divided into about 60 points.
func promRange(q url.Values, step time.Duration) error {
	start, _ := strconv.ParseFloat(q.Get("start"), 64)
	end, _ := strconv.ParseFloat(q.Get("end"), 64)
	if step <= 0 {
		step = max(time.Second, time.Duration((end-start)/60*float64(time.Second)).Round(time.Second))
	}
	q.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
	return nil
}

// traceSummary is the part of a trace search answer the table shows.
type traceSummary struct {
	TraceID       string    `json:"traceId"`
	RootService   string    `json:"rootService"`
	RootName      string    `json:"rootName"`
	Start         time.Time `json:"start"`
	DurationNanos int64     `json:"durationNanos"`
	SpanCount     int       `json:"spanCount"`
	ErrorCount    int       `json:"errorCount"`
	Services      []struct {
		Service string `json:"service"`
	} `json:"services"`
	RootMissing bool `json:"rootMissing"`
}

func renderTraces(w io.Writer, body []byte, loc *time.Location) error {
	var res struct {
		Traces []traceSummary `json:"traces"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("decode trace search answer: %w", err)
	}
	if len(res.Traces) == 0 {
		fmt.Fprintln(w, "no traces found")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TRACE ID\tSTART\tDURATION\tSPANS\tERRORS\tSERVICES\tROOT")
	for _, t := range res.Traces {
		root := t.RootService + ": " + t.RootName
		if t.RootMissing {
			root += " (root missing)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%s\n", t.TraceID, t.Start.In(loc).Format("2006-01-02 15:04:05.000"),
			durationString(time.Duration(t.DurationNanos)), t.SpanCount, t.ErrorCount, len(t.Services), root)
	}
	return tw.Flush()
}

func durationString(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

// renderTrace prints the spans of a trace as a tree, children under their parent in start order, with each
// span's offset from the trace's start.
func renderTrace(w io.Writer, body []byte) error {
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
	if err != nil {
		return fmt.Errorf("decode trace: %w", err)
	}
	items := tail.SpanItems(td)
	if len(items) == 0 {
		fmt.Fprintln(w, "the trace has no spans")
		return nil
	}
	byID := map[string]bool{}
	services := map[string]bool{}
	errs := 0
	first, last := items[0].Time, items[0].Time
	for _, it := range items {
		byID[it.SpanID] = true
		services[it.Service] = true
		if it.Status == "ERROR" {
			errs++
		}
		if it.Time.Before(first) {
			first = it.Time
		}
		if end := it.Time.Add(time.Duration(it.DurationNanos)); end.After(last) {
			last = end
		}
	}
	children := map[string][]tail.Item{}
	var roots []tail.Item
	for _, it := range items {
		if it.ParentSpanID == "" || !byID[it.ParentSpanID] {
			roots = append(roots, it)
		} else {
			children[it.ParentSpanID] = append(children[it.ParentSpanID], it)
		}
	}
	order := func(a, b tail.Item) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.SpanID, b.SpanID)) }
	slices.SortFunc(roots, order)
	for _, c := range children {
		slices.SortFunc(c, order)
	}
	fmt.Fprintf(w, "trace %s: %s, %s, %s, %s\n", items[0].TraceID, plural(len(items), "span"),
		plural(len(services), "service"), durationString(last.Sub(first)), plural(errs, "error"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "OFFSET\tDURATION\tSERVICE\tSPAN")
	var walk func(it tail.Item, depth int)
	walk = func(it tail.Item, depth int) {
		line := strings.Repeat("  ", depth) + it.Name
		if it.Kind != "" {
			line += " " + it.Kind
		}
		if it.Status == "ERROR" {
			line += " ERROR"
			if it.StatusMessage != "" {
				line += " " + strconv.Quote(it.StatusMessage)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", durationString(it.Time.Sub(first)), durationString(time.Duration(it.DurationNanos)),
			it.Service, line)
		for _, c := range children[it.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return tw.Flush()
}

func renderLogs(w io.Writer, body []byte, loc *time.Location) error {
	var res struct {
		Count int             `json:"count"`
		Logs  json.RawMessage `json:"logs"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("decode log search answer: %w", err)
	}
	ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(res.Logs)
	if err != nil {
		return fmt.Errorf("decode logs: %w", err)
	}
	items := tail.LogItems(ld)
	if len(items) == 0 {
		fmt.Fprintln(w, "no log records found")
		return nil
	}
	fm := &tail.Formatter{Location: loc, TimeLayout: "2006-01-02 15:04:05.000"}
	for _, it := range items {
		if err := fm.Write(w, it); err != nil {
			return err
		}
	}
	if res.Count > len(items) {
		fmt.Fprintf(w, "(%d of %d matching records; raise --limit for more)\n", len(items), res.Count)
	}
	return nil
}

func renderServices(w io.Writer, body []byte) error {
	var res struct {
		Services []string `json:"services"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("decode services: %w", err)
	}
	for _, s := range res.Services {
		fmt.Fprintln(w, s)
	}
	return nil
}

// renderPromQL prints a Prometheus API answer: one line per sample of a vector, the points of each series of
// a matrix, or a scalar.
func renderPromQL(w io.Writer, body []byte, loc *time.Location) error {
	var res struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Status != "success" {
		return fmt.Errorf("decode PromQL answer: status %q, %v", res.Status, err)
	}
	type series struct {
		Metric map[string]string `json:"metric"`
		Value  []any             `json:"value"`
		Values [][]any           `json:"values"`
	}
	point := func(p []any) (string, string) {
		if len(p) != 2 {
			return "?", "?"
		}
		ts, _ := p[0].(float64)
		v, _ := p[1].(string)
		return time.UnixMilli(int64(ts * 1000)).In(loc).Format("2006-01-02 15:04:05.000"), v
	}
	switch res.Data.ResultType {
	case "vector", "matrix":
		var ss []series
		if err := json.Unmarshal(res.Data.Result, &ss); err != nil {
			return fmt.Errorf("decode PromQL %s: %w", res.Data.ResultType, err)
		}
		if len(ss) == 0 {
			fmt.Fprintln(w, "no data")
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range ss {
			if res.Data.ResultType == "vector" {
				t, v := point(s.Value)
				fmt.Fprintf(tw, "%s\t%s\t%s\n", labelString(s.Metric), v, t)
				continue
			}
			fmt.Fprintf(tw, "%s\t%d points\n", labelString(s.Metric), len(s.Values))
			for _, p := range s.Values {
				t, v := point(p)
				fmt.Fprintf(tw, "  %s\t%s\n", t, v)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	case "scalar", "string":
		var p []any
		if err := json.Unmarshal(res.Data.Result, &p); err != nil {
			return fmt.Errorf("decode PromQL %s: %w", res.Data.ResultType, err)
		}
		t, v := point(p)
		fmt.Fprintf(w, "%s  %s\n", v, t)
	default:
		return fmt.Errorf("PromQL answer of unknown type %q", res.Data.ResultType)
	}
	for _, warn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

// labelString renders labels as PromQL does: name{k="v", ...}, sorted by key.
func labelString(m map[string]string) string {
	name := m["__name__"]
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(m[k])
	}
	if len(parts) == 0 && name != "" {
		return name
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
