package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/otlpd/otlpd/internal/api/jaeger"
	"github.com/otlpd/otlpd/internal/api/loki"
	"github.com/otlpd/otlpd/internal/api/native"
	"github.com/otlpd/otlpd/internal/auth"
	"github.com/otlpd/otlpd/internal/buildinfo"
	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/ingest/otlp"
	"github.com/otlpd/otlpd/internal/metrics"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/query"
	"github.com/otlpd/otlpd/internal/rules"
	"github.com/otlpd/otlpd/internal/spanmetrics"
	"github.com/otlpd/otlpd/internal/storage"
)

// Options extends what a Config describes with things that are code, not settings.
type Options struct {
	// Backend, when set, is used instead of the backend cfg.Storage names. The server closes it.
	Backend storage.Backend
	// Consumers are added to the pipeline after storage (live tail, forwarding, ...).
	Consumers []pipeline.Consumer
	// Routes, when set, is called with the UI/API mux and the backend, to add routes.
	Routes func(mux *http.ServeMux, backend storage.Backend)
	// ShutdownTimeout bounds the graceful shutdown. 0 means 10 seconds.
	ShutdownTimeout time.Duration
}

// Server is a whole otlpd. Create it with New, run it with Run.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	opts    Options
	backend storage.Backend
	metrics *metricsStore
	pipe    *pipeline.Pipeline
	spanMet *spanmetrics.Generator // nil when span_metrics.enabled is false
	rules   *rules.Manager         // nil without rule files

	grpcLis, httpLis, uiLis net.Listener
	grpcSrv                 *grpc.Server
	httpSrv, uiSrv          *http.Server
	ready                   atomic.Bool
	authIngest, authQuery   bool // bearer tokens required
}

// New builds a server and binds its three listeners (so port 0 becomes a real port, see the Addr methods).
// Nothing is served until Run. On error, everything New opened is closed.
func New(cfg config.Config, log *slog.Logger, opts Options) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 10 * time.Second
	}
	s := &Server{cfg: cfg, log: log, opts: opts}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()

	s.backend = opts.Backend
	if s.backend == nil {
		if s.backend, err = openBackend(cfg, log); err != nil {
			return nil, err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.metrics, err = openMetrics(cfg, log, reg); err != nil {
		return nil, err
	}
	if es, ok := s.backend.(engineStats); ok {
		reg.MustRegister(newStorageCollector(es))
	}
	lat := newWriteLatency(reg)
	consumers := append([]pipeline.Consumer{
		lat.wrap("backend", storageConsumer(s.backend, cfg)),
		lat.wrap("tsdb", pipeline.Consumer{Name: "metrics", Metrics: s.metrics}),
	}, opts.Consumers...)
	if cfg.SpanMetrics.Enabled {
		s.spanMet = spanmetrics.New(s.metrics, spanmetrics.Options{
			Interval:  time.Duration(cfg.SpanMetrics.Interval),
			MaxSeries: cfg.SpanMetrics.MaxSeries,
			IdleTTL:   time.Duration(cfg.SpanMetrics.IdleTTL),
			Classic:   cfg.SpanMetrics.Histogram == "classic",
			Logger:    log.With("component", "spanmetrics"),
		})
		consumers = append(consumers, pipeline.Consumer{Name: "spanmetrics", Traces: s.spanMet, Observer: true})
		registerSpanMetrics(reg, s.spanMet)
	}
	s.pipe = pipeline.New(pipeline.Options{MaxInFlightBytes: cfg.Ingest.MaxInFlightBytes}, consumers...)
	registerPipelineMetrics(reg, s.pipe, cfg.Ingest.MaxInFlightBytes)

	recv := otlp.New(s.pipe, otlp.Options{
		MaxRequestBytes:        cfg.Ingest.MaxRequestBytes,
		MaxGRPCMessageBytes:    cfg.Ingest.MaxGRPCMessageBytes,
		MaxAttributeValueBytes: cfg.Ingest.MaxAttributeValueBytes,
		CORSAllowedOrigins:     cfg.Ingest.CORSAllowedOrigins,
		Observer:               newIngestMetrics(reg),
	}, log.With("component", "otlp"))

	if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen for OTLP/gRPC on %s: %w", cfg.GRPCAddr, err)
	}
	if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen for OTLP/HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	if s.uiLis, err = net.Listen("tcp", cfg.UIAddr); err != nil {
		return nil, fmt.Errorf("listen for the UI and API on %s: %w", cfg.UIAddr, err)
	}

	tokens, err := auth.Load(cfg.Auth)
	if err != nil {
		return nil, err
	}
	tlsConf, err := auth.ServerTLS(cfg.TLS)
	if err != nil {
		return nil, err
	}
	if tokens.Enabled() && tlsConf == nil {
		log.Warn("bearer-token authentication is on without TLS: tokens cross the network in clear text")
	}
	var grpcOpts []grpc.ServerOption
	if tlsConf != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(tlsConf)))
	}
	ingestTokens, queryTokens := tokens, tokens
	if !cfg.Auth.Ingest {
		ingestTokens = nil
	}
	if !cfg.Auth.Query {
		queryTokens = nil
	}
	s.authIngest, s.authQuery = ingestTokens.Enabled(), queryTokens.Enabled()
	refused := newAuthRefusals(reg)
	if tap := ingestTokens.GRPCTap(refused.inc("grpc")); tap != nil {
		grpcOpts = append(grpcOpts, grpc.InTapHandle(tap))
	}
	s.grpcSrv = recv.NewGRPCServer(grpcOpts...)
	// OTLP/HTTP clients may speak HTTP/1.1 or HTTP/2: over TLS negotiated by ALPN, without TLS the
	// prior-knowledge kind.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	protocols.SetHTTP2(true)
	s.httpSrv = &http.Server{
		Protocols: &protocols,
		// CORS preflights carry no credentials; the export that follows does.
		Handler: ingestTokens.HTTP(recv.Handler(), func(r *http.Request) bool {
			return r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		}, refused.inc("http")),
		TLSConfig:         cloneTLS(tlsConf),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle(auth.SessionPath, queryTokens.Session(refused.inc("ui")))
	native.New(s.backend, log.With("component", "api")).Register(mux)
	jaeger.New(query.New(s.backend, s.backend, query.Options{Logger: log.With("component", "query")}), log.With("component", "jaeger-api")).Register(mux)
	rs := &ruleSource{}
	promAPI := promRoutes(mux, cfg, s.metrics.Store, reg, log, rs)
	if s.rules, err = openRules(cfg, s.metrics.Store, promAPI, reg, log, s.uiLis.Addr().String()); err != nil {
		return nil, err
	}
	rs.m.Store(s.rules)
	loki.New(s.backend, loki.Options{Logger: log.With("component", "loki-api"), Build: lokiBuildInfo()}).Register(mux)
	if cfg.Pprof {
		pprofRoutes(mux)
	}
	if opts.Routes != nil {
		opts.Routes(mux, s.backend)
	}
	s.uiSrv = &http.Server{
		// Health checks stay open for probes, the web UI's own files and its sign-in for browsers; the data
		// (APIs, /federate, /metrics, pprof) needs a token.
		Handler:           queryTokens.UI(mux, openOnUIAddr, refused.inc("ui")),
		TLSConfig:         cloneTLS(tlsConf),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// lokiBuildInfo is what the Loki API reports as its build: otlpd's.
func lokiBuildInfo() loki.BuildInfo {
	bi := buildinfo.Get()
	return loki.BuildInfo{Version: bi.Version, Revision: bi.Revision, BuildDate: bi.BuildDate, GoVersion: bi.GoVersion}
}

// openOnUIAddr reports whether a request to the UI address needs no token: health checks, the sign-in
// endpoint, and GETs of the web UI's files and deep links (they hold no telemetry; the page asks for a token
// when its first API call is refused).
func openOnUIAddr(r *http.Request) bool {
	p := r.URL.Path
	switch {
	case p == "/healthz" || p == "/readyz" || p == auth.SessionPath:
		return true
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return false
	case strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/loki/") || p == "/federate" || p == "/metrics" || strings.HasPrefix(p, "/debug/"):
		return false
	}
	return true
}

// ReloadRules re-reads the rule files; on error the previous rules stay. Without rule files it does nothing.
func (s *Server) ReloadRules() error {
	if s.rules == nil {
		return nil
	}
	return s.rules.Reload()
}

// GRPCAddr is the bound OTLP/gRPC address.
func (s *Server) GRPCAddr() net.Addr { return s.grpcLis.Addr() }

// HTTPAddr is the bound OTLP/HTTP address.
func (s *Server) HTTPAddr() net.Addr { return s.httpLis.Addr() }

// UIAddr is the bound UI and API address.
func (s *Server) UIAddr() net.Addr { return s.uiLis.Addr() }

// Metrics is the Prometheus TSDB store the server writes metrics to.
func (s *Server) Metrics() *metrics.Store { return s.metrics.Store }

// Backend is the storage the server writes to.
func (s *Server) Backend() storage.Backend { return s.backend }

// Run serves until ctx ends, then stops accepting, lets requests in progress finish (up to
// Options.ShutdownTimeout), and closes the backend. It returns nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 3)
	var wg sync.WaitGroup
	serve := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
				errc <- fmt.Errorf("%s server: %w", name, err)
			}
		}()
	}
	serve("OTLP/gRPC", func() error { return s.grpcSrv.Serve(s.grpcLis) })
	serve("OTLP/HTTP", func() error { return serveHTTP(s.httpSrv, s.httpLis) })
	serve("UI", func() error { return serveHTTP(s.uiSrv, s.uiLis) })
	s.ready.Store(true)
	s.log.Info("otlpd serving",
		"otlp_grpc", s.GRPCAddr().String(), "otlp_http", s.HTTPAddr().String(), "ui", s.UIAddr().String(),
		"storage", s.cfg.Storage, "tls", s.cfg.TLS.Enabled(),
		"auth_ingest", s.authIngest, "auth_query", s.authQuery)

	// Background work that writes to the metrics store (span metrics, rules) stops after the listeners and
	// before the store closes; span metrics write once more when stopped.
	var bg sync.WaitGroup
	bgCtx, stopBg := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBg()
	if s.spanMet != nil {
		bg.Go(func() { s.spanMet.Run(bgCtx) })
	}
	if s.rules != nil {
		bg.Go(func() { s.rules.Run(bgCtx) })
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.ready.Store(false)
	s.log.Info("otlpd shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	stopped := make(chan struct{})
	go func() {
		s.grpcSrv.GracefulStop()
		close(stopped)
	}()
	errs := []error{runErr, s.httpSrv.Shutdown(shutCtx), s.uiSrv.Shutdown(shutCtx)}
	select {
	case <-stopped:
	case <-shutCtx.Done():
		s.grpcSrv.Stop()
		<-stopped
	}
	wg.Wait()
	stopBg()
	bg.Wait()
	close(errc)
	for err := range errc {
		errs = append(errs, err)
	}
	if err := s.backend.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close storage: %w", err))
	}
	if err := s.metrics.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close metrics store: %w", err))
	}
	return errors.Join(errs...)
}

// serveHTTP serves srv on l, over TLS when srv has a TLS configuration.
func serveHTTP(srv *http.Server, l net.Listener) error {
	if srv.TLSConfig != nil {
		return srv.ServeTLS(l, "", "")
	}
	return srv.Serve(l)
}

// cloneTLS gives each server its own copy (servers add their protocols to NextProtos).
func cloneTLS(c *tls.Config) *tls.Config {
	if c == nil {
		return nil
	}
	return c.Clone()
}

// closeAll releases what New opened, when New fails.
func (s *Server) closeAll() {
	for _, l := range []net.Listener{s.grpcLis, s.httpLis, s.uiLis} {
		if l != nil {
			_ = l.Close()
		}
	}
	if s.backend != nil && s.opts.Backend == nil {
		_ = s.backend.Close()
	}
	if s.metrics != nil {
		_ = s.metrics.Close()
	}
}
