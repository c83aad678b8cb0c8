package engine

import (
	"sync/atomic"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// blockPipe writes the blocks of a part (part.Writer.AddBlock: column encoding, compression, the write) on
// a goroutine of its own, so that this work for one block overlaps with reading the rows of the next: a flush
// takes more than one core when there is one to take. Blocks are written in the order they are put. Three
// sets of block buffers cycle between the two sides.
type blockPipe struct {
	w      *part.Writer
	todo   chan *pipeBlock
	free   chan *pipeBlock
	done   chan struct{}
	failed atomic.Bool
	err    error // the first AddBlock error; read after done is closed
}

// pipeBlock is the content of one block being filled or written.
type pipeBlock struct {
	rows  []part.Row
	buf   []byte // the blob's buffer (beginBlob, endBlob)
	blob  []byte // the blob, a part of buf
	attrs []byte
	tb    part.Bloom
	kb    part.Bloom
}

func newBlockPipe(w *part.Writer, blockRows int) *blockPipe {
	p := &blockPipe{w: w, todo: make(chan *pipeBlock, 2), free: make(chan *pipeBlock, 3), done: make(chan struct{})}
	for range 3 {
		p.free <- &pipeBlock{rows: make([]part.Row, 0, blockRows)}
	}
	go p.run()
	return p
}

func (p *blockPipe) run() {
	defer close(p.done)
	for b := range p.todo {
		if p.err == nil {
			if p.err = p.w.AddBlock(b.rows, b.blob, b.attrs, b.tb, b.kb); p.err != nil {
				p.failed.Store(true)
			}
		}
		p.free <- b
	}
}

// get returns an empty block to fill. It fails once a write has failed (close then returns the error).
func (p *blockPipe) get() (*pipeBlock, bool) {
	if p.failed.Load() {
		return nil, false
	}
	b := <-p.free
	b.rows, b.buf, b.blob, b.attrs, b.tb, b.kb = b.rows[:0], b.buf[:0], nil, b.attrs[:0], nil, nil
	return b, true
}

// put queues a filled block for writing.
func (p *blockPipe) put(b *pipeBlock) { p.todo <- b }

// close waits for the queued blocks to be written and returns the first error.
func (p *blockPipe) close() error {
	close(p.todo)
	<-p.done
	return p.err
}
