package workload

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Options configures a Generator. The zero value is valid.
type Options struct {
	// Start is the first timestamp of every stream. The zero value means 2026-01-01T00:00:00Z, so that the
	// output depends on the seed alone; a load generator passes time.Now().
	Start time.Time
	// Rate is how many items per second the timestamps of spans and logs advance by. 0 means 10,000. Metric
	// timestamps advance by the export interval (10 s) per 1,000 x 100 points, whatever the rate.
	Rate float64
}

// DefaultStart is the first timestamp when Options.Start is zero.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// MetricInterval is the export interval of the metric stream: one point per series per interval.
const MetricInterval = 10 * time.Second

// SeriesPerResource is the number of metric series each resource exports.
const SeriesPerResource = 1000

// Resources is the number of distinct resources (20 services x 5 instances).
const Resources = numResources

// Generator produces the reference workload. It is not safe for concurrent use; give each goroutine its own
// Generator (with its own seed) or serialize the calls.
type Generator struct {
	voc     *vocabulary
	traces  *traceStream
	logs    *logStream
	metrics *metricStream
}

// New returns a generator whose output depends only on seed and opts.
func New(seed int64, opts Options) *Generator {
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	if opts.Rate <= 0 {
		opts.Rate = 10000
	}
	voc := newVocabulary(seed)
	return &Generator{
		voc:     voc,
		traces:  newTraceStream(voc, seed, opts.Start, opts.Rate),
		logs:    newLogStream(voc, seed, opts.Start, opts.Rate),
		metrics: newMetricStream(voc, seed, opts.Start),
	}
}

// vocabulary holds the strings and resources every stream shares; it is read-only after construction.
type vocabulary struct {
	resources    []resource
	routes       []string
	routeHasID   []bool
	queries      []string
	users        []string
	stacks       []string
	logTemplates [][]tmplPart
}

type resource struct {
	service  int
	instance int
	attrs    pcommon.Map // never modified; copied into each batch
	host     string
	port     int
}

func newVocabulary(seed int64) *vocabulary {
	rng := newRand(seed, 0x766f6361)
	v := &vocabulary{queries: queryTemplates(), stacks: stackTraces()}
	v.routes, v.routeHasID = routes()
	v.users = make([]string, numUsers)
	for i := range v.users {
		v.users[i] = "user-" + strconv.Itoa(10000+i)
	}
	for i, t := range logTemplates {
		v.logTemplates = append(v.logTemplates, parseTemplate(t))
		_ = i
	}
	archs := [...]string{"amd64", "arm64"}
	for s, name := range serviceNames {
		version := "1." + strconv.Itoa(rng.IntN(20)) + "." + strconv.Itoa(rng.IntN(10))
		for i := range instancesPerSvc {
			m := pcommon.NewMap()
			m.EnsureCapacity(12)
			id := hex(rng.Uint64()) + hex(rng.Uint64())
			host := name + "-" + hex(rng.Uint64())[:10]
			m.PutStr("service.name", name)
			m.PutStr("service.namespace", "shop")
			m.PutStr("service.version", version)
			m.PutStr("service.instance.id", id[:8]+"-"+id[8:12]+"-"+id[12:16]+"-"+id[16:20]+"-"+id[20:32])
			m.PutStr("host.name", host)
			m.PutStr("host.arch", archs[(s+i)%2])
			m.PutStr("os.type", "linux")
			m.PutInt("process.pid", int64(1+rng.IntN(65535)))
			m.PutStr("telemetry.sdk.name", "opentelemetry")
			m.PutStr("telemetry.sdk.language", "go")
			m.PutStr("telemetry.sdk.version", "1.38.0")
			m.PutStr("deployment.environment.name", "production")
			v.resources = append(v.resources, resource{service: s, instance: i, attrs: m, host: name, port: 8080 + s})
		}
	}
	return v
}

// resourceOf returns the index of instance i of service s.
func resourceOf(s, i int) int { return s*instancesPerSvc + i }

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream^0x9e3779b97f4a7c15))
}

// logNormal returns a log-normal sample with the given median and shape sigma.
func logNormal(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// pick returns an index drawn from weights (which sum to 1).
func pick(rng *rand.Rand, weights []float64) int {
	u := rng.Float64()
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

func hex(x uint64) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = digits[x&15]
		x >>= 4
	}
	return string(b[:])
}

// tmplPart is a literal or a placeholder of a log template.
type tmplPart struct {
	lit  string
	kind byte // 0 literal, 'd' number, 's' user
}

func parseTemplate(t string) []tmplPart {
	var parts []tmplPart
	lit := []byte{}
	for i := 0; i < len(t); i++ {
		if t[i] == '%' && i+1 < len(t) {
			switch t[i+1] {
			case '%':
				lit = append(lit, '%')
				i++
				continue
			case 'd', 's':
				if len(lit) > 0 {
					parts = append(parts, tmplPart{lit: string(lit)})
					lit = lit[:0]
				}
				parts = append(parts, tmplPart{kind: t[i+1]})
				i++
				continue
			}
		}
		lit = append(lit, t[i])
	}
	if len(lit) > 0 {
		parts = append(parts, tmplPart{lit: string(lit)})
	}
	return parts
}
