// Small SVG and canvas charts: time series lines, stacked bars, scatter, heatmap and sparklines.
import { h, s, clear, showTip, hideTip } from './dom.js';
import { fmtNum, fmtTime, SERIES_COLORS } from './format.js';

export function niceTicks(min, max, n = 5) {
  if (!(max > min)) { max = min + 1; }
  const span = max - min, step0 = span / n, mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= step0) || 10 * mag;
  const out = [];
  const top = Math.ceil(max / step - 1e-9) * step;
  for (let v = Math.floor(min / step + 1e-9) * step; v <= top + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function timeTicks(start, end, width) {
  const n = Math.max(2, Math.floor(width / 110));
  const steps = [1e3, 5e3, 10e3, 30e3, 60e3, 300e3, 600e3, 1800e3, 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3];
  const step = steps.find((x) => (end - start) / x <= n) || 86400e3;
  const tz = new Date().getTimezoneOffset() * 60000;
  const out = [];
  for (let t = Math.ceil((start - tz) / step) * step + tz; t <= end; t += step) out.push(t);
  return { ticks: out, withSec: step < 60e3, withDate: step >= 86400e3 };
}

function fmtTick(t, opt) {
  const d = new Date(t);
  if (opt.withDate) return `${d.getMonth() + 1}/${d.getDate()}`;
  return fmtTime(t, false).slice(0, opt.withSec ? 8 : 5);
}

// observeWidth calls draw(width) now and whenever the element's width changes.
export function observeWidth(el, draw) {
  let last = 0;
  const ro = new ResizeObserver(() => { const w = el.clientWidth; if (w && Math.abs(w - last) > 2) { last = w; draw(w); } });
  ro.observe(el);
  return () => ro.disconnect();
}

const M = { l: 52, r: 12, t: 10, b: 22 };

// timeChart draws lines (or stacked bars with kind:'bars') over time.
// opts: {series:[{name, color, points:[[t,v]]}], start, end, height, yFmt, kind, markers:[{t,v,color,title,onClick}], onSelect(t0,t1), yMin}
export function timeChart(container, opts) {
  const wrap = h('div', { class: 'chart' });
  container.appendChild(wrap);
  const height = opts.height || 180;
  const draw = (width) => {
    clear(wrap);
    const series = opts.series || [];
    const start = opts.start, end = opts.end;
    const W = width, H = height, iw = W - M.l - M.r, ih = H - M.t - M.b;
    let ymax = opts.yMin ?? 0, ymin = 0;
    if (opts.kind === 'bars') {
      const sums = new Map();
      for (const sr of series) for (const [t, v] of sr.points) sums.set(t, (sums.get(t) || 0) + v);
      for (const v of sums.values()) ymax = Math.max(ymax, v);
    } else {
      for (const sr of series) for (const [, v] of sr.points) if (Number.isFinite(v)) { ymax = Math.max(ymax, v); ymin = Math.min(ymin, v); }
      for (const m of opts.markers || []) if (Number.isFinite(m.v)) ymax = Math.max(ymax, m.v);
    }
    const yt = niceTicks(ymin, ymax || 1, Math.max(2, Math.floor(ih / 36)));
    const y0 = yt[0], y1 = yt[yt.length - 1];
    const X = (t) => M.l + ((t - start) / (end - start || 1)) * iw;
    const Y = (v) => M.t + ih - ((v - y0) / (y1 - y0 || 1)) * ih;
    const svg = s('svg', { width: W, height: H, class: 'chart-svg', role: 'img', 'aria-label': opts.label || 'chart' });
    for (const v of yt) {
      svg.appendChild(s('line', { x1: M.l, x2: W - M.r, y1: Y(v), y2: Y(v), class: 'grid' }));
      svg.appendChild(s('text', { x: M.l - 6, y: Y(v) + 4, class: 'axis', 'text-anchor': 'end' }, (opts.yFmt || fmtNum)(v)));
    }
    const tt = timeTicks(start, end, iw);
    for (const t of tt.ticks) svg.appendChild(s('text', { x: X(t), y: H - 6, class: 'axis', 'text-anchor': 'middle' }, fmtTick(t, tt)));
    if (opts.kind === 'bars') {
      const stepMs = opts.step || (series[0]?.points.length > 1 ? series[0].points[1][0] - series[0].points[0][0] : (end - start) / 30);
      const bw = Math.max(1, (stepMs / (end - start)) * iw - 1);
      const base = new Map();
      series.forEach((sr, i) => {
        const color = sr.color || SERIES_COLORS[i % SERIES_COLORS.length];
        for (const [t, v] of sr.points) {
          if (!v) continue;
          const b = base.get(t) || 0;
          svg.appendChild(s('rect', { x: X(t), y: Y(b + v), width: bw, height: Math.max(0.5, Y(b) - Y(b + v)), fill: color, class: 'bar' }));
          base.set(t, b + v);
        }
      });
    } else {
      series.forEach((sr, i) => {
        const color = sr.color || SERIES_COLORS[i % SERIES_COLORS.length];
        let d = '', pen = false;
        const pts = sr.points;
        for (let k = 0; k < pts.length; k++) {
          const [t, v] = pts[k];
          if (!Number.isFinite(v)) { pen = false; continue; }
          d += (pen ? 'L' : 'M') + X(t).toFixed(1) + ',' + Y(v).toFixed(1);
          // a value with no finite neighbour would be an invisible path: draw it as a dot
          if (!pen && !(k + 1 < pts.length && Number.isFinite(pts[k + 1][1]))) svg.appendChild(s('circle', { cx: X(t), cy: Y(v), r: 2.2, fill: color }));
          pen = true;
        }
        if (d) svg.appendChild(s('path', { d, stroke: color, class: 'line', fill: 'none', 'stroke-dasharray': sr.dash || null }));
      });
    }
    const cross = s('line', { y1: M.t, y2: M.t + ih, class: 'crosshair', visibility: 'hidden' });
    svg.appendChild(cross);
    const sel = s('rect', { y: M.t, height: ih, class: 'selection', visibility: 'hidden' });
    svg.appendChild(sel);
    for (const m of opts.markers || []) {
      const c = s('circle', { cx: X(m.t), cy: Y(m.v), r: 4.5, class: 'marker', fill: m.color || 'var(--text)', tabindex: 0, role: 'button', 'aria-label': m.title || 'marker' });
      c.addEventListener('mouseenter', (e) => showTip(e, m.tip || [m.title]));
      c.addEventListener('mouseleave', hideTip);
      c.addEventListener('click', (e) => { e.stopPropagation(); hideTip(); m.onClick?.(); });
      c.addEventListener('keydown', (e) => { if (e.key === 'Enter') m.onClick?.(); });
      svg.appendChild(c);
    }
    let dragFrom = null;
    const tAt = (ev) => { const r = svg.getBoundingClientRect(); return start + ((ev.clientX - r.left - M.l) / iw) * (end - start); };
    svg.addEventListener('mousemove', (ev) => {
      if (ev.target.classList?.contains('marker')) return;
      const t = tAt(ev);
      if (t < start || t > end) { cross.setAttribute('visibility', 'hidden'); hideTip(); return; }
      cross.setAttribute('x1', X(t)); cross.setAttribute('x2', X(t)); cross.setAttribute('visibility', 'visible');
      if (dragFrom !== null) {
        sel.setAttribute('x', Math.min(X(dragFrom), X(t))); sel.setAttribute('width', Math.abs(X(t) - X(dragFrom))); sel.setAttribute('visibility', 'visible');
      }
      const lines = [fmtTime(t, false)];
      series.slice(0, 12).forEach((sr) => {
        let best = null, bd = Infinity;
        for (const p of sr.points) { const d = Math.abs(p[0] - t); if (d < bd) { bd = d; best = p; } }
        if (best) lines.push([sr.name || 'value', (opts.yFmt || fmtNum)(best[1])]);
      });
      if (series.length > 12) lines.push(`… ${series.length - 12} more series`);
      showTip(ev, lines);
    });
    svg.addEventListener('mouseleave', () => { cross.setAttribute('visibility', 'hidden'); hideTip(); });
    if (opts.onSelect) {
      svg.addEventListener('mousedown', (ev) => { dragFrom = tAt(ev); ev.preventDefault(); });
      svg.addEventListener('mouseup', (ev) => {
        const t = tAt(ev);
        sel.setAttribute('visibility', 'hidden');
        if (dragFrom !== null && Math.abs(X(t) - X(dragFrom)) > 6) opts.onSelect(Math.min(dragFrom, t), Math.max(dragFrom, t));
        dragFrom = null;
      });
    }
    wrap.appendChild(svg);
  };
  const stop = observeWidth(wrap, draw);
  return { el: wrap, stop };
}

// legend lists series names with their colours; clicking one calls onToggle(name).
export function legend(series, onToggle) {
  return h('div', { class: 'legend' }, series.slice(0, 30).map((sr, i) => h('button', { type: 'button', class: ['legend-item', sr.hidden && 'off'], onclick: () => onToggle?.(sr) },
    h('span', { class: 'swatch', style: { background: sr.color || SERIES_COLORS[i % SERIES_COLORS.length] } }), sr.name || 'value')),
    series.length > 30 ? h('span', { class: 'muted' }, `and ${series.length - 30} more`) : null);
}

// scatter draws points {t, v, error, onClick, tip} with a log-ish y axis of durations.
export function scatter(container, opts) {
  const wrap = h('div', { class: 'chart' });
  container.appendChild(wrap);
  const H = opts.height || 160;
  const draw = (W) => {
    clear(wrap);
    const pts = opts.points;
    const iw = W - M.l - M.r, ih = H - M.t - M.b;
    let ymax = 0; for (const p of pts) ymax = Math.max(ymax, p.v);
    const yt = niceTicks(0, ymax || 1, 4);
    const y1 = yt[yt.length - 1];
    const X = (t) => M.l + ((t - opts.start) / (opts.end - opts.start || 1)) * iw;
    const Y = (v) => M.t + ih - (v / (y1 || 1)) * ih;
    const svg = s('svg', { width: W, height: H, class: 'chart-svg', role: 'img', 'aria-label': opts.label || 'scatter plot' });
    for (const v of yt) {
      svg.appendChild(s('line', { x1: M.l, x2: W - M.r, y1: Y(v), y2: Y(v), class: 'grid' }));
      svg.appendChild(s('text', { x: M.l - 6, y: Y(v) + 4, class: 'axis', 'text-anchor': 'end' }, (opts.yFmt || fmtNum)(v)));
    }
    const tt = timeTicks(opts.start, opts.end, iw);
    for (const t of tt.ticks) svg.appendChild(s('text', { x: X(t), y: H - 6, class: 'axis', 'text-anchor': 'middle' }, fmtTick(t, tt)));
    for (const p of pts) {
      const c = s('circle', { cx: X(p.t), cy: Y(p.v), r: p.r || 4.5, class: ['dot', p.error && 'err'].filter(Boolean).join(' '), tabindex: 0, role: 'link', 'aria-label': p.label || 'trace' });
      c.addEventListener('mouseenter', (e) => showTip(e, p.tip));
      c.addEventListener('mouseleave', hideTip);
      c.addEventListener('click', () => { hideTip(); p.onClick?.(); });
      c.addEventListener('keydown', (e) => { if (e.key === 'Enter') p.onClick?.(); });
      svg.appendChild(c);
    }
    wrap.appendChild(svg);
  };
  const stop = observeWidth(wrap, draw);
  return { el: wrap, stop };
}

// heatmap draws cells: columns are times, rows are buckets (labels), value -> colour intensity.
// opts: {times:[t], rows:[label], values:[[v per time] per row], start, end, height}
export function heatmap(container, opts) {
  const wrap = h('div', { class: 'chart heatmap' });
  container.appendChild(wrap);
  const H = opts.height || 260;
  const draw = (W) => {
    clear(wrap);
    const iw = W - M.l - M.r, ih = H - M.t - M.b;
    const canvas = h('canvas', { width: Math.round(iw * devicePixelRatio), height: Math.round(ih * devicePixelRatio), style: { width: iw + 'px', height: ih + 'px', left: M.l + 'px', top: M.t + 'px' } });
    const ctx = canvas.getContext('2d');
    ctx.scale(devicePixelRatio, devicePixelRatio);
    let max = 0; for (const r of opts.values) for (const v of r) if (v > max) max = v;
    const nT = opts.times.length, nR = opts.rows.length;
    const cw = iw / Math.max(1, nT), ch = ih / Math.max(1, nR);
    const accent = getComputedStyle(document.documentElement).getPropertyValue('--heat').trim() || '255,120,40';
    for (let r = 0; r < nR; r++) for (let c = 0; c < nT; c++) {
      const v = opts.values[r][c];
      if (!v) continue;
      const a = 0.12 + 0.88 * Math.sqrt(v / max);
      ctx.fillStyle = `rgba(${accent},${a})`;
      const x0 = Math.round(c * cw), x1 = Math.round((c + 1) * cw), y0 = Math.round(ih - (r + 1) * ch), y1 = Math.round(ih - r * ch);
      ctx.fillRect(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0 - 1));
    }
    const svg = s('svg', { width: W, height: H, class: 'chart-svg' });
    const step = Math.max(1, Math.ceil(nR / Math.floor(ih / 16)));
    for (let r = 0; r < nR; r += step) svg.appendChild(s('text', { x: M.l - 6, y: M.t + ih - r * ch - ch / 2 + 4, class: 'axis', 'text-anchor': 'end' }, opts.rows[r]));
    const tt = timeTicks(opts.start, opts.end, iw);
    for (const t of tt.ticks) svg.appendChild(s('text', { x: M.l + ((t - opts.start) / (opts.end - opts.start)) * iw, y: H - 6, class: 'axis', 'text-anchor': 'middle' }, fmtTick(t, tt)));
    const box = h('div', { class: 'heat-box', style: { height: H + 'px' } }, svg, canvas);
    canvas.addEventListener('mousemove', (ev) => {
      const rc = canvas.getBoundingClientRect();
      const c = Math.floor((ev.clientX - rc.left) / cw), r = nR - 1 - Math.floor((ev.clientY - rc.top) / ch);
      if (c < 0 || c >= nT || r < 0 || r >= nR) return hideTip();
      showTip(ev, [fmtTime(opts.times[c], false), ['bucket', opts.rows[r]], ['count', fmtNum(opts.values[r][c])]]);
    });
    canvas.addEventListener('mouseleave', hideTip);
    wrap.appendChild(box);
  };
  const stop = observeWidth(wrap, draw);
  return { el: wrap, stop };
}

// sparkline: a tiny line without axes.
export function sparkline(values, opts = {}) {
  const W = opts.width || 120, H = opts.height || 26;
  const vs = values.filter(Number.isFinite);
  const max = Math.max(...vs, opts.min || 0) || 1;
  const svg = s('svg', { width: W, height: H, class: 'spark', 'aria-hidden': 'true' });
  let d = '';
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    d += (d ? 'L' : 'M') + ((i / Math.max(1, values.length - 1)) * (W - 2) + 1).toFixed(1) + ',' + (H - 2 - (v / max) * (H - 4)).toFixed(1);
  });
  if (d) {
    svg.appendChild(s('path', { d: d + `L${W - 1},${H - 1}L1,${H - 1}Z`, class: 'spark-fill', fill: opts.color || 'var(--accent)' }));
    svg.appendChild(s('path', { d, class: 'spark-line', stroke: opts.color || 'var(--accent)', fill: 'none' }));
  }
  return svg;
}
