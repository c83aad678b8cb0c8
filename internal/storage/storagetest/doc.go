// Package storagetest is the conformance suite that every otlpd storage backend runs, and the test data and
// comparisons that other tests (ingest end to end, the API) reuse.
//
// A backend's test calls Run with a Factory:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, storagetest.Factory{
//			Open: func(t *testing.T) storage.Backend { return memory.New(memory.Options{}) },
//		})
//	}
//
// AllFieldsTraces, AllFieldsLogs and AllFieldsMetrics build deterministic data that sets every field of the
// OTLP data model a backend must keep. EqualTraces, EqualLogs and EqualMetrics compare two batches item by item
// and field by field, ignoring how items are grouped into resources and scopes and in which order they come,
// and report the differences readably.
//
// # What the suite pins down
//
// Where the contracts in package storage leave room, the suite decides, so that every backend answers alike:
//
//   - Round trips keep every field of OTLP section 3, including the empty AnyValue versus the empty string,
//     NaN, -0 and +Inf doubles, empty bytes, nested arrays and maps, resource entity refs, the IS_REMOTE
//     flag bits, histogram sum/min/max unset versus 0, exemplars without a value, and NO_RECORDED_VALUE.
//     Attribute order does not matter; the order of array values, events, links, buckets and exemplars does.
//   - Time ranges are inclusive at both ends; a zero Start or End is unbounded. Spans are placed by their
//     start time, log records by their time or, when it is 0, their observed time, points by their time.
//   - Attribute predicates follow storage.AttrPredicate.Match (AttrAny takes the first of span, scope,
//     resource that has the key; numeric ops hold only for int and double values).
//   - MinSeverity and MaxSeverity compare severity numbers: a record of unspecified severity (0) passes a
//     MaxSeverity and fails a MinSeverity.
//   - BodyContains and OpContains look in the string form (pcommon.Value.AsString), so a map body is
//     searched in its JSON form and an int body in its decimal form.
//   - Limit selects the newest (FindSpans, FindTraceIDs, FindLogs NewestFirst) or oldest (FindLogs
//     OldestFirst, FindMetrics) matches. FindSpans and FindLogs keep that order within each page too: read
//     resource by resource, scope by scope, item by item, a page gives its items in order (a resource or scope
//     repeats in a page when its items interleave in time with others'). FindMetrics pages come in order,
//     but within one page points may be grouped by resource, scope and metric in any order.
//   - FindTraceIDs orders traces by the start of their newest matching span, and TraceRef.Start..End spans
//     every matching span of the trace (not only those seen before the limit was reached).
//   - GetTrace of an unknown trace yields ErrNotFound once; every method after Close returns ErrClosed,
//     Close included.
//   - Randomized tests print their seed; they compare each answer with a brute-force evaluation of the
//     query over what was written.
package storagetest
