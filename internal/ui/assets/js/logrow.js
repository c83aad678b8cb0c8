// One log record as a row that expands into its structured body, attributes and resource.
import { h, replace } from './dom.js';
import { fmtTime, fmtDateTime, serviceColor } from './format.js';
import { severityClass } from './api.js';
import { href } from './router.js';
import { kvList } from './spandetail.js';

export function bodyText(b) {
  if (b === null || b === undefined) return '';
  if (typeof b === 'object') return JSON.stringify(b);
  return String(b);
}

// jsonTree renders a value as collapsible text (objects and arrays expand).
export function jsonTree(v, key, depth = 0) {
  const label = key !== undefined ? h('span', { class: 'k' }, JSON.stringify(String(key)) + ': ') : null;
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    const open = depth < 2;
    const d = h('details', { open }, h('summary', null, label, Array.isArray(v) ? `[${entries.length}]` : `{${entries.length}}`), entries.map(([k, x]) => jsonTree(x, k, depth + 1)));
    return depth === 0 ? h('div', { class: 'json' }, d) : d;
  }
  const cls = typeof v === 'string' ? 's' : 'n';
  const line = h('div', null, label, h('span', { class: cls }, typeof v === 'string' ? JSON.stringify(v) : String(v)));
  return depth === 0 ? h('div', { class: 'json' }, line) : line;
}

export function logRow(l, opts = {}) {
  const sev = severityClass(l.severity);
  const wrap = h('div', { class: 'log-item', 'data-trace-id': l.traceId || null, 'data-span-id': l.spanId || null });
  const detail = h('div', { class: 'log-detail', hidden: true });
  const traceLink = l.traceId ? h('a', { class: 'trace-link mono', href: href('trace', l.traceId, l.spanId ? { span: l.spanId } : null), title: 'Open the trace of this log', onclick: (e) => e.stopPropagation() }, 'trace ↗') : h('span');
  const row = h('div', { class: 'log-row', tabindex: 0, role: 'button', 'aria-expanded': 'false' },
    h('span', { class: 'chev' }, '▶'),
    h('span', { class: 'time', title: fmtDateTime(l.time) }, fmtTime(l.time)),
    h('span', null, h('span', { class: `sev sev-${sev}` }, l.severityText || sev)),
    h('span', { class: 'svc', style: { color: serviceColor(l.service) } }, l.service),
    h('span', { class: 'body' }, l.eventName ? `[${l.eventName}] ` : '', bodyText(l.body)),
    traceLink);
  const toggle = () => {
    const open = detail.hidden;
    detail.hidden = !open;
    row.classList.toggle('open', open);
    row.setAttribute('aria-expanded', String(open));
    row.firstChild.textContent = open ? '▼' : '▶';
    if (open && !detail.firstChild) {
      replace(detail,
        h('h3', { style: { marginTop: '4px' } }, 'Body'), jsonTree(l.body),
        h('h3', null, 'Attributes'), kvList(l.attrs, 'no attributes'),
        opts.compact ? null : [h('h3', null, 'Resource'), kvList(l.resource)],
        h('h3', null, 'Record'), kvList([
          ['time', fmtDateTime(l.time)], ['observed time', fmtDateTime(l.observed)], ['severity', `${l.severity} ${l.severityText}`],
          ['scope', l.scope.name + (l.scope.version ? ' ' + l.scope.version : '')], ['trace ID', l.traceId || '—'], ['span ID', l.spanId || '—'],
        ]),
        l.traceId ? h('div', { style: { marginTop: '8px' } }, h('a', { class: 'btn small', href: href('trace', l.traceId, l.spanId ? { span: l.spanId } : null) }, 'Open trace')) : null);
    }
  };
  row.addEventListener('click', toggle);
  row.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { toggle(); e.preventDefault(); } });
  wrap.append(row, detail);
  return wrap;
}
