// Alerts: the rule groups otlpd evaluates (docs/alerting.md), each rule's state and health, and the alerts
// pending or firing, refreshed while the page is open.
import { h, replace, spinner, errorBox, empty } from '../dom.js';
import * as api from '../api.js';
import { href } from '../router.js';
import { fmtAgo, fmtDuration } from '../format.js';

const REFRESH_MS = 15000;

// ruleState is what a rule shows: firing, pending or inactive for alerting rules, ok or error for recording ones.
export function ruleState(r) {
  if (r.health === 'err') return 'error';
  if (r.type === 'alerting') return r.state || 'inactive';
  return 'ok';
}

// summarize counts the alerting rules by state, over every group.
export function summarize(groups) {
  const out = { firing: 0, pending: 0, inactive: 0, error: 0, recording: 0 };
  for (const g of groups) for (const r of g.rules || []) {
    const st = ruleState(r);
    if (r.type === 'recording') { out.recording++; if (st === 'error') out.error++; } else out[st] = (out[st] || 0) + 1;
  }
  return out;
}

function labelChips(labels, skip = []) {
  return Object.entries(labels || {}).filter(([k]) => !skip.includes(k)).map(([k, v]) => h('span', { class: 'chip mono' }, `${k}="${v}"`));
}

function stateChip(st) {
  return h('span', { class: ['chip', 'rule-state', `state-${st}`] }, st);
}

function ruleRows(r) {
  const st = ruleState(r);
  const rows = [h('tr', { class: 'rule-row', 'data-rule': r.name, 'data-state': st },
    h('td', null, stateChip(st)),
    h('td', null, h('div', { class: 'mono rule-name' }, r.name), h('div', { class: 'muted small' }, r.type === 'alerting' ? 'alert' : 'record')),
    h('td', null, h('a', { class: 'mono rule-query', href: href('metrics', '', { q: r.query, range: '1h' }), title: 'Open in the metrics explorer' }, r.query),
      r.lastError ? h('div', { class: 'error-text small' }, r.lastError) : null),
    h('td', { class: 'num' }, r.type === 'alerting' && r.duration ? `for ${fmtDuration(r.duration * 1000)}` : ''),
    h('td', null, labelChips(r.labels)),
    h('td', { class: 'num muted' }, r.lastEvaluation && !r.lastEvaluation.startsWith('0001') ? fmtAgo(Date.parse(r.lastEvaluation)) : 'never'))];
  for (const a of r.alerts || []) {
    rows.push(h('tr', { class: 'alert-row', 'data-state': a.state },
      h('td', null),
      h('td', null, stateChip(a.state)),
      h('td', { colspan: 3 }, labelChips(a.labels, ['alertname']),
        a.annotations?.summary ? h('div', { class: 'alert-summary' }, a.annotations.summary) : null,
        a.annotations?.description ? h('div', { class: 'muted small' }, a.annotations.description) : null),
      h('td', { class: 'num' }, h('div', { class: 'mono' }, a.value), h('div', { class: 'muted small' }, a.activeAt ? 'since ' + fmtAgo(Date.parse(a.activeAt)) : ''))));
  }
  return rows;
}

function groupPanel(g) {
  return h('section', { class: 'panel rule-group', 'data-group': g.name },
    h('div', { class: 'panel-head' }, h('strong', null, g.name), h('span', { class: 'muted small mono' }, g.file),
      h('span', { class: 'muted small', style: { marginLeft: 'auto' } }, `every ${fmtDuration(g.interval * 1000)}`)),
    h('table', { class: 'tbl rules-table' },
      h('thead', null, h('tr', null, h('th', null, 'State'), h('th', null, 'Rule'), h('th', null, 'Query'), h('th', { class: 'num' }, 'For'), h('th', null, 'Labels'), h('th', { class: 'num' }, 'Evaluated'))),
      h('tbody', null, (g.rules || []).flatMap(ruleRows))));
}

export function render(root) {
  const head = h('div', { class: 'alerts-head' });
  const out = h('div', null, spinner('Loading rules…'));
  replace(root, h('div', { class: 'page-head' }, h('h1', null, 'Alerts'), head), out);
  let stopped = false;
  const load = async () => {
    try {
      const groups = await api.promRules();
      if (stopped) return;
      if (!groups.length) {
        replace(head);
        replace(out, h('div', { class: 'panel' }, empty('No rules loaded.', 'List Prometheus rule files under rules.files in the configuration (docs/alerting.md); alerts on span metrics need no exported metric.')));
        return;
      }
      const sum = summarize(groups);
      replace(head, ['firing', 'pending', 'inactive', 'error'].map((st) => h('span', { class: ['chip', 'rule-state', sum[st] ? `state-${st}` : ''], 'data-count': st }, `${sum[st] || 0} ${st}`)),
        h('span', { class: 'chip' }, `${sum.recording} recording`));
      replace(out, groups.map(groupPanel));
    } catch (e) {
      if (e.name !== 'AbortError' && !stopped) replace(out, errorBox(e));
    }
  };
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => { stopped = true; clearInterval(timer); };
}
