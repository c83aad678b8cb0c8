// Hash routing: #/view/arg?key=value. Every view keeps its whole state in the URL so a link restores it.

let silentHash = null;

export function parse() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = Object.fromEntries(new URLSearchParams(query));
  return { view: parts[0] || 'search', arg: parts.slice(1).join('/'), params };
}

export function href(view, arg, params) {
  let s = '#/' + view + (arg ? '/' + encodeURIComponent(arg) : '');
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, v);
  const qs = q.toString();
  return qs ? s + '?' + qs : s;
}

// go navigates (adds a history entry and renders).
export function go(view, arg, params) { location.hash = href(view, arg, params); }

// update rewrites the URL of the current view without rendering it again (state already on screen).
export function update(view, arg, params, push = false) {
  const h = href(view, arg, params);
  if (h === location.hash) return;
  silentHash = h;
  if (push) history.pushState(null, '', h); else history.replaceState(null, '', h);
  silentHash = null;
}

export function isSilent() { return silentHash !== null && silentHash === location.hash; }
