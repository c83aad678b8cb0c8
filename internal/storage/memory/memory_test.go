package memory_test

import (
	"testing"

	"github.com/otlpd/otlpd/internal/storage"
	"github.com/otlpd/otlpd/internal/storage/memory"
	"github.com/otlpd/otlpd/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, storagetest.Factory{
		Open: func(t *testing.T) storage.Backend { return memory.New(memory.Options{}) },
	})
}
