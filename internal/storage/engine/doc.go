// Package engine is otlpd's embedded storage engine for spans, log records and metric points: a write-ahead
// log, a searchable in-memory head, and immutable column-oriented parts in daily partitions, merged in the
// background and dropped by retention. It satisfies storage.Backend.
//
// # Writes
//
// A write appends the batch, as OTLP protobuf, as one record to the write-ahead log (package wal): the bytes
// of the export request when the receiver passes them (WriteSpansEncoded; an Export*ServiceRequest is encoded
// as TracesData, LogsData or MetricsData), else the batch marshaled. With SyncBatch (the default) the append
// returns after fsync; each append writes its record at the place it took (pwritev, concurrently with other
// appends and with the fsync in flight), and the records written while an fsync runs share the next one
// (group commit: at most one fsync in flight, so the batching window is one fsync long; a record is
// acknowledged only with every record placed before it, so a crash cuts only unacknowledged ones). The batch then goes into the head, where
// queries see it: span and log batches as their protobuf encoding (WriteSpansRaw and WriteLogsRaw take
// nothing else, so an export need never be decoded into pdata), with the number of items, their time bounds,
// trace IDs, operations and the position of each item. The receiver's wire check, which reads every item of a
// protobuf request anyway, hands these over as an index (otlpwire.Index) that also vouches for what a flush
// will read; given none, the write reads the batch once in place (package otlpwire) for them and checks what
// a flush will read (message framing, wire types, ID lengths, attributes and bodies): a batch that fails it
// is refused before anything is written. A query decodes a head batch into pdata the
// first time it needs it; the head keeps what it decodes up to an estimated 96 MiB, then each query decodes
// the batches it needs again, so queries on recent data cost bounded memory. SyncNone skips the fsync and is
// for benchmarks only: a machine crash loses
// acknowledged writes.
//
// Backpressure: a writer waits (until its context ends) while the active head is at its flush threshold and
// a frozen head is still being flushed, or at twice the threshold; so the heads hold about twice the threshold
// at most. It also waits while 4 x Options.MergeMinParts parts written by flushes await a merge: sustained
// ingest runs at the rate at which flushes and merges together keep up, instead of piling up parts (which
// slow every query and, stored uncompressed, take twice the disk). Merges run alongside flushes.
//
// # Flush, merge, retention
//
// When the head holds Options.HeadMaxItems items or Options.HeadMaxBytes bytes of WAL records, or is older
// than Options.FlushInterval, it is frozen (the WAL is rotated in the same critical section, so the frozen
// head holds exactly the closed segments) and written as parts: spans and logs one part per UTC day of their
// time, metric batches one part. Spans and log records are written from their encoding in one pass each:
// column fields and attributes are read in place, and the blob's fields are the item's own bytes, copied.
// Items are put in time order by a radix sort of (time, arrival) keys; the rows of the blocks are then read
// by two workers (block k by worker k%2, each with its own attribute columns and token set; the sets of the
// part's resources and scopes are found once per batch group before, by a hash of their messages taken at
// write) while the blocks are encoded and written in order on the flushing goroutine (blockpipe.go). A
// flush stores span and log columns uncompressed (zstd frames of raw blocks, with their checksum), but for
// the ID and integer columns: the part's first merge compresses them, so the work is done once, in the
// background. A worker prefetches the items a few places ahead of the one it reads (prefetch_amd64.s):
// they were last touched when written, and are read in time order, not in the order they sit in memory.
// An attribute whose encoded KeyValue was seen earlier in the block goes to its key and dictionary entry
// without being read again (attrCols.kvs). Then the number of the newest closed segment is written to the file
// "flushed" (write, fsync, rename, fsync directory) and the closed segments are recycled: two files are
// kept for the next segments to overwrite (an fdatasync of a segment written over its blocks commits no
// allocation or size, and the file system frees nothing; removed at shutdown), the rest deleted. At start-up, parts
// recording a newer segment than "flushed" are the remains of an unfinished flush and are deleted, and the
// segments after "flushed" are replayed: no acknowledged item is lost and none is stored twice.
//
// Merges combine up to 16 parts of one day and kind into one without decoding a row: the blocks of the
// inputs are copied one after the other, in the order of the inputs' IDs, each column's zstd frame as stored,
// with the block's time range and bloom filters. Only the set and name columns, indexes into the footer's
// dictionaries, are decompressed and rewritten for the merged part's dictionaries (the union of the inputs':
// attribute sets deduplicated by their encoded bytes, names by value), whose footer also gets the union of
// their operations and attribute keys. The blocks of a merged part are thus not in time order and overlap in
// time: readers bound each block by its own time range, never by its neighbours'. Copied blocks are not
// re-cut, so inputs whose blocks hold less than half of Options.BlockRows rows on average (the flushes of a
// server taking few items a second) are instead merged row by row, a k-way merge on time into full blocks at
// zstd's best level: small blocks compress at about half the rate of full ones (rewrite.go; the k-way merge
// is over blocks, as a merged part's blocks overlap). A merge reads and compresses blocks on two workers and
// writes them in order, alongside flushes (which never wait for a merge), and holds the merge lock
// throughout, so no other merge takes its inputs meanwhile. The merger runs after every flush and every
// Options.MaintenanceInterval, until nothing is due. A day is merged once it has Options.MergeMinParts
// parts, and then only parts of
// comparable size: the smallest ones, as many as keep the largest no bigger than the others together, so an
// item is copied about log8(parts of its day) times (size-tiered), never once per merge. A merged part lists
// the IDs of the parts it replaces ("sources"); at start-up a part named as a source by another is deleted,
// so a crash between writing a merge and removing its inputs cannot duplicate rows. Parts a flush wrote are
// merged, with the other flushed parts of their day and kind or alone, once they waited a minute, or at once
// while writers wait for merges. Retention drops the parts
// whose newest item is older than Options.MaxAge, then the parts of the oldest days first while the parts
// take more than Options.MaxBytes.
//
// # Reads
//
// A query takes a snapshot (the heads' batches, which are immutable, and a reference to each part) and
// lists units (head batches and part blocks) whose time range, attribute sets, span-name dictionary and
// bloom filters allow a match. Within a block, conditions are evaluated on the columns first (time, duration,
// name, kind, status, severity, trace ID, string bodies, and string attribute equality on the attribute
// column); only the rows that remain are decoded (the blob is walked, not decoded, to find them). A block
// reads only the columns its conditions need. A body-text needle without digits is searched for in the
// block's distinct body skeletons, one of digits only in its digit runs, without rebuilding the bodies
// (part.MatchBodies); bodies that are not strings are ruled out, exactly, from their encoding in the blob
// before any row is decoded. Units are scanned newest (or oldest) first into a bounded top-k of row
// positions, on every core but consumed in order, stopping once no remaining unit can enter it (the result
// is that of a scan one unit at a time); only then are the rows decoded, one page at a time. GetTrace needs
// no time range: each block has a bloom filter of its trace IDs. Services, operations, attribute keys and
// metric names come from a catalog kept from writes and part footers, never from a scan.
//
// # On-disk format, version 3
//
// The data directory:
//
//	FORMAT                 "otlpd-engine 3\n"; version 2 (the same but for attribute sections coded by set,
//	                       mode 3) is read and marked 3; another version (1 included) is refused by Open
//	flushed                newest WAL segment whose records are all in parts (decimal)
//	wal/%020d.wal          write-ahead log segments (format in package wal, version 2; 1 is read)
//	wal/%020d.free         recycled segment files, reused for the next segments
//	parts/YYYY-MM-DD/%016x-K.part   parts of one UTC day; K is the kind: 1 spans, 2 logs, 3 metrics
//	quarantine/            parts that failed to open, moved aside and reported
//
// A part file (all integers little-endian; uvarint/varint are Go's encoding/binary varints):
//
//	+---------------------------------------------------------------+
//	| "OTLPDPRT" | version u32 = 2 | kind u8 | 3 bytes zero          |  header, 16 bytes
//	+---------------------------------------------------------------+
//	| block 0: column 0 | column 1 | ... | column 10                 |  each column a zstd frame
//	| block 1: ...                                                  |
//	+---------------------------------------------------------------+
//	| footer: zstd frame of the meta below                           |
//	+---------------------------------------------------------------+
//	| footer length u32 | footer CRC-32C u32 | "OTLPDEND"            |  tail, 16 bytes
//	+---------------------------------------------------------------+
//
// Blocks hold at most Options.BlockRows rows. A flush stores its columns (part.LevelStore: zstd frames of raw
// blocks, which every zstd reader reads) but for the ID and integer columns, compressed at zstd's fastest
// level, the blob and attribute columns, compressed at that level on the flush's workers, and the body column
// of log records (flushCompresses). A part's first merge compresses the columns of its blocks still
// stored (part.Stored), all but the trace and span IDs (random bytes) and the two time columns of log records
// (no smaller at a slower level), which it copies: the blob and attribute columns at zstd's fastest level,
// the others but the body at its "better" level; later merges copy the frames as stored. The body column,
// whoever compresses it, is a zstd frame of literals only (no sequences), a block per section below (the
// first at the uvarint after the n refs, the next at the first run length, the last at the first digit;
// sections longer than 128 KiB take more blocks), each block Huffman coded with its own table, else stored
// raw or as a run of one byte; its frame header gives the content size in 8 bytes (part.CompressColumn).
// recompressLevel in merge.go gives the measurements behind this. Footers of merged parts are at the
// "better" level. Columns of a block of n rows, rows sorted by time within the block (integer columns start
// with a mode byte: 0, then a uvarint per row, or w in 1..8, then w bytes little-endian per row, whichever
// compresses smaller; ID columns start with a mode byte: 0, then every row's ID, or 1, then a bitmap of the
// rows whose ID is not zero, bit i%8 of byte i/8, then those IDs):
//
//	0  ts     integers: delta from the previous row (the first from the block's MinTS)
//	1  aux    integers, zigzag: span end - start; log observed time - ts; metric batch newest - oldest
//	2  tid    IDs of 16 bytes: trace IDs (zero when none)
//	3  set    n uvarints: index of the row's resource+scope attribute set in the footer
//	4  name   n uvarints: index of the span name in the footer's name dictionary
//	5  code   n uvarints: span kind | status code << 4; log severity number | 0x100 when the time is 0
//	6  body   log string bodies (for metrics, the batch as OTLP MetricsData), each split into a skeleton,
//	          the body with every run of 2 or more ASCII digits replaced by the byte 0x01, and those runs:
//	            n uvarints: 0 no string body | 1+k skeleton k
//	            ndict uvarint | ndict uvarint lengths | the skeletons' bytes
//	            per 0x01 of the rows' skeletons, in row order, a uvarint: digit run length (0: a literal 0x01)
//	            the digit runs' bytes, in row order
//	7  blob   the rest of the rows as one OTLP TracesData or LogsData with one resource and one scope, the
//	          rows in order, without the fields the other columns hold (spans: trace, span and parent span
//	          IDs, times, name, kind, status code; logs: times, severity number, trace and span IDs, a
//	          string body; both: the string and int attributes the attribute column holds)
//	8  attrs  the rows' own string and int attributes, as streams per key:
//	            keys:   uvarint count, then per key uvarint length + bytes
//	            shapes: uvarint count, then per shape uvarint entries and the entries, uvarints: 0 the next
//	                    attribute left in the row's blob | 1+2k string of key k | 2+2k int of key k
//	                    (a shape is a row's attributes in order; a key repeated in a row stays in the blob)
//	            n uvarints: the shape of each row
//	            per key: uvarint section length, then nstr uvarint | nint uvarint, and when nstr > 0 a mode
//	                    byte: 0 raw: nstr uvarint lengths, the strings' bytes; 1 dictionary: ndict uvarint,
//	                    ndict uvarint lengths, the dictionary's bytes, nstr uvarint indexes; 2 skeletons:
//	                    uvarint length, then the strings in the layout of the body column (every entry
//	                    1+k); then nint zigzag varints. A key's strings turn raw once 256 of them are more
//	                    than 3/4 distinct; raw or more than half distinct strings whose digit runs (of 2
//	                    or more) make at least a tenth of their bytes are written as skeletons.
//	          An empty attrs column: no row has attributes.
//	9  spanid IDs of 8 bytes: span IDs (zero when none)
//	10 parent n uvarints: 0 no parent | 1 raw | 2+zigzag(j-i): the parent is the span ID of row j of the
//	          block (spans of a trace arrive together, so j is near i); then 8 bytes per raw parent, in order
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
//	count, blocks: rows uvarint | minTS varint | maxTS varint | 11 x (offset uvarint, length uvarint)
//	               | trace bloom: count uvarint + count x u64 | token bloom: count uvarint + count x u64
//
// Bloom filters use 16 bits per distinct trace ID and 8 per distinct token (10 for both in parts written
// before; a filter's size is its own) and 7 probes (double hashing of a 64-bit FNV-1a hash with a
// final mix, part.Hash). Trace blooms hold trace IDs; token blooms hold "key=value" of every span or log
// attribute whose string form is at most 256 bytes (prefix byte 1) and the words of log bodies (prefix
// byte 2; a word is a run of ASCII letters, digits, '_' or non-ASCII bytes).
package engine
