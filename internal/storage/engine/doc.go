// Package engine is otlpd's embedded storage engine for spans, log records and metric points: a write-ahead
// log, a searchable in-memory head, and immutable column-oriented parts in daily partitions, merged in the
// background and dropped by retention. It satisfies storage.Backend.
//
// # Writes
//
// A write marshals the batch to OTLP protobuf and appends it as one record to the write-ahead log (package
// wal). With SyncBatch (the default) the append returns after fsync; appends that arrive while an fsync runs
// share the next one (group commit: at most one fsync in flight, so the batching window is one fsync long).
// The batch then goes, as written, into the head, where queries see it. SyncNone skips the fsync and is for
// benchmarks only: a machine crash loses acknowledged writes.
//
// # Flush, merge, retention
//
// When the head holds Options.HeadMaxItems items or Options.HeadMaxBytes bytes of WAL records, or is older
// than Options.FlushInterval, it is frozen (the WAL is rotated in the same critical section, so the frozen
// head holds exactly the closed segments) and written as parts: spans and logs one part per UTC day of their
// time, metric batches one part. Then the number of the newest closed segment is written to the file
// "flushed" (write, fsync, rename, fsync directory) and the closed segments are deleted. At start-up, parts
// recording a newer segment than "flushed" are the remains of an unfinished flush and are deleted, and the
// segments after "flushed" are replayed: no acknowledged item is lost and none is stored twice.
//
// Merges rewrite up to 16 parts of one day and kind as one, by a streaming k-way merge on time (one decoded
// block per input in memory). A merged part lists the IDs of the parts it replaces ("sources"); at start-up a
// part named as a source by another is deleted, so a crash between writing a merge and removing its inputs
// cannot duplicate rows. Retention drops the parts whose newest item is older than Options.MaxAge, then the
// parts of the oldest days first while the parts take more than Options.MaxBytes.
//
// # Reads
//
// A query takes a snapshot (the heads' batches, which are immutable, and a reference to each part) and
// lists units (head batches and part blocks) whose time range, attribute sets, span-name dictionary and
// bloom filters allow a match. Within a block, conditions are evaluated on the columns first (time, duration,
// name, kind, status, severity, trace ID, string bodies, and string attribute equality on the attribute
// column); only the rows that remain are decoded (the blob is walked, not decoded, to find them). A block
// reads only the columns its conditions need. A body-text needle is searched for in one pass over a block's
// body column; bodies that are not strings are ruled out, exactly, from their encoding in the blob before
// any row is decoded. Units are scanned newest (or oldest) first into a bounded top-k of row positions, on
// every core but consumed in order, stopping once no remaining unit can enter it (the result is that of a
// scan one unit at a time); only then are the rows decoded, one page at a time. GetTrace needs no time
// range: each block has a bloom filter of its trace IDs. Services, operations, attribute keys and metric
// names come from a catalog kept from writes and part footers, never from a scan.
//
// # On-disk format, version 1
//
// The data directory:
//
//	FORMAT                 "otlpd-engine 1\n"; another version is refused by Open
//	flushed                newest WAL segment whose records are all in parts (decimal)
//	wal/%020d.wal          write-ahead log segments (format in package wal)
//	parts/YYYY-MM-DD/%016x-K.part   parts of one UTC day; K is the kind: 1 spans, 2 logs, 3 metrics
//	quarantine/            parts that failed to open, moved aside and reported
//
// A part file (all integers little-endian; uvarint/varint are Go's encoding/binary varints):
//
//	+---------------------------------------------------------------+
//	| "OTLPDPRT" | version u32 = 1 | kind u8 | 3 bytes zero          |  header, 16 bytes
//	+---------------------------------------------------------------+
//	| block 0: column 0 | column 1 | ... | column 8                  |  each column a zstd frame
//	| block 1: ...                                                  |
//	+---------------------------------------------------------------+
//	| footer: zstd frame of the meta below                           |
//	+---------------------------------------------------------------+
//	| footer length u32 | footer CRC-32C u32 | "OTLPDEND"            |  tail, 16 bytes
//	+---------------------------------------------------------------+
//
// Columns of a block of n rows, rows sorted by time:
//
//	0 ts    n uvarints: delta from the previous row (the first from the block's MinTS)
//	1 aux   n varints: span end - start; log observed time - ts; metric batch newest - oldest
//	2 tid   n x 16 bytes: trace IDs (zero when none)
//	3 set   n uvarints: index of the row's resource+scope attribute set in the footer
//	4 name  n uvarints: index of the span name in the footer's name dictionary
//	5 code  n uvarints: span kind | status code << 4; log severity number | 0x100 when the time is 0
//	6 body  per row: uvarint 0 (no string body) or uvarint len+1 and the bytes (log string bodies; for
//	        metrics, the batch as OTLP MetricsData)
//	7 blob  the rest of the rows as one OTLP TracesData or LogsData with one resource and one scope, the rows in
//	        order, with the fields held by the other columns cleared (spans: trace ID, times, name, kind,
//	        status code; logs: times, severity number, trace ID, string body; both: string and int attributes)
//	8 attrs the rows' own string and int attributes, key by key:
//	        key count uvarint, keys (uvarint length + bytes); then for each key, for each row: tag u8 (0 absent,
//	        1 string, 2 int), and when present: position uvarint (index among the row's attributes, so that
//	        the order is restored), then uvarint length + bytes (string) or a zigzag varint (int)
//
// The span ts is the start time; the log ts is the time, or the observed time when the time is 0.
//
// Footer (the meta), in order:
//
//	id uvarint | kind u8 | walSeq uvarint | count uvarint, source part ids uvarint...
//	rows uvarint | minTS varint | maxTS varint
//	count, attribute sets: uvarint length + OTLP TracesData holding one resource and one empty scope
//	count, names: uvarint length + bytes            (span names; metric names for metric parts)
//	count, operations: service, name (uvarint length + bytes each), kind u8
//	count, attribute keys: uvarint length + bytes
//	count, blocks: rows uvarint | minTS varint | maxTS varint | 9 x (offset uvarint, length uvarint)
//	               | trace bloom: count uvarint + count x u64 | token bloom: count uvarint + count x u64
//
// Bloom filters use 10 bits per distinct key and 7 probes (double hashing of a 64-bit FNV-1a hash with a
// final mix, part.Hash). Trace blooms hold trace IDs; token blooms hold "key=value" of every span or log
// attribute whose string form is at most 256 bytes (prefix byte 1) and the words of log bodies (prefix
// byte 2; a word is a run of ASCII letters, digits, '_' or non-ASCII bytes).
package engine
