package auth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otlpd/otlpd/internal/config"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name    string
		cfg     config.Auth
		valid   []string
		invalid []string
		err     string
	}{
		{name: "off", cfg: config.Auth{}, valid: []string{"", "anything"}},
		{name: "list", cfg: config.Auth{Tokens: []string{"a1", "b2"}}, valid: []string{"a1", "b2"}, invalid: []string{"", "a", "A1", "b2b", "a1 b2"}},
		{name: "file", cfg: config.Auth{TokensFile: file("ok", "# comment\n\n  c3  \r\nd4\n")}, valid: []string{"c3", "d4"}, invalid: []string{"# comment", ""}},
		{name: "both", cfg: config.Auth{Tokens: []string{"a1"}, TokensFile: file("one", "c3")}, valid: []string{"a1", "c3"}, invalid: []string{"d4"}},
		{name: "missing file", cfg: config.Auth{TokensFile: filepath.Join(dir, "nope")}, err: "auth.tokens_file"},
		{name: "empty file", cfg: config.Auth{TokensFile: file("empty", "# only a comment\n")}, err: "no token in the file"},
		{name: "space in token", cfg: config.Auth{TokensFile: file("space", "good\nbad token\n")}, err: "line 2: a token must not contain whitespace"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Load(tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.valid {
				if !tok.allows("Bearer " + v) {
					t.Errorf("%q refused", v)
				}
			}
			for _, v := range tc.invalid {
				if tok.allows("Bearer " + v) {
					t.Errorf("%q accepted", v)
				}
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	tok, err := Load(config.Auth{Tokens: []string{"s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	refusals := 0
	h := tok.HTTP(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("in")) }),
		func(r *http.Request) bool { return r.URL.Path == "/open" }, func() { refusals++ })
	cases := []struct {
		path, authz string
		want        int
	}{
		{"/x", "", 401}, {"/x", "Bearer s3cret", 200}, {"/x", "bearer   s3cret ", 200}, {"/x", "Bearer s3cre", 401},
		{"/x", "Basic s3cret", 401}, {"/x", "s3cret", 401}, {"/x", "Bearer", 401}, {"/open", "", 200},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.authz != "" {
			req.Header.Set("Authorization", c.authz)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.want {
			t.Errorf("%s %q: %d, want %d", c.path, c.authz, w.Code, c.want)
		}
		if w.Code == 401 && (w.Body.String() != "unauthenticated\n" || w.Header().Get("WWW-Authenticate") == "") {
			t.Errorf("401 body %q, WWW-Authenticate %q", w.Body.String(), w.Header().Get("WWW-Authenticate"))
		}
	}
	if refusals != 5 {
		t.Errorf("%d refusals reported, want 5", refusals)
	}
}

func TestServerTLS(t *testing.T) {
	if c, err := ServerTLS(config.TLS{}); c != nil || err != nil {
		t.Errorf("TLS off: %v %v", c, err)
	}
	_, err := ServerTLS(config.TLS{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"})
	if err == nil || !strings.Contains(err.Error(), "cert_file /nonexistent/cert.pem") {
		t.Errorf("missing files: %v", err)
	}
}
