// History: every session, and a chart of each rating over time, before and after.

import { api, el, localTime } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

const OUTCOMES = {
  completed: 'Completed',
  stopped: 'Stopped',
  refused: 'Refused',
  interrupted: 'Interrupted',
};

const REASONS = {
  'pain-with-pop': 'pain with a pop',
  'pain-over-spine': 'pain over the spine',
  'sharp-or-radiating': 'sharp or radiating pain',
  'other-pain': 'pain',
  'too-much-discomfort': 'too much discomfort',
  'by-person': 'by you',
  'recent-injury': 'injury in the past 48 hours',
};

function reasonText(reason) {
  if (!reason) return '';
  if (reason.startsWith('answer:')) return 'a screening answer';
  return REASONS[reason] || reason;
}

// One line chart of a rating: before (dashed) and after (solid) per session.
function chart(label, points, higherIsBetter) {
  const W = 320; const H = 170; const L = 28; const R = 10; const T = 12; const B = 28;
  const n = points.length;
  const x = (i) => (n === 1 ? L + (W - L - R) / 2 : L + (i * (W - L - R)) / (n - 1));
  const y = (v) => T + ((10 - v) * (H - T - B)) / 10;
  const title = `${label} over time, before and after each session`;
  const desc = points.map((p) => `${localTime(p.at)}: before ${p.before ?? 'not rated'}, after ${p.after ?? 'not rated'}`).join('; ');
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': `${title}. ${desc}` });
  for (const v of [0, 5, 10]) {
    root.append(svg('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: L - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, v));
  }
  const series = (key, cls) => {
    const pts = points.map((p, i) => [p[key], i]).filter(([v]) => v !== null && v !== undefined);
    if (pts.length > 1) {
      root.append(svg('polyline', { class: `line ${cls}`, points: pts.map(([v, i]) => `${x(i)},${y(v)}`).join(' ') }));
    }
    for (const [v, i] of pts) root.append(svg('circle', { class: `pt ${cls}`, cx: x(i), cy: y(v), r: 4 }));
  };
  series('before', 'before');
  series('after', 'after');
  root.append(svg('text', { x: L, y: H - 8, class: 'axis' }, n ? new Date(points[0].at).toLocaleDateString() : ''));
  if (n > 1) root.append(svg('text', { x: W - R, y: H - 8, class: 'axis', 'text-anchor': 'end' }, new Date(points[n - 1].at).toLocaleDateString()));
  return el('figure', { class: 'chart-box' },
    el('figcaption', {}, el('strong', {}, label), ` (${higherIsBetter ? 'higher is better' : 'lower is better'})`),
    root,
    el('p', { class: 'legend' }, el('span', { class: 'key before' }, 'before'), ' ', el('span', { class: 'key after' }, 'after')));
}

export async function renderHistory(root) {
  root.replaceChildren(el('h1', { tabindex: '-1' }, 'History'));
  const [{ sessions }, protocols] = await Promise.all([api('/api/history'), api('/api/protocols')]);
  const ratingInfo = new Map();
  const titles = new Map(protocols.map((p) => [p.id, p.title]));
  for (const brief of protocols) {
    const { protocol } = await api(`/api/protocols/${encodeURIComponent(brief.id)}`);
    for (const ind of protocol.indications) ratingInfo.set(ind.rating.id, ind.rating);
  }
  if (sessions.length === 0) {
    root.append(el('p', {}, 'No sessions yet. Start one from the home page.'));
    return;
  }
  // Charts: oldest first.
  const byRating = new Map();
  for (const s of [...sessions].reverse()) {
    for (const r of s.ratings || []) {
      if (r.before === null && r.after === null) continue;
      if (!byRating.has(r.id)) byRating.set(r.id, []);
      byRating.get(r.id).push({ at: s.started_at, before: r.before, after: r.after });
    }
  }
  if (byRating.size) {
    const charts = el('section', { class: 'charts', 'aria-labelledby': 'charts-h' }, el('h2', { id: 'charts-h' }, 'Ratings'));
    for (const [id, points] of byRating) {
      const info = ratingInfo.get(id);
      charts.append(chart(info ? info.label : id, points, info ? info.higher_is_better : false));
    }
    root.append(charts);
  }
  const list = el('ol', { class: 'sessions', id: 'sessions' });
  for (const s of sessions) {
    const outcome = s.live ? 'In progress' : s.outcome ? OUTCOMES[s.outcome.outcome] || s.outcome.outcome : 'Unfinished';
    const reason = reasonText(s.reason);
    const dur = s.duration_ms ? `${Math.round(s.duration_ms / 1000)} s` : '';
    const ratings = (s.ratings || []).map((r) => `${(ratingInfo.get(r.id) || {}).label || r.id}: ${r.before ?? '-'} → ${r.after ?? '-'}`);
    list.append(el('li', { class: 'session-item', 'data-id': String(s.id) },
      el('p', { class: 'when' }, localTime(s.started_at)),
      el('p', {}, el('strong', {}, outcome), reason ? ` (${reason})` : '', ` · ${titles.get(s.protocol_id) || s.protocol_id}`),
      el('p', {}, `Reps ${s.reps_done ?? 0} of ${s.reps_target}${dur ? ` · ${dur}` : ''}`),
      ratings.length ? el('p', { class: 'ratings-line' }, ratings.join(' · ')) : null,
      s.live ? el('a', { href: `#/session/${s.id}`, class: 'link' }, 'Return to this session') : null));
  }
  root.append(el('section', { 'aria-labelledby': 'list-h' }, el('h2', { id: 'list-h' }, `Sessions (${sessions.length})`), list));
  root.append(el('p', {}, el('a', { href: '/api/export', download: 'rollcoach-export.json', class: 'link' }, 'Export everything (JSON)')));
}
