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

// withSeverities adds the checked severity facets to a filter expression ("unset" is severity number 0).
export function withSeverities(q, sevs) {
  if (!sevs.size) return q;
  const cond = [...sevs].map((s) => (s === 'unset' ? 'severity = 0' : `severity = ${s}`)).join(' or ');
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
  const liveBtn = h('button', { type: 'button', class: 'btn live-btn', 'aria-pressed': p.live ? 'true' : 'false', onclick: () => { p.live = p.live ? '' : '1'; commit(); } });
  // what the live tail is doing: streaming (with the server's drop count) or polling, or why it stopped
  const liveStatus = h('div', { class: 'tail-status', role: 'status', 'aria-live': 'polite' });
  const paintTop = () => {
    replace(trSlot, picker(p, (ch) => { Object.assign(p, ch); commit(); }));
    replace(liveBtn, p.live ? [h('span', { class: 'live-dot' }), ' Live'] : '▶ Live tail');
    liveBtn.classList.toggle('primary', !!p.live);
    liveBtn.setAttribute('aria-pressed', p.live ? 'true' : 'false');
    if (!p.live) { clear(liveStatus); liveStatus.hidden = true; }
  };
  const setLiveStatus = (mode, text, title) => {
    liveStatus.hidden = false;
    liveStatus.dataset.mode = mode;
    liveStatus.title = title || '';
    replace(liveStatus, text);
  };
  const facets = h('div', { class: 'facets panel panel-body', role: 'group', 'aria-label': 'Severity' });
  const hist = h('div', { class: 'panel panel-body', style: { marginBottom: '12px' } });
  const list = h('div', { class: 'panel log-list' });
  root.append(
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); p.q = filter.value.trim(); commit(); } },
      h('div', { class: 'grow row', style: { flexWrap: 'nowrap' } }, filter.el, h('button', { class: 'btn primary', type: 'submit' }, 'Search')), trSlot, liveBtn),
    h('div', { class: 'logs-layout' }, h('div', null, h('h3', { style: { marginTop: 0 } }, 'Severity'), facets), h('div', null, hist, liveStatus, list)));

  function commit() { update('logs', '', p); paintTop(); run(); }

  function paintFacets(counts, note) {
    const sel = sevSel();
    // records without a severity get a facet of their own when there are some
    const list = counts?.unset || sel.has('unset') ? [...api.SEVERITIES, 'unset'] : api.SEVERITIES;
    replace(facets, list.map((sv) => {
      const cb = h('input', { type: 'checkbox', checked: sel.has(sv), 'aria-label': `Severity ${sv}`, onchange: () => {
        const s2 = sevSel(); if (cb.checked) s2.add(sv); else s2.delete(sv);
        p.sev = [...s2].join(','); commit();
      } });
      return h('label', { class: 'facet', 'data-severity': sv }, cb, h('span', { class: `sev sev-${sv}` }, sv), h('span', { class: 'n' }, counts ? fmtNum(counts[sv] || 0) : ''));
    }), note ? h('div', { class: 'faint', style: { fontSize: '11.5px', padding: '4px 6px 0' } }, note) : null);
  }

  function stopLive() { stopTail?.(); stopTail = null; clearTimeout(pollTimer); delete liveStatus.dataset.connected; }

  async function run() {
    stopLive();
    stops.splice(0).forEach((f) => f());
    const { start, end } = resolve(p);
    const step = stepFor(start, end, 80);
    const sel = sevSel();
    replace(list, spinner('Searching logs…'));
    let res, facetRes;
    try {
      // with severities ticked, a second histogram without them gives every severity's count for the facets
      [res, facetRes] = await Promise.all([
        api.searchLogs({ q: withSeverities(p.q, sel), start, end, limit: p.limit, step: step + 'ms' }),
        sel.size ? api.searchLogs({ q: p.q, start, end, limit: 1, step: step + 'ms', key: 'logs-facets' }).catch(() => null) : null,
      ]);
    } catch (e) { if (e.name !== 'AbortError') { replace(list, errorBox(e)); clear(hist); paintFacets(null); } return; }
    if (!sel.size) facetRes = res;
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
    // facet counts: per severity over the whole range from the server, else among the records loaded
    if (facetRes?.severityTotals) paintFacets(facetRes.severityTotals, facetRes.truncated ? `counts over the newest ${fmtNum(facetRes.total)} records` : '');
    else paintFacets(pageCounts, `counts among the ${res.logs.length} records shown`);
    const sevs = Object.keys(totals).filter((k) => !sel.size || sel.has(k) || k === 'all');
    const total = sevs.reduce((a, k) => a + totals[k], 0);
    clear(hist);
    const present = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unset'].filter((k) => sevs.includes(k) && totals[k]);
    hist.appendChild(h('div', { class: 'chart-title' }, h('h2', null, 'Log volume'),
      present.length ? h('span', { class: 'hist-legend', 'aria-label': 'Bar colours by severity' }, present.map((k) => h('span', null, h('i', { style: { background: SEV_COLORS[k] } }), k))) : null,
      h('span', { class: 'muted hist-total' }, `${fmtNum(total)} records in range${res.logs.length >= Number(p.limit) ? ` · showing the newest ${p.limit}` : ''}`)));
    const order = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'unset', 'all'];
    const c = timeChart(hist, { kind: 'bars', start, end, step, height: 110, yMin: 4, label: 'Log count over time', yFmt: fmtNum,
      series: order.filter((k) => sevs.includes(k)).reverse().map((k) => ({ name: k, color: SEV_COLORS[k] || 'var(--accent)', points: buckets.map((b) => [b.t, b.counts[k] || 0]) })),
      onSelect: (a, b) => { p = { ...p, range: '', from: String(Math.floor(a)), to: String(Math.ceil(b)) }; commit(); } });
    stops.push(c.stop);
    if (!logs.length) replace(list, empty('No logs match.', 'Widen the time range, clear severity facets or relax the filter.'));
    else replace(list, logs.map((l) => logRow(l)));
    // older pages on demand
    let next = res.next;
    const more = () => {
      if (!next || p.live) return;
      const btn = h('button', { type: 'button', class: 'btn small load-more', style: { margin: '8px 10px' }, onclick: async () => {
        btn.disabled = true;
        try {
          const r = await api.searchLogs({ q: withSeverities(p.q, sel), start, end, limit: p.limit, offset: next, key: 'logs-more' });
          btn.remove();
          for (const l of r.logs) list.appendChild(logRow(l));
          next = r.next;
          more();
        } catch (e) { btn.disabled = false; if (e.name !== 'AbortError') list.appendChild(errorBox(e)); }
      } }, `Load ${p.limit} older`);
      list.appendChild(btn);
    };
    more();
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
    let last = since, dropped = 0;
    const streaming = () => setLiveStatus(dropped ? 'dropping' : 'stream', [h('span', { class: 'live-dot' }),
      p.q || sevSel().size ? 'Streaming new records that match, filtered by the server' : 'Streaming every new record',
      dropped ? h('span', { class: 'tail-dropped', 'data-dropped': String(dropped) }, ` · ${fmtNum(dropped)} dropped`) : null],
    dropped ? 'The server dropped records this stream could not take in time (its buffer was full); search the range to see them all.' : '');
    streaming();
    stopTail = api.tailLogs(withSeverities(p.q, sevSel()), {
      onLogs: (logs) => { for (const l of logs) last = Math.max(last, l.time); prepend(logs); },
      onStatus: (st) => { liveStatus.dataset.connected = '1'; if (st.dropped !== dropped) { dropped = st.dropped; streaming(); } },
      onError: (e) => {
        stopTail = null;
        if (!p.live) return;
        if (e.status === 400) { setLiveStatus('error', `Live tail refused: ${e.message}`); return; }
        // no stream on this server, or it ended: poll the search API instead
        setLiveStatus('poll', [h('span', { class: 'live-dot' }), e.status ? 'Polling for new records every 2 s' : 'The stream ended; polling for new records every 2 s']);
        poll();
      },
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
