// Service map: services as nodes in columns by call depth, edges with call counts and error rates.
import { h, s, replace, spinner, errorBox, empty, showTip, hideTip } from '../dom.js';
import * as api from '../api.js';
import { go, update, href } from '../router.js';
import { fmtNum, fmtPct, serviceColor } from '../format.js';
import { picker, resolve } from '../timerange.js';

// bad says whether a call edge is drawn as failing: at least 5% errors, and at least 5 of them, so that one
// failure among a handful of calls does not paint the map red.
export function bad(e) { return e.calls > 0 && e.errors >= 5 && e.errors / e.calls >= 0.05; }

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

// busiest returns the n edges with the most calls (ties: more errors first, then by name); n <= 0 keeps all.
export function busiest(edges, n) {
  if (!(n > 0) || edges.length <= n) return edges;
  return edges.slice().sort((a, b) => b.calls - a.calls || b.errors - a.errors || (a.parent + a.child).localeCompare(b.parent + b.child)).slice(0, n);
}

// EDGE_CHOICES are the sizes of the "calls drawn" control; a graph with more edges than AUTO_EDGES starts at
// AUTO_EDGES so that the map shows its main paths instead of a hairball.
const EDGE_CHOICES = [20, 40, 80, 160];
const AUTO_EDGES = 40;

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
  // how many calls the map draws: the busiest N, or all (p.edges: '' = automatic, 'all', or a number)
  const edgeSel = h('select', { 'aria-label': 'Calls drawn', class: 'edge-limit', onchange: () => { p = { ...p, edges: edgeSel.value }; update('services', '', p); load(); } },
    h('option', { value: '' }, `Busiest ${AUTO_EDGES} calls (auto)`), EDGE_CHOICES.map((n) => h('option', { value: String(n) }, `Busiest ${n} calls`)), h('option', { value: 'all' }, 'All calls'));
  edgeSel.value = p.edges || '';
  // peers that send no telemetry (databases, third-party APIs), named from the attributes of client spans
  const peerBox = h('input', { type: 'checkbox', class: 'peers-toggle', checked: !!p.peers, onchange: () => { p = { ...p, peers: peerBox.checked ? '1' : '' }; update('services', '', p); load(); } });
  root.append(h('div', { class: 'toolbar' }, h('h1', null, 'Service map'), h('span', { class: 'grow' }),
    h('label', { class: 'check', title: 'Databases and other peers that send no telemetry, named by the attributes of the calls to them' }, peerBox, 'Uninstrumented peers'),
    h('label', { class: 'field' }, 'Draw', edgeSel), trSlot), out, edgesBox);

  async function load() {
    replace(out, spinner('Building the service map…'));
    const { start, end } = resolve(p);
    let deps, names;
    try {
      [deps, names] = await Promise.all([api.dependencies(start, end, !!p.peers), api.services().catch(() => [])]);
    } catch (e) { if (e.name !== 'AbortError') replace(out, errorBox(e)); return; }
    const all = [...new Set([...names, ...deps.nodes.map((n) => n.name), ...deps.peers, ...deps.edges.flatMap((e) => [e.parent, e.child])])].filter(Boolean).sort();
    const peers = new Set(deps.peers.filter((n) => !names.includes(n)));
    if (!all.length) { replace(out, empty('No services yet.', 'Send traces to otlpd (OTLP gRPC :4317, HTTP :4318) and they appear here.')); return; }
    const limit = p.edges === 'all' ? 0 : Number(p.edges) || AUTO_EDGES;
    const drawn = busiest(deps.edges, limit);
    const dense = isDense(all, drawn);
    // the boxes count every call into the service, drawn or not
    const inbound = new Map();
    for (const e of deps.edges) { const x = inbound.get(e.child) || { calls: 0, errors: 0 }; x.calls += e.calls; x.errors += e.errors; inbound.set(e.child, x); }
    const svg = dense ? circularMap(all, drawn, open, inbound, peers) : layeredMap(all, drawn, open, inbound, peers);
    const sorted = deps.edges.slice().sort((a, b) => b.errors / (b.calls || 1) - a.errors / (a.calls || 1) || b.calls - a.calls);
    const table = h('table', { class: 'tbl edge-table' },
      h('thead', null, h('tr', null, h('th', null, 'Caller'), h('th', null, 'Callee'), h('th', { class: 'num' }, 'Calls'), h('th', { class: 'num' }, 'Errors'), h('th', { class: 'num' }, 'Error rate'))),
      h('tbody', null, sorted.slice(0, showAll ? sorted.length : 15).map((e) => h('tr', { 'data-edge': `${e.parent}->${e.child}` },
        h('td', null, h('a', { href: href('service', e.parent, trParams()) }, e.parent)), h('td', null, h('a', { href: href('service', e.child, trParams()) }, e.child)),
        h('td', { class: 'num' }, fmtNum(e.calls)), h('td', { class: 'num' }, fmtNum(e.errors)),
        h('td', { class: ['num', bad(e) ? 'status-err' : e.errors ? 'warn-text' : null] }, fmtPct(e.calls ? e.errors / e.calls : 0))))));
    const more = sorted.length > 15 && !showAll ? h('button', { type: 'button', class: 'btn small', style: { margin: '8px 10px' }, onclick: () => { showAll = true; load(); } }, `Show all ${sorted.length} edges`) : null;
    replace(out,
      h('div', { class: 'panel-head' }, h('span', { class: 'muted map-summary' }, `${all.length - peers.size} services${peers.size ? ` and ${peers.size} uninstrumented peers` : ''} · ${fmtNum(deps.edges.length)} caller → callee pairs${drawn.length < deps.edges.length ? `, the busiest ${drawn.length} drawn (${fmtNum(drawn.reduce((a, e) => a + e.calls, 0))} of ${fmtNum(deps.edges.reduce((a, e) => a + e.calls, 0))} calls)` : ''} · ${dense ? 'hover a service to see its calls; ' : ''}click a service for its overview`)),
      h('div', { class: 'map-wrap panel-body' }, svg),
      h('div', { class: 'map-legend muted' }, h('span', null, h('i', { class: 'ok' }), 'no errors'), h('span', null, h('i', { class: 'warn' }), 'some errors'), h('span', null, h('i', { class: 'err' }), '≥ 5% errors (5 or more)'), h('span', null, 'line width: call volume')));
    edgesBox.hidden = !deps.edges.length;
    replace(edgesBox, h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, 'Calls between services'), h('span', { class: 'muted' }, 'highest error rate first')), table, more);
  }
  load();
}

// layeredMap draws services in columns by call depth, edges left to right; edges that skip a column run in
// lanes above the nodes so they never cross a service box.
function layeredMap(all, edges, open, inbound, peers) {
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
      const isBad = bad(e);
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
      const path = s('path', { d, 'data-calls': e.calls, class: ['edge', isBad && 'err'].filter(Boolean).join(' '), 'marker-end': isBad ? 'url(#arr-err)' : 'url(#arr)', 'stroke-width': Math.min(5, 1.2 + Math.log10(1 + e.calls) * 0.8) });
      path.addEventListener('mouseenter', (ev) => showTip(ev, tip));
      path.addEventListener('mouseleave', hideTip);
      svg.appendChild(path);
        const label = `${fmtNum(e.calls)} calls${e.errors ? ` · ${fmtPct(rate)} err` : ''}`;
      edgeLabels.push(s('text', { x: lx, y: labelAt(lx, ly, label.length * 6.2), class: ['edge-label', isBad ? 'err' : e.errors ? 'warn' : ''].filter(Boolean).join(' '), 'text-anchor': 'middle', 'data-edge': `${e.parent}->${e.child}` }, label));
    }
    edgeLabels.forEach((l) => svg.appendChild(l));
    for (const n of all) {
      const { x, y } = pos.get(n);
      const inb = inbound.get(n);
      const peer = peers.has(n);
      const g = s('g', { class: peer ? 'node peer' : 'node', transform: `translate(${x},${y})`, tabindex: 0, role: peer ? 'img' : 'link', 'aria-label': peer ? `Peer ${n}, not instrumented` : `Service ${n}`, 'data-service': n },
        s('rect', { width: NW, height: NH, rx: 8 }),
        s('rect', { width: 4, height: NH - 16, x: 8, y: 8, rx: 2, style: `fill: ${serviceColor(n)}; stroke: none` }),
        s('text', { x: 20, y: 20 }, n.length > 22 ? n.slice(0, 21) + '…' : n),
        s('text', { x: 20, y: 36, class: 'sub' }, nodeSub(inb, peer)));
      if (!peer) {
        g.addEventListener('click', () => open(n));
        g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(n); });
      }
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
function circularMap(all, edges, open, inbound, peers) {
  // an ellipse wider than tall fits a laptop screen; sizes grow with the number of services up to a cap
  // boxes wide enough for the longest name (within limits); names longer still are cut with an ellipsis
  const n = all.length, NH = 38, PAD = 24;
  const NW = Math.round(Math.max(140, Math.min(200, 44 + 7.4 * Math.max(...all.map((x) => x.length)))));
  const maxChars = Math.floor((NW - 40) / 7.4);
  const RX = Math.max(220, Math.min(560 - NW / 2, n * 25));
  const { angles, ry: RY } = ellipseSlots(n, RX, Math.max(160, Math.min(290, n * 15)), NW, NH);
  const W = 2 * (RX + NW / 2 + PAD), H = 2 * (RY + NH / 2 + PAD);
  const cx = W / 2, cy = H / 2;
  const pos = new Map(all.map((name, i) => [name, { x: cx + RX * Math.cos(angles[i]), y: cy + RY * Math.sin(angles[i]) }]));
  const svg = s('svg', { width: W, height: H, class: ['map-svg circular', edges.length <= 60 && 'sparse'].filter(Boolean).join(' '), role: 'img', 'aria-label': 'Service dependency map' },
    s('defs', null,
      s('marker', { id: 'arr', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow' })),
      s('marker', { id: 'arr-err', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow-err' }))));
  const maxCalls = Math.max(1, ...edges.map((e) => e.calls));
  const byNode = new Map(all.map((x) => [x, []]));
  const layer = s('g', { class: 'edges' });
  const labels = s('g', { class: 'labels' });
  const ordered = edges.slice().sort((a, b) => a.errors / (a.calls || 1) - b.errors / (b.calls || 1));
  for (const e of ordered) {
    const a = pos.get(e.parent), b = pos.get(e.child);
    if (!a || !b || e.parent === e.child) continue;
    const rate = e.calls ? e.errors / e.calls : 0;
    const cls = bad(e) ? 'err' : e.errors ? 'warn' : '';
    const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
    // calls in the two directions between a pair bend differently, so they (and their labels) do not overlap
    const bend = e.parent < e.child ? 0.45 : 0.65;
    const qx = mx + (cx - mx) * bend, qy = my + (cy - my) * bend;
    // end the curve at the edge of the target's box, not its centre
    const dx = b.x - qx, dy = b.y - qy, len = Math.hypot(dx, dy) || 1;
    const k = Math.min(Math.abs((NW / 2 + 2) / (dx / len || 1e-9)), Math.abs((NH / 2 + 2) / (dy / len || 1e-9)));
    const ex = b.x - (dx / len) * k, ey = b.y - (dy / len) * k;
    const path = s('path', { d: `M${a.x},${a.y}Q${qx},${qy} ${ex},${ey}`, 'data-calls': e.calls, class: ['edge', cls].filter(Boolean).join(' '), 'marker-end': cls === 'err' ? 'url(#arr-err)' : 'url(#arr)', 'stroke-width': 0.8 + 3.2 * Math.sqrt(e.calls / maxCalls) });
    const tip = [`${e.parent} → ${e.child}`, ['calls', fmtNum(e.calls)], ['errors', `${fmtNum(e.errors)} (${fmtPct(rate)})`]];
    path.addEventListener('mouseenter', (ev) => showTip(ev, tip));
    path.addEventListener('mouseleave', hideTip);
    layer.appendChild(path);
    const curve = { e, cls, rate, path, pts: [a.x, a.y, qx, qy, ex, ey] };
    byNode.get(e.parent).push(curve);
    byNode.get(e.child).push(curve);
  }
  svg.append(layer, labels);
  // Focusing a service highlights its calls and labels each near the other service's end, so the labels
  // spread around the ellipse instead of piling up in the middle.
  const focus = (name) => {
    svg.classList.toggle('focus', !!name);
    for (const el of svg.querySelectorAll('.hl')) el.classList.remove('hl');
    labels.replaceChildren();
    if (!name) return;
    // one label per neighbour, just inside its box: calls out (→) and in (←) with their error rates
    const byPeer = new Map();
    for (const c of byNode.get(name)) {
      c.path.classList.add('hl');
      const peer = c.e.parent === name ? c.e.child : c.e.parent;
      const x = byPeer.get(peer) || { out: null, in: null };
      if (c.e.parent === name) x.out = c; else x.in = c;
      byPeer.set(peer, x);
    }
    const placed = [];
    const rank = { err: 2, warn: 1, '': 0 };
    for (const [peer, { out: o, in: i }] of byPeer) {
      const q = pos.get(peer);
      // beside the peer's box on the side facing the middle; above or below it at the top and bottom
      const side = Math.abs(q.y - cy) > RY * 0.75 ? 0 : q.x < cx ? 1 : -1;
      const x = side ? q.x + side * (NW / 2 + 6) : q.x;
      const y0 = side ? q.y + 4 : q.y + (q.y < cy ? NH / 2 + 14 : -NH / 2 - 6);
      const anchor = side > 0 ? 'start' : side < 0 ? 'end' : 'middle';
      const part = (c, arrow) => (c ? `${arrow} ${fmtNum(c.e.calls)}${c.e.errors ? ` (${fmtPct(c.rate)})` : ''}` : '');
      const text = [part(o, '→'), part(i, '←')].filter(Boolean).join('  ');
      const w = text.length * 6.4, left = side > 0 ? x : side < 0 ? x - w : x - w / 2;
      let y = y0;
      for (let k = 0; k < 8 && placed.some((b) => b.left < left + w + 4 && left < b.left + b.w + 4 && Math.abs(b.y - y) < 13); k++) y += q.y < cy ? 13 : -13;
      placed.push({ left, y, w });
      const cls = [o, i].filter(Boolean).map((c) => c.cls).sort((a, b) => rank[b] - rank[a])[0];
      labels.appendChild(s('text', { x, y, class: ['edge-label', 'hl', cls].filter(Boolean).join(' '), 'text-anchor': anchor, 'data-peer': peer,
        'data-edge': [o && `${o.e.parent}->${o.e.child}`, i && `${i.e.parent}->${i.e.child}`].filter(Boolean).join(' ') }, text));
    }
  };
  for (const name of all) {
    const { x, y } = pos.get(name);
    const inb = inbound.get(name);
    const peer = peers.has(name);
    const g = s('g', { class: peer ? 'node peer' : 'node', transform: `translate(${x - NW / 2},${y - NH / 2})`, tabindex: 0, role: peer ? 'img' : 'link', 'aria-label': peer ? `Peer ${name}, not instrumented` : `Service ${name}`, 'data-service': name },
      s('rect', { width: NW, height: NH, rx: 19 }),
      s('circle', { cx: 16, cy: NH / 2, r: 5, style: `fill: ${serviceColor(name)}; stroke: none` }),
      s('text', { x: 28, y: 16 }, name.length > maxChars ? name.slice(0, maxChars - 1) + '…' : name, s('title', null, name)),
      s('text', { x: 28, y: 30, class: 'sub' }, nodeSub(inb, peer)));
    g.addEventListener('mouseenter', () => focus(name));
    g.addEventListener('mouseleave', () => focus(''));
    g.addEventListener('focus', () => focus(name));
    g.addEventListener('blur', () => focus(''));
    if (!peer) {
      g.addEventListener('click', () => open(name));
      g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(name); });
    }
    svg.appendChild(g);
  }
  return svg;
}

// ellipseSlots returns n angles on an ellipse of radii rx, ry at which boxes of w x h do not overlap, starting
// at the top: neighbours must be apart by a box's width where the ellipse runs sideways (top and bottom) and by
// its height where it runs up and down (the sides), so the angles are spaced evenly in a measure that counts
// that need. When the ellipse is too small for n boxes, ry grows (the map gets taller) until they fit.
export function ellipseSlots(n, rx, ry, w, h) {
  const K = 720, step = (2 * Math.PI) / K;
  const need = (a, ryy) => Math.min((w + 14) / (rx * Math.abs(Math.sin(a)) + 1e-9), (h + 12) / (ryy * Math.abs(Math.cos(a)) + 1e-9));
  let cum;
  for (;;) {
    cum = [0];
    for (let k = 0; k < K; k++) cum.push(cum[k] + step / need(-Math.PI / 2 + (k + 0.5) * step, ry));
    if (cum[K] >= n || ry >= 900) break;
    ry += 20;
  }
  const angles = [];
  for (let i = 0, k = 0; i < n; i++) {
    const u = (i / n) * cum[K];
    while (k < K && cum[k + 1] < u) k++;
    const frac = cum[k + 1] > cum[k] ? (u - cum[k]) / (cum[k + 1] - cum[k]) : 0;
    angles.push(-Math.PI / 2 + (k + frac) * step);
  }
  return { angles, ry };
}

// nodeSub is the second line of a service box: the calls into it and their error rate.
function nodeSub(inb, peer) {
  if (peer) return inb ? `${fmtNum(inb.calls)} in · not instrumented` : 'not instrumented';
  return inb ? `${fmtNum(inb.calls)} in · ${fmtPct(inb.calls ? inb.errors / inb.calls : 0)} err` : 'entry point';
}
