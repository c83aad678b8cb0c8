package engine

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// A block's blob is one OTLP TracesData (or LogsData) holding one resource and one scope with the block's
// rows in order. Both messages have the same shape at the levels walked here:
//
//	message TracesData    { repeated ResourceSpans resource_spans = 1; }
//	message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
//	message ScopeSpans    { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
//	(LogsData, ResourceLogs, ScopeLogs: the same field numbers, with log_records = 2)
//
// rowRanges finds the bytes of each row without decoding it, so that a query decodes only the rows it needs.

var errBlob = errors.New("blob is not one resource and scope of rows")

// protoField reads one field's key and, for length-delimited fields, its bytes; it returns the rest of buf.
func protoField(buf []byte) (field uint64, wire uint64, val []byte, rest []byte, err error) {
	key, n := binary.Uvarint(buf)
	if n <= 0 {
		return 0, 0, nil, nil, errBlob
	}
	buf = buf[n:]
	field, wire = key>>3, key&7
	switch wire {
	case 0:
		_, n = binary.Uvarint(buf)
		if n <= 0 {
			return 0, 0, nil, nil, errBlob
		}
		return field, wire, nil, buf[n:], nil
	case 1:
		if len(buf) < 8 {
			return 0, 0, nil, nil, errBlob
		}
		return field, wire, nil, buf[8:], nil
	case 5:
		if len(buf) < 4 {
			return 0, 0, nil, nil, errBlob
		}
		return field, wire, nil, buf[4:], nil
	case 2:
		l, n := binary.Uvarint(buf)
		if n <= 0 || l > uint64(len(buf)-n) {
			return 0, 0, nil, nil, errBlob
		}
		return field, wire, buf[n : n+int(l)], buf[n+int(l):], nil
	}
	return 0, 0, nil, nil, errBlob
}

// onlyField returns the bytes of the single length-delimited field f of msg (other fields are skipped).
func onlyField(msg []byte, f uint64) ([]byte, error) {
	var out []byte
	found := false
	for len(msg) > 0 {
		field, wire, val, rest, err := protoField(msg)
		if err != nil {
			return nil, err
		}
		if field == f && wire == 2 {
			if found {
				return nil, errBlob
			}
			out, found = val, true
		}
		msg = rest
	}
	if !found {
		return nil, errBlob
	}
	return out, nil
}

// rowRanges returns, for each row of blob, its bytes (sub-slices of blob).
func rowRanges(blob []byte, n int) ([][]byte, error) {
	rs, err := onlyField(blob, 1)
	if err != nil {
		return nil, err
	}
	ss, err := onlyField(rs, 2)
	if err != nil {
		return nil, err
	}
	rows := make([][]byte, 0, n)
	for len(ss) > 0 {
		field, wire, val, rest, err := protoField(ss)
		if err != nil {
			return nil, err
		}
		if field == 2 && wire == 2 {
			rows = append(rows, val)
		}
		ss = rest
	}
	if len(rows) != n {
		return nil, errBlob
	}
	return rows, nil
}

func appendLenField(dst []byte, field uint64, n int) []byte {
	dst = binary.AppendUvarint(dst, field<<3|2)
	return binary.AppendUvarint(dst, uint64(n))
}

// selectRows builds a blob holding only the given rows, in the order given.
func selectRows(rows [][]byte, which []int) []byte {
	inner := 0
	for _, i := range which {
		inner += 1 + uvarintLen(uint64(len(rows[i]))) + len(rows[i])
	}
	ssLen := inner
	rsLen := 1 + uvarintLen(uint64(ssLen)) + ssLen
	out := make([]byte, 0, rsLen+16)
	out = appendLenField(out, 1, rsLen)
	out = appendLenField(out, 2, ssLen)
	for _, i := range which {
		out = appendLenField(out, 2, len(rows[i]))
		out = append(out, rows[i]...)
	}
	return out
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// rawFilterable reports whether an attribute whose string form (pcommon.Value.AsString) equals or contains
// v must be a string attribute, whose bytes then appear verbatim in the row's encoding: v is not a number, a
// boolean, base64 (bytes values) or JSON (maps and arrays).
func rawFilterable(v string) bool {
	if v == "" || v == "true" || v == "false" || strings.ContainsAny(v, "{}[]\"\\") {
		return false
	}
	if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
		return false
	}
	if len(v)%4 != 0 {
		return true // padded standard base64, the string form of bytes values, comes in fours
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return true
		}
	}
	return false
}
