package loadgen

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// FuzzParseResponse feeds arbitrary export responses (protobuf and JSON) to the decoder: it must fail
// cleanly or return a count that is not negative for a well-formed message.
func FuzzParseResponse(f *testing.F) {
	resp := ptraceotlp.NewExportResponse()
	resp.PartialSuccess().SetRejectedSpans(3)
	resp.PartialSuccess().SetErrorMessage("bad span")
	pb, _ := resp.MarshalProto()
	js, _ := resp.MarshalJSON()
	f.Add(pb, false)
	f.Add(js, true)
	f.Add([]byte{}, false)
	f.Add([]byte(`{"partialSuccess":{"rejectedLogRecords":"-5"}}`), true)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		for _, sig := range []Signal{SignalTraces, SignalLogs, SignalMetrics} {
			_, _, _ = parseResponse(sig, body, isJSON)
		}
	})
}

func FuzzHTTPURL(f *testing.F) {
	for _, s := range []string{"127.0.0.1:4318", "http://h:1/", "https://h/x/v1/logs", "::1", "http://[::1]:4318", "%zz", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, endpoint string) {
		u, err := httpURL(endpoint, SignalTraces, false)
		if err == nil && u == "" {
			t.Fatalf("httpURL(%q) returned no URL and no error", endpoint)
		}
	})
}
