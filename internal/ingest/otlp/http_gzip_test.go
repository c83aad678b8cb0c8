package otlp

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// TestHTTPResponseGzip checks that responses with a body are gzip-compressed exactly when the request's
// Accept-Encoding allows it, and that the compressed body decodes to the same response.
func TestHTTPResponseGzip(t *testing.T) {
	srv := newHTTP(t, &fakeConsumer{}, Options{})
	// One good span and one with an all-zero trace ID: a partial success, so the response has a body.
	bad := goodSpanMsg("bad")
	bad.TraceId = make([]byte, 16)
	partial := traceReq(nil, goodSpanMsg("good"), bad)
	full := traceReq(nil, goodSpanMsg("good"))
	// A client that does not decompress on its own, so the test sees the wire.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)

	cases := []struct {
		name, accept, contentType string
		body                      []byte
		wantCode                  int
		wantGzip                  bool
		wantBody                  string // a substring of the decoded body
	}{
		{"partial success gzip", "gzip", contentTypeProto, partial, 200, true, "trace_id"},
		{"partial success with weights", "br;q=1.0, gzip;q=0.5", contentTypeProto, partial, 200, true, "trace_id"},
		{"partial success star", "*", contentTypeProto, partial, 200, true, "trace_id"},
		{"partial success no header", "", contentTypeProto, partial, 200, false, "trace_id"},
		{"gzip refused", "gzip;q=0, *", contentTypeProto, partial, 200, false, "trace_id"},
		{"identity only", "identity", contentTypeProto, partial, 200, false, "trace_id"},
		{"error status gzip", "gzip", "text/plain", partial, 415, true, "unsupported Content-Type"},
		{"full success proto has no body", "gzip", contentTypeProto, full, 200, false, ""},
		{"full success JSON", "gzip", contentTypeJSON, []byte(`{"resourceSpans":[]}`), 200, true, "{}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, srv.URL+TracesPath, bytes.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", tc.contentType)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.wantCode, raw)
			}
			gotGzip := resp.Header.Get("Content-Encoding") == "gzip"
			if gotGzip != tc.wantGzip {
				t.Fatalf("Content-Encoding %q, want gzip=%v", resp.Header.Get("Content-Encoding"), tc.wantGzip)
			}
			body := raw
			if gotGzip {
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("gzip header: %v", err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatalf("gunzip: %v", err)
				}
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("body %q does not contain %q", body, tc.wantBody)
			}
			if tc.wantCode == 200 && tc.contentType == contentTypeProto && len(body) > 0 {
				out := ptraceotlp.NewExportResponse()
				if err := out.UnmarshalProto(body); err != nil {
					t.Fatalf("response does not decode: %v", err)
				}
				if out.PartialSuccess().RejectedSpans() != 1 {
					t.Fatalf("rejected %d spans, want 1", out.PartialSuccess().RejectedSpans())
				}
			}
		})
	}
}

// FuzzAcceptsGzip checks the Accept-Encoding parser never panics and only says yes when gzip or * is listed.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0", "br, gzip;q=0.5", "*;q=0.1", "identity", "gzip;q=abc", "x-gzip", ";;,,=q", "GZIP ; Q=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		if acceptsGzip([]string{header}) {
			l := strings.ToLower(header)
			if !strings.Contains(l, "gzip") && !strings.Contains(l, "*") {
				t.Fatalf("%q accepted as gzip", header)
			}
		}
	})
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"gzip": true, "GZIP ; Q=1": true, "x-gzip": true, "br, gzip;q=0.5": true, "*": true, "*;q=0.1": true,
		"": false, "identity": false, "gzip;q=0": false, "gzip;q=0.000": false, "gzip;q=abc": false, "*;q=0": false,
		"gzip;q=0, *": false, "deflate, br": false,
	} {
		if got := acceptsGzip([]string{h}); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}
