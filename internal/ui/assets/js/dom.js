// DOM helpers. Every piece of telemetry reaches the page through text nodes or attribute values set with
// setAttribute: nothing here parses HTML, so untrusted text stays inert.

const SVGNS = 'http://www.w3.org/2000/svg';

function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { for (const c of child) append(el, c); return; }
  if (child instanceof Node) { el.appendChild(child); return; }
  el.appendChild(document.createTextNode(String(child)));
}

function applyProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

// h builds an HTML element: h('a', {href: '#/x', class: 'link'}, 'text', child, [more]).
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

// s builds an SVG element the same way.
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

// text sets an element's content to plain text.
export function text(el, value) { el.textContent = value === null || value === undefined ? '' : String(value); return el; }

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

export function replace(el, ...children) { clear(el); append(el, children); return el; }

export function debounce(fn, ms) {
  let t = 0;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// tooltip shows one floating tooltip near the pointer; lines are plain strings or [label, value] pairs.
let tipEl = null;
export function showTip(ev, lines) {
  if (!tipEl) { tipEl = h('div', {class: 'tooltip', role: 'tooltip'}); document.body.appendChild(tipEl); }
  clear(tipEl);
  for (const l of lines) {
    if (Array.isArray(l)) tipEl.appendChild(h('div', null, h('span', {class: 'tip-k'}, l[0]), ' ', h('span', {class: 'tip-v'}, l[1])));
    else tipEl.appendChild(h('div', {class: 'tip-title'}, l));
  }
  tipEl.style.display = 'block';
  const r = tipEl.getBoundingClientRect();
  let x = ev.clientX + 14, y = ev.clientY + 14;
  if (x + r.width > window.innerWidth - 8) x = ev.clientX - r.width - 14;
  if (y + r.height > window.innerHeight - 8) y = ev.clientY - r.height - 14;
  tipEl.style.left = x + 'px';
  tipEl.style.top = y + 'px';
}
export function hideTip() { if (tipEl) tipEl.style.display = 'none'; }

// copyButton copies value to the clipboard.
export function copyButton(value, label = 'Copy') {
  const btn = h('button', {class: 'btn-icon inline', type: 'button', title: label, 'aria-label': label, onclick: (e) => {
    e.stopPropagation();
    navigator.clipboard?.writeText(value).then(() => { btn.classList.add('copied'); setTimeout(() => btn.classList.remove('copied'), 900); }).catch(() => {});
  }}, s('svg', {width: 13, height: 13, viewBox: '0 0 16 16', 'aria-hidden': 'true'},
    s('rect', {x: 5, y: 5, width: 9, height: 9, rx: 1.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5}),
    s('path', {d: 'M3 11V3.5A1.5 1.5 0 0 1 4.5 2H11', fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5})));
  return btn;
}

export function spinner(msg = 'Loading…') { return h('div', {class: 'empty loading'}, h('span', {class: 'spin'}), msg); }
export function empty(msg, hint) { return h('div', {class: 'empty'}, h('div', null, msg), hint ? h('div', {class: 'muted'}, hint) : null); }
export function errorBox(err) { return h('div', {class: 'error-box', role: 'alert'}, h('strong', null, 'Error: '), err && err.message ? err.message : String(err)); }
