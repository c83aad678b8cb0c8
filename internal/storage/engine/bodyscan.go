package engine

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// A log body that is not a string (a map, an array, a number...) is kept in the blob as an OTLP AnyValue, and
// a body-text search matches its string form (pcommon.Value.AsString: maps and arrays as compact JSON). Fully
// decoding such rows to test them costs far more than the search itself, so mayContain first walks the
// AnyValue's protobuf bytes and rules out, exactly, the bodies whose string form cannot hold the needle:
//
//	message AnyValue     { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3;
//	                       double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6;
//	                       bytes bytes_value = 7; } }
//	message ArrayValue   { repeated AnyValue values = 1; }
//	message KeyValueList { repeated KeyValue values = 1; }
//	message KeyValue     { string key = 1; AnyValue value = 2; }
//
// A needle without JSON punctuation ({}[]:,"\) lies within one token of the compact JSON: a key or string
// (verbatim when it is printable ASCII other than '"' and '\'), an integer (its decimal form), or true, false
// or null. Anything else (doubles, bytes in base64, strings JSON would escape, unknown or repeated fields,
// bytes that do not parse) answers "maybe", and the row is decoded and tested exactly.

// bodyNeedle is a body-text needle prepared for mayContain.
type bodyNeedle struct {
	b []byte
	// structural: the needle holds JSON punctuation, so it may span tokens of a map or array body.
	structural bool
}

func newBodyNeedle(s string) bodyNeedle {
	n := bodyNeedle{b: []byte(s)}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{', '}', '[', ']', ':', ',', '"', '\\':
			n.structural = true
		}
	}
	return n
}

// mayContain reports whether the string form of the AnyValue av can contain the needle; false is certain.
func (n *bodyNeedle) mayContain(av []byte) bool {
	if len(n.b) == 0 {
		return true
	}
	return n.value(av, true, 0)
}

const maxBodyDepth = 32

// value reports whether the string form of the AnyValue av (at the top level: AsString; nested: its JSON)
// may contain the needle.
func (n *bodyNeedle) value(av []byte, top bool, depth int) bool {
	if depth > maxBodyDepth {
		return true
	}
	if len(av) == 0 {
		// An empty value: "" at the top level, null inside JSON.
		return !top && bytes.Contains([]byte("null"), n.b)
	}
	field, wire, val, rest, err := protoField(av)
	if err != nil || len(rest) != 0 {
		return true // malformed, or several fields: decode it
	}
	var u uint64 // the value of a varint field
	if wire == 0 {
		_, kn := binary.Uvarint(av)
		u, _ = binary.Uvarint(av[kn:])
	}
	switch {
	case field == 1 && wire == 2: // string
		if top {
			return bytes.Contains(val, n.b)
		}
		return n.str(val)
	case field == 2 && wire == 0: // bool
		lit := "false"
		if u != 0 {
			lit = "true"
		}
		return bytes.Contains([]byte(lit), n.b)
	case field == 3 && wire == 0: // int64
		var buf [24]byte
		return bytes.Contains(strconv.AppendInt(buf[:0], int64(u), 10), n.b)
	case field == 5 && wire == 2: // array
		if n.structural {
			return true
		}
		return n.list(val, false, depth)
	case field == 6 && wire == 2: // map
		if n.structural {
			return true
		}
		return n.list(val, true, depth)
	}
	return true // double, bytes, or a field this walk does not know
}

// list walks an ArrayValue (kv false) or a KeyValueList (kv true).
func (n *bodyNeedle) list(msg []byte, kv bool, depth int) bool {
	for len(msg) > 0 {
		field, wire, val, rest, err := protoField(msg)
		if err != nil || field != 1 || wire != 2 {
			return true
		}
		msg = rest
		if !kv {
			if n.value(val, false, depth+1) {
				return true
			}
			continue
		}
		if n.keyValue(val, depth) {
			return true
		}
	}
	return false
}

// keyValue walks one KeyValue: its key, and its value (null when absent).
func (n *bodyNeedle) keyValue(msg []byte, depth int) bool {
	var key, value []byte
	haveKey, haveValue := false, false
	for len(msg) > 0 {
		field, wire, val, rest, err := protoField(msg)
		if err != nil || wire != 2 {
			return true
		}
		msg = rest
		switch {
		case field == 1 && !haveKey:
			key, haveKey = val, true
		case field == 2 && !haveValue:
			value, haveValue = val, true
		default:
			return true
		}
	}
	return n.str(key) || n.value(value, false, depth+1)
}

// str reports whether a JSON string with content s may contain the needle: s is written verbatim when it is
// printable ASCII other than '"' and '\'; otherwise JSON escapes some of it and the answer is "maybe".
func (n *bodyNeedle) str(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return true
		}
	}
	return bytes.Contains(s, n.b)
}

// logRecordBody returns the bytes of the body field (5) of an encoded LogRecord; ok is false when the record
// does not parse or holds the field more than once (the caller then decodes the row).
func logRecordBody(rec []byte) (body []byte, ok bool) {
	found := false
	for len(rec) > 0 {
		field, wire, val, rest, err := protoField(rec)
		if err != nil {
			return nil, false
		}
		if field == 5 {
			if found || wire != 2 {
				return nil, false
			}
			body, found = val, true
		}
		rec = rest
	}
	return body, true
}
