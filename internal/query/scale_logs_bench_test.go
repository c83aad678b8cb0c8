package query

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otlpd/otlpd/internal/storage/engine"
	refworkload "github.com/otlpd/otlpd/internal/workload"
)

// The log scale benchmarks time log searches against the embedded engine holding OTLPD_SCALE_LOGS log
// records (default 10,000,000) of the reference workload (seed 1) spread over one hour, in OTLPD_SCALE_LOG_DIR
// (filled on first use, then compacted, closed and reopened; later runs reuse it; without OTLPD_SCALE_LOG_DIR
// the benchmarks are skipped). Searches ask for the API's default page (DefaultLogLimit records, newest
// first), as the UI does. Example:
//
//	OTLPD_SCALE_LOG_DIR=/work/scale/logs-10m go test ./internal/query -run '^$' -bench ScaleLogs -benchtime 5x -timeout 2h
//
// "1h" searches the hour the records span; "all" searches the 30 days before its end, so that the
// range bounds prune nothing.

var (
	scaleLogOnce sync.Once
	scaleLogQ    *Querier
	scaleLogErr  error
	// scaleRareWord is a number from the variable part of one body (written a tenth of the way in), which
	// few other bodies hold; scaleLogUser is the user.id of the same record.
	scaleRareWord string
	scaleLogUser  string
)

func scaleLogs(b *testing.B) *Querier {
	dir := os.Getenv("OTLPD_SCALE_LOG_DIR")
	if dir == "" {
		b.Skip("OTLPD_SCALE_LOG_DIR not set")
	}
	scaleLogOnce.Do(func() { scaleLogErr = openScaleLogs(b, dir) })
	if scaleLogErr != nil {
		b.Fatal(scaleLogErr)
	}
	return scaleLogQ
}

// firstNumber returns the first run of at least 6 digits in s, or "".
func firstNumber(s string) string {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 6 {
			return s[start:i]
		}
		start = -1
	}
	return ""
}

func openScaleLogs(b *testing.B, dir string) error {
	n := 10_000_000
	if s := os.Getenv("OTLPD_SCALE_LOGS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	_, statErr := os.Stat(filepath.Join(dir, "scale-complete"))
	filled := statErr == nil
	e, err := engine.Open(dir, engine.Options{Sync: engine.SyncNone})
	if err != nil {
		return err
	}
	scaleStart = refworkload.DefaultStart
	gen := refworkload.New(1, refworkload.Options{Rate: float64(n) / 3600})
	written := 0
	for written < n {
		ld := gen.NextLogs(512)
		if scaleRareWord == "" && written >= n/10 {
			rls := ld.ResourceLogs()
			for i := 0; i < rls.Len() && scaleRareWord == ""; i++ {
				recs := rls.At(i).ScopeLogs().At(0).LogRecords()
				for k := 0; k < recs.Len() && scaleRareWord == ""; k++ {
					rec := recs.At(k)
					if rec.Body().Type() != pcommon.ValueTypeStr {
						continue
					}
					if w := firstNumber(rec.Body().Str()); len(w) >= 7 {
						scaleRareWord = w
						u, _ := rec.Attributes().Get("user.id")
						scaleLogUser = u.Str()
					}
				}
			}
		}
		if !filled {
			if err := e.WriteLogs(context.Background(), ld); err != nil {
				return err
			}
		}
		written += ld.LogRecordCount()
		if !filled && written%1_000_000 < 512 {
			b.Logf("scale: %d logs written", written)
		}
	}
	if !filled {
		if err := e.Flush(context.Background()); err != nil {
			return err
		}
		if err := e.Compact(context.Background()); err != nil {
			return err
		}
		if err := e.Close(); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "scale-complete"), nil, 0o644); err != nil {
			return err
		}
		if e, err = engine.Open(dir, engine.Options{Sync: engine.SyncNone}); err != nil {
			return err
		}
	}
	b.Logf("scale: %d logs over one hour in %s (%d bytes on disk), rare word %q, user %q", written, dir, e.DiskBytes(), scaleRareWord, scaleLogUser)
	scaleLogQ = New(nil, e, Options{Now: func() time.Time { return scaleStart.Add(time.Hour) }, Timeout: 10 * time.Minute})
	return nil
}

// scaleAll is the 30 days up to the end of the stored hour.
func scaleAll() TimeRange {
	return TimeRange{Start: scaleStart.Add(time.Hour - 30*24*time.Hour), End: scaleStart.Add(time.Hour)}
}

// benchLogSearch times one page of the default size (newest first) for filter over r; wantAny says the
// filter matches some stored record.
func benchLogSearch(b *testing.B, r func() TimeRange, filter func() string, wantAny bool) {
	q := scaleLogs(b)
	f := filter()
	var count int
	latencies(b, func(int) {
		res, err := q.SearchLogs(context.Background(), LogSearch{TimeRange: r(), Filter: f})
		if err != nil {
			b.Fatal(err)
		}
		count = res.Count
		if wantAny != (res.Count > 0) {
			b.Fatalf("filter %s: %d records", f, res.Count)
		}
	})
	b.ReportMetric(float64(count), "records")
}

func lit(s string) func() string { return func() string { return s } }

// A word in many bodies ("payment" is in three of the 50 templates).
func BenchmarkScaleLogsBodyCommon1h(b *testing.B) {
	benchLogSearch(b, scaleHour, lit(`body contains "payment"`), true)
}
func BenchmarkScaleLogsBodyCommonAll(b *testing.B) {
	benchLogSearch(b, scaleAll, lit(`body contains "payment"`), true)
}

// A number from the variable part of one body: a page that never fills.
func BenchmarkScaleLogsBodyRare1h(b *testing.B) {
	benchLogSearch(b, scaleHour, func() string { return `body contains "` + scaleRareWord + `"` }, true)
}
func BenchmarkScaleLogsBodyRareAll(b *testing.B) {
	benchLogSearch(b, scaleAll, func() string { return `body contains "` + scaleRareWord + `"` }, true)
}

// A word in no body.
func BenchmarkScaleLogsBodyNone1h(b *testing.B) {
	benchLogSearch(b, scaleHour, lit(`body contains "zebra"`), false)
}
func BenchmarkScaleLogsBodyNoneAll(b *testing.B) {
	benchLogSearch(b, scaleAll, lit(`body contains "zebra"`), false)
}

// A substring that is not a whole word and that no body holds (every body must be read), and one that many
// bodies hold.
func BenchmarkScaleLogsBodySubstrNone1h(b *testing.B) {
	benchLogSearch(b, scaleHour, lit(`body contains "rder qx"`), false)
}
func BenchmarkScaleLogsBodySubstrNoneAll(b *testing.B) {
	benchLogSearch(b, scaleAll, lit(`body contains "rder qx"`), false)
}
func BenchmarkScaleLogsBodySubstrCommon1h(b *testing.B) {
	benchLogSearch(b, scaleHour, lit(`body contains "ayment auth"`), true)
}

// Attribute searches: one user (about 1 record in 10,000), and a route with a severity bound.
func BenchmarkScaleLogsAttrUser1h(b *testing.B) {
	benchLogSearch(b, scaleHour, func() string { return `log.user.id = "` + scaleLogUser + `"` }, true)
}
func BenchmarkScaleLogsAttrUserAll(b *testing.B) {
	benchLogSearch(b, scaleAll, func() string { return `log.user.id = "` + scaleLogUser + `"` }, true)
}
func BenchmarkScaleLogsAttrRouteError1h(b *testing.B) {
	benchLogSearch(b, scaleHour, lit(`http.route = "/api/v1/cart" and severity >= error`), true)
}
