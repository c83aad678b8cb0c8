package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// contentSecurityPolicy allows only otlpd's own scripts, styles and API calls.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// Assets returns the embedded files of the interface, rooted at the directory holding index.html.
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic("BUG: embedded assets directory missing: " + err.Error())
	}
	return sub
}

// Handler serves the interface. A GET for a path that names no asset (a deep link such as /trace/abc) gets
// index.html, so the single-page application can route it; paths under /api/ are never answered here.
func Handler() http.Handler {
	files := Assets()
	static := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" || name == "index.html" {
			serveIndex(w, r, files)
			return
		}
		if st, err := fs.Stat(files, name); err != nil || st.IsDir() {
			if path.Ext(name) != "" {
				// a missing asset (a typo in a script path) is a 404, not the page
				http.NotFound(w, r)
				return
			}
			serveIndex(w, r, files)
			return
		}
		// Assets are not fingerprinted: let the browser revalidate so an upgrade is picked up at once.
		h.Set("Cache-Control", "no-cache")
		static.ServeHTTP(w, r)
	})
}

func serveIndex(w http.ResponseWriter, r *http.Request, files fs.FS) {
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeFileFS(w, r, files, "index.html")
}

// Register mounts the interface on mux at "/" (every path the API routes do not claim). The pattern names no
// method, so that it never conflicts with API patterns that name none either (a method-less "/api/v1/" and
// "GET /" would); Handler itself answers other methods with 405.
func Register(mux *http.ServeMux) {
	mux.Handle("/", Handler())
}
