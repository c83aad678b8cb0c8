package otlp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// Salvage: pdata refuses a whole request when one trace or span ID has the wrong length (or, in JSON, is not
// hex), yet OTLP wants the bad item rejected and the rest kept. When decoding fails, the request is
// rewritten without the items whose IDs are malformed and decoded again; the removed items are reported
// through partial success. This runs only after a failed decode, so well-formed requests never pay for it.
// A request that still fails to decode is refused whole, with the original error.
//
// Items removed: spans with a malformed trace_id, span_id, parent_span_id, or link trace_id/span_id; log
// records with a malformed trace_id or span_id; data points with an exemplar with a malformed trace_id or
// span_id. Positions in messages are those of the request as received. JSON is rewritten as a stream
// (filterJSONStream), so a body of any accepted size is salvaged item by item.

// idField is a bytes field holding an ID of size bytes (or nothing).
type idField struct {
	num  protowire.Number
	json [2]string // lowerCamelCase and snake_case keys
	name string
	size int
}

var (
	spanIDFields = []idField{
		{1, [2]string{"traceId", "trace_id"}, "trace_id", 16},
		{2, [2]string{"spanId", "span_id"}, "span_id", 8},
		{4, [2]string{"parentSpanId", "parent_span_id"}, "parent_span_id", 8},
	}
	linkIDFields = []idField{
		{1, [2]string{"traceId", "trace_id"}, "trace_id", 16},
		{2, [2]string{"spanId", "span_id"}, "span_id", 8},
	}
	logIDFields = []idField{
		{9, [2]string{"traceId", "trace_id"}, "trace_id", 16},
		{10, [2]string{"spanId", "span_id"}, "span_id", 8},
	}
	exemplarIDFields = []idField{
		{5, [2]string{"traceId", "trace_id"}, "trace_id", 16},
		{4, [2]string{"spanId", "span_id"}, "span_id", 8},
	}
)

// level is one step from a request down to its items: the repeated message field and its names.
type level struct {
	num  protowire.Number
	json [2]string
	name string
}

var (
	traceLevels = []level{
		{1, [2]string{"resourceSpans", "resource_spans"}, "resource_spans"},
		{2, [2]string{"scopeSpans", "scope_spans"}, "scope_spans"},
		{2, [2]string{"spans", "spans"}, "spans"},
	}
	logLevels = []level{
		{1, [2]string{"resourceLogs", "resource_logs"}, "resource_logs"},
		{2, [2]string{"scopeLogs", "scope_logs"}, "scope_logs"},
		{2, [2]string{"logRecords", "log_records"}, "log_records"},
	}
	metricLevels = []level{
		{1, [2]string{"resourceMetrics", "resource_metrics"}, "resource_metrics"},
		{2, [2]string{"scopeMetrics", "scope_metrics"}, "scope_metrics"},
		{2, [2]string{"metrics", "metrics"}, "metrics"},
	}
)

// metricData lists, per metric data kind, its field and the field of exemplars in its points.
var metricData = []struct {
	num       protowire.Number
	json      [2]string
	exemplars protowire.Number
}{
	{5, [2]string{"gauge", "gauge"}, 5},
	{7, [2]string{"sum", "sum"}, 5},
	{9, [2]string{"histogram", "histogram"}, 8},
	{10, [2]string{"exponentialHistogram", "exponential_histogram"}, 11},
}

var errNothingToSalvage = errors.New("no item with a malformed ID")

// --- protobuf ---

// checkProtoIDs returns the problem with the first malformed ID field of msg, or "".
func checkProtoIDs(msg []byte, fields []idField) string {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return ""
		}
		msg = msg[n:]
		var v []byte
		if typ == protowire.BytesType {
			v, n = protowire.ConsumeBytes(msg)
		} else {
			n = protowire.ConsumeFieldValue(num, typ, msg)
		}
		if n < 0 {
			return ""
		}
		msg = msg[n:]
		for _, f := range fields {
			if f.num != num {
				continue
			}
			if typ != protowire.BytesType {
				return fmt.Sprintf("%s has wire type %d, want bytes", f.name, typ)
			}
			if len(v) != 0 && len(v) != f.size {
				return fmt.Sprintf("%s is %d bytes, want %d", f.name, len(v), f.size)
			}
		}
	}
	return ""
}

// filterProto copies msg, passing each length-delimited occurrence of field num through keep, which returns
// the value to write and whether to keep it.
func filterProto(msg []byte, num protowire.Number, keep func(i int, v []byte) ([]byte, bool)) ([]byte, error) {
	out := make([]byte, 0, len(msg))
	i := 0
	for len(msg) > 0 {
		n0, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		tag := msg[:n]
		rest := msg[n:]
		if n0 == num && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(rest)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			msg = rest[m:]
			nv, ok := keep(i, v)
			i++
			if ok {
				out = append(out, tag...)
				out = protowire.AppendBytes(out, nv)
			}
			continue
		}
		m := protowire.ConsumeFieldValue(n0, typ, rest)
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		out = append(out, msg[:n+m]...)
		msg = rest[m:]
	}
	return out, nil
}

// filterLevels walks levels down from msg and passes each item through check (a problem, or "").
func filterLevels(msg []byte, levels []level, where string, rej *rejections, check func(item []byte, where string) ([]byte, bool)) ([]byte, error) {
	lv := levels[0]
	var inner error
	out, err := filterProto(msg, lv.num, func(i int, v []byte) ([]byte, bool) {
		w := fmt.Sprintf("%s[%d]", lv.name, i)
		if where != "" {
			w = where + "." + w
		}
		if len(levels) == 1 {
			return check(v, w)
		}
		nv, err := filterLevels(v, levels[1:], w, rej, check)
		if err != nil {
			inner = err
			return v, true
		}
		return nv, true
	})
	if err == nil {
		err = inner
	}
	return out, err
}

func salvageProto(body []byte, signal string) ([]byte, rejections, error) {
	var rej rejections
	var out []byte
	var err error
	switch signal {
	case "traces":
		out, err = filterLevels(body, traceLevels, "", &rej, func(span []byte, where string) ([]byte, bool) {
			p := checkProtoIDs(span, spanIDFields)
			if p == "" {
				_, _ = filterProto(span, 13, func(i int, link []byte) ([]byte, bool) {
					if q := checkProtoIDs(link, linkIDFields); q != "" && p == "" {
						p = fmt.Sprintf("links[%d] %s", i, q)
					}
					return link, true
				})
			}
			if p != "" {
				rej.add(1, where, p)
				return nil, false
			}
			return span, true
		})
	case "logs":
		out, err = filterLevels(body, logLevels, "", &rej, func(rec []byte, where string) ([]byte, bool) {
			if p := checkProtoIDs(rec, logIDFields); p != "" {
				rej.add(1, where, p)
				return nil, false
			}
			return rec, true
		})
	case "metrics":
		out, err = filterLevels(body, metricLevels, "", &rej, func(metric []byte, where string) ([]byte, bool) {
			for _, d := range metricData {
				metric, _ = filterProto(metric, d.num, func(_ int, data []byte) ([]byte, bool) {
					nd, err := filterProto(data, 1, func(i int, dp []byte) ([]byte, bool) {
						p := ""
						_, _ = filterProto(dp, d.exemplars, func(j int, ex []byte) ([]byte, bool) {
							if q := checkProtoIDs(ex, exemplarIDFields); q != "" && p == "" {
								p = fmt.Sprintf("exemplars[%d] %s", j, q)
							}
							return ex, true
						})
						if p != "" {
							rej.add(1, fmt.Sprintf("%s.data_points[%d]", where, i), p)
							return nil, false
						}
						return dp, true
					})
					if err != nil {
						return data, true
					}
					return nd, true
				})
			}
			return metric, true
		})
	}
	if err != nil {
		return nil, rej, err
	}
	if rej.count == 0 {
		return nil, rej, errNothingToSalvage
	}
	return out, rej, nil
}

// --- JSON ---

// checkJSONIDs returns the problem with the first malformed ID of obj, or "".
func checkJSONIDs(obj map[string]any, fields []idField) string {
	for _, f := range fields {
		for _, key := range f.json {
			v, ok := obj[key]
			if !ok || v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return fmt.Sprintf("%s must be a hex string", f.name)
			}
			if s == "" {
				continue
			}
			if len(s) != 2*f.size {
				return fmt.Sprintf("%s has %d hex digits, want %d", f.name, len(s), 2*f.size)
			}
			if _, err := hex.DecodeString(s); err != nil {
				return fmt.Sprintf("%s is not hex", f.name)
			}
		}
	}
	return ""
}

func jsonArray(obj map[string]any, keys [2]string) ([]any, string) {
	for _, k := range keys {
		if a, ok := obj[k].([]any); ok {
			return a, k
		}
	}
	return nil, ""
}

// filterJSONLevels walks levels down from obj and keeps the items for which keep is true.
func filterJSONLevels(obj map[string]any, levels []level, where string, keep func(item map[string]any, where string) bool) {
	lv := levels[0]
	arr, key := jsonArray(obj, lv.json)
	if key == "" {
		return
	}
	kept := arr[:0:0]
	for i, e := range arr {
		child, ok := e.(map[string]any)
		if !ok {
			kept = append(kept, e)
			continue
		}
		w := fmt.Sprintf("%s[%d]", lv.name, i)
		if where != "" {
			w = where + "." + w
		}
		if len(levels) > 1 {
			filterJSONLevels(child, levels[1:], w, keep)
			kept = append(kept, e)
			continue
		}
		if keep(child, w) {
			kept = append(kept, e)
		}
	}
	obj[key] = kept
}

// filterJSONStream copies the JSON object body, descending through levels (at each, an array of objects
// under one of the level's keys) and keeping the items of the last level for which keep is true. One decoder
// streams the body; only an item at a time is decoded into generic values, so memory stays near the size of
// the body plus the output, whatever the body's size. A kept item is copied as it is, or re-encoded (keys
// sorted, numbers as written) when rewrite is true: keep may then have modified it.
func filterJSONStream(body []byte, levels []level, rewrite bool, keep func(item map[string]any, where string) bool) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(body))
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	out.WriteByte('{')
	f := jsonFilter{dec: dec, out: &out, rewrite: rewrite, keep: keep}
	if err := f.objectBody(levels, ""); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

type jsonFilter struct {
	dec     *json.Decoder
	out     *bytes.Buffer
	rewrite bool
	keep    func(map[string]any, string) bool
}

// objectBody copies the members of an object whose '{' has been read and written, and its '}'.
func (f *jsonFilter) objectBody(levels []level, where string) error {
	lv := levels[0]
	for first := true; f.dec.More(); first = false {
		tok, err := f.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if !first {
			f.out.WriteByte(',')
		}
		kb, _ := json.Marshal(key)
		f.out.Write(kb)
		f.out.WriteByte(':')
		if key == lv.json[0] || key == lv.json[1] {
			if err := f.array(levels, where); err != nil {
				return err
			}
			continue
		}
		var v json.RawMessage
		if err := f.dec.Decode(&v); err != nil {
			return err
		}
		f.out.Write(v)
	}
	if err := expectDelim(f.dec, '}'); err != nil {
		return err
	}
	f.out.WriteByte('}')
	return nil
}

// array copies the array of levels[0] that the decoder is at, filtering its elements.
func (f *jsonFilter) array(levels []level, where string) error {
	lv := levels[0]
	tok, err := f.dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); ok && d != '[' {
		return fmt.Errorf("%s is not an array", lv.name)
	} else if !ok { // null or a scalar: as it is (decoding reports it)
		return f.scalar(tok)
	}
	f.out.WriteByte('[')
	written := 0
	sep := func() {
		if written > 0 {
			f.out.WriteByte(',')
		}
		written++
	}
	for i := 0; f.dec.More(); i++ {
		w := fmt.Sprintf("%s[%d]", lv.name, i)
		if where != "" {
			w = where + "." + w
		}
		if len(levels) > 1 {
			tok, err := f.dec.Token()
			if err != nil {
				return err
			}
			sep()
			switch d, ok := tok.(json.Delim); {
			case !ok:
				err = f.scalar(tok)
			case d == '{':
				f.out.WriteByte('{')
				err = f.objectBody(levels[1:], w)
			default:
				err = fmt.Errorf("%s is not an object", w)
			}
			if err != nil {
				return err
			}
			continue
		}
		var elem json.RawMessage
		if err := f.dec.Decode(&elem); err != nil {
			return err
		}
		if len(elem) == 0 || elem[0] != '{' {
			sep()
			f.out.Write(elem)
			continue
		}
		var item map[string]any
		d := json.NewDecoder(bytes.NewReader(elem))
		d.UseNumber()
		if err := d.Decode(&item); err != nil {
			return err
		}
		if !f.keep(item, w) {
			continue
		}
		sep()
		if !f.rewrite {
			f.out.Write(elem)
			continue
		}
		b, err := json.Marshal(item)
		if err != nil {
			return err
		}
		f.out.Write(b)
	}
	if err := expectDelim(f.dec, ']'); err != nil {
		return err
	}
	f.out.WriteByte(']')
	return nil
}

func (f *jsonFilter) scalar(tok json.Token) error {
	b, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	f.out.Write(b)
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

func salvageJSON(body []byte, signal string) ([]byte, rejections, error) {
	var rej rejections
	var out []byte
	var err error
	switch signal {
	case "traces":
		out, err = filterJSONStream(body, traceLevels, false, func(span map[string]any, where string) bool {
			p := checkJSONIDs(span, spanIDFields)
			if links, _ := jsonArray(span, [2]string{"links", "links"}); p == "" {
				for i, l := range links {
					if lo, ok := l.(map[string]any); ok {
						if q := checkJSONIDs(lo, linkIDFields); q != "" {
							p = fmt.Sprintf("links[%d] %s", i, q)
							break
						}
					}
				}
			}
			if p != "" {
				rej.add(1, where, p)
				return false
			}
			return true
		})
	case "logs":
		out, err = filterJSONStream(body, logLevels, false, func(rec map[string]any, where string) bool {
			if p := checkJSONIDs(rec, logIDFields); p != "" {
				rej.add(1, where, p)
				return false
			}
			return true
		})
	case "metrics":
		out, err = filterJSONStream(body, metricLevels, true, func(metric map[string]any, where string) bool {
			for _, d := range metricData {
				data, ok := metric[d.json[0]].(map[string]any)
				if !ok {
					data, _ = metric[d.json[1]].(map[string]any)
				}
				if data == nil {
					continue
				}
				filterJSONLevels(data, []level{{json: [2]string{"dataPoints", "data_points"}, name: "data_points"}}, where,
					func(dp map[string]any, w string) bool {
						exs, _ := jsonArray(dp, [2]string{"exemplars", "exemplars"})
						for j, e := range exs {
							if eo, ok := e.(map[string]any); ok {
								if q := checkJSONIDs(eo, exemplarIDFields); q != "" {
									rej.add(1, w, fmt.Sprintf("exemplars[%d] %s", j, q))
									return false
								}
							}
						}
						return true
					})
			}
			return true
		})
	}
	if err != nil {
		return nil, rej, err
	}
	if rej.count == 0 {
		return nil, rej, errNothingToSalvage
	}
	return out, rej, nil
}

// salvage rewrites body without the items with malformed IDs, or fails with errNothingToSalvage. decodeErr
// is pdata's error: JSON is only rewritten when that error is about an ID, so that other malformed JSON does
// not pay for a second, generic parse. (The protobuf rewrite is one cheap pass and always tried.)
func salvage(body []byte, f format, signal string, decodeErr error) ([]byte, rejections, error) {
	if f == formatJSON {
		if !strings.Contains(decodeErr.Error(), "ID.UnmarshalJSONIter") {
			return nil, rejections{}, errNothingToSalvage
		}
		return salvageJSON(body, signal)
	}
	return salvageProto(body, signal)
}
