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
