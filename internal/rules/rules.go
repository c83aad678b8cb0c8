package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// Options configures a Manager.
type Options struct {
	// Files are rule file paths or globs (filepath.Glob). A glob that matches nothing is not an error; a
	// named file that does not exist is.
	Files []string
	// Interval is how often each group is evaluated when its file sets no interval. Default 1 min.
	Interval time.Duration
	// Alertmanagers are the base URLs of the Alertmanagers to notify, e.g. http://127.0.0.1:9093.
	Alertmanagers []string
	// ExternalURL is where otlpd is reached from outside: alerts link back to it ("generatorURL").
	ExternalURL string

	Engine     promql.QueryEngine
	Queryable  storage.Queryable
	Appendable storage.AppendableV2
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: no metrics
}

// Manager evaluates the rules of Options.Files. Safe for concurrent use.
type Manager struct {
	opts     Options
	mgr      *rules.Manager
	notifier *alertSender
	cancel   context.CancelFunc
}

// New loads the rule files and returns a manager ready to Run. An error names the file and what is wrong in
// it.
func New(opts Options) (*Manager, error) {
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ExternalURL == "" {
		opts.ExternalURL = "http://localhost:4320"
	}
	ext, err := url.Parse(opts.ExternalURL)
	if err != nil {
		return nil, fmt.Errorf("rules: external URL %q: %w", opts.ExternalURL, err)
	}
	n, err := newNotifier(opts.Alertmanagers, opts.Logger, opts.Registerer)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{opts: opts, notifier: n, cancel: cancel}
	m.mgr = rules.NewManager(&rules.ManagerOptions{
		ExternalURL:  ext,
		QueryFunc:    rules.EngineQueryFunc(opts.Engine, opts.Queryable),
		NotifyFunc:   rules.SendAlerts(n, opts.ExternalURL),
		Context:      ctx,
		AppendableV2: opts.Appendable,
		Queryable:    opts.Queryable,
		Logger:       opts.Logger,
		Registerer:   opts.Registerer,
		// Alert state is not persisted: after a restart, alerts with `for` start pending again.
		OutageTolerance: time.Hour,
		ForGracePeriod:  10 * time.Minute,
		ResendDelay:     time.Minute,
	})
	if err := m.Reload(); err != nil {
		cancel()
		return nil, err
	}
	return m, nil
}

// files expands the globs of Options.Files.
func (m *Manager) files() ([]string, error) {
	var out []string
	for _, pat := range m.opts.Files {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("rules: file pattern %q: %w", pat, err)
		}
		if matches == nil && !hasMeta(pat) {
			return nil, fmt.Errorf("rules: rule file %s does not exist", pat)
		}
		out = append(out, matches...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func hasMeta(p string) bool {
	for _, c := range p {
		if c == '*' || c == '?' || c == '[' || c == '\\' {
			return true
		}
	}
	return false
}

// Reload re-reads the rule files. When one fails to load, the rules stay as they were and the error names
// every problem found.
func (m *Manager) Reload() error {
	files, err := m.files()
	if err != nil {
		return err
	}
	// LoadGroups reports the problems of each file; Update would only log them.
	if _, errs := m.mgr.LoadGroups(m.opts.Interval, labels.EmptyLabels(), m.opts.ExternalURL, nil, false, files...); len(errs) > 0 {
		return fmt.Errorf("rules: %w", errors.Join(errs...))
	}
	if err := m.mgr.Update(m.opts.Interval, files, labels.EmptyLabels(), m.opts.ExternalURL, nil); err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	m.opts.Logger.Info("rules loaded", "files", len(files), "groups", len(m.mgr.RuleGroups()))
	return nil
}

// Run evaluates the rules and sends notifications until ctx ends.
func (m *Manager) Run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		m.notifier.run(ctx)
		close(done)
	}()
	go m.mgr.Run()
	<-ctx.Done()
	m.mgr.Stop()
	m.cancel()
	<-done
}

// RuleGroups returns the loaded groups, for the rules API.
func (m *Manager) RuleGroups() []*rules.Group { return m.mgr.RuleGroups() }

// AlertingRules returns the alerting rules, for the alerts API.
func (m *Manager) AlertingRules() []*rules.AlertingRule { return m.mgr.AlertingRules() }
