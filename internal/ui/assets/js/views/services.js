// Service map: services as nodes in columns by call depth, edges with call counts and error rates.
import { h, s, replace, spinner, errorBox, empty, showTip, hideTip } from '../dom.js';
import * as api from '../api.js';
import { go, update } from '../router.js';
import { fmtNum, fmtPct, serviceColor } from '../format.js';
import { picker, resolve } from '../timerange.js';

// layoutGraph assigns each service a column (longest path from a caller-less service) and a row.
export function layoutGraph(names, edges) {
  const out = new Map(names.map((n) => [n, []]));
  const indeg = new Map(names.map((n) => [n, 0]));
  for (const e of edges) { if (e.parent === e.child) continue; out.get(e.parent)?.push(e.child); indeg.set(e.child, (indeg.get(e.child) || 0) + 1); }
  const col = new Map();
  const queue = names.filter((n) => !indeg.get(n));
  if (!queue.length && names.length) queue.push(names[0]);
  for (const n of queue) col.set(n, 0);
  // longest-path layering bounded by the number of nodes (cycles stop growing)
  for (let iter = 0; iter < names.length; iter++) {
    let changed = false;
    for (const e of edges) {
      if (e.parent === e.child || !col.has(e.parent)) continue;
      const c = col.get(e.parent) + 1;
      if (c < names.length && (!col.has(e.child) || col.get(e.child) < c)) { col.set(e.child, c); changed = true; }
    }
    if (!changed) break;
  }
  for (const n of names) if (!col.has(n)) col.set(n, 0);
  const cols = [];
  for (const n of names) { const c = col.get(n); (cols[c] ||= []).push(n); }
  return { col, cols: cols.filter(Boolean) };
}

export function render(root, _arg, params) {
  let p = { ...params };
  const trSlot = h('div');
  const out = h('div', { class: 'panel' });
  const paint = () => replace(trSlot, picker(p, (ch) => { p = { ...p, ...ch }; update('services', '', p); paint(); load(); }));
  paint();
  root.append(h('div', { class: 'toolbar' }, h('h1', null, 'Service map'), h('span', { class: 'grow' }), trSlot), out);

  async function load() {
    replace(out, spinner('Building the service map…'));
    const { start, end } = resolve(p);
    let deps, names;
    try {
      [deps, names] = await Promise.all([api.dependencies(start, end), api.services().catch(() => [])]);
    } catch (e) { if (e.name !== 'AbortError') replace(out, errorBox(e)); return; }
    const all = [...new Set([...names, ...deps.nodes.map((n) => n.name), ...deps.edges.flatMap((e) => [e.parent, e.child])])].filter(Boolean).sort();
    if (!all.length) { replace(out, empty('No services yet.', 'Send traces to otlpd (OTLP gRPC :4317, HTTP :4318) and they appear here.')); return; }
    const { cols, col } = layoutGraph(all, deps.edges);
    // edges that skip a column run in lanes above the nodes, so they never cross a service box
    const long = deps.edges.filter((e) => e.parent !== e.child && col.get(e.child) - col.get(e.parent) > 1);
    const NW = 190, NH = 46, GX = 130, GY = 26, PAD = 24, TOP = PAD + (long.length ? 22 + long.length * 16 : 0);
    const pos = new Map();
    const maxRows = Math.max(...cols.map((c) => c.length));
    cols.forEach((c, ci) => c.forEach((n, ri) => {
      const off = ((maxRows - c.length) * (NH + GY)) / 2;
      pos.set(n, { x: PAD + ci * (NW + GX), y: TOP + off + ri * (NH + GY) });
    }));
    const W = PAD * 2 + cols.length * NW + (cols.length - 1) * GX, H = TOP + PAD + maxRows * (NH + GY) - GY + 40;
    const svg = s('svg', { width: W, height: H, class: 'map-svg', role: 'img', 'aria-label': 'Service dependency map' },
      s('defs', null,
        s('marker', { id: 'arr', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow' })),
        s('marker', { id: 'arr-err', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow-err' }))));
    const edgeLabels = [];
    const inbound = new Map();
    for (const e of deps.edges) { const x = inbound.get(e.child) || { calls: 0, errors: 0 }; x.calls += e.calls; x.errors += e.errors; inbound.set(e.child, x); }
    const placed = [];
    const labelAt = (x, y, w) => { // nudge a label down until it overlaps no other label
      for (let k = 0; k < 12 && placed.some((b) => Math.abs(b.x - x) < (b.w + w) / 2 + 4 && Math.abs(b.y - y) < 14); k++) y += 14;
      placed.push({ x, y, w });
      return y;
    };
    for (const e of deps.edges) {
      const a = pos.get(e.parent), b = pos.get(e.child);
      if (!a || !b) continue;
      const rate = e.calls ? e.errors / e.calls : 0;
      const bad = rate >= 0.05;
      let d, lx, ly;
      if (e.parent === e.child) { d = `M${a.x + NW - 30},${a.y}c0,-30 40,-30 30,0`; lx = a.x + NW - 10; ly = a.y - 26; }
      else {
        const x1 = a.x + NW, y1 = a.y + NH / 2, x2 = b.x, y2 = b.y + NH / 2;
        const back = x2 <= x1;
        const mx = (x1 + x2) / 2;
        const k = long.indexOf(e);
        if (k >= 0) {
          const lane = TOP - 16 - k * 16, g1 = x1 + 16 + k * 7, g2 = x2 - 16 - k * 7;
          d = `M${x1},${y1}H${g1}V${lane}H${g2}V${y2}H${x2 - 2}`;
          lx = (g1 + g2) / 2; ly = lane - 4;
        } else d = back ? `M${a.x + NW / 2},${a.y + NH}C${a.x + NW / 2},${a.y + NH + 60} ${b.x + NW / 2},${b.y + NH + 60} ${b.x + NW / 2},${b.y + NH}` : `M${x1},${y1}C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`;
        if (k < 0) { lx = back ? (a.x + b.x + NW) / 2 : mx; ly = back ? Math.max(a.y, b.y) + NH + 44 : (y1 + y2) / 2 - 5; }
      }
      const tip = [`${e.parent} → ${e.child}`, ['calls', fmtNum(e.calls)], ['errors', `${fmtNum(e.errors)} (${fmtPct(rate)})`]];
      const path = s('path', { d, class: ['edge', bad && 'err'].filter(Boolean).join(' '), 'marker-end': bad ? 'url(#arr-err)' : 'url(#arr)', 'stroke-width': Math.min(5, 1.2 + Math.log10(1 + e.calls) * 0.8) });
      path.addEventListener('mouseenter', (ev) => showTip(ev, tip));
      path.addEventListener('mouseleave', hideTip);
      svg.appendChild(path);
        const label = `${fmtNum(e.calls)} calls${e.errors ? ` · ${fmtPct(rate)} err` : ''}`;
      edgeLabels.push(s('text', { x: lx, y: labelAt(lx, ly, label.length * 6.2), class: ['edge-label', bad ? 'err' : e.errors ? 'warn' : ''].filter(Boolean).join(' '), 'text-anchor': 'middle', 'data-edge': `${e.parent}->${e.child}` }, label));
    }
    edgeLabels.forEach((l) => svg.appendChild(l));
    for (const n of all) {
      const { x, y } = pos.get(n);
      const inb = inbound.get(n);
      const g = s('g', { class: 'node', transform: `translate(${x},${y})`, tabindex: 0, role: 'link', 'aria-label': `Service ${n}`, 'data-service': n },
        s('rect', { width: NW, height: NH, rx: 8 }),
        s('rect', { width: 4, height: NH - 16, x: 8, y: 8, rx: 2, style: `fill: ${serviceColor(n)}; stroke: none` }),
        s('text', { x: 20, y: 20 }, n.length > 22 ? n.slice(0, 21) + '…' : n),
        s('text', { x: 20, y: 36, class: 'sub' }, inb ? `${fmtNum(inb.calls)} in · ${fmtPct(inb.calls ? inb.errors / inb.calls : 0)} err` : 'entry point'));
      const open = () => go('service', n, p.range || p.from ? { range: p.range, from: p.from, to: p.to } : {});
      g.addEventListener('click', open);
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
      svg.appendChild(g);
    }
    replace(out, h('div', { class: 'panel-head' }, h('span', { class: 'muted' }, `${all.length} services · ${deps.edges.length} edges · click a service for its overview`)), h('div', { class: 'map-wrap panel-body' }, svg), h('div', { class: 'map-legend muted' }, h('span', null, h('i', { class: 'ok' }), 'no errors'), h('span', null, h('i', { class: 'warn' }), 'some errors'), h('span', null, h('i', { class: 'err' }), '≥ 5% errors'), h('span', null, 'line width: call volume')));
  }
  load();
}
