package prom

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
)

// RuleSource is what the rules and alerts endpoints read: the rule manager (internal/rules).
type RuleSource interface {
	RuleGroups() []*rules.Group
	AlertingRules() []*rules.AlertingRule
}

type ruleGroupJSON struct {
	Name           string    `json:"name"`
	File           string    `json:"file"`
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type alertJSON struct {
	Labels      labels.Labels `json:"labels"`
	Annotations labels.Labels `json:"annotations"`
	State       string        `json:"state"`
	ActiveAt    *time.Time    `json:"activeAt,omitempty"`
	KeepFiring  *time.Time    `json:"keepFiringSince,omitempty"`
	Value       string        `json:"value"`
}

type alertingRuleJSON struct {
	State          string        `json:"state"`
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Duration       float64       `json:"duration"`
	KeepFiringFor  float64       `json:"keepFiringFor"`
	Labels         labels.Labels `json:"labels"`
	Annotations    labels.Labels `json:"annotations"`
	Alerts         []alertJSON   `json:"alerts"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

type recordingRuleJSON struct {
	Name           string        `json:"name"`
	Query          string        `json:"query"`
	Labels         labels.Labels `json:"labels"`
	Health         string        `json:"health"`
	LastError      string        `json:"lastError,omitempty"`
	EvaluationTime float64       `json:"evaluationTime"`
	LastEvaluation time.Time     `json:"lastEvaluation"`
	Type           string        `json:"type"`
}

func alertsOf(r *rules.AlertingRule) []alertJSON {
	out := []alertJSON{}
	for _, a := range r.ActiveAlerts() {
		j := alertJSON{Labels: a.Labels, Annotations: a.Annotations, State: a.State.String(), Value: formatFloat(a.Value)}
		at := a.ActiveAt
		j.ActiveAt = &at
		if !a.KeepFiringSince.IsZero() {
			k := a.KeepFiringSince
			j.KeepFiring = &k
		}
		out = append(out, j)
	}
	return out
}

func lastError(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// rulesList serves /api/v1/rules: the groups and their rules, filtered by type (alert|record), rule_name[],
// rule_group[] and file[] as Prometheus does.
func (a *API) rulesList(r *http.Request) (any, []string, []string, *apiError) {
	groups := []ruleGroupJSON{}
	if a.opts.Rules == nil {
		return map[string]any{"groups": groups}, nil, nil, nil
	}
	typ := r.Form.Get("type")
	if typ != "" && typ != "alert" && typ != "record" {
		return nil, nil, nil, &apiError{typ: errBadData, err: fmt.Errorf("type: %q is not a rule type (want alert or record)", typ)}
	}
	names, groupNames, files := r.Form["rule_name[]"], r.Form["rule_group[]"], r.Form["file[]"]
	keep := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	for _, g := range a.opts.Rules.RuleGroups() {
		if !keep(groupNames, g.Name()) || !keep(files, g.File()) {
			continue
		}
		gj := ruleGroupJSON{Name: g.Name(), File: g.File(), Rules: []any{}, Interval: g.Interval().Seconds(), Limit: g.Limit(),
			EvaluationTime: g.GetEvaluationTime().Seconds(), LastEvaluation: g.GetLastEvaluation()}
		for _, rule := range g.Rules() {
			if !keep(names, rule.Name()) {
				continue
			}
			switch rule := rule.(type) {
			case *rules.AlertingRule:
				if typ == "record" {
					continue
				}
				gj.Rules = append(gj.Rules, alertingRuleJSON{State: rule.State().String(), Name: rule.Name(), Query: rule.Query().String(),
					Duration: rule.HoldDuration().Seconds(), KeepFiringFor: rule.KeepFiringFor().Seconds(), Labels: rule.Labels(),
					Annotations: rule.Annotations(), Alerts: alertsOf(rule), Health: string(rule.Health()), LastError: lastError(rule.LastError()),
					EvaluationTime: rule.GetEvaluationDuration().Seconds(), LastEvaluation: rule.GetEvaluationTimestamp(), Type: "alerting"})
			case *rules.RecordingRule:
				if typ == "alert" {
					continue
				}
				gj.Rules = append(gj.Rules, recordingRuleJSON{Name: rule.Name(), Query: rule.Query().String(), Labels: rule.Labels(),
					Health: string(rule.Health()), LastError: lastError(rule.LastError()), EvaluationTime: rule.GetEvaluationDuration().Seconds(),
					LastEvaluation: rule.GetEvaluationTimestamp(), Type: "recording"})
			}
		}
		if len(gj.Rules) > 0 || (typ == "" && len(names) == 0) {
			groups = append(groups, gj)
		}
	}
	return map[string]any{"groups": groups}, nil, nil, nil
}

// alertsList serves /api/v1/alerts: every pending and firing alert.
func (a *API) alertsList(*http.Request) (any, []string, []string, *apiError) {
	alerts := []alertJSON{}
	if a.opts.Rules != nil {
		for _, r := range a.opts.Rules.AlertingRules() {
			alerts = append(alerts, alertsOf(r)...)
		}
	}
	return map[string]any{"alerts": alerts}, nil, nil, nil
}
