package promconv

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// FuzzConvert decodes an OTLP export request and converts it twice (to exercise the delta state and the
// series cache): no input may crash the converter, the input batch must come out unmodified, and the
// converter with the series cache must append what the one without it does.
func FuzzConvert(f *testing.F) {
	for _, md := range []pmetric.Metrics{
		batch(svc, histogramMetric("lat", "s", pmetric.AggregationTemporalityCumulative)),
		batch(svc, expHistogramMetric("e", "s", pmetric.AggregationTemporalityDelta, 10, []uint64{1, 2, 3})),
		deltaSum("reqs", true, deltaPoint{0, 10, 3, false}, deltaPoint{10, 20, 4, true}),
		deltaHistogram(0, 10, []float64{1, 2}, []uint64{1, 0, 2}, 7),
	} {
		b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	c, err := NewConverter(Options{})
	if err != nil {
		f.Fatal(err)
	}
	plain, err := NewConverter(Options{SeriesCacheSize: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			return
		}
		md := req.Metrics()
		before, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
		for range 2 {
			rc, rp := &recorder{}, &recorder{}
			resC, err := c.Convert(context.Background(), md, rc)
			if err != nil {
				t.Fatal(err)
			}
			resP, err := plain.Convert(context.Background(), md, rp)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sampleKeys(rc), sampleKeys(rp); !slices.Equal(got, want) {
				t.Fatalf("with the series cache:\n%s\nwithout:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if resC.Samples != resP.Samples || resC.Rejected != resP.Rejected || resC.Failed != resP.Failed {
				t.Fatalf("results differ: %+v with the series cache, %+v without", resC, resP)
			}
		}
		after, _ := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
		if string(before) != string(after) {
			t.Fatal("Convert modified its input")
		}
	})
}
