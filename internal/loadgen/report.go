package loadgen

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteReport writes a human-readable report of r.
func WriteReport(w io.Writer, r Result) {
	rate := "as fast as possible"
	if r.TargetRate > 0 {
		rate = "target " + group(int64(r.TargetRate)) + " items/s"
	}
	fmt.Fprintf(w, "%s over %s to %s: batch %d, %d workers, %s, %.1f s\n", r.Signal, r.Protocol, r.Endpoint,
		r.Batch, r.Workers, rate, r.Seconds)
	fmt.Fprintf(w, "  sent       %s items in %s requests (%.0f B/item encoded)\n", group(r.Sent), group(r.Requests), r.BytesPerItem)
	fmt.Fprintf(w, "  accepted   %s items, %s items/s\n", group(r.Accepted), group(int64(r.ItemsPerS+0.5)))
	fmt.Fprintf(w, "  rejected   %s items (partial success)", group(r.Rejected))
	if r.RejectSample != "" {
		fmt.Fprintf(w, ": %s", r.RejectSample)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  failed     %s items\n", group(r.Failed))
	if r.WarmupSeconds > 0 {
		fmt.Fprintf(w, "  warm-up    %.1f s before, %s items accepted (in no other figure)\n", r.WarmupSeconds, group(r.WarmupAccepted))
	}
	fmt.Fprintf(w, "  latency    p50 %.2f ms, p99 %.2f ms, max %.2f ms (successful exports)\n", r.P50ms, r.P99ms, r.MaxMs)
	if len(r.Errors) == 0 {
		fmt.Fprintln(w, "  errors     none")
		return
	}
	codes := make([]string, 0, len(r.Errors))
	for c := range r.Errors {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	fmt.Fprintln(w, "  errors     requests by status:")
	for _, c := range codes {
		fmt.Fprintf(w, "    %-18s %8s  %s\n", c, group(r.Errors[c]), r.ErrorSamples[c])
	}
}

// WriteSweepTable writes one line per result of a batch-size sweep.
func WriteSweepTable(w io.Writer, rs []Result) {
	fmt.Fprintf(w, "%8s %14s %10s %10s %10s %10s\n", "batch", "items/s", "p50 ms", "p99 ms", "rejected", "failed")
	for _, r := range rs {
		fmt.Fprintf(w, "%8d %14s %10.2f %10.2f %10s %10s\n", r.Batch, group(int64(r.ItemsPerS+0.5)), r.P50ms, r.P99ms,
			group(r.Rejected), group(r.Failed))
	}
}

// group formats n with thousands separators: 1234567 -> 1,234,567.
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
