// otlpd UI: shell, routing, theme and keyboard shortcuts.
import { parse, go, isSilent } from './router.js';
import { replace, errorBox, hideTip } from './dom.js';
import { initSession } from './session.js';

const views = {
  search: () => import('./views/search.js'),
  trace: () => import('./views/trace.js'),
  compare: () => import('./views/compare.js'),
  services: () => import('./views/services.js'),
  service: () => import('./views/service.js'),
  logs: () => import('./views/logs.js'),
  metrics: () => import('./views/metrics.js'),
  alerts: () => import('./views/alerts.js'),
};
const tabOf = { search: 'search', trace: 'search', compare: 'compare', services: 'services', service: 'services', logs: 'logs', metrics: 'metrics', alerts: 'alerts' };

const main = document.getElementById('main');
let cleanup = null;
let renderSeq = 0;

async function render() {
  if (isSilent()) return;
  hideTip();
  const r = parse();
  const seq = ++renderSeq;
  for (const a of document.querySelectorAll('.tabs a')) {
    const on = a.dataset.view === tabOf[r.view];
    a.classList.toggle('active', on);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  try { cleanup?.(); } catch { /* view already gone */ }
  cleanup = null;
  const load = views[r.view];
  if (!load) { replace(main, errorBox(`unknown page "${r.view}"`)); return; }
  try {
    const mod = await load();
    if (seq !== renderSeq) return;
    const root = document.createElement('div');
    root.className = 'view view-' + r.view;
    replace(main, root);
    document.body.dataset.view = r.view;
    const names = { search: 'Traces', trace: 'Trace ' + r.arg.slice(0, 8), compare: 'Compare', services: 'Service map', service: r.arg, logs: 'Logs', metrics: 'Metrics', alerts: 'Alerts' };
    document.title = `${names[r.view] || r.view} · otlpd`;
    cleanup = mod.render(root, r.arg, r.params) || null;
  } catch (e) {
    replace(main, errorBox(e));
  }
}

function setTheme(t) {
  document.documentElement.dataset.theme = t;
  try { localStorage.setItem('otlpd.theme', t); } catch { /* storage disabled */ }
  window.dispatchEvent(new Event('themechange'));
}
document.getElementById('theme').addEventListener('click', () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));
initSession();
document.getElementById('help').addEventListener('click', () => document.getElementById('help-dialog').showModal());
document.getElementById('goto').addEventListener('submit', (e) => {
  e.preventDefault();
  const inp = document.getElementById('goto-input');
  const id = inp.value.trim().toLowerCase();
  if (/^[0-9a-f]{1,32}$/.test(id)) { inp.value = ''; inp.blur(); go('trace', id.padStart(32, '0')); }
  else inp.setCustomValidity('A trace ID is 32 hex digits'), inp.reportValidity(), setTimeout(() => inp.setCustomValidity(''), 1500);
});

let gPending = false;
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || e.ctrlKey || e.metaKey || e.altKey) return;
  if (gPending) {
    gPending = false;
    const to = { t: 'search', s: 'services', l: 'logs', m: 'metrics', c: 'compare', a: 'alerts' }[e.key];
    if (to) { go(to); e.preventDefault(); }
    return;
  }
  if (e.key === 'g') { gPending = true; setTimeout(() => { gPending = false; }, 1200); return; }
  if (e.key === '/') { document.getElementById('goto-input').focus(); e.preventDefault(); }
  else if (e.key === 't') setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');
  else if (e.key === '?') document.getElementById('help-dialog').showModal();
});

// A path-style deep link (/trace/abc?span=x, served index.html by the server) becomes the hash route.
if (location.pathname !== '/' && !location.hash) history.replaceState(null, '', '/#' + location.pathname + location.search);

window.addEventListener('hashchange', render);
render();
