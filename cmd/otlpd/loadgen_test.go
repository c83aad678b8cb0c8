package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/otlpd/otlpd/internal/otlpsink"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestLoadgenJSONAgainstSink(t *testing.T) {
	s, err := otlpsink.Start(otlpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, out, errs := runCmd(t, "loadgen", "--endpoint", s.GRPCAddr, "--signal", "logs", "--duration", "300ms",
		"--workers", "2", "--batch", "100", "--pool-mb", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"accepted", "rejected", "items_per_s", "p50_ms", "p99_ms"} {
		if _, ok := res[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, out)
		}
	}
	if got := int64(res["accepted"].(float64)); got != s.Logs.Load() || got == 0 {
		t.Fatalf("accepted %d, sink received %d", got, s.Logs.Load())
	}
	if errs != "" {
		t.Errorf("stderr not empty when not a terminal: %q", errs)
	}
}

func TestLoadgenSweep(t *testing.T) {
	s, err := otlpsink.Start(otlpsink.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, out, errs := runCmd(t, "loadgen", "--endpoint", s.HTTPAddr, "--protocol", "http", "--duration", "200ms",
		"--batch-sweep", "10,100", "--pool-mb", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "batch        items/s") || strings.Count(out, "traces over http") != 2 {
		t.Fatalf("sweep output:\n%s", out)
	}
}

func TestLoadgenErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	f := func(wantCode int, wantErr string, args ...string) {
		t.Helper()
		code, _, errs := runCmd(t, append([]string{"loadgen"}, args...)...)
		if code != wantCode || !strings.Contains(errs, wantErr) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line with %q", args, code, errs, wantCode, wantErr)
		}
	}
	f(2, "flag provided but not defined: -bogus", "--bogus")
	f(2, `signal "spans"`, "--signal", "spans")
	f(2, `protocol "udp"`, "--protocol", "udp")
	f(2, "--batch-sweep", "--batch-sweep", "10,x")
	f(2, "exclude each other", "--batch", "5", "--batch-sweep", "10")
	f(2, "--header", "--header", "novalue")
	f(1, "cannot export to "+closed+" over grpc: connection refused", "--endpoint", closed)
	f(1, "cannot export to "+closed+" over http: connection refused", "--endpoint", closed, "--protocol", "http")

	code, out, _ := runCmd(t, "loadgen", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d, output %q", code, out)
	}
}
