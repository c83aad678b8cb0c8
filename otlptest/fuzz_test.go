package otlptest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzHTTPExport feeds arbitrary bodies to the OTLP/HTTP handlers: the answer is 200 or 400, never a crash.
func FuzzHTTPExport(f *testing.F) {
	f.Add([]byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x","traceId":"01000000000000000000000000000000","spanId":"0200000000000000"}]}]}]}`), true, uint8(0))
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00}, false, uint8(1))
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"hi"}}]}]}]}`), true, uint8(2))
	s, err := Start()
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	signals := []string{"traces", "metrics", "logs"}
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool, sig uint8) {
		signal := signals[int(sig)%len(signals)]
		req := httptest.NewRequest(http.MethodPost, "/v1/"+signal, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-protobuf")
		if isJSON {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		s.handleHTTP(signal)(rec, req)
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("%s: status %d: %s", signal, rec.Code, rec.Body)
		}
		s.Reset()
	})
}
