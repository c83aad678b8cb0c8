// Log explorer: filter expression, severity facets, a histogram of counts over time, expandable records,
// live tail, and links to the trace of each log.
import { h, replace, spinner, errorBox, empty, clear } from '../dom.js';
import * as api from '../api.js';
import { update } from '../router.js';
import { fmtNum } from '../format.js';
import { picker, resolve, stepFor } from '../timerange.js';
import { completingInput, filterCompleter } from '../complete.js';
import { timeChart } from '../charts.js';
import { logRow } from '../logrow.js';

const SEV_COLORS = { trace: 'var(--sev-trace)', debug: 'var(--sev-debug)', info: 'var(--sev-info)', warn: 'var(--sev-warn)', error: 'var(--sev-error)', fatal: 'var(--sev-fatal)', unset: 'var(--faint)' };
let keysCache = null;

// withSeverities adds the checked severity facets to a filter expression.
export function withSeverities(q, sevs) {
  if (!sevs.size) return q;
  const cond = [...sevs].map((s) => `severity = ${s}`).join(' or ');
  const c = sevs.size > 1 ? `(${cond})` : cond;
  return q ? `(${q}) and ${c}` : c;
}

export function render(root, _arg, params) {
  let p = { limit: '200', ...params };
  const stops = [];
  let stopTail = null, pollTimer = 0;
  const sevSel = () => new Set((p.sev || '').split(',').filter(Boolean));
  const filter = completingInput({
    value: p.q || '', placeholder: 'body contains "timeout" and http.route = "/cart"', label: 'Log filter expression', className: 'f-query',
    completer: filterCompleter('logs', () => (keysCache ||= api.attributeKeys('logs').catch(() => [])), (k) => api.attributeValues('logs', k)),
    onSubmit: () => { p.q = filter.value.trim(); commit(); },
  });
  const trSlot = h('div');
  const liveBtn = h('button', { type: 'button', class: 'btn', 'aria-pressed': p.live ? 'true' : 'false', onclick: () => { p.live = p.live ? '' : '1'; commit(); } });
  const paintTop = () => {
    replace(trSlot, picker(p, (ch) => { Object.assign(p, ch); commit(); }));
    replace(liveBtn, p.live ? [h('span', { class: 'live-dot' }), ' Live'] : '▶ Live tail');
    liveBtn.classList.toggle('primary', !!p.live);
  };
  const facets = h('div', { class: 'facets panel panel-body', role: 'group', 'aria-label': 'Severity' });
  const hist = h('div', { class: 'panel panel-body', style: { marginBottom: '12px' } });
  const list = h('div', { class: 'panel log-list' });
  root.append(
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); p.q = filter.value.trim(); commit(); } },
      h('div', { class: 'grow row', style: { flexWrap: 'nowrap' } }, filter.el, h('button', { class: 'btn primary', type: 'submit' }, 'Search')), trSlot, liveBtn),
    h('div', { class: 'logs-layout' }, h('div', null, h('h3', { style: { marginTop: 0 } }, 'Severity'), facets), h('div', null, hist, list)));

  function commit() { update('logs', '', p); paintTop(); run(); }

  function paintFacets(counts, note) {
    const sel = sevSel();
    replace(facets, api.SEVERITIES.map((sv) => {
      const cb = h('input', { type: 'checkbox', checked: sel.has(sv), 'aria-label': `Severity ${sv}`, onchange: () => {
        const s2 = sevSel(); if (cb.checked) s2.add(sv); else s2.delete(sv);
        p.sev = [...s2].join(','); commit();
      } });
      return h('label', { class: 'facet', 'data-severity': sv }, cb, h('span', { class: `sev sev-${sv}` }, sv), h('span', { class: 'n' }, counts ? fmtNum(counts[sv] || 0) : ''));
    }), note ? h('div', { class: 'faint', style: { fontSize: '11.5px', padding: '4px 6px 0' } }, note) : null);
  }

  function stopLive() { stopTail?.(); stopTail = null; clearTimeout(pollTimer); }

  async function run() {
    stopLive();
    stops.splice(0).forEach((f) => f());
    const { start, end } = resolve(p);
    const step = stepFor(start, end, 80);
    const sel = sevSel();
    replace(list, spinner('Searching logs…'));
    let res;
    try {
      res = await api.searchLogs({ q: withSeverities(p.q, sel), start, end, limit: p.limit, step: step + 'ms' });
    } catch (e) { if (e.name !== 'AbortError') { replace(list, errorBox(e)); clear(hist); paintFacets(null); } return; }
    const logs = sel.size ? res.logs.filter((l) => sel.has(api.severityClass(l.severity))) : res.logs;
    // histogram: from the server when it sends one, else counted from the records returned
    let buckets = res.histogram;
    const pageCounts = {};
    for (const l of res.logs) { const c = api.severityClass(l.severity); pageCounts[c] = (pageCounts[c] || 0) + 1; }
    if (!buckets.length) {
      const m = new Map();
      for (const l of res.logs) {
        const t = Math.floor(l.time / step) * step;
        const b = m.get(t) || { t, counts: {} };
        const c = api.severityClass(l.severity);
        b.counts[c] = (b.counts[c] || 0) + 1;
        m.set(t, b);
      }
      buckets = [...m.values()];
    }
    const totals = {};
    for (const b of buckets) for (const [k, v] of Object.entries(b.counts)) totals[k] = (totals[k] || 0) + v;
    // facet counts: per severity from the histogram when it has them, else among the records loaded
    paintFacets(totals.all === undefined ? totals : pageCounts, totals.all === undefined ? '' : `counts among the ${res.logs.length} records shown`);
    const sevs = Object.keys(totals).filter((k) => !sel.size || sel.has(k) || k === 'all');
    const total = sevs.reduce((a, k) => a + totals[k], 0);
    clear(hist);
    hist.appendChild(h('div', { class: 'chart-title' }, h('h2', null, 'Log volume'), h('span', { class: 'muted hist-total' }, `${fmtNum(total)} records in range${res.logs.length >= Number(p.limit) ? ` · showing the newest ${p.limit}` : ''}`)));
    const order = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'unset', 'all'];
    const c = timeChart(hist, { kind: 'bars', start, end, step, height: 110, label: 'Log count over time', yFmt: fmtNum,
      series: order.filter((k) => sevs.includes(k)).reverse().map((k) => ({ name: k, color: SEV_COLORS[k] || 'var(--accent)', points: buckets.map((b) => [b.t, b.counts[k] || 0]) })),
      onSelect: (a, b) => { p = { ...p, range: '', from: String(Math.floor(a)), to: String(Math.ceil(b)) }; commit(); } });
    stops.push(c.stop);
    if (!logs.length) replace(list, empty('No logs match.', 'Widen the time range, clear severity facets or relax the filter.'));
    else replace(list, logs.map((l) => logRow(l)));
    if (p.live) startLive(logs[0]?.time || Date.now());
  }

  function prepend(newLogs) {
    const sel = sevSel();
    const keep = newLogs.filter((l) => !sel.size || sel.has(api.severityClass(l.severity))).sort((a, b) => b.time - a.time);
    if (!keep.length) return;
    if (list.querySelector('.empty')) clear(list);
    const frag = document.createDocumentFragment();
    for (const l of keep) frag.appendChild(logRow(l));
    list.insertBefore(frag, list.firstChild);
    while (list.childElementCount > 1000) list.lastElementChild.remove();
  }

  function startLive(since) {
    let last = since;
    stopTail = api.tailLogs(withSeverities(p.q, sevSel()), (logs) => prepend(logs), () => {
      // no stream endpoint, or it ended: poll the search API instead
      stopTail = null;
      if (p.live) poll();
    });
    function poll() {
      pollTimer = setTimeout(async () => {
        try {
          const res = await api.searchLogs({ q: withSeverities(p.q, sevSel()), start: last + 1, end: Date.now() + 1000, limit: 500, order: 'oldest', key: 'logs-poll' });
          const fresh = res.logs.filter((l) => l.time > last);
          if (fresh.length) { last = Math.max(...fresh.map((l) => l.time)); prepend(fresh); }
        } catch { /* keep polling */ }
        if (p.live) poll();
      }, 2000);
    }
  }

  paintTop();
  paintFacets(null);
  run();
  return () => { stopLive(); stops.forEach((f) => f()); };
}
