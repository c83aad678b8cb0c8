package coderws_test

import (
	"testing"

	"github.com/otlpd/otlpd/instrument/websocket/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
