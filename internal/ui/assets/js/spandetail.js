// Span details: span, resource and scope attributes, events (exceptions with stack traces), links, status,
// and the span's logs. All values are set as text.
import { h, copyButton, replace, spinner, errorBox, empty } from './dom.js';
import { fmtDuration, fmtDateTime, serviceColor } from './format.js';
import { href } from './router.js';
import * as api from './api.js';
import { logRow } from './logrow.js';

export function valueNode(v) {
  if (v === null || v === undefined) return h('dd', { class: 'faint' }, 'null');
  if (typeof v === 'number') return h('dd', { class: 'num' }, String(v));
  if (typeof v === 'boolean') return h('dd', { class: 'bool' }, String(v));
  if (typeof v === 'object') return h('dd', null, JSON.stringify(v, null, 2));
  return h('dd', null, String(v));
}

export function kvList(pairs, emptyText = 'none') {
  if (!pairs || !pairs.length) return h('div', { class: 'faint' }, emptyText);
  const dl = h('dl', { class: 'kv' });
  for (const [k, v] of [...pairs].sort((a, b) => String(a[0]).localeCompare(String(b[0])))) dl.append(h('dt', { title: k }, k), valueNode(v));
  return dl;
}

function exceptionBlock(ev) {
  const a = Object.fromEntries(ev.attrs);
  return h('div', { class: 'exception' },
    h('div', null, h('span', { class: 'status-err' }, a['exception.type'] || 'exception'), a['exception.message'] ? ': ' : '', a['exception.message'] || ''),
    a['exception.stacktrace'] ? h('pre', { class: 'stack', 'aria-label': 'Stack trace' }, String(a['exception.stacktrace'])) : null,
    kvList(ev.attrs.filter(([k]) => !['exception.type', 'exception.message', 'exception.stacktrace'].includes(k)), ''));
}

// spanDetail renders the panel. ctx: {model, node, onSelect(spanId), onClose(), tab, onTab(tab)}
export function spanDetail(ctx) {
  const { node, model } = ctx;
  const sp = node.span;
  const tabs = [['attrs', 'Attributes'], ['events', `Events${sp.events.length ? ' ' + sp.events.length : ''}`], ['links', `Links${sp.links.length ? ' ' + sp.links.length : ''}`], ['logs', 'Logs']];
  let tab = tabs.some(([k]) => k === ctx.tab) ? ctx.tab : 'attrs';
  const body = h('div', { class: 'detail-body' });
  const tabBar = h('div', { class: 'detail-tabs', role: 'tablist' });
  const paintTabs = () => {
    replace(tabBar, tabs.map(([k, label]) => h('button', { type: 'button', role: 'tab', class: k === tab ? 'active' : null, 'aria-selected': k === tab ? 'true' : 'false', onclick: () => { tab = k; ctx.onTab?.(k); paintTabs(); paintBody(); } }, label)));
  };
  const parent = node.parent;
  const head = h('div', { class: 'detail-head' },
    h('div', { class: 'row', style: { justifyContent: 'space-between', flexWrap: 'nowrap' } },
      h('div', { class: 'title' }, h('span', { style: { color: serviceColor(sp.service) } }, sp.service), ' · ', sp.name),
      h('button', { type: 'button', class: 'btn-icon', title: 'Close (Esc)', 'aria-label': 'Close details', onclick: ctx.onClose }, '✕')),
    h('dl', { class: 'kv', style: { marginTop: '8px' } },
      h('dt', null, 'duration'), h('dd', null, fmtDuration(sp.dur)),
      h('dt', null, 'self time'), h('dd', null, `${fmtDuration(node.self)}${sp.dur ? ` (${Math.round((node.self / sp.dur) * 100)}%)` : ''}`),
      h('dt', null, 'critical path'), h('dd', null, node.critTotal > 0 ? fmtDuration(node.critTotal) : 'not on it'),
      h('dt', null, 'start'), h('dd', null, `+${fmtDuration(sp.start - model.start)} · ${fmtDateTime(sp.start)}`),
      h('dt', null, 'kind'), h('dd', null, sp.kind),
      h('dt', null, 'status'), h('dd', { class: sp.status.code === 'error' ? 'status-err' : sp.status.code === 'ok' ? 'status-ok' : null }, sp.status.code + (sp.status.message ? ` — ${sp.status.message}` : '')),
      h('dt', null, 'span ID'), h('dd', null, sp.spanId, ' ', copyButton(sp.spanId, 'Copy span ID')),
      h('dt', null, 'parent'), h('dd', null, parent ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); ctx.onSelect(parent.span.spanId); } }, `${parent.span.service} · ${parent.span.name}`) : sp.parentId ? h('span', { class: 'faint' }, `${sp.parentId} (not in this trace)`) : 'root'),
      sp.traceState ? [h('dt', null, 'trace state'), h('dd', null, sp.traceState)] : null),
    tabBar);
  const paintBody = () => {
    if (tab === 'attrs') {
      replace(body,
        h('h3', null, 'Span'), kvList(sp.attrs, 'no attributes'),
        sp.droppedAttributes ? h('div', { class: 'faint' }, `${sp.droppedAttributes} attributes dropped`) : null,
        h('h3', null, 'Resource'), kvList(sp.resource),
        h('h3', null, 'Scope'), h('div', { class: 'mono' }, sp.scope.name || '(unnamed)', sp.scope.version ? ` ${sp.scope.version}` : ''), sp.scope.attrs.length ? kvList(sp.scope.attrs) : null);
    } else if (tab === 'events') {
      if (!sp.events.length) { replace(body, empty('No events.')); return; }
      replace(body, sp.events.map((ev) => h('div', { class: ['event', ev.name === 'exception' && 'exc'] },
        h('div', { class: 'event-head' }, h('span', null, ev.name), h('span', { class: 'muted mono' }, `+${fmtDuration(ev.time - sp.start)}`)),
        ev.name === 'exception' ? exceptionBlock(ev) : kvList(ev.attrs, ''))));
    } else if (tab === 'links') {
      if (!sp.links.length) { replace(body, empty('No links.')); return; }
      replace(body, sp.links.map((l) => {
        const inTrace = l.traceId === sp.traceId && model.byId.has(l.spanId);
        return h('div', { class: 'event' },
          h('div', { class: 'event-head' }, inTrace
            ? h('a', { href: '#', onclick: (e) => { e.preventDefault(); ctx.onSelect(l.spanId); } }, `span ${l.spanId} (this trace)`)
            : h('a', { href: href('trace', l.traceId, { span: l.spanId }), class: 'mono' }, `trace ${l.traceId.slice(0, 16)}… span ${l.spanId}`)),
          kvList(l.attrs, ''));
      }));
    } else if (tab === 'logs') {
      replace(body, spinner('Loading logs…'));
      api.traceLogs(sp.traceId, { spanId: sp.spanId, key: 'span-logs' }).then(({ logs }) => {
        const mine = logs.filter((l) => !l.spanId || l.spanId === sp.spanId);
        if (!mine.length) { replace(body, empty('No logs for this span.')); return; }
        replace(body, h('div', { class: 'log-list' }, mine.map((l) => logRow(l, { compact: true }))));
      }).catch((e) => { if (e.name !== 'AbortError') replace(body, errorBox(e)); });
    }
  };
  paintTabs();
  paintBody();
  return h('div', { class: 'span-detail', 'data-span-id': sp.spanId }, head, body);
}
