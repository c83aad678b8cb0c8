package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// encodedBody returns the body field of rec's encoding, as the blob of a part holds it.
func encodedBody(t testing.TB, body pcommon.Value) []byte {
	ld := plog.NewLogs()
	rec := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	body.CopyTo(rec.Body())
	rec.SetSeverityText("INFO")
	buf, err := (&plog.ProtoMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := rowRanges(buf, 1)
	if err != nil {
		t.Fatal(err)
	}
	av, ok := logRecordBody(rows[0])
	if !ok {
		t.Fatalf("body of %x not found", rows[0])
	}
	return av
}

var bodyAlphabet = []string{"a", "b", "ok", "user", "7", "42", "-", " ", ".", "e", "true", "null", "fals", "\"", "\\",
	"\n", "{", "}", ":", ",", "[", "]", "é", "<", "&", "\u2028", "\xff", "n", "u00", "+", "/", "="}

func randBodyString(rng *rand.Rand) string {
	var b strings.Builder
	for range rng.IntN(6) {
		b.WriteString(bodyAlphabet[rng.IntN(len(bodyAlphabet))])
	}
	return b.String()
}

func randBodyValue(rng *rand.Rand, v pcommon.Value, depth int) {
	k := rng.IntN(9)
	if depth > 2 && k >= 6 {
		k = rng.IntN(6)
	}
	switch k {
	case 0:
		v.SetStr(randBodyString(rng))
	case 1:
		v.SetBool(rng.IntN(2) == 0)
	case 2:
		v.SetInt(rng.Int64N(2_000_000) - 1_000_000)
	case 3:
		v.SetDouble(rng.NormFloat64() * 1e6)
	case 4:
		v.SetEmptyBytes().FromRaw([]byte(randBodyString(rng)))
	case 5:
		// empty
	case 6, 7:
		m := v.SetEmptyMap()
		for range rng.IntN(4) {
			randBodyValue(rng, m.PutEmpty(randBodyString(rng)), depth+1)
		}
	default:
		s := v.SetEmptySlice()
		for range rng.IntN(4) {
			randBodyValue(rng, s.AppendEmpty(), depth+1)
		}
	}
}

// TestBodyMayContainSound checks, on random bodies and needles, that mayContain never rules out a body whose
// string form holds the needle, and that it rules out some bodies (else it would be useless).
func TestBodyMayContainSound(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ruledOut := 0
	for range 20_000 {
		v := pcommon.NewValueEmpty()
		randBodyValue(rng, v, 0)
		av := encodedBody(t, v)
		s := v.AsString()
		var needle string
		if len(s) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(s))
			needle = s[i : i+1+rng.IntN(len(s)-i)]
		} else {
			needle = randBodyString(rng)
		}
		if needle == "" {
			continue
		}
		n := newBodyNeedle(needle)
		may := n.mayContain(av)
		if strings.Contains(s, needle) && !may {
			t.Fatalf("seed %d: body %q (encoded %x) holds %q, but mayContain says no", seed, s, av, needle)
		}
		if !may {
			ruledOut++
		}
	}
	if ruledOut == 0 {
		t.Fatalf("seed %d: mayContain ruled out no body", seed)
	}
}

func TestBodyMayContainCases(t *testing.T) {
	m := pcommon.NewValueMap()
	m.Map().PutStr("event", "template-7")
	m.Map().PutInt("duration_ms", 1234)
	m.Map().PutStr("outcome", "ok")
	m.Map().PutEmpty("nothing")
	m.Map().PutBool("flag", true)
	av := encodedBody(t, m)
	for _, c := range []struct {
		needle string
		want   bool
	}{
		{"template-7", true}, {"emplat", true}, {"123", true}, {"duration", true}, {"null", true}, {"tru", true},
		{"zebra", false}, {"12345", false}, {"fals", false}, {"template-8", false},
		{`"ok"`, true}, // JSON punctuation: not ruled out
	} {
		n := newBodyNeedle(c.needle)
		if got := n.mayContain(av); got != c.want {
			t.Errorf("mayContain(%q) on %s = %v, want %v", c.needle, m.AsString(), got, c.want)
		}
	}
}

// FuzzBodyMayContain feeds arbitrary AnyValue encodings: whenever pdata decodes one, mayContain must not rule
// out a needle its string form holds, and it must never panic.
func FuzzBodyMayContain(f *testing.F) {
	m := pcommon.NewValueMap()
	m.Map().PutStr("k", "value")
	m.Map().PutEmptySlice("a").AppendEmpty().SetInt(-5)
	f.Add(encodedBody(f, m), "valu")
	f.Add([]byte{0x18, 0x7b}, "12")
	f.Add([]byte{0x32, 0x02, 0x0a, 0x00}, "null")
	f.Fuzz(func(t *testing.T, av []byte, needle string) {
		n := newBodyNeedle(needle)
		may := n.mayContain(av)
		var rec []byte
		rec = appendLenField(rec, 5, len(av))
		rec = append(rec, av...)
		var sl []byte
		sl = appendLenField(sl, 2, len(rec))
		sl = append(sl, rec...)
		var rl []byte
		rl = appendLenField(rl, 2, len(sl))
		rl = append(rl, sl...)
		var ld []byte
		ld = appendLenField(ld, 1, len(rl))
		ld = append(ld, rl...)
		logs, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(ld)
		if err != nil || logs.LogRecordCount() != 1 {
			return
		}
		s := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().AsString()
		if needle != "" && strings.Contains(s, needle) && !may {
			t.Fatalf("body %q (encoded %x) holds %q, but mayContain says no", s, av, needle)
		}
	})
}
