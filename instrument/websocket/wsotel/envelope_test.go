package wsotel_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otlpd/otlpd/instrument/websocket/wsotel"
)

func TestEnvelopeRoundTrip(t *testing.T) {
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	in, err := wsotel.New(wsotel.Options{Propagator: prop})
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)
	m, _ := baggage.NewMember("user.id", "42")
	b, _ := baggage.New(m)
	ctx = baggage.ContextWithBaggage(ctx, b)

	msg, err := in.EncodeEnvelope(ctx, []byte(`{"text":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	carrier, data, err := wsotel.DecodeEnvelope(msg)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != `{"text":"hi"}` {
		t.Errorf("data = %s", data)
	}
	got := prop.Extract(context.Background(), carrier)
	if gsc := trace.SpanContextFromContext(got); gsc.TraceID() != sc.TraceID() || gsc.SpanID() != sc.SpanID() || !gsc.IsSampled() {
		t.Errorf("extracted %v, want %v", gsc, sc)
	}
	if v := baggage.FromContext(got).Member("user.id").Value(); v != "42" {
		t.Errorf("baggage user.id = %q", v)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	if _, err := wsotel.EncodeEnvelope(nil, []byte("not json")); err == nil {
		t.Error("encoding invalid JSON data succeeded")
	}
	many := map[string]string{}
	for i := range wsotel.MaxEnvelopeFields + 1 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	tooMany, _ := json.Marshal(map[string]any{"trace": many, "data": 1})
	long, _ := json.Marshal(map[string]any{"trace": map[string]string{"traceparent": strings.Repeat("x", wsotel.MaxEnvelopeFieldBytes+1)}, "data": 1})
	for _, bad := range []string{"", "null", "[]", `{"trace":{}}`, `{"data":1,"trace":{"a":1}}`, string(tooMany), string(long)} {
		_, _, err := wsotel.DecodeEnvelope([]byte(bad))
		var ee *wsotel.EnvelopeError
		if !errors.As(err, &ee) {
			t.Errorf("DecodeEnvelope(%.40q) = %v, want *EnvelopeError", bad, err)
		}
	}
}

func FuzzDecodeEnvelope(f *testing.F) {
	f.Add([]byte(`{"trace":{"traceparent":"00-0102030000000000000000000000000000-0405060000000000-01"},"data":{"a":1}}`))
	f.Add([]byte(`{"data":"x"}`))
	f.Add([]byte(`{"trace":null,"data":[1,2]}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		carrier, data, err := wsotel.DecodeEnvelope(msg)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("decoded data %q is not valid JSON", data)
		}
		again, err := wsotel.EncodeEnvelope(carrier, data)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, _, err := wsotel.DecodeEnvelope(again); err != nil {
			t.Fatalf("decode of re-encoded %q: %v", again, err)
		}
		_ = propagation.TraceContext{}.Extract(context.Background(), carrier) // must not panic
	})
}
