// The session screen: a phone lying on the floor beside the roller.
//
// The session runs here, on the phone: the engine's session runner in
// WebAssembly (runner.js) on the phone's own clock, every input written to
// IndexedDB (local.js) before it applies. The phone owns the clock, so phase
// changes, speech, tones and vibrations are all scheduled here: nothing waits
// for the network. What is spoken and when is the speech planner's choice
// (planner.js), fed every output with its session time; speech.js says it.
// Each turn also sounds a tone and buzzes (turns.js). The pacer moves
// smoothly on its own from each phase's duration (Web Animations).

import { el, localTime } from './api.js';
import { speaker } from './speech.js';
import { turns } from './turns.js';
import { Planner } from './planner.js';
import { Rejected, Runner, injuryBlock, injuryTime } from './runner.js';
import * as local from './local.js';
import { syncNow } from './sync.js';

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

// ----- the session itself ---------------------------------------------------

// Real ms before a deadline that its timeout is written (an IndexedDB write
// takes a few ms, up to about 15 on a busy machine), and the last ms before
// it that the page waits out exactly.
const PREPARE_MS = 60;
const SPIN_MS = 4;

// The session running in this page, if any (the person may leave its
// screen: it pauses and Home offers it).
let active = null;

export function activeSession() {
  return active && !active.over ? active : null;
}

// One session run by the page: the runner, its log in IndexedDB, the
// session clock, and the timer of its next deadline. Outputs go to the
// screen attached (`view`), with their session times.
export class LiveSession {
  // Starts a session now on `clock` ({ t0, p0, speed }: session time t0 at
  // performance.now() p0, running `speed` times real time): writes its
  // record, starts the runner and gives it the screening answers the page
  // asked before (as its first inputs, at the start). Attach a view after.
  static async begin({ protocol, rules, options, answers = [], clock }) {
    const facts = await local.facts(protocol);
    const { t0, p0, speed } = clock;
    const startedAt = Math.floor(t0 + (performance.now() - p0) * speed);
    const runner = await Runner.start(protocol, options, facts, startedAt);
    const uid = await local.newUid(startedAt);
    // Held while this page runs the session, requested before its record
    // exists: another tab's start-up (recoverUnfinished) sees it and leaves
    // the session alone, and the browser lets it go when this page dies.
    let releaseLock = () => {};
    if (navigator.locks) {
      navigator.locks.request(liveLockName(uid), () => new Promise((release) => { releaseLock = release; }))
        .catch(() => {});
    }
    const record = {
      uid, protocol_id: protocol.id, protocol_version: protocol.version, area: protocol.area, protocol, rules,
      options, facts, started_at: startedAt, live: true, origin: 'phone', speed,
    };
    try {
      await local.putSession(record);
    } catch (e) {
      runner.free();
      releaseLock();
      throw e;
    }
    const s = new LiveSession({ uid, protocol, rules, runner, t0, p0, speed });
    s.releaseLock = () => releaseLock();
    active = s;
    s.drain();
    for (const answer of answers) {
      // eslint-disable-next-line no-await-in-loop
      await s.input({ type: 'answer', answer }, startedAt).catch((e) => { if (!(e instanceof Rejected)) throw e; });
    }
    return s;
  }

  constructor({ uid, protocol, rules, runner, t0, p0, speed, view }) {
    Object.assign(this, { uid, protocol, rules, runner, t0, p0, speed, view: view || null });
    this.over = false;
    this.timer = null;
    this.queue = Promise.resolve();
    this.end = null;
    this.prepared = null; // the deadline whose timeouts are written, not yet applied
  }

  // Session time now (ms): the start plus real time elapsed times `speed`.
  now() {
    return this.t0 + (performance.now() - this.p0) * this.speed;
  }

  // The performance.now() at which session time `at` falls.
  due(at) {
    return this.p0 + (at - this.t0) / this.speed;
  }

  // One step at a time, in order: an input and a deadline never interleave.
  enqueue(step) {
    const run = this.queue.then(step);
    this.queue = run.catch(() => {});
    return run;
  }

  // Gives the session an input now (or at `at`): offered, written, then
  // applied. Rejects with Rejected when it does not fit (nothing written).
  input(input, at = null) {
    return this.enqueue(async () => {
      if (this.over) throw new Rejected('the session has ended');
      // A deadline's timeout written ahead is replaced by this input's
      // entries (the same numbers), or comes first in them if it is due.
      this.prepared = null;
      const entries = this.runner.offer(input, at ?? this.now());
      await local.putEvents(this.uid, entries);
      this.runner.commit();
      this.drain();
    });
  }

  // A deadline, in two steps so that the phase changes on time: a little
  // ahead (PREPARE_MS) its timeouts are offered and written; at the deadline
  // the batch is applied and its outputs shown, with no write in between.
  // (Written ahead, a timeout may outlive a page killed in those last
  // milliseconds: its log then ends at the deadline, as if it had lived to it.)
  prepare(d) {
    this.timer = null;
    return this.enqueue(async () => {
      if (this.over || this.runner.nextDeadline() !== d) return;
      const entries = this.runner.advance(d);
      await local.putEvents(this.uid, entries);
      this.prepared = d;
      // Woken just before the deadline, then waits it out exactly (setTimeout
      // alone fires up to a few ms late).
      const wait = this.due(d) - performance.now() - SPIN_MS;
      this.timer = setTimeout(() => this.fire(d), Math.max(0, wait));
    });
  }

  fire(d) {
    this.timer = null;
    return this.enqueue(async () => {
      if (this.over || this.prepared !== d) return;
      this.prepared = null;
      // Applied now, a few ms early (its entries are written; nothing else
      // runs before the deadline: this waits it out), shown at the deadline.
      this.runner.commit();
      const outputs = this.runner.poll();
      const due = this.due(d);
      while (performance.now() < due) { /* at most SPIN_MS */ }
      this.drain(outputs);
    });
  }

  // Hands the pending outputs to the screen, then sets the next deadline's timer.
  drain(outputs = this.runner.poll()) {
    for (const { at, output } of outputs) {
      // For whoever watches the session (the browser tests, a benchmark).
      window.dispatchEvent(new CustomEvent('rollcoach-output', { detail: { at, due: this.due(at), output } }));
      if (this.view) this.view.onOutput(at, output);
      if (output.type === 'end') this.end = output;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.prepared = null;
    const d = this.runner.nextDeadline();
    if (d !== null && !this.over) {
      this.timer = setTimeout(() => this.prepare(d), Math.max(0, this.due(d) - PREPARE_MS - performance.now()));
    }
    if (this.end && !this.over) this.finish();
  }

  // Records the end (the record a store would write) and syncs it.
  async finish() {
    this.over = true;
    clearTimeout(this.timer);
    if (active === this) active = null;
    try {
      await local.finishSession(this.runner.record(this.uid), { rules: this.rules, speed: this.speed });
      syncNow();
    } catch (e) {
      if (this.view) this.view.showError(`This session could not be saved on the phone: ${e.message}`, { stay: true });
    } finally {
      this.runner.free();
      if (this.releaseLock) this.releaseLock();
    }
  }

  attach(view) {
    this.view = view;
  }

  detach(view) {
    if (this.view === view) this.view = null;
  }
}

// The Web Lock a page holds while it runs session `uid`.
function liveLockName(uid) {
  return `rollcoach-live-${uid}`;
}

// Sessions this page left unfinished (it was closed, reloaded or killed
// mid-session): each is rebuilt from its log and recorded as interrupted at
// its last input, with what that log did (the engine's own end if the log
// reached it). Returns how many.
export async function recoverUnfinished() {
  let n = 0;
  // Sessions another tab of this browser is running (its Web Lock): left
  // alone. Without Web Locks (plain http is not a secure context) a second
  // tab cannot tell, and records them as interrupted.
  const running = new Set();
  if (navigator.locks && navigator.locks.query) {
    try {
      const { held = [], pending = [] } = await navigator.locks.query();
      for (const l of [...held, ...pending]) running.add(l.name);
    } catch (e) {
      console.warn(`asking which sessions other tabs run: ${e.message}`);
    }
  }
  for (const s of await local.sessions()) {
    if (!s.live || (active && active.uid === s.uid) || running.has(liveLockName(s.uid))) continue;
    let runner = null;
    try {
      const log = await local.events(s.uid);
      runner = await Runner.recover(s.protocol, s.options, s.facts, s.started_at, log);
      if (!runner.endRecord()) runner.interrupt(s.started_at + (log.length ? log[log.length - 1].at_ms : 0));
      // eslint-disable-next-line no-await-in-loop
      await local.finishSession(runner.record(s.uid), { rules: s.rules, speed: s.speed });
      n += 1;
    } catch (e) {
      // A log that cannot be rebuilt is kept, marked, never dropped.
      await local.putSession({ ...s, live: false, outcome: { outcome: 'interrupted' }, sync: 'refused',
        sync_error: `the phone could not rebuild this session from its log: ${e.message}` });
    } finally {
      if (runner) runner.free();
    }
  }
  return n;
}

const OUTCOME_TITLES = { completed: 'Well done', refused: 'Not now', stopped: 'Stopped', interrupted: 'Interrupted' };

export class SessionView {
  // `id`: a session's uid, or `new/<protocol id>` to start one.
  constructor(root, id, { announce, alert, speed = 1, draft = null, onStarted = () => {} }) {
    this.draft = draft; // the options chosen on Home, for a new session
    this.root = root;
    this.id = id;
    this.announce = announce;
    this.alert = alert;
    this.speed = speed;
    this.onStarted = onStarted;
    this.session = null; // the LiveSession shown
    this.closed = false;
    this.ended = false;
    this.phase = null; // { direction, duration, from, to }
    this.anim = null;
    this.paused = false;
    this.stage = null;
    this.protocol = null;
    this.rules = null;
    this.wakeLock = null;
    this.pending = null; // 'pain' | 'discomfort' while the chooser is open
    this.pausedForChooser = false;
    this.planner = null;
    this.pollTimer = null;
    this.wakeTimer = null;
    this.build();
    this.onVisibility = () => {
      if (document.visibilityState === 'visible') this.updateWakeLock();
    };
    document.addEventListener('visibilitychange', this.onVisibility);
  }


  // ----- layout -----------------------------------------------------------

  build() {
    const r = this.root;
    r.replaceChildren();
    this.heading = el('h1', { class: 'session-title', tabindex: '-1' }, 'Session');
    this.stageEl = el('p', { class: 'stage', id: 'stage' });
    this.repEl = el('p', { class: 'rep', id: 'rep' });
    this.breathEl = el('p', { class: 'breath', id: 'breath' });
    this.runner = el('div', { class: 'runner' }, el('div', { class: 'dot' }));
    this.pacer = el('div', { class: 'pacer', id: 'pacer', 'data-state': 'idle', role: 'img',
      'aria-label': 'Pacer' },
      el('span', { class: 'end end-top' }, 'neck'),
      el('div', { class: 'track' }, this.runner),
      el('span', { class: 'end end-bottom' }, 'shoulder blades'));
    this.cueEl = el('p', { class: 'cue', id: 'cue' });
    this.promptEl = el('div', { class: 'prompt', id: 'prompt' });
    this.controls = el('div', { class: 'controls', id: 'controls', hidden: true });
    // Getting into position can hurt too: pain and stop are there from setup on.
    this.setupControls = el('div', { class: 'controls setup-controls', id: 'setup-controls', hidden: true },
      el('button', { class: 'big danger', type: 'button', onclick: () => this.openChooser('pain') }, 'Pain'),
      el('button', { class: 'big stop', type: 'button', onclick: () => this.stop() }, 'Stop'));
    this.chooser = el('div', { class: 'chooser', id: 'chooser', hidden: true });
    this.endEl = el('div', { class: 'end-panel', id: 'end', hidden: true });
    this.errorEl = el('p', { class: 'error', id: 'session-error', role: 'alert', hidden: true });
    this.status = el('p', { class: 'conn', id: 'conn' });
    // Browsers speak only after a tap on the page; after a reload there was none.
    this.voiceHint = el('button', { class: 'big calm', type: 'button', id: 'voice-on', hidden: true,
      onclick: () => { speaker.unlock(); turns.unlock(); this.voiceHint.hidden = true; } }, 'Tap to turn the voice on');
    if (speaker.supported && speaker.enabled && navigator.userActivation && !navigator.userActivation.hasBeenActive) {
      this.voiceHint.hidden = false;
    }
    // Screen Wake Lock needs a secure context (https or localhost): over the
    // LAN's plain http the phone's own auto-lock applies.
    this.screenHint = el('p', { class: 'hint', hidden: 'wakeLock' in navigator },
      'This browser cannot keep the screen on here: set your phone to lock after a few minutes, or tap the screen now and then.');
    r.append(
      this.heading,
      this.voiceHint,
      el('div', { class: 'session-top' }, this.stageEl, this.repEl),
      this.breathEl,
      this.pacer,
      this.cueEl,
      this.promptEl,
      this.chooser,
      this.controls,
      this.setupControls,
      this.endEl,
      this.errorEl,
      this.status,
      this.screenHint,
    );
    this.buildControls();
  }

  buildControls() {
    const b = (label, cls, key, onclick) => el('button', { class: `big ${cls}`, type: 'button',
      'aria-keyshortcuts': key, onclick }, label);
    this.pauseBtn = b('Pause', 'pause', 'Space', () => this.togglePause());
    this.controls.replaceChildren(
      b('Pain', 'danger', 'P', () => this.openChooser('pain')),
      b('Too much', 'warn', 'T', () => this.openChooser('discomfort')),
      b('Noise, no pain', 'calm', 'N', () => this.send({ type: 'noise' })),
      this.pauseBtn,
      b('Switch breathing', 'calm', 'B', () => this.send({ type: 'switch-breathing' })),
      b('Stop', 'stop', 'Escape', () => this.stop()),
    );
  }

  // ----- starting, attaching ----------------------------------------------

  async start() {
    const parts = this.id.split('/');
    this.status.textContent = '';
    if (parts[0] === 'new') {
      // Runs on: the screen is ready at the first question.
      this.begin(decodeURIComponent(parts[1] || '')).catch((e) => this.showError(e.message, { stay: true }));
      return;
    }
    const running = activeSession();
    if (running && running.uid === this.id) {
      this.protocol = running.protocol;
      this.rules = running.rules;
      this.speed = running.speed;
      this.heading.textContent = this.protocol.title;
      await this.makePlanner();
      this.show(running);
      return;
    }
    const rec = await local.getSession(this.id);
    if (!rec) {
      this.showError('There is no such session on this phone.', { stay: true });
      return;
    }
    if (rec.protocol) {
      this.protocol = rec.protocol;
      this.heading.textContent = this.protocol.title;
    }
    this.showRecorded(rec);
  }

  // A new session of protocol `pid`: the safety questions first, asked by
  // the page from the protocol, then the reasons; then the session starts
  // and gets the answers as its first inputs (as the terminal does). A
  // protocol blocked by a logged injury starts at once, to be refused.
  async begin(pid) {
    const cached = (await local.protocols()).find((p) => p.id === pid);
    if (!cached) {
      this.showError(`No protocol "${pid}" on this phone. Open Home while the computer is reachable.`, { stay: true });
      return;
    }
    this.protocol = cached.protocol;
    this.rules = cached.rules;
    this.heading.textContent = this.protocol.title;
    const options = { ...(this.draft || {}), reasons: [] };
    // The session clock starts now: the questions the page asks are timed
    // on it too, and the session starts on it.
    this.clock = { t0: Date.now(), p0: performance.now(), speed: this.speed };
    await this.makePlanner();
    const facts = await local.facts(this.protocol);
    const blocked = await injuryBlock(this.protocol, facts.injuries, Date.now());
    const answers = [];
    if (!blocked) {
      this.setStage('screening');
      const qs = this.protocol.screening.questions;
      for (const [i, q] of qs.entries()) {
        // eslint-disable-next-line no-await-in-loop
        const answer = await this.askScreening(q, i + 1, qs.length);
        if (this.closed) return;
        answers.push(answer);
        if (answer === q.refuse_on) break;
      }
      const refused = answers.some((a, i) => a === qs[i].refuse_on);
      if (!refused && this.protocol.indications.length) {
        options.reasons = await this.askReasons();
        if (this.closed) return;
      }
    }
    this.promptEl.replaceChildren();
    let s;
    try {
      s = await LiveSession.begin({ protocol: this.protocol, rules: this.rules, options: this.optionsFor(options),
        answers, clock: this.clock });
    } catch (e) {
      this.showError(`The session could not start: ${e.message}`, { stay: true });
      return;
    }
    this.id = s.uid;
    this.onStarted(s.uid);
    if (!this.closed) this.show(s);
  }

  // Shows session `s` as it stands now, and what it does from now on.
  show(s) {
    this.session = s;
    this.root.dataset.session = s.uid;
    s.attach(this);
    const now = s.now();
    for (const o of s.runner.current(now)) this.onOutput(now, o);
  }

  optionsFor(o) {
    return { instrument: o.instrument ?? null, reps: o.reps ?? null, tempo_seconds: o.tempo_seconds ?? null,
      reasons: o.reasons || [], pairing: null };
  }

  // One safety question, as the engine's prompt shows it; resolves with 'yes' or 'no'.
  askScreening(q, index, of) {
    return new Promise((resolve) => {
      const prompt = { type: 'prompt', kind: 'screening', id: q.id, text: q.text, index, of };
      this.resolvePending = () => resolve(null);
      this.showPrompt(prompt, (input) => { this.resolvePending = null; resolve(input.answer); });
      // Said as the engine says its questions: the prompt, then its cue.
      this.plan(this.now(), prompt);
      this.plan(this.now(), { type: 'cue', text: q.text, say: q.text });
    });
  }

  // The reasons (rated before and after): resolves with the chosen ids.
  askReasons() {
    return new Promise((resolve) => {
      const box = this.promptEl;
      const id = this.protocol.id;
      const set = el('fieldset', {}, el('legend', { class: 'question', id: 'question' }, 'What brings you here? (rated before and after)'));
      for (const ind of this.protocol.indications) {
        const cid = `r-${id}-${ind.id}`;
        set.append(el('div', { class: 'check' },
          el('input', { type: 'checkbox', id: cid, name: 'reason', value: ind.id }),
          el('label', { for: cid }, ind.text)));
      }
      this.resolvePending = () => resolve([]);
      const go = el('button', { class: 'big go', type: 'button', id: 'reasons-go', onclick: () => {
        go.disabled = true;
        this.resolvePending = null;
        resolve([...set.querySelectorAll('input:checked')].map((c) => c.value));
      } }, 'Continue');
      this.stageEl.textContent = 'Before you start';
      box.replaceChildren(el('p', { class: 'count' }, 'Reasons'), set, go);
      const first = set.querySelector('input');
      if (first) first.focus({ preventScroll: true });
    });
  }

  // `input` is an engine input such as { type: 'pause' }: written, then applied.
  send(input) {
    const s = this.session;
    if (!s || s.over) return false;
    s.input(input).catch((e) => this.showError(e.message));
    return true;
  }

  close() {
    this.closed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.session) this.session.detach(this);
    this.stopPacer();
    this.dropPlanner();
    speaker.cancel();
    this.releaseWakeLock();
    if (this.resolvePending) this.resolvePending();
  }

  // The person leaves the view mid-session (they confirmed): a rolling
  // session pauses first, then the view closes.
  leave() {
    if (this.stage === 'rolling' && !this.paused && !this.ended) this.send({ type: 'pause' });
    this.close();
  }

  // Whether leaving this view would leave a session that is still going.
  get live() {
    return Boolean(this.session) && !this.ended && !this.closed && !this.session.over;
  }

  // ----- speech -----------------------------------------------------------

  async makePlanner() {
    // The voice's rate, refined by how fast it was measured to speak;
    // session time runs `speed` times real time, so an utterance lasts
    // `speed` times longer in it, as if the voice were that much slower.
    this.plannerPace = speaker.pace;
    const rate = (speaker.rate * this.plannerPace) / (this.speed || 1);
    try {
      this.planner = await Planner.create(this.protocol, rate);
    } catch (e) {
      this.showError(`Cues are shown but not spoken: ${e.message}`, { stay: true });
    }
  }

  // Feeds one output to the speech planner at its session time, then polls.
  plan(at, output) {
    if (!this.planner) return;
    try {
      this.planner.output(at, JSON.stringify(output));
    } catch (e) {
      this.showError(e.message);
      return;
    }
    // A turn or a stop is said at once; the rest after its whole batch.
    if (['phase', 'end', 'paused', 'resumed'].includes(output.type)) this.pump();
    else if (this.pollTimer === null) this.pollTimer = setTimeout(() => this.pump(), 0);
  }

  // Session time now (before the session starts: its clock, already running).
  now() {
    if (this.session) return this.session.now();
    if (this.clock) return this.clock.t0 + (performance.now() - this.clock.p0) * this.clock.speed;
    return Date.now();
  }

  // Carries out what the planner wants done now, and wakes at its next time.
  pump() {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const planner = this.planner;
    if (!planner || this.closed) return;
    const speed = this.speed || 1;
    for (const s of planner.poll(this.now())) {
      if (s.type === 'say') {
        const realMs = s.expected_ms / speed;
        speaker.say(s.id, s.text, realMs, (id) => {
          if (this.planner !== planner) return;
          planner.finished(id, this.now());
          if (this.pollTimer === null) this.pollTimer = setTimeout(() => this.pump(), 0);
        }, realMs * (this.plannerPace || 1));
      } else if (s.type === 'cut') {
        speaker.cut(s.id);
      }
      // 'skip': not spoken; the words are on screen already.
    }
    const wake = planner.nextWake();
    if (wake !== null) {
      const inMs = Math.max(0, (wake - this.now()) / speed);
      this.wakeTimer = setTimeout(() => this.pump(), inMs);
    }
  }

  // The person acted (pain, stop): whatever is being said stops now; the
  // planner hears it ended.
  silence() {
    speaker.cancel();
  }

  dropPlanner() {
    clearTimeout(this.pollTimer);
    clearTimeout(this.wakeTimer);
    this.pollTimer = null;
    this.wakeTimer = null;
    if (this.planner) this.planner.free();
    this.planner = null;
  }

  // ----- outputs ----------------------------------------------------------

  // One engine output (crates/engine/src/api.rs, its serde form) at session
  // time `at`: shown, then handed to the speech planner.
  onOutput(at, output) {
    if (this.closed) return;
    this.onFrame(output);
    this.plan(at, output);
  }

  onFrame(msg) {
    switch (msg.type) {
      case 'stage':
        this.setStage(msg.stage);
        break;
      case 'cue':
        this.cueEl.textContent = msg.text;
        this.announce(msg.text);
        break;
      case 'note':
        this.cueEl.textContent = msg.text;
        this.announce(msg.text);
        break;
      case 'prompt':
        this.showPrompt(msg);
        break;
      case 'phase':
        this.startPhase(msg);
        break;
      case 'paused':
        this.pausePacer(msg.remaining_ms);
        break;
      case 'resumed':
        this.resumePacer(msg.remaining_ms);
        break;
      case 'pairing-switched':
        this.announce('Breathing switches at the next turn.');
        this.switchPending = true;
        if (this.phase && !this.paused) {
          this.scheduleNextTurn(Math.max(0, this.phaseDeadline - this.now()));
        }
        break;
      case 'acknowledged':
        this.status.textContent = `Logged: ${msg.what}`;
        break;
      case 'end':
        this.showEnd(msg);
        break;
      default:
        break;
    }
  }

  setStage(stage) {
    this.stage = stage;
    this.root.dataset.stage = stage;
    const names = {
      screening: 'Safety questions', 'ratings-before': 'Before you start', setup: 'Get into position',
      rolling: 'Rolling', 'ratings-after': 'How do you feel now?', ended: 'Finished',
    };
    this.stageEl.textContent = names[stage] || stage;
    const rolling = stage === 'rolling';
    this.controls.hidden = !rolling;
    this.setupControls.hidden = stage !== 'setup';
    this.pacer.hidden = !rolling;
    this.breathEl.hidden = !rolling;
    this.repEl.hidden = !rolling;
    // Outside rolling the prompt shows the same words; the cue is only spoken.
    this.cueEl.hidden = !rolling;
    if (rolling) this.promptEl.replaceChildren();
    if (!rolling) this.stopPacer();
    this.updateWakeLock();
  }

  // Shows a prompt; the answer goes to the session, or to `onAnswer` (the
  // safety questions the page asks before the session starts).
  showPrompt(p, onAnswer = null) {
    const box = this.promptEl;
    box.replaceChildren();
    const answer = (input) => () => {
      box.querySelectorAll('button').forEach((b) => { b.disabled = true; });
      if (onAnswer) onAnswer(input);
      else this.send(input);
    };
    if (p.kind === 'screening') {
      box.append(
        el('p', { class: 'count' }, `Question ${p.index} of ${p.of}`),
        el('h2', { class: 'question', id: 'question' }, p.text),
        el('div', { class: 'row' },
          el('button', { class: 'big yes', type: 'button', onclick: answer({ type: 'answer', answer: 'yes' }) }, 'Yes'),
          el('button', { class: 'big no', type: 'button', onclick: answer({ type: 'answer', answer: 'no' }) }, 'No')),
      );
    } else if (p.kind === 'ready') {
      box.append(
        el('p', { class: 'count' }, `Step ${p.index} of ${p.of}`),
        el('h2', { class: 'question', id: 'question' }, p.text),
        el('button', { class: 'big go', type: 'button', onclick: answer({ type: 'ready' }) }, 'Ready'),
      );
    } else if (p.kind === 'rating') {
      const grid = el('div', { class: 'scale', role: 'group', 'aria-labelledby': 'question' });
      for (let v = 0; v <= 10; v += 1) {
        grid.append(el('button', { class: 'num', type: 'button', 'aria-label': `${v} of 10`,
          onclick: answer({ type: 'rating', value: v }) }, String(v)));
      }
      box.append(
        el('p', { class: 'count' }, p.when === 'before' ? 'Before rolling' : 'After rolling'),
        el('h2', { class: 'question', id: 'question' }, p.question),
        el('p', { class: 'scale-ends' }, el('span', {}, `0: ${p.low}`), el('span', {}, `10: ${p.high}`)),
        grid,
        el('button', { class: 'big calm', type: 'button', onclick: answer({ type: 'rating', value: null }) }, 'Skip'),
      );
    }
    const first = box.querySelector('button');
    if (first) first.focus({ preventScroll: true });
  }

  // ----- the pacer --------------------------------------------------------

  // Runner offset for a fraction of the way from the shoulder blades (0) to the neck (1).
  static transform(frac) {
    return `translateY(${(-frac * 100).toFixed(3)}%)`;
  }

  startPhase(p) {
    const towardNeck = p.direction === 'out';
    this.phase = { direction: p.direction, duration: p.duration_ms, from: towardNeck ? 0 : 1, to: towardNeck ? 1 : 0,
      rep: p.rep, of: p.of, breath: p.breath };
    this.paused = false;
    this.pauseBtn.textContent = 'Pause';
    this.repEl.textContent = `Rep ${p.rep} of ${p.of}`;
    this.breathEl.textContent = p.breath === 'inhale' ? 'Breathe in' : 'Breathe out';
    this.breathEl.dataset.breath = p.breath;
    this.pacer.setAttribute('aria-label', `Roll toward your ${p.toward}`);
    this.pacer.dataset.toward = p.toward;
    this.phaseDeadline = p.deadline;
    const remaining = Math.max(0, Math.min(p.duration_ms, p.deadline - this.now()));
    this.animate(remaining);
    this.turnAt(p, remaining);
  }

  // ----- turn signals -----------------------------------------------------

  // The turn's tone and buzz. Each is scheduled ahead on the audio clock at
  // the deadline of the phase before, so it sounds on time whatever the
  // network; played now only when it was not (the first phase, a switch of
  // breathing that changed it; a phase shown late, e.g. on a reattach
  // mid-phase, gets none).
  turnAt(p, remaining) {
    const next = this.nextTurn;
    this.nextTurn = null;
    this.switchPending = false;
    const scheduled = next && next.rep === p.rep && next.direction === p.direction
      && next.handle && next.handle.breath === p.breath;
    if (!scheduled) {
      if (next && next.handle) next.handle.cancel();
      if (p.duration_ms - remaining < 1000 * this.speed) turns.turn(p.breath);
    }
    this.scheduleNextTurn(remaining);
  }

  // Schedules the next phase's turn at the end of this one, `remaining`
  // session ms from now.
  scheduleNextTurn(remaining) {
    this.cancelNextTurn();
    const ph = this.phase;
    if (!ph || this.ended || this.closed) return;
    if (ph.direction === 'back' && ph.rep >= ph.of) return; // the last phase
    const other = ph.breath === 'inhale' ? 'exhale' : 'inhale';
    const next = {
      rep: ph.direction === 'back' ? ph.rep + 1 : ph.rep,
      direction: ph.direction === 'out' ? 'back' : 'out',
      // Switching the pairing keeps the breath over the next turn.
      breath: this.switchPending ? ph.breath : other,
    };
    next.handle = turns.turn(next.breath, Math.max(0, remaining / this.speed));
    this.nextTurn = next;
  }

  cancelNextTurn() {
    if (this.nextTurn && this.nextTurn.handle) this.nextTurn.handle.cancel();
    this.nextTurn = null;
  }

  // Moves the runner over what is left of the phase, `remaining` engine ms.
  animate(remaining) {
    const ph = this.phase;
    if (!ph) return;
    const done = ph.duration > 0 ? 1 - remaining / ph.duration : 1;
    const fracAt = (d) => ph.from + (ph.to - ph.from) * d;
    const realMs = remaining / this.speed;
    if (this.anim) this.anim.cancel();
    const seconds = Math.max(1, Math.round(realMs / 1000));
    this.anim = this.runner.animate(
      [{ transform: SessionView.transform(fracAt(done)) }, { transform: SessionView.transform(ph.to) }],
      { duration: realMs, easing: reducedMotion() ? `steps(${seconds}, end)` : 'ease-in-out', fill: 'forwards' },
    );
    this.pacer.dataset.state = 'moving';
  }

  pausePacer(remaining) {
    this.paused = true;
    this.cancelNextTurn();
    this.pauseBtn.textContent = 'Resume';
    if (this.anim) this.anim.pause();
    if (this.phase && remaining !== undefined && !this.anim) {
      const done = 1 - remaining / this.phase.duration;
      this.runner.style.transform = SessionView.transform(this.phase.from + (this.phase.to - this.phase.from) * done);
    }
    this.pacer.dataset.state = 'paused';
    this.breathEl.textContent = 'Paused';
  }

  resumePacer(remaining) {
    this.paused = false;
    this.phaseDeadline = this.now() + remaining;
    this.scheduleNextTurn(remaining);
    this.pauseBtn.textContent = 'Pause';
    if (this.phase) {
      const b = this.breathEl.dataset.breath;
      this.breathEl.textContent = b === 'inhale' ? 'Breathe in' : 'Breathe out';
    }
    this.animate(remaining);
  }

  // Freezes the pacer where it is, for good.
  stopPacer() {
    this.cancelNextTurn();
    if (this.anim) {
      const t = getComputedStyle(this.runner).transform;
      this.anim.cancel();
      this.anim = null;
      this.runner.style.transform = t === 'none' ? '' : t;
    }
    if (this.pacer.dataset.state !== 'idle') this.pacer.dataset.state = 'stopped';
  }

  // ----- the person's buttons ---------------------------------------------

  togglePause() {
    if (this.stage !== 'rolling') return;
    this.send({ type: this.paused ? 'resume' : 'pause' });
  }

  stop() {
    this.silence();
    this.stopPacer();
    this.send({ type: 'stop' });
  }

  // Pain and "too much" first pause the session (the person is choosing),
  // then send what they chose; cancel resumes.
  openChooser(kind) {
    if (this.stage !== 'rolling' && kind === 'discomfort') return;
    this.silence();
    this.pending = kind;
    if (this.stage === 'rolling' && !this.paused) {
      this.pausedForChooser = true;
      if (this.anim) this.anim.pause();
      this.cancelNextTurn();
      this.pacer.dataset.state = 'paused';
      this.send({ type: 'pause' });
    } else {
      this.pausedForChooser = false;
    }
    const c = this.chooser;
    c.replaceChildren();
    const pick = (input) => () => this.choose(input);
    if (kind === 'pain') {
      c.append(
        el('h2', { id: 'chooser-title' }, 'What kind of pain?'),
        el('button', { class: 'big danger', type: 'button', onclick: pick({ type: 'pain', kind: 'pop' }) }, 'With a pop or crack'),
        el('button', { class: 'big danger', type: 'button', onclick: pick({ type: 'pain', kind: 'spine' }) }, 'Over the spine'),
        el('button', { class: 'big danger', type: 'button', onclick: pick({ type: 'pain', kind: 'sharp' }) }, 'Sharp, radiating, numb or tingling'),
        el('button', { class: 'big danger', type: 'button', onclick: pick({ type: 'pain', kind: 'other' }) }, 'Other pain'),
      );
    } else {
      const above = this.threshold();
      const grid = el('div', { class: 'scale', role: 'group', 'aria-labelledby': 'chooser-title' });
      for (let v = 0; v <= 10; v += 1) {
        grid.append(el('button', { class: this.stopsAt(v) ? 'num over' : 'num', type: 'button',
          'aria-label': this.stopsAt(v) ? `${v} of 10, stops the session` : `${v} of 10`,
          onclick: pick({ type: 'discomfort', level: v }) }, String(v)));
      }
      c.append(
        el('h2', { id: 'chooser-title' }, 'How strong is the discomfort, 0 to 10?'),
        ...(above === null ? [] : [el('p', {}, `Above ${above} stops the session.`)]),
        grid,
        el('button', { class: 'big danger', type: 'button',
          onclick: above === null ? () => { this.closeChooser(false); this.stop(); } : pick({ type: 'discomfort', level: Math.min(10, above + 1) }) },
        'Too much: stop now'),
      );
    }
    c.append(el('button', { class: 'big calm', type: 'button', onclick: () => this.closeChooser(true) }, 'Cancel'));
    c.hidden = false;
    this.controls.hidden = true;
    this.setupControls.hidden = true;
    this.promptEl.hidden = true;
    c.querySelector('button').focus({ preventScroll: true });
  }

  // The protocol's discomfort threshold as the server serves it (null: the
  // protocol has no discomfort rule); the page never picks one of its own.
  threshold() {
    return (this.rules && this.rules.discomfort_threshold) ?? null;
  }

  stopsAt(level) {
    const above = this.threshold();
    return above !== null && level > above;
  }

  choose(input) {
    const stops = input.type === 'pain' || (input.type === 'discomfort' && this.stopsAt(input.level));
    if (stops) {
      this.silence();
      this.stopPacer();
    }
    this.send(input);
    this.closeChooser(!stops);
  }

  closeChooser(resume) {
    this.chooser.hidden = true;
    this.chooser.replaceChildren();
    this.pending = null;
    this.promptEl.hidden = false;
    if (this.stage === 'rolling') this.controls.hidden = false;
    if (this.stage === 'setup') this.setupControls.hidden = false;
    if (resume && this.pausedForChooser && this.stage === 'rolling') this.send({ type: 'resume' });
    this.pausedForChooser = false;
    const back = [this.controls, this.setupControls, this.promptEl].find((c) => !c.hidden && c.querySelector('button'));
    if (back) back.querySelector('button').focus({ preventScroll: true });
  }

  onKey(e) {
    if (e.target && (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT')) return false;
    if (this.stage !== 'rolling' || this.ended) return false;
    const k = e.key.toLowerCase();
    if (e.key === 'Escape' && this.pending) { this.closeChooser(true); return true; }
    if (this.pending) return false;
    if (k === 'p') this.openChooser('pain');
    else if (k === 't') this.openChooser('discomfort');
    else if (k === 'n') this.send({ type: 'noise' });
    else if (k === 'b') this.send({ type: 'switch-breathing' });
    else if (e.key === ' ' && !(e.target && e.target.tagName === 'BUTTON')) this.togglePause();
    else if (e.key === 'Escape') this.stop();
    else return false;
    return true;
  }

  // ----- the end ----------------------------------------------------------

  showEnd(end) {
    this.ended = true;
    this.stopPacer();
    this.setStage('ended');
    this.promptEl.replaceChildren();
    this.chooser.hidden = true;
    this.controls.hidden = true;
    this.setupControls.hidden = true;
    this.promptEl.hidden = false;
    const o = end.outcome;
    const stopped = o.outcome !== 'completed';
    // A refusal is not a session that finished: no stage label.
    if (o.outcome === 'refused') {
      this.stageEl.textContent = '';
      this.stageEl.hidden = true;
    }
    // The message is spoken by the planner (a stop pre-empts everything).
    this.alert(end.message);
    this.cueEl.textContent = '';
    const title = OUTCOME_TITLES[o.outcome] || 'Stopped';
    const s = end.summary;
    const rows = (s.ratings || []).map((r) => el('li', {},
      `${this.ratingLabel(r.id)}: ${r.before ?? '-'} before, ${r.after ?? '-'} after`));
    let when = null;
    if (o.outcome === 'refused' && o.reason.kind === 'recent-injury') {
      when = el('p', { class: 'allowed' }, `You can roll again from ${localTime(o.reason.allowed_at)}.`);
    } else if (o.outcome === 'refused' && o.reason.kind === 'answer' && this.injuryQuestion(o.reason.question)) {
      when = this.injuryOffer();
    }
    this.endEl.replaceChildren(...[
      el('h2', { class: stopped ? 'end-title stopped' : 'end-title' }, title),
      el('p', { class: 'message', id: 'end-message' }, end.message),
      when,
      // A refused session did not roll: no reps to show.
      o.outcome === 'refused' ? null : el('p', {}, `Reps: ${s.reps_done} of ${s.reps_target}`),
      rows.length ? el('ul', { class: 'ratings' }, rows) : null,
      el('div', { class: 'row' },
        el('a', { class: 'big link', href: '#/history' }, 'History'),
        el('a', { class: 'big link', href: '#/' }, 'Home')),
    ].filter(Boolean));
    this.endEl.hidden = false;
    this.status.textContent = '';
    this.endEl.querySelector('h2').setAttribute('tabindex', '-1');
    this.endEl.querySelector('h2').focus({ preventScroll: true });
  }

  // Whether the question asks about a recent injury in the area (the
  // protocol marks it `injury_window`).
  injuryQuestion(id) {
    const q = this.protocol && this.protocol.screening.questions.find((x) => x.id === id);
    return Boolean(q && q.injury_window);
  }

  // After a "yes" to the recent-injury question: offers to log the injury
  // (on the phone, the same rules as the injury page), then says when
  // rolling is allowed again, as the engine's rule computes it. Declining still
  // refuses, for the protocol's window.
  injuryOffer() {
    const p = this.protocol;
    const hours = p.screening.injury_rule.window_hours;
    const status = el('p', { class: 'allowed', id: 'injury-result', role: 'status' });
    const error = el('p', { class: 'error', role: 'alert', hidden: true });
    const at = el('input', { type: 'datetime-local', id: 'injury-at', name: 'at' });
    const daysAgo = (n) => { const d = new Date(); d.setDate(d.getDate() - n); return d.getTime(); };
    const box = el('section', { class: 'injury-offer', id: 'injury-offer', 'aria-labelledby': 'injury-offer-h' });
    const log = async (time) => {
      box.querySelectorAll('button, input').forEach((b) => { b.disabled = true; });
      error.hidden = true;
      try {
        // Logged on the phone (the engine's rule for its time), synced later.
        const now = Date.now();
        const at = await injuryTime(time, now);
        await local.logInjury({ area: p.area, at, now });
        syncNow();
        const block = await injuryBlock(p, await local.injuryFacts(p.area), Date.now());
        const logged = `Logged the injury of ${localTime(at)}.`;
        status.textContent = block
          ? `${logged} You can roll again from ${localTime(block.allowed_at)} (${hours} hours after it).`
          : `${logged} That is more than ${hours} hours ago, so this rule no longer holds it back.`;
        choices.hidden = true;
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        box.querySelectorAll('button, input').forEach((b) => { b.disabled = false; });
      }
    };
    const choice = (label, time) => el('button', { class: 'big calm', type: 'button', onclick: () => log(time()) }, label);
    const choices = el('div', { class: 'choices' },
      el('div', { class: 'row' },
        choice('Today', () => Date.now()),
        choice('Yesterday', () => daysAgo(1)),
        choice('Two days ago', () => daysAgo(2))),
      el('label', { for: 'injury-at' }, 'Or a time'), at,
      el('button', { class: 'big calm', type: 'button', id: 'injury-at-log',
        onclick: () => { if (at.value) log(new Date(at.value).getTime()); else at.focus(); } }, 'Log at that time'),
      el('button', { class: 'big link', type: 'button', id: 'injury-decline',
        onclick: () => {
          choices.hidden = true;
          status.textContent = `Not logged. Leave this area alone until ${hours} hours have passed since the injury.`;
        } }, "Don't log it"));
    box.append(
      el('h3', { id: 'injury-offer-h' }, 'Log the injury? When did it happen?'),
      el('p', {}, `A logged injury keeps this area's sessions closed for ${hours} hours after it, and says until when.`),
      choices, error, status);
    return box;
  }

  ratingLabel(id) {
    const ind = this.protocol && this.protocol.indications.find((i) => i.rating.id === id);
    return ind ? ind.rating.label : id;
  }

  // A session recorded on the phone (ended, or recovered after the page
  // was closed mid-session), as its end screen shows it.
  showRecorded(rec) {
    this.ended = true;
    this.setStage('ended');
    const kind = rec.outcome ? rec.outcome.outcome : 'interrupted';
    if (kind === 'refused') this.stageEl.hidden = true;
    const sync = rec.sync === 'refused'
      ? el('p', { class: 'error', id: 'sync-state' }, `The computer refused this session: ${rec.sync_error}. It stays on this phone.`)
      : el('p', { class: 'meta', id: 'sync-state' }, rec.sync === 'synced' ? 'Saved on the computer too.' : 'Saved on this phone; it goes to the computer when it can be reached.');
    this.endEl.replaceChildren(...[
      el('h2', { class: kind === 'completed' ? 'end-title' : 'end-title stopped', tabindex: '-1' }, OUTCOME_TITLES[kind] || kind),
      el('p', { class: 'message', id: 'end-message' }, rec.message
        || (kind === 'interrupted' ? 'The page was closed before the session ended: it is recorded as interrupted.' : '')),
      kind === 'refused' ? null : el('p', { id: 'end-reps' }, `Reps: ${rec.reps_done ?? 0} of ${rec.reps_target}`),
      (rec.ratings || []).length ? el('ul', { class: 'ratings' }, rec.ratings.map((r) => el('li', {},
        `${this.ratingLabel(r.id)}: ${r.before ?? '-'} before, ${r.after ?? '-'} after`))) : null,
      sync,
      el('div', { class: 'row' },
        el('a', { class: 'big link', href: '#/history' }, 'History'),
        el('a', { class: 'big link', href: '#/' }, 'Home')),
    ].filter(Boolean));
    this.endEl.hidden = false;
    this.status.textContent = '';
  }

  // Shows a problem for a few seconds (an input that did not fit, a lost
  // connection); a failed start stays.
  showError(message, { stay = false } = {}) {
    this.errorEl.textContent = message;
    this.errorEl.hidden = false;
    clearTimeout(this.errorTimer);
    if (!stay) this.errorTimer = setTimeout(() => { this.errorEl.hidden = true; }, 6000);
  }

  // ----- keep the screen on while rolling ---------------------------------

  async updateWakeLock() {
    const want = this.stage === 'rolling' && !this.ended && !this.closed;
    if (want && !this.wakeLock && navigator.wakeLock && document.visibilityState === 'visible') {
      try {
        this.wakeLock = await navigator.wakeLock.request('screen');
        this.wakeLock.addEventListener('release', () => { this.wakeLock = null; });
      } catch {
        this.wakeLock = null;
      }
    } else if (!want) {
      this.releaseWakeLock();
    }
  }

  releaseWakeLock() {
    if (this.wakeLock) {
      this.wakeLock.release().catch(() => {});
      this.wakeLock = null;
    }
  }
}
