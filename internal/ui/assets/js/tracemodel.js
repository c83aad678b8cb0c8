// Trace model: the span tree, self time and the critical path, computed in the browser from the spans.
//
// Critical path: starting at the end of each root, walk backwards in time. At a cursor, the child that
// finishes last among those that started before the cursor is on the path (its end clipped to the cursor);
// the gap between its end and the cursor is the parent's own time on the path; then the cursor moves to that
// child's start and the walk recurses into the child. The time of a span not covered by any such child is
// its self time on the critical path. Every span is visited once per child list: O(n log n) for the sorts.

export function buildTrace(spans) {
  const byId = new Map();
  const nodes = spans.map((span) => ({ span, children: [], parent: null, depth: 0, self: 0, crit: null, critTotal: 0, descendants: 0, orphan: false }));
  for (const n of nodes) if (n.span.spanId) byId.set(n.span.spanId, n);
  const roots = [];
  for (const n of nodes) {
    const p = n.span.parentId ? byId.get(n.span.parentId) : null;
    if (p && p !== n) { n.parent = p; p.children.push(n); } else { if (n.span.parentId) n.orphan = true; roots.push(n); }
  }
  const byStart = (a, b) => a.span.start - b.span.start || a.span.end - b.span.end;
  roots.sort(byStart);
  let start = Infinity, end = -Infinity, errors = 0;
  const services = new Map();
  for (const n of nodes) {
    if (n.children.length > 1) n.children.sort(byStart);
    start = Math.min(start, n.span.start); end = Math.max(end, n.span.end);
    if (n.span.status.code === 'error') errors++;
    const sv = services.get(n.span.service) || { name: n.span.service, count: 0, errors: 0 };
    sv.count++; if (n.span.status.code === 'error') sv.errors++;
    services.set(n.span.service, sv);
  }
  // depth and pre-order (iterative: traces can be deep)
  const order = [];
  const stack = roots.slice().reverse();
  const seen = new Set();
  while (stack.length) {
    const n = stack.pop();
    if (seen.has(n)) continue; // a cycle in parent IDs: show each span once
    seen.add(n);
    n.depth = n.parent ? n.parent.depth + 1 : 0;
    order.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  for (const n of nodes) if (!seen.has(n)) { n.orphan = true; n.parent = null; roots.push(n); order.push(n); }
  for (let i = order.length - 1; i >= 0; i--) { const n = order[i]; if (n.parent) n.parent.descendants += n.descendants + 1; }
  for (const n of nodes) n.self = selfTime(n);
  criticalPath(roots);
  const maxDepth = order.reduce((m, n) => Math.max(m, n.depth), 0);
  return { nodes, order, roots, byId, start: Number.isFinite(start) ? start : 0, end: Number.isFinite(end) ? end : 0, errors, services: [...services.values()].sort((a, b) => b.count - a.count), maxDepth };
}

function selfTime(n) {
  const s = n.span;
  if (!n.children.length) return s.dur;
  let covered = 0, cs = -Infinity, ce = -Infinity;
  for (const c of n.children) { // children sorted by start
    const a = Math.max(c.span.start, s.start), b = Math.min(c.span.end, s.end);
    if (b <= a) continue;
    if (a > ce) { if (ce > cs) covered += ce - cs; cs = a; ce = b; } else if (b > ce) ce = b;
  }
  if (ce > cs) covered += ce - cs;
  return Math.max(0, s.dur - covered);
}

function criticalPath(roots) {
  const tasks = roots.map((r) => [r, r.span.end]);
  while (tasks.length) {
    const [n, bound] = tasks.pop();
    const s = n.span;
    const segs = n.crit || (n.crit = []);
    let cursor = Math.min(bound, s.end);
    const kids = n.children.slice().sort((a, b) => b.span.end - a.span.end);
    let i = 0;
    while (cursor > s.start) {
      while (i < kids.length && kids[i].span.start >= cursor) i++;
      if (i >= kids.length) { segs.push([s.start, cursor]); break; }
      const c = kids[i++];
      const ce = Math.min(c.span.end, cursor);
      if (ce < cursor) segs.push([ce, cursor]);
      if (c.span.start < ce) tasks.push([c, ce]);
      cursor = Math.max(c.span.start, s.start);
    }
    for (const [a, b] of segs) n.critTotal += b - a;
  }
}

// visibleRows returns the nodes shown given the collapsed set (pre-order, skipping collapsed subtrees).
export function visibleRows(model, collapsed) {
  if (!collapsed.size) return model.order;
  const out = [];
  const stack = model.roots.slice().reverse();
  while (stack.length) {
    const n = stack.pop();
    out.push(n);
    if (collapsed.has(n.span.spanId)) continue;
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]);
  }
  return out;
}
