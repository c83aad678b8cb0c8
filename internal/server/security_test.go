package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/credentials"

	"fmt"
	"github.com/otlpd/otlpd/internal/auth"
	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/ui"
	"net/http/cookiejar"
)

// testPKI is a CA made for one test and a server certificate it signed for 127.0.0.1 and localhost.
type testPKI struct {
	pool              *x509.CertPool
	certFile, keyFile string
	otherPool         *x509.CertPool // a second, unrelated CA
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	mkCA := func(name string) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return cert, key
	}
	ca, caKey := mkCA("otlpd test CA")
	other, _ := mkCA("unrelated CA")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "otlpd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := testPKI{pool: x509.NewCertPool(), otherPool: x509.NewCertPool(),
		certFile: filepath.Join(dir, "server.pem"), keyFile: filepath.Join(dir, "server-key.pem")}
	p.pool.AddCert(ca)
	p.otherPool.AddCert(other)
	write := func(path, typ string, der []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.certFile, "CERTIFICATE", der)
	write(p.keyFile, "EC PRIVATE KEY", keyDER)
	return p
}

// startSecure runs a server with TLS on every listener, and a client that trusts the test CA.
func startSecure(t *testing.T, pki testPKI, mut func(*config.Config)) *running {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}}}
	return startWith(t, Options{}, func(c *config.Config) {
		c.TLS.CertFile, c.TLS.KeyFile = pki.certFile, pki.keyFile
		if mut != nil {
			mut(c)
		}
	}, client, "https")
}

// oneSpan is a finished span of service, ready for an exporter.
func oneSpan(service string, n byte) []sdktrace.ReadOnlySpan {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x5e, n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14},
		SpanID:  trace.SpanID{0x5e, n, 1, 2, 3, 4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	now := time.Now()
	return tracetest.SpanStubs{{
		Name: "secure-op", SpanContext: sc, StartTime: now.Add(-time.Millisecond), EndTime: now,
		Resource: resource.NewSchemaless(attribute.String("service.name", service)),
	}}.Snapshots()
}

func grpcExporter(t *testing.T, r *running, creds credentials.TransportCredentials, headers map[string]string) *otlptrace.Exporter {
	t.Helper()
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(r.GRPCAddr().String()),
		otlptracegrpc.WithTLSCredentials(creds), otlptracegrpc.WithHeaders(headers),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}), otlptracegrpc.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

func httpExporter(t *testing.T, r *running, tc *tls.Config, headers map[string]string) *otlptrace.Exporter {
	t.Helper()
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(r.HTTPAddr().String()),
		otlptracehttp.WithTLSClientConfig(tc), otlptracehttp.WithHeaders(headers),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}), otlptracehttp.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

// getWith fetches a UI path with an Authorization header (none when auth is "").
func (r *running) getWith(t *testing.T, path, authz string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.ui(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// TestAuthAndTLS exports with the OpenTelemetry SDK over TLS (a CA made here) with and without bearer
// tokens, on both transports, and reads back through the query API with and without a token.
func TestAuthAndTLS(t *testing.T) {
	pki := newTestPKI(t)
	tokensFile := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokensFile, []byte("# ingest tokens\n\nfile-token-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := startSecure(t, pki, func(c *config.Config) {
		c.Auth.Tokens = []string{"yaml-token-1"}
		c.Auth.TokensFile = tokensFile
	})
	ctx := context.Background()
	trusted := credentials.NewClientTLSFromCert(pki.pool, "")
	tlsConf := &tls.Config{RootCAs: pki.pool}
	bearer := func(tok string) map[string]string { return map[string]string{"authorization": "Bearer " + tok} }

	// Accepted: a valid token from the YAML list over gRPC, one from the file over HTTP.
	if err := grpcExporter(t, r, trusted, bearer("yaml-token-1")).ExportSpans(ctx, oneSpan("secure-grpc", 1)); err != nil {
		t.Fatalf("gRPC export with a token: %v", err)
	}
	if err := httpExporter(t, r, tlsConf, bearer("file-token-2")).ExportSpans(ctx, oneSpan("secure-http", 2)); err != nil {
		t.Fatalf("HTTP export with a token: %v", err)
	}

	// Refused: no token, a wrong token, a token under another scheme.
	for name, h := range map[string]map[string]string{
		"none": nil, "wrong": bearer("yaml-token-"), "basic scheme": {"authorization": "Basic eWFtbC10b2tlbi0x"},
	} {
		err := grpcExporter(t, r, trusted, h).ExportSpans(ctx, oneSpan("refused", 3))
		if err == nil || !strings.Contains(err.Error(), "Unauthenticated") || !strings.HasSuffix(err.Error(), "unauthenticated") {
			t.Errorf("gRPC export, %s token: %v, want UNAUTHENTICATED without detail", name, err)
		}
		err = httpExporter(t, r, tlsConf, h).ExportSpans(ctx, oneSpan("refused", 4))
		if err == nil || !strings.Contains(err.Error(), "401") {
			t.Errorf("HTTP export, %s token: %v, want 401", name, err)
		}
	}

	// TLS is real: a client that does not trust the CA, or speaks plain text, gets nowhere.
	untrusted := credentials.NewClientTLSFromCert(pki.otherPool, "")
	if err := grpcExporter(t, r, untrusted, bearer("yaml-token-1")).ExportSpans(ctx, oneSpan("refused", 5)); err == nil {
		t.Error("gRPC export to a server whose CA the client does not trust succeeded")
	}
	if err := httpExporter(t, r, &tls.Config{RootCAs: pki.otherPool}, bearer("yaml-token-1")).ExportSpans(ctx, oneSpan("refused", 6)); err == nil {
		t.Error("HTTP export to a server whose CA the client does not trust succeeded")
	}
	if resp, err := http.Get("http://" + r.UIAddr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the UI address answered plain HTTP")
		}
	}

	// OTLP/HTTP over TLS negotiates HTTP/2.
	h2 := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}, ForceAttemptHTTP2: true}}
	t.Cleanup(h2.CloseIdleConnections)
	req, err := http.NewRequest(http.MethodPost, r.otlp("/v1/traces"), strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer yaml-token-1")
	resp, err := h2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Errorf("OTLP/HTTP over TLS: %d %s, want 200 over HTTP/2", resp.StatusCode, resp.Proto)
	}

	// The query APIs need a token; health checks do not.
	for _, path := range []string{"/api/otlpd/services", "/api/services", "/api/v3/services", "/metrics"} {
		code, h, body := r.getWith(t, path, "")
		if code != http.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") || body != "unauthenticated\n" {
			t.Errorf("GET %s without a token: %d %q %q", path, code, h.Get("WWW-Authenticate"), body)
		}
		if code, _, _ := r.getWith(t, path, "Bearer wrong"); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d", path, code)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _, _ := r.getWith(t, path, ""); code != http.StatusOK {
			t.Errorf("GET %s without a token: %d", path, code)
		}
	}
	// Every refusal above is counted, per listener: 3 gRPC, 3 HTTP, 8 UI (and the scrape itself needs a token).
	metricsResp, err := r.client.Do(func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, r.ui("/metrics"), nil)
		req.Header.Set("Authorization", "Bearer yaml-token-1")
		return req
	}())
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(metricsResp.Body)
	metricsResp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for listener, want := range map[string]float64{"grpc": 3, "http": 3, "ui": 8} {
		wantMetric(t, fams, "otlpd_auth_refused_total", map[string]string{"listener": listener}, want)
	}

	code, _, body := r.getWith(t, "/api/v3/services", "bearer file-token-2") // the scheme is case-insensitive
	if code != http.StatusOK || !strings.Contains(body, `"secure-grpc"`) || !strings.Contains(body, `"secure-http"`) || strings.Contains(body, "refused") {
		t.Errorf("services with a token: %d %s; want both accepted services and no refused one", code, body)
	}
}

// TestAuthScopes checks auth.ingest and auth.query switch the protection of each side independently.
func TestAuthScopes(t *testing.T) {
	r := start(t, Options{}, func(c *config.Config) {
		c.Auth.Tokens = []string{"t0k"}
		c.Auth.Ingest = false
	})
	body := mustBytes(ptraceotlp.NewExportRequestFromTraces(spans(0x31, 1, 0)).MarshalProto())
	if resp, out := r.postOTLP(t, "/v1/traces", "application/x-protobuf", "", body); resp.StatusCode != http.StatusOK {
		t.Errorf("export with ingest auth off: %d %s", resp.StatusCode, out)
	}
	if code, _, _ := r.getWith(t, "/api/otlpd/services", ""); code != http.StatusUnauthorized {
		t.Errorf("query without a token: %d, want 401", code)
	}

	r2 := start(t, Options{}, func(c *config.Config) {
		c.Auth.Tokens = []string{"t0k"}
		c.Auth.Query = false
	})
	if resp, _ := r2.postOTLP(t, "/v1/traces", "application/x-protobuf", "", body); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("export without a token: %d, want 401", resp.StatusCode)
	}
	if code, _, _ := r2.getWith(t, "/api/otlpd/services", ""); code != http.StatusOK {
		t.Errorf("query with query auth off: %d", code)
	}
}

// TestUISession signs a browser-like client (a cookie jar) in and out of the UI address, and checks what
// stays open without a token and what the session cookie can and cannot reach.
func TestUISession(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", secure), func(t *testing.T) {
			routes := Options{Routes: func(mux *http.ServeMux, _ storage.Backend) { ui.Register(mux) }}
			mut := func(c *config.Config) { c.Auth.Tokens = []string{"ui-t0ken"} }
			var r *running
			if secure {
				pki := newTestPKI(t)
				client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}}}
				r = startWith(t, routes, func(c *config.Config) {
					c.TLS.CertFile, c.TLS.KeyFile = pki.certFile, pki.keyFile
					mut(c)
				}, client, "https")
			} else {
				r = start(t, routes, mut)
			}
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			browser := &http.Client{Timeout: 30 * time.Second, Transport: r.client.Transport, Jar: jar}
			do := func(method, path, body string) (int, string, *http.Response) {
				t.Helper()
				req, err := http.NewRequest(method, r.ui(path), strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				resp, err := browser.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", method, path, err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, string(b), resp
			}

			// Without a token: the page and its files load, the data does not.
			if code, body, _ := do("GET", "/", ""); code != 200 || !strings.Contains(body, "<title>otlpd</title>") {
				t.Errorf("GET / without a token: %d", code)
			}
			if code, _, _ := do("GET", "/js/api.js", ""); code != 200 {
				t.Errorf("GET /js/api.js without a token: %d", code)
			}
			for _, path := range []string{"/api/otlpd/services", "/api/v1/query?query=1", "/federate?match[]=up", "/metrics", "/loki/api/v1/labels"} {
				if code, _, _ := do("GET", path, ""); code != 401 {
					t.Errorf("GET %s without a token: %d, want 401", path, code)
				}
			}
			if code, _, _ := do("POST", "/api/v1/query", "query=1"); code != 401 {
				t.Errorf("POST /api/v1/query without a token: %d, want 401", code)
			}
			if code, body, _ := do("GET", "/api/otlpd/session", ""); code != 200 || strings.TrimSpace(body) != `{"required":true,"signedIn":false}` {
				t.Errorf("session before sign-in: %d %s", code, body)
			}

			// A wrong token sets nothing; a bad body is a 400.
			if code, body, resp := do("POST", "/api/otlpd/session", `{"token":"ui-t0ke"}`); code != 401 || len(resp.Cookies()) != 0 || !strings.Contains(body, "invalid token") {
				t.Errorf("sign-in with a wrong token: %d %s cookies %v", code, body, resp.Cookies())
			}
			if code, _, _ := do("POST", "/api/otlpd/session", `token=ui-t0ken`); code != 400 {
				t.Errorf("sign-in with a form body: %d, want 400", code)
			}

			// The right token: an HttpOnly, SameSite=Strict cookie (Secure over TLS) that opens the data.
			code, _, resp := do("POST", "/api/otlpd/session", `{"token":"ui-t0ken"}`)
			if code != 204 || len(resp.Cookies()) != 1 {
				t.Fatalf("sign-in: %d cookies %v", code, resp.Cookies())
			}
			c := resp.Cookies()[0]
			if c.Name != auth.CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure != secure || strings.Contains(c.Value, "ui-t0ken") {
				t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Secure=%v, the token encoded", c, secure)
			}
			for _, path := range []string{"/api/otlpd/services", "/api/v1/query?query=1", "/metrics", "/loki/api/v1/labels"} {
				if code, body, _ := do("GET", path, ""); code != 200 {
					t.Errorf("GET %s signed in: %d %s", path, code, body)
				}
			}
			if code, body, _ := do("GET", "/api/otlpd/session", ""); code != 200 || strings.TrimSpace(body) != `{"required":true,"signedIn":true}` {
				t.Errorf("session after sign-in: %d %s", code, body)
			}

			// The cookie is for the UI address only: OTLP/HTTP ingest wants the header.
			req, _ := http.NewRequest(http.MethodPost, r.otlp("/v1/traces"), strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(c)
			if resp, err := r.client.Do(req); err != nil {
				t.Fatal(err)
			} else {
				resp.Body.Close()
				if resp.StatusCode != 401 {
					t.Errorf("OTLP/HTTP export with the session cookie: %d, want 401", resp.StatusCode)
				}
			}

			// A forged cookie value is refused.
			req, _ = http.NewRequest(http.MethodGet, r.ui("/api/otlpd/services"), nil)
			req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: "%%%"})
			if resp, err := r.client.Do(req); err != nil {
				t.Fatal(err)
			} else {
				resp.Body.Close()
				if resp.StatusCode != 401 {
					t.Errorf("a malformed session cookie: %d, want 401", resp.StatusCode)
				}
			}

			// Sign out: the cookie goes, the data closes again.
			if code, _, _ := do("DELETE", "/api/otlpd/session", ""); code != 204 {
				t.Errorf("sign-out: %d", code)
			}
			if code, _, _ := do("GET", "/api/otlpd/services", ""); code != 401 {
				t.Errorf("GET /api/otlpd/services after sign-out: %d, want 401", code)
			}
		})
	}
}
