package main

import (
	"context"
	"fmt"
	"io"

	"github.com/otlpd/otlpd/internal/buildinfo"
)

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("version", "Print the version of this otlpd build.\n\nExample:\n  otlpd version", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	bi := buildinfo.Get()
	fmt.Fprintf(stdout, "otlpd %s (revision %s, %s)\n", bi.Version, orUnknown(bi.Revision), bi.GoVersion)
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
