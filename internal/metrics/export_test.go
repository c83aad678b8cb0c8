package metrics

// SetRefCache turns the head-reference fast path of s on or off (for benchmarks comparing both paths).
func SetRefCache(s *Store, on bool) { s.noRefCache = !on }
