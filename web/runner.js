// The engine's session runner (crates/engine/src/runner.rs) and the injury
// rules, in the page's WebAssembly module (crates/wasm, the same module as
// the speech planner; bindings: a small C ABI passing JSON, see
// docs/design.md). The runner never reads a clock and never writes: the
// page passes `now` (session time, ms) and writes each batch of log entries
// to IndexedDB before it commits the batch (LiveSession in session.js).

import { load } from './planner.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// An input the session did not take (it changed nothing): the engine's reason.
export class Rejected extends Error {}

let wasm = null;

// Loads the module once; everything below needs it.
export async function ready() {
  if (!wasm) wasm = await load();
  return wasm;
}

function write(text) {
  const bytes = encoder.encode(text);
  const ptr = wasm.input(bytes.length);
  new Uint8Array(wasm.memory.buffer, ptr, bytes.length).set(bytes);
  return bytes.length;
}

function result() {
  const ptr = wasm.result_ptr();
  return decoder.decode(new Uint8Array(wasm.memory.buffer, ptr, wasm.result_len()));
}

// The JSON result of a call returning a status (0: the result; -1: its error).
function json(status, ErrorType = Error) {
  const text = result();
  if (status !== 0) throw new ErrorType(text);
  return JSON.parse(text);
}

export class Runner {
  // A session of `protocol` (the protocol object as /api/protocols/{id}
  // serves it) started at session time `now`; its opening outputs are pending.
  static async start(protocol, options, facts, now) {
    await ready();
    const h = wasm.runner_start(write(JSON.stringify({ protocol, options, facts })), now);
    if (h === 0) throw new Error(result());
    return new Runner(h);
  }

  // A session rebuilt from its log, as it stood after its last entry.
  static async recover(protocol, options, facts, startedAt, log) {
    await ready();
    const body = JSON.stringify({ protocol, options, facts, started_at: startedAt, log });
    const h = wasm.runner_recover(write(body));
    if (h === 0) throw new Error(result());
    return new Runner(h);
  }

  constructor(handle) {
    this.handle = handle;
  }

  // The log entries to write before `input` applies at `now` (the catch-up
  // timeouts, then the input); throws Rejected when it does not fit.
  offer(input, now) {
    return json(wasm.runner_offer(this.handle, now, write(JSON.stringify(input))), Rejected);
  }

  // The timeouts of the deadlines up to `now`, to write and then commit.
  advance(now) {
    return json(wasm.runner_advance(this.handle, now));
  }

  // Applies the batch offered last, once its entries are written.
  commit() {
    json(wasm.runner_commit(this.handle));
  }

  // The pending outputs: [{ at, output }].
  poll() {
    return json(wasm.runner_poll(this.handle));
  }

  nextDeadline() {
    const t = wasm.runner_next_deadline(this.handle);
    return t < 0 ? null : t;
  }

  // The outputs that show the session as it stands at `now`.
  current(now) {
    return json(wasm.runner_current(this.handle, now));
  }

  // The end record ({ outcome, message, summary, ended_at }), or null while it runs.
  endRecord() {
    return json(wasm.runner_end_record(this.handle));
  }

  // Lets the session go at `now`: its interrupted end record.
  interrupt(now) {
    return json(wasm.runner_interrupt(this.handle, now));
  }

  // The finished session as an export document's session (what
  // POST /api/sync/sessions takes), with `uid`.
  record(uid) {
    return json(wasm.runner_record(this.handle, write(uid)));
  }

  free() {
    if (this.handle) wasm.runner_free(this.handle);
    this.handle = 0;
  }
}

// The block the injuries (in the protocol's area, not cleared: [{ at, note }])
// put on `protocol` at `now`: { injured_at, allowed_at, window_hours,
// message } or null. The engine's rule, as the server applies it.
export async function injuryBlock(protocol, injuries, now) {
  await ready();
  return json(wasm.injury_block(write(JSON.stringify({ protocol, injuries })), now));
}

// An injury's time as recorded when logged at `now`; throws the engine's
// reason when it is refused (dated in the future).
export async function injuryTime(at, now) {
  await ready();
  const t = wasm.injury_time(at, now);
  if (t < 0) throw new Error(result());
  return t;
}

// A new uid for a session started, or an injury logged, at `time`: the
// store's one maker (rollcoach_store::domain::Uid::new, through the module)
// with 64 random bits drawn here (crypto.getRandomValues: crypto.randomUUID
// is only there on https, and the phone may use the computer over plain http).
export async function newUid(time) {
  await ready();
  const r = new Uint32Array(2);
  crypto.getRandomValues(r);
  wasm.new_uid(time, r[0], r[1]);
  return result();
}

// The facts a session of `protocol` starts with, from the phone's injuries
// and sessions: the store's rules (rollcoach_store::rules::facts and
// last_pairing, through the module), as the computer's store applies them.
export async function facts(protocol, injuries, sessions) {
  await ready();
  const query = {
    area: protocol.area,
    protocol_id: protocol.id,
    injuries,
    sessions: sessions.map((s) => ({ protocol_id: s.protocol_id, started_at: s.started_at, pairing: s.pairing ?? null })),
  };
  return json(wasm.rules_facts(write(JSON.stringify(query))));
}

// What an incoming copy of an injury does to the phone's (`stored`, or
// null): { merge: 'add' | 'clear' | 'same', cleared_at }, by the store's
// rule of injury identity (rollcoach_store::rules::merge_injury); null when
// it is not the same injury (another area, time, note or logging time
// under the same uid: the phone keeps its own). The module must be ready()
// (it is called inside an IndexedDB transaction, which cannot wait).
export function mergeInjury(stored, incoming) {
  const text = JSON.stringify({ stored, incoming });
  const status = wasm.rules_merge_injury(write(text));
  return status === 0 ? JSON.parse(result()) : null;
}
