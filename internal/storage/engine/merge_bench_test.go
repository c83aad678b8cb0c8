package engine

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/otlpd/otlpd/internal/workload"
)

// cloneDir copies the tree at src to dst.
func cloneDir(tb testing.TB, src, dst string) {
	tb.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		tb.Fatalf("cp: %v %s", err, out)
	}
}

// BenchmarkMerge times merges alone: 8 parts of 16,384 spans or log records of the reference workload, as
// a flush wrote them ("flushed": their first merge) or as merges of 2 flushed parts wrote them ("merged"),
// merged into one on real disk. The data directory is built once and copied before each merge, untimed.
func BenchmarkMerge(b *testing.B) {
	const parts, per = 8, 16384
	ctx := context.Background()
	for _, kind := range []string{"spans", "logs"} {
		for _, inputs := range []string{"flushed", "merged"} {
			b.Run(kind+"/"+inputs, func(b *testing.B) {
				opts := benchOpts(SyncNone)
				opts.HeadMaxItems, opts.HeadMaxBytes = 1<<22, 1<<34
				opts.MergeMinParts = 1 << 20 // no background merge
				tmpl := b.TempDir()
				e := openTest(b, tmpl, opts)
				gen := workload.New(5, workload.Options{})
				flushes := parts
				if inputs == "merged" {
					flushes = 2 * parts
				}
				for i := range flushes {
					for range per / flushes * parts / 512 {
						var err error
						if kind == "spans" {
							err = e.WriteSpans(ctx, gen.NextTraces(512))
						} else {
							err = e.WriteLogs(ctx, gen.NextLogs(512))
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					if err := e.Flush(ctx); err != nil {
						b.Fatal(err)
					}
					if inputs == "merged" && i%2 == 1 {
						e.mu.RLock()
						ps := slices.Clone(e.parts[len(e.parts)-2:])
						e.mu.RUnlock()
						if err := e.mergeParts(ps); err != nil {
							b.Fatal(err)
						}
					}
				}
				if n := e.partCount(); n != parts {
					b.Fatalf("%d parts before the merge, want %d (the workload crosses a day?)", n, parts)
				}
				if err := e.Close(); err != nil {
					b.Fatal(err)
				}
				var cpu int64
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					b.StopTimer()
					dir := filepath.Join(b.TempDir(), "data")
					cloneDir(b, tmpl, dir)
					e := openTest(b, dir, opts)
					c0 := cpuTime()
					b.StartTimer()
					if err := e.Compact(ctx); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					cpu += int64(cpuTime() - c0)
					if n := e.partCount(); n != 1 {
						b.Fatalf("%d parts after the merge", n)
					}
					e.Close()
				}
				items := float64(b.N * parts * per)
				b.ReportMetric(items/b.Elapsed().Seconds(), "items/s")
				b.ReportMetric(float64(cpu)/items, "cpu-ns/item")
			})
		}
	}
}
