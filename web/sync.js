// Sync with the server that served the page, when it is reachable: push the
// phone's finished sessions (POST /api/sync/sessions, one export-document
// session each, idempotent by uid; the server replays the log and stores it
// only if it gives the same outcome, reps and ratings) and its injuries
// (POST /api/sync/injuries, idempotent by uid, clears included), then pull
// what changed on the server since the last pull (GET /api/sync/changes
// with the cursor it gave) so the phone shows the terminal's sessions and
// injuries too. A 4xx refusal leaves the session on the phone, marked
// refused with the server's message; a network failure is retried later.

import * as local from './local.js';

const KEY_SPEED = 'rollcoach.speed';
// A server that does not answer within this is taken as unreachable for now.
const TIMEOUT_MS = 4000;

// The session clock's speed: `serve --speed` (GET /api/config), remembered
// for when the server cannot be reached; 1 (real time) until known.
export async function speed() {
  try {
    const c = await request('GET', '/api/config');
    if (c.ok && Number.isFinite(c.data.speed) && c.data.speed > 0) {
      localStorage.setItem(KEY_SPEED, String(c.data.speed));
      return c.data.speed;
    }
  } catch { /* unreachable: the last known */ }
  const s = Number(localStorage.getItem(KEY_SPEED));
  return Number.isFinite(s) && s > 0 ? s : 1;
}

// Whether a rollcoach server answers here (a static host's `api/config`
// says `"sync": false`, and an offline phone reaches none): the pages that
// only a server has (a coach's clients) ask this first. Never throws.
export async function hasServer() {
  try {
    const c = await request('GET', '/api/config');
    return c.ok && !!c.data && c.data.sync === true;
  } catch {
    return false;
  }
}

// A request: { ok, status, data }; throws only when the server cannot be
// reached (no answer, or none in time).
async function request(method, path, body) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  const init = { method, headers: {}, signal: ctl.signal };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    const resp = await fetch(path, init);
    const text = await resp.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    return { ok: resp.ok, status: resp.status, data, text };
  } finally {
    clearTimeout(timer);
  }
}

const message = (r) => (r.data && r.data.error) || `${r.status}: ${r.text.slice(0, 200)}`;

// Pushes every finished session not yet synced. Returns how many were stored.
export async function pushSessions() {
  let stored = 0;
  const pending = (await local.sessions()).filter((s) => s.origin === 'phone' && !s.live && s.sync === 'pending');
  for (const s of pending) {
    const r = await request('POST', '/api/sync/sessions', await local.exported(s));
    if (r.ok) {
      await local.putSession({ ...s, sync: 'synced', sync_error: null });
      stored += 1;
    } else if (r.status >= 400 && r.status < 500 && ![401, 404, 408, 429].includes(r.status)) {
      // Refused: kept here, marked, with the server's reason. (401: this
      // device is not paired, or was revoked: kept for when it is; 404: a
      // server without sync yet; 408/429: try again later.)
      await local.putSession({ ...s, sync: 'refused', sync_error: message(r) });
    }
  }
  return stored;
}

// Pushes the injuries the server may not have as they are here: new ones,
// and clears (POST /api/sync/injuries, idempotent by uid; a pushed clear is
// applied there, and nothing is ever un-cleared).
export async function pushInjuries() {
  for (const i of await local.injuries()) {
    if (i.synced || i.refused) continue;
    const { uid, area, at, note, created_at, cleared_at } = i;
    const sent = { uid, area, at, note: note ?? null, created_at, cleared_at: cleared_at ?? null };
    const r = await request('POST', '/api/sync/injuries', sent);
    if (r.ok) {
      // Stored, already there, or cleared there by this push.
      await local.injuryPushed(uid, sent);
    } else if (r.status >= 400 && r.status < 500 && ![401, 404, 408, 429].includes(r.status)) {
      await local.injuryPushed(uid, sent, message(r));
    }
  }
}

// Where this phone has read the server's changes up to (GET
// /api/sync/changes gives it as `next`): a round with nothing new is one
// small answer, not the whole history again.
const KEY_CURSOR = 'rollcoach.sync.cursor';

// Pulls what changed on the server since the last pull (sessions stored or
// ended, injuries logged or cleared) into the phone's store, a page at a
// time, keeping the cursor after each page it has merged.
export async function pull() {
  let since = localStorage.getItem(KEY_CURSOR);
  for (let page = 0; page < 200; page += 1) {
    const query = since ? `?since=${encodeURIComponent(since)}` : '';
    const r = await request('GET', `/api/sync/changes${query}`);
    if (r.status === 400 && since) {
      // A cursor this server did not give (another server at this
      // address): read its changes from the start.
      since = null;
      localStorage.removeItem(KEY_CURSOR);
      continue;
    }
    if (!r.ok || !r.data || !Array.isArray(r.data.changes)) break;
    const changes = r.data.changes;
    const injuries = changes.filter((c) => c.kind === 'injury').map((c) => c.record);
    const sessions = changes.filter((c) => c.kind === 'session').map((c) => c.record);
    if (injuries.length) await local.mergeServerInjuries(injuries);
    if (sessions.length) await local.mergeServerSessions(sessions);
    if (r.data.next) {
      since = r.data.next;
      localStorage.setItem(KEY_CURSOR, since);
    }
    if (!r.data.more) break;
  }
}

let running = null;
let again = null;
// Why the last round could not reach the server (for diagnostics).
let lastError = null;
export const syncError = () => lastError;

// One round: push, pull, and push what the pull found the server lacks (a
// clear made here meanwhile). Resolves with
// { reachable, stored }; never throws. Called while a round runs, it
// resolves with the round after that one (so what was written meanwhile,
// such as a session that just ended, is in it).
export function syncNow() {
  if (running) {
    // A round is under way and may have read the phone's records already:
    // one more round after it, for what changed meanwhile.
    if (!again) again = running.then(() => { again = null; return syncNow(); });
    return again;
  }
  running = (async () => {
    try {
      // A static host with no rollcoach server (`rollcoach web export`
      // writes `"sync": false`): nothing to sync with.
      const c = await request('GET', '/api/config');
      if (!c.ok || !c.data || c.data.sync !== true) {
        lastError = c.ok ? 'no rollcoach server to sync with here' : `GET /api/config: ${message(c)}`;
        return { reachable: false, stored: 0 };
      }
      const stored = await pushSessions();
      await pushInjuries();
      await pull();
      await pushInjuries();
      return { reachable: true, stored };
    } catch (e) {
      lastError = String(e);
      return { reachable: false, stored: 0 };
    } finally {
      running = null;
    }
  })();
  return running;
}

// The round under way, or a new one: for a page that only wants to read
// the latest (Home, History, Injuries), where a round after the running one
// would fetch the same again. A write waits for its own round: syncNow.
export function syncRound() {
  return running || syncNow();
}

// Waits for a round (syncRound), but not long: the page works without the
// server.
export function syncBriefly(ms = 2500) {
  return Promise.race([syncRound(), new Promise((ok) => { setTimeout(ok, ms); })]);
}

// Syncs now and then: at start, when the browser goes online, and every
// minute; a round that could not reach the server is tried again sooner
// (after 5 s, then 10, 20, 40, up to the minute).
export function keepSyncing() {
  let retry = null;
  let backoff = 5000;
  const round = async () => {
    clearTimeout(retry);
    const r = await syncRound();
    if (r.reachable) {
      backoff = 5000;
    } else {
      retry = setTimeout(round, backoff);
      backoff = Math.min(backoff * 2, 60000);
    }
  };
  window.addEventListener('online', () => { backoff = 5000; round(); });
  setInterval(round, 60000);
  round();
}
