//go:build !amd64

package engine

// prefetch does nothing on this architecture (see prefetch_amd64.go).
func prefetch(b []byte) {}
