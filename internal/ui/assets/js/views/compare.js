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
  replace(out, spinner('Loading both traces…'));
  Promise.all([api.getTrace(params.a), api.getTrace(params.b)]).then(([sa, sb]) => {
    if (!sa.length || !sb.length) { replace(out, errorBox(`trace ${!sa.length ? params.a : params.b} not found`)); return; }
    const ma = buildTrace(sa), mb = buildTrace(sb);
    const rows = diff(ma, mb);
    const onlyA = rows.filter((r) => !r.b).length, onlyB = rows.filter((r) => !r.a).length;
    const da = ma.end - ma.start, db = mb.end - mb.start;
    const summary = h('div', { class: 'grid-2', style: { marginBottom: '14px' } },
      [[params.a, ma, da, 'A'], [params.b, mb, db, 'B']].map(([id, m, d, label]) => h('div', { class: 'panel panel-body' },
        h('div', { class: 'muted' }, label),
        h('div', null, h('b', { style: { color: serviceColor(m.roots[0]?.span.service || '') } }, m.roots[0]?.span.service || ''), ' ', m.roots[0]?.span.name || ''),
        h('div', { class: 'trace-stats' }, h('span', null, 'Duration ', h('b', null, fmtDuration(d))), h('span', null, 'Spans ', h('b', null, String(m.nodes.length))), h('span', null, 'Errors ', h('b', null, String(m.errors))),
          h('a', { href: href('trace', id), class: 'mono' }, id.slice(0, 16) + '…')))));
    const change = db - da;
    const tree = h('div', { class: 'panel cmp-tree' },
      h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, `Span paths: ${rows.length}`),
        h('span', { class: 'muted' }, `B is ${fmtDuration(Math.abs(change))} ${change >= 0 ? 'slower' : 'faster'} (${da ? (change >= 0 ? '+' : '') + Math.round((change / da) * 100) + '%' : '–'})`),
        h('div', { class: 'cmp-legend', style: { marginLeft: 'auto' } }, h('span', null, h('i', { style: { background: 'var(--error-soft)' } }), `only in A (${onlyA})`), h('span', null, h('i', { style: { background: 'rgba(16,185,129,.25)' } }), `only in B (${onlyB})`))),
      h('div', { class: 'cmp-row', style: { fontWeight: 600, color: 'var(--muted)', fontSize: '11.5px' } }, h('span', null, 'SERVICE: OPERATION'), h('span', { class: 'num' }, 'A'), h('span', { class: 'num' }, 'B'), h('span', { class: 'num' }, 'CHANGE')),
      rows.map((r) => {
        const g = r.a || r.b;
        const d = r.a && r.b ? r.b.dur - r.a.dur : null;
        const cell = (x) => (x ? `${fmtDuration(x.dur)}${x.count > 1 ? ` ×${x.count}` : ''}${x.errors ? ' ⚠' : ''}` : '—');
        return h('div', { class: ['cmp-row', !r.b && 'only-a', !r.a && 'only-b'], 'data-path': r.key },
          h('span', { style: { paddingLeft: Math.min(g.depth, 20) * 14 + 'px', overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }, title: r.key },
            h('span', { style: { color: serviceColor(g.service), fontWeight: 600 } }, g.service), ' ', g.name),
          h('span', { class: 'num mono' }, cell(r.a)), h('span', { class: 'num mono' }, cell(r.b)),
          h('span', { class: ['num mono delta', d > 0 && 'up', d < 0 && 'down'] }, d === null ? (r.a ? 'removed' : 'added') : (d >= 0 ? '+' : '−') + fmtDuration(Math.abs(d))));
      }));
    replace(out, summary, tree);
  }).catch((e) => replace(out, errorBox(e)));
}
