package prom_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/otlpd/otlpd/internal/api/prom"
	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/metrics/promconv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// base is the time of the fixture's first point; points follow every 15 s.
var base = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

func at(i int) pcommon.Timestamp {
	return pcommon.NewTimestampFromTime(base.Add(time.Duration(i) * 15 * time.Second))
}

// fixture is 9 points (2 minutes) of a counter, a gauge, a classic histogram and an exponential histogram
// with an exemplar, from two instances of one service.
func fixture() pmetric.Metrics {
	md := pmetric.NewMetrics()
	for inst := range 2 {
		rm := md.ResourceMetrics().AppendEmpty()
		_ = rm.Resource().Attributes().FromRaw(map[string]any{
			"service.name": "checkout", "service.instance.id": []string{"a", "b"}[inst], "host.name": "h1",
		})
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName("shop")
		ms := sm.Metrics()
		c := ms.AppendEmpty()
		c.SetName("http.server.requests")
		c.SetDescription("Requests served.")
		c.SetUnit("{request}")
		cs := c.SetEmptySum()
		cs.SetIsMonotonic(true)
		cs.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		g := ms.AppendEmpty()
		g.SetName("queue.depth")
		g.SetDescription("Items waiting.")
		gg := g.SetEmptyGauge()
		h := ms.AppendEmpty()
		h.SetName("http.server.request.duration")
		h.SetUnit("s")
		h.SetDescription("Request duration.")
		hh := h.SetEmptyHistogram()
		hh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		e := ms.AppendEmpty()
		e.SetName("rpc.duration")
		e.SetUnit("s")
		eh := e.SetEmptyExponentialHistogram()
		eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		for i := range 9 {
			p := cs.DataPoints().AppendEmpty()
			p.SetStartTimestamp(at(0))
			p.SetTimestamp(at(i))
			p.SetIntValue(int64(10 * i * (inst + 1)))
			p.Attributes().PutStr("http.route", "/cart")
			if i == 8 {
				x := p.Exemplars().AppendEmpty()
				x.SetTimestamp(at(i))
				x.SetIntValue(1)
				x.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(inst)})
				x.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, byte(inst)})
			}
			q := gg.DataPoints().AppendEmpty()
			q.SetTimestamp(at(i))
			q.SetDoubleValue(float64(i%3) + float64(inst))
			hp := hh.DataPoints().AppendEmpty()
			hp.SetStartTimestamp(at(0))
			hp.SetTimestamp(at(i))
			hp.ExplicitBounds().FromRaw([]float64{0.1, 0.5, 1})
			n := uint64(i)
			hp.BucketCounts().FromRaw([]uint64{n, 2 * n, n, 0})
			hp.SetCount(4 * n)
			hp.SetSum(float64(n) * 1.5)
			ep := eh.DataPoints().AppendEmpty()
			ep.SetStartTimestamp(at(0))
			ep.SetTimestamp(at(i))
			ep.SetScale(0)
			ep.Positive().SetOffset(-2) // (0.25,0.5], (0.5,1], (1,2]
			ep.Positive().BucketCounts().FromRaw([]uint64{n, 2 * n, n})
			ep.SetCount(4 * n)
			ep.SetSum(float64(n) * 3)
		}
	}
	return md
}

func newAPI(t *testing.T) (*httptest.Server, *metrics.Store) {
	t.Helper()
	st, err := metrics.Open(metrics.Options{Dir: filepath.Join(t.TempDir(), "metrics")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.ConsumeMetrics(context.Background(), fixture()); err != nil {
		t.Fatal(err)
	}
	api := prom.New(prom.Options{
		Queryable: st.Queryable(),
		Exemplars: st.ExemplarQueryable(),
		Metadata:  st.Metadata,
		Appender:  st.Appender,
		Build:     prom.BuildInfo{Version: "1.0.0", Revision: "abc", Branch: "main", BuildUser: "otlpd", BuildDate: "20260101", GoVersion: "go1.26"},
		Now:       func() time.Time { return base.Add(2*time.Minute + 5*time.Second) },
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv, st
}

func TestGolden(t *testing.T) {
	srv, _ := newAPI(t)
	end := base.Add(2 * time.Minute).Unix()
	start := base.Unix()
	f := func(name, method, path string, form url.Values, wantCode int) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			var resp *http.Response
			var err error
			if method == http.MethodPost {
				resp, err = http.PostForm(srv.URL+path, form)
			} else {
				u := srv.URL + path
				if len(form) > 0 {
					u += "?" + form.Encode()
				}
				resp, err = http.Get(u)
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != wantCode {
				t.Errorf("status = %d, want %d; body %s", resp.StatusCode, wantCode, body)
			}
			if strings.HasPrefix(path, "/api/") {
				if !json.Valid(body) {
					t.Fatalf("body is not JSON: %s", body)
				}
				var pretty bytes.Buffer
				_ = json.Indent(&pretty, body, "", " ")
				body = append(pretty.Bytes(), '\n')
			}
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, body, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("response differs from %s:\n got: %s\nwant: %s", golden, body, want)
			}
		})
	}
	v := func(kv ...string) url.Values {
		out := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	sec := func(u int64) string { return time.Unix(u, 0).UTC().Format(time.RFC3339) }
	// Grafana's health check: instant query 1+1 over 1s-4s, POSTed.
	f("grafana_health", "POST", "/api/v1/query", v("query", "1+1", "time", "4", "start", "1", "end", "4"), 200)
	f("query_vector", "GET", "/api/v1/query", v("query", `sum by (instance) (rate(http_server_requests_total[1m]))`, "time", sec(end)), 200)
	f("query_vector_post", "POST", "/api/v1/query", v("query", `http_server_requests_total`, "time", sec(end)), 200)
	f("query_limit", "GET", "/api/v1/query", v("query", `http_server_requests_total`, "time", sec(end), "limit", "1"), 200)
	f("query_string", "GET", "/api/v1/query", v("query", `"hello"`, "time", "10"), 200)
	f("query_native_histogram", "GET", "/api/v1/query", v("query", `rpc_duration_seconds{instance="a"}`, "time", sec(end)), 200)
	f("query_histogram_quantile", "GET", "/api/v1/query", v("query",
		`histogram_quantile(0.5, sum by (le) (rate(http_server_request_duration_seconds_bucket[1m])))`, "time", sec(end)), 200)
	f("query_range", "POST", "/api/v1/query_range", v("query", `queue_depth`, "start", sec(start), "end", sec(start+60), "step", "30s"), 200)
	f("query_range_native", "GET", "/api/v1/query_range", v("query", `rpc_duration_seconds{instance="b"}`, "start", sec(end-30), "end", sec(end), "step", "15"), 200)
	f("series", "GET", "/api/v1/series", v("match[]", `queue_depth`, "start", sec(start), "end", sec(end)), 200)
	f("series_post_two_matchers", "POST", "/api/v1/series", v("match[]", `queue_depth{instance="a"}`, "match[]", `target_info`), 200)
	f("labels", "POST", "/api/v1/labels", v("start", sec(start), "end", sec(end)), 200)
	f("labels_match", "GET", "/api/v1/labels", v("match[]", `queue_depth`), 200)
	f("label_values", "GET", "/api/v1/label/instance/values", nil, 200)
	f("label_values_name", "GET", "/api/v1/label/__name__/values", v("match[]", `{job="checkout"}`, "limit", "3"), 200)
	f("label_values_escaped", "GET", "/api/v1/label/U__otel_5f_scope_5f_name/values", nil, 200)
	f("metadata", "GET", "/api/v1/metadata", nil, 200)
	f("metadata_metric", "GET", "/api/v1/metadata", v("metric", "queue_depth"), 200)
	f("query_exemplars", "GET", "/api/v1/query_exemplars", v("query", `http_server_requests_total`, "start", sec(start), "end", sec(end)), 200)
	f("buildinfo", "GET", "/api/v1/status/buildinfo", nil, 200)
	// Errors.
	f("error_parse", "GET", "/api/v1/query", v("query", `sum(`), 400)
	f("error_no_query", "POST", "/api/v1/query", nil, 400)
	f("error_bad_time", "GET", "/api/v1/query", v("query", "1", "time", "yesterday"), 400)
	f("error_execution", "GET", "/api/v1/query", v("query", `label_replace(queue_depth, "instance", "x", "", "")`, "time", sec(end)), 422)
	f("error_series_no_match", "GET", "/api/v1/series", nil, 400)
	f("error_range_step", "GET", "/api/v1/query_range", v("query", "1", "start", "1", "end", "100", "step", "0"), 400)
	f("error_range_resolution", "GET", "/api/v1/query_range", v("query", "1", "start", "0", "end", "1000000", "step", "1"), 400)
	f("rules", "GET", "/api/v1/rules", nil, 200)
	f("alerts", "GET", "/api/v1/alerts", nil, 200)
	f("error_not_found", "GET", "/api/v1/targets", nil, 404)
	f("federate_text", "GET", "/federate", v("match[]", `{__name__=~"queue_depth|http_server_requests_total"}`), 200)
}

// queryAt runs an instant query and returns the raw result.
func queryAt(base, query string, ts time.Time) (string, error) {
	resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {query}, "time": {fmt.Sprint(float64(ts.UnixMilli()) / 1000)}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// FuzzQueryAPI sends arbitrary parameters to the query endpoints: the answer must be JSON in the envelope
// with a status code that matches it.
func FuzzQueryAPI(f *testing.F) {
	f.Add("/api/v1/query", "sum(rate(http_server_requests_total[1m]))", "1767322920", "", "")
	f.Add("/api/v1/query_range", "queue_depth", "1767322800", "1767322920", "15s")
	f.Add("/api/v1/query_range", "1", "0", "1e9", "0.001")
	f.Add("/api/v1/series", "{__name__=~\".+\"}", "-1e300", "NaN", "")
	f.Add("/api/v1/labels", "up{", "2026-01-02T03:00:00Z", "", "")
	f.Add("/api/v1/query_exemplars", "http_server_requests_total", "", "", "")
	st, err := metrics.Open(metrics.Options{Dir: filepath.Join(f.TempDir(), "metrics")})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	if err := st.ConsumeMetrics(context.Background(), fixture()); err != nil {
		f.Fatal(err)
	}
	api := prom.New(prom.Options{Queryable: st.Queryable(), Exemplars: st.ExemplarQueryable(), Metadata: st.Metadata,
		Timeout: 2 * time.Second, MaxSamples: 1_000_000})
	f.Fuzz(func(t *testing.T, path, query, start, end, step string) {
		switch path {
		case "/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/query_exemplars":
		default:
			path = "/api/v1/query"
		}
		form := url.Values{"query": {query}, "match[]": {query}, "time": {start}, "start": {start}, "end": {end}, "step": {step}}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		var env struct {
			Status    string `json:"status"`
			ErrorType string `json:"errorType"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("%d: body is not JSON: %q", rec.Code, rec.Body.String())
		}
		wantCode := map[string]int{"": 200, "bad_data": 400, "execution": 422, "timeout": 503, "canceled": 503, "internal": 500}[env.ErrorType]
		if (env.Status == "success") != (rec.Code == 200) || rec.Code != wantCode {
			t.Fatalf("status %d with envelope %+v", rec.Code, env)
		}
	})
}

// TestUTF8Names stores OTLP names untranslated and reads them back with quoted PromQL names and U__-escaped
// label names in the label values path.
func TestUTF8Names(t *testing.T) {
	st, err := metrics.Open(metrics.Options{Dir: filepath.Join(t.TempDir(), "metrics"), Convert: promconv.Options{Strategy: promconv.NoTranslation}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().Truncate(time.Second)
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "checkout")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("http.server.active_requests")
	p := m.SetEmptyGauge().DataPoints().AppendEmpty()
	p.SetTimestamp(pcommon.NewTimestampFromTime(now))
	p.SetIntValue(3)
	p.Attributes().PutStr("http.route", "/cart")
	if err := st.ConsumeMetrics(context.Background(), md); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(prom.New(prom.Options{Queryable: st.Queryable()}))
	defer srv.Close()
	got, err := queryAt(srv.URL, `{"http.server.active_requests", "http.route"="/cart"}`, now)
	if err != nil || !strings.Contains(got, `"value":[`) || !strings.Contains(got, `"3"`) || !strings.Contains(got, `"http.route":"/cart"`) {
		t.Errorf("quoted UTF-8 query = %s, %v", got, err)
	}
	resp, err := http.Get(srv.URL + "/api/v1/label/U__http_2e_route/values")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != `{"status":"success","data":["/cart"]}` {
		t.Errorf("U__ escaped label values = %s", b)
	}
}
