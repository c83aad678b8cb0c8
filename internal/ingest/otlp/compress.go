package otlp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/encoding"
)

// zstd decoders are pooled: building one allocates its tables. Concurrency 1 makes stream decoding
// synchronous (no goroutines), so a pooled decoder dropped by the GC leaks nothing. The window is capped
// so that a hostile frame header cannot make the decoder allocate more than it must; the decompressed size
// is bounded by the callers, who read at most their limit + 1 bytes.
const zstdMaxWindow = 8 << 20

var zstdDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow),
		zstd.WithDecoderLowmem(true))
	if err != nil {
		panic("BUG: zstd.NewReader with static options: " + err.Error())
	}
	return d
}}

var zstdEncoders = sync.Pool{New: func() any {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic("BUG: zstd.NewWriter with static options: " + err.Error())
	}
	return e
}}

// zstdReader decompresses r; Close returns the decoder to the pool.
type zstdReader struct{ d *zstd.Decoder }

func newZstdReader(r io.Reader) (*zstdReader, error) {
	d := zstdDecoders.Get().(*zstd.Decoder)
	if err := d.Reset(r); err != nil {
		zstdDecoders.Put(d)
		return nil, err
	}
	return &zstdReader{d: d}, nil
}

func (z *zstdReader) Read(p []byte) (int, error) {
	if z.d == nil {
		return 0, io.EOF
	}
	n, err := z.d.Read(p)
	if err == io.EOF {
		z.release()
	}
	return n, err
}

func (z *zstdReader) release() {
	if z.d != nil {
		_ = z.d.Reset(nil)
		zstdDecoders.Put(z.d)
		z.d = nil
	}
}

func (z *zstdReader) Close() error { z.release(); return nil }

// grpcZstd is a gRPC compressor for the "zstd" content coding, which OTLP SDKs and the Collector offer
// besides gzip.
type grpcZstd struct{}

func (grpcZstd) Name() string { return "zstd" }

func (grpcZstd) Compress(w io.Writer) (io.WriteCloser, error) {
	e := zstdEncoders.Get().(*zstd.Encoder)
	e.Reset(w)
	return &zstdWriter{e: e}, nil
}

// Decompress returns a reader that hands its decoder back to the pool at EOF. gRPC reads the message up to
// its size limit and then to EOF when the message fits.
func (grpcZstd) Decompress(r io.Reader) (io.Reader, error) {
	return newZstdReader(r)
}

type zstdWriter struct{ e *zstd.Encoder }

func (z *zstdWriter) Write(p []byte) (int, error) { return z.e.Write(p) }

func (z *zstdWriter) Close() error {
	err := z.e.Close()
	z.e.Reset(nil)
	zstdEncoders.Put(z.e)
	return err
}

var registerZstd sync.Once

// registerGRPCCompressors adds zstd to gRPC's compressor registry. gRPC keeps compressors in a process-wide
// registry and offers no per-server option, so this is the one piece of global state the receiver touches;
// it is idempotent. gzip registers itself when google.golang.org/grpc/encoding/gzip is imported.
func registerGRPCCompressors() {
	registerZstd.Do(func() { encoding.RegisterCompressor(grpcZstd{}) })
}

// errUnsupportedEncoding is returned for a Content-Encoding otlpd does not decode.
var errUnsupportedEncoding = errors.New("unsupported Content-Encoding (want gzip, zstd or none)")

// errTooLarge is returned when a body is larger than the limit after decompression.
type errTooLarge struct{ limit int64 }

func (e errTooLarge) Error() string {
	return fmt.Sprintf("request body exceeds limit of %d bytes after decompression", e.limit)
}

// readBody reads r decoded by encoding, never holding more than limit decompressed bytes: the decompressor
// is read through a limit of limit+1 bytes, and one byte over means the body is refused.
func readBody(r io.Reader, encoding string, limit int64, buf *bytes.Buffer) error {
	var src io.Reader
	switch encoding {
	case "", "identity":
		src = r
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	case "zstd":
		zr, err := newZstdReader(r)
		if err != nil {
			return fmt.Errorf("zstd body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return errUnsupportedEncoding
	}
	n, err := buf.ReadFrom(io.LimitReader(src, limit+1))
	if n > limit {
		return errTooLarge{limit: limit}
	}
	if err != nil {
		return fmt.Errorf("read %s body: %w", orNone(encoding), err)
	}
	return nil
}

func orNone(encoding string) string {
	if encoding == "" {
		return "uncompressed"
	}
	return encoding
}
