package otlp

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	trace "go.opentelemetry.io/proto/otlp/trace/v1"
)

// The fuzz targets drive the request path both transports share (decode, salvage, validate, consume) with
// arbitrary bytes. Besides "never panics", they check what an accepted request leaves behind: every stored
// item passes validation again, the stored data survives a protobuf round trip, and a refused request is
// refused as undecodable (400 / INVALID_ARGUMENT), never for another reason.
//
// Seeds live in testdata/fuzz/FuzzXxx/ and run with every `go test`; rewrite them with
// `go test -run TestFuzzSeeds -update-seeds`.

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora in testdata/fuzz")

const fuzzMaxAttr = 1024

func fuzzExport(t *testing.T, signal string, data []byte, f format) {
	c := &fakeConsumer{}
	r := New(c, Options{MaxAttributeValueBytes: fuzzMaxAttr}, nil)
	ctx := context.Background()
	var err error
	switch signal {
	case "traces":
		_, _, err = r.exportTraces(ctx, data, f)
	case "logs":
		_, _, err = r.exportLogs(ctx, data, f)
	case "metrics":
		_, _, err = r.exportMetrics(ctx, data, f)
	}
	if err != nil {
		if !isDecodeError(err) {
			t.Fatalf("refused for a reason other than decoding: %v", err)
		}
		return
	}
	for _, td := range c.traces {
		if rej := validateTraces(td, fuzzMaxAttr); rej.count != 0 {
			t.Fatalf("stored spans fail validation: %s", rej.message(0, "spans"))
		}
		b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		if _, rej, err := decodeTraces(b, formatProto); err != nil || rej.count != 0 {
			t.Fatalf("stored spans do not round-trip: %v", err)
		}
	}
	for _, ld := range c.logs {
		if rej := validateLogs(ld, fuzzMaxAttr); rej.count != 0 {
			t.Fatalf("stored logs fail validation: %s", rej.message(0, "logs"))
		}
		b, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		if _, rej, err := decodeLogs(b, formatProto); err != nil || rej.count != 0 {
			t.Fatalf("stored logs do not round-trip: %v", err)
		}
	}
	for _, md := range c.metrics {
		if rej := validateMetrics(md, fuzzMaxAttr); rej.count != 0 {
			t.Fatalf("stored metrics fail validation: %s", rej.message(0, "points"))
		}
		b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		if _, rej, err := decodeMetrics(b, formatProto); err != nil || rej.count != 0 {
			t.Fatalf("stored metrics do not round-trip: %v", err)
		}
	}
}

func FuzzTracesProto(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzExport(t, "traces", b, formatProto) })
}
func FuzzTracesJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzExport(t, "traces", b, formatJSON) })
}
func FuzzLogsProto(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzExport(t, "logs", b, formatProto) })
}
func FuzzLogsJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzExport(t, "logs", b, formatJSON) })
}
func FuzzMetricsProto(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzExport(t, "metrics", b, formatProto) })
}
func FuzzMetricsJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzExport(t, "metrics", b, formatJSON) })
}

// seeds returns the seed inputs of each target: small valid requests, requests with each kind of bad item,
// and a few malformed bodies.
func seeds() map[string][][]byte {
	td, ld, md := genTraces(7, 3), genLogs(8, 3), genMetrics(9, 6)
	tr := ptraceotlp.NewExportRequestFromTraces(td)
	lr := plogotlp.NewExportRequestFromLogs(ld)
	mr := pmetricotlp.NewExportRequestFromMetrics(md)
	trProto, trJSON := must(tr.MarshalProto()), must(tr.MarshalJSON())
	lrProto, lrJSON := must(lr.MarshalProto()), must(lr.MarshalJSON())
	mrProto, mrJSON := must(mr.MarshalProto()), must(mr.MarshalJSON())
	return map[string][][]byte{
		"FuzzTracesProto": {
			trProto, trProto[:len(trProto)/2], {},
			traceReq(nil, goodSpanMsg("a"), &trace.Span{TraceId: []byte{1, 2, 3}, SpanId: goodSpan}),
		},
		"FuzzTracesJSON": {
			trJSON, trJSON[:len(trJSON)/2], []byte("{}"), []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"01","spanId":"0102030405060708","kind":2,"startTimeUnixNano":"1"}]}]}]}`),
		},
		"FuzzLogsProto":       {lrProto, lrProto[:len(lrProto)/3], {0x0a, 0x02, 0x12, 0x00}},
		"FuzzLogsJSON":        {lrJSON, []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"x"},"spanId":"01"}]}]}]}`), []byte(`{"resourceLogs":[`)},
		"FuzzMetricsProto":    {mrProto, mrProto[:len(mrProto)-1]},
		"FuzzCheckTracesWire": append([][]byte{trProto, trProto[:len(trProto)/2]}, wireSeeds("traces")...),
		"FuzzCheckLogsWire":   append([][]byte{lrProto, lrProto[:len(lrProto)/3]}, wireSeeds("logs")...),
		"FuzzMetricsJSON":     {mrJSON, []byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{}]}},{"name":"h","histogram":{"dataPoints":[{"bucketCounts":["1"],"explicitBounds":[1,0]}]}}]}]}]}`)},
	}
}

// TestFuzzSeeds checks that every target has a committed seed corpus (and rewrites them with -update-seeds).
func TestFuzzSeeds(t *testing.T) {
	for name, inputs := range seeds() {
		dir := filepath.Join("testdata", "fuzz", name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i, in := range inputs {
				content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", in)
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) < len(inputs) {
			t.Errorf("%s: %d seed files, want at least %d (run with -update-seeds): %v", dir, len(entries), len(inputs), err)
		}
	}
}
