package loki

import (
	"cmp"
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/otlpd/otlpd/internal/storage"
)

// series is one labelled series of a metric expression, with a value (or none) at each step.
type series struct {
	ls   labelSet
	vals []float64
	has  []bool
}

// value is what a metric expression evaluates to: a scalar or a set of series.
type value struct {
	scalar bool
	s      float64
	m      []*series
}

// evaluator evaluates a metric expression at n steps start, start+step, ...
type evaluator struct {
	a     *API
	ctx   context.Context
	start int64 // Unix ns
	step  int64
	n     int
	st    scanStats
}

func (ev *evaluator) at(i int) int64 { return ev.start + int64(i)*ev.step }

func (ev *evaluator) newSeries(ls labelSet) *series {
	return &series{ls: ls, vals: make([]float64, ev.n), has: make([]bool, ev.n)}
}

// metricQuery answers a metric query: a matrix for a range query, a vector (or scalar) for an instant one.
func (a *API) metricQuery(ctx context.Context, e Expr, start, end time.Time, step time.Duration, isRange bool) (any, *apiError) {
	began := time.Now()
	ev := &evaluator{a: a, ctx: ctx, start: start.UnixNano(), step: int64(step), n: 1}
	if isRange {
		ev.n = int(end.Sub(start)/step) + 1
	}
	v, aerr := ev.eval(e)
	if aerr != nil {
		return nil, aerr
	}
	resp := queryResponse{Status: "success", Data: queryData{Stats: ev.st.summary(began, 0)}}
	if ev.st.truncated {
		resp.Warnings = append(resp.Warnings, a.truncatedWarning())
	}
	if v.scalar {
		if !isRange {
			resp.Data.ResultType = "scalar"
			resp.Data.Result = point{ev.start, v.s}
			return resp, nil
		}
		s := ev.newSeries(nil)
		for i := range ev.n {
			s.vals[i], s.has[i] = v.s, true
		}
		v = value{m: []*series{s}}
	}
	slices.SortFunc(v.m, func(x, y *series) int { return cmp.Compare(x.ls.key(), y.ls.key()) })
	if isRange {
		out := []matrixSeries{}
		for _, s := range v.m {
			ms := matrixSeries{Metric: s.ls.toMap()}
			for i := range ev.n {
				if s.has[i] {
					ms.Values = append(ms.Values, point{ev.at(i), s.vals[i]})
				}
			}
			if len(ms.Values) > 0 {
				out = append(out, ms)
			}
		}
		resp.Data.ResultType, resp.Data.Result = "matrix", out
		return resp, nil
	}
	out := []vectorSample{}
	for _, s := range v.m {
		if s.has[0] {
			out = append(out, vectorSample{Metric: s.ls.toMap(), Value: point{ev.start, s.vals[0]}})
		}
	}
	resp.Data.ResultType, resp.Data.Result = "vector", out
	return resp, nil
}

type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values []point           `json:"values"`
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  point             `json:"value"`
}

// point is [<Unix seconds>, "<value>"], as the Prometheus API writes samples.
type point struct {
	t int64 // Unix ns
	v float64
}

func (p point) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	b = appendSeconds(b, p.t)
	b = append(b, ',', '"')
	b = appendFloat(b, p.v)
	return append(b, '"', ']'), nil
}

// appendSeconds writes Unix nanoseconds as seconds with up to millisecond precision.
func appendSeconds(b []byte, ns int64) []byte {
	ms := ns / int64(time.Millisecond)
	if ns < 0 && ns%int64(time.Millisecond) != 0 {
		ms--
	}
	sec, frac := ms/1000, ms%1000
	if frac < 0 {
		sec--
		frac += 1000
	}
	b = strconv.AppendInt(b, sec, 10)
	if frac != 0 {
		s := strconv.FormatInt(frac+1000, 10)[1:] // three digits
		for s[len(s)-1] == '0' {
			s = s[:len(s)-1]
		}
		b = append(b, '.')
		b = append(b, s...)
	}
	return b
}

func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func (ev *evaluator) eval(e Expr) (value, *apiError) {
	if err := ev.ctx.Err(); err != nil {
		return value{}, &apiError{err: err}
	}
	switch e := e.(type) {
	case *Literal:
		return value{scalar: true, s: e.V}, nil
	case *VectorLit:
		s := ev.newSeries(nil)
		for i := range ev.n {
			s.vals[i], s.has[i] = e.V, true
		}
		return value{m: []*series{s}}, nil
	case *RangeAgg:
		return ev.rangeAgg(e, nil)
	case *VectorAgg:
		if ra, ok := e.Inner.(*RangeAgg); ok && e.Op == "sum" {
			// A sum of counts (or bytes, or rates) by some labels is the count over the entries grouped by
			// those labels: group while counting, so that the labels left out never make series.
			inner, aerr := ev.rangeAgg(ra, e)
			if aerr != nil {
				return value{}, aerr
			}
			return value{m: ev.aggregate(e, inner.m)}, nil
		}
		inner, aerr := ev.eval(e.Inner)
		if aerr != nil {
			return value{}, aerr
		}
		return value{m: ev.aggregate(e, inner.m)}, nil
	case *Binary:
		l, aerr := ev.eval(e.L)
		if aerr != nil {
			return value{}, aerr
		}
		r, aerr := ev.eval(e.R)
		if aerr != nil {
			return value{}, aerr
		}
		return ev.binary(e, l, r), nil
	case *LogExpr:
		return value{}, badRequest("a log query cannot be used where a metric query is needed")
	}
	panic("BUG: unknown expression type")
}

// rangeAgg counts the entries (or their bytes) of each series in the window (t-range, t] of each step.
// With group (a sum), each entry counts in the series of its group's labels, which may name structured
// metadata too.
func (ev *evaluator) rangeAgg(e *RangeAgg, group *VectorAgg) (value, *apiError) {
	type acc struct {
		ls    labelSet
		ts    []int64
		bytes []int64
	}
	accs := map[string]*acc{}
	lo := ev.start - int64(e.Range) + 1
	hi := ev.at(ev.n - 1)
	// Each series holds a value per step: bound series times steps as well as series.
	maxSeries := min(ev.a.opts.MaxSeries, max(1, MaxSamples/ev.n))
	tooMany := false
	var scratch labelSet
	var key []byte
	err := ev.a.scan(ev.ctx, e.Log, lo, hi, storage.NewestFirst, 0, &ev.st, func(en *entry) bool {
		scratch = projectLabels(en, group, scratch[:0])
		key = scratch.appendKey(key[:0])
		a := accs[string(key)]
		if a == nil {
			if len(accs) == maxSeries {
				tooMany = true
				return false
			}
			a = &acc{ls: slices.Clone(scratch)}
			accs[string(key)] = a
		}
		a.ts = append(a.ts, en.ts)
		a.bytes = append(a.bytes, int64(len(en.line)))
		return true
	})
	if err != nil {
		return value{}, &apiError{err: err}
	}
	if tooMany {
		return value{}, &apiError{code: http.StatusBadRequest, msg: "the query has more than " + strconv.Itoa(maxSeries) + " series over " + strconv.Itoa(ev.n) + " steps; narrow the stream selector, aggregate with sum by (...) or increase step"}
	}
	out := make([]*series, 0, len(accs))
	secs := e.Range.Seconds()
	for _, a := range accs {
		// The scan ran newest first: reverse into time order (a stable order for equal times is not needed).
		idx := make([]int, len(a.ts))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(x, y int) int { return cmp.Compare(a.ts[x], a.ts[y]) })
		ts := make([]int64, len(idx))
		cum := make([]int64, len(idx)+1) // cum[i]: bytes of the first i entries
		for i, j := range idx {
			ts[i] = a.ts[j]
			cum[i+1] = cum[i] + a.bytes[j]
		}
		s := ev.newSeries(a.ls)
		l, h := 0, 0
		for i := range ev.n {
			t := ev.at(i)
			for h < len(ts) && ts[h] <= t {
				h++
			}
			for l < h && ts[l] <= t-int64(e.Range) {
				l++
			}
			count := h - l
			if count == 0 {
				continue
			}
			var v float64
			switch e.Op {
			case "count_over_time":
				v = float64(count)
			case "rate":
				v = float64(count) / secs
			case "bytes_over_time":
				v = float64(cum[h] - cum[l])
			case "bytes_rate":
				v = float64(cum[h]-cum[l]) / secs
			}
			s.vals[i], s.has[i] = v, true
		}
		out = append(out, s)
	}
	return value{m: out}, nil
}

// projectLabels appends to dst the labels an entry counts under: its series labels, or with a group
// those of its group (by: the named labels that have a value, looked up among every label of the entry).
func projectLabels(e *entry, group *VectorAgg, dst labelSet) labelSet {
	if group == nil || group.Without {
		dst = e.appendSeriesLabels(dst, true)
		if group != nil {
			dst = slices.DeleteFunc(dst, func(l label) bool { return slices.Contains(group.Grouping, l.Name) })
		}
		return dst
	}
	for _, n := range group.Grouping {
		if v, ok := e.get(n); ok && v != "" {
			dst = append(dst, label{n, v})
		}
	}
	return dst.sort()
}

// groupLabels is the label set of a series' group under a vector aggregation.
func groupLabels(a *VectorAgg, ls labelSet) labelSet {
	out := labelSet{}
	for _, l := range ls {
		if slices.Contains(a.Grouping, l.Name) != a.Without {
			out = append(out, l)
		}
	}
	return out
}

func (ev *evaluator) aggregate(a *VectorAgg, in []*series) []*series {
	if a.Op == "topk" || a.Op == "bottomk" {
		return ev.topk(a, in)
	}
	type group struct {
		out   *series
		count []float64
	}
	groups := map[string]*group{}
	var order []*group
	for _, s := range in {
		gl := groupLabels(a, s.ls)
		k := gl.key()
		g := groups[k]
		if g == nil {
			g = &group{out: ev.newSeries(gl), count: make([]float64, ev.n)}
			groups[k] = g
			order = append(order, g)
		}
		for i := range ev.n {
			if !s.has[i] {
				continue
			}
			v := s.vals[i]
			o := g.out
			if !o.has[i] {
				o.has[i] = true
				switch a.Op {
				case "count":
					o.vals[i] = 1
				default:
					o.vals[i] = v
				}
				g.count[i] = 1
				continue
			}
			g.count[i]++
			switch a.Op {
			case "sum", "avg":
				o.vals[i] += v
			case "count":
				o.vals[i]++
			case "min":
				if v < o.vals[i] || math.IsNaN(o.vals[i]) {
					o.vals[i] = v
				}
			case "max":
				if v > o.vals[i] || math.IsNaN(o.vals[i]) {
					o.vals[i] = v
				}
			}
		}
	}
	out := make([]*series, 0, len(order))
	for _, g := range order {
		if a.Op == "avg" {
			for i := range ev.n {
				if g.out.has[i] {
					g.out.vals[i] /= g.count[i]
				}
			}
		}
		out = append(out, g.out)
	}
	return out
}

// topk keeps, at each step and in each group, the k series with the largest (bottomk: smallest) values;
// the series keep their labels.
func (ev *evaluator) topk(a *VectorAgg, in []*series) []*series {
	groups := map[string][]int{}
	var keys []string
	for i, s := range in {
		k := groupLabels(a, s.ls).key()
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	out := make([]*series, len(in))
	for i, s := range in {
		out[i] = ev.newSeries(s.ls)
	}
	for i := range ev.n {
		for _, k := range keys {
			var cand []int
			for _, j := range groups[k] {
				if in[j].has[i] {
					cand = append(cand, j)
				}
			}
			slices.SortStableFunc(cand, func(x, y int) int {
				c := cmp.Compare(in[y].vals[i], in[x].vals[i])
				if a.Op == "bottomk" {
					c = -c
				}
				return c
			})
			for _, j := range cand[:min(a.Param, len(cand))] {
				out[j].vals[i], out[j].has[i] = in[j].vals[i], true
			}
		}
	}
	return slices.DeleteFunc(out, func(s *series) bool { return !slices.Contains(s.has, true) })
}

// binary applies an arithmetic or comparison operator: scalar with scalar, scalar with each series, or
// series with the series of the other side that has the same labels.
func (ev *evaluator) binary(b *Binary, l, r value) value {
	if l.scalar && r.scalar {
		v, keep := applyOp(b, l.s, r.s)
		if !keep {
			v = math.NaN()
		}
		return value{scalar: true, s: v}
	}
	if l.scalar || r.scalar {
		vec, sc := l.m, r.s
		if l.scalar {
			vec, sc = r.m, l.s
		}
		out := make([]*series, 0, len(vec))
		for _, s := range vec {
			o := ev.newSeries(s.ls)
			for i := range ev.n {
				if !s.has[i] {
					continue
				}
				x, y := s.vals[i], sc
				if l.scalar {
					x, y = sc, s.vals[i]
				}
				if v, keep := applyOp(b, x, y); keep {
					o.vals[i], o.has[i] = v, true
				}
			}
			out = append(out, o)
		}
		return value{m: out}
	}
	right := map[string]*series{}
	for _, s := range r.m {
		right[s.ls.key()] = s
	}
	var out []*series
	for _, s := range l.m {
		rs := right[s.ls.key()]
		if rs == nil {
			continue
		}
		o := ev.newSeries(s.ls)
		for i := range ev.n {
			if s.has[i] && rs.has[i] {
				if v, keep := applyOp(b, s.vals[i], rs.vals[i]); keep {
					o.vals[i], o.has[i] = v, true
				}
			}
		}
		out = append(out, o)
	}
	return value{m: out}
}

// applyOp returns x op y; for a comparison without bool, keep is false when it does not hold (and the
// value is x).
func applyOp(b *Binary, x, y float64) (v float64, keep bool) {
	var cond bool
	switch b.Op {
	case tAdd:
		return x + y, true
	case tSub:
		return x - y, true
	case tMul:
		return x * y, true
	case tDiv:
		return x / y, true
	case tMod:
		return math.Mod(x, y), true
	case tPow:
		return math.Pow(x, y), true
	case tEqEq:
		cond = x == y
	case tNeq:
		cond = x != y
	case tGtr:
		cond = x > y
	case tGte:
		cond = x >= y
	case tLss:
		cond = x < y
	case tLte:
		cond = x <= y
	}
	if b.Bool {
		if cond {
			return 1, true
		}
		return 0, true
	}
	return x, cond
}
