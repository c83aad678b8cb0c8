// Service map: services as nodes in columns by call depth, edges with call counts and error rates.
import { h, s, replace, spinner, errorBox, empty, showTip, hideTip } from '../dom.js';
import * as api from '../api.js';
import { go, update, href } from '../router.js';
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
  let showAll = false;
  const trSlot = h('div');
  const out = h('div', { class: 'panel' });
  const edgesBox = h('div', { class: 'panel', style: { marginTop: '14px' }, hidden: true });
  const trParams = () => (p.range || p.from ? { range: p.range, from: p.from, to: p.to } : {});
  const open = (n) => go('service', n, trParams());
  const paint = () => replace(trSlot, picker(p, (ch) => { p = { ...p, ...ch }; update('services', '', p); paint(); load(); }));
  paint();
  root.append(h('div', { class: 'toolbar' }, h('h1', null, 'Service map'), h('span', { class: 'grow' }), trSlot), out, edgesBox);

  async function load() {
    replace(out, spinner('Building the service map…'));
    const { start, end } = resolve(p);
    let deps, names;
    try {
      [deps, names] = await Promise.all([api.dependencies(start, end), api.services().catch(() => [])]);
    } catch (e) { if (e.name !== 'AbortError') replace(out, errorBox(e)); return; }
    const all = [...new Set([...names, ...deps.nodes.map((n) => n.name), ...deps.edges.flatMap((e) => [e.parent, e.child])])].filter(Boolean).sort();
    if (!all.length) { replace(out, empty('No services yet.', 'Send traces to otlpd (OTLP gRPC :4317, HTTP :4318) and they appear here.')); return; }
    const dense = isDense(all, deps.edges);
    const svg = dense ? circularMap(all, deps.edges, open) : layeredMap(all, deps.edges, open);
    const sorted = deps.edges.slice().sort((a, b) => b.errors / (b.calls || 1) - a.errors / (a.calls || 1) || b.calls - a.calls);
    const table = h('table', { class: 'tbl edge-table' },
      h('thead', null, h('tr', null, h('th', null, 'Caller'), h('th', null, 'Callee'), h('th', { class: 'num' }, 'Calls'), h('th', { class: 'num' }, 'Errors'), h('th', { class: 'num' }, 'Error rate'))),
      h('tbody', null, sorted.slice(0, showAll ? sorted.length : 15).map((e) => h('tr', { 'data-edge': `${e.parent}->${e.child}` },
        h('td', null, h('a', { href: href('service', e.parent, trParams()) }, e.parent)), h('td', null, h('a', { href: href('service', e.child, trParams()) }, e.child)),
        h('td', { class: 'num' }, fmtNum(e.calls)), h('td', { class: 'num' }, fmtNum(e.errors)),
        h('td', { class: ['num', e.calls && e.errors / e.calls >= 0.05 ? 'status-err' : e.errors ? 'warn-text' : null] }, fmtPct(e.calls ? e.errors / e.calls : 0))))));
    const more = sorted.length > 15 && !showAll ? h('button', { type: 'button', class: 'btn small', style: { margin: '8px 10px' }, onclick: () => { showAll = true; load(); } }, `Show all ${sorted.length} edges`) : null;
    replace(out,
      h('div', { class: 'panel-head' }, h('span', { class: 'muted' }, `${all.length} services · ${deps.edges.length} edges · ${dense ? 'hover a service to see its calls; ' : ''}click a service for its overview`)),
      h('div', { class: 'map-wrap panel-body' }, svg),
      h('div', { class: 'map-legend muted' }, h('span', null, h('i', { class: 'ok' }), 'no errors'), h('span', null, h('i', { class: 'warn' }), 'some errors'), h('span', null, h('i', { class: 'err' }), '≥ 5% errors'), h('span', null, 'line width: call volume')));
    edgesBox.hidden = !deps.edges.length;
    replace(edgesBox, h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, 'Calls between services'), h('span', { class: 'muted' }, 'highest error rate first')), table, more);
  }
  load();
}

// layeredMap draws services in columns by call depth, edges left to right; edges that skip a column run in
// lanes above the nodes so they never cross a service box.
function layeredMap(all, edges, open) {
  const deps = { edges };
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
      g.addEventListener('click', () => open(n));
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(n); });
      svg.appendChild(g);
    }
  return svg;
}

// isDense says whether a layered drawing would be unreadable: cycles that collapse the columns, many edges
// per service, or a column taller than a screen.
export function isDense(all, edges) {
  if (all.length <= 3) return false;
  const { cols } = layoutGraph(all, edges);
  return edges.length > all.length * 2.5 || cols.length < 2 || Math.max(...cols.map((c) => c.length)) > 9;
}

// circularMap places services on a circle with calls as curves through the middle. Hovering (or focusing) a
// service brings its calls forward with their labels and fades the rest.
function circularMap(all, edges, open) {
  // an ellipse wider than tall fits a laptop screen; sizes grow with the number of services up to a cap
  const n = all.length, NW = 140, NH = 38, PAD = 24;
  const RX = Math.max(220, Math.min(480, n * 25)), RY = Math.max(160, Math.min(290, n * 15));
  const W = 2 * (RX + NW / 2 + PAD), H = 2 * (RY + NH / 2 + PAD);
  const cx = W / 2, cy = H / 2;
  const pos = new Map(all.map((name, i) => {
    const a = -Math.PI / 2 + (i / n) * 2 * Math.PI;
    return [name, { x: cx + RX * Math.cos(a), y: cy + RY * Math.sin(a) }];
  }));
  const svg = s('svg', { width: W, height: H, class: 'map-svg circular', role: 'img', 'aria-label': 'Service dependency map' },
    s('defs', null,
      s('marker', { id: 'arr', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow' })),
      s('marker', { id: 'arr-err', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow-err' }))));
  const maxCalls = Math.max(1, ...edges.map((e) => e.calls));
  const byNode = new Map(all.map((x) => [x, []]));
  const inbound = new Map();
  const layer = s('g', { class: 'edges' });
  const labels = s('g', { class: 'labels' });
  const ordered = edges.slice().sort((a, b) => a.errors / (a.calls || 1) - b.errors / (b.calls || 1));
  for (const e of ordered) {
    const a = pos.get(e.parent), b = pos.get(e.child);
    if (!a || !b || e.parent === e.child) continue;
    const rate = e.calls ? e.errors / e.calls : 0;
    const cls = rate >= 0.05 ? 'err' : e.errors ? 'warn' : '';
    const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
    const qx = mx + (cx - mx) * 0.55, qy = my + (cy - my) * 0.55;
    // end the curve at the edge of the target's box, not its centre
    const dx = b.x - qx, dy = b.y - qy, len = Math.hypot(dx, dy) || 1;
    const k = Math.min(Math.abs((NW / 2 + 2) / (dx / len || 1e-9)), Math.abs((NH / 2 + 2) / (dy / len || 1e-9)));
    const ex = b.x - (dx / len) * k, ey = b.y - (dy / len) * k;
    const path = s('path', { d: `M${a.x},${a.y}Q${qx},${qy} ${ex},${ey}`, class: ['edge', cls].filter(Boolean).join(' '), 'marker-end': cls === 'err' ? 'url(#arr-err)' : 'url(#arr)', 'stroke-width': 0.8 + 3.2 * Math.sqrt(e.calls / maxCalls) });
    const tip = [`${e.parent} → ${e.child}`, ['calls', fmtNum(e.calls)], ['errors', `${fmtNum(e.errors)} (${fmtPct(rate)})`]];
    path.addEventListener('mouseenter', (ev) => showTip(ev, tip));
    path.addEventListener('mouseleave', hideTip);
    layer.appendChild(path);
    const curve = { e, cls, rate, path, pts: [a.x, a.y, qx, qy, ex, ey] };
    byNode.get(e.parent).push(curve);
    byNode.get(e.child).push(curve);
    const x = inbound.get(e.child) || { calls: 0, errors: 0 }; x.calls += e.calls; x.errors += e.errors; inbound.set(e.child, x);
  }
  svg.append(layer, labels);
  // Focusing a service highlights its calls and labels each near the other service's end, so the labels
  // spread around the ellipse instead of piling up in the middle.
  const at = ([x0, y0, x1, y1, x2, y2], t) => [(1 - t) ** 2 * x0 + 2 * (1 - t) * t * x1 + t * t * x2, (1 - t) ** 2 * y0 + 2 * (1 - t) * t * y1 + t * t * y2];
  const focus = (name) => {
    svg.classList.toggle('focus', !!name);
    for (const el of svg.querySelectorAll('.hl')) el.classList.remove('hl');
    labels.replaceChildren();
    if (!name) return;
    for (const c of byNode.get(name)) {
      c.path.classList.add('hl');
      const [x, y] = at(c.pts, c.e.parent === name ? 0.8 : 0.22);
      labels.appendChild(s('text', { x, y: y - 3, class: ['edge-label', 'hl', c.cls].filter(Boolean).join(' '), 'text-anchor': 'middle', 'data-edge': `${c.e.parent}->${c.e.child}` },
        `${c.e.parent === name ? '→' : '←'} ${fmtNum(c.e.calls)}${c.e.errors ? ` · ${fmtPct(c.rate)}` : ''}`));
    }
  };
  for (const name of all) {
    const { x, y } = pos.get(name);
    const inb = inbound.get(name);
    const g = s('g', { class: 'node', transform: `translate(${x - NW / 2},${y - NH / 2})`, tabindex: 0, role: 'link', 'aria-label': `Service ${name}`, 'data-service': name },
      s('rect', { width: NW, height: NH, rx: 19 }),
      s('circle', { cx: 16, cy: NH / 2, r: 5, style: `fill: ${serviceColor(name)}; stroke: none` }),
      s('text', { x: 28, y: 16 }, name.length > 15 ? name.slice(0, 14) + '…' : name, s('title', null, name)),
      s('text', { x: 28, y: 30, class: 'sub' }, inb ? `${fmtNum(inb.calls)} in · ${fmtPct(inb.calls ? inb.errors / inb.calls : 0)} err` : 'entry point'));
    g.addEventListener('mouseenter', () => focus(name));
    g.addEventListener('mouseleave', () => focus(''));
    g.addEventListener('focus', () => focus(name));
    g.addEventListener('blur', () => focus(''));
    g.addEventListener('click', () => open(name));
    g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(name); });
    svg.appendChild(g);
  }
  return svg;
}
