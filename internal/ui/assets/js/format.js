// Formatting of times, durations, numbers and colours.

export function fmtDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
  const a = Math.abs(ms);
  if (a === 0) return '0';
  if (a < 0.001) return (ms * 1e6).toFixed(0) + 'ns';
  if (a < 1) return trim((ms * 1000).toFixed(a < 0.01 ? 2 : a < 0.1 ? 1 : 0)) + 'µs';
  if (a < 1000) return trim(ms.toFixed(a < 10 ? 2 : a < 100 ? 1 : 0)) + 'ms';
  if (a < 60000) return trim((ms / 1000).toFixed(a < 10000 ? 2 : 1)) + 's';
  if (a < 3600000) return Math.floor(ms / 60000) + 'm' + (Math.round((ms % 60000) / 1000) ? Math.round((ms % 60000) / 1000) + 's' : '');
  return trim((ms / 3600000).toFixed(1)) + 'h';
}
function trim(s) { return s.includes('.') ? s.replace(/\.?0+$/, '') : s; }

const pad = (n, w = 2) => String(n).padStart(w, '0');

export function fmtTime(ms, withMs = true) {
  if (!ms) return '–';
  const d = new Date(ms);
  const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return withMs ? `${t}.${pad(d.getMilliseconds(), 3)}` : t;
}

export function fmtDateTime(ms) {
  if (!ms) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${fmtTime(ms)}`;
}

export function fmtAgo(ms) {
  const d = Date.now() - ms;
  if (d < 0) return 'just now';
  if (d < 60000) return Math.round(d / 1000) + 's ago';
  if (d < 3600000) return Math.round(d / 60000) + 'm ago';
  if (d < 86400000) return Math.round(d / 3600000) + 'h ago';
  return Math.round(d / 86400000) + 'd ago';
}

export function fmtNum(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e9) return trim((v / 1e9).toFixed(2)) + 'G';
  if (a >= 1e6) return trim((v / 1e6).toFixed(2)) + 'M';
  if (a >= 1e4) return trim((v / 1e3).toFixed(1)) + 'k';
  if (a >= 100) return trim(v.toFixed(0));
  if (a >= 1) return trim(v.toFixed(2));
  return String(Number(v.toPrecision(digits)));
}

// fmtRate shows a per-second rate, per minute when it is below one a second.
export function fmtRate(perSec) {
  if (perSec === null || perSec === undefined || Number.isNaN(perSec)) return '–';
  return perSec !== 0 && Math.abs(perSec) < 1 ? fmtNum(perSec * 60) + '/min' : fmtNum(perSec) + '/s';
}

export function fmtPct(v) { return v === null || v === undefined || Number.isNaN(v) ? '–' : (v * 100 < 0.1 && v > 0 ? '<0.1' : trim((v * 100).toFixed(1))) + '%'; }

// parseDuration reads "250ms", "1.5s", "2m", "300us", "10" (ms) into milliseconds; null when unparsable.
export function parseDuration(str) {
  if (str === null || str === undefined) return null;
  const m = String(str).trim().match(/^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)?$/);
  if (!m) return null;
  const v = parseFloat(m[1]);
  const unit = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] || 'ms'];
  return v * unit;
}

// nsToMs converts a Unix-nanosecond value given as a string or number into milliseconds, keeping sub-ms digits.
export function nsToMs(v) {
  if (v === null || v === undefined || v === '') return 0;
  if (typeof v === 'number') return v / 1e6;
  const s = String(v);
  if (s.length <= 6) return Number(s) / 1e6;
  return Number(s.slice(0, -6)) + Number(s.slice(-6)) / 1e6;
}

// Service colours: a stable hue per name, tuned to stay readable on both themes.
const PALETTE = [212, 28, 150, 275, 188, 318, 95, 250, 45, 168, 296, 120, 232, 62, 178, 200];
const colorCache = new Map();
export function serviceHue(name) {
  let hv = colorCache.get(name);
  if (hv !== undefined) return hv;
  let x = 2166136261;
  for (let i = 0; i < name.length; i++) { x ^= name.charCodeAt(i); x = Math.imul(x, 16777619); }
  hv = PALETTE[(x >>> 0) % PALETTE.length];
  colorCache.set(name, hv);
  return hv;
}
// serviceColor is for text and marks on the page; the theme sets the lightness (--svc-l) so text stays readable.
export function serviceColor(name, alpha = 1) { return `hsl(${serviceHue(name || '')} 62% var(--svc-l) / ${alpha})`; }
// serviceBarColor is for filled bars (--svc-bar-l).
export function serviceBarColor(name, alpha = 1) { return `hsl(${serviceHue(name || '')} 60% var(--svc-bar-l) / ${alpha})`; }
// serviceCanvasColor resolves the bar colour for a canvas, which cannot read CSS variables.
export function serviceCanvasColor(name, alpha = 1) {
  const l = getComputedStyle(document.documentElement).getPropertyValue('--svc-bar-l').trim() || '55%';
  return `hsl(${serviceHue(name || '')} 60% ${l} / ${alpha})`;
}

export const SERIES_COLORS = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#f97316', '#6366f1'];

export function shortId(id, n = 8) { return id ? String(id).slice(0, n) : ''; }

export const SPAN_KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
