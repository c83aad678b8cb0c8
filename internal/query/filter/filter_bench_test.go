package filter

import "testing"

func BenchmarkParse(b *testing.B) {
	src := `service.name = "checkout" and duration > 250ms and (http.response.status_code >= 500 or name =~ "^GET /c")`
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := ParseSpans(src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchSpan is the per-span cost of a typical filter after pushdown (the matcher runs on every
// candidate).
func BenchmarkMatchSpan(b *testing.B) {
	res, scope, span := testSpan()
	m, err := ParseSpans(`service.name = "checkout" and duration > 250ms and (http.response.status_code >= 500 or name =~ "^GET /c") and resource.k8s.pod.name != "x"`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !m.MatchSpan(res, scope, span) {
			b.Fatal("no match")
		}
	}
}
