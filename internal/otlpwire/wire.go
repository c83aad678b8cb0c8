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
	"encoding/binary"
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

// Next reads the next field into f. It returns false at the end of the message or at an error (see Err).
func (r *Reader) Next(f *Field) bool {
	b := r.b[r.off:]
	if len(b) == 0 {
		return false
	}
	// Tags and lengths are almost always one byte: those paths avoid a call.
	tag, n := uint64(b[0]), 1
	if tag >= 0x80 {
		if tag, n = protowire.ConsumeVarint(b); n < 0 {
			return r.fail("bad tag")
		}
	}
	num, typ := tag>>3, Type(tag&7)
	if num == 0 || num > math.MaxInt32 {
		return r.fail("bad field number")
	}
	b = b[n:]
	f.Num, f.Type, f.Value, f.Bytes = uint32(num), typ, 0, nil
	switch typ {
	case Bytes:
		l, m := uint64(0), 1
		if len(b) > 0 && b[0] < 0x80 {
			l = uint64(b[0])
		} else if l, m = protowire.ConsumeVarint(b); m < 0 {
			return r.fail("bad length")
		}
		b = b[m:]
		if l > uint64(len(b)) {
			return r.fail("truncated field")
		}
		f.Bytes = b[:l:l]
		r.off = len(r.b) - len(b) + int(l)
	case Varint:
		v, m := uint64(0), 1
		if len(b) > 0 && b[0] < 0x80 {
			v = uint64(b[0])
		} else if v, m = protowire.ConsumeVarint(b); m < 0 {
			return r.fail("bad varint")
		}
		f.Value = v
		r.off = len(r.b) - len(b) + m
	case Fixed64:
		if len(b) < 8 {
			return r.fail("truncated fixed64")
		}
		f.Value = binary.LittleEndian.Uint64(b)
		r.off = len(r.b) - len(b) + 8
	case Fixed32:
		if len(b) < 4 {
			return r.fail("truncated fixed32")
		}
		f.Value = uint64(binary.LittleEndian.Uint32(b))
		r.off = len(r.b) - len(b) + 4
	case Group:
		m := protowire.ConsumeFieldValue(protowire.Number(num), protowire.StartGroupType, b)
		if m < 0 {
			return r.fail("bad group")
		}
		r.off = len(r.b) - len(b) + m
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
