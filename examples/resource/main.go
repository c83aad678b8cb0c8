// Command resource describes the process that produces telemetry: built-in detectors fill in host, OS,
// process, runtime, container and SDK attributes; a custom detector adds the cloud region from a file that
// the deployment writes; the code sets service identity; and OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME
// override all of it at deploy time. Later sources win: code < detectors < environment.
//
//	OTEL_RESOURCE_ATTRIBUTES=team=payments go run ./examples/resource -endpoint 127.0.0.1:4317 -region-file /etc/region
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

type config struct {
	endpoint   string
	regionFile string // optional; holds the cloud region, e.g. "eu-west-1"
}

func main() {
	var cfg config
	flag.StringVar(&cfg.endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint (host:port)")
	flag.StringVar(&cfg.regionFile, "region-file", "", "file holding the cloud region (optional)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range describe(res) {
		fmt.Println(line)
	}
}

// regionDetector reads the cloud region from a file. A missing file is not an error: the attribute is simply
// absent, as detectors should degrade quietly outside their environment.
type regionDetector struct{ path string }

func (d regionDetector) Detect(context.Context) (*resource.Resource, error) {
	if d.path == "" {
		return resource.Empty(), nil
	}
	b, err := os.ReadFile(d.path)
	if errors.Is(err, os.ErrNotExist) {
		return resource.Empty(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read region file: %w", err)
	}
	region := strings.TrimSpace(string(b))
	if region == "" {
		return resource.Empty(), nil
	}
	return resource.NewSchemaless(attribute.String("cloud.region", region)), nil
}

// newResource builds the resource. Options apply in order and later ones override earlier keys.
func newResource(ctx context.Context, regionFile string) (*resource.Resource, error) {
	res, err := resource.New(ctx,
		resource.WithAttributes( // code defaults
			attribute.String("service.name", "inventory"),
			attribute.String("service.namespace", "shop"),
			attribute.String("service.version", "2.3.0"),
			attribute.String("deployment.environment.name", "development"),
		),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithOS(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		// Not WithProcessCommandArgs: command lines often hold secrets.
		resource.WithContainer(), // container.id when running in one
		resource.WithDetectors(regionDetector{path: regionFile}),
		resource.WithFromEnv(), // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, last so they win
	)
	if errors.Is(err, resource.ErrPartialResource) {
		log.Printf("resource: some detectors failed, using the rest: %v", err)
		return res, nil
	}
	return res, err
}

// run exports one span carrying the resource and returns the resource.
func run(ctx context.Context, cfg config) (res *resource.Resource, err error) {
	res, err = newResource(ctx, cfg.regionFile)
	if err != nil {
		return nil, fmt.Errorf("detect resource: %w", err)
	}
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(cfg.endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		return nil, fmt.Errorf("trace exporter: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp))
	defer func() { err = errors.Join(err, tp.Shutdown(context.WithoutCancel(ctx))) }()
	_, span := tp.Tracer("examples/resource").Start(ctx, "startup")
	span.End()
	return res, nil
}

func describe(res *resource.Resource) []string {
	var out []string
	for _, kv := range res.Attributes() {
		out = append(out, fmt.Sprintf("%s=%s", kv.Key, kv.Value.Emit()))
	}
	sort.Strings(out)
	return out
}
