package loki

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Values of the __error__ label that the parsers set on lines they cannot parse.
const (
	labelError       = "__error__"
	errJSONParser    = "JSONParserErr"
	errLogfmtParser  = "LogfmtParserErr"
	extractedSuffix  = "_extracted"
	maxExtractedKeys = 256 // labels one parser stage may extract from a line
)

// entry is one log record going through a pipeline. Its labels are the stream labels, the structured
// metadata (computed on first use) and the labels that parsers extracted, minus those dropped.
type entry struct {
	ts        int64
	line      string
	stream    labelSet
	rec       plog.LogRecord
	meta      labelSet
	metaDone  bool
	extracted labelSet // unsorted, names unique
	dropped   []string
	keep      []string // nil: every label
}

func (e *entry) reset(ts int64, line string, stream labelSet, rec plog.LogRecord) {
	*e = entry{ts: ts, line: line, stream: stream, rec: rec, extracted: e.extracted[:0], dropped: e.dropped[:0]}
}

func (e *entry) metadata() labelSet {
	if !e.metaDone {
		e.meta = metadata(e.rec)
		e.metaDone = true
	}
	return e.meta
}

func (e *entry) visible(name string) bool {
	if slices.Contains(e.dropped, name) {
		return false
	}
	return e.keep == nil || slices.Contains(e.keep, name)
}

// get returns a label's value: extracted labels first, then stream labels, then structured metadata.
func (e *entry) get(name string) (string, bool) {
	if !e.visible(name) {
		return "", false
	}
	for _, l := range e.extracted {
		if l.Name == name {
			return l.Value, true
		}
	}
	if v, ok := e.stream.get(name); ok {
		return v, true
	}
	if name == LabelDetectedLevel && !e.metaDone {
		// The common case without building the metadata: no attribute of that name overrides it.
		if _, ok := e.rec.Attributes().Get(LabelDetectedLevel); !ok {
			return levelOf(e.rec.SeverityNumber()), true
		}
	}
	return e.metadata().get(name)
}

func (e *entry) extract(name, value string) {
	if _, ok := e.stream.get(name); ok {
		name += extractedSuffix
	}
	for i, l := range e.extracted {
		if l.Name == name {
			e.extracted[i].Value = value
			return
		}
	}
	e.extracted = append(e.extracted, label{name, value})
}

// visibleStream is the stream labels left after drop and keep.
func (e *entry) visibleStream() labelSet {
	if len(e.dropped) == 0 && e.keep == nil {
		return e.stream
	}
	out := make(labelSet, 0, len(e.stream))
	for _, l := range e.stream {
		if e.visible(l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// parsed is the extracted labels left after drop and keep, sorted.
func (e *entry) parsed() labelSet {
	return e.appendParsed(make(labelSet, 0, len(e.extracted))).sort()
}

func (e *entry) appendParsed(dst labelSet) labelSet {
	for _, l := range e.extracted {
		if e.visible(l.Name) {
			dst = append(dst, l)
		}
	}
	return dst
}

// seriesLabels labels an entry in a log query answered without categorized labels: the stream labels plus
// the extracted ones.
func (e *entry) seriesLabels() labelSet {
	if len(e.extracted) == 0 {
		return e.visibleStream()
	}
	return e.appendSeriesLabels(nil, false)
}

// appendSeriesLabels appends to dst the labels of an entry in a metric query, sorted: the stream labels,
// the extracted ones and, withDetected, detected_level (other structured metadata is left out, so that each
// trace does not make its own series). Extracted labels win over detected_level.
func (e *entry) appendSeriesLabels(dst labelSet, withDetected bool) labelSet {
	dst = e.appendParsed(dst)
	if withDetected && e.visible(LabelDetectedLevel) {
		dst = append(dst, label{LabelDetectedLevel, levelOf(e.rec.SeverityNumber())})
	}
	for _, l := range e.stream {
		if e.visible(l.Name) {
			dst = append(dst, l)
		}
	}
	return dst.sort()
}

// visibleMetadata is the structured metadata left after drop and keep.
func (e *entry) visibleMetadata() labelSet {
	md := e.metadata()
	if len(e.dropped) == 0 && e.keep == nil {
		return md
	}
	out := make(labelSet, 0, len(md))
	for _, l := range md {
		if e.visible(l.Name) {
			out = append(out, l)
		}
	}
	return out
}

// run applies the stages to e and reports whether it is kept.
func run(stages []Stage, e *entry) bool {
	for _, s := range stages {
		switch s := s.(type) {
		case *LineFilter:
			if !s.match(e.line) {
				return false
			}
		case *ParserStage:
			if s.Kind == "json" {
				parseJSON(e)
			} else {
				parseLogfmt(e)
			}
		case *LabelFilter:
			if !evalCond(s.Cond, e) {
				return false
			}
		case *DropStage:
			e.dropped = append(e.dropped, s.Names...)
			for _, m := range s.Matchers {
				if v, ok := e.get(m.Name); ok && m.Matches(v) {
					e.dropped = append(e.dropped, m.Name)
				}
			}
		case *KeepStage:
			var keep []string
			for _, n := range s.Names {
				if e.keep == nil || slices.Contains(e.keep, n) {
					keep = append(keep, n)
				}
			}
			if keep == nil {
				keep = []string{}
			}
			e.keep = keep
		}
	}
	return true
}

func (f *LineFilter) match(line string) bool {
	switch f.Op {
	case LineContains:
		return strings.Contains(line, f.Value)
	case LineNotContains:
		return !strings.Contains(line, f.Value)
	case LineMatches:
		return f.re.MatchString(line)
	default:
		return !f.re.MatchString(line)
	}
}

func evalCond(c Cond, e *entry) bool {
	switch c := c.(type) {
	case *MatchCond:
		v, _ := e.get(c.M.Name)
		return c.M.Matches(v)
	case *NumCond:
		v, ok := e.get(c.Name)
		if !ok {
			return false
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return false
		}
		switch c.Op {
		case tEq, tEqEq:
			return f == c.Value
		case tNeq:
			return f != c.Value
		case tGtr:
			return f > c.Value
		case tGte:
			return f >= c.Value
		case tLss:
			return f < c.Value
		default:
			return f <= c.Value
		}
	case *AndCond:
		return evalCond(c.L, e) && evalCond(c.R, e)
	case *OrCond:
		return evalCond(c.L, e) || evalCond(c.R, e)
	}
	panic("BUG: unknown label filter condition")
}

// matchStream reports whether a stream's labels satisfy the selector.
func matchStream(ms []*labels.Matcher, ls labelSet) bool {
	for _, m := range ms {
		v, _ := ls.get(m.Name)
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// parseJSON extracts the members of a JSON object line as labels: nested objects flatten with "_" between
// the keys, numbers keep their text, true/false and null become "true", "false" and "", arrays are skipped.
// A line that is no JSON object gets __error__="JSONParserErr".
func parseJSON(e *entry) {
	d := json.NewDecoder(strings.NewReader(e.line))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil || obj == nil {
		e.extract(labelError, errJSONParser)
		return
	}
	n := 0
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			name := labelName(k)
			if prefix != "" {
				name = prefix + "_" + name
			}
			switch v := m[k].(type) {
			case map[string]any:
				walk(name, v)
				continue
			case []any:
				continue
			case string:
				if n < maxExtractedKeys {
					e.extract(name, v)
				}
			case json.Number:
				if n < maxExtractedKeys {
					e.extract(name, v.String())
				}
			case bool:
				if n < maxExtractedKeys {
					e.extract(name, strconv.FormatBool(v))
				}
			case nil:
				if n < maxExtractedKeys {
					e.extract(name, "")
				}
			}
			n++
		}
	}
	walk("", obj)
}

// parseLogfmt extracts key=value pairs (values bare or double-quoted; a bare key has the value "").
// A line that is not logfmt gets __error__="LogfmtParserErr"; the pairs before the fault are kept.
func parseLogfmt(e *entry) {
	s := e.line
	n := 0
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) {
			return
		}
		start := i
		for i < len(s) && s[i] > ' ' && s[i] != '=' && s[i] != '"' {
			i++
		}
		key := s[start:i]
		if key == "" {
			e.extract(labelError, errLogfmtParser)
			return
		}
		value := ""
		if i < len(s) && s[i] == '=' {
			i++
			if i < len(s) && s[i] == '"' {
				j := i + 1
				var b bytes.Buffer
				closed := false
				for j < len(s) {
					c := s[j]
					if c == '\\' && j+1 < len(s) {
						b.WriteByte(s[j+1])
						j += 2
						continue
					}
					if c == '"' {
						closed = true
						break
					}
					b.WriteByte(c)
					j++
				}
				if !closed {
					e.extract(labelError, errLogfmtParser)
					return
				}
				value = b.String()
				i = j + 1
			} else {
				vs := i
				for i < len(s) && s[i] > ' ' {
					if s[i] == '"' || s[i] == '=' {
						e.extract(labelError, errLogfmtParser)
						return
					}
					i++
				}
				value = s[vs:i]
			}
		} else if i < len(s) && s[i] == '"' {
			e.extract(labelError, errLogfmtParser)
			return
		}
		if n < maxExtractedKeys {
			e.extract(labelName(key), value)
		}
		n++
	}
}
