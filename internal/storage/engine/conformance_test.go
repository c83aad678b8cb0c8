package engine

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/storagetest"
)

func factory(opts func() Options) storagetest.Factory {
	return storagetest.Factory{
		Open: func(t *testing.T) storage.Backend {
			dir := t.TempDir()
			e, err := Open(dir, opts())
			if err != nil {
				t.Fatal(err)
			}
			return e
		},
		Reopen: func(t *testing.T, b storage.Backend) storage.Backend {
			var e *Engine
			switch x := b.(type) {
			case *Engine:
				e = x
			case flushing:
				e = x.Engine
			}
			e2, err := Open(e.dir, opts())
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := b.(flushing); ok {
				return flushing{e2}
			}
			return e2
		},
	}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, factory(testOptions))
}

// flushing writes every batch through to parts at once, so that the suite reads from parts, not the head.
type flushing struct{ *Engine }

func (f flushing) WriteSpans(ctx context.Context, td ptrace.Traces) error {
	if err := f.Engine.WriteSpans(ctx, td); err != nil {
		return err
	}
	return f.Engine.Flush(ctx)
}

func (f flushing) WriteLogs(ctx context.Context, ld plog.Logs) error {
	if err := f.Engine.WriteLogs(ctx, ld); err != nil {
		return err
	}
	return f.Engine.Flush(ctx)
}

func TestConformanceFromParts(t *testing.T) {
	fac := factory(func() Options { o := testOptions(); o.BlockRows = 16; return o })
	open := fac.Open
	fac.Open = func(t *testing.T) storage.Backend { return flushing{open(t).(*Engine)} }
	storagetest.Run(t, fac)
}
