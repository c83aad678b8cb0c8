package otlpwire

import (
	"errors"
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/protobuf/encoding/protowire"
)

// sampleLogs is a LogsData with one record whose attributes hold every value type.
func sampleLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "checkout")
	rec := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	rec.Body().SetStr("hello")
	m := rec.Attributes()
	m.PutStr("s", "x")
	m.PutInt("i", -7)
	m.PutDouble("d", 1.5)
	m.PutBool("b", true)
	m.PutEmptyBytes("y").FromRaw([]byte{1, 2})
	sl := m.PutEmptySlice("a")
	sl.AppendEmpty().SetStr("p")
	sl.AppendEmpty().SetInt(3)
	mm := m.PutEmptyMap("m")
	mm.PutStr("k", "v")
	mm.PutEmptyMap("n").PutBool("t", false)
	m.PutEmpty("e")
	return ld
}

// recordAttrs walks a LogsData down to its first record's attributes field by field.
func recordAttrs(t *testing.T, raw []byte) []byte {
	t.Helper()
	path := []uint32{DataResources, ResourceScopes, ScopeItems}
	msg := raw
	for _, num := range path {
		var next []byte
		if err := Walk(msg, func(f *Field) error {
			if f.Num == num && next == nil {
				next = f.Bytes
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		msg = next
	}
	return msg
}

func TestValuesMatchPdata(t *testing.T) {
	ld := sampleLogs()
	raw, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	rec := recordAttrs(t, raw)
	got := pcommon.NewMap()
	if err := CopyAttrs(rec, LogAttributes, got); err != nil {
		t.Fatal(err)
	}
	want := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	if !got.Equal(want) {
		t.Fatalf("attributes differ:\n got %v\nwant %v", got.AsRaw(), want.AsRaw())
	}
	// Scalars read in place.
	var kinds []Kind
	Walk(rec, func(f *Field) error {
		if f.Num != LogAttributes {
			return nil
		}
		_, v, err := ReadKeyValue(f.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		val, err := ReadValue(v)
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, val.Kind)
		switch val.Kind {
		case KindString:
			if val.Str() != "x" {
				t.Errorf("string %q", val.Str())
			}
		case KindInt:
			if val.Int() != -7 {
				t.Errorf("int %d", val.Int())
			}
		case KindDouble:
			if val.Double() != 1.5 {
				t.Errorf("double %v", val.Double())
			}
		case KindBool:
			if val.Num != 1 {
				t.Errorf("bool %d", val.Num)
			}
		}
		return nil
	})
	wantKinds := []Kind{KindString, KindInt, KindDouble, KindBool, KindBytes, KindArray, KindKvlist, KindEmpty}
	if len(kinds) != len(wantKinds) {
		t.Fatalf("kinds %v, want %v", kinds, wantKinds)
	}
	for i := range kinds {
		if kinds[i] != wantKinds[i] {
			t.Fatalf("kinds %v, want %v", kinds, wantKinds)
		}
	}
}

func TestLastOneofWins(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, AnyString, protowire.BytesType)
	b = protowire.AppendString(b, "first")
	b = protowire.AppendTag(b, AnyDouble, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, math.Float64bits(2.5))
	v, err := ReadValue(b)
	if err != nil || v.Kind != KindDouble || v.Double() != 2.5 {
		t.Fatalf("got %+v, %v", v, err)
	}
	// Wrong wire type for a known field.
	bad := protowire.AppendTag(nil, AnyString, protowire.VarintType)
	bad = protowire.AppendVarint(bad, 1)
	if _, err := ReadValue(bad); !errors.Is(err, ErrMalformed) {
		t.Fatalf("wrong wire type: %v", err)
	}
}

func TestReaderErrors(t *testing.T) {
	for name, msg := range map[string][]byte{
		"truncated length":    {0x0a, 0x05, 'a'},
		"truncated fixed64":   {0x09, 1, 2, 3},
		"truncated fixed32":   {0x0d, 1},
		"field zero":          {0x00, 0x01},
		"bad wire type":       {0x0e},
		"unterminated varint": {0x08, 0x80},
		"unterminated group":  {0x0b},
	} {
		r := NewReader(msg)
		var f Field
		for r.Next(&f) {
		}
		if !errors.Is(r.Err(), ErrMalformed) {
			t.Errorf("%s: err %v", name, r.Err())
		}
	}
	// A well-formed group is skipped as one field.
	msg := protowire.AppendTag(nil, 4, protowire.StartGroupType)
	msg = protowire.AppendTag(msg, 1, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 9)
	msg = protowire.AppendTag(msg, 4, protowire.EndGroupType)
	msg = protowire.AppendTag(msg, 2, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 300)
	var got []Field
	if err := Walk(msg, func(f *Field) error { got = append(got, *f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Type != Group || got[1].Num != 2 || got[1].Value != 300 {
		t.Fatalf("fields %+v", got)
	}
}

// FuzzReader checks that the Reader never panics, never reads outside the message, and agrees with protowire
// on where each field ends.
func FuzzReader(f *testing.F) {
	raw, _ := (&plog.ProtoMarshaler{}).MarshalLogs(sampleLogs())
	f.Add(raw)
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("GET /")
	sp.Attributes().PutInt("n", 1)
	raw, _ = (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	f.Add(raw)
	f.Add([]byte{0x0b, 0x08, 0x01, 0x0c})
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := NewReader(msg)
		var fl Field
		off := 0
		for r.Next(&fl) {
			num, typ, n := protowire.ConsumeField(msg[off:])
			if n < 0 {
				t.Fatalf("reader accepted a field protowire rejects at %d", off)
			}
			if uint32(num) != fl.Num || (typ != protowire.Type(fl.Type) && fl.Type != Group) {
				t.Fatalf("field %d/%d, protowire %d/%d", fl.Num, fl.Type, num, typ)
			}
			off += n
			if r.Offset() != off {
				t.Fatalf("offset %d, protowire %d", r.Offset(), off)
			}
			if fl.Type == Bytes {
				if v, err := ReadValue(fl.Bytes); err == nil {
					v.CopyTo(pcommon.NewValueEmpty())
				}
			}
		}
		if r.Err() == nil && off != len(msg) {
			t.Fatalf("stopped at %d of %d without an error", off, len(msg))
		}
		if r.Err() != nil {
			if _, _, n := protowire.ConsumeField(msg[off:]); n >= 0 && off < len(msg) {
				// protowire accepts what the reader refused.
				t.Fatalf("reader refused a field protowire accepts at %d: %v", off, r.Err())
			}
		}
	})
}

// FuzzFastPaths checks that ReadValue and ReadKeyValue give what their general paths give.
func FuzzFastPaths(f *testing.F) {
	f.Add([]byte{0x0a, 0x01, 'x'})
	f.Add([]byte{0x18, 0x96, 0x01})
	f.Add([]byte{0x0a, 0x01, 'k', 0x12, 0x03, 0x0a, 0x01, 'v'})
	f.Add([]byte{0x0a, 0x85, 0x01, 0x12})
	f.Add([]byte{0x12, 0x03, 0x0a, 0x01, 'v', 0x0a, 0x01, 'k'})
	f.Fuzz(func(t *testing.T, msg []byte) {
		v1, err1 := ReadValue(msg)
		v2, err2 := readValue(msg)
		if (err1 == nil) != (err2 == nil) || v1.Kind != v2.Kind || v1.Num != v2.Num || string(v1.Bytes) != string(v2.Bytes) {
			t.Fatalf("ReadValue %+v, %v; general path %+v, %v", v1, err1, v2, err2)
		}
		k1, b1, err1 := ReadKeyValue(msg)
		k2, b2, err2 := readKeyValue(msg)
		if (err1 == nil) != (err2 == nil) || string(k1) != string(k2) || string(b1) != string(b2) {
			t.Fatalf("ReadKeyValue %q %x, %v; general path %q %x, %v", k1, b1, err1, k2, b2, err2)
		}
	})
}
