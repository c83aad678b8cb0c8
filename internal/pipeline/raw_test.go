package pipeline

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/otlpwire"
	"github.com/otlpd/otlpd/internal/storage"
)

// rawTraces takes raw batches; with unsupported set it declines them (errors.ErrUnsupported). It records
// every call in order in log.
type rawTraces struct {
	name        string
	log         *[]string
	unsupported bool
	err         error
	raws        [][]byte
	tds         []ptrace.Traces
}

func (r *rawTraces) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	*r.log = append(*r.log, r.name+":pdata")
	r.tds = append(r.tds, td)
	return r.err
}

// traceIndex stands for the receiver's index of a batch: the pipeline hands it on as it is.
var traceIndex = &otlpwire.Index{Items: make([]otlpwire.Item, 2)}

func (r *rawTraces) ConsumeTracesRaw(_ context.Context, raw []byte, idx *otlpwire.Index) error {
	if r.unsupported {
		return errors.ErrUnsupported
	}
	*r.log = append(*r.log, r.name+":raw")
	r.raws = append(r.raws, bytes.Clone(raw))
	if idx != traceIndex {
		return errors.New("not the batch's index")
	}
	return r.err
}

// pdataTraces takes decoded batches only.
type pdataTraces struct {
	name string
	log  *[]string
	tds  []ptrace.Traces
	err  error
}

func (p *pdataTraces) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	*p.log = append(*p.log, p.name+":pdata")
	p.tds = append(p.tds, td)
	return p.err
}

func twoSpans(t *testing.T) (ptrace.Traces, []byte) {
	t.Helper()
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	ss.Spans().AppendEmpty().SetName("a")
	ss.Spans().AppendEmpty().SetName("b")
	raw, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	return td, raw
}

// TestTracesRaw checks who gets what: raw consumers get raw, the others (and raw consumers that decline) one
// shared decoding, observers after the durable consumers.
func TestTracesRaw(t *testing.T) {
	td, raw := twoSpans(t)
	var log []string
	durRaw := &rawTraces{name: "durRaw", log: &log}
	declines := &rawTraces{name: "declines", log: &log, unsupported: true}
	plain := &pdataTraces{name: "plain", log: &log}
	enc := &encodedTraces{}
	obsRaw := &rawTraces{name: "obsRaw", log: &log, err: errors.New("observer errors are ignored")}
	obsPlain := &pdataTraces{name: "obsPlain", log: &log}
	p := New(Options{},
		Consumer{Name: "obsRaw", Traces: obsRaw, Observer: true},
		Consumer{Name: "durRaw", Traces: durRaw},
		Consumer{Name: "declines", Traces: declines},
		Consumer{Name: "obsPlain", Traces: obsPlain, Observer: true},
		Consumer{Name: "plain", Traces: plain},
		Consumer{Name: "enc", Traces: enc},
	)
	if err := p.TracesRaw(context.Background(), raw, traceIndex, int64(len(raw))); err != nil {
		t.Fatal(err)
	}
	want := "durRaw:raw declines:pdata plain:pdata obsRaw:raw obsPlain:pdata"
	if got := strings.Join(log, " "); got != want {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if !bytes.Equal(durRaw.raws[0], raw) || !bytes.Equal(obsRaw.raws[0], raw) {
		t.Fatal("raw consumers got other bytes")
	}
	if len(enc.raws) != 1 || !bytes.Equal(enc.raws[0], raw) {
		t.Fatalf("encoded consumer got %d encodings, want the batch's", len(enc.raws))
	}
	got := declines.tds[0]
	if plain.tds[0] != got || obsPlain.tds[0] != got {
		t.Fatal("the batch was decoded more than once")
	}
	again, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(got)
	if err != nil || !bytes.Equal(again, raw) || td.SpanCount() != got.SpanCount() {
		t.Fatalf("decoded batch differs from the one sent (%v)", err)
	}
	if n := p.InFlightBytes(); n != 0 {
		t.Errorf("%d bytes still in flight", n)
	}
}

// TestTracesRawLazy checks that a batch is decoded only when a consumer needs it: garbage goes through when
// every consumer takes raw, and fails a durable consumer that needs it decoded.
func TestTracesRawLazy(t *testing.T) {
	garbage := []byte{0x0a, 0x05, 1}
	var log []string
	r := &rawTraces{name: "r", log: &log}
	p := New(Options{}, Consumer{Name: "r", Traces: r})
	if err := p.TracesRaw(context.Background(), garbage, traceIndex, 3); err != nil {
		t.Fatalf("raw-only pipeline: %v", err)
	}
	plain := &pdataTraces{name: "plain", log: &log}
	p = New(Options{}, Consumer{Name: "r", Traces: r}, Consumer{Name: "plain", Traces: plain})
	err := p.TracesRaw(context.Background(), garbage, traceIndex, 3)
	if err == nil || !strings.Contains(err.Error(), "plain: decode traces batch") {
		t.Fatalf("err %v, want the decode error named after the consumer", err)
	}
	if len(plain.tds) != 0 {
		t.Fatal("consumer called with an undecodable batch")
	}
	// Observers that need decoding do not fail the batch.
	p = New(Options{}, Consumer{Name: "r", Traces: r}, Consumer{Name: "obs", Traces: plain, Observer: true})
	if err := p.TracesRaw(context.Background(), garbage, traceIndex, 3); err != nil {
		t.Fatalf("observer's decode failed the batch: %v", err)
	}
}

// TestTracesRawErrors checks that a raw consumer's rejections come back as they are, overload is refused
// before any consumer runs, and a failed durable consumer keeps the observers out.
func TestTracesRawErrors(t *testing.T) {
	_, raw := twoSpans(t)
	var log []string
	rej := &storage.RejectedError{Rejected: 1, Reason: "too old"}
	r := &rawTraces{name: "r", log: &log, err: rej}
	obs := &rawTraces{name: "obs", log: &log}
	p := New(Options{}, Consumer{Name: "r", Traces: r}, Consumer{Name: "obs", Traces: obs, Observer: true})
	var re *storage.RejectedError
	if err := p.TracesRaw(context.Background(), raw, traceIndex, 10); !errors.As(err, &re) || re.Rejected != 1 {
		t.Fatalf("err %v, want the RejectedError", err)
	}
	if len(obs.raws) != 1 {
		t.Fatal("observers not called after a partial success")
	}
	r.err = errors.New("disk full")
	if err := p.TracesRaw(context.Background(), raw, traceIndex, 10); err == nil || !strings.Contains(err.Error(), "r: disk full") {
		t.Fatalf("err %v", err)
	}
	if len(obs.raws) != 1 {
		t.Fatal("observers called after a failure")
	}
	// Overload: a batch is admitted alone, refused when others hold the budget.
	p = New(Options{MaxInFlightBytes: 10}, Consumer{Name: "r", Traces: &rawTraces{name: "x", log: &log}})
	if err := p.admit(8); err != nil {
		t.Fatal(err)
	}
	if err := p.TracesRaw(context.Background(), raw, traceIndex, 5); !errors.Is(err, ErrOverloaded) {
		t.Fatalf("err %v, want ErrOverloaded", err)
	}
}

// rawLogs takes raw log batches, or declines them.
type rawLogs struct {
	unsupported bool
	raws        int
	lds         []plog.Logs
}

func (r *rawLogs) ConsumeLogs(_ context.Context, ld plog.Logs) error {
	r.lds = append(r.lds, ld)
	return nil
}

var logIndex = &otlpwire.Index{Items: make([]otlpwire.Item, 1)}

func (r *rawLogs) ConsumeLogsRaw(_ context.Context, raw []byte, idx *otlpwire.Index) error {
	if r.unsupported {
		return errors.ErrUnsupported
	}
	if idx != logIndex {
		return errors.New("not the batch's index")
	}
	r.raws++
	return nil
}

func TestLogsRaw(t *testing.T) {
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hi")
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	takes, declines, obs := &rawLogs{}, &rawLogs{unsupported: true}, &rawLogs{unsupported: true}
	p := New(Options{}, Consumer{Name: "a", Logs: takes}, Consumer{Name: "b", Logs: declines},
		Consumer{Name: "c", Logs: obs, Observer: true})
	if err := p.LogsRaw(context.Background(), raw, logIndex, int64(len(raw))); err != nil {
		t.Fatal(err)
	}
	if takes.raws != 1 || len(takes.lds) != 0 {
		t.Fatalf("raw consumer: %d raw, %d decoded", takes.raws, len(takes.lds))
	}
	if len(declines.lds) != 1 || len(obs.lds) != 1 || declines.lds[0] != obs.lds[0] {
		t.Fatal("declining consumers did not share one decoding")
	}
	if got := declines.lds[0].ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().Str(); got != "hi" {
		t.Fatalf("decoded body %q", got)
	}
	if err := New(Options{}, Consumer{Name: "b", Logs: declines}).LogsRaw(context.Background(), []byte{0xff}, logIndex, 1); err == nil {
		t.Fatal("undecodable logs accepted")
	}
}
