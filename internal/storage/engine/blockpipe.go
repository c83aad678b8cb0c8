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
	tb    part.Bloom
	kb    part.Bloom
}

func (b *pipeBlock) reset() {
	b.rows, b.buf, b.blob, b.attrs, b.tb, b.kb = b.rows[:0], b.buf[:0], nil, b.attrs[:0], nil, nil
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
	workers = max(1, min(workers, blocks))
	var failed atomic.Bool
	errs := make([]error, workers)
	filled := make([]chan *pipeBlock, workers)
	free := make([]chan *pipeBlock, workers)
	var wg sync.WaitGroup
	for wk := range workers {
		filled[wk] = make(chan *pipeBlock, 1)
		free[wk] = make(chan *pipeBlock, 2) // two blocks each: one filled while the other waits to be written
		for range 2 {
			free[wk] <- &pipeBlock{rows: make([]part.Row, 0, blockRows)}
		}
		wg.Go(func() {
			defer close(filled[wk])
			for k := wk; k < blocks; k += workers {
				b := <-free[wk]
				if failed.Load() {
					return
				}
				b.reset()
				if err := fill(wk, b, k*blockRows, min(n, (k+1)*blockRows)); err != nil {
					errs[wk] = err
					failed.Store(true)
					return
				}
				filled[wk] <- b
			}
		})
	}
	var err error
	for k := range blocks {
		b, ok := <-filled[k%workers]
		if !ok {
			break // that worker failed
		}
		if err == nil {
			if err = w.AddBlock(b.rows, b.blob, b.attrs, b.tb, b.kb); err != nil {
				failed.Store(true)
			}
		}
		free[k%workers] <- b
	}
	failed.Store(true)
	for wk := range workers { // let a worker waiting to hand over a block see the failure and end
		for b := range filled[wk] {
			free[wk] <- b
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
