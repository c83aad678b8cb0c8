// Package otlpwire reads OTLP protobuf messages in place: a Reader walks the fields of one message without
// decoding it into objects or copying it, so the hot paths of ingest (validation, the storage engine's write
// and flush, span metrics) can work on the bytes of an export request as received. The field numbers of the
// OTLP messages (opentelemetry-proto, trace/v1, logs/v1, common/v1, resource/v1) are constants here.
//
// A Reader accepts what a protobuf decoder accepts: unknown fields of any wire type, groups included, are
// returned (groups as one field of type Group, skipped whole), and a message that ends inside a field is an
// error. Semantic rules (a field's expected wire type, repeated singular fields) are the caller's.
package otlpwire

import (
	"errors"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Type is a protobuf wire type.
type Type uint8

const (
	Varint  Type = 0
	Fixed64 Type = 1
	Bytes   Type = 2
	Group   Type = 3 // a whole group (start to end), skipped: Field.Bytes is empty
	Fixed32 Type = 5
)

// ErrMalformed reports bytes that are not a protobuf message.
var ErrMalformed = errors.New("malformed protobuf")

// Field is one field of a message.
type Field struct {
	Num   uint32
	Type  Type
	Value uint64 // Varint, Fixed64 and Fixed32 fields
	Bytes []byte // Bytes fields: a sub-slice of the message, not a copy
}

// Reader walks the fields of one message. The zero Reader is at the end of an empty message.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader at the first field of msg.
func NewReader(msg []byte) Reader { return Reader{b: msg} }

// Err returns the error that ended the walk, or nil at the end of a well-formed message.
func (r *Reader) Err() error { return r.err }

// Offset is the position in the message of the next field.
func (r *Reader) Offset() int { return r.off }

func (r *Reader) fail(what string) bool {
	r.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, what, r.off)
	r.off = len(r.b)
	return false
}

// uvarint reads a varint at r.off: one byte inline, longer ones in uvarintSlow.
func (r *Reader) uvarint() (uint64, bool) {
	if r.off < len(r.b) && r.b[r.off] < 0x80 {
		v := r.b[r.off]
		r.off++
		return uint64(v), true
	}
	return r.uvarintSlow()
}

func (r *Reader) uvarintSlow() (uint64, bool) {
	b := r.b[r.off:]
	if len(b) > 1 && b[1] < 0x80 {
		r.off += 2
		return uint64(b[0]&0x7f) | uint64(b[1])<<7, true
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, false
	}
	r.off += n
	return v, true
}

// Next reads the next field into f. It returns false at the end of the message or at an error (see Err).
func (r *Reader) Next(f *Field) bool {
	if r.off >= len(r.b) {
		return false
	}
	tag, ok := r.uvarint()
	if !ok {
		return r.fail("bad tag")
	}
	num, typ := tag>>3, Type(tag&7)
	if num == 0 || num > math.MaxInt32 {
		return r.fail("bad field number")
	}
	f.Num, f.Type, f.Value, f.Bytes = uint32(num), typ, 0, nil
	switch typ {
	case Varint:
		if f.Value, ok = r.uvarint(); !ok {
			return r.fail("bad varint")
		}
	case Fixed64:
		if len(r.b)-r.off < 8 {
			return r.fail("truncated fixed64")
		}
		b := r.b[r.off:]
		f.Value = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		r.off += 8
	case Fixed32:
		if len(r.b)-r.off < 4 {
			return r.fail("truncated fixed32")
		}
		b := r.b[r.off:]
		f.Value = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24
		r.off += 4
	case Bytes:
		n, ok := r.uvarint()
		if !ok {
			return r.fail("bad length")
		}
		if n > uint64(len(r.b)-r.off) {
			return r.fail("truncated field")
		}
		f.Bytes = r.b[r.off : r.off+int(n) : r.off+int(n)]
		r.off += int(n)
	case Group:
		n := protowire.ConsumeFieldValue(protowire.Number(num), protowire.StartGroupType, r.b[r.off:])
		if n < 0 {
			return r.fail("bad group")
		}
		r.off += n
	default:
		return r.fail("bad wire type")
	}
	return true
}

// Walk calls fn for each field of msg and returns the message's error, if any, or fn's first error.
func Walk(msg []byte, fn func(f *Field) error) error {
	r := NewReader(msg)
	var f Field
	for r.Next(&f) {
		if err := fn(&f); err != nil {
			return err
		}
	}
	return r.Err()
}
