package engine

// Test helpers for the external test package (the end-to-end benchmarks, which import the server).
var (
	BenchTraces = benchTraces
	BenchLogs   = benchLogs
)
