package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"

	"github.com/otlpd/otlpd/internal/config"
)

// Tokens is a set of accepted bearer tokens. The zero value (and nil) accepts every request: authentication
// is off.
type Tokens struct {
	digests [][sha256.Size]byte
}

// Load reads the tokens of cfg: cfg.Tokens, then cfg.TokensFile (one token a line; blank lines and lines
// starting with # are ignored).
func Load(cfg config.Auth) (*Tokens, error) {
	t := &Tokens{}
	for _, tok := range cfg.Tokens {
		t.add(tok)
	}
	if cfg.TokensFile != "" {
		data, err := os.ReadFile(cfg.TokensFile)
		if err != nil {
			return nil, fmt.Errorf("auth.tokens_file: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for line := 1; sc.Scan(); line++ {
			tok := strings.TrimSpace(sc.Text())
			if tok == "" || strings.HasPrefix(tok, "#") {
				continue
			}
			if strings.ContainsAny(tok, " \t") {
				return nil, fmt.Errorf("auth.tokens_file %s line %d: a token must not contain whitespace", cfg.TokensFile, line)
			}
			t.add(tok)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("auth.tokens_file %s: %w", cfg.TokensFile, err)
		}
		if len(t.digests) == len(cfg.Tokens) {
			return nil, fmt.Errorf("auth.tokens_file %s: no token in the file", cfg.TokensFile)
		}
	}
	return t, nil
}

func (t *Tokens) add(tok string) { t.digests = append(t.digests, sha256.Sum256([]byte(tok))) }

// Enabled reports whether any token is configured.
func (t *Tokens) Enabled() bool { return t != nil && len(t.digests) > 0 }

// Valid reports whether tok is one of the tokens. It compares against every token, in constant time each.
func (t *Tokens) Valid(tok string) bool {
	d := sha256.Sum256([]byte(tok))
	ok := 0
	for i := range t.digests {
		ok |= subtle.ConstantTimeCompare(d[:], t.digests[i][:])
	}
	return ok == 1
}

// allows reports whether an Authorization header value carries a valid bearer token.
func (t *Tokens) allows(header string) bool {
	if !t.Enabled() {
		return true
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return t.Valid(strings.TrimSpace(tok))
}

// SessionPath is where Session is served on the UI address.
const SessionPath = "/api/otlpd/session"

// CookieName is the cookie that carries the token of a web UI session (see Session). Its value is the token
// in unpadded base64url, so that any token fits the cookie syntax.
const CookieName = "otlpd_token"

// allowsRequest reports whether r carries a valid token: in its Authorization header or in the session cookie.
func (t *Tokens) allowsRequest(r *http.Request) bool {
	if t.allows(r.Header.Get("Authorization")) {
		return true
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return false
	}
	tok, err := base64.RawURLEncoding.DecodeString(c.Value)
	return err == nil && t.Valid(string(tok))
}

// Session serves the web UI's sign-in at one path:
//
//	GET     {"required": bool, "signedIn": bool}: whether a token is needed, and whether this request has one
//	POST    {"token": "..."}: 204 and the session cookie when the token is valid; 401 {"error": ...} otherwise
//	DELETE  204, and the session cookie expired (sign out)
//
// The cookie is HttpOnly (page scripts cannot read it), SameSite=Strict (other sites cannot make a browser
// send it, which also stops cross-site request forgery), Secure when the request came over TLS, and lasts
// for the browser session. The handler must be reachable without a token; refused (when not nil) is called
// for each refused sign-in.
func (t *Tokens) Session(refused func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			writeJSON(w, http.StatusOK, map[string]bool{"required": t.Enabled(), "signedIn": t.Enabled() && t.allowsRequest(r)})
		case http.MethodPost:
			var in struct {
				Token string `json:"token"`
			}
			if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want a JSON body {\"token\": \"...\"}"})
				return
			}
			tok := strings.TrimSpace(in.Token)
			if !t.Enabled() {
				w.WriteHeader(http.StatusNoContent) // nothing to sign in to
				return
			}
			if tok == "" || !t.Valid(tok) {
				if refused != nil {
					refused()
				}
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid token"})
				return
			}
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: base64.RawURLEncoding.EncodeToString([]byte(tok)),
				Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
			w.WriteHeader(http.StatusNoContent)
		case http.MethodDelete:
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
				Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Header().Set("Allow", "GET, HEAD, POST, DELETE")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		}
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// HTTP wraps next so that a request needs a valid token in its Authorization header, except those open
// accepts (health checks, CORS preflights). A refused request gets 401 with "WWW-Authenticate: Bearer" and no
// detail, and refused (when not nil) is called.
func (t *Tokens) HTTP(next http.Handler, open func(*http.Request) bool, refused func()) http.Handler {
	return t.wrap(next, open, refused, t.allowsHeader)
}

// UI is HTTP for the UI and query address: the token may also come in the web UI's session cookie (Session).
func (t *Tokens) UI(next http.Handler, open func(*http.Request) bool, refused func()) http.Handler {
	return t.wrap(next, open, refused, t.allowsRequest)
}

func (t *Tokens) allowsHeader(r *http.Request) bool { return t.allows(r.Header.Get("Authorization")) }

func (t *Tokens) wrap(next http.Handler, open func(*http.Request) bool, refused func(), allowed func(*http.Request) bool) http.Handler {
	if !t.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (open != nil && open(r)) || allowed(r) {
			next.ServeHTTP(w, r)
			return
		}
		if refused != nil {
			refused()
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="otlpd"`)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("unauthenticated\n"))
	})
}

// ErrUnauthenticated is the gRPC status a refused call gets.
var ErrUnauthenticated = status.Error(codes.Unauthenticated, "unauthenticated")

// GRPCTap is a gRPC tap handle (grpc.InTapHandle) that refuses calls without a valid token in the
// "authorization" metadata, before their message is read, calling refused (when not nil) for each. It is nil
// when authentication is off.
func (t *Tokens) GRPCTap(refused func()) tap.ServerInHandle {
	if !t.Enabled() {
		return nil
	}
	return func(ctx context.Context, info *tap.Info) (context.Context, error) {
		for _, v := range info.Header.Get("authorization") {
			if t.allows(v) {
				return ctx, nil
			}
		}
		if refused != nil {
			refused()
		}
		return ctx, ErrUnauthenticated
	}
}

// ServerTLS returns the TLS configuration of cfg for a server, or nil when TLS is off. The certificate and
// key are read now, so that a bad file fails at start.
func ServerTLS(cfg config.TLS) (*tls.Config, error) {
	if !cfg.Enabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: load cert_file %s and key_file %s: %w", cfg.CertFile, cfg.KeyFile, err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if cfg.MinVersion == "1.3" {
		c.MinVersion = tls.VersionTLS13
	}
	return c, nil
}
