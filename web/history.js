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
};

// `windows`: each protocol's injury window in hours, as the server serves it.
function reasonText(reason, protocolId, windows) {
  if (!reason) return '';
  if (reason.startsWith('answer:')) return 'a screening answer';
  if (reason === 'recent-injury') {
    const hours = windows.get(protocolId);
    return hours === undefined ? 'a recent injury' : `injury in the past ${hours} hours`;
  }
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

// Sessions per page of the list.
const PAGE = 50;

export async function renderHistory(root) {
  root.replaceChildren(el('h1', { tabindex: '-1' }, 'History'));
  const [first, protocols] = await Promise.all([api(`/api/history?limit=${PAGE}`), api('/api/protocols')]);
  const ratingInfo = new Map();
  const titles = new Map(protocols.map((p) => [p.id, p.title]));
  const windows = new Map(protocols.map((p) => [p.id, p.rules.injury_window_hours]));
  for (const brief of protocols) {
    const { protocol } = await api(`/api/protocols/${encodeURIComponent(brief.id)}`);
    for (const ind of protocol.indications) ratingInfo.set(ind.rating.id, ind.rating);
  }
  if (first.sessions.length === 0) {
    root.append(el('p', {}, 'No sessions yet. Start one from the home page.'));
    return;
  }
  // Charts: each rating's most recent sessions, oldest first (from the server).
  const charts = first.charts.filter((c) => c.points.some((p) => p.before !== null || p.after !== null));
  if (charts.length) {
    const section = el('section', { class: 'charts', 'aria-labelledby': 'charts-h' }, el('h2', { id: 'charts-h' }, 'Ratings'));
    for (const c of charts) {
      const info = ratingInfo.get(c.id);
      section.append(chart(info ? info.label : c.id, c.points, info ? info.higher_is_better : false));
    }
    root.append(section);
  }
  const list = el('ol', { class: 'sessions', id: 'sessions' });
  const item = (s) => {
    const outcome = s.live ? 'In progress' : s.outcome ? OUTCOMES[s.outcome.outcome] || s.outcome.outcome : 'Unfinished';
    const reason = reasonText(s.reason, s.protocol_id, windows);
    const dur = s.duration_ms ? `${Math.round(s.duration_ms / 1000)} s` : '';
    const ratings = (s.ratings || []).map((r) => `${(ratingInfo.get(r.id) || {}).label || r.id}: ${r.before ?? '-'} → ${r.after ?? '-'}`);
    return el('li', { class: 'session-item', 'data-id': String(s.id) },
      el('p', { class: 'when' }, localTime(s.started_at)),
      el('p', {}, el('strong', {}, outcome), reason ? ` (${reason})` : '', ` · ${titles.get(s.protocol_id) || s.protocol_id}`),
      el('p', {}, `Reps ${s.reps_done ?? 0} of ${s.reps_target}${dur ? ` · ${dur}` : ''}`),
      ratings.length ? el('p', { class: 'ratings-line' }, ratings.join(' · ')) : null,
      s.live ? el('a', { href: `#/session/${s.id}`, class: 'link' }, 'Return to this session') : null);
  };
  for (const s of first.sessions) list.append(item(s));
  const shown = el('p', { id: 'sessions-shown', 'aria-live': 'polite' });
  const more = el('button', { type: 'button', id: 'older', class: 'big calm' }, 'Show older sessions');
  let next = first.next;
  const update = () => {
    const n = list.children.length;
    shown.textContent = n < first.total ? `Showing the newest ${n} of ${first.total}.` : '';
    more.hidden = next === null;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api(`/api/history?limit=${PAGE}&before=${next}`);
      for (const s of page.sessions) list.append(item(s));
      next = page.next;
    } finally {
      more.disabled = false;
      update();
    }
  });
  update();
  root.append(el('section', { 'aria-labelledby': 'list-h' }, el('h2', { id: 'list-h' }, `Sessions (${first.total})`), list, shown, more));
  root.append(el('p', {}, el('a', { href: '/api/export', download: 'rollcoach-export.json', class: 'link' }, 'Export everything (JSON)')));
}
