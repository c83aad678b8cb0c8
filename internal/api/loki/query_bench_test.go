package loki

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage/memory"
)

// benchRecords records over 10 minutes from 20 services, levels info/warn/error, logfmt bodies.
const benchRecords = 100_000

func benchServer(b *testing.B) (http.Handler, time.Time, int64) {
	b.Helper()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	store := memory.New(memory.Options{MaxLogs: benchRecords})
	b.Cleanup(func() { _ = store.Close() })
	ld := plog.NewLogs()
	var lineBytes int64
	per := benchRecords / 20
	for s := range 20 {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%02d", s))
		rl.Resource().Attributes().PutStr("host.name", fmt.Sprintf("host-%d", s%4))
		recs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i := range per {
			r := recs.AppendEmpty()
			r.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(time.Duration(i) * 10 * time.Minute / time.Duration(per))))
			r.SetSeverityNumber([]plog.SeverityNumber{plog.SeverityNumberInfo, plog.SeverityNumberWarn, plog.SeverityNumberError}[i%3])
			body := "method=GET route=/cart/" + strconv.Itoa(i%50) + " status=" + strconv.Itoa(200+100*(i%4)) + " ms=" + strconv.Itoa(i%997)
			r.Body().SetStr(body)
			lineBytes += int64(len(body))
		}
	}
	if err := store.WriteLogs(context.Background(), ld); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	New(store, Options{Now: func() time.Time { return t0.Add(10 * time.Minute) }}).Register(mux)
	return mux, t0, lineBytes
}

func BenchmarkQueryRange(b *testing.B) {
	h, t0, lineBytes := benchServer(b)
	start := strconv.FormatInt(t0.UnixNano(), 10)
	end := strconv.FormatInt(t0.Add(10*time.Minute).UnixNano(), 10)
	cases := []struct {
		name, query string
		all         bool // reads every record
	}{
		{"logs_all_services", `{service_name=~".+"}`, false},
		{"logs_one_service_filter", `{service_name="svc-03"} |= "status=500"`, false},
		{"logs_logfmt_label_filter", `{host_name="host-1"} | logfmt | ms > 990`, false},
		{"volume_all", `sum by (level, detected_level) (count_over_time({service_name=~".+"} | drop __error__ [10s]))`, true},
		{"rate_by_status", `sum by (status) (rate({service_name=~"svc-0.*"} | logfmt [1m]))`, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v := url.Values{"query": {c.query}, "start": {start}, "end": {end}, "step": {"10000ms"}, "limit": {"1000"}}
			req := httptest.NewRequest(http.MethodGet, "/loki/api/v1/query_range?"+v.Encode(), nil)
			if c.all {
				b.SetBytes(lineBytes)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
