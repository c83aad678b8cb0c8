// Client for otlpd's HTTP APIs. Every response is normalised here into the small shapes the views use, so the
// views never depend on wire details (OTLP/JSON, Prometheus JSON).
import { nsToMs, SPAN_KINDS, parseDuration } from './format.js';
import { requireSignIn } from './session.js';

export class APIError extends Error {}

let inflight = new Map();

// get fetches JSON. A call with the same key aborts the previous one still running (typing in a filter, say).
export async function get(path, params, key) {
  const url = new URL(path, location.origin);
  if (params) for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) v.forEach((x) => url.searchParams.append(k, x));
    else url.searchParams.set(k, v);
  }
  let ctl;
  if (key) { inflight.get(key)?.abort(); ctl = new AbortController(); inflight.set(key, ctl); }
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, signal: ctl?.signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new APIError(`cannot reach otlpd (${url.pathname}): ${e.message}`);
  } finally {
    if (key && inflight.get(key) === ctl) inflight.delete(key);
  }
  if (res.status === 401) {
    // This otlpd wants a token: ask for one, then try again (the session cookie now goes with the request).
    await requireSignIn();
    return get(path, params, key);
  }
  const body = await res.text();
  let data = null;
  try { data = body ? JSON.parse(body) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    if ((res.status === 404 || res.status === 405) && data === null) {
      const err = new APIError(`this otlpd does not serve ${url.pathname} (${res.status})`);
      err.status = res.status;
      throw err;
    }
    const msg = (data && (data.error || data.message || data.errors?.[0]?.msg)) || body.slice(0, 300) || res.statusText;
    const err = new APIError(`${res.status}: ${typeof msg === 'string' ? msg : JSON.stringify(msg)}`);
    err.status = res.status;
    throw err;
  }
  if (data && data.status === 'error') throw new APIError(data.error || 'query failed');
  return data;
}

// ---- OTLP/JSON values ----

// anyValue turns an OTLP AnyValue into a plain JS value (maps become objects, arrays arrays, bytes base64 text).
export function anyValue(v) {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object') return v;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) { const n = Number(v.intValue); return Number.isSafeInteger(n) ? n : String(v.intValue); }
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return !!v.boolValue;
  if ('bytesValue' in v) return v.bytesValue;
  if ('arrayValue' in v) return (v.arrayValue?.values || []).map(anyValue);
  if ('kvlistValue' in v) { const o = {}; for (const kv of v.kvlistValue?.values || []) o[kv.key] = anyValue(kv.value); return o; }
  if (Object.keys(v).length === 0) return null;
  return v;
}

// attrs returns [key, value] pairs from OTLP KeyValue lists, a plain object, or Jaeger tags.
export function attrs(list) {
  if (!list) return [];
  if (Array.isArray(list)) return list.map((kv) => [kv.key, 'value' in kv ? (kv.type ? kv.value : anyValue(kv.value)) : anyValue(kv)]);
  return Object.entries(list);
}

export function attr(pairs, key) { for (const [k, v] of pairs) if (k === key) return v; return undefined; }

// ids in OTLP/JSON are hex; some encoders use base64. Normalise to lower-case hex.
export function hexId(v) {
  if (!v) return '';
  if (/^[0-9a-fA-F]+$/.test(v)) return v.toLowerCase();
  try { return Array.from(atob(v), (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(''); } catch { return String(v); }
}

function kindName(k) {
  if (typeof k === 'number') return SPAN_KINDS[k] || 'unspecified';
  if (!k) return 'unspecified';
  return String(k).replace(/^SPAN_KIND_/, '').toLowerCase();
}
function statusCode(c) {
  if (c === 2 || /ERROR/i.test(c)) return 'error';
  if (c === 1 || /OK/i.test(c)) return 'ok';
  return 'unset';
}

// spansFromOTLP flattens OTLP/JSON resourceSpans into span objects.
export function spansFromOTLP(doc, out = []) {
  for (const rs of doc?.resourceSpans || []) {
    const resource = attrs(rs.resource?.attributes);
    const service = attr(resource, 'service.name') ?? 'unknown_service';
    for (const ss of rs.scopeSpans || rs.instrumentationLibrarySpans || []) {
      const sc = ss.scope || ss.instrumentationLibrary || {};
      const scope = { name: sc.name || '', version: sc.version || '', attrs: attrs(sc.attributes) };
      for (const sp of ss.spans || []) {
        const start = nsToMs(sp.startTimeUnixNano), end = nsToMs(sp.endTimeUnixNano);
        out.push({
          traceId: hexId(sp.traceId), spanId: hexId(sp.spanId), parentId: hexId(sp.parentSpanId),
          name: sp.name || '', kind: kindName(sp.kind), service, start, end: Math.max(end, start), dur: Math.max(0, end - start),
          status: { code: statusCode(sp.status?.code), message: sp.status?.message || '' },
          attrs: attrs(sp.attributes), resource, scope, traceState: sp.traceState || '', flags: sp.flags,
          events: (sp.events || []).map((e) => ({ name: e.name || '', time: nsToMs(e.timeUnixNano), attrs: attrs(e.attributes) })),
          links: (sp.links || []).map((l) => ({ traceId: hexId(l.traceId), spanId: hexId(l.spanId), attrs: attrs(l.attributes) })),
          droppedAttributes: sp.droppedAttributesCount || 0, droppedEvents: sp.droppedEventsCount || 0, droppedLinks: sp.droppedLinksCount || 0,
        });
      }
    }
  }
  return out;
}

// spansFromJaeger reads one trace of the Jaeger JSON API.
export function spansFromJaeger(tr, out = []) {
  const procs = tr.processes || {};
  for (const sp of tr.spans || []) {
    const p = procs[sp.processID] || {};
    const tags = attrs(sp.tags);
    const parent = (sp.references || []).find((r) => r.refType === 'CHILD_OF');
    const start = sp.startTime / 1000, dur = sp.duration / 1000;
    out.push({
      traceId: sp.traceID, spanId: sp.spanID, parentId: parent ? parent.spanID : '', name: sp.operationName, service: p.serviceName || 'unknown_service',
      kind: String(attr(tags, 'span.kind') || 'unspecified'), start, end: start + dur, dur,
      status: { code: attr(tags, 'error') === true || attr(tags, 'otel.status_code') === 'ERROR' ? 'error' : 'unset', message: attr(tags, 'otel.status_description') || '' },
      attrs: tags, resource: attrs(p.tags).concat([['service.name', p.serviceName]]), scope: { name: attr(tags, 'otel.scope.name') || '', version: '', attrs: [] },
      events: (sp.logs || []).map((l) => { const f = attrs(l.fields); return { name: attr(f, 'event') || 'log', time: l.timestamp / 1000, attrs: f }; }),
      links: (sp.references || []).filter((r) => r.refType === 'FOLLOWS_FROM').map((r) => ({ traceId: r.traceID, spanId: r.spanID, attrs: [] })),
    });
  }
  return out;
}

// ---- traces ----

const msParam = (v) => (v ? String(Math.round(v)) : undefined); // the API takes Unix milliseconds
const notRouted = (e) => e.status === 404 || e.status === 405;

// getTrace loads every span of a trace, page by page (GET /api/otlpd/traces/{id}/spans); onPage(spans, added)
// is called as pages arrive. A server without the paged route is asked for the whole trace at once.
export async function getTrace(id, onPage, pageSize = 5000) {
  const spans = [];
  let after = '';
  for (let i = 0; i < 100000; i++) {
    let data;
    try {
      data = await get(`/api/otlpd/traces/${encodeURIComponent(id)}/spans`, { limit: pageSize, after: after || undefined });
    } catch (e) {
      if (i > 0 || !notRouted(e)) throw e;
      data = await get(`/api/otlpd/traces/${encodeURIComponent(id)}`);
    }
    const before = spans.length;
    const doc = data?.spans || data;
    if (doc?.resourceSpans) spansFromOTLP(doc, spans);
    else if (data?.data?.[0]?.spans) spansFromJaeger(data.data[0], spans);
    onPage?.(spans, spans.length - before, data?.total);
    after = data?.next || '';
    if (!after || spans.length === before) break;
  }
  return spans;
}

// traceAnalysis returns the server's critical path and span timings (after clock-skew correction), or null
// when the server does not compute them.
export async function traceAnalysis(id) {
  try {
    const a = await get(`/api/otlpd/traces/${encodeURIComponent(id)}/analysis`);
    if (!a || !Array.isArray(a.spans)) return null;
    return {
      skewAdjusted: Number(a.skewAdjusted || 0),
      truncated: !!a.truncated,
      critical: (a.criticalPath || []).map((c) => ({ spanId: c.spanId, start: Number(c.startNanos) / 1e6, end: Number(c.endNanos) / 1e6 })),
      spans: a.spans.map((x) => ({ spanId: x.spanId, skew: Number(x.skewNanos || 0) / 1e6, self: Number(x.selfNanos || 0) / 1e6, critical: Number(x.criticalNanos || 0) / 1e6, async: !!x.async })),
    };
  } catch (e) {
    if (notRouted(e) || e.status >= 500) return null;
    throw e;
  }
}

// timeMs reads a time given as Unix nanoseconds (string), milliseconds (number) or RFC 3339 text.
export function timeMs(v) {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'number') return v;
  if (/^\d+$/.test(v)) return v.length > 15 ? nsToMs(v) : Number(v);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return 0;
  const frac = String(v).match(/\.(\d{4,9})/); // keep the sub-millisecond digits Date.parse drops
  return frac ? ms + Number('0.' + frac[1].slice(3)) : ms;
}

// summary normalises one trace-search result.
function summary(t) {
  const num = (x) => (x === undefined || x === null ? undefined : Number(x));
  const start = t.startTimeUnixNano !== undefined ? nsToMs(t.startTimeUnixNano) : timeMs(t.start);
  const dur = t.durationMs ?? (t.durationNanos !== undefined ? num(t.durationNanos) / 1e6 : num(t.duration) / 1e6);
  const services = (t.services || []).map((s) => (typeof s === 'string' ? { name: s, count: 0 } : { name: s.service || s.name, count: s.spanCount || s.count || 0, errors: s.errorCount || 0 }));
  services.sort((a, b) => b.count - a.count);
  return {
    traceId: hexId(t.traceId || t.traceID), rootService: t.rootService || services[0]?.name || '',
    rootName: t.rootName || (t.rootMissing ? '(root span not received)' : ''), rootMissing: !!t.rootMissing, start, dur: dur || 0,
    spanCount: num(t.spanCount) || 0, errorCount: num(t.errorCount) || 0, services,
  };
}

// traceSummary returns the summary of one trace (GET /api/otlpd/traces/{id}/summary).
export async function traceSummary(id) {
  return summary(await get(`/api/otlpd/traces/${encodeURIComponent(id)}/summary`, null, 'summary-' + id));
}

// compareTraces returns the server's comparison of two traces by service/operation path (GET
// /api/otlpd/compare), or null when the server does not compare traces. Rows come in tree order: each path
// after its parent, the paths of B that A lacks after their parent's paths from A. Durations are in ms.
export async function compareTraces(a, b) {
  let data;
  try {
    data = await get('/api/otlpd/compare', { a, b }, 'compare');
  } catch (e) {
    if (notRouted(e)) return null; // no such route here, or a trace is missing: the caller loads the traces
    throw e;
  }
  if (!data || !Array.isArray(data.paths)) return null;
  const stat = (x) => (x ? { count: Number(x.count || 0), dur: Number(x.durationNanos || 0) / 1e6, self: Number(x.selfNanos || 0) / 1e6, errors: Number(x.errors || 0) } : null);
  // rebuild the tree of paths so that B-only paths sit under their parent
  const root = { children: [] }, byKey = new Map();
  for (const d of data.paths) {
    const path = d.path || [];
    const key = path.join('\u0000');
    const node = { key, path, a: stat(d.a), b: stat(d.b), delta: Number(d.deltaNanos || 0) / 1e6, children: [] };
    byKey.set(key, node);
    (byKey.get(path.slice(0, -1).join('\u0000')) || root).children.push(node);
  }
  const rows = [];
  const walk = (n) => { for (const c of n.children) { rows.push(c); walk(c); } };
  walk(root);
  return {
    rows, durA: Number(data.durationNanosA || 0) / 1e6, durB: Number(data.durationNanosB || 0) / 1e6,
    onlyA: Number(data.onlyA || 0), onlyB: Number(data.onlyB || 0), both: Number(data.both || 0), truncated: !!data.truncated,
  };
}

// goDuration turns what a user typed ("250ms", "1.5s", "10" = ms) into a Go duration for the API.
function goDuration(v) {
  if (!v) return undefined;
  const ms = parseDuration(v);
  return ms === null ? v : `${Number(ms.toPrecision(12))}ms`;
}

export async function searchTraces(p) {
  const data = await get('/api/otlpd/traces', {
    service: p.service, operation: p.operation, filter: p.q, minDuration: goDuration(p.minDuration), maxDuration: goDuration(p.maxDuration),
    start: msParam(p.start), end: msParam(p.end), limit: p.limit, offset: p.offset || undefined,
  }, p.key || 'search');
  const list = (data?.traces || []).map(summary);
  list.next = data?.nextOffset || 0;
  return list;
}

export async function services() {
  const data = await get('/api/otlpd/services');
  const list = data?.services || data?.data || [];
  return list.map((x) => (typeof x === 'string' ? x : x.name)).sort();
}

export async function operations(service) {
  if (!service) return [];
  const data = await get('/api/otlpd/operations', { service }, 'ops');
  const list = data?.operations || [];
  return [...new Set(list.map((x) => (typeof x === 'string' ? x : x.name)))].sort();
}

// attribute keys and values for the filter completer; signal is 'spans' or 'logs'.
export async function attributeKeys(signal, prefix) {
  const data = await get('/api/otlpd/attributes', { signal, prefix, limit: 200 }, 'attrkeys-' + signal);
  return [...new Set((data?.entries || []).map((k) => k.name))];
}
export async function attributeValues(signal, key, prefix) {
  const data = await get('/api/otlpd/attributes', { signal, key, prefix, limit: 100 }, 'attrvals-' + signal);
  return (data?.entries || []).map((v) => String(v.name));
}

// ---- logs ----

export function logsFromOTLP(doc, out = []) {
  for (const rl of doc?.resourceLogs || []) {
    const resource = attrs(rl.resource?.attributes);
    const service = attr(resource, 'service.name') ?? 'unknown_service';
    for (const sl of rl.scopeLogs || []) {
      const scope = { name: sl.scope?.name || '', version: sl.scope?.version || '', attrs: attrs(sl.scope?.attributes) };
      for (const r of sl.logRecords || []) {
        const time = nsToMs(r.timeUnixNano) || nsToMs(r.observedTimeUnixNano);
        out.push({
          time, observed: nsToMs(r.observedTimeUnixNano), severity: Number(r.severityNumber || 0), severityText: r.severityText || '',
          body: anyValue(r.body), attrs: attrs(r.attributes), resource, scope, service, eventName: r.eventName || '',
          traceId: hexId(r.traceId), spanId: hexId(r.spanId), flags: r.flags,
        });
      }
    }
  }
  return out;
}

export function severityClass(n) {
  if (n >= 21) return 'fatal';
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  if (n >= 5) return 'debug';
  if (n >= 1) return 'trace';
  return 'unset';
}
export const SEVERITIES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function logResult(data, p) {
  let logs = [];
  const doc = data?.logs?.resourceLogs ? data.logs : data;
  logsFromOTLP(doc, logs);
  // hold the records to what was asked even if a server ignores a parameter
  if (p.traceId) logs = logs.filter((l) => l.traceId === p.traceId);
  if (p.spanId) logs = logs.filter((l) => !l.spanId || l.spanId === p.spanId);
  // a page may come grouped by resource: put its records back in time order (a stable sort keeps ties)
  logs.sort(p.order === 'oldest' ? (a, b) => a.time - b.time : (a, b) => b.time - a.time);
  let hist = [];
  const hg = data?.histogram;
  let sevTotals = null;
  if (hg && Array.isArray(hg.counts)) { // {start, stepNanos, counts: [n per bucket], total, severity: {class: [n per bucket]}}
    const t0 = timeMs(hg.start), step = Number(hg.stepNanos) / 1e6;
    const sev = hg.severity && typeof hg.severity === 'object' ? Object.entries(hg.severity) : null;
    hist = hg.counts.map((n, i) => {
      if (!sev) return { t: t0 + i * step, counts: { all: Number(n) } };
      const counts = {};
      for (const [k, arr] of sev) if (arr?.[i]) counts[k] = Number(arr[i]);
      return { t: t0 + i * step, counts };
    });
    if (sev && hg.severityTotals) sevTotals = Object.fromEntries(Object.entries(hg.severityTotals).map(([k, v]) => [k, Number(v)]));
  }
  return { logs, histogram: hist, severityTotals: sevTotals, total: Number(hg?.total ?? logs.length), truncated: !!hg?.truncated, next: data?.nextOffset || 0 };
}

// searchLogs returns {logs, histogram: [{t, counts}], total} (GET /api/otlpd/logs/search).
export async function searchLogs(p) {
  const params = {
    filter: p.q, traceID: p.traceId, start: msParam(p.start), end: msParam(p.end), limit: p.limit, order: p.order, offset: p.offset || undefined,
    histogram: p.step ? 'true' : undefined, step: p.step,
  };
  let data;
  try {
    data = await get('/api/otlpd/logs/search', params, p.key || 'logs');
  } catch (e) {
    if (!notRouted(e)) throw e;
    data = await get('/api/otlpd/logs', { limit: p.limit }, p.key || 'logs'); // a server with only recent logs
    const r = logResult(data, p);
    if (p.start && p.end) r.logs = r.logs.filter((l) => l.time >= p.start && l.time <= p.end);
    return r;
  }
  return logResult(data, p);
}

// traceLogs returns the log records of one trace, oldest first.
export async function traceLogs(traceId, p = {}) {
  try {
    const data = await get(`/api/otlpd/traces/${encodeURIComponent(traceId)}/logs`, { limit: p.limit || 1000 }, p.key || 'trace-logs');
    return logResult(data, { traceId, spanId: p.spanId, order: 'oldest' });
  } catch (e) {
    if (!notRouted(e)) throw e;
    return searchLogs({ traceId, spanId: p.spanId, limit: p.limit || 1000, order: 'oldest', key: p.key || 'trace-logs' });
  }
}

// ---- services, RED, graph ----

// dependencies returns the service graph; with peers, also the calls to peers that send no telemetry
// (databases, third-party APIs), whose names are in peers.
export async function dependencies(start, end, peers = false) {
  const data = await get('/api/otlpd/dependencies', { start: msParam(start), end: msParam(end), peers: peers ? 'true' : undefined }, 'deps');
  const edges = (data?.edges || []).map((e) => ({
    parent: e.parent, child: e.child, calls: Number(e.calls ?? e.callCount ?? 0), errors: Number(e.errors ?? e.errorCount ?? 0), peer: !!e.peer,
  }));
  const nodes = (data?.services || []).map((n) => (typeof n === 'string' ? { name: n } : { name: n.name || n.service }));
  return { edges, nodes, peers: (data?.peers || []).map(String), truncated: !!data?.truncated };
}

// red returns the service series and one series per operation: {service: points, operations: [{operation,
// points}]}; points are {t, rate, errorRate, count, errors, p50, p95, p99} with t in ms and durations in ms.
export async function red(service, start, end, stepMs) {
  const data = await get('/api/otlpd/red', { service, byOperation: 'true', start: msParam(start), end: msParam(end), step: Math.round(stepMs) + 'ms' }, 'red');
  const conv = (s) => ({
    operation: s.operation || '',
    points: (s.points || []).map((p) => ({
      t: timeMs(p.time ?? p.t), rate: Number(p.rate ?? 0), errorRate: Number(p.errorRate ?? 0),
      // a bucket without requests has no percentiles: leave a gap in the chart
      p50: p.count ? msOf(p, 'p50') : null, p95: p.count ? msOf(p, 'p95') : null, p99: p.count ? msOf(p, 'p99') : null, count: Number(p.count ?? 0), errors: Number(p.errors ?? 0),
    })),
    total: s.total ? { count: Number(s.total.count || 0), errors: Number(s.total.errors || 0), rate: Number(s.total.rate || 0), errorRate: Number(s.total.errorRate || 0), p50: msOf(s.total, 'p50'), p95: msOf(s.total, 'p95'), p99: msOf(s.total, 'p99') } : null,
  });
  const series = (data?.series || []).map(conv);
  return { service: series.find((s) => !s.operation) || { operation: '', points: [], total: null }, operations: series.filter((s) => s.operation), truncated: !!data?.truncated };
}
function msOf(p, k) {
  if (p[k + 'Nanos'] !== undefined && p[k + 'Nanos'] !== null) return Number(p[k + 'Nanos']) / 1e6;
  return null;
}

// ---- Prometheus ----

// promRules returns the rule groups of /api/v1/rules (Prometheus API shape).
export async function promRules() {
  const res = await get('/api/v1/rules', null, 'rules');
  return res?.data?.groups || [];
}
export async function promQuery(q, time) {
  return get('/api/v1/query', { query: q, time: time ? (time / 1000).toFixed(3) : undefined }, 'prom');
}
export async function promRange(q, start, end, step) {
  return get('/api/v1/query_range', { query: q, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3), step: step / 1000 }, 'prom');
}
export async function promExemplars(q, start, end) {
  return get('/api/v1/query_exemplars', { query: q, start: (start / 1000).toFixed(3), end: (end / 1000).toFixed(3) }, 'promex');
}
export async function promMetricNames() { return (await get('/api/v1/label/__name__/values', null, 'promnames'))?.data || []; }
export async function promLabels(metric) { return (await get('/api/v1/labels', metric ? { 'match[]': metric } : null, 'promlabels'))?.data || []; }
export async function promLabelValues(label, metric) { return (await get(`/api/v1/label/${encodeURIComponent(label)}/values`, metric ? { 'match[]': metric } : null, 'promlv'))?.data || []; }
export async function promMetadata() { return (await get('/api/v1/metadata', null, 'prommeta'))?.data || {}; }

// logFromTail converts one item of the live-tail stream into the shape of logsFromOTLP.
export function logFromTail(it) {
  return {
    time: timeMs(it.time), observed: 0, severity: Number(it.severity_number || 0), severityText: it.severity || '',
    body: it.body ?? '', attrs: attrs(it.attributes || {}), resource: attrs(it.resource || {}), scope: { name: '', version: '', attrs: [] },
    service: it.service || 'unknown_service', eventName: '', traceId: it.trace_id || '', spanId: it.span_id || '',
  };
}

// tailLogs streams new log records (newline-delimited JSON from /api/otlpd/tail), filtered by the server.
// onLogs(list) gets each batch; onStatus({dropped}) gets each heartbeat (dropped: records this stream lost to
// a full buffer so far); onError(err) is called once when the stream cannot start or ends: err.status is the
// HTTP status when the server refused it (404/405: no stream here; 400: the filter), else 0.
export function tailLogs(filter, { onLogs, onStatus, onError }) {
  const ctl = new AbortController();
  const url = new URL('/api/otlpd/tail', location.origin);
  url.searchParams.set('signal', 'logs');
  if (filter) url.searchParams.set('filter', filter);
  (async () => {
    const res = await fetch(url, { signal: ctl.signal, headers: { Accept: 'application/x-ndjson' } });
    if (!res.ok || !res.body) {
      let msg = `live tail: ${res.status}`;
      try { const j = await res.json(); if (j?.error) msg = j.error; } catch { /* not JSON */ }
      const err = new APIError(msg);
      err.status = res.status;
      throw err;
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      const lines = buf.split('\n');
      buf = lines.pop();
      const batch = [];
      for (const line of lines) {
        if (!line.trim()) continue;
        let it; try { it = JSON.parse(line); } catch { continue; }
        if (it.signal === 'log') batch.push(logFromTail(it));
        else if (it.signal === 'heartbeat') onStatus?.({ dropped: Number(it.dropped || 0) });
      }
      if (batch.length) onLogs(batch);
    }
    const err = new APIError('the live stream ended');
    err.status = 0;
    throw err;
  })().catch((e) => { if (e.name !== 'AbortError') onError?.(e); });
  return () => ctl.abort();
}
