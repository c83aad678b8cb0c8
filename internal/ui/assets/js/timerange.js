// Time-range presets and the picker that edits them. A range is kept in the URL as range=1h, or from/to in ms.
import { h } from './dom.js';
import { fmtDateTime } from './format.js';

export const PRESETS = [['5m', 5 * 60e3], ['15m', 15 * 60e3], ['1h', 3600e3], ['6h', 6 * 3600e3], ['24h', 86400e3], ['7d', 7 * 86400e3]];

export function resolve(params, def = '1h') {
  if (params.from && params.to) return { start: Number(params.from), end: Number(params.to), label: 'custom' };
  const key = params.range || def;
  const p = PRESETS.find(([k]) => k === key) || PRESETS.find(([k]) => k === def);
  const end = Date.now();
  return { start: end - p[1], end, label: p[0] };
}

function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 19);
}

// picker renders preset buttons and a custom from/to editor. onChange receives {range} or {from, to}.
export function picker(params, onChange, def = '1h') {
  const cur = params.from && params.to ? 'custom' : params.range || def;
  const wrap = h('div', { class: 'timerange', role: 'group', 'aria-label': 'Time range' });
  for (const [k] of PRESETS) {
    wrap.appendChild(h('button', { type: 'button', class: ['seg', cur === k && 'active'], 'aria-pressed': cur === k ? 'true' : 'false', onclick: () => onChange({ range: k, from: '', to: '' }) }, k));
  }
  const r = resolve(params, def);
  const from = h('input', { type: 'datetime-local', step: '1', value: toLocalInput(r.start), 'aria-label': 'From' });
  const to = h('input', { type: 'datetime-local', step: '1', value: toLocalInput(r.end), 'aria-label': 'To' });
  const pop = h('div', { class: 'popover', hidden: true },
    h('label', null, 'From', from), h('label', null, 'To', to),
    h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn primary', onclick: () => {
      const f = new Date(from.value).getTime(), t = new Date(to.value).getTime();
      if (f && t && f < t) { pop.hidden = true; onChange({ range: '', from: String(f), to: String(t) }); }
    } }, 'Apply')));
  const btn = h('button', { type: 'button', class: ['seg', cur === 'custom' && 'active'], title: cur === 'custom' ? `${fmtDateTime(r.start)} → ${fmtDateTime(r.end)}` : 'Custom range', onclick: () => { pop.hidden = !pop.hidden; } }, cur === 'custom' ? 'custom ▾' : '⋯');
  wrap.appendChild(h('span', { class: 'pop-anchor' }, btn, pop));
  return wrap;
}

// stepFor picks a step giving about n buckets over the range, rounded to a friendly size.
export function stepFor(start, end, n = 60) {
  const raw = (end - start) / n;
  const nice = [1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 21600e3, 43200e3, 86400e3];
  return nice.find((x) => x >= raw) || 86400e3;
}
