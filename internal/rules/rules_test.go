package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocumentedRulesLoad loads the rule file shown in docs/alerting.md, so the example cannot rot.
func TestDocumentedRulesLoad(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "alerting.md"))
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, part := range strings.Split(string(doc), "```yaml\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		if strings.HasPrefix(body, "groups:") {
			block = body
		}
	}
	if block == "" {
		t.Fatal("docs/alerting.md shows no rule file")
	}
	path := filepath.Join(t.TempDir(), "doc.yml")
	if err := os.WriteFile(path, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := New(Options{Files: []string{path}})
	if err != nil {
		t.Fatalf("the documented rule file does not load: %v", err)
	}
	if g := m.RuleGroups(); len(g) != 1 || len(g[0].Rules()) != 3 {
		t.Errorf("groups %v, want one of three rules", g)
	}
	if len(m.AlertingRules()) != 2 {
		t.Errorf("%d alerting rules, want 2", len(m.AlertingRules()))
	}
	// Prometheus's own checker agrees (Debian's prometheus package ships promtool; CI installs it).
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skipf("promtool not installed (apt-get install prometheus): %v", err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}

func TestBadOptions(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]Options{
		"missing file":     {Files: []string{filepath.Join(dir, "nope.yml")}},
		"bad glob":         {Files: []string{"[" + dir}},
		"alertmanager URL": {Alertmanagers: []string{"127.0.0.1:9093"}},
	}
	for name, o := range cases {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	// A glob that matches nothing is fine: no rules yet.
	if _, err := New(Options{Files: []string{filepath.Join(dir, "*.yml")}}); err != nil {
		t.Errorf("empty glob: %v", err)
	}
}
