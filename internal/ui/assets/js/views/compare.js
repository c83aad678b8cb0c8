// Trace comparison: spans of two traces grouped by their service/operation path from the root; each path is
// in A only, in B only, or in both with the change in duration.
import { h, replace, spinner, errorBox, empty } from '../dom.js';
import * as api from '../api.js';
import { go, href } from '../router.js';
import { fmtDuration, serviceColor } from '../format.js';
import { buildTrace } from '../tracemodel.js';

function groupPaths(model) {
  const out = new Map();
  const pathOf = new Map();
  for (const n of model.order) {
    const key = (n.parent ? pathOf.get(n.parent) + ' › ' : '') + n.span.service + ': ' + n.span.name;
    pathOf.set(n, key);
    const g = out.get(key) || { key, depth: n.depth, service: n.span.service, name: n.span.name, count: 0, dur: 0, errors: 0, order: out.size };
    g.count++; g.dur += n.span.dur; if (n.span.status.code === 'error') g.errors++;
    out.set(key, g);
  }
  return out;
}

export function diff(ma, mb) {
  const ga = groupPaths(ma), gb = groupPaths(mb);
  const keys = [...new Set([...ga.keys(), ...gb.keys()])];
  // keep a tree order: sort by path so children follow parents
  keys.sort((x, y) => x.localeCompare(y));
  return keys.map((k) => ({ key: k, a: ga.get(k), b: gb.get(k) }));
}

export function render(root, _arg, params) {
  const a = h('input', { class: 'input mono', placeholder: 'Trace A ID', value: params.a || '', 'aria-label': 'Trace A', style: { width: '300px' } });
  const b = h('input', { class: 'input mono', placeholder: 'Trace B ID', value: params.b || '', 'aria-label': 'Trace B', style: { width: '300px' } });
  const out = h('div');
  root.append(
    h('form', { class: 'toolbar', onsubmit: (e) => { e.preventDefault(); go('compare', '', { a: a.value.trim(), b: b.value.trim() }); } },
      h('label', { class: 'field' }, 'A (baseline)', a), h('label', { class: 'field' }, 'B', b), h('button', { class: 'btn primary', type: 'submit' }, 'Compare')),
    out);
  if (!params.a || !params.b) {
    replace(out, h('div', { class: 'panel' }, empty('Pick two traces to compare.', 'Select two results in trace search and press "Compare 2 selected", or paste two trace IDs.')));
    return;
  }
  replace(out, spinner('Comparing the traces…'));
  load(params.a, params.b).then((c) => {
    if (c.missing) { replace(out, errorBox(`trace ${c.missing} not found`)); return; }
    replace(out, paint(params, c));
  }).catch((e) => replace(out, errorBox(e)));
}

// load compares on the server when it can (its durations are corrected for clock skew and it never sends the
// spans), else loads both traces and compares them here. Either way the result is
// {source, cards: [{service, name, dur, spans, errors}] x2, rows: [{key, depth, service, name, a, b}], onlyA, onlyB}
// with a and b {count, dur, errors, self?} in ms, or null when the path is not in that trace.
async function load(idA, idB) {
  const server = await api.compareTraces(idA, idB);
  if (server) {
    const [sa, sb] = await Promise.all([api.traceSummary(idA), api.traceSummary(idB)]);
    const card = (sm, dur) => ({ service: sm.rootService, name: sm.rootName, dur, spans: sm.spanCount, errors: sm.errorCount });
    const rows = server.rows.map((r) => {
      const last = r.path[r.path.length - 1] || '';
      const at = last.indexOf(': ');
      return { key: r.path.join(' › '), depth: r.path.length - 1, service: at < 0 ? '' : last.slice(0, at), name: at < 0 ? last : last.slice(at + 2), a: r.a, b: r.b };
    });
    return { source: 'server', cards: [card(sa, server.durA), card(sb, server.durB)], rows, onlyA: server.onlyA, onlyB: server.onlyB, truncated: server.truncated };
  }
  const [sa, sb] = await Promise.all([api.getTrace(idA), api.getTrace(idB)]);
  if (!sa.length || !sb.length) return { missing: !sa.length ? idA : idB };
  const ma = buildTrace(sa), mb = buildTrace(sb);
  const card = (m) => ({ service: m.roots[0]?.span.service || '', name: m.roots[0]?.span.name || '', dur: m.end - m.start, spans: m.nodes.length, errors: m.errors });
  const rows = diff(ma, mb).map((r) => {
    const g = r.a || r.b;
    const st = (x) => (x ? { count: x.count, dur: x.dur, errors: x.errors } : null);
    return { key: r.key, depth: g.depth, service: g.service, name: g.name, a: st(r.a), b: st(r.b) };
  });
  return { source: 'browser', cards: [card(ma), card(mb)], rows, onlyA: rows.filter((r) => !r.b).length, onlyB: rows.filter((r) => !r.a).length };
}

function paint(params, c) {
  const [ca, cb] = c.cards;
  const summary = h('div', { class: 'grid-2', style: { marginBottom: '14px' } },
    [[params.a, ca, 'A (baseline)'], [params.b, cb, 'B']].map(([id, k, label]) => h('div', { class: 'panel panel-body cmp-card' },
      h('div', { class: 'muted' }, label),
      h('div', null, h('b', { style: { color: serviceColor(k.service) } }, k.service), ' ', k.name),
      h('div', { class: 'trace-stats' }, h('span', null, 'Duration ', h('b', null, fmtDuration(k.dur))), h('span', null, 'Spans ', h('b', null, String(k.spans))), h('span', null, 'Errors ', h('b', null, String(k.errors))),
        h('a', { href: href('trace', id), class: 'mono', title: id }, id.slice(0, 16) + '…')))));
  const da = ca.dur, change = cb.dur - da;
  const selfTip = (x) => (x && x.self !== undefined ? `, self ${fmtDuration(x.self)}` : '');
  const tree = h('div', { class: 'panel cmp-tree', 'data-source': c.source },
    h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, `Span paths: ${c.rows.length}`),
      h('span', { class: 'muted' }, `B is ${fmtDuration(Math.abs(change))} ${change >= 0 ? 'slower' : 'faster'} (${da ? (change >= 0 ? '+' : '') + Math.round((change / da) * 100) + '%' : '–'})`),
      c.truncated ? h('span', { class: 'badge' }, 'partial: a trace is larger than the server compares') : null,
      h('div', { class: 'cmp-legend', style: { marginLeft: 'auto' } }, h('span', { class: 'cmp-only-a' }, h('i', { style: { background: 'var(--error-soft)' } }), `only in A (${c.onlyA})`), h('span', { class: 'cmp-only-b' }, h('i', { style: { background: 'rgba(16,185,129,.25)' } }), `only in B (${c.onlyB})`))),
    h('div', { class: 'cmp-row', style: { fontWeight: 600, color: 'var(--muted)', fontSize: '11.5px' } }, h('span', null, 'SERVICE: OPERATION'), h('span', { class: 'num' }, 'A'), h('span', { class: 'num' }, 'B'), h('span', { class: 'num' }, 'CHANGE')),
    c.rows.map((r) => {
      const d = r.a && r.b ? r.b.dur - r.a.dur : null;
      const cell = (x) => (x ? `${fmtDuration(x.dur)}${x.count > 1 ? ` ×${x.count}` : ''}${x.errors ? ' ⚠' : ''}` : '—');
      return h('div', { class: ['cmp-row', !r.b && 'only-a', !r.a && 'only-b'], 'data-path': r.key, title: `${r.key}${r.a ? `\nA: ${r.a.count} span(s), ${fmtDuration(r.a.dur)}${selfTip(r.a)}` : ''}${r.b ? `\nB: ${r.b.count} span(s), ${fmtDuration(r.b.dur)}${selfTip(r.b)}` : ''}` },
        h('span', { style: { paddingLeft: Math.min(r.depth, 20) * 14 + 'px', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' } },
          h('span', { style: { color: serviceColor(r.service), fontWeight: 600 } }, r.service), ' ', r.name),
        h('span', { class: 'num mono' }, cell(r.a)), h('span', { class: 'num mono' }, cell(r.b)),
        h('span', { class: ['num mono delta', d > 0 && 'up', d < 0 && 'down'] }, d === null ? (r.a ? 'removed' : 'added') : (d >= 0 ? '+' : '−') + fmtDuration(Math.abs(d))));
    }));
  return [summary, tree];
}
