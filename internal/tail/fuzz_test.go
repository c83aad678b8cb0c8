package tail

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzStreamLine feeds arbitrary stream lines to the client's decoder and every output format: none may
// panic, and a decoded line must encode and decode to the same text form.
func FuzzStreamLine(f *testing.F) {
	f.Add([]byte(`{"signal":"span","time":"2026-01-02T03:04:05Z","service":"cart","name":"GET /","duration_ns":5}`))
	f.Add([]byte(`{"signal":"log","severity_number":17,"body":{"a":[1,2,{"b":null}]},"attributes":{"k":"v w"}}`))
	f.Add([]byte(`{"signal":"metric","name":"m","value":1e308,"sum":-0.5,"count":3}`))
	f.Add([]byte(`{"signal":"heartbeat","dropped":7}`))
	f.Add([]byte(`{"signal":"span","name":"\u001b[31mred\n","severity_number":-5}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		it, err := decodeLine(line)
		if err != nil {
			return
		}
		for _, fm := range []*Formatter{{Location: time.UTC}, {Location: time.UTC, Color: true, MaxWidth: 20}} {
			if err := fm.Write(io.Discard, it); err != nil {
				t.Fatal(err)
			}
		}
		var j bytes.Buffer
		if err := WriteJSON(&j, it); err != nil {
			t.Fatal(err)
		}
		if it.Signal == KindHeartbeat {
			return
		}
		again, err := decodeLine(j.Bytes())
		if err != nil {
			t.Fatalf("re-decode %q: %v", j.Bytes(), err)
		}
		var a, b strings.Builder
		fm := &Formatter{Location: time.UTC}
		_ = fm.Write(&a, it)
		_ = fm.Write(&b, again)
		if a.String() != b.String() {
			t.Fatalf("round trip changed the line:\n%q\n%q", a.String(), b.String())
		}
	})
}

func FuzzParseSignals(f *testing.F) {
	for _, s := range []string{"", "spans", "spans,logs", "metrics, LOGS", "traces,span", "x", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignals(s)
		if err == nil && (sig == 0 || sig&^(Spans|Logs|Metrics) != 0) {
			t.Fatalf("ParseSignals(%q) = %b", s, sig)
		}
		if err != nil && !strings.Contains(err.Error(), "unknown signal") {
			t.Fatalf("error %v", err)
		}
	})
}
