package tail

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ANSI colors used by the text format.
const (
	reset   = "\033[0m"
	dim     = "\033[2m"
	red     = "\033[31m"
	green   = "\033[32m"
	yellow  = "\033[33m"
	blue    = "\033[34m"
	magenta = "\033[35m"
	cyan    = "\033[36m"
	boldRed = "\033[1;31m"
)

// Formatter writes items as compact lines:
//
//	15:04:05.000 SPAN  checkout       GET /api/v1/cart/{id} SERVER 12.3ms ERROR trace=4bf92f35 http.route=...
//	15:04:05.000 WARN  checkout       Slow query detected ... trace=4bf92f35 user.id=...
//	15:04:05.000 METRIC checkout      http.server.request.count{http.route=...} 123 (sum)
type Formatter struct {
	Color bool
	// Location is the time zone of the timestamps; nil means local time.
	Location *time.Location
	// MaxWidth truncates each line to this many characters (0: no limit).
	MaxWidth int
	// TimeLayout formats timestamps; "" means 15:04:05.000.
	TimeLayout string
}

func (f *Formatter) paint(color, s string) string {
	if !f.Color || s == "" {
		return s
	}
	return color + s + reset
}

// Write writes it as one line. Heartbeats are not printed.
func (f *Formatter) Write(w io.Writer, it Item) error {
	if it.Signal == KindHeartbeat {
		return nil
	}
	loc := f.Location
	if loc == nil {
		loc = time.Local
	}
	var b strings.Builder
	layout := f.TimeLayout
	if layout == "" {
		layout = "15:04:05.000"
	}
	b.WriteString(f.paint(dim, it.Time.In(loc).Format(layout)))
	b.WriteByte(' ')
	svc := fmt.Sprintf("%-14s", it.Service)
	if it.Signal == KindMetric {
		svc = fmt.Sprintf("%-13s", it.Service) // "METRIC " is one wider than the other labels
	}
	switch it.Signal {
	case KindSpan:
		b.WriteString(f.paint(blue, "SPAN  "))
		b.WriteString(f.paint(cyan, svc))
		b.WriteString(" " + it.Name)
		if it.Kind != "" {
			b.WriteString(" " + f.paint(dim, it.Kind))
		}
		b.WriteString(" " + formatDuration(time.Duration(it.DurationNanos)))
		if it.Status == "ERROR" {
			msg := "ERROR"
			if it.StatusMessage != "" {
				msg += " " + strconv.Quote(it.StatusMessage)
			}
			b.WriteString(" " + f.paint(boldRed, msg))
		}
		if it.TraceID != "" {
			b.WriteString(" " + f.paint(dim, "trace="+short(it.TraceID)))
		}
	case KindLog:
		sev := it.Severity
		if sev == "" {
			sev = severityName(it.SeverityNumber)
		}
		b.WriteString(f.paint(severityColor(it.SeverityNumber), fmt.Sprintf("%-6s", strings.ToUpper(sev))))
		b.WriteString(f.paint(cyan, svc))
		b.WriteString(" " + bodyString(it.Body))
		if it.TraceID != "" {
			b.WriteString(" " + f.paint(dim, "trace="+short(it.TraceID)))
		}
	case KindMetric:
		b.WriteString(f.paint(magenta, "METRIC "))
		b.WriteString(f.paint(cyan, svc))
		b.WriteString(" " + it.Name + "{" + attrString(it.Attributes, "=", ",") + "}")
		switch {
		case it.Value != nil:
			b.WriteString(" " + strconv.FormatFloat(*it.Value, 'g', -1, 64))
		default:
			b.WriteString(" count=" + strconv.FormatUint(it.Count, 10))
			if it.Sum != nil {
				b.WriteString(" sum=" + strconv.FormatFloat(*it.Sum, 'g', -1, 64))
			}
		}
		b.WriteString(" " + f.paint(dim, "("+it.MetricType+")"))
		return f.line(w, b.String())
	default:
		return nil
	}
	if attrs := attrString(it.Attributes, "=", " "); attrs != "" {
		b.WriteString(" " + f.paint(dim, attrs))
	}
	return f.line(w, b.String())
}

func (f *Formatter) line(w io.Writer, s string) error {
	if f.MaxWidth > 0 && visibleLen(s) > f.MaxWidth {
		s = truncateVisible(s, f.MaxWidth-1) + "…"
		if f.Color {
			s += reset
		}
	}
	_, err := io.WriteString(w, s+"\n")
	return err
}

// WriteJSON writes it as one JSON line. Heartbeats are not printed.
func WriteJSON(w io.Writer, it Item) error {
	if it.Signal == KindHeartbeat {
		return nil
	}
	b, err := json.Marshal(it)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func severityColor(n int32) string {
	switch {
	case n >= 17:
		return red
	case n >= 13:
		return yellow
	case n >= 9:
		return green
	default:
		return dim
	}
}

// severityName names an OTLP severity number's range.
func severityName(n int32) string {
	names := [...]string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
	if n < 1 || n > 24 {
		return "LOG"
	}
	return names[(n-1)/4]
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

// bodyString renders a log body on one line: strings as they are (newlines escaped), maps and lists as JSON.
func bodyString(b any) string {
	switch v := b.(type) {
	case nil:
		return ""
	case string:
		return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(j)
	}
}

// attrString renders attributes sorted by key.
func attrString(m map[string]any, eq, sep string) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(k + eq + valueString(m[k]))
	}
	return b.String()
}

func valueString(v any) string {
	switch x := v.(type) {
	case string:
		if strings.ContainsAny(x, " \t\n\"=") || x == "" {
			return strconv.Quote(x)
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case nil:
		return "null"
	case map[string]any, []any:
		j, _ := json.Marshal(x)
		return string(j)
	default:
		return fmt.Sprint(x)
	}
}

// visibleLen counts the runes of s outside ANSI escape sequences.
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			esc = r != 'm'
		case r == '\033':
			esc = true
		default:
			n++
		}
	}
	return n
}

func truncateVisible(s string, n int) string {
	count, esc := 0, false
	for i, r := range s {
		switch {
		case esc:
			esc = r != 'm'
		case r == '\033':
			esc = true
		default:
			if count == n {
				return s[:i]
			}
			count++
		}
	}
	return s
}
