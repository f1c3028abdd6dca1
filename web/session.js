// The session screen: a phone lying on the floor beside the roller.
//
// The server runs the engine and sends its outputs over the WebSocket; this
// page shows them and sends back what the person presses. What is spoken
// and when is the speech planner's choice (planner.js: the engine's planner
// in WebAssembly), fed every output with its session time; speech.js says
// it. Each turn also sounds a tone and buzzes (turns.js). The pacer moves
// smoothly on its own from each phase's duration (Web Animations), so it
// never steps with the network.

import { api, el, localTime } from './api.js';
import { speaker } from './speech.js';
import { turns } from './turns.js';
import { Planner } from './planner.js';

// The live session's id, kept until it ends: Home offers to return to it.
const KEY_LIVE = 'rollcoach.live-session';

export function liveSessionId() {
  return localStorage.getItem(KEY_LIVE);
}

export function forgetLiveSession(id) {
  if (localStorage.getItem(KEY_LIVE) === String(id)) localStorage.removeItem(KEY_LIVE);
}

const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export class SessionView {
  constructor(root, id, { announce, alert }) {
    this.root = root;
    this.id = id;
    this.announce = announce;
    this.alert = alert;
    this.ws = null;
    this.closed = false;
    this.ended = false;
    this.retry = 0;
    this.clock = { now: 0, at: performance.now(), speed: 1 };
    this.phase = null; // { direction, duration, from, to }
    this.anim = null;
    this.paused = false;
    this.stage = null;
    this.protocol = null;
    this.rules = null;
    this.wakeLock = null;
    this.pending = null; // 'pain' | 'discomfort' while the chooser is open
    this.pausedForChooser = false;
    this.planner = null; // the speech planner of the current connection
    this.batchAt = 0; // session time of the outputs arriving (the last sync)
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
    this.status = el('p', { class: 'conn', id: 'conn' }, 'Connecting...');
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

  // ----- connection -------------------------------------------------------

  async start() {
    try {
      const info = await api(`/api/sessions/${this.id}`);
      const pid = info.protocol_id || info.protocol;
      if (pid) {
        const p = await api(`/api/protocols/${encodeURIComponent(pid)}`);
        this.protocol = p.protocol;
        this.rules = p.rules; // the safety rules as the server serves them
        this.heading.textContent = this.protocol.title;
      }
      if (!info.live) {
        forgetLiveSession(this.id);
        this.showRecorded(info);
        return;
      }
      localStorage.setItem(KEY_LIVE, String(this.id));
      // The planner's module, loaded before the first frame needs it.
      if (this.protocol) await Planner.create(this.protocol, 1).then((p) => p.free()).catch(() => {});
    } catch (e) {
      this.showError(e.message, { stay: true });
      return;
    }
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/api/sessions/${this.id}/ws`);
    this.ws = ws;
    // Each connection replays what it needs: a fresh planner for it.
    this.dropPlanner();
    ws.onopen = () => {
      this.retry = 0;
      this.status.textContent = 'Connected';
      this.root.dataset.connected = 'true';
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      this.onFrame(msg);
      this.plan(msg, ev.data);
    };
    ws.onclose = () => {
      this.root.dataset.connected = 'false';
      if (this.closed || this.ended) return;
      this.status.textContent = 'Reconnecting...';
      const delay = Math.min(4000, 300 * 2 ** this.retry++);
      setTimeout(() => this.reconnect(), delay);
    };
  }

  // Reconnects while the session is live; shows its record once it is not.
  async reconnect() {
    if (this.closed || this.ended) return;
    try {
      const info = await api(`/api/sessions/${this.id}`);
      if (!info.live) {
        forgetLiveSession(this.id);
        this.showRecorded(info);
        return;
      }
    } catch (e) {
      if (e.status && e.status !== 0 && e.status < 500) {
        this.showError(e.message);
        return;
      }
    }
    this.connect();
  }

  // `input` is one ClientFrame: an engine input such as { type: 'pause' }.
  send(input) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(input));
      return true;
    }
    this.showError('Not connected to rollcoach; reconnecting. If you are in pain, stop rolling now.');
    return false;
  }

  close() {
    this.closed = true;
    document.removeEventListener('visibilitychange', this.onVisibility);
    if (this.ws) this.ws.close();
    this.stopPacer();
    this.dropPlanner();
    speaker.cancel();
    this.releaseWakeLock();
  }

  // The person leaves the view mid-session (they confirmed): a rolling
  // session pauses first, then the view closes.
  leave() {
    if (this.stage === 'rolling' && !this.paused && !this.ended) this.send({ type: 'pause' });
    this.close();
  }

  // Whether leaving this view would leave a session that is still going.
  get live() {
    return !this.ended && !this.closed && this.stage !== null;
  }

  // ----- speech -----------------------------------------------------------

  // Feeds one frame to the speech planner: outputs at the session time of
  // their batch (the last `sync`, or `hello` on a reattach), then polls.
  plan(msg, text) {
    if (msg.type === 'hello' || msg.type === 'sync') {
      this.batchAt = msg.now;
      if (!this.planner && !this.plannerPending && this.protocol) {
        // The voice's rate, refined by how fast it was measured to speak;
        // session time runs `speed` times real time, so an utterance lasts
        // `speed` times longer in it, as if the voice were that much slower.
        this.plannerPace = speaker.pace;
        const rate = (speaker.rate * this.plannerPace) / (msg.speed || 1);
        this.plannerPending = true;
        this.backlog = [];
        const ws = this.ws;
        Planner.create(this.protocol, rate).then((p) => {
          this.plannerPending = false;
          if (ws !== this.ws || this.closed) { p.free(); return; }
          this.planner = p;
          for (const [at, t] of this.backlog) p.output(at, t);
          this.backlog = [];
          this.pump();
        }).catch((e) => {
          this.plannerPending = false;
          this.showError(`Cues are shown but not spoken: ${e.message}`, { stay: true });
        });
      }
      return;
    }
    if (msg.type === 'error') return;
    if (!this.planner) {
      if (this.plannerPending) this.backlog.push([this.batchAt, text]);
      return;
    }
    try {
      this.planner.output(this.batchAt, text);
    } catch (e) {
      this.showError(e.message);
      return;
    }
    // A turn or a stop is said at once; the rest after its whole batch.
    if (['phase', 'end', 'paused', 'resumed'].includes(msg.type)) this.pump();
    else if (this.pollTimer === null) this.pollTimer = setTimeout(() => this.pump(), 0);
  }

  // Carries out what the planner wants done now, and wakes at its next time.
  pump() {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
    clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const planner = this.planner;
    if (!planner || this.closed) return;
    for (const s of planner.poll(this.serverNow())) {
      if (s.type === 'say') {
        const realMs = s.expected_ms / this.clock.speed;
        speaker.say(s.id, s.text, realMs, (id) => {
          if (this.planner !== planner) return;
          planner.finished(id, this.serverNow());
          if (this.pollTimer === null) this.pollTimer = setTimeout(() => this.pump(), 0);
        }, realMs * (this.plannerPace || 1));
      } else if (s.type === 'cut') {
        speaker.cut(s.id);
      }
      // 'skip': not spoken; the words are on screen already.
    }
    const wake = planner.nextWake();
    if (wake !== null) {
      const inMs = Math.max(0, (wake - this.serverNow()) / this.clock.speed);
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
    this.plannerPending = false;
    this.backlog = [];
  }

  // Engine time now, extrapolated from the last sync.
  serverNow() {
    return this.clock.now + (performance.now() - this.clock.at) * this.clock.speed;
  }

  // ----- outputs ----------------------------------------------------------

  // One ServerFrame (crates/server/src/wire.rs; its JSON Schema is in
  // /api/openapi.json): hello, sync, error, or an engine output by its type.
  onFrame(msg) {
    switch (msg.type) {
      case 'hello':
        this.clock = { now: msg.now, at: performance.now(), speed: msg.speed || 1 };
        this.root.dataset.session = String(msg.session);
        break;
      case 'sync':
        this.clock = { now: msg.now, at: performance.now(), speed: msg.speed || 1 };
        break;
      case 'error':
        this.showError(msg.error);
        break;
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
          this.scheduleNextTurn(Math.max(0, this.phaseDeadline - this.serverNow()));
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

  showPrompt(p) {
    const box = this.promptEl;
    box.replaceChildren();
    const answer = (input) => () => {
      box.querySelectorAll('button').forEach((b) => { b.disabled = true; });
      this.send(input);
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
    const remaining = Math.max(0, Math.min(p.duration_ms, p.deadline - this.serverNow()));
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
      if (p.duration_ms - remaining < 1000 * this.clock.speed) turns.turn(p.breath);
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
    next.handle = turns.turn(next.breath, Math.max(0, remaining / this.clock.speed));
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
    const realMs = remaining / this.clock.speed;
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
    this.phaseDeadline = this.serverNow() + remaining;
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
    forgetLiveSession(this.id);
    const o = end.outcome;
    const stopped = o.outcome !== 'completed';
    // The message is spoken by the planner (a stop pre-empts everything).
    this.alert(end.message);
    this.cueEl.textContent = '';
    const title = o.outcome === 'completed' ? 'Well done' : o.outcome === 'refused' ? 'Not now' : 'Stopped';
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
  // (POST /api/injuries, the same rules as the injury page), then says when
  // rolling is allowed again, as the server computes it. Declining still
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
        const injury = await api('/api/injuries', { method: 'POST', body: { area: p.area, at: time } });
        const briefs = await api('/api/protocols');
        const brief = briefs.find((b) => b.id === p.id);
        const logged = `Logged the injury of ${localTime(injury.at)}.`;
        status.textContent = brief && brief.blocked
          ? `${logged} You can roll again from ${localTime(brief.blocked.allowed_at)} (${hours} hours after it).`
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

  showRecorded(rec) {
    this.ended = true;
    this.setStage('ended');
    const outcome = rec.outcome ? rec.outcome.outcome : 'unknown';
    this.endEl.replaceChildren(
      el('h2', { class: 'end-title' }, `This session has ended (${outcome})`),
      el('p', { class: 'message', id: 'end-message' }, rec.message || ''),
      el('a', { class: 'big link', href: '#/history' }, 'History'),
    );
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
