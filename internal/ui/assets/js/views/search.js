// Trace search: service, operation, filter expression, duration range, time range; a scatter plot of the
// results over time and a list with duration bars and error marks.
import { h, replace, spinner, empty, errorBox } from '../dom.js';
import * as api from '../api.js';
import { update, go, href } from '../router.js';
import { fmtDuration, fmtDateTime, fmtAgo, serviceColor, shortId, parseDuration } from '../format.js';
import { picker, resolve } from '../timerange.js';
import { completingInput, filterCompleter } from '../complete.js';
import { scatter } from '../charts.js';

let keysCache = null;

export function render(root, _arg, params) {
  let p = { limit: '50', ...params };
  const stops = [];
  const serviceSel = h('select', { 'aria-label': 'Service', id: 'f-service' }, h('option', { value: '' }, 'All services'));
  const opSel = h('select', { 'aria-label': 'Operation', id: 'f-operation' }, h('option', { value: '' }, 'All operations'));
  const filter = completingInput({
    value: p.q || '', placeholder: 'http.response.status_code >= 500', label: 'Filter expression', className: 'f-query',
    completer: filterCompleter('traces', () => (keysCache ||= api.attributeKeys('spans').catch(() => [])), (k) => api.attributeValues('spans', k)),
    onSubmit: () => submit(),
  });
  const minD = h('input', { class: 'input', placeholder: 'min e.g. 100ms', value: p.minDuration || '', 'aria-label': 'Minimum duration' });
  const maxD = h('input', { class: 'input', placeholder: 'max e.g. 2s', value: p.maxDuration || '', 'aria-label': 'Maximum duration' });
  const limit = h('select', { 'aria-label': 'Result limit' }, ['20', '50', '100', '500'].map((n) => h('option', { value: n, selected: p.limit === n }, n)));
  const trSlot = h('div');
  const paintTR = () => replace(trSlot, picker(p, (ch) => { Object.assign(p, ch); paintTR(); submit(); }));
  paintTR();
  const form = h('form', { class: 'search-form panel panel-body', onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('label', { class: 'field' }, 'Service', serviceSel),
    h('label', { class: 'field' }, 'Operation', opSel),
    h('label', { class: 'field' }, 'Filter', filter.el),
    h('div', { class: 'field' }, h('span', { class: 'field-label muted' }, 'Duration'), h('div', { class: 'dur-row' }, minD, maxD)),
    h('label', { class: 'field' }, 'Time range', trSlot),
    h('div', { class: 'row' }, h('label', { class: 'field grow' }, 'Limit', limit), h('button', { type: 'submit', class: 'btn primary', style: { alignSelf: 'flex-end' } }, 'Find traces')));
  const results = h('div', { class: 'results' });
  root.appendChild(h('div', { class: 'search-layout' }, form, results));

  api.services().then((list) => {
    for (const sname of list) serviceSel.appendChild(h('option', { value: sname, selected: sname === p.service }, sname));
    if (p.service && !list.includes(p.service)) serviceSel.appendChild(h('option', { value: p.service, selected: true }, p.service));
    loadOps();
  }).catch(() => {});
  const loadOps = () => api.operations(serviceSel.value).then((ops) => {
    replace(opSel, h('option', { value: '' }, 'All operations'), ops.map((o) => h('option', { value: o, selected: o === p.operation }, o)));
  }).catch(() => {});
  serviceSel.addEventListener('change', () => { p.operation = ''; loadOps(); submit(); });
  opSel.addEventListener('change', () => submit());

  const selected = new Set();
  function submit() {
    const md = minD.value.trim(), xd = maxD.value.trim();
    for (const [inp, v] of [[minD, md], [maxD, xd]]) {
      inp.setCustomValidity(v && parseDuration(v) === null ? 'Use a duration such as 250ms, 1.5s or 2m' : '');
      if (!inp.checkValidity()) { inp.reportValidity(); return; }
    }
    p = { ...p, service: serviceSel.value, operation: opSel.value, q: filter.value.trim(), minDuration: md, maxDuration: xd, limit: limit.value };
    update('search', '', p);
    run();
  }

  async function run() {
    const { start, end } = resolve(p);
    replace(results, spinner('Searching traces…'));
    let list;
    try {
      list = await api.searchTraces({ ...p, start, end });
    } catch (e) {
      if (e.name === 'AbortError') return;
      replace(results, errorBox(e));
      return;
    }
    selected.clear();
    if (!list.length) { replace(results, h('div', { class: 'panel' }, empty('No traces match.', 'Widen the time range or relax the filter.'))); return; }
    const maxDur = Math.max(...list.map((t) => t.dur)) || 1;
    const plotBox = h('div', { class: 'panel panel-body scatter-box' });
    const cmpBtn = h('button', { type: 'button', class: 'btn small', disabled: true, onclick: () => { const [a, b] = [...selected]; go('compare', '', { a, b }); } }, 'Compare 2 selected');
    const errs = list.filter((t) => t.errorCount > 0).length;
    const head = h('div', { class: 'results-head' },
      h('div', null, h('b', null, String(list.length)), ` trace${list.length === 1 ? '' : 's'}`, errs ? h('span', { class: 'muted' }, ` · ${errs} with errors`) : null),
      cmpBtn);
    const listEl = h('div', { class: 'panel result-list', role: 'list' });
    for (const t of list) {
      const cb = h('input', { type: 'checkbox', 'aria-label': 'Select for comparison', onclick: (e) => {
        e.stopPropagation();
        if (cb.checked) { if (selected.size >= 2) { cb.checked = false; return; } selected.add(t.traceId); } else selected.delete(t.traceId);
        cmpBtn.disabled = selected.size !== 2;
      } });
      const link = href('trace', t.traceId);
      const row = h('div', { class: 'result', role: 'listitem', tabindex: 0, 'data-trace-id': t.traceId, onclick: () => { location.hash = link; }, onkeydown: (e) => { if (e.key === 'Enter') location.hash = link; } },
        cb,
        h('div', { style: { minWidth: 0 } },
          h('div', { class: 'result-title' },
            h('span', { class: 'svc', style: { color: serviceColor(t.rootService) } }, t.rootService || 'unknown'),
            h('a', { class: 'op', href: link, onclick: (e) => e.stopPropagation() }, t.rootName || '(missing root span)'),
            h('span', { class: 'tid mono' }, shortId(t.traceId, 8))),
          h('div', { class: 'result-bar', title: fmtDuration(t.dur) }, h('div', { class: t.errorCount ? 'err' : null, style: { width: Math.max(0.5, (t.dur / maxDur) * 100) + '%' } })),
          h('div', { class: 'result-meta' },
            h('span', { class: 'chip' }, `${t.spanCount} span${t.spanCount === 1 ? '' : 's'}`),
            t.errorCount ? h('span', { class: 'chip badge-err' }, `⚠ ${t.errorCount} error${t.errorCount === 1 ? '' : 's'}`) : null,
            t.services.slice(0, 6).map((sv) => h('span', { class: 'chip' }, h('span', { class: 'dot', style: { background: serviceColor(sv.name) } }), sv.name + (sv.count ? ` ${sv.count}` : ''))),
            t.services.length > 6 ? h('span', { class: 'chip' }, `+${t.services.length - 6}`) : null)),
        h('div', { class: 'result-right' }, h('div', { class: 'dur' }, fmtDuration(t.dur)), h('div', { class: 'muted', title: fmtDateTime(t.start) }, fmtAgo(t.start))));
      listEl.appendChild(row);
    }
    replace(results, plotBox, head, listEl);
    const ts = list.map((t) => t.start);
    const s0 = Math.min(...ts), s1 = Math.max(...ts), pad = Math.max(1000, (s1 - s0) * 0.04);
    const sc = scatter(plotBox, {
      start: s0 - pad, end: s1 + pad, height: 150, yFmt: fmtDuration, label: 'Trace duration over time',
      points: list.map((t) => ({ t: t.start, v: t.dur, error: t.errorCount > 0, label: `${t.rootService} ${t.rootName} ${fmtDuration(t.dur)}`, tip: [`${t.rootService}: ${t.rootName}`, ['duration', fmtDuration(t.dur)], ['spans', String(t.spanCount)], ['errors', String(t.errorCount)], ['start', fmtDateTime(t.start)]], onClick: () => go('trace', t.traceId) })),
    });
    stops.push(sc.stop);
  }
  run();
  return () => stops.forEach((f) => f());
}
