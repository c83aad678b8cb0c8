package server

// Procs is the number of Go processors (GOMAXPROCS) otlpd serve runs with, given the runtime's default (the
// CPUs the process may use): one more.
//
// A goroutine in a system call keeps its processor until the runtime takes it back, which it does late (up to
// milliseconds) when it has been idle. The engine fsyncs its write-ahead log and writes parts all the time, and
// a processor held by an fsync waiting for the disk leaves a core idle while exports wait to be read: with two
// cores, ingest used 1.6 of them. One processor more lets the others run while one waits for the disk
// (BenchmarkIngest in internal/storage/engine: 0.51M -> 0.58M spans/s on 2 cores; 4 processors did no better
// than 3).
func Procs(defaultProcs int) int { return defaultProcs + 1 }
