package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocumentedDefaults loads the YAML file shown in docs/configuration.md: it must parse (no unknown or
// misspelt key) and give exactly the defaults, so the page cannot drift from the code.
func TestDocumentedDefaults(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "## The YAML file")
	if !ok {
		t.Fatal(`docs/configuration.md has no "## The YAML file" section`)
	}
	_, block, ok := strings.Cut(after, "```yaml\n")
	if !ok {
		t.Fatal("no yaml block in the section")
	}
	block, _, _ = strings.Cut(block, "```")
	path := filepath.Join(t.TempDir(), "otlpd.yaml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatalf("the documented file does not load: %v", err)
	}
	// Printed, an empty list and a missing one are the same, as they are to otlpd.
	if got, want := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", Default()); got != want {
		t.Errorf("the documented file differs from the defaults:\n got  %s\n want %s", got, want)
	}
}
