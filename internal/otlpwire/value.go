package otlpwire

import (
	"fmt"
	"math"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"google.golang.org/protobuf/encoding/protowire"
)

// Kind is the type of an AnyValue.
type Kind uint8

const (
	KindEmpty Kind = iota
	KindString
	KindBool
	KindInt
	KindDouble
	KindArray  // Value.Bytes is the ArrayValue message
	KindKvlist // Value.Bytes is the KeyValueList message
	KindBytes
)

// Value is an AnyValue read in place.
type Value struct {
	Kind  Kind
	Num   uint64 // bool (0 or 1), int (two's complement), double (IEEE 754 bits)
	Bytes []byte // string, bytes, or the ArrayValue or KeyValueList message
}

// Str returns a string value's bytes as a string that shares the message's memory: valid while the message
// is, and the message must not change.
func (v Value) Str() string { return unsafe.String(unsafe.SliceData(v.Bytes), len(v.Bytes)) }

// Int returns an int value.
func (v Value) Int() int64 { return int64(v.Num) }

// Double returns a double value.
func (v Value) Double() float64 { return math.Float64frombits(v.Num) }

// ReadValue reads an AnyValue message. Of several values set, the last wins (protobuf's rule for a oneof).
func ReadValue(msg []byte) (Value, error) {
	// The common encodings: one string (tag 0x0a, a one-byte length) or one int (tag 0x18, a varint).
	if len(msg) >= 2 {
		switch msg[0] {
		case 0x0a:
			if msg[1] < 0x80 && int(msg[1]) == len(msg)-2 {
				return Value{Kind: KindString, Bytes: msg[2:len(msg):len(msg)]}, nil
			}
		case 0x18:
			if v, n := protowire.ConsumeVarint(msg[1:]); n == len(msg)-1 {
				return Value{Kind: KindInt, Num: v}, nil
			}
		}
	}
	return readValue(msg)
}

// readValue is ReadValue without the fast paths.
func readValue(msg []byte) (Value, error) {
	var v Value
	r := NewReader(msg)
	var f Field
	for r.Next(&f) {
		var want Type
		switch f.Num {
		case AnyString, AnyArray, AnyKvlist, AnyBytes:
			want = Bytes
		case AnyBool, AnyInt:
			want = Varint
		case AnyDouble:
			want = Fixed64
		default:
			continue
		}
		if f.Type != want {
			return Value{}, fmt.Errorf("%w: AnyValue field %d has wire type %d", ErrMalformed, f.Num, f.Type)
		}
		switch f.Num {
		case AnyString:
			v = Value{Kind: KindString, Bytes: f.Bytes}
		case AnyBool:
			v = Value{Kind: KindBool, Num: min(f.Value, 1)}
		case AnyInt:
			v = Value{Kind: KindInt, Num: f.Value}
		case AnyDouble:
			v = Value{Kind: KindDouble, Num: f.Value}
		case AnyArray:
			v = Value{Kind: KindArray, Bytes: f.Bytes}
		case AnyKvlist:
			v = Value{Kind: KindKvlist, Bytes: f.Bytes}
		case AnyBytes:
			v = Value{Kind: KindBytes, Bytes: f.Bytes}
		}
	}
	return v, r.Err()
}

// ReadKeyValue reads a KeyValue message: its key and its value (an empty value when absent).
func ReadKeyValue(msg []byte) (key []byte, val []byte, err error) {
	// The common encodings: the key (tag 0x0a) and the value (tag 0x12), in either order (protobuf-go writes
	// fields in order, pdata in reverse), each with a one-byte length.
	if len(msg) >= 4 && msg[1] < 0x80 {
		k := 2 + int(msg[1])
		if k+2 <= len(msg) && msg[k+1] < 0x80 && k+2+int(msg[k+1]) == len(msg) {
			switch {
			case msg[0] == 0x0a && msg[k] == 0x12:
				return msg[2:k:k], msg[k+2:], nil
			case msg[0] == 0x12 && msg[k] == 0x0a:
				return msg[k+2:], msg[2:k:k], nil
			}
		}
	}
	return readKeyValue(msg)
}

// readKeyValue is ReadKeyValue without the fast path.
func readKeyValue(msg []byte) (key []byte, val []byte, err error) {
	r := NewReader(msg)
	var f Field
	for r.Next(&f) {
		switch f.Num {
		case KVKey, KVValue:
			if f.Type != Bytes {
				return nil, nil, fmt.Errorf("%w: KeyValue field %d has wire type %d", ErrMalformed, f.Num, f.Type)
			}
			if f.Num == KVKey {
				key = f.Bytes
			} else {
				val = f.Bytes
			}
		}
	}
	return key, val, r.Err()
}

// maxDepth bounds the nesting of arrays and maps that CopyTo follows.
const maxDepth = 64

// CopyTo sets dst to v, arrays and maps included (copied).
func (v Value) CopyTo(dst pcommon.Value) error { return v.copyTo(dst, 0) }

func (v Value) copyTo(dst pcommon.Value, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: values nested more than %d deep", ErrMalformed, maxDepth)
	}
	switch v.Kind {
	case KindEmpty:
		// A new Value is empty; an existing one is left as it is only if already empty.
		if dst.Type() != pcommon.ValueTypeEmpty {
			pcommon.NewValueEmpty().CopyTo(dst)
		}
	case KindString:
		dst.SetStr(string(v.Bytes))
	case KindBool:
		dst.SetBool(v.Num != 0)
	case KindInt:
		dst.SetInt(v.Int())
	case KindDouble:
		dst.SetDouble(v.Double())
	case KindBytes:
		dst.SetEmptyBytes().FromRaw(v.Bytes)
	case KindArray:
		sl := dst.SetEmptySlice()
		r := NewReader(v.Bytes)
		var f Field
		for r.Next(&f) {
			if f.Num != ListValues {
				continue
			}
			if f.Type != Bytes {
				return fmt.Errorf("%w: ArrayValue field 1 has wire type %d", ErrMalformed, f.Type)
			}
			ev, err := ReadValue(f.Bytes)
			if err != nil {
				return err
			}
			if err := ev.copyTo(sl.AppendEmpty(), depth+1); err != nil {
				return err
			}
		}
		return r.Err()
	case KindKvlist:
		return copyAttrs(v.Bytes, ListValues, dst.SetEmptyMap(), depth+1)
	}
	return nil
}

// CopyAttrs puts the KeyValue fields numbered field of msg in m. A key repeated in msg keeps its last value
// (pcommon.Map's Put rule; a decoded pdata map would hold both, so this serves string forms, not storage).
func CopyAttrs(msg []byte, field uint32, m pcommon.Map) error { return copyAttrs(msg, field, m, 0) }

func copyAttrs(msg []byte, field uint32, m pcommon.Map, depth int) error {
	r := NewReader(msg)
	var f Field
	for r.Next(&f) {
		if f.Num != field {
			continue
		}
		if f.Type != Bytes {
			return fmt.Errorf("%w: field %d has wire type %d", ErrMalformed, f.Num, f.Type)
		}
		k, raw, err := ReadKeyValue(f.Bytes)
		if err != nil {
			return err
		}
		val, err := ReadValue(raw)
		if err != nil {
			return err
		}
		if err := val.copyTo(m.PutEmpty(string(k)), depth); err != nil {
			return err
		}
	}
	return r.Err()
}
