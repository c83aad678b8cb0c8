package otlp

import "github.com/otlpd/otlpd/internal/otlpwire"

// The wire check decides, without decoding, whether a protobuf traces or logs request can go to storage as
// it is (the raw path): when it says ok, pdata decodes the body without error, salvage has nothing to remove,
// and validation rejects nothing and removes nothing (every resource and scope holds an item). It also asks
// that the body be plain, so that a reader of the bytes in place sees what pdata sees:
//
//   - no group (wire types 3 and 4) anywhere, and no field wire type other than the one its field declares;
//   - no singular field repeated (protobuf would keep the last scalar and merge repeated messages);
//   - at most one member of an AnyValue's oneof;
//   - none of the fields pdata knows but a plain reader would treat differently: ResourceSpans and
//     ResourceLogs field 1000 (deprecated scope lists that pdata moves in), AnyValue.string_value_strindex
//     and KeyValue.key_strindex (profiles' string tables);
//   - values nested at most maxWireDepth arrays or maps deep (pdata stops at 100 levels of its own count).
//
// Anything else (a malformed body, an invalid item, an unusual encoding) is "not ok" and takes the decoding
// path, which is always correct: the check may refuse what pdata accepts, never the reverse. It allocates
// nothing.
//
// The messages checked (opentelemetry-proto v1, the fields pdata v1.71 knows):
//
//	ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
//	ExportLogsServiceRequest  { repeated ResourceLogs resource_logs = 1; }
//	ResourceSpans  { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
//	ResourceLogs   { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
//	ScopeSpans     { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
//	ScopeLogs      { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
//	Resource       { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2;
//	                 repeated EntityRef entity_refs = 3; }
//	EntityRef      { string schema_url = 1; string type = 2; repeated string id_keys = 3;
//	                 repeated string description_keys = 4; }
//	InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3;
//	                 uint32 dropped_attributes_count = 4; }
//	Span   { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
//	         string name = 5; SpanKind kind = 6; fixed64 start_time_unix_nano = 7;
//	         fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
//	         uint32 dropped_attributes_count = 10; repeated Event events = 11; uint32 dropped_events_count = 12;
//	         repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15; fixed32 flags = 16; }
//	Event  { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3;
//	         uint32 dropped_attributes_count = 4; }
//	Link   { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4;
//	         uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
//	Status { string message = 2; StatusCode code = 3; }
//	LogRecord { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2; string severity_text = 3;
//	         AnyValue body = 5; repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7;
//	         fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; fixed64 observed_time_unix_nano = 11;
//	         string event_name = 12; }
//	KeyValue  { string key = 1; AnyValue value = 2; }
//	AnyValue  { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
//	         double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6;
//	         bytes bytes_value = 7; } }
//	ArrayValue { repeated AnyValue values = 1; }   KeyValueList { repeated KeyValue values = 1; }

// maxWireDepth bounds how deep arrays and maps may nest in a value the check accepts.
const maxWireDepth = 16

// pdata's field numbers outside opentelemetry-proto's trace and logs messages, which the check refuses.
const (
	deprecatedScopes = 1000 // ResourceSpans/ResourceLogs: instrumentation_library_spans/logs
	anyStrindex      = 8    // AnyValue.string_value_strindex
	kvKeyStrindex    = 3    // KeyValue.key_strindex
)

// CheckTraces is the receiver's wire check: it reports whether body, an ExportTraceServiceRequest, may skip
// decoding (see above), and how many spans it holds. maxAttrBytes is validation's limit on string and bytes
// values. When idx is not nil, the check also indexes the spans into it (otlpwire.Index; reset first), which
// is then complete when ok. Exported so that consumers of the index test themselves with it.
func CheckTraces(body []byte, maxAttrBytes int, idx *otlpwire.Index) (spans int, ok bool) {
	c := wireCheck{maxAttr: maxAttrBytes, traces: true, idx: idx}
	return c.request(body)
}

// CheckLogs is CheckTraces for an ExportLogsServiceRequest: it counts log records.
func CheckLogs(body []byte, maxAttrBytes int, idx *otlpwire.Index) (records int, ok bool) {
	c := wireCheck{maxAttr: maxAttrBytes, idx: idx}
	return c.request(body)
}

type wireCheck struct {
	maxAttr int
	traces  bool            // spans, else log records
	idx     *otlpwire.Index // when not nil, what the check learns of the items goes here
	group   int32           // the index in idx.Groups of the scope being read
}

// fields tracks the singular fields of one message seen so far (all numbers are below 32).
type fields uint32

// once reports whether field num has not been seen before, and marks it seen.
func (s *fields) once(num uint32) bool {
	b := fields(1) << num
	if *s&b != 0 {
		return false
	}
	*s |= b
	return true
}

// plain reports whether an unknown field may be skipped: anything but a group.
func plain(f *otlpwire.Field) bool { return f.Type != otlpwire.Group }

func (c *wireCheck) request(msg []byte) (int, bool) {
	if c.idx != nil {
		c.idx.Reset()
	}
	n := 0
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num != otlpwire.DataResources {
			if !plain(&f) {
				return 0, false
			}
			continue
		}
		if f.Type != otlpwire.Bytes {
			return 0, false
		}
		k, ok := c.resourceItems(f.Bytes)
		if !ok {
			return 0, false
		}
		n += k
	}
	if r.Err() != nil || n == 0 {
		return 0, false
	}
	return n, true
}

// resourceItems checks a ResourceSpans or ResourceLogs and counts its items; one without any is not ok
// (validation would remove it).
func (c *wireCheck) resourceItems(msg []byte) (int, bool) {
	var seen fields
	n := 0
	var res, schema []byte // for the index
	groups := 0            // index of the first group of the resource
	if c.idx != nil {
		groups = len(c.idx.Groups)
	}
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.ResourceResource:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) || !c.resource(f.Bytes) {
				return 0, false
			}
			res = f.Bytes
		case otlpwire.ResourceScopes:
			if f.Type != otlpwire.Bytes {
				return 0, false
			}
			k, ok := c.scopeItems(f.Bytes)
			if !ok {
				return 0, false
			}
			n += k
		case otlpwire.ResourceSchemaURL:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return 0, false
			}
			schema = f.Bytes
		case deprecatedScopes:
			return 0, false
		default:
			if !plain(&f) {
				return 0, false
			}
		}
	}
	if r.Err() != nil || n == 0 {
		return 0, false
	}
	if c.idx != nil { // the resource may come after its scopes
		for i := groups; i < len(c.idx.Groups); i++ {
			c.idx.Groups[i].Resource, c.idx.Groups[i].ResourceSchema = res, schema
		}
	}
	return n, true
}

func (c *wireCheck) resource(msg []byte) bool {
	var seen fields
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.ResAttributes:
			if f.Type != otlpwire.Bytes || !c.keyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.ResDropped:
			if f.Type != otlpwire.Varint || !seen.once(f.Num) {
				return false
			}
		case otlpwire.ResEntityRefs:
			if f.Type != otlpwire.Bytes || !entityRef(f.Bytes) {
				return false
			}
		default:
			if !plain(&f) {
				return false
			}
		}
	}
	return r.Err() == nil
}

func entityRef(msg []byte) bool {
	var seen fields
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case 1, 2: // schema_url, type
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return false
			}
		case 3, 4: // id_keys, description_keys
			if f.Type != otlpwire.Bytes {
				return false
			}
		default:
			if !plain(&f) {
				return false
			}
		}
	}
	return r.Err() == nil
}

// scopeItems checks a ScopeSpans or ScopeLogs and counts its items; one without any is not ok.
func (c *wireCheck) scopeItems(msg []byte) (int, bool) {
	var seen fields
	n := 0
	var scope, schema []byte // for the index
	if c.idx != nil {
		c.group = int32(len(c.idx.Groups))
		c.idx.Groups = append(c.idx.Groups, otlpwire.ItemGroup{})
	}
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.ScopeScope:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) || !c.scope(f.Bytes) {
				return 0, false
			}
			scope = f.Bytes
		case otlpwire.ScopeItems:
			if f.Type != otlpwire.Bytes {
				return 0, false
			}
			var ok bool
			if c.traces {
				ok = c.span(f.Bytes)
			} else {
				ok = c.logRecord(f.Bytes)
			}
			if !ok {
				return 0, false
			}
			n++
		case otlpwire.ScopeSchemaURL:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return 0, false
			}
			schema = f.Bytes
		default:
			if !plain(&f) {
				return 0, false
			}
		}
	}
	if r.Err() != nil || n == 0 {
		return 0, false
	}
	if c.idx != nil {
		g := &c.idx.Groups[c.group]
		g.Scope, g.ScopeSchema = scope, schema
	}
	return n, true
}

func (c *wireCheck) scope(msg []byte) bool {
	var seen fields
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.ScopeName, otlpwire.ScopeVersion:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return false
			}
		case otlpwire.ScopeAttributes:
			if f.Type != otlpwire.Bytes || !c.keyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.ScopeDropped:
			if f.Type != otlpwire.Varint || !seen.once(f.Num) {
				return false
			}
		default:
			if !plain(&f) {
				return false
			}
		}
	}
	return r.Err() == nil
}

// validID reports whether id has size bytes, not all zeros.
func validID(id []byte, size int) bool {
	if len(id) != size {
		return false
	}
	for _, b := range id {
		if b != 0 {
			return true
		}
	}
	return false
}

// spanTypes is the wire type of each Span field, by number; 0xff marks a number that is not a field.
var spanTypes = [...]otlpwire.Type{
	0xff,
	otlpwire.Bytes, otlpwire.Bytes, otlpwire.Bytes, otlpwire.Bytes, otlpwire.Bytes, // 1-5
	otlpwire.Varint, otlpwire.Fixed64, otlpwire.Fixed64, otlpwire.Bytes, otlpwire.Varint, // 6-10
	otlpwire.Bytes, otlpwire.Varint, otlpwire.Bytes, otlpwire.Varint, otlpwire.Bytes, // 11-15
	otlpwire.Fixed32, // 16
}

// spanRepeated marks the repeated fields of Span: attributes, events, links.
const spanRepeated = 1<<otlpwire.SpanAttributes | 1<<otlpwire.SpanEvents | 1<<otlpwire.SpanLinks

func (c *wireCheck) span(msg []byte) bool {
	var seen fields
	var key otlpwire.SpanKey // for the index
	var start int64
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num >= uint32(len(spanTypes)) {
			if !plain(&f) {
				return false
			}
			continue
		}
		if f.Type != spanTypes[f.Num] {
			return false
		}
		if spanRepeated&(1<<f.Num) == 0 && !seen.once(f.Num) {
			return false
		}
		switch f.Num {
		case otlpwire.SpanTraceID:
			if !validID(f.Bytes, 16) {
				return false
			}
			key.TraceID = [16]byte(f.Bytes)
		case otlpwire.SpanName:
			key.Name = f.Bytes
		case otlpwire.SpanKind:
			key.Kind = uint32(int32(f.Value))
		case otlpwire.SpanStart:
			start = int64(f.Value)
		case otlpwire.SpanSpanID:
			if !validID(f.Bytes, 8) {
				return false
			}
			key.SpanID = [8]byte(f.Bytes)
		case otlpwire.SpanEnd:
			key.End = int64(f.Value)
		case otlpwire.SpanParentSpanID:
			if len(f.Bytes) != 0 && len(f.Bytes) != 8 {
				return false
			}
		case otlpwire.SpanAttributes:
			if !c.keyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.SpanEvents:
			if !c.event(f.Bytes) {
				return false
			}
		case otlpwire.SpanLinks:
			if !c.link(f.Bytes) {
				return false
			}
		case otlpwire.SpanStatus:
			code, ok := spanStatus(f.Bytes)
			if !ok {
				return false
			}
			key.Status = code
		}
	}
	// Without a trace_id or span_id field, the ID is empty: invalid.
	if r.Err() != nil || seen&(1<<otlpwire.SpanTraceID|1<<otlpwire.SpanSpanID) != 1<<otlpwire.SpanTraceID|1<<otlpwire.SpanSpanID {
		return false
	}
	if c.idx != nil {
		key.NameH = otlpwire.HashName(key.Name)
		c.idx.Items = append(c.idx.Items, otlpwire.Item{Msg: msg, TS: start, Group: c.group})
		c.idx.Spans = append(c.idx.Spans, key)
	}
	return true
}

func (c *wireCheck) event(msg []byte) bool {
	var seen fields
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.EventTime:
			if f.Type != otlpwire.Fixed64 || !seen.once(f.Num) {
				return false
			}
		case otlpwire.EventName:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return false
			}
		case otlpwire.EventAttributes:
			if f.Type != otlpwire.Bytes || !c.keyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.EventDroppedAttrs:
			if f.Type != otlpwire.Varint || !seen.once(f.Num) {
				return false
			}
		default:
			if !plain(&f) {
				return false
			}
		}
	}
	return r.Err() == nil
}

func (c *wireCheck) link(msg []byte) bool {
	var seen fields
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.LinkTraceID:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) || !validID(f.Bytes, 16) {
				return false
			}
		case otlpwire.LinkSpanID:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) || !validID(f.Bytes, 8) {
				return false
			}
		case otlpwire.LinkTraceState:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return false
			}
		case otlpwire.LinkAttributes:
			if f.Type != otlpwire.Bytes || !c.keyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.LinkDroppedAttrs:
			if f.Type != otlpwire.Varint || !seen.once(f.Num) {
				return false
			}
		case otlpwire.LinkFlags:
			if f.Type != otlpwire.Fixed32 || !seen.once(f.Num) {
				return false
			}
		default:
			if !plain(&f) {
				return false
			}
		}
	}
	return r.Err() == nil && seen&(1<<otlpwire.LinkTraceID|1<<otlpwire.LinkSpanID) == 1<<otlpwire.LinkTraceID|1<<otlpwire.LinkSpanID
}

// spanStatus checks a Status message and returns its code.
func spanStatus(msg []byte) (uint32, bool) {
	var seen fields
	var code uint32
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.StatusMessage:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return 0, false
			}
		case otlpwire.StatusCode:
			if f.Type != otlpwire.Varint || !seen.once(f.Num) {
				return 0, false
			}
			code = uint32(int32(f.Value))
		default:
			if !plain(&f) {
				return 0, false
			}
		}
	}
	return code, r.Err() == nil
}

// logTypes is the wire type of each LogRecord field, by number; 0xff marks a number that is not a field.
var logTypes = [...]otlpwire.Type{
	0xff,
	otlpwire.Fixed64, otlpwire.Varint, otlpwire.Bytes, 0xff, otlpwire.Bytes, // 1-5
	otlpwire.Bytes, otlpwire.Varint, otlpwire.Fixed32, otlpwire.Bytes, otlpwire.Bytes, // 6-10
	otlpwire.Fixed64, otlpwire.Bytes, // 11-12
}

func (c *wireCheck) logRecord(msg []byte) bool {
	var seen fields
	var ts, observed int64 // for the index
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num >= uint32(len(logTypes)) || logTypes[f.Num] == 0xff {
			if !plain(&f) {
				return false
			}
			continue
		}
		if f.Type != logTypes[f.Num] {
			return false
		}
		if f.Num != otlpwire.LogAttributes && !seen.once(f.Num) {
			return false
		}
		switch f.Num {
		case otlpwire.LogTime:
			ts = int64(f.Value)
		case otlpwire.LogObservedTime:
			observed = int64(f.Value)
		case otlpwire.LogBody:
			if !c.anyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.LogAttributes:
			if !c.keyValue(f.Bytes, 0) {
				return false
			}
		case otlpwire.LogTraceID:
			// Empty and all-zero IDs are valid on a log record ("not in a trace").
			if len(f.Bytes) != 0 && len(f.Bytes) != 16 {
				return false
			}
		case otlpwire.LogSpanID:
			if len(f.Bytes) != 0 && len(f.Bytes) != 8 {
				return false
			}
		}
	}
	if r.Err() != nil {
		return false
	}
	if c.idx != nil {
		if ts == 0 {
			ts = observed
		}
		c.idx.Items = append(c.idx.Items, otlpwire.Item{Msg: msg, TS: ts, Group: c.group})
	}
	return true
}

// keyValue checks a KeyValue whose value sits depth arrays or maps deep.
func (c *wireCheck) keyValue(msg []byte, depth int) bool {
	// Fast paths for the usual encodings: a key and a value, each shorter than 128 bytes, nothing else; the
	// key first (protobuf-go, the SDKs) or the value first (pdata writes fields in reverse).
	if len(msg) >= 2 && msg[1] < 0x80 && int(msg[1]) <= len(msg)-2 {
		first, rest := msg[2:2+int(msg[1])], msg[2+int(msg[1]):]
		switch msg[0] {
		case 1<<3 | byte(otlpwire.Bytes): // key
			if len(rest) == 0 {
				return true
			}
			if len(rest) >= 2 && rest[0] == 2<<3|byte(otlpwire.Bytes) && rest[1] < 0x80 && int(rest[1]) == len(rest)-2 {
				return c.anyValue(rest[2:], depth)
			}
		case 2<<3 | byte(otlpwire.Bytes): // value
			if len(rest) >= 2 && rest[0] == 1<<3|byte(otlpwire.Bytes) && rest[1] < 0x80 && int(rest[1]) == len(rest)-2 {
				return c.anyValue(first, depth)
			}
		}
	}
	var seen fields
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.KVKey:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) {
				return false
			}
		case otlpwire.KVValue:
			if f.Type != otlpwire.Bytes || !seen.once(f.Num) || !c.anyValue(f.Bytes, depth) {
				return false
			}
		case kvKeyStrindex:
			return false
		default:
			if !plain(&f) {
				return false
			}
		}
	}
	return r.Err() == nil
}

// anyValue checks an AnyValue depth arrays or maps deep: one member at most, strings and bytes within the
// limit.
func (c *wireCheck) anyValue(msg []byte, depth int) bool {
	if depth > maxWireDepth {
		return false
	}
	// Fast paths for a value that is one scalar field (string shorter than 128 bytes, bool, int, double).
	if len(msg) >= 2 {
		switch msg[0] {
		case 1<<3 | byte(otlpwire.Bytes): // string_value
			if msg[1] < 0x80 && int(msg[1]) == len(msg)-2 {
				return len(msg)-2 <= c.maxAttr
			}
		case 2<<3 | byte(otlpwire.Varint), 3<<3 | byte(otlpwire.Varint): // bool_value, int_value
			if len(msg) <= 10 && msg[len(msg)-1] < 0x80 && continued(msg[1:len(msg)-1]) {
				return true // a varint of at most 9 bytes ends the message
			}
		case 4<<3 | byte(otlpwire.Fixed64): // double_value
			if len(msg) == 9 {
				return true
			}
		}
	}
	members := 0
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		switch f.Num {
		case otlpwire.AnyString, otlpwire.AnyBytes:
			if f.Type != otlpwire.Bytes || len(f.Bytes) > c.maxAttr {
				return false
			}
		case otlpwire.AnyBool, otlpwire.AnyInt:
			if f.Type != otlpwire.Varint {
				return false
			}
		case otlpwire.AnyDouble:
			if f.Type != otlpwire.Fixed64 {
				return false
			}
		case otlpwire.AnyArray:
			if f.Type != otlpwire.Bytes || !c.array(f.Bytes, depth+1) {
				return false
			}
		case otlpwire.AnyKvlist:
			if f.Type != otlpwire.Bytes || !c.kvlist(f.Bytes, depth+1) {
				return false
			}
		case anyStrindex:
			return false
		default:
			if !plain(&f) {
				return false
			}
			continue
		}
		if members++; members > 1 {
			return false
		}
	}
	return r.Err() == nil
}

func (c *wireCheck) array(msg []byte, depth int) bool {
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num != otlpwire.ListValues {
			if !plain(&f) {
				return false
			}
			continue
		}
		if f.Type != otlpwire.Bytes || !c.anyValue(f.Bytes, depth) {
			return false
		}
	}
	return r.Err() == nil
}

func (c *wireCheck) kvlist(msg []byte, depth int) bool {
	r := otlpwire.NewReader(msg)
	var f otlpwire.Field
	for r.Next(&f) {
		if f.Num != otlpwire.ListValues {
			if !plain(&f) {
				return false
			}
			continue
		}
		if f.Type != otlpwire.Bytes || !c.keyValue(f.Bytes, depth) {
			return false
		}
	}
	return r.Err() == nil
}

// continued reports whether every byte of b has the varint continuation bit.
func continued(b []byte) bool {
	for _, x := range b {
		if x < 0x80 {
			return false
		}
	}
	return true
}
