package query

import (
	"errors"
	"testing"
	"time"
)

func TestParseTraceID(t *testing.T) {
	f := func(in, want string, ok bool) {
		t.Helper()
		id, err := ParseTraceID(in)
		if (err == nil) != ok {
			t.Fatalf("ParseTraceID(%q) error %v, want ok=%v", in, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("error %v does not wrap ErrInvalid", err)
		}
		if ok && id.String() != want {
			t.Errorf("ParseTraceID(%q) = %s, want %s", in, id, want)
		}
	}
	f("4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736", true)
	f("4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e4736", true)
	f("2a", "0000000000000000000000000000002a", true)
	f("a3ce929d0e0e4736", "0000000000000000a3ce929d0e0e4736", true)
	f("", "", false)
	f("4bf92f3577b34da6a3ce929d0e0e47360", "", false)
	f("xyz", "", false)
	f("4bf92f3577b34da6 3ce929d0e0e4736", "", false)
}

func TestStep(t *testing.T) {
	r := TimeRange{Start: base, End: base.Add(time.Hour)}
	f := func(r TimeRange, step, want time.Duration, ok bool) {
		t.Helper()
		got, err := Step(r, step)
		if (err == nil) != ok || (ok && got != want) {
			t.Errorf("Step(%s, %s) = %s, %v; want %s ok=%v", r.End.Sub(r.Start), step, got, err, want, ok)
		}
	}
	f(r, 0, time.Minute, true)
	f(r, -1, time.Minute, true)
	f(r, 5*time.Minute, 5*time.Minute, true)
	f(TimeRange{Start: base, End: base.Add(24 * time.Hour)}, 0, 30*time.Minute, true)
	f(TimeRange{Start: base, End: base.Add(10 * time.Second)}, 0, time.Second, true)
	f(r, time.Millisecond, 0, false)
	f(TimeRange{Start: base, End: base}, 0, time.Second, true)
}

func TestPercentile(t *testing.T) {
	vals := []int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	for _, c := range []struct {
		p    float64
		want int64
	}{{50, 50}, {95, 100}, {99, 100}, {10, 10}, {11, 20}, {100, 100}, {0.1, 10}} {
		if got := Percentile(vals, c.p); got != c.want {
			t.Errorf("p%v = %d, want %d", c.p, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 || Percentile([]int64{7}, 99) != 7 {
		t.Error("edge cases")
	}
}
