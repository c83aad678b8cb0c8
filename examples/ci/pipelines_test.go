package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The pipelines cannot run here (no Jenkins, no GitHub runner), so these tests check that they parse and that
// every command they run exists: the otlpd build target, each `otlpd serve` flag, the test they invoke, and
// the environment that test reads.

const repoRoot = "../.."

// serveFlags reads the flag names that `otlpd serve` defines.
func serveFlags(t *testing.T) map[string]bool {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "cmd/otlpd/serve.go"))
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`fs\.(?:String|Bool|Int|Duration)\("([a-z0-9-]+)"`).FindAllStringSubmatch(string(src), -1) {
		flags[m[1]] = true
	}
	if len(flags) < 3 {
		t.Fatalf("found only %d serve flags in cmd/otlpd/serve.go; did its flag style change?", len(flags))
	}
	return flags
}

// checkCommands verifies the shell commands a pipeline runs.
func checkCommands(t *testing.T, what string, script string) {
	t.Helper()
	if !strings.Contains(script, "go build -o bin/otlpd ./cmd/otlpd") {
		t.Errorf("%s does not build otlpd", what)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "cmd/otlpd/main.go")); err != nil {
		t.Errorf("%s builds ./cmd/otlpd: %v", what, err)
	}
	serve := regexp.MustCompile(`bin/otlpd serve([^\n>&]*)`).FindStringSubmatch(script)
	if serve == nil {
		t.Fatalf("%s does not start `bin/otlpd serve`", what)
	}
	flags := serveFlags(t)
	used := regexp.MustCompile(`--([a-z0-9-]+)`).FindAllStringSubmatch(serve[1], -1)
	if len(used) == 0 {
		t.Errorf("%s: otlpd serve without flags", what)
	}
	for _, f := range used {
		if !flags[f[1]] {
			t.Errorf("%s passes --%s, which otlpd serve does not define (has %v)", what, f[1], flags)
		}
	}
	run := regexp.MustCompile(`go test (\./[^\s]+) -run (\w+)`).FindStringSubmatch(script)
	if run == nil {
		t.Fatalf("%s does not run the integration test", what)
	}
	pkg := filepath.Join(repoRoot, strings.TrimSuffix(run[1], "/"))
	src, err := os.ReadFile(filepath.Join(pkg, "telemetry_test.go"))
	if err != nil || !strings.Contains(string(src), "func "+run[2]+"(t *testing.T)") {
		t.Errorf("%s runs %s in %s, which does not exist there (%v)", what, run[2], run[1], err)
	}
	for _, env := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTLPD_QUERY_URL", "OTLPD_WAIT"} {
		if !strings.Contains(script, env) {
			t.Errorf("%s does not set %s", what, env)
		}
	}
	if !strings.Contains(script, "/readyz") {
		t.Errorf("%s does not wait for otlpd to answer", what)
	}
}

func TestGitHubActionsWorkflow(t *testing.T) {
	raw, err := os.ReadFile("github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Name string         `yaml:"name"`
		On   map[string]any `yaml:"on"`
		Jobs map[string]struct {
			RunsOn string            `yaml:"runs-on"`
			Env    map[string]string `yaml:"env"`
			Steps  []struct {
				Name string         `yaml:"name"`
				Uses string         `yaml:"uses"`
				Run  string         `yaml:"run"`
				If   string         `yaml:"if"`
				With map[string]any `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatalf("github-actions.yml does not parse: %v", err)
	}
	job, ok := wf.Jobs["integration"]
	if !ok || job.RunsOn == "" || len(job.Steps) < 5 || len(wf.On) == 0 {
		t.Fatalf("workflow lacks an integration job with a runner, steps and triggers: %+v", wf)
	}
	var script strings.Builder
	for k, v := range job.Env {
		script.WriteString(k + "=" + v + "\n")
	}
	stopAlways := false
	for _, s := range job.Steps {
		if s.Uses == "" && s.Run == "" {
			t.Errorf("step %q neither uses an action nor runs a command", s.Name)
		}
		script.WriteString(s.Run + "\n")
		if strings.Contains(s.Run, "kill") && s.If == "always()" {
			stopAlways = true
		}
	}
	if !stopAlways {
		t.Error("otlpd is not stopped in an always() step")
	}
	checkCommands(t, "github-actions.yml", script.String())
}

func TestJenkinsfile(t *testing.T) {
	raw, err := os.ReadFile("Jenkinsfile")
	if err != nil {
		t.Fatal(err)
	}
	src := string(raw)
	depth := 0
	for i, c := range src {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth < 0 {
			t.Fatalf("Jenkinsfile: unbalanced '}' at byte %d", i)
		}
	}
	if depth != 0 {
		t.Fatalf("Jenkinsfile: %d unclosed '{'", depth)
	}
	for _, want := range []string{"pipeline {", "stages {", "post {", "always {", "archiveArtifacts"} {
		if !strings.Contains(src, want) {
			t.Errorf("Jenkinsfile lacks %q", want)
		}
	}
	// The shell commands: sh '…' and sh '''…''' blocks, plus the environment block.
	var script strings.Builder
	for _, m := range regexp.MustCompile(`(?s)sh '''(.*?)'''|sh '([^'\n]*)'`).FindAllStringSubmatch(src, -1) {
		script.WriteString(m[1] + m[2] + "\n")
	}
	if env := regexp.MustCompile(`(?s)environment \{(.*?)\}`).FindStringSubmatch(src); env != nil {
		script.WriteString(env[1])
	} else {
		t.Error("Jenkinsfile has no environment block")
	}
	checkCommands(t, "Jenkinsfile", script.String())
}
