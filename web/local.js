// The phone's own store, in IndexedDB: sessions with their event logs,
// injuries, and the protocols as last served (so the page works with no
// server). Every input of a session is written here before the session
// applies it (LiveSession in session.js), as the computer's store does.
//
// Object stores:
// - sessions (key uid): an export document's session (ExportedSession,
//   crates/store/src/export.rs) without its events, plus `live` (true while
//   it runs here), `origin` ('phone' or 'server': pulled from the server's
//   history, no log), `sync` ('pending', 'synced' or 'refused') and
//   `sync_error` (the server's message when it refused it), `rules`.
// - events (key [uid, seq]): { uid, seq, at_ms, input }.
// - injuries (key uid): an export document's injury (ExportedInjury, its
//   `uid` made by newUid), plus `synced` (false while the server may
//   not have it as it is here: new, or cleared here since) and `refused`
//   (the server's message when it refused it). Version 1 keyed them by
//   `area|at|created_at`; the upgrade to version 2 gives each its legacy uid
//   (legacyInjuryUid), the one the server's database and an old export give
//   the same injury.
// - protocols (key id): { id, brief, protocol, rules } as last served.

import * as rules from './runner.js';
import { newUid as runnerNewUid } from './runner.js';

const DB = 'rollcoach';
const VERSION = 2;

let opening = null;

export function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = (event) => {
        const db = req.result;
        if (event.oldVersion < 1) {
          db.createObjectStore('sessions', { keyPath: 'uid' });
          db.createObjectStore('events', { keyPath: ['uid', 'seq'] });
          db.createObjectStore('injuries', { keyPath: 'uid' });
          db.createObjectStore('protocols', { keyPath: 'id' });
        } else if (event.oldVersion < 2) {
          upgradeInjuries(db, req.transaction);
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(new Error(`cannot open the phone's store (IndexedDB): ${req.error && req.error.message}`));
      req.onblocked = () => reject(new Error('the phone\'s store is held by another tab of rollcoach: close it and reload'));
    });
    opening.catch(() => { opening = null; });
  }
  return opening;
}

// Version 1 -> 2: the injuries, keyed by `area|at|created_at`, are keyed by
// uid. Read, then the store is made again with each injury and its legacy
// uid, all in the upgrade's transaction: if any step fails the upgrade is
// undone and the phone keeps its version 1 data.
function upgradeInjuries(db, t) {
  const old = t.objectStore('injuries').getAll();
  old.onsuccess = () => {
    db.deleteObjectStore('injuries');
    const store = db.createObjectStore('injuries', { keyPath: 'uid' });
    for (const i of old.result) {
      const { key: _key, server_id: _id, clear_synced: clearSynced, ...rest } = i;
      // Synced with its clear: version 1 pushed a clear apart (clear_synced).
      const synced = Boolean(i.synced) && (!i.cleared_at || Boolean(clearSynced));
      store.put({ ...rest, uid: i.uid || legacyInjuryUid(i), synced });
    }
  };
}

// Runs `fn(stores)` in one transaction over `names`; resolves with what fn
// returned once the transaction has committed.
async function tx(names, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    // 'relaxed': committed once the browser has the data, without waiting
    // for the disk to flush (the OS still writes it if the tab dies; a
    // power cut may lose the last moments, as with the computer's WAL).
    const t = db.transaction(names, mode, { durability: 'relaxed' });
    const stores = Object.fromEntries(names.map((n) => [n, t.objectStore(n)]));
    let value;
    try {
      value = fn(stores);
    } catch (e) {
      t.abort();
      reject(e);
      return;
    }
    t.oncomplete = () => resolve(value);
    t.onerror = () => reject(new Error(`the phone's store: ${t.error && t.error.message}`));
    t.onabort = () => reject(new Error(`the phone's store: ${(t.error && t.error.message) || 'aborted'}`));
  });
}

function all(store, query) {
  return new Promise((resolve, reject) => {
    const req = store.getAll(query);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function get(store, key) {
  return new Promise((resolve, reject) => {
    const req = store.get(key);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function read(name, fn) {
  const db = await open();
  const t = db.transaction([name], 'readonly');
  return fn(t.objectStore(name));
}

// ----- sessions -------------------------------------------------------------

export function putSession(record) {
  return tx(['sessions'], 'readwrite', (s) => { s.sessions.put(record); });
}

export function getSession(uid) {
  return read('sessions', (s) => get(s, uid));
}

export function sessions() {
  return read('sessions', (s) => all(s));
}

// Writes log entries (one transaction); resolves once they are committed.
export function putEvents(uid, entries) {
  if (!entries.length) return Promise.resolve();
  return tx(['events'], 'readwrite', (s) => {
    for (const e of entries) s.events.put({ uid, seq: e.seq, at_ms: e.at_ms, input: e.input });
  });
}

export async function events(uid) {
  const rows = await read('events', (s) => all(s, IDBKeyRange.bound([uid, 0], [uid, Infinity])));
  return rows.map(({ seq, at_ms, input }) => ({ seq, at_ms, input }));
}

// Stores a finished session's record (its events are already written).
export function finishSession(record, extra = {}) {
  const { events: _log, ...rest } = record;
  return tx(['sessions'], 'readwrite', (s) => {
    s.sessions.put({ ...rest, live: false, origin: 'phone', sync: 'pending', sync_error: null, ...extra });
  });
}

// Merges sessions pulled from the server (its history rows): a uid the
// phone already has is kept as the phone's.
export async function mergeServerSessions(rows) {
  const have = new Set((await sessions()).map((s) => s.uid));
  const fresh = rows.filter((r) => r.uid && !have.has(r.uid) && !r.live);
  if (!fresh.length) return 0;
  await tx(['sessions'], 'readwrite', (s) => {
    for (const r of fresh) {
      s.sessions.put({
        uid: r.uid, protocol_id: r.protocol_id, protocol_version: r.protocol_version, area: r.area,
        options: r.options, facts: r.facts, started_at: r.started_at, ended_at: r.ended_at,
        outcome: r.outcome, reason: r.reason, message: r.message, reps_done: r.reps_done,
        reps_target: r.reps_target, active_ms: r.active_ms, pairing: r.pairing, ratings: r.ratings || [],
        summary: r.summary, live: false, origin: 'server', sync: 'synced', sync_error: null,
      });
    }
  });
  return fresh.length;
}

// ----- injuries -------------------------------------------------------------

const hex = (n, width) => Math.max(0, Math.floor(Number(n) || 0)).toString(16).padStart(width, '0');

// A new uid of a session or an injury, as the computer's store makes one:
// the store's own maker, through the WebAssembly module (runner.js newUid).
export const newUid = (time) => runnerNewUid(time);

export const newInjuryUid = newUid;

// Logs an injury on the phone at `now`, dated `at` (already by the engine's
// rule, injuryTime), to be synced.
export async function logInjury({ area, at, note = null, now }) {
  await putInjury({ uid: await newUid(now), area, at, note, created_at: now, cleared_at: null, synced: false });
}

// The uid of an injury logged before injuries had uids
// (rollcoach_store::legacy_injury_uid): `<created_at>-<at>-<n>-<area>`, the
// times in 12 hex digits, n its rank among those of the same area and times:
// 1 here, where version 1 kept one injury per area and times.
export const legacyInjuryUid = (i) => `${hex(i.created_at, 12)}-${hex(i.at, 12)}-1-${i.area}`;

export function injuries() {
  return read('injuries', (s) => all(s));
}

export function putInjury(injury) {
  return tx(['injuries'], 'readwrite', (s) => { s.injuries.put(injury); });
}

// After a push of the injury `uid` as `sent` was: marks it synced if it is
// still as sent (not cleared meanwhile), or marks it refused with the
// server's message. Read and written in one transaction, so a clear made
// during the push is kept (and pushed next time).
export function injuryPushed(uid, sent, refused = null) {
  return tx(['injuries'], 'readwrite', (s) => {
    const req = s.injuries.get(uid);
    req.onsuccess = () => {
      const cur = req.result;
      if (!cur) return;
      if (refused) {
        s.injuries.put({ ...cur, refused });
      } else if ((cur.cleared_at ?? null) === (sent.cleared_at ?? null)) {
        s.injuries.put({ ...cur, synced: true });
      }
    };
  });
}

// Merges injuries pulled from the server by uid, by the store's rule of
// injury identity (rules.mergeInjury, through the wasm module): new ones are
// added, a clear there is applied here (a clear is never undone); the
// phone's own bookkeeping: one cleared here that the server has not got yet
// stays to be pushed, and one the server has as the phone does is synced.
export async function mergeServerInjuries(list) {
  await rules.ready();
  await tx(['injuries'], 'readwrite', (s) => {
    const req = s.injuries.getAll();
    req.onsuccess = () => {
      const mine = new Map(req.result.map((i) => [i.uid, i]));
      for (const r of list) {
        const uid = r.uid || legacyInjuryUid(r);
        const incoming = { uid, area: r.area, at: r.at, note: r.note ?? null, created_at: r.created_at,
          cleared_at: r.cleared_at ?? null };
        const have = mine.get(uid);
        const stored = have ? { uid, area: have.area, at: have.at, note: have.note ?? null,
          created_at: have.created_at, cleared_at: have.cleared_at ?? null } : null;
        const merge = rules.mergeInjury(stored, incoming);
        if (merge === null) continue; // not the same injury: the phone keeps its own
        if (merge.merge === 'add') {
          s.injuries.put({ ...incoming, synced: true });
        } else if (merge.merge === 'clear') {
          s.injuries.put({ ...have, cleared_at: merge.cleared_at, synced: true, refused: null });
        } else if (have.cleared_at && !r.cleared_at) {
          s.injuries.put({ ...have, synced: false });
        } else if (!have.synced) {
          s.injuries.put({ ...have, synced: true });
        }
      }
    };
  });
}

// The injuries of `area` that still count, as the engine's facts hold them
// (the store's rule, through the wasm module).
export async function injuryFacts(area) {
  return (await rules.facts({ area, id: '' }, await injuries(), [])).injuries;
}

// ----- protocols ------------------------------------------------------------

export function putProtocols(list) {
  return tx(['protocols'], 'readwrite', (s) => {
    s.protocols.clear();
    for (const p of list) s.protocols.put(p);
  });
}

export function protocols() {
  return read('protocols', (s) => all(s));
}

// ----- facts and the export document ----------------------------------------

// What the engine knows at a session's start, from the phone's store: the
// area's injuries that count, and the pairing the last session of this
// protocol started with, by the store's rules (rules.facts, through the wasm
// module), as the computer's store gives them.
export async function facts(protocol) {
  return rules.facts(protocol, await injuries(), await sessions());
}

// One session as an export document's session, log included.
export async function exported(record) {
  const keep = ['uid', 'protocol_id', 'protocol_version', 'area', 'protocol', 'options', 'facts', 'started_at',
    'ended_at', 'outcome', 'reason', 'message', 'reps_done', 'reps_target', 'active_ms', 'pairing', 'ratings', 'summary'];
  const out = Object.fromEntries(keep.map((k) => [k, record[k] ?? null]));
  out.ratings = record.ratings || [];
  out.events = await events(record.uid);
  return out;
}

// Everything on the phone as the document `rollcoach import` reads
// (format "rollcoach-export", version 2: injuries with their uids): the phone's own finished sessions
// (those pulled from the server are the server's to export) and every injury.
export async function exportDocument(now = Date.now()) {
  const mine = (await sessions()).filter((s) => s.origin === 'phone' && !s.live)
    .sort((a, b) => a.started_at - b.started_at);
  const list = [];
  for (const s of mine) list.push(await exported(s));
  const inj = (await injuries()).sort((a, b) => a.at - b.at || a.created_at - b.created_at)
    .map(({ uid, area, at, note, created_at, cleared_at }) => ({ uid, area, at, note: note ?? null, created_at, cleared_at: cleared_at ?? null }));
  return { format: 'rollcoach-export', version: 2, exported_at: now, sessions: list, injuries: inj };
}
