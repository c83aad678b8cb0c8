// Service overview: request rate, error rate and p50/p95/p99 duration over time, per service and per
// operation, plus the service's recent traces.
import { h, replace, spinner, errorBox, empty } from '../dom.js';
import * as api from '../api.js';
import { update, go, href } from '../router.js';
import { fmtDuration, fmtNum, fmtPct, fmtAgo, fmtRate, serviceColor } from '../format.js';
import { picker, resolve, stepFor } from '../timerange.js';
import { timeChart, legend, sparkline } from '../charts.js';

const mean = (xs) => { const v = xs.filter(Number.isFinite); return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN; };

export function render(root, service, params) {
  let p = { ...params };
  const stops = [];
  const trSlot = h('div');
  const charts = h('div', { class: 'grid-3' });
  const ops = h('div', { class: 'panel' });
  const recent = h('div', { class: 'panel' });
  const paintTR = () => replace(trSlot, picker(p, (ch) => { p = { ...p, ...ch }; update('service', service, p); paintTR(); load(); }));
  paintTR();
  root.append(
    h('div', { class: 'toolbar' },
      h('div', null, h('div', { class: 'muted' }, h('a', { href: href('services') }, 'Service map'), ' / service'),
        h('h1', null, h('span', { style: { color: serviceColor(service) } }, service))),
      h('span', { class: 'grow' }),
      h('a', { class: 'btn', href: href('search', '', { service }), style: { lineHeight: '28px' } }, 'Search traces'),
      h('a', { class: 'btn', href: href('logs', '', { q: `service.name = "${service}"` }), style: { lineHeight: '28px' } }, 'Logs'),
      trSlot),
    charts, h('div', { style: { height: '14px' } }), ops, h('div', { style: { height: '14px' } }), recent);

  async function load() {
    stops.splice(0).forEach((f) => f());
    const { start, end } = resolve(p);
    const step = stepFor(start, end, 60);
    replace(charts, spinner('Loading RED metrics…'));
    replace(ops, spinner('Loading operations…'));
    let res;
    try {
      res = await api.red(service, start, end, step);
    } catch (e) { if (e.name !== 'AbortError') { replace(charts, errorBox(e)); replace(ops); } return; }
    const pts = res.service.points;
    const tot = res.service.total;
    const card = (title, sub, opts) => {
      const box = h('div', { class: 'panel panel-body' }, h('div', { class: 'chart-title' }, h('h2', null, title), h('span', { class: 'muted' }, sub)));
      const c = timeChart(box, { start, end, height: 170, step, ...opts });
      stops.push(c.stop);
      if (opts.series.length > 1) box.appendChild(legend(opts.series));
      return box;
    };
    if (!pts.length) replace(charts, h('div', { class: 'panel', style: { gridColumn: '1 / -1' } }, empty('No spans from this service in the time range.')));
    else replace(charts,
      card('Requests', tot ? `${fmtNum(tot.count)} · ${fmtRate(tot.rate)}` : `${fmtRate(mean(pts.map((x) => x.rate)))} avg`, { series: [{ name: 'requests', points: pts.map((x) => [x.t, x.rate]), color: '#3b82f6' }], yFmt: fmtRate, label: 'Request rate' }),
      card('Errors', tot ? `${fmtNum(tot.errors)} · ${fmtPct(tot.errorRate)}` : `${fmtPct(mean(pts.map((x) => x.errorRate)))} avg`, { series: [{ name: 'error rate', points: pts.map((x) => [x.t, x.count ? x.errorRate : NaN]), color: '#ef4444' }], yFmt: fmtPct, label: 'Error rate' }),
      card('Duration', tot ? `p50 ${fmtDuration(tot.p50)} · p95 ${fmtDuration(tot.p95)} · p99 ${fmtDuration(tot.p99)}` : `p95 ${fmtDuration(mean(pts.map((x) => x.p95)))}`, { series: [
        { name: 'p50', points: pts.map((x) => [x.t, x.p50 ?? NaN]), color: '#10b981' },
        { name: 'p95', points: pts.map((x) => [x.t, x.p95 ?? NaN]), color: '#f59e0b' },
        { name: 'p99', points: pts.map((x) => [x.t, x.p99 ?? NaN]), color: '#ef4444' }], yFmt: fmtDuration, label: 'Duration percentiles' }));

    // per operation: the totals over the range from the server (exact percentiles, not averages of buckets)
    const rowsData = res.operations.map((sr) => {
      const t = sr.total || {};
      return { op: sr.operation, pts: sr.points, count: t.count ?? 0, rate: t.rate ?? mean(sr.points.map((x) => x.rate)), err: t.errorRate ?? 0, p50: t.p50, p95: t.p95, p99: t.p99 };
    }).sort((a, b) => b.count - a.count || b.rate - a.rate);
    if (!rowsData.length) { replace(ops, empty('No operations.')); }
    else replace(ops, h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, `Operations (${rowsData.length})`), h('span', { class: 'muted' }, 'over the whole range; click an operation to search its traces')),
      h('table', { class: 'tbl op-table' },
        h('thead', null, h('tr', null, h('th', null, 'Operation'), h('th', { class: 'num' }, 'Rate'), h('th', null, ''), h('th', { class: 'num' }, 'Errors'), h('th', null, ''), h('th', { class: 'num' }, 'p50'), h('th', { class: 'num' }, 'p95'), h('th', { class: 'num' }, 'p99'), h('th', null, 'p95 over time'))),
        h('tbody', null, rowsData.map((r) => h('tr', { class: 'clickable', tabindex: 0, 'data-operation': r.op, onclick: () => go('search', '', { service, operation: r.op, range: p.range, from: p.from, to: p.to }), onkeydown: (e) => { if (e.key === 'Enter') go('search', '', { service, operation: r.op }); } },
          h('td', { class: 'mono' }, r.op),
          h('td', { class: 'num' }, fmtRate(r.rate)), h('td', null, sparkline(r.pts.map((x) => x.rate), { color: '#3b82f6', width: 90 })),
          h('td', { class: ['num', r.err >= 0.01 && 'status-err'] }, fmtPct(r.err)), h('td', null, sparkline(r.pts.map((x) => x.errorRate), { color: '#ef4444', width: 90 })),
          h('td', { class: 'num' }, fmtDuration(r.p50)), h('td', { class: 'num' }, fmtDuration(r.p95)), h('td', { class: 'num' }, fmtDuration(r.p99)),
          h('td', null, sparkline(r.pts.map((x) => x.p95 ?? NaN), { color: '#f59e0b', width: 120 })))))));

    replace(recent, spinner('Loading recent traces…'));
    api.searchTraces({ service, start, end, limit: 10 }).then((list) => {
      if (!list.length) { replace(recent, empty('No recent traces.')); return; }
      replace(recent, h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, 'Recent traces'), h('a', { href: href('search', '', { service }), style: { marginLeft: 'auto' } }, 'All traces →')),
        h('table', { class: 'tbl recent-traces' }, h('tbody', null, list.map((t) => h('tr', { class: 'clickable', 'data-trace-id': t.traceId, onclick: () => go('trace', t.traceId) },
          h('td', null, h('a', { href: href('trace', t.traceId) }, t.rootName || t.traceId)),
          h('td', { class: 'mono faint' }, t.traceId.slice(0, 12)),
          h('td', null, t.errorCount ? h('span', { class: 'chip badge-err' }, `⚠ ${t.errorCount}`) : null),
          h('td', { class: 'num' }, `${t.spanCount} spans`), h('td', { class: 'num' }, fmtDuration(t.dur)), h('td', { class: 'num muted' }, fmtAgo(t.start)))))));
    }).catch((e) => { if (e.name !== 'AbortError') replace(recent, errorBox(e)); });
  }
  load();
  return () => stops.forEach((f) => f());
}
