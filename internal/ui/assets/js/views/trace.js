// Trace view: header, minimap, virtualized collapsible waterfall with the critical path, span details and
// the trace's logs. Only the rows in view exist in the DOM, so a 50,000-span trace scrolls smoothly.
import { h, replace, spinner, errorBox, empty, copyButton, showTip, hideTip, clear } from '../dom.js';
import * as api from '../api.js';
import { update, href } from '../router.js';
import { fmtDuration, fmtDateTime, serviceColor, serviceBarColor, serviceCanvasColor } from '../format.js';
import { buildTrace, visibleRows } from '../tracemodel.js';
import { spanDetail } from '../spandetail.js';
import { logRow } from '../logrow.js';
import { niceTicks } from '../charts.js';

const ROW = 26;
const OVERSCAN = 12;

export function render(root, traceId, params) {
  const t0 = performance.now();
  window.otlpdTiming = { traceId, start: t0 };
  let p = { ...params };
  let model = null, rows = [], collapsed = new Set(), selected = p.span || '', detailTab = p.tab || 'attrs';
  let view = [0, 1]; // zoom window as fractions of the trace duration
  let matches = null;
  let disposed = false;
  let rafPending = false;

  const head = h('div', { class: 'trace-head' }, spinner('Loading trace…'));
  const minimap = h('div', { class: 'minimap', title: 'Drag to zoom into a time window; double-click to reset' });
  const mmCanvas = h('canvas');
  const mmWin = h('div', { class: 'mm-window' });
  minimap.append(mmCanvas, mmWin);
  const ticks = h('div', { class: 'wf-ticks' });
  const nameHead = h('div', { class: 'wf-name' }, 'Service · operation');
  const header = h('div', { class: 'wf-header' }, nameHead, ticks);
  const spacer = h('div', { class: 'wf-spacer' });
  const scroller = h('div', { class: 'wf-scroll', tabindex: 0, role: 'tree', 'aria-label': 'Spans' }, spacer);
  const wfPane = h('div', { class: 'wf-pane' }, minimap, header, scroller);
  const detail = h('aside', { class: 'detail-pane', hidden: true, 'aria-label': 'Span details' });
  const logsPane = h('section', { class: 'trace-logs', hidden: !p.logs, 'aria-label': 'Logs of this trace' });
  const body = h('div', { class: 'trace-body' }, h('div', { class: 'trace-main' }, wfPane, logsPane), detail);
  root.append(head, body);

  const labelWidth = () => Math.max(260, Math.min(520, Math.round(scroller.clientWidth * 0.34)));

  function layout() {
    const lw = labelWidth();
    nameHead.style.width = lw + 'px';
    spacer.style.height = rows.length * ROW + 'px';
    clear(ticks);
    if (!model) return;
    const dur = model.end - model.start;
    const a = view[0] * dur, b = view[1] * dur;
    const tw = scroller.clientWidth - lw;
    for (const v of niceTicks(a, b, Math.max(2, Math.floor(tw / 110)))) {
      if (v < a || v > b) continue;
      const x = ((v - a) / (b - a)) * 100;
      ticks.appendChild(h('span', { class: x > 97 ? 'end' : null, style: { left: x + '%' } }, fmtDuration(v)));
    }
    drawMinimap();
    paint();
  }

  function schedule() {
    if (rafPending) return;
    rafPending = true;
    requestAnimationFrame(() => { rafPending = false; if (!disposed) paint(); });
  }

  function paint() {
    if (!model) return;
    const lw = labelWidth();
    // never more rows than a window can show, even if the pane is not height-bounded
    const top = scroller.scrollTop, hgt = Math.min(scroller.clientHeight || 600, window.innerHeight);
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN), last = Math.min(rows.length, Math.ceil((top + hgt) / ROW) + OVERSCAN);
    const dur = model.end - model.start || 1;
    const va = model.start + view[0] * dur, vb = model.start + view[1] * dur, vw = vb - va || 1;
    const pct = (t) => ((t - va) / vw) * 100;
    const frag = document.createDocumentFragment();
    const grid = niceTicks(view[0] * dur, view[1] * dur, 6).map((v) => pct(model.start + v));
    for (let i = first; i < last; i++) {
      const n = rows[i], sp = n.span;
      const isCollapsed = collapsed.has(sp.spanId);
      const indent = Math.min(n.depth, 30) * 14;
      const label = h('div', { class: 'wf-label', style: { width: lw + 'px', paddingLeft: 4 + indent + 'px' } },
        h('span', { class: 'svc-bar', style: { background: serviceColor(sp.service) } }),
        h('button', { type: 'button', class: ['wf-toggle', !n.children.length && 'leaf'], tabindex: -1, 'aria-label': isCollapsed ? 'Expand' : 'Collapse', onclick: (e) => { e.stopPropagation(); toggle(sp.spanId); } }, isCollapsed ? '▶' : '▼'),
        sp.status.code === 'error' ? h('span', { class: 'wf-err', title: 'Error' }, '!') : null,
        h('span', { class: 'wf-svc', style: { color: serviceColor(sp.service) } }, sp.service),
        h('span', { class: 'wf-op' }, sp.name),
        isCollapsed && n.descendants ? h('span', { class: 'wf-kids' }, `+${n.descendants}`) : null);
      const tl = h('div', { class: 'wf-timeline' });
      for (const g of grid) tl.appendChild(h('div', { class: 'wf-gridline', style: { left: g + '%' } }));
      const l = pct(sp.start), r = pct(sp.end);
      if (r >= 0 && l <= 100) {
        tl.appendChild(h('div', { class: ['wf-bar', sp.status.code === 'error' && 'err'], style: { left: l + '%', width: Math.max(0.1, r - l) + '%', background: serviceBarColor(sp.service, 0.9) } }));
        if (n.crit) for (const [ca, cb] of n.crit) tl.appendChild(h('div', { class: 'wf-crit', style: { left: pct(ca) + '%', width: Math.max(0.1, pct(cb) - pct(ca)) + '%' } }));
        for (const ev of sp.events.slice(0, 20)) tl.appendChild(h('div', { class: ['wf-evt', ev.name === 'exception' && 'exc'], style: { left: pct(ev.time) + '%' }, title: ev.name }));
        const txt = fmtDuration(sp.dur);
        // the duration goes after the bar, else before it, else inside its right end
        if (r <= 86) tl.appendChild(h('div', { class: 'wf-dur', style: { left: r + '%', marginLeft: '4px' } }, txt));
        else if (l >= 12) tl.appendChild(h('div', { class: 'wf-dur', style: { right: (100 - l) + '%', marginRight: '4px' } }, txt));
        else tl.appendChild(h('div', { class: 'wf-dur inside', style: { right: (100 - Math.min(100, r)) + '%', marginRight: '4px' } }, txt));
      }
      const row = h('div', {
        class: ['wf-row', sp.spanId === selected && 'sel', matches && (matches.has(n) ? 'match' : 'dim')],
        style: { top: i * ROW + 'px' }, 'data-index': i, role: 'treeitem', 'aria-level': n.depth + 1, 'aria-selected': sp.spanId === selected ? 'true' : 'false',
        'aria-expanded': n.children.length ? String(!isCollapsed) : null, 'data-span-id': sp.spanId,
        onclick: () => { hideTip(); select(sp.spanId); },
      }, label, tl);
      row.addEventListener('mouseenter', (e) => showTip(e, [`${sp.service} · ${sp.name}`, ['duration', fmtDuration(sp.dur)], ['self', fmtDuration(n.self)], ['start', '+' + fmtDuration(sp.start - model.start)], ['status', sp.status.code]]));
      row.addEventListener('mouseleave', hideTip);
      frag.appendChild(row);
    }
    replace(spacer, frag);
    if (!window.otlpdTiming.firstRows) {
      window.otlpdTiming.firstRows = performance.now() - t0;
      root.dataset.rendered = 'true';
    }
    drawWindowBox();
  }

  function drawMinimap() {
    const w = minimap.clientWidth, ht = minimap.clientHeight;
    if (!w || !model) return;
    mmCanvas.width = Math.round(w * devicePixelRatio); mmCanvas.height = Math.round(ht * devicePixelRatio);
    const ctx = mmCanvas.getContext('2d');
    ctx.scale(devicePixelRatio, devicePixelRatio);
    const dur = model.end - model.start || 1;
    const n = model.order.length;
    const rowH = Math.max(ht / n, 0.25);
    const errColor = getComputedStyle(root).getPropertyValue('--error').trim();
    const step = Math.max(1, Math.floor(n / 4000)); // sample huge traces
    for (let i = 0; i < n; i += step) {
      const sp = model.order[i].span;
      ctx.fillStyle = sp.status.code === 'error' ? errColor : serviceCanvasColor(sp.service, 0.85);
      ctx.fillRect(((sp.start - model.start) / dur) * w, (i / n) * ht, Math.max(1, (sp.dur / dur) * w), Math.max(1, rowH * step));
    }
    drawWindowBox();
  }
  function drawWindowBox() {
    const w = minimap.clientWidth;
    mmWin.hidden = view[0] === 0 && view[1] === 1;
    mmWin.style.left = view[0] * w + 'px';
    mmWin.style.width = Math.max(2, (view[1] - view[0]) * w) + 'px';
  }
  let drag = null;
  minimap.addEventListener('mousedown', (e) => { const r = minimap.getBoundingClientRect(); drag = (e.clientX - r.left) / r.width; e.preventDefault(); });
  window.addEventListener('mouseup', onUp);
  function onUp(e) {
    if (drag === null) return;
    const r = minimap.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
    const a = Math.min(drag, x), b = Math.max(drag, x);
    drag = null;
    if (b - a > 0.005) { view = [a, b]; } else {
      // a click scrolls to the span nearest that row position
      const frac = (e.clientY - r.top) / r.height;
      scroller.scrollTop = Math.max(0, frac * rows.length * ROW - scroller.clientHeight / 2);
    }
    layout();
  }
  minimap.addEventListener('dblclick', () => { view = [0, 1]; layout(); });

  function toggle(id) {
    if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id);
    rows = visibleRows(model, collapsed);
    layout();
  }

  function select(id, scroll = false) {
    selected = id;
    p = { ...p, span: id || '' };
    update('trace', traceId, p);
    const node = id && model.byId.get(id);
    if (!node) { detail.hidden = true; clear(detail); paint(); layout(); return; }
    // expand ancestors so the span is visible
    let changed = false;
    for (let a = node.parent; a; a = a.parent) if (collapsed.delete(a.span.spanId)) changed = true;
    if (changed) rows = visibleRows(model, collapsed);
    const wasHidden = detail.hidden;
    detail.hidden = false;
    replace(detail, spanDetail({ model, node, tab: detailTab, onTab: (t) => { detailTab = t; p = { ...p, tab: t === 'attrs' ? '' : t }; update('trace', traceId, p); }, onSelect: (sid) => select(sid, true), onClose: () => select('') }));
    if (scroll) {
      const idx = rows.indexOf(node);
      if (idx >= 0 && (idx * ROW < scroller.scrollTop || idx * ROW > scroller.scrollTop + scroller.clientHeight - ROW)) scroller.scrollTop = Math.max(0, idx * ROW - scroller.clientHeight / 3);
    }
    if (wasHidden || changed) layout(); else paint();
  }

  scroller.addEventListener('scroll', schedule, { passive: true });
  scroller.addEventListener('keydown', (e) => {
    if (!model) return;
    let idx = rows.findIndex((n) => n.span.spanId === selected);
    if (e.key === 'ArrowDown' || e.key === 'j') idx = Math.min(rows.length - 1, idx + 1);
    else if (e.key === 'ArrowUp' || e.key === 'k') idx = Math.max(0, idx - 1);
    else if (e.key === 'ArrowLeft' && idx >= 0) { const n = rows[idx]; if (n.children.length && !collapsed.has(n.span.spanId)) toggle(n.span.spanId); else if (n.parent) select(n.parent.span.spanId, true); e.preventDefault(); return; }
    else if (e.key === 'ArrowRight' && idx >= 0) { if (collapsed.has(rows[idx].span.spanId)) toggle(rows[idx].span.spanId); e.preventDefault(); return; }
    else if (e.key === 'Escape') { select(''); return; }
    else return;
    e.preventDefault();
    if (rows[idx]) select(rows[idx].span.spanId, true);
  });
  const onTheme = () => drawMinimap();
  window.addEventListener('themechange', onTheme);
  const ro = new ResizeObserver(() => layout());
  ro.observe(scroller);

  function renderHead() {
    const root0 = model.roots[0]?.span;
    const search = h('input', { class: 'input', placeholder: 'Find spans…', title: 'Highlight spans whose name, service or attribute contains this text', 'aria-label': 'Find spans in this trace', value: p.find || '' });
    const count = h('span', { class: 'muted' });
    const runFind = () => {
      const q = search.value.trim().toLowerCase();
      p = { ...p, find: q }; update('trace', traceId, p);
      if (!q) { matches = null; count.textContent = ''; paint(); return; }
      matches = new Set();
      for (const n of model.nodes) {
        const sp = n.span;
        if (sp.name.toLowerCase().includes(q) || sp.service.toLowerCase().includes(q) || sp.spanId === q || sp.attrs.some(([k, v]) => k.toLowerCase().includes(q) || String(v).toLowerCase().includes(q))) matches.add(n);
      }
      count.textContent = `${matches.size} match${matches.size === 1 ? '' : 'es'}`;
      paint();
    };
    search.addEventListener('input', runFind);
    search.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && matches?.size) {
        const cur = rows.findIndex((n) => n.span.spanId === selected);
        const next = rows.findIndex((n, i) => i > cur && matches.has(n));
        const n = rows[next >= 0 ? next : rows.findIndex((x) => matches.has(x))];
        if (n) select(n.span.spanId, true);
      }
    });
    const logsBtn = h('button', { type: 'button', class: 'btn small', 'aria-pressed': String(!logsPane.hidden), onclick: () => { logsPane.hidden = !logsPane.hidden; logsBtn.setAttribute('aria-pressed', String(!logsPane.hidden)); p = { ...p, logs: logsPane.hidden ? '' : '1' }; update('trace', traceId, p); if (!logsPane.hidden) loadLogs(); } }, 'Trace logs');
    const collapseAll = h('button', { type: 'button', class: 'btn small', onclick: () => { for (const n of model.nodes) if (n.children.length && n.depth >= 1) collapsed.add(n.span.spanId); rows = visibleRows(model, collapsed); layout(); } }, 'Collapse');
    const expandAll = h('button', { type: 'button', class: 'btn small', onclick: () => { collapsed.clear(); rows = visibleRows(model, collapsed); layout(); } }, 'Expand all');
    replace(head,
      h('div', { class: 'trace-title' },
        h('span', { class: 'svc', style: { color: serviceColor(root0?.service || '') } }, root0?.service || ''),
        h('span', { class: 'op' }, root0?.name || ''),
        h('span', { class: 'mono faint' }, traceId, ' ', copyButton(traceId, 'Copy trace ID'))),
      h('div', { class: 'trace-stats' },
        h('span', null, 'Duration ', h('b', null, fmtDuration(model.end - model.start))),
        h('span', null, 'Spans ', h('b', { class: 'span-count' }, String(model.nodes.length))),
        h('span', null, 'Depth ', h('b', null, String(model.maxDepth + 1))),
        h('span', null, 'Services ', h('b', null, String(model.services.length))),
        h('span', null, 'Errors ', h('b', { class: model.errors ? 'status-err' : null }, String(model.errors))),
        h('span', null, 'Started ', h('b', null, fmtDateTime(model.start))),
        h('span', { class: 'legend-crit', title: 'The spans that determined the trace duration' }, h('i'), 'critical path'),
        model.roots.length > 1 ? h('span', { class: 'faint', title: 'Spans whose parent is not in this trace' }, `${model.roots.length} roots`) : null,
        model.skewAdjusted ? h('span', { class: 'faint', title: 'The critical path and self times are computed after shifting these spans to fit inside their parents' }, `clock skew corrected for ${model.skewAdjusted} span${model.skewAdjusted === 1 ? '' : 's'}`) : null),
      h('div', { class: 'trace-tools' }, search, count, collapseAll, expandAll, logsBtn,
        h('a', { class: 'btn small', href: href('compare', '', { a: traceId }), style: { lineHeight: '22px' } }, 'Compare…'),
        h('span', { class: 'row', style: { marginLeft: 'auto', gap: '6px' } }, model.services.slice(0, 8).map((sv) => h('span', { class: 'chip' }, h('span', { class: 'dot', style: { background: serviceColor(sv.name) } }), `${sv.name} ${sv.count}`)))));
    if (p.find) runFind();
  }

  let logsLoaded = false;
  function loadLogs() {
    if (logsLoaded || !model) return;
    logsLoaded = true;
    replace(logsPane, spinner('Loading logs…'));
    api.traceLogs(traceId).then(({ logs }) => {
      const headEl = h('div', { class: 'panel-head' }, h('h2', { style: { margin: 0 } }, `Logs of this trace (${logs.length})`),
        h('a', { href: href('logs', '', { q: `trace_id = "${traceId}"`, from: String(Math.floor(model.start - 60000)), to: String(Math.ceil(model.end + 60000)) }), style: { marginLeft: 'auto' } }, 'Open in log explorer'));
      if (!logs.length) { replace(logsPane, headEl, empty('No logs carry this trace ID.')); return; }
      replace(logsPane, headEl, h('div', { class: 'log-list' }, logs.map((l) => logRow(l, { compact: true }))));
    }).catch((e) => { logsLoaded = false; if (e.name !== 'AbortError') replace(logsPane, errorBox(e)); });
  }

  let firstPage = true;
  let rebuildPending = false;
  let latest = null;
  const rebuild = () => {
    rebuildPending = false;
    if (disposed || !latest.length) return;
    model = buildTrace(latest);
    rows = visibleRows(model, collapsed);
    if (firstPage) {
      firstPage = false;
      renderHead();
      if (model.nodes.length > 3000) { // big traces open collapsed below depth 2, so the shape is visible
        for (const n of model.nodes) if (n.depth >= 2 && n.children.length) collapsed.add(n.span.spanId);
        rows = visibleRows(model, collapsed);
      }
      layout();
      if (selected && model.byId.has(selected)) select(selected, true);
      if (!logsPane.hidden) loadLogs();
    } else {
      renderHead();
      layout();
    }
  };
  api.getTrace(traceId, (spans) => {
    latest = spans;
    if (firstPage) rebuild();
    else if (!rebuildPending) { rebuildPending = true; setTimeout(rebuild, 150); }
  }).then((spans) => {
    latest = spans;
    if (!spans.length) { replace(head, empty('Trace not found.', traceId)); body.hidden = true; return; }
    rebuild();
    window.otlpdTiming.allSpans = performance.now() - t0;
    window.otlpdTiming.spanCount = spans.length;
    root.dataset.complete = 'true';
    if (selected && model.byId.has(selected)) select(selected, true);
    // the server's analysis corrects clock skew between services; when it answers, its critical path and
    // self times replace the ones computed here from the raw times
    api.traceAnalysis(traceId).then((a) => {
      if (!a || disposed || !model || a.truncated) return;
      const byId = new Map(a.spans.map((x) => [x.spanId, x]));
      const segs = new Map();
      for (const c of a.critical) (segs.get(c.spanId) || segs.set(c.spanId, []).get(c.spanId)).push(c);
      for (const n of model.nodes) {
        const x = byId.get(n.span.spanId);
        if (!x) continue;
        n.self = x.self;
        n.critTotal = x.critical;
        n.async = x.async;
        n.crit = (segs.get(n.span.spanId) || []).map((c) => [c.start - x.skew, c.end - x.skew]);
      }
      model.skewAdjusted = a.skewAdjusted;
      model.analysis = 'server';
      root.dataset.analysis = 'server';
      renderHead();
      paint();
      if (selected) select(selected);
    }).catch(() => {});
  }).catch((e) => {
    replace(head, e.status === 404 ? empty('Trace not found.', `No span of trace ${traceId} is stored.`) : errorBox(e));
    body.hidden = true;
  });

  return () => { disposed = true; ro.disconnect(); window.removeEventListener('themechange', onTheme); window.removeEventListener('mouseup', onUp); hideTip(); };
}
