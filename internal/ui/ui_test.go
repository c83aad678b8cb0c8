package ui

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	h := Handler()
	f := func(method, path string, wantCode int, wantType, wantBody string) {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		res := rec.Result()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != wantCode {
			t.Fatalf("%s %s: status %d, want %d", method, path, res.StatusCode, wantCode)
		}
		if wantType != "" && !strings.HasPrefix(res.Header.Get("Content-Type"), wantType) {
			t.Errorf("%s %s: content type %q, want %q", method, path, res.Header.Get("Content-Type"), wantType)
		}
		if wantBody != "" && !strings.Contains(string(body), wantBody) {
			t.Errorf("%s %s: body lacks %q", method, path, wantBody)
		}
		if wantCode == http.StatusOK {
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
				t.Errorf("%s %s: Content-Security-Policy %q does not restrict scripts", method, path, csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: no nosniff header", method, path)
			}
		}
	}
	f("GET", "/", 200, "text/html", `<script type="module" src="/js/app.js">`)
	f("GET", "/js/app.js", 200, "text/javascript", "hashchange")
	f("GET", "/css/app.css", 200, "text/css", "--accent")
	f("HEAD", "/", 200, "text/html", "")
	// deep links by path get the page; the page moves the path into the hash route
	f("GET", "/trace/4bf92f3577b34da6a3ce929d0e0e4736", 200, "text/html", "<title>otlpd</title>")
	f("GET", "/logs", 200, "text/html", "<title>otlpd</title>")
	// a missing asset is not answered with the page
	f("GET", "/js/missing.js", 404, "", "")
	f("GET", "/api/otlpd/unknown", 404, "", "")
	f("POST", "/", 405, "", "")
}

// TestAssetsReferenced checks that every module the page imports is embedded.
func TestAssetsReferenced(t *testing.T) {
	files := Assets()
	for _, name := range []string{"index.html", "favicon.svg", "css/app.css", "js/app.js", "js/theme-init.js", "js/views/search.js", "js/views/trace.js",
		"js/views/compare.js", "js/views/services.js", "js/views/service.js", "js/views/logs.js", "js/views/metrics.js"} {
		if _, err := fs.ReadFile(files, name); err != nil {
			t.Errorf("embedded asset %s: %v", name, err)
		}
	}
}
