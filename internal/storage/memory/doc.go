// Package memory is a bounded in-memory storage.Backend: spans, log records and metric points live in three
// first-in-first-out queues with a capacity each (Options). When a write takes a queue over its capacity, the
// items that arrived first are evicted first, whatever their timestamps; an item is never evicted before one
// that arrived after it.
//
// Writes keep references to the written pdata (the storage contract makes it read-only for everybody once
// written), so a write costs an index update per item, one allocation per batch and no copy. A batch is
// inserted at once, so its items stay contiguous in arrival order: until every item of a batch is evicted the
// whole batch stays in memory, and at most one batch per signal is held partly. Every result handed to a
// caller is a deep copy that the caller owns. Stats reports the items held and evicted.
//
// Readers take a read lock only to select the matching entries; they build and yield their pages without it,
// since stored items never change. Services, Operations and MetricNames read a catalog kept up to date on
// every write and eviction, so they do not scan the stored items. Indexes by trace ID (spans and logs), by
// service (spans and logs) and by metric name list their items in arrival order; a search that names one of
// these scans only its items, any other search scans every stored item of its signal. The store is meant for
// development and tests, where its capacity keeps a scan short (BenchmarkFindSpans: 1 to 15 million spans
// checked per second on a shared, noisy 2-core machine). Searches keep only the Limit best matches while
// scanning (a bounded heap), so a broad search with a small Limit allocates little.
//
// Spans without a service.name are catalogued under the empty service: Services leaves it out, Operations
// with an empty OperationQuery.Service lists their operations with an empty Service.
package memory
