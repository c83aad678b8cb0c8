package loki_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/api/loki"
	"github.com/otlpd/otlpd/internal/storage/memory"
	"github.com/otlpd/otlpd/internal/tail"
)

type tailMessage struct {
	Streams []struct {
		Stream map[string]string `json:"stream"`
		Values [][]string        `json:"values"`
	} `json:"streams"`
}

func readTail(t *testing.T, ctx context.Context, c *websocket.Conn) tailMessage {
	t.Helper()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read tail message: %v", err)
	}
	var m tailMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("tail message %s: %v", b, err)
	}
	return m
}

// TestTail opens the live tail over a real WebSocket: the first message holds the stored entries, oldest
// first; records the hub sees afterwards arrive when the selector and pipeline keep them.
func TestTail(t *testing.T) {
	store := memory.New(memory.Options{})
	t.Cleanup(func() { _ = store.Close() })
	if err := store.WriteLogs(context.Background(), fixtureLogs()); err != nil {
		t.Fatal(err)
	}
	hub := tail.NewHub(tail.Options{})
	t.Cleanup(hub.Close)
	api := loki.New(store, loki.Options{Now: func() time.Time { return t0.Add(2 * time.Minute) }})
	mux := http.NewServeMux()
	api.Register(mux)
	mux.Handle("GET /loki/api/v1/tail", api.TailHandler(hub))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v := url.Values{"query": {`{service_name="shop"} |= "GET /pay" | level="error"`}, "start": {ns(0)}, "limit": {"10"}}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/loki/api/v1/tail?"+v.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	first := readTail(t, ctx, c)
	if len(first.Streams) != 1 || !reflect.DeepEqual(first.Streams[0].Values, [][]string{
		{ns(10 * time.Second), "GET /pay 500 upstream failed"}, {ns(30 * time.Second), "GET /pay 503 timeout"}}) {
		t.Fatalf("backfill: %+v, want the two /pay errors oldest first", first.Streams)
	}

	// New records: only the shop error about /pay passes the query.
	ld := plog.NewLogs()
	for _, svc := range []string{"payments", "shop"} {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", svc)
		recs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for i, body := range []string{"GET /pay 502 bad gateway", "GET /cart 200", "GET /pay 200"} {
			r := recs.AppendEmpty()
			r.SetTimestamp(pcommon.NewTimestampFromTime(t0.Add(3*time.Minute + time.Duration(i)*time.Second)))
			r.SetSeverityNumber([]plog.SeverityNumber{plog.SeverityNumberError, plog.SeverityNumberError, plog.SeverityNumberInfo}[i])
			r.Body().SetStr(body)
		}
	}
	// The subscription starts before the backfill is sent, so the hub already has the subscriber.
	if err := hub.ConsumeLogs(ctx, ld); err != nil {
		t.Fatal(err)
	}
	live := readTail(t, ctx, c)
	if len(live.Streams) != 1 || live.Streams[0].Stream["service_name"] != "shop" || live.Streams[0].Stream["level"] != "error" ||
		!reflect.DeepEqual(live.Streams[0].Values, [][]string{{ns(3 * time.Minute), "GET /pay 502 bad gateway"}}) {
		t.Fatalf("live: %+v, want the new shop /pay error only", live.Streams)
	}

	// A metric query is refused before the upgrade.
	resp, err := http.Get(srv.URL + "/loki/api/v1/tail?query=" + url.QueryEscape(`rate({a="b"}[1m])`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("tail of a metric query: %d, want 400", resp.StatusCode)
	}
}
