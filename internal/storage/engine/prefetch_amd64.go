package engine

// prefetch asks the CPU to bring the cache lines of b in, without waiting for them: a flush reads the items of
// a head, which were last touched when they were written, in time order, and asks for the next ones while it
// reads the current one.
//
//go:noescape
func prefetch(b []byte)
