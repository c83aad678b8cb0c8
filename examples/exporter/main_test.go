package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otlpd/otlpd/otlptest"
)

func TestExporterExample(t *testing.T) {
	srv := otlptest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "spans.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, srv.GRPCAddr(), f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(lines)+1, err, sc.Bytes())
		}
		lines = append(lines, l)
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4 (a batch and three rows):\n%s", len(lines), raw)
	}
	byID := map[string]Line{}
	var batch Line
	for _, l := range lines {
		byID[l.SpanID] = l
		if l.Name == "import batch" {
			batch = l
		}
	}
	bad := 0
	for _, l := range lines {
		if l.Service != "importer" || len(l.TraceID) != 32 || len(l.SpanID) != 16 || l.Start.IsZero() || l.DurationMS < 0 {
			t.Errorf("incomplete line %+v", l)
		}
		if l.Name != "import row" {
			continue
		}
		if l.ParentSpanID != batch.SpanID || l.TraceID != batch.TraceID {
			t.Errorf("row %v not a child of the batch span", l.Attributes["row"])
		}
		if l.Status == "Error" {
			bad++
			if l.Message != "row 2: missing sku" || len(l.Events) != 1 || l.Attributes["row"] != float64(2) {
				t.Errorf("failed row line %+v", l)
			}
		}
	}
	if bad != 1 {
		t.Errorf("%d failed rows in the file, want 1", bad)
	}

	// The OTLP exporter got the same spans.
	spans := srv.WaitSpans(ctx, 4)
	for _, s := range spans {
		l, ok := byID[s.SpanID]
		if !ok || l.Name != s.Name || l.TraceID != s.TraceID || l.Status != s.StatusCode {
			t.Errorf("OTLP span %s %s not matched by a file line %+v", s.Name, s.SpanID, l)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestJSONLinesErrors(t *testing.T) {
	spans := tracetest.SpanStubs{{Name: "a"}}.Snapshots()
	exp := NewJSONLines(failingWriter{})
	if err := exp.ExportSpans(context.Background(), spans); err == nil {
		t.Error("export to a failing writer succeeded")
	}
	var buf bytes.Buffer
	exp = NewJSONLines(&buf)
	if err := exp.ExportSpans(context.Background(), spans); err != nil || buf.Len() == 0 {
		t.Fatalf("export: %v, %d bytes", err, buf.Len())
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := exp.ExportSpans(context.Background(), spans); !errors.Is(err, ErrShutdown) {
		t.Errorf("export after shutdown: %v, want ErrShutdown", err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewJSONLines(&buf).ExportSpans(canceled, spans); !errors.Is(err, context.Canceled) {
		t.Errorf("export with a canceled context: %v", err)
	}
}
