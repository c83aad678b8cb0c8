// Package memory is a bounded in-memory storage.Backend: spans, log records and metric points live in three
// first-in-first-out queues with a capacity each (Options). When a write takes a queue over its capacity, the
// items that arrived first are evicted first, whatever their timestamps; an item is never evicted before one
// that arrived after it.
//
// Writes keep references to the written pdata (the storage contract makes it read-only for everybody once
// written), so a write costs an index update per item and no copy. Until every item of a batch is evicted,
// the whole batch stays in memory; since eviction follows arrival order, at most one batch per signal is held
// partly. Every result handed to a caller is a deep copy that the caller owns.
//
// Readers take a read lock only to select the matching entries; they build and yield their pages without it,
// since stored items never change. Services, Operations and MetricNames read a catalog kept up to date on
// every write and eviction, so they do not scan the stored items. Searches (FindSpans, FindTraceIDs, FindLogs,
// FindMetrics) scan every stored item of their signal: the store is meant for development and tests, where
// its capacity keeps a scan short.
package memory
