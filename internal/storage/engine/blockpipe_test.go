package engine

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/otlpd/otlpd/internal/storage/engine/part"
)

// TestBuildBlocks writes parts of 0 to 10 blocks with 1 to 3 workers: every row lands in its block, blocks
// in order; a fill that fails ends the part with its error (and no worker left waiting).
func TestBuildBlocks(t *testing.T) {
	const blockRows = 7
	for _, workers := range []int{1, 2, 3} {
		for _, n := range []int{0, 1, blockRows, 3*blockRows + 2, 10 * blockRows} {
			t.Run(fmt.Sprintf("workers=%d/rows=%d", workers, n), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "p")
				w, err := part.Create(path, part.Meta{ID: 1, Kind: part.KindSpans})
				if err != nil {
					t.Fatal(err)
				}
				err = buildBlocks(w, n, blockRows, workers, func(_ int, b *pipeBlock, lo, hi int) error {
					for i := lo; i < hi; i++ {
						b.rows = append(b.rows, part.Row{TS: int64(i)})
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Finish(); err != nil {
					t.Fatal(err)
				}
				r, err := part.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				next := int64(0)
				for i := range r.Meta.Blocks {
					blk, err := r.ReadBlock(i, 1<<part.ColTS)
					if err != nil {
						t.Fatal(err)
					}
					for _, ts := range blk.TS {
						if ts != next {
							t.Fatalf("block %d holds row %d where row %d belongs", i, ts, next)
						}
						next++
					}
				}
				if next != int64(n) {
					t.Fatalf("%d rows written, want %d", next, n)
				}
			})
		}
		t.Run(fmt.Sprintf("workers=%d/fails", workers), func(t *testing.T) {
			w, err := part.Create(filepath.Join(t.TempDir(), "p"), part.Meta{ID: 1, Kind: part.KindSpans})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			bad := errors.New("unreadable row")
			err = buildBlocks(w, 20*blockRows, blockRows, workers, func(_ int, b *pipeBlock, lo, hi int) error {
				if lo == 5*blockRows {
					return bad
				}
				for i := lo; i < hi; i++ {
					b.rows = append(b.rows, part.Row{TS: int64(i)})
				}
				return nil
			})
			if !errors.Is(err, bad) {
				t.Fatalf("err = %v, want the fill's", err)
			}
		})
	}
}
