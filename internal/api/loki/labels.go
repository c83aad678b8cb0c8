package loki

import (
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otlpd/otlpd/internal/query"
)

// label is one name="value" pair.
type label struct{ Name, Value string }

// labelSet is a set of labels sorted by name, names unique.
type labelSet []label

func (ls labelSet) get(name string) (string, bool) {
	i, ok := slices.BinarySearchFunc(ls, name, func(l label, n string) int { return strings.Compare(l.Name, n) })
	if !ok {
		return "", false
	}
	return ls[i].Value, true
}

// key is a string that identifies the set, for grouping.
func (ls labelSet) key() string { return string(ls.appendKey(nil)) }

// appendKey appends the bytes of key to b.
func (ls labelSet) appendKey(b []byte) []byte {
	for _, l := range ls {
		b = append(b, l.Name...)
		b = append(b, 0xfe)
		b = append(b, l.Value...)
		b = append(b, 0xff)
	}
	return b
}

func (ls labelSet) sort() labelSet {
	// Stable, so that the first of equal names is kept.
	slices.SortStableFunc(ls, func(a, b label) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(ls, func(a, b label) bool { return a.Name == b.Name })
}

func (ls labelSet) toMap() map[string]string {
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.Name] = l.Value
	}
	return m
}

// Label names otlpd gives every stream.
const (
	LabelService       = "service_name"   // resource attribute service.name
	LabelLevel         = "level"          // severity class of the record
	LabelDetectedLevel = "detected_level" // the same, as structured metadata (as Loki reports it)
	LabelTraceID       = "trace_id"
	LabelSpanID        = "span_id"
)

// levels are the values of the level label, indexed by query.SeverityClass ("unset" is "unknown").
var levels = [len(query.SeverityClasses)]string{"unknown", "trace", "debug", "info", "warn", "error", "fatal"}

// levelOf is the level label of a record: its severity number's class.
func levelOf(n plog.SeverityNumber) string { return levels[query.SeverityClass(n)] }

// labelName turns an attribute key into a label name: every character outside [A-Za-z0-9_] becomes "_",
// and a leading digit gets a "_" in front (service.name -> service_name, k8s.pod.name -> k8s_pod_name).
func labelName(key string) string {
	ok := key != "" && !isDigit(key[0])
	for i := 0; ok && i < len(key); i++ {
		c := key[i]
		ok = isLetter(c) || isDigit(c) || c == '_'
	}
	if ok {
		return key
	}
	b := make([]byte, 0, len(key)+1)
	if key == "" || isDigit(key[0]) {
		b = append(b, '_')
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isLetter(c) || isDigit(c) || c == '_' {
			b = append(b, c)
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}

// labelNameIs reports whether labelName(key) == name, without building it.
func labelNameIs(key, name string) bool {
	if key == "" || isDigit(key[0]) {
		return len(name) == len(key)+1 && name[0] == '_' && labelNameIs2(key, name[1:])
	}
	return len(name) == len(key) && labelNameIs2(key, name)
}

func labelNameIs2(key, name string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !isLetter(c) && !isDigit(c) && c != '_' {
			c = '_'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// resourceCache keeps the labels of the resources a scan met, keyed by their attributes, since a backend
// may return each record under a resource of its own. It is used by one scan only.
type resourceCache struct {
	m   map[string]*resourceLabels
	key []byte
}

// maxCachedResources bounds the cache; past it, labels are computed for each resource.
const maxCachedResources = 10_000

func (c *resourceCache) get(res pcommon.Resource) *resourceLabels {
	b := c.key[:0]
	for k, v := range res.Attributes().All() {
		b = append(b, k...)
		b = append(b, 0xfe, byte(v.Type()))
		switch v.Type() {
		case pcommon.ValueTypeStr:
			b = append(b, v.Str()...)
		case pcommon.ValueTypeInt:
			b = strconv.AppendInt(b, v.Int(), 10)
		case pcommon.ValueTypeDouble:
			b = strconv.AppendFloat(b, v.Double(), 'g', -1, 64)
		case pcommon.ValueTypeBool:
			b = strconv.AppendBool(b, v.Bool())
		}
		b = append(b, 0xff)
	}
	c.key = b
	if rl, ok := c.m[string(b)]; ok {
		return rl
	}
	rl := newResourceLabels(res)
	if c.m == nil {
		c.m = map[string]*resourceLabels{}
	}
	if len(c.m) < maxCachedResources {
		c.m[string(b)] = rl
	}
	return rl
}

// streamLabels are the labels of a resource's records without the level: every resource attribute with a
// string, integer, double or boolean value that is not empty (maps, arrays and bytes are left out), named by
// labelName; service.name is service_name.
func streamLabels(res pcommon.Resource) labelSet {
	var ls labelSet
	for k, v := range res.Attributes().All() {
		switch v.Type() {
		case pcommon.ValueTypeStr, pcommon.ValueTypeInt, pcommon.ValueTypeDouble, pcommon.ValueTypeBool:
		default:
			continue
		}
		s := v.AsString()
		name := labelName(k)
		if s == "" || name == LabelLevel {
			continue
		}
		ls = append(ls, label{name, s})
	}
	return ls.sort()
}

// withLevel returns base plus the level label, in a new set.
func withLevel(base labelSet, level string) labelSet {
	out := make(labelSet, 0, len(base)+1)
	i, _ := slices.BinarySearchFunc(base, LabelLevel, func(l label, n string) int { return strings.Compare(l.Name, n) })
	out = append(out, base[:i]...)
	out = append(out, label{LabelLevel, level})
	return append(out, base[i:]...)
}

// resourceLabels caches the stream labels of one resource, per level.
type resourceLabels struct {
	base     labelSet
	perLevel [len(levels)]labelSet
}

func newResourceLabels(res pcommon.Resource) *resourceLabels {
	return &resourceLabels{base: streamLabels(res)}
}

func (r *resourceLabels) forRecord(n plog.SeverityNumber) labelSet {
	c := query.SeverityClass(n)
	if r.perLevel[c] == nil {
		r.perLevel[c] = withLevel(r.base, levels[c])
	}
	return r.perLevel[c]
}

// metadata is the structured metadata of a record: its attributes (named by labelName, values in their
// string form), trace_id, span_id and detected_level.
func metadata(rec plog.LogRecord) labelSet {
	ls := make(labelSet, 0, rec.Attributes().Len()+3)
	for k, v := range rec.Attributes().All() {
		if s := v.AsString(); s != "" {
			ls = append(ls, label{labelName(k), s})
		}
	}
	if id := rec.TraceID(); !id.IsEmpty() {
		ls = append(ls, label{LabelTraceID, id.String()})
	}
	if id := rec.SpanID(); !id.IsEmpty() {
		ls = append(ls, label{LabelSpanID, id.String()})
	}
	ls = append(ls, label{LabelDetectedLevel, levelOf(rec.SeverityNumber())})
	return ls.sort()
}

// lineOf is a record's log line: its body's string form (maps and arrays as JSON).
func lineOf(rec plog.LogRecord) string {
	b := rec.Body()
	if b.Type() == pcommon.ValueTypeStr {
		return b.Str()
	}
	return b.AsString()
}
