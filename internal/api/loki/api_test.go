package loki_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/api/loki"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/engine"
	"github.com/otlpd/otlpd/internal/storage/memory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// t0 is the time of the first fixture record.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// fixtureRecord is one record of the fixture.
type fixtureRecord struct {
	service string
	offset  time.Duration // from t0
	sev     plog.SeverityNumber
	body    string
	attrs   map[string]string
	traceID string
}

// fixture: shop on web-1 logs every 10s for a minute, alternating info and error; payments logs three warns
// with JSON and logfmt bodies.
var fixture = []fixtureRecord{
	{"shop", 0, plog.SeverityNumberInfo, "GET /cart 200", map[string]string{"http.route": "/cart"}, ""},
	{"shop", 10 * time.Second, plog.SeverityNumberError, "GET /pay 500 upstream failed", map[string]string{"http.route": "/pay"}, "0102030405060708090a0b0c0d0e0f10"},
	{"shop", 20 * time.Second, plog.SeverityNumberInfo, "GET /cart 200", nil, ""},
	{"shop", 30 * time.Second, plog.SeverityNumberError, "GET /pay 503 timeout", nil, ""},
	{"shop", 40 * time.Second, plog.SeverityNumberInfo, "GET /home 200", nil, ""},
	{"shop", 50 * time.Second, plog.SeverityNumberInfo, "GET /cart 200", nil, ""},
	{"payments", 5 * time.Second, plog.SeverityNumberWarn, `{"msg":"slow charge","ms":1200,"card":{"kind":"visa"}}`, nil, ""},
	{"payments", 25 * time.Second, plog.SeverityNumberWarn, `msg="retrying charge" attempt=2 ms=300`, nil, ""},
	{"payments", 45 * time.Second, plog.SeverityNumberWarn, `{"msg":"slow charge","ms":900,"card":{"kind":"amex"}}`, nil, ""},
}

func fixtureLogs() plog.Logs {
	ld := plog.NewLogs()
	byService := map[string]plog.LogRecordSlice{}
	for _, f := range fixture {
		recs, ok := byService[f.service]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			rl.Resource().Attributes().PutStr("service.name", f.service)
			if f.service == "shop" {
				rl.Resource().Attributes().PutStr("host.name", "web-1")
				rl.Resource().Attributes().PutStr("deployment.environment.name", "prod")
			} else {
				rl.Resource().Attributes().PutInt("process.pid", 42)
			}
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName("fixture")
			recs = sl.LogRecords()
			byService[f.service] = recs
		}
		r := recs.AppendEmpty()
		r.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(f.offset)))
		r.SetSeverityNumber(f.sev)
		r.Body().SetStr(f.body)
		for k, v := range f.attrs {
			r.Attributes().PutStr(k, v)
		}
		if f.traceID != "" {
			var id pcommon.TraceID
			for i := range id {
				n, _ := strconv.ParseUint(f.traceID[2*i:2*i+2], 16, 8)
				id[i] = byte(n)
			}
			r.SetTraceID(id)
		}
	}
	return ld
}

// newFixtureServer serves the Loki API over a memory store holding the fixture; "now" is t0 + 2 minutes.
func newFixtureServer(t testing.TB) *httptest.Server {
	t.Helper()
	store := memory.New(memory.Options{})
	t.Cleanup(func() { _ = store.Close() })
	return newFixtureServerOn(t, store)
}

// newFixtureServerOn is newFixtureServer over a given store.
func newFixtureServerOn(t testing.TB, store storage.Backend) *httptest.Server {
	t.Helper()
	if err := store.WriteLogs(context.Background(), fixtureLogs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	loki.New(store, loki.Options{Now: func() time.Time { return t0.Add(2 * time.Minute) },
		Build: loki.BuildInfo{Version: "test"}}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func ns(d time.Duration) string { return strconv.FormatInt(t0.Add(d).UnixNano(), 10) }

// get sends a GET with the parameters and returns the status and body.
func get(t testing.TB, srv *httptest.Server, path string, params url.Values, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path+"?"+params.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// execTime matches the measured parts of stats, which vary from run to run.
var execTime = regexp.MustCompile(`"(execTime|bytesProcessedPerSecond|linesProcessedPerSecond)":[0-9.e+-]+`)

// TestGolden pins the shape of each kind of answer.
func TestGolden(t *testing.T) {
	srv := newFixtureServer(t)
	cases := goldenCases()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := get(t, srv, c.path, c.params, c.header...)
			if !json.Valid(body) {
				t.Fatalf("invalid JSON: %s", body)
			}
			body = execTime.ReplaceAll(body, []byte(`"$1":0`))
			var pretty bytes.Buffer
			_ = json.Indent(&pretty, body, "", "  ")
			got := []byte(strconv.Itoa(code) + "\n" + pretty.String() + "\n")
			path := filepath.Join("testdata", "golden", c.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("answer differs from %s:\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// goldenCase is one request of the golden and backend tests.
type goldenCase struct {
	name   string
	path   string
	params url.Values
	header []string
}

// goldenCases asks for every kind of answer over the fixture.
func goldenCases() []goldenCase {
	rangeParams := func(q string, extra ...string) url.Values {
		v := url.Values{"query": {q}, "start": {ns(0)}, "end": {ns(time.Minute)}, "step": {"20000ms"}, "direction": {"backward"}, "limit": {"1000"}}
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		return v
	}
	return []goldenCase{
		{"streams_backward", "/loki/api/v1/query_range", rangeParams(`{service_name="shop"} |= "GET /pay"`), nil},
		{"streams_forward_limit", "/loki/api/v1/query_range", rangeParams(`{service_name=~"shop|payments"}`, "direction", "forward", "limit", "3"), nil},
		{"streams_categorized", "/loki/api/v1/query_range", rangeParams(`{service_name="shop", level="error"}`), []string{"X-Loki-Response-Encoding-Flags", "categorize-labels"}},
		{"streams_json", "/loki/api/v1/query_range", rangeParams(`{service_name="payments"} | json | ms > 1000`), nil},
		{"matrix_volume", "/loki/api/v1/query_range", rangeParams(`sum by (level, detected_level) (count_over_time({service_name=~".+"} | drop __error__ [20s]))`), nil},
		{"matrix_rate", "/loki/api/v1/query_range", rangeParams(`rate({service_name="shop"} |~ "50[0-9]" [30s])`), nil},
		{"streams_level_filter", "/loki/api/v1/query_range", rangeParams(`{service_name=~".+"} | detected_level=~"warn|error" != "timeout"`), nil},
		{"matrix_sum_by_metadata", "/loki/api/v1/query_range", rangeParams(`sum by (http_route) (count_over_time({level!="warn", service_name="shop"}[1m]))`), nil},
		{"matrix_logfmt_avg", "/loki/api/v1/query_range", rangeParams(`avg by (service_name) (count_over_time({service_name="payments"} | logfmt | drop __error__ [30s])) * 2`), nil},
		{"vector_health", "/loki/api/v1/query", url.Values{"query": {"vector(1)+vector(1)"}, "time": {"4000000000"}, "direction": {"backward"}}, nil},
		{"vector_topk", "/loki/api/v1/query", url.Values{"query": {`topk(1, sum by (service_name) (bytes_over_time({level=~"info|warn"}[1m])))`}, "time": {ns(time.Minute)}}, nil},
		{"labels", "/loki/api/v1/labels", url.Values{"start": {ns(0)}, "end": {ns(time.Minute)}}, nil},
		{"label_values", "/loki/api/v1/label/service_name/values", url.Values{"start": {ns(0)}, "end": {ns(time.Minute)}}, nil},
		{"series", "/loki/api/v1/series", url.Values{"match[]": {`{service_name="shop"}`}, "start": {ns(0)}, "end": {ns(time.Minute)}}, nil},
		{"index_stats", "/loki/api/v1/index/stats", url.Values{"query": {`{service_name="shop"}`}, "start": {ns(0)}, "end": {ns(time.Minute)}}, nil},
		{"error_parse", "/loki/api/v1/query_range", rangeParams(`{service_name="shop"} | line_format "{{.msg}}"`), nil},
		{"error_limit", "/loki/api/v1/query_range", rangeParams(`{service_name="shop"}`, "limit", "5001"), nil},
		{"volume", "/loki/api/v1/index/volume", url.Values{"query": {`{service_name=~".+"}`}, "start": {ns(0)}, "end": {ns(time.Minute)}}, nil},
		{"volume_range_target", "/loki/api/v1/index/volume_range", url.Values{"query": {`{service_name=~".+"}`}, "targetLabels": {"level"}, "limit": {"2"}, "start": {ns(0)}, "end": {ns(time.Minute)}, "step": {"30s"}}, nil},
		{"buildinfo", "/loki/api/v1/status/buildinfo", nil, nil},
	}
}

// TestBackendsAgree runs the golden requests over the memory store and over the embedded engine, before
// and after it flushes its head to a part: what the API pushes down must mean the same to every backend.
func TestBackendsAgree(t *testing.T) {
	mem := newFixtureServer(t)
	eng, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = eng.Close() })
	onEngine := newFixtureServerOn(t, eng)
	stats := regexp.MustCompile(`"stats":\{.*?\}\}`)
	compare := func(stage string) {
		for _, c := range goldenCases() {
			code1, body1 := get(t, mem, c.path, c.params, c.header...)
			code2, body2 := get(t, onEngine, c.path, c.params, c.header...)
			body1, body2 = stats.ReplaceAll(body1, nil), stats.ReplaceAll(body2, nil)
			if code1 != code2 || !bytes.Equal(body1, body2) {
				t.Errorf("%s, %s: memory answered %d %s\nengine answered %d %s", stage, c.name, code1, body1, code2, body2)
			}
		}
	}
	compare("engine head")
	if err := eng.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	compare("engine part")
}

// TestPostForm sends query_range as a form-encoded POST, as Grafana may.
func TestPostForm(t *testing.T) {
	srv := newFixtureServer(t)
	form := url.Values{"query": {`{service_name="shop"} |= "/pay"`}, "start": {ns(0)}, "end": {ns(time.Minute)}, "limit": {"1"}}
	resp, err := srv.Client().PostForm(srv.URL+"/loki/api/v1/query_range", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Values [][]string `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST query_range: %d %v", resp.StatusCode, err)
	}
	if len(r.Data.Result) != 1 || len(r.Data.Result[0].Values) != 1 || r.Data.Result[0].Values[0][1] != "GET /pay 503 timeout" {
		t.Errorf("POST query_range, limit 1, backward: %+v, want the newest /pay line only", r.Data.Result)
	}
}
