package engine

import (
	"sync"
	"sync/atomic"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// pipeBlock is the content of one block being filled or written.
type pipeBlock struct {
	rows  []part.Row
	buf   []byte // the blob's buffer (beginBlob, endBlob)
	blob  []byte // the blob, a part of buf
	attrs []byte
	// bodies is the encoded body column (logs: part.BodyEncoder, written as the rows are read, each body
	// while in cache), nil to encode the rows' Body fields.
	bodies []byte
	tb     part.Bloom
	kb     part.Bloom
	// framed holds the columns the worker compressed (part.Writer.AddBlockFramed), nil for the others; their
	// frames are built in zbuf.
	framed [part.NumCols][]byte
	zbuf   [part.NumCols][]byte
}

func (b *pipeBlock) reset() {
	b.rows, b.buf, b.blob, b.attrs, b.bodies, b.tb, b.kb = b.rows[:0], b.buf[:0], nil, b.attrs[:0], b.bodies[:0], nil, nil
	b.framed = [part.NumCols][]byte{}
}

// frame compresses column c of the block, whose content is src, at level on the worker.
func (b *pipeBlock) frame(c int, level part.Level, src []byte) {
	b.zbuf[c] = part.CompressColumn(level, c, len(b.rows), b.zbuf[c][:0], src)
	b.framed[c] = b.zbuf[c]
}

// buildBlocks writes the blocks of a part from n rows in order, blockRows rows to a block: block k holds rows
// k*blockRows up to (k+1)*blockRows. Reading the rows into blocks (fill, which fills b with rows lo..hi-1)
// runs on workers goroutines, block k on worker k%workers, each with state of its own; the blocks are
// written (part.Writer.AddBlock: column encoding, compression, the write) in order on the calling goroutine
// meanwhile. So a flush takes up to workers+1 cores when they are idle, and the part's content is the same
// whatever the number of workers (but for the order of dictionary entries the workers share). It returns the
// first error of fill or AddBlock; after one, the remaining blocks are not built.
func buildBlocks(w *part.Writer, n, blockRows, workers int, fill func(worker int, b *pipeBlock, lo, hi int) error) error {
	blocks := (n + blockRows - 1) / blockRows
	return runOrdered(blocks, workers,
		func() *pipeBlock { return &pipeBlock{rows: make([]part.Row, 0, blockRows)} },
		func(wk, k int, b *pipeBlock) error {
			b.reset()
			return fill(wk, b, k*blockRows, min(n, (k+1)*blockRows))
		},
		func(_ int, b *pipeBlock) error {
			return w.AddBlockFramed(b.rows, b.bodies, b.blob, b.attrs, &b.framed, b.tb, b.kb)
		})
}

// runOrdered runs work for units 0..n-1 on up to workers goroutines, unit k on worker k%workers, and hands
// each unit's result to consume in unit order on the calling goroutine meanwhile. Each worker has two
// results (made by newT, reused): one being worked on while the other waits to be consumed. It returns the
// first error of work or consume; after one, no more units are worked on.
func runOrdered[T any](n, workers int, newT func() *T, work func(worker, k int, t *T) error, consume func(k int, t *T) error) error {
	workers = max(1, min(workers, n))
	var failed atomic.Bool
	errs := make([]error, workers)
	done := make([]chan *T, workers)
	free := make([]chan *T, workers)
	var wg sync.WaitGroup
	for wk := range workers {
		done[wk] = make(chan *T, 1)
		free[wk] = make(chan *T, 2)
		for range 2 {
			free[wk] <- newT()
		}
		wg.Go(func() {
			defer close(done[wk])
			for k := wk; k < n; k += workers {
				t := <-free[wk]
				if failed.Load() {
					return
				}
				if err := work(wk, k, t); err != nil {
					errs[wk] = err
					failed.Store(true)
					return
				}
				done[wk] <- t
			}
		})
	}
	var err error
	for k := range n {
		t, ok := <-done[k%workers]
		if !ok {
			break // that worker failed
		}
		if err == nil {
			if err = consume(k, t); err != nil {
				failed.Store(true)
			}
		}
		free[k%workers] <- t
	}
	failed.Store(true)
	for wk := range workers { // let a worker waiting to hand over a result see the failure and end
		for t := range done[wk] {
			free[wk] <- t
		}
	}
	wg.Wait()
	if err != nil {
		return err
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
