// Package wal is the engine's write-ahead log: numbered segment files of CRC-framed records, appended with
// group commit, replayed at start-up, with a torn or corrupt tail cut at the last good record.
//
// A segment file is a 12-byte header followed by records:
//
//	segment: "OTLPDWAL" (8 bytes) | version uint32 LE (= 2) | record...
//	record:  length uint32 LE | crc uint32 LE | type uint8 | payload (length-1 bytes)
//
// length counts the type byte and the payload; crc is CRC-32C (Castagnoli) of the type byte, the payload and
// the segment's number (uint64 LE; version 1, which replay still reads, had no number). A record is valid only
// when it is complete and its CRC matches; replay stops at the first invalid record of a segment and truncates
// the segment there.
//
// Segments whose records are all in parts are recycled (Writer.Recycle): the next segment reuses the file,
// overwriting its blocks, so that an fsync of the segment has no block allocation or file size to commit and
// the file system frees nothing. The bytes of the file's earlier use beyond the records written are not
// records of the new segment: their CRCs hold the old segment's number. A segment is cut to its records when
// closed, so only a crash leaves such bytes for replay to cut. Close removes the recycled files.
package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Version is the segment format version written in every segment header.
const Version = 2

// maxFree is how many recycled segment files a directory keeps for reuse.
const maxFree = 2

// MaxRecordBytes bounds one record's payload; a larger length field is treated as corruption.
const MaxRecordBytes = 256 << 20

const (
	magic      = "OTLPDWAL"
	headerSize = 12
	frameSize  = 9 // length + crc + type
	suffix     = ".wal"
	freeSuffix = ".free"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SyncMode says when appended records reach stable storage.
type SyncMode uint8

const (
	// SyncBatch fsyncs before Append returns; concurrent appends share one fsync (group commit).
	SyncBatch SyncMode = iota
	// SyncNone writes records to the OS without fsync: a machine crash loses acknowledged records. For benchmarks.
	SyncNone
)

// ErrClosed is returned by Append and Rotate after Close.
var ErrClosed = errors.New("wal closed")

// Writer appends records to the newest segment of a directory. Safe for concurrent use.
//
// Each Append reserves its record's place at the end of the segment and writes it there itself (pwritev),
// concurrently with other appends and with an fsync in flight; an fsync then covers every record written
// before it began. Records are numbered in the order of their places: a record is acknowledged only once an
// fsync covered it and every record before it (a record still being written would leave a hole, which replay
// reads as the end of the segment), so a crash can cut only records that were not acknowledged.
type Writer struct {
	dir  string
	mode SyncMode

	mu   sync.Mutex
	cond *sync.Cond
	f    *os.File
	fd   int    // f's descriptor
	seq  uint64 // current segment number
	size int64  // bytes of the segment, the records whose places are taken included
	// Records are numbered from 0 per writer in the order of their places. written: every record below it is
	// in the file; finished: records at or above written whose writes finished (out of order); durable: every record
	// below it was fsynced.
	next     uint64
	written  uint64
	finished map[uint64]struct{}
	durable  uint64
	writing  int      // appends between taking their place and finishing their write
	syncing  bool     // an fsync is in flight
	rotating bool     // Rotate or Close waits for the writes in flight: appends wait for it
	free     []string // recycled segment files, for the next segments
	err      error    // sticky: after a failed write or fsync nothing more is acknowledged
	closed   bool
}

// SegmentPath is the file name of segment seq in dir.
func SegmentPath(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d%s", seq, suffix))
}

// Segments lists the segment numbers present in dir, ascending.
func Segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list wal segments: %w", err)
	}
	var seqs []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, suffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(name, suffix), 10, 64)
		if err != nil {
			continue
		}
		seqs = append(seqs, n)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// Create starts a new segment seq in dir (which must exist) and returns a writer appending to it.
func Create(dir string, seq uint64, mode SyncMode) (*Writer, error) {
	w := &Writer{dir: dir, mode: mode, finished: map[uint64]struct{}{}}
	w.cond = sync.NewCond(&w.mu)
	w.free, _ = filepath.Glob(filepath.Join(dir, "*"+freeSuffix))
	if err := w.open(seq); err != nil {
		return nil, err
	}
	return w, nil
}

// open starts segment seq: in a recycled file when there is one, else in a new file.
func (w *Writer) open(seq uint64) error {
	path := SegmentPath(w.dir, seq)
	hdr := make([]byte, headerSize)
	copy(hdr, magic)
	binary.LittleEndian.PutUint32(hdr[8:], Version)
	f := w.reuse(path, hdr)
	if f == nil {
		var err error
		if f, err = os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err != nil {
			return fmt.Errorf("create wal segment %d: %w", seq, err)
		}
		if _, err := f.Write(hdr); err != nil {
			f.Close()
			return fmt.Errorf("write wal segment %d header: %w", seq, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("sync wal segment %d: %w", seq, err)
		}
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return err
	}
	w.f, w.fd, w.seq, w.size = f, int(f.Fd()), seq, headerSize
	return nil
}

// reuse makes a recycled file segment path, with header hdr, or returns nil (no recycled file, or it failed:
// then it is removed). The header is durable before the file takes the segment's name, so that a crash never
// leaves a segment with the header of the file's earlier use (a version 1 header would make its old records,
// whose CRCs have no segment number, pass as the new segment's).
func (w *Writer) reuse(path string, hdr []byte) *os.File {
	n := len(w.free)
	if n == 0 {
		return nil
	}
	old := w.free[n-1]
	w.free = w.free[:n-1]
	f, err := os.OpenFile(old, os.O_WRONLY, 0)
	if err != nil {
		os.Remove(old)
		return nil
	}
	if _, err = f.WriteAt(hdr, 0); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(old, path)
	}
	if err != nil {
		f.Close()
		os.Remove(old)
		return nil
	}
	return f
}

// Recycle gives up segment seq, whose records are all stored elsewhere, and which is not the one appended
// to: its file is kept for a later segment (up to maxFree of them), else removed.
func (w *Writer) Recycle(seq uint64) error {
	path := SegmentPath(w.dir, seq)
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq == w.seq && !w.closed {
		return fmt.Errorf("wal: cannot recycle segment %d: it is being appended to", seq)
	}
	if len(w.free) < maxFree {
		free := strings.TrimSuffix(path, suffix) + freeSuffix
		if err := os.Rename(path, free); err == nil {
			w.free = append(w.free, free)
			return nil
		}
	}
	return os.Remove(path)
}

// Seq returns the number of the segment being appended to.
func (w *Writer) Seq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seq
}

// Size returns the bytes appended to the current segment so far.
func (w *Writer) Size() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.size
}

// frameHeader returns the frame header of a record of segment seq: length, CRC, type. payloadCRC is the
// CRC-32C of the type byte and the payload (recordCRC).
func frameHeader(seq uint64, typ byte, payloadLen int, payloadCRC uint32) [frameSize]byte {
	var h [frameSize]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(payloadLen+1))
	binary.LittleEndian.PutUint32(h[4:], withSeq(payloadCRC, seq))
	h[8] = typ
	return h
}

// recordCRC is the CRC-32C of a record's type byte and payload.
func recordCRC(typ byte, payload []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, []byte{typ}), castagnoli, payload)
}

// withSeq extends a record's CRC with its segment's number (version 2).
func withSeq(crc uint32, seq uint64) uint32 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	return crc32.Update(crc, castagnoli, b[:])
}

// writeAt writes pieces to the file fd at off, one after the other, with as few system calls as it can
// (pwritev) and no copy. It takes the descriptor, not the os.File, whose writes exclude one another: appends
// write concurrently.
func writeAt(fd int, off int64, pieces [][]byte) error {
	for {
		for len(pieces) > 0 && len(pieces[0]) == 0 {
			pieces = pieces[1:]
		}
		if len(pieces) == 0 {
			return nil
		}
		n, err := unix.Pwritev(fd, pieces[:min(len(pieces), maxIovecs)], off)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrShortWrite
		}
		off += int64(n)
		// Skip what was written; a piece written in part is continued from where the write stopped.
		for n > 0 && len(pieces) > 0 {
			if n < len(pieces[0]) {
				pieces[0] = pieces[0][n:]
				break
			}
			n -= len(pieces[0])
			pieces = pieces[1:]
		}
	}
}

// maxIovecs is the most pieces one pwritev takes (IOV_MAX on Linux).
const maxIovecs = 1024

// Append writes one record and, in SyncBatch mode, returns once it is fsynced. Appends write their records
// concurrently and share fsyncs: while one fsync runs, the records written meanwhile gather for the next
// one. It returns the segment the record went to. The caller may reuse payload after the call (it is
// written, not copied, before Append returns).
func (w *Writer) Append(typ byte, payload []byte) (uint64, error) {
	if len(payload) > MaxRecordBytes {
		return 0, fmt.Errorf("wal append: record of %d bytes exceeds limit %d", len(payload), MaxRecordBytes)
	}
	crc := recordCRC(typ, payload) // outside the lock: it reads the whole payload
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.rotating && !w.closed && w.err == nil {
		w.cond.Wait()
	}
	if w.closed {
		return 0, ErrClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	// Take the record's place.
	n, off, fd, seq := w.next, w.size, w.fd, w.seq
	h := frameHeader(seq, typ, len(payload), crc)
	w.next++
	w.size += int64(frameSize + len(payload))
	w.writing++
	w.mu.Unlock()
	err := writeAt(fd, off, [][]byte{h[:], payload}) // the file is not closed while writing > 0
	w.mu.Lock()
	w.writing--
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("wal write segment %d: %w", seq, err)
	}
	w.finished[n] = struct{}{}
	from := w.written
	for {
		if _, ok := w.finished[w.written]; !ok {
			break
		}
		delete(w.finished, w.written)
		w.written++
	}
	if w.written != from || w.err != nil || (w.rotating && w.writing == 0) {
		w.cond.Broadcast()
	}
	// Acknowledged once this record and every one before it are written (SyncNone: a crash of the process
	// then cuts none of them) and, in SyncBatch mode, fsynced.
	for w.err == nil && (w.written <= n || (w.mode == SyncBatch && w.durable <= n)) {
		if w.written <= n || w.syncing {
			w.cond.Wait()
			continue
		}
		if err := w.syncLocked(); err != nil {
			return 0, err
		}
	}
	if w.err != nil {
		return 0, w.err
	}
	return seq, nil
}

// syncLocked fsyncs the segment, releasing the lock meanwhile: the records written when it starts become
// durable. Called with mu held and no fsync in flight.
func (w *Writer) syncLocked() error {
	upTo, f := w.written, w.f
	w.syncing = true
	w.mu.Unlock()
	err := fdatasync(f)
	w.mu.Lock()
	w.syncing = false
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("wal sync segment %d: %w", w.seq, err)
		}
	} else {
		w.durable = max(w.durable, upTo)
	}
	w.cond.Broadcast()
	return w.err
}

// fdatasync makes f's data durable, and its metadata when reading the data needs it (its size): a recycled
// segment's blocks are overwritten in place, so there is nothing else to commit.
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

// quiesceLocked waits until no append is writing and no fsync is in flight, new appends held back, then
// fsyncs what is not yet durable. Called with mu held; w.rotating is left set for the caller to clear.
func (w *Writer) quiesceLocked() error {
	w.rotating = true
	for w.writing > 0 || w.syncing {
		w.cond.Wait()
	}
	if w.err != nil {
		return w.err
	}
	if w.durable < w.written {
		return w.syncLocked()
	}
	return nil
}

// cutLocked cuts the segment after its records (a recycled file is longer) and syncs it. Called with mu held
// and nothing being written.
func (w *Writer) cutLocked() error {
	fi, err := w.f.Stat()
	if err != nil || fi.Size() == w.size {
		return err
	}
	if err := w.f.Truncate(w.size); err != nil {
		w.err = fmt.Errorf("cut wal segment %d: %w", w.seq, err)
		return w.err
	}
	if err := fdatasync(w.f); err != nil {
		w.err = fmt.Errorf("sync wal segment %d: %w", w.seq, err)
		return w.err
	}
	return nil
}

// Rotate makes every appended record durable, closes the current segment and starts the next one. It returns
// the number of the segment it closed: every record appended before Rotate is in that segment or an older one.
func (w *Writer) Rotate() (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	defer func() {
		w.rotating = false
		w.cond.Broadcast()
	}()
	if err := w.quiesceLocked(); err != nil {
		return 0, err
	}
	if err := w.cutLocked(); err != nil {
		return 0, err
	}
	old := w.seq
	if err := w.f.Close(); err != nil {
		w.err = fmt.Errorf("close wal segment %d: %w", old, err)
		return 0, w.err
	}
	if err := w.open(old + 1); err != nil {
		w.err = err
		return 0, err
	}
	return old, nil
}

// Close syncs what was appended, closes the segment and removes the recycled files.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	err := w.quiesceLocked()
	if err == nil {
		err = w.cutLocked()
	}
	w.closed = true
	w.rotating = false
	w.cond.Broadcast()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close wal segment %d: %w", w.seq, cerr)
	}
	for _, f := range w.free { // at rest the log takes only its records' room
		os.Remove(f)
	}
	w.free = nil
	return err
}

// Replay reads every valid record of segment seq in dir, in order, calling fn for each (payload is valid only
// during the call). At the first torn or corrupt record it truncates the segment to its last valid record and
// logs what was cut; it returns an error only when the segment cannot be read at all or has an unknown version.
func Replay(dir string, seq uint64, logger *slog.Logger, fn func(typ byte, payload []byte) error) error {
	path := SegmentPath(dir, seq)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read wal segment %d: %w", seq, err)
	}
	if len(data) < headerSize || string(data[:8]) != magic {
		logger.Warn("wal segment has no valid header; discarding it", "segment", path, "bytes", len(data))
		return truncate(path, 0, true)
	}
	v := binary.LittleEndian.Uint32(data[8:])
	if v != 1 && v != Version {
		return fmt.Errorf("wal segment %s has format version %d; this otlpd reads versions 1 and %d", path, v, Version)
	}
	off := headerSize
	records := 0
	for off < len(data) {
		reason := ""
		var n int
		if len(data)-off < frameSize {
			reason = "torn record header"
		} else {
			n = int(binary.LittleEndian.Uint32(data[off:]))
			switch {
			case n < 1 || n > MaxRecordBytes+1:
				reason = fmt.Sprintf("bad record length %d", n)
			case off+8+n > len(data):
				reason = "torn record"
			case recordSum(v, seq, data[off+8:off+8+n]) != binary.LittleEndian.Uint32(data[off+4:]):
				reason = "checksum mismatch"
			}
		}
		if reason != "" {
			logger.Warn("wal: cutting corrupt or torn tail at last good record", "segment", path,
				"reason", reason, "good_records", records, "offset", off, "cut_bytes", len(data)-off)
			return truncate(path, int64(off), false)
		}
		if err := fn(data[off+8], data[off+9:off+8+n]); err != nil {
			return fmt.Errorf("replay wal segment %d record %d: %w", seq, records, err)
		}
		records++
		off += 8 + n
	}
	return nil
}

// recordSum is the CRC of a record (type byte and payload) of segment seq, of format version v.
func recordSum(v uint32, seq uint64, rec []byte) uint32 {
	crc := crc32.Checksum(rec, castagnoli)
	if v >= 2 {
		crc = withSeq(crc, seq)
	}
	return crc
}

func truncate(path string, size int64, remove bool) error {
	if remove {
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove bad wal segment: %w", err)
		}
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("truncate wal segment: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return fmt.Errorf("truncate wal segment: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync truncated wal segment: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir for sync: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
