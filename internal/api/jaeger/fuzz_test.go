package jaeger

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzParams sends arbitrary query strings and trace IDs to the search, trace, operations and dependencies
// routes and checks every answer is the JSON envelope with 200, 400 or 404, never a crash or a 500.
func FuzzParams(f *testing.F) {
	for _, s := range []string{
		"service=front&tags=%7B%22http.route%22%3A%22%2Fcart%22%7D&start=1795651200000000&end=1795658400000000",
		"service=front&tag=span.kind:client&minDuration=200ms&maxDuration=1s&limit=5",
		"traceID=2a&traceID=zz",
		"service=front&minDuration=-1s",
		"service=front&limit=99999999999999999999",
		"service=front&tags=%5B1%5D&lookback=1h",
		"endTs=1795658400000&lookback=7200000",
		"service=%00&spanKind=server",
	} {
		f.Add(s, "4bf92f3577b34da6a3ce929d0e0e4736")
	}
	srv := newServer(f, richTraces())
	mux := srv.Config.Handler
	f.Fuzz(func(t *testing.T, rawQuery, id string) {
		paths := []string{"/api/traces?" + rawQuery, "/api/operations?" + rawQuery, "/api/dependencies?" + rawQuery}
		req := httptest.NewRequest(http.MethodGet, "/api/traces/x", nil)
		req.URL.Path = "/api/traces/" + id
		reqs := []*http.Request{req}
		for _, p := range paths {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.Path = p[:len(p)-len(rawQuery)-1]
			r.URL.RawQuery = rawQuery
			reqs = append(reqs, r)
		}
		for _, r := range reqs {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if (w.Code >= 300 && w.Code < 400) || (w.Code == http.StatusNotFound && w.Header().Get("Content-Type") != "application/json") {
				continue // the mux itself (a path with '..' or an odd ID that leaves the route)
			}
			if w.Code != http.StatusOK && w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
				t.Fatalf("%s?%s: status %d: %s", r.URL.Path, r.URL.RawQuery, w.Code, w.Body.Bytes())
			}
			var env struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Code int    `json:"code"`
					Msg  string `json:"msg"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatalf("%s?%s: body is not JSON: %v\n%s", r.URL.Path, r.URL.RawQuery, err, w.Body.Bytes())
			}
			ok := len(env.Data) > 0 && string(env.Data) != "null"
			if w.Code != http.StatusOK {
				ok = string(env.Data) == "null" && len(env.Errors) == 1 && env.Errors[0].Code == w.Code && env.Errors[0].Msg != ""
			}
			if !ok {
				t.Fatalf("%s?%s: status %d with data %s errors %+v", r.URL.Path, r.URL.RawQuery, w.Code, env.Data, env.Errors)
			}
		}
	})
}

// FuzzV3Params does for the api_v3 routes what FuzzParams does for the legacy ones: every answer is 200 with
// a result (or a services or operations list), or 400/404 with the api_v3 error object.
func FuzzV3Params(f *testing.F) {
	for _, s := range []string{
		"query.service_name=front&query.start_time_min=2026-11-26T00:00:00Z&query.start_time_max=2026-11-26T03:00:00Z",
		"query.service_name=front&query.attributes=%7B%22exception.type%22%3A%22Timeout%22%7D&query.start_time_min=2026-11-26T00:00:00Z&query.start_time_max=2026-11-26T03:00:00Z",
		"query.duration_min=-1s&query.start_time_min=2026-11-26T00:00:00Z&query.start_time_max=2026-11-26T03:00:00Z",
		"query.num_traces=99999999999999999999&query.start_time_min=x",
		"service=front&span_kind=client",
		"start_time=2026-11-26T00:00:00.123456789Z&raw_traces=true",
	} {
		f.Add(s, "4bf92f3577b34da6a3ce929d0e0e4736")
	}
	srv := newServer(f, richTraces())
	mux := srv.Config.Handler
	f.Fuzz(func(t *testing.T, rawQuery, id string) {
		var reqs []*http.Request
		for _, p := range []string{"/api/v3/traces", "/api/v3/operations", "/api/v3/services", "/api/v3/traces/" + id} {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.URL.Path = p
			r.URL.RawQuery = rawQuery
			reqs = append(reqs, r)
		}
		for _, r := range reqs {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			if (w.Code >= 300 && w.Code < 400) || (w.Code == http.StatusNotFound && w.Header().Get("Content-Type") != "application/json") {
				continue // the mux itself
			}
			var body struct {
				Result     json.RawMessage `json:"result"`
				Services   json.RawMessage `json:"services"`
				Operations json.RawMessage `json:"operations"`
				Error      *struct {
					HTTPCode int    `json:"httpCode"`
					Message  string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s?%s: body is not JSON: %v\n%s", r.URL.Path, r.URL.RawQuery, err, w.Body.Bytes())
			}
			switch w.Code {
			case http.StatusOK:
				if len(body.Result)+len(body.Services)+len(body.Operations) == 0 || body.Error != nil {
					t.Fatalf("%s?%s: 200 without a result: %s", r.URL.Path, r.URL.RawQuery, w.Body.Bytes())
				}
			case http.StatusBadRequest, http.StatusNotFound:
				if body.Error == nil || body.Error.HTTPCode != w.Code || body.Error.Message == "" {
					t.Fatalf("%s?%s: status %d with body %s", r.URL.Path, r.URL.RawQuery, w.Code, w.Body.Bytes())
				}
			default:
				t.Fatalf("%s?%s: status %d: %s", r.URL.Path, r.URL.RawQuery, w.Code, w.Body.Bytes())
			}
		}
	})
}
