// Metrics explorer: PromQL with metric and label autocomplete; a line chart for range queries, a table for
// instant queries, a heatmap for histogram buckets, and exemplar dots that open their traces.
import { h, replace, spinner, errorBox, empty, clear } from '../dom.js';
import * as api from '../api.js';
import { update, go } from '../router.js';
import { fmtNum, fmtDateTime, SERIES_COLORS } from '../format.js';
import { picker, resolve, stepFor } from '../timerange.js';
import { completingInput, promCompleter } from '../complete.js';
import { timeChart, legend, heatmap } from '../charts.js';

let namesCache = null;

export function seriesName(metric) {
  const { __name__: n, ...rest } = metric || {};
  const labels = Object.entries(rest).map(([k, v]) => `${k}="${v}"`).join(', ');
  return (n || '') + (labels ? `{${labels}}` : n ? '' : '{}');
}

function labelsNode(metric) {
  const { __name__: n, ...rest } = metric || {};
  return h('span', { class: 'labels' }, n || '', '{', Object.entries(rest).map(([k, v], i) => [i ? ', ' : '', h('span', { class: 'ln' }, k), '="', v, '"']), '}');
}

// bucketsHeatmap turns cumulative le-bucket series into per-bucket counts per time step.
export function bucketsHeatmap(result) {
  const byLe = new Map();
  for (const sr of result) {
    const le = sr.metric?.le;
    if (le === undefined) return null;
    const cur = byLe.get(le) || new Map();
    for (const [t, v] of sr.values) cur.set(t, (cur.get(t) || 0) + Number(v));
    byLe.set(le, cur);
  }
  const les = [...byLe.keys()].sort((a, b) => (a === '+Inf' ? Infinity : Number(a)) - (b === '+Inf' ? Infinity : Number(b)));
  const times = [...new Set(result.flatMap((sr) => sr.values.map(([t]) => t)))].sort((a, b) => a - b);
  const values = les.map((le, i) => times.map((t) => {
    const v = byLe.get(le).get(t) || 0, prev = i ? byLe.get(les[i - 1]).get(t) || 0 : 0;
    return Math.max(0, v - prev);
  }));
  return { times: times.map((t) => t * 1000), rows: les.map((le) => (le === '+Inf' ? '+Inf' : fmtNum(Number(le)))), values };
}

export function render(root, _arg, params) {
  let p = { mode: 'range', ...params };
  const stops = [];
  const q = completingInput({
    value: p.q || '', placeholder: 'rate(http_server_request_duration_seconds_count[5m])', label: 'PromQL query', className: 'f-query',
    completer: promCompleter(() => (namesCache ||= api.promMetricNames().catch(() => [])), (m) => api.promLabels(m), (l, m) => api.promLabelValues(l, m)),
    onSubmit: () => { p.q = q.value.trim(); commit(); },
  });
  const trSlot = h('div');
  const modeSlot = h('div', { class: 'timerange' });
  const out = h('div');
  const side = h('div', { class: 'panel', style: { maxHeight: '70vh', overflow: 'auto' } });
  const paintTop = () => {
    replace(trSlot, picker(p, (ch) => { Object.assign(p, ch); commit(); }));
    replace(modeSlot, ['range', 'instant'].map((m) => h('button', { type: 'button', class: ['seg', p.mode === m && 'active'], 'aria-pressed': String(p.mode === m), onclick: () => { p.mode = m; commit(); } }, m === 'range' ? 'Graph' : 'Table')));
  };
  root.append(
    h('form', { class: 'metrics-bar', onsubmit: (e) => { e.preventDefault(); p.q = q.value.trim(); commit(); } }, q.el, h('button', { class: 'btn primary', type: 'submit' }, 'Run'), modeSlot, trSlot),
    h('div', { style: { display: 'grid', gridTemplateColumns: '1fr 260px', gap: '14px', alignItems: 'start' } }, out, side));

  function commit() { update('metrics', '', p); paintTop(); run(); }

  // metric browser
  const filterInp = h('input', { class: 'input', placeholder: 'Filter metrics', 'aria-label': 'Filter metric names', style: { width: '100%' } });
  const names = h('div', { class: 'metric-names' });
  replace(side, h('div', { class: 'panel-head' }, filterInp), names);
  Promise.all([api.promMetricNames(), api.promMetadata().catch(() => ({}))]).then(([list, meta]) => {
    const paint = () => {
      const f = filterInp.value.toLowerCase();
      replace(names, list.filter((n) => n.toLowerCase().includes(f)).slice(0, 300).map((n) => h('div', { class: 'facet', title: meta[n]?.[0]?.help || n, onclick: () => { q.value = n; p.q = n; commit(); } },
        h('span', { class: 'mono metric-name' }, n), h('span', { class: 'n' }, (meta[n] || meta[n.replace(/_(bucket|count|sum|total)$/, '')])?.[0]?.type || ''))));
      if (!list.length) replace(names, empty('No metrics yet.'));
    };
    filterInp.addEventListener('input', paint);
    paint();
  }).catch((e) => replace(names, errorBox(e)));

  async function run() {
    stops.splice(0).forEach((f) => f());
    if (!p.q) { replace(out, h('div', { class: 'panel' }, empty('Write a PromQL query, or pick a metric on the right.', 'Ctrl+Space completes metric names, labels and label values.'))); return; }
    replace(out, spinner('Running query…'));
    const { start, end } = resolve(p);
    try {
      if (p.mode === 'instant') {
        const res = await api.promQuery(p.q, end);
        const d = res?.data;
        if (!d) { replace(out, empty('No data.')); return; }
        if (d.resultType === 'scalar' || d.resultType === 'string') { replace(out, h('div', { class: 'panel panel-body' }, h('div', { class: 'mono', style: { fontSize: '20px' } }, String(d.result[1])))); return; }
        if (!d.result.length) { replace(out, h('div', { class: 'panel' }, empty('Empty result.'))); return; }
        replace(out, h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('span', { class: 'muted' }, `${d.result.length} series at ${fmtDateTime(end)}`)),
          h('table', { class: 'tbl instant-table' }, h('thead', null, h('tr', null, h('th', null, 'Series'), h('th', { class: 'num' }, 'Value'))),
            h('tbody', null, d.result.map((r) => h('tr', null, h('td', null, labelsNode(r.metric)), h('td', { class: 'val' }, r.value ? r.value[1] : r.histogram ? `histogram (count ${r.histogram[1].count})` : '')))))));
        return;
      }
      const step = stepFor(start, end, 200);
      const [res, ex] = await Promise.all([api.promRange(p.q, start, end, step), api.promExemplars(p.q, start, end).catch(() => null)]);
      const d = res?.data;
      if (!d || !d.result.length) { replace(out, h('div', { class: 'panel' }, empty('Empty result.', 'The query matched no series in this time range.'))); return; }
      const panel = h('div', { class: 'panel panel-body' });
      const heat = bucketsHeatmap(d.result);
      const showHeat = heat && p.view !== 'lines';
      const head = h('div', { class: 'chart-title' }, h('span', { class: 'muted' }, `${d.result.length} series · step ${step / 1000}s`),
        heat ? h('div', { class: 'timerange' }, ['heatmap', 'lines'].map((v) => h('button', { type: 'button', class: ['seg', (showHeat ? 'heatmap' : 'lines') === v && 'active'], onclick: () => { p.view = v === 'lines' ? 'lines' : ''; commit(); } }, v))) : null);
      panel.appendChild(head);
      if (showHeat) {
        stops.push(heatmap(panel, { ...heat, start, end, height: 300 }).stop);
      } else {
        const hidden = new Set((p.hide || '').split('|').filter(Boolean));
        const series = d.result.map((r, i) => ({ name: seriesName(r.metric) === '{}' ? p.q : seriesName(r.metric), color: SERIES_COLORS[i % SERIES_COLORS.length], points: (r.values || []).map(([t, v]) => [t * 1000, Number(v)]) }));
        const markers = [];
        for (const es of ex?.data || []) for (const e of es.exemplars || []) {
          const tid = e.labels?.trace_id || e.labels?.traceID || e.labels?.traceId;
          if (!tid) continue;
          markers.push({ t: Number(e.timestamp) * 1000, v: Number(e.value), color: 'var(--text)', title: `exemplar trace ${tid}`, tip: ['Exemplar', ['value', fmtNum(Number(e.value))], ['trace', tid], ['time', fmtDateTime(Number(e.timestamp) * 1000)], 'click to open the trace'], onClick: () => go('trace', tid, e.labels.span_id ? { span: e.labels.span_id } : null) });
        }
        const c = timeChart(panel, { start, end, height: 320, series: series.filter((sr) => !hidden.has(sr.name)), markers, label: 'Query result',
          onSelect: (a, b) => { p = { ...p, range: '', from: String(Math.floor(a)), to: String(Math.ceil(b)) }; commit(); } });
        stops.push(c.stop);
        panel.appendChild(legend(series.map((sr) => ({ ...sr, hidden: hidden.has(sr.name) })), (sr) => { if (hidden.has(sr.name)) hidden.delete(sr.name); else hidden.add(sr.name); p.hide = [...hidden].join('|'); commit(); }));
        if (markers.length) panel.appendChild(h('div', { class: 'muted', style: { marginTop: '6px' } }, `${markers.length} exemplar${markers.length === 1 ? '' : 's'} (dots): click one to open its trace`));
      }
      replace(out, panel);
    } catch (e) {
      if (e.name !== 'AbortError') replace(out, errorBox(e));
    }
  }
  paintTop();
  run();
  return () => stops.forEach((f) => f());
}
