// Command exporter shows a custom span exporter: JSONLines writes each finished span as one JSON object per
// line, a format that grep, jq and log shippers handle. The program sends the same spans over OTLP too, to
// show that exporters compose: each gets its own batch processor.
//
//	go run ./examples/exporter -endpoint 127.0.0.1:4317 -out spans.jsonl
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Line is one exported span; its JSON form is the file format.
type Line struct {
	TraceID      string         `json:"trace_id"`
	SpanID       string         `json:"span_id"`
	ParentSpanID string         `json:"parent_span_id,omitempty"`
	Name         string         `json:"name"`
	Kind         string         `json:"kind"`
	Start        time.Time      `json:"start"`
	DurationMS   float64        `json:"duration_ms"`
	Status       string         `json:"status"`
	Message      string         `json:"status_message,omitempty"`
	Service      string         `json:"service"`
	Attributes   map[string]any `json:"attributes,omitempty"`
	Events       []string       `json:"events,omitempty"`
}

// ErrShutdown is returned by Export after Shutdown.
var ErrShutdown = errors.New("jsonlines exporter: shut down")

// JSONLines is a sdktrace.SpanExporter writing one JSON object per span to W. Safe for concurrent use.
type JSONLines struct {
	mu     sync.Mutex
	w      *bufio.Writer
	closed bool
}

// NewJSONLines returns an exporter writing to w. w is not closed by Shutdown.
func NewJSONLines(w io.Writer) *JSONLines { return &JSONLines{w: bufio.NewWriter(w)} }

var _ sdktrace.SpanExporter = (*JSONLines)(nil)

// ExportSpans writes the batch and flushes it; an error leaves the spans of the batch that were already
// written in the output.
func (j *JSONLines) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return ErrShutdown
	}
	enc := json.NewEncoder(j.w)
	for i, s := range spans {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("jsonlines export: span %d of %d: %w", i, len(spans), err)
		}
		if err := enc.Encode(toLine(s)); err != nil {
			return fmt.Errorf("jsonlines export: span %d of %d: %w", i, len(spans), err)
		}
	}
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("jsonlines export: flush: %w", err)
	}
	return nil
}

// Shutdown flushes and stops the exporter.
func (j *JSONLines) Shutdown(context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	return j.w.Flush()
}

func toLine(s sdktrace.ReadOnlySpan) Line {
	l := Line{
		TraceID:    s.SpanContext().TraceID().String(),
		SpanID:     s.SpanContext().SpanID().String(),
		Name:       s.Name(),
		Kind:       s.SpanKind().String(),
		Start:      s.StartTime().UTC(),
		DurationMS: float64(s.EndTime().Sub(s.StartTime()).Microseconds()) / 1000,
		Status:     s.Status().Code.String(),
		Message:    s.Status().Description,
	}
	if s.Parent().IsValid() {
		l.ParentSpanID = s.Parent().SpanID().String()
	}
	if v, ok := s.Resource().Set().Value("service.name"); ok {
		l.Service = v.AsString()
	}
	if attrs := s.Attributes(); len(attrs) > 0 {
		l.Attributes = make(map[string]any, len(attrs))
		for _, a := range attrs {
			l.Attributes[string(a.Key)] = a.Value.AsInterface()
		}
	}
	for _, e := range s.Events() {
		l.Events = append(l.Events, e.Name)
	}
	return l
}

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	out := flag.String("out", "-", "JSON lines output file (- for stdout)")
	flag.Parse()
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *endpoint, w); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, endpoint string, w io.Writer) (err error) {
	otlp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return fmt.Errorf("trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "importer"))),
		sdktrace.WithBatcher(NewJSONLines(w)),
		sdktrace.WithBatcher(otlp),
	)
	defer func() { err = errors.Join(err, tp.Shutdown(context.WithoutCancel(ctx))) }()
	tracer := tp.Tracer("examples/exporter")
	ctx, job := tracer.Start(ctx, "import batch")
	defer job.End()
	for i, row := range []string{"ok", "ok", "bad"} {
		_, s := tracer.Start(ctx, "import row", trace.WithAttributes(attribute.Int("row", i)))
		if row == "bad" {
			s.AddEvent("validation failed")
			s.SetStatus(codes.Error, "row 2: missing sku")
		}
		s.End()
	}
	return nil
}
