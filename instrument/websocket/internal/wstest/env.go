// Package wstest holds the telemetry fixtures and the conformance scenario that the coderws and gorillaws
// tests run over real loopback connections.
package wstest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

// Env is an SDK tracer and meter provider recording in memory, with an Instrumentation on top.
type Env struct {
	TP       *sdktrace.TracerProvider
	Recorder *tracetest.SpanRecorder
	Reader   *sdkmetric.ManualReader
	MP       *sdkmetric.MeterProvider
	Prop     propagation.TextMapPropagator
	In       *wsotel.Instrumentation
}

// NewEnv builds an Env; opts' providers and propagator are filled in.
func NewEnv(t testing.TB, opts wsotel.Options) *Env {
	t.Helper()
	e := &Env{Recorder: tracetest.NewSpanRecorder(), Reader: sdkmetric.NewManualReader()}
	e.TP = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithSpanProcessor(e.Recorder))
	e.MP = sdkmetric.NewMeterProvider(sdkmetric.WithReader(e.Reader))
	e.Prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	opts.TracerProvider, opts.MeterProvider, opts.Propagator = e.TP, e.MP, e.Prop
	in, err := wsotel.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.In = in
	return e
}

// Spans returns the ended spans.
func (e *Env) Spans() []sdktrace.ReadOnlySpan { return e.Recorder.Ended() }

// Dump renders spans one per line for failure messages.
func Dump(spans []sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&b, "  %s kind=%s trace=%s span=%s parent=%s status=%s", s.Name(), s.SpanKind(),
			s.SpanContext().TraceID(), s.SpanContext().SpanID(), s.Parent().SpanID(), s.Status().Code)
		for _, a := range s.Attributes() {
			fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.Emit())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Find returns the spans matching name and kind.
func (e *Env) Find(name string, kind trace.SpanKind) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.Spans() {
		if s.Name() == name && s.SpanKind() == kind {
			out = append(out, s)
		}
	}
	return out
}

// One returns the single span matching name and kind (and pred, if non-nil), failing with a dump otherwise.
func (e *Env) One(t testing.TB, name string, kind trace.SpanKind, pred func(sdktrace.ReadOnlySpan) bool) sdktrace.ReadOnlySpan {
	t.Helper()
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.Find(name, kind) {
		if pred == nil || pred(s) {
			out = append(out, s)
		}
	}
	if len(out) != 1 {
		t.Fatalf("want exactly 1 %s span of kind %s, got %d; spans:\n%s", name, kind, len(out), Dump(e.Spans()))
	}
	return out[0]
}

// Attr returns a span attribute's value.
func Attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, a := range s.Attributes() {
		if a.Key == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

// WantAttrs checks attributes by their emitted string form.
func WantAttrs(t testing.TB, s sdktrace.ReadOnlySpan, want map[string]string) {
	t.Helper()
	for k, v := range want {
		got, ok := Attr(s, attribute.Key(k))
		if !ok {
			t.Errorf("%s (%s): attribute %s missing; has %v", s.Name(), s.SpanKind(), k, s.Attributes())
			continue
		}
		if got.Emit() != v {
			t.Errorf("%s (%s): %s = %q, want %q", s.Name(), s.SpanKind(), k, got.Emit(), v)
		}
	}
}

// WantParent checks that child's parent is parent (same trace, parent span ID).
func WantParent(t testing.TB, child sdktrace.ReadOnlySpan, parent trace.SpanContext) {
	t.Helper()
	if child.Parent().TraceID() != parent.TraceID() || child.Parent().SpanID() != parent.SpanID() {
		t.Errorf("%s (%s): parent %s/%s, want %s/%s", child.Name(), child.SpanKind(), child.Parent().TraceID(),
			child.Parent().SpanID(), parent.TraceID(), parent.SpanID())
	}
}

// WantLink checks that s links to target.
func WantLink(t testing.TB, s sdktrace.ReadOnlySpan, target trace.SpanContext) {
	t.Helper()
	for _, l := range s.Links() {
		if l.SpanContext.SpanID() == target.SpanID() {
			return
		}
	}
	t.Errorf("%s (%s): no link to %s; links %v", s.Name(), s.SpanKind(), target.SpanID(), s.Links())
}

// Collect reads the metrics.
func (e *Env) Collect(t testing.TB) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := e.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func match(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.Emit() != v {
			return false
		}
	}
	return true
}

func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

func names(rm metricdata.ResourceMetrics) []string {
	var out []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, fmt.Sprintf("%s=%+v", m.Name, m.Data))
		}
	}
	slices.Sort(out)
	return out
}

// Sum returns the summed value of an int sum metric's points matching attrs; ok is false when none match.
func Sum(rm metricdata.ResourceMetrics, name string, attrs map[string]string) (int64, bool) {
	m, found := find(rm, name)
	if !found {
		return 0, false
	}
	s, isSum := m.Data.(metricdata.Sum[int64])
	if !isSum {
		return 0, false
	}
	var total int64
	ok := false
	for _, p := range s.DataPoints {
		if match(p.Attributes, attrs) {
			total, ok = total+p.Value, true
		}
	}
	return total, ok
}

// WantSum fails unless Sum equals want.
func WantSum(t testing.TB, rm metricdata.ResourceMetrics, name string, attrs map[string]string, want int64) {
	t.Helper()
	got, ok := Sum(rm, name, attrs)
	if !ok || got != want {
		t.Errorf("metric %s%v = %d (found %v), want %d; metrics:\n%s", name, attrs, got, ok, want, strings.Join(names(rm), "\n"))
	}
}

// HistCount returns the count and sum of histogram points matching attrs (int or float histograms).
func HistCount(rm metricdata.ResourceMetrics, name string, attrs map[string]string) (count uint64, sum float64) {
	m, found := find(rm, name)
	if !found {
		return 0, 0
	}
	switch h := m.Data.(type) {
	case metricdata.Histogram[int64]:
		for _, p := range h.DataPoints {
			if match(p.Attributes, attrs) {
				count, sum = count+p.Count, sum+float64(p.Sum)
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range h.DataPoints {
			if match(p.Attributes, attrs) {
				count, sum = count+p.Count, sum+p.Sum
			}
		}
	}
	return count, sum
}
