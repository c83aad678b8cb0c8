package otlptest

import (
	"context"
	"fmt"
	"strconv"
)

// waitFor blocks until cond holds on a snapshot, or fails the test when ctx (or DefaultWaitTimeout, when ctx
// has no deadline) ends, printing dump of what arrived.
func (s *Server) waitFor(ctx context.Context, what string, cond func() bool, dump func() string) {
	if s.tb != nil {
		s.tb.Helper()
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultWaitTimeout)
		defer cancel()
	}
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-ctx.Done():
			msg := fmt.Sprintf("otlptest: timed out waiting for %s (%v); received:\n%s", what, ctx.Err(), dump())
			if s.tb == nil {
				panic(fmt.Errorf("%w: %s", errNoTB, msg))
			}
			s.tb.Fatal(msg)
			return
		}
	}
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}

// WaitSpans waits until at least n spans have arrived and returns all spans received.
func (s *Server) WaitSpans(ctx context.Context, n int) Spans {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.waitFor(ctx, plural(n, "span"), func() bool { return len(s.Spans()) >= n }, func() string { return s.Spans().String() })
	return s.Spans()
}

// WaitSpansFunc waits until cond holds for the spans received and returns them; what describes the
// condition in the failure message.
func (s *Server) WaitSpansFunc(ctx context.Context, what string, cond func(Spans) bool) Spans {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.waitFor(ctx, what, func() bool { return cond(s.Spans()) }, func() string { return s.Spans().String() })
	return s.Spans()
}

// WaitSpan waits for a span named name and returns the first one.
func (s *Server) WaitSpan(ctx context.Context, name string) Span {
	if s.tb != nil {
		s.tb.Helper()
	}
	spans := s.WaitSpansFunc(ctx, "a span named "+strconv.Quote(name), func(sp Spans) bool { return len(sp.Named(name)) > 0 })
	if named := spans.Named(name); len(named) > 0 {
		return named[0]
	}
	return Span{} // only reached when the test's Fatal did not stop the goroutine

}

// WaitLogs waits until at least n log records have arrived and returns all received.
func (s *Server) WaitLogs(ctx context.Context, n int) Logs {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.waitFor(ctx, plural(n, "log record"), func() bool { return len(s.Logs()) >= n }, func() string { return s.Logs().String() })
	return s.Logs()
}

// WaitLogsFunc waits until cond holds for the log records received and returns them.
func (s *Server) WaitLogsFunc(ctx context.Context, what string, cond func(Logs) bool) Logs {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.waitFor(ctx, what, func() bool { return cond(s.Logs()) }, func() string { return s.Logs().String() })
	return s.Logs()
}

// WaitMetricsFunc waits until cond holds for the metrics received and returns them.
func (s *Server) WaitMetricsFunc(ctx context.Context, what string, cond func(Metrics) bool) Metrics {
	if s.tb != nil {
		s.tb.Helper()
	}
	s.waitFor(ctx, what, func() bool { return cond(s.Metrics()) }, func() string { return s.Metrics().String() })
	return s.Metrics()
}

// WaitMetric waits for a metric named name and returns its latest export.
func (s *Server) WaitMetric(ctx context.Context, name string) Metric {
	if s.tb != nil {
		s.tb.Helper()
	}
	ms := s.WaitMetricsFunc(ctx, "a metric named "+strconv.Quote(name), func(m Metrics) bool { _, ok := m.Last(name); return ok })
	m, _ := ms.Last(name)
	return m
}
