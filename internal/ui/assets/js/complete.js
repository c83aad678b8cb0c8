// An input with autocomplete. The completer is given the text and caret and returns
// {from, to, items:[{text, detail}]} (or a promise of it): the items replace text[from:to].
import { h, clear, debounce } from './dom.js';

export function completingInput({ value = '', placeholder = '', completer, onSubmit, label, className }) {
  const input = h('input', { type: 'text', class: ['input', 'mono', className], value, placeholder, spellcheck: 'false', autocomplete: 'off', 'aria-label': label || placeholder, role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false' });
  const list = h('ul', { class: 'ac-list', role: 'listbox', hidden: true });
  const wrap = h('div', { class: 'ac-wrap' }, input, list);
  let state = null, active = 0, seq = 0;

  const close = () => { list.hidden = true; state = null; input.setAttribute('aria-expanded', 'false'); };
  const accept = (item) => {
    if (!state || !item) return;
    const v = input.value;
    const ins = item.insert ?? item.text;
    input.value = v.slice(0, state.from) + ins + v.slice(state.to);
    const caret = state.from + ins.length - (item.caretBack || 0);
    input.setSelectionRange(caret, caret);
    close();
    input.focus();
    if (item.reopen) refresh();
  };
  const paint = () => {
    clear(list);
    state.items.forEach((it, i) => {
      const li = h('li', { role: 'option', class: i === active ? 'active' : null, 'aria-selected': i === active ? 'true' : 'false', onmousedown: (e) => { e.preventDefault(); accept(it); } },
        h('span', { class: 'ac-text' }, it.text), it.detail ? h('span', { class: 'ac-detail' }, it.detail) : null);
      list.appendChild(li);
    });
    list.querySelector('.active')?.scrollIntoView({ block: 'nearest' });
  };
  const refresh = async () => {
    const my = ++seq;
    let res;
    try { res = await completer(input.value, input.selectionStart ?? input.value.length); } catch { res = null; }
    if (my !== seq) return;
    if (!res || !res.items?.length || document.activeElement !== input) return close();
    state = res; active = 0;
    list.hidden = false; input.setAttribute('aria-expanded', 'true');
    paint();
  };
  const later = debounce(refresh, 120);
  input.addEventListener('input', later);
  input.addEventListener('focus', later);
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('keydown', (e) => {
    if (state && !list.hidden) {
      if (e.key === 'ArrowDown') { active = (active + 1) % state.items.length; paint(); e.preventDefault(); return; }
      if (e.key === 'ArrowUp') { active = (active - 1 + state.items.length) % state.items.length; paint(); e.preventDefault(); return; }
      if (e.key === 'Tab' || (e.key === 'Enter' && !e.ctrlKey && !e.metaKey)) { accept(state.items[active]); e.preventDefault(); return; }
      if (e.key === 'Escape') { close(); e.preventDefault(); return; }
    }
    if (e.key === 'Enter') { close(); onSubmit?.(input.value); e.preventDefault(); }
    if (e.key === ' ' && e.ctrlKey) { refresh(); e.preventDefault(); }
  });
  return { el: wrap, input, get value() { return input.value; }, set value(v) { input.value = v; } };
}

// wordAt finds the identifier-like token that ends at the caret.
export function wordAt(text, caret, re = /[A-Za-z0-9_.:\-]*$/) {
  const before = text.slice(0, caret);
  const m = before.match(re);
  const from = caret - (m ? m[0].length : 0);
  const after = text.slice(caret).match(/^[A-Za-z0-9_.:\-]*/);
  return { from, to: caret + (after ? after[0].length : 0), word: m ? m[0] : '' };
}

export function rank(cands, word, limit = 40) {
  const w = word.toLowerCase();
  const pre = [], mid = [];
  for (const c of cands) {
    const t = (c.text || c).toLowerCase();
    if (t === w) continue;
    if (t.startsWith(w)) pre.push(c); else if (w && t.includes(w)) mid.push(c);
  }
  return pre.concat(mid).slice(0, limit).map((c) => (typeof c === 'string' ? { text: c } : c));
}

// The filter language (shared by trace search, log search and tail): key op value, joined by and/or/not.
const TRACE_INTRINSICS = [['service.name', 'service'], ['name', 'span name'], ['kind', 'span kind'], ['status', 'ok | error | unset'], ['duration', 'e.g. > 250ms'], ['trace_id', 'hex'], ['span_id', 'hex']];
const LOG_INTRINSICS = [['service.name', 'service'], ['severity', 'trace…fatal'], ['body', 'text'], ['trace_id', 'hex'], ['span_id', 'hex']];
const OPS = ['=', '!=', '>', '>=', '<', '<=', 'contains', '=~', '!~'];
const INTRINSIC_VALUES = { kind: ['server', 'client', 'internal', 'producer', 'consumer'], status: ['error', 'ok', 'unset'], severity: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] };

// filterCompleter completes keys, operators and values of the filter language.
// keys() and values(key) return promises of strings (from the server's catalogs).
export function filterCompleter(signal, keys, values) {
  const intr = signal === 'logs' ? LOG_INTRINSICS : TRACE_INTRINSICS;
  return async (text, caret) => {
    const before = text.slice(0, caret);
    // value position: key op "partial
    const mv = before.match(/([A-Za-z0-9_.:\-/]+)\s*(=|==|!=|=~|!~|<=|>=|<|>|contains)\s*("?)([^"]*)$/);
    if (mv && !/\s(and|or)\s*$/i.test(before)) {
      const key = mv[1], quoted = mv[3] === '"', partial = mv[4];
      if (!quoted && /\s$/.test(partial)) return null;
      let vals = INTRINSIC_VALUES[key] || [];
      if (!vals.length) { try { vals = await values(key); } catch { vals = []; } }
      const from = caret - partial.length - (quoted ? 1 : 0);
      const rest = text.slice(caret).match(/^[^"\s]*"?/);
      const bare = key in INTRINSIC_VALUES; // kind, status and severity take bare words
      const items = rank(vals, partial).map((v) => ({ text: v.text, insert: bare || /^-?\d+(\.\d+)?$/.test(v.text) ? v.text + ' ' : `"${v.text.replace(/(["\\])/g, '\\$1')}" ` }));
      return items.length ? { from, to: caret + (rest ? rest[0].length : 0), items } : null;
    }
    const w = wordAt(text, caret);
    const prev = before.slice(0, w.from).trimEnd();
    // operator position: right after a key
    if (/[A-Za-z0-9_.\-]$/.test(prev) && !/(^|\s)(and|or|not)$/i.test(prev) && !/["\d]$/.test(prev)) {
      return { from: w.from, to: w.to, items: rank(OPS, w.word, 20).map((o) => ({ text: o.text, insert: o.text + ' ' })).concat(w.word ? [] : []) };
    }
    if (/(=|!=|>|<|>=|<=|contains)$/.test(prev)) return null;
    let ks = [];
    try { ks = await keys(); } catch { ks = []; }
    const cands = intr.map(([k, d]) => ({ text: k, detail: d })).concat(ks.filter((k) => !intr.some(([i]) => i === k)).map((k) => ({ text: k, detail: 'attribute' })));
    if (prev && /["\w)]$/.test(prev) && !/(^|\s)(and|or|not)$/i.test(prev)) cands.unshift({ text: 'and', detail: 'both' }, { text: 'or', detail: 'either' });
    const items = rank(cands, w.word).map((c) => ({ ...c, insert: c.text + ' ', reopen: true }));
    return items.length ? { from: w.from, to: w.to, items } : null;
  };
}

const PROMQL_FUNCS = ['rate', 'irate', 'increase', 'sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'histogram_quantile', 'avg_over_time', 'max_over_time', 'sum_over_time', 'delta', 'deriv', 'abs', 'clamp_min', 'label_replace', 'by', 'without'];

// promCompleter completes metric names, functions, label names inside {…} and label values after =.
export function promCompleter(names, labels, values) {
  return async (text, caret) => {
    const before = text.slice(0, caret);
    const open = before.lastIndexOf('{'), close = before.lastIndexOf('}');
    if (open > close) {
      const metric = (before.slice(0, open).match(/([A-Za-z_:][A-Za-z0-9_:]*)\s*$/) || [])[1];
      const mv = before.slice(open).match(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)$/);
      if (mv) {
        let vals = []; try { vals = await values(mv[1], metric); } catch { /* none */ }
        const from = caret - mv[3].length;
        return { from, to: caret, items: rank(vals, mv[3]).map((v) => ({ text: v.text, insert: v.text.replace(/(["\\])/g, '\\$1') + '"' })) };
      }
      const w = wordAt(text, caret, /[A-Za-z0-9_]*$/);
      let ls = []; try { ls = await labels(metric); } catch { /* none */ }
      return { from: w.from, to: w.to, items: rank(ls.filter((l) => l !== '__name__'), w.word).map((l) => ({ text: l.text, insert: l.text + '="', detail: 'label', reopen: true })) };
    }
    const w = wordAt(text, caret, /[A-Za-z0-9_:]*$/);
    if (!w.word) return null;
    let ns = []; try { ns = await names(); } catch { /* none */ }
    const cands = ns.map((n) => ({ text: n, detail: 'metric' })).concat(PROMQL_FUNCS.map((f) => ({ text: f, detail: 'function' })));
    return { from: w.from, to: w.to, items: rank(cands, w.word) };
  };
}
