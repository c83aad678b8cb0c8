package loki

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/coder/websocket"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/tail"
)

// Live tail limits.
const (
	tailBatch        = 100                    // entries per message at most
	tailBatchWait    = 100 * time.Millisecond // how long a message waits for more entries
	tailWriteTimeout = 10 * time.Second
)

// tailMessage is one WebSocket message of /loki/api/v1/tail.
type tailMessage struct {
	Streams        []*streamOut `json:"streams"`
	DroppedEntries []any        `json:"dropped_entries"`
}

// TailHandler serves GET /loki/api/v1/tail?query=&start=&limit= (a WebSocket): first the newest limit
// entries since start (default an hour ago, limit 100) oldest first, then every new record that the
// query's stream selector and pipeline keep, as the live tail hub sees them arrive. Records the hub drops
// for a slow client are not sent (Loki's dropped_entries stays empty).
func (a *API) TailHandler(hub *tail.Hub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeError(w, badRequest("parse form: %v", err))
			return
		}
		e, aerr := parseQuery(r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		le, ok := e.(*LogExpr)
		if !ok {
			writeError(w, badRequest("invalid parameter \"query\": live tail needs a log query, not a metric query"))
			return
		}
		limit, aerr := a.limitParam(r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		now := a.opts.Now()
		start, aerr := timeParam(r, "start", now.Add(-DefaultLookback))
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		sq, _ := storageQuery(le, start, now, storage.NewestFirst)
		sub, err := hub.Subscribe(tail.Filter{Signals: tail.Logs, Service: sq.Service, Logs: sq.Match})
		if err != nil {
			code := http.StatusServiceUnavailable
			writeError(w, &apiError{code: code, msg: "live tail: " + err.Error()})
			return
		}
		defer sub.Close()
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return // Accept has answered
		}
		defer conn.CloseNow()
		ctx := conn.CloseRead(r.Context())

		qctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
		first, aerr := a.logQuery(qctx, le, start, now.Add(time.Nanosecond), limit, storage.NewestFirst, false)
		cancel()
		if aerr != nil {
			_ = conn.Close(websocket.StatusInternalError, "backfill failed")
			return
		}
		streams, _ := first.Data.Result.([]*streamOut)
		for _, s := range streams {
			slices.Reverse(s.Values)
		}
		if err := a.writeTail(ctx, conn, streams); err != nil {
			return
		}
		a.tailLive(ctx, conn, le, sub)
	})
}

func (a *API) writeTail(ctx context.Context, conn *websocket.Conn, streams []*streamOut) error {
	b, err := json.Marshal(tailMessage{Streams: nonNil(streams)})
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, tailWriteTimeout)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, b)
}

// tailLive sends the hub's records in batches until the client goes away or the hub closes.
func (a *API) tailLive(ctx context.Context, conn *websocket.Conn, le *LogExpr, sub *tail.Subscription) {
	var cache resourceCache
	var e entry
	for {
		it, ok := sub.Next(ctx)
		if !ok {
			_ = conn.Close(websocket.StatusGoingAway, "live tail ended")
			return
		}
		var streams []*streamOut
		index := map[string]int{}
		n := 0
		add := func(it tail.Item) {
			res, rec := recordOf(it)
			ls := cache.get(res).forRecord(rec.SeverityNumber())
			if !matchStream(le.Matchers, ls) {
				return
			}
			e.reset(int64(rec.Timestamp()), lineOf(rec), ls, rec)
			if !run(le.Stages, &e) {
				return
			}
			out := e.seriesLabels()
			k := out.key()
			i, seen := index[k]
			if !seen {
				i = len(streams)
				index[k] = i
				streams = append(streams, &streamOut{Stream: out.toMap()})
			}
			streams[i].Values = append(streams[i].Values, valueOut{ts: e.ts, line: e.line})
			n++
		}
		add(it)
		wait, cancel := context.WithTimeout(ctx, tailBatchWait)
		for n < tailBatch {
			more, ok := sub.Next(wait)
			if !ok {
				break
			}
			add(more)
		}
		cancel()
		if len(streams) == 0 {
			continue
		}
		if err := a.writeTail(ctx, conn, streams); err != nil {
			if !errors.Is(err, context.Canceled) {
				a.log.DebugContext(ctx, "loki tail: write failed", "err", err)
			}
			return
		}
	}
}

// recordOf rebuilds the resource and record of a live tail item.
func recordOf(it tail.Item) (pcommon.Resource, plog.LogRecord) {
	res := pcommon.NewResource()
	_ = res.Attributes().FromRaw(it.Resource)
	rec := plog.NewLogRecord()
	_ = rec.Attributes().FromRaw(it.Attributes)
	rec.SetTimestamp(pcommon.NewTimestampFromTime(it.Time))
	rec.SetSeverityNumber(plog.SeverityNumber(it.SeverityNumber))
	rec.SetSeverityText(it.Severity)
	switch b := it.Body.(type) {
	case nil:
	case string:
		rec.Body().SetStr(b)
	default:
		_ = rec.Body().FromRaw(b)
	}
	if id, err := hex.DecodeString(it.TraceID); err == nil && len(id) == 16 {
		rec.SetTraceID(pcommon.TraceID(id))
	}
	if id, err := hex.DecodeString(it.SpanID); err == nil && len(id) == 8 {
		rec.SetSpanID(pcommon.SpanID(id))
	}
	return res, rec
}
