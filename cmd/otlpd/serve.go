package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/otlpd/otlpd/internal/api/loki"
	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/pipeline"
	"github.com/otlpd/otlpd/internal/server"
	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/tail"
	"github.com/otlpd/otlpd/internal/ui"
)

const serveUsage = `Receive OTLP traces, metrics and logs (gRPC on --grpc-addr, HTTP on --http-addr), store them, and serve
the UI and query APIs on --ui-addr. Everything listens on loopback by default; to accept telemetry from other
hosts, listen on all interfaces, e.g. --grpc-addr 0.0.0.0:4317 --http-addr 0.0.0.0:4318.

Examples:
  otlpd serve
  otlpd serve --data-dir /var/lib/otlpd --ui-addr 0.0.0.0:4320
  otlpd serve --config otlpd.yaml`

// serveFlags parses the serve flags into a configuration: defaults, then the --config file, then the flags
// that were given explicitly.
func serveFlags(args []string, stdout io.Writer) (config.Config, error) {
	fs := newFlagSet("serve", serveUsage, stdout)
	def := config.Default()
	configPath := fs.String("config", "", "YAML file with settings beyond the flags (see docs/configuration.md)")
	dataDir := fs.String("data-dir", def.DataDir, "directory where stored telemetry lives")
	storageKind := fs.String("storage", def.Storage, "storage backend: engine (on disk in --data-dir) or memory")
	syncMode := fs.String("sync", def.Engine.Sync, "engine durability: batch (acknowledge after fsync) or none (unsafe: no fsync; benchmarks only)")
	grpcAddr := fs.String("grpc-addr", def.GRPCAddr, "OTLP/gRPC listen address")
	httpAddr := fs.String("http-addr", def.HTTPAddr, "OTLP/HTTP listen address")
	uiAddr := fs.String("ui-addr", def.UIAddr, "UI and query API listen address")
	pprof := fs.Bool("pprof", def.Pprof, "serve Go profiles under /debug/pprof/ on the UI address")
	if err := parseFlags(fs, args); err != nil {
		return def, err
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		return cfg, usageError{err}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "data-dir":
			cfg.DataDir = *dataDir
		case "storage":
			cfg.Storage = *storageKind
		case "sync":
			cfg.Engine.Sync = *syncMode
		case "grpc-addr":
			cfg.GRPCAddr = *grpcAddr
		case "http-addr":
			cfg.HTTPAddr = *httpAddr
		case "ui-addr":
			cfg.UIAddr = *uiAddr
		case "pprof":
			cfg.Pprof = *pprof
		}
	})
	if err := cfg.Validate(); err != nil {
		return cfg, usageError{err}
	}
	return cfg, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := serveFlags(args, stdout)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	applyMemoryLimit(cfg, os.Getenv("GOMEMLIMIT") != "", log)
	applyProcs(os.Getenv("GOMAXPROCS") != "")
	srv, err := newServer(ctx, cfg, log)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.TLS.Enabled() {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "otlpd listening: OTLP/gRPC %s, OTLP/HTTP %s, UI and API %s://%s\n",
		srv.GRPCAddr(), srv.HTTPAddr(), scheme, srv.UIAddr())
	// SIGHUP re-reads the rule files, as it does for Prometheus.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := srv.ReloadRules(); err != nil {
					log.Error("reload rules: the previous rules stay", "err", err)
				}
			}
		}
	}()
	return srv.Run(ctx)
}

// newServer assembles otlpd from cfg, with the live tail: the hub sees every accepted batch and its streams
// end when ctx ends, so that shutdown does not wait for them.
func newServer(ctx context.Context, cfg config.Config, log *slog.Logger) (*server.Server, error) {
	hub := tail.NewHub(tail.Options{})
	context.AfterFunc(ctx, hub.Close)
	srv, err := server.New(cfg, log, server.Options{
		Consumers: []pipeline.Consumer{hub.Consumer()},
		Routes: func(mux *http.ServeMux, backend storage.Backend) {
			mux.Handle("GET "+tail.Path, hub.Handler(tail.HandlerOptions{Compile: compileTailFilter}))
			var lokiOpts loki.Options
			if log != nil {
				lokiOpts.Logger = log.With("component", "loki-api")
			}
			mux.Handle("GET /loki/api/v1/tail", loki.New(backend, lokiOpts).TailHandler(hub))
			ui.Register(mux)
		},
	})
	if err != nil {
		hub.Close()
		return nil, err
	}
	return srv, nil
}

// applyProcs sets GOMAXPROCS to server.Procs of the runtime's default, unless GOMAXPROCS is set (the runtime
// has applied it already).
func applyProcs(envSet bool) {
	if !envSet {
		runtime.GOMAXPROCS(server.Procs(runtime.GOMAXPROCS(0)))
	}
}

// applyMemoryLimit sets the Go runtime's soft memory limit that cfg asks for, unless GOMEMLIMIT is set (the
// runtime has applied it already).
func applyMemoryLimit(cfg config.Config, envSet bool, log *slog.Logger) {
	if envSet {
		log.Info("memory limit from GOMEMLIMIT", "bytes", debug.SetMemoryLimit(-1))
		return
	}
	if limit := cfg.EffectiveMemoryLimit(); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}
