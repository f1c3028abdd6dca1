// History: every session, and a chart of each rating over time, before and after.

import { el, localTime } from './api.js';
import * as local from './local.js';
import { syncBriefly } from './sync.js';

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

// Sessions per page of the list (50; `rollcoach.history-page` in
// localStorage sets fewer, as the browser tests do to see paging).
const page = () => {
  const n = Number(localStorage.getItem('rollcoach.history-page'));
  return Number.isInteger(n) && n > 0 ? n : 50;
};
// Sessions each rating's chart shows, the most recent (as the server's).
const CHART_SESSIONS = 60;

// One series per rating id (sorted by id), each with its most recent
// sessions, oldest first (as crates/store's rating_series).
function ratingSeries(sessions) {
  const byId = new Map();
  for (const s of sessions) {
    for (const r of s.ratings || []) {
      if (!byId.has(r.id)) byId.set(r.id, []);
      byId.get(r.id).push({ at: s.started_at, before: r.before ?? null, after: r.after ?? null });
    }
  }
  return [...byId.keys()].sort().map((id) => {
    const points = byId.get(id).sort((a, b) => a.at - b.at);
    return { id, points: points.slice(Math.max(0, points.length - CHART_SESSIONS)) };
  });
}

const SYNC = {
  pending: 'not yet on the computer',
  refused: 'refused by the computer',
};

export async function renderHistory(root) {
  root.replaceChildren(el('h1', { tabindex: '-1' }, 'History'));
  // The computer's sessions too (the terminal's), when it can be reached.
  await syncBriefly();
  const [all, protocols] = await Promise.all([local.sessions(), local.protocols()]);
  const ratingInfo = new Map();
  const titles = new Map(protocols.map((p) => [p.id, p.protocol.title]));
  const windows = new Map(protocols.map((p) => [p.id, p.rules.injury_window_hours]));
  for (const { protocol } of protocols) {
    for (const ind of protocol.indications) ratingInfo.set(ind.rating.id, ind.rating);
  }
  // Newest first; a session still running in this page is not history yet.
  const sessions = all.filter((s) => !s.live).sort((a, b) => b.started_at - a.started_at || (a.uid < b.uid ? 1 : -1));
  if (sessions.length === 0) {
    root.append(el('p', {}, 'No sessions yet. Start one from the home page.'));
    return;
  }
  const charts = ratingSeries([...sessions].reverse())
    .filter((c) => c.points.some((p) => p.before !== null || p.after !== null));
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
    const outcome = s.outcome ? OUTCOMES[s.outcome.outcome] || s.outcome.outcome : 'Unfinished';
    const reason = reasonText(s.reason, s.protocol_id, windows);
    const durMs = s.ended_at ? s.ended_at - s.started_at : null;
    const dur = durMs ? `${Math.round(durMs / 1000)} s` : '';
    const ratings = (s.ratings || []).map((r) => `${(ratingInfo.get(r.id) || {}).label || r.id}: ${r.before ?? '-'} → ${r.after ?? '-'}`);
    const where = s.origin === 'server' ? 'from the computer' : SYNC[s.sync] || null;
    return el('li', { class: 'session-item', 'data-id': s.uid, 'data-started': String(s.started_at), 'data-sync': s.sync || '' },
      el('p', { class: 'when' }, localTime(s.started_at)),
      el('p', {}, el('strong', {}, outcome), reason ? ` (${reason})` : '', ` · ${titles.get(s.protocol_id) || s.protocol_id}`),
      el('p', {}, `Reps ${s.reps_done ?? 0} of ${s.reps_target}${dur ? ` · ${dur}` : ''}`),
      ratings.length ? el('p', { class: 'ratings-line' }, ratings.join(' · ')) : null,
      where ? el('p', { class: 'meta' }, where) : null,
      s.sync === 'refused' ? el('p', { class: 'error' }, s.sync_error) : null,
      s.origin === 'phone' ? el('a', { href: `#/session/${encodeURIComponent(s.uid)}`, class: 'link' }, 'Open') : null);
  };
  const size = page();
  let shownCount = 0;
  const showMore = () => {
    for (const s of sessions.slice(shownCount, shownCount + size)) list.append(item(s));
    shownCount = Math.min(sessions.length, shownCount + size);
  };
  showMore();
  const shown = el('p', { id: 'sessions-shown', 'aria-live': 'polite' });
  const more = el('button', { type: 'button', id: 'older', class: 'big calm' }, 'Show older sessions');
  const update = () => {
    shown.textContent = shownCount < sessions.length ? `Showing the newest ${shownCount} of ${sessions.length}.` : '';
    more.hidden = shownCount >= sessions.length;
  };
  more.addEventListener('click', () => {
    showMore();
    update();
  });
  update();
  root.append(el('section', { 'aria-labelledby': 'list-h' }, el('h2', { id: 'list-h' }, `Sessions (${sessions.length})`), list, shown, more));
  const exportButton = el('button', { type: 'button', class: 'big calm', id: 'export', onclick: async () => {
    // The phone's data as the document `rollcoach import` reads.
    const doc = await local.exportDocument();
    const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
    const a = el('a', { href: url, download: 'rollcoach-phone-export.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } }, 'Export this phone\'s data (JSON)');
  root.append(el('p', {}, exportButton));
}
