package main

import (
	"io"
	"testing"
	"time"
)

// FuzzQueryRender feeds arbitrary server answers to every renderer of otlpd query: each must print or fail
// with an error, never panic.
func FuzzQueryRender(f *testing.F) {
	f.Add([]byte(cannedSearch))
	f.Add(cannedTrace())
	f.Add(cannedLogs())
	f.Add([]byte(cannedVector))
	f.Add([]byte(cannedMatrix))
	f.Add([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[]}]}}`))
	f.Add([]byte(`{"services":["a",null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = renderTraces(io.Discard, body, time.UTC)
		_ = renderTrace(io.Discard, body)
		_ = renderLogs(io.Discard, body, time.UTC)
		_ = renderServices(io.Discard, body)
		_ = renderPromQL(io.Discard, body, time.UTC)
	})
}

func FuzzSplitPositional(f *testing.F) {
	f.Add("trace", "abc --server x --utc")
	f.Add("promql", "--since 1h -- up")
	f.Fuzz(func(t *testing.T, sub, line string) {
		args := splitFields(line)
		pos, flags := splitPositional(sub, args)
		if len(pos)+len(flags) > len(args) {
			t.Fatalf("%q: %d positional + %d flags from %d arguments", line, len(pos), len(flags), len(args))
		}
	})
}

func splitFields(s string) []string {
	var out []string
	cur := ""
	for _, r := range s {
		if r == ' ' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(r)
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
