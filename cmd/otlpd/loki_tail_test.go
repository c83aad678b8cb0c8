package main

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// TestLokiTailAgainstOtlpd follows otlpd's logs through the Loki live tail WebSocket, as Grafana's live
// button does: records the SDK exports afterwards arrive when the query keeps them.
func TestLokiTailAgainstOtlpd(t *testing.T) {
	srv, _ := startOtlpd(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	q := url.Values{"query": {`{service_name="tailed"} |= "keep"`}}
	c, _, err := websocket.Dial(ctx, "ws://"+srv.UIAddr().String()+"/loki/api/v1/tail?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	type message struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][]string        `json:"values"`
		} `json:"streams"`
	}
	read := func() message {
		t.Helper()
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("message %s: %v", b, err)
		}
		return m
	}
	if m := read(); len(m.Streams) != 0 {
		t.Fatalf("backfill of an empty store: %+v", m)
	}

	exp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(srv.GRPCAddr().String()), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"other", "tailed"} {
		lp := sdklog.NewLoggerProvider(sdklog.WithResource(resource.NewWithAttributes("", attribute.String("service.name", svc))),
			sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
		for _, body := range []string{"drop me", "keep me"} {
			var r otellog.Record
			r.SetTimestamp(time.Now())
			r.SetSeverity(otellog.SeverityInfo)
			r.SetBody(attribute.StringValue(svc + " " + body))
			lp.Logger("e2e").Emit(ctx, r)
		}
		if err := lp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_ = exp.Shutdown(ctx)
	m := read()
	if len(m.Streams) != 1 || m.Streams[0].Stream["service_name"] != "tailed" || len(m.Streams[0].Values) != 1 ||
		!strings.HasSuffix(m.Streams[0].Values[0][1], "tailed keep me") {
		t.Fatalf("live message %+v, want the one kept record of service tailed", m)
	}
}
