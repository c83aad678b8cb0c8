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
package storagetest
