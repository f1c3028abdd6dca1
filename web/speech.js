// Spoken cues through the browser's speech synthesis. The speech planner
// (planner.js) decides what is said and when; this only carries it out: one
// utterance at a time, `say` starts one, `cut` stops it, and every end (said
// whole, cut, failed, or a browser that never says) is reported once through
// the utterance's `done` callback. Voice and rate are remembered in
// localStorage.

const KEY_VOICE = 'rollcoach.voice';
const KEY_RATE = 'rollcoach.rate';
const KEY_ON = 'rollcoach.speech';
// How fast this browser's voice really is against the planner's estimate
// (expected length over real length, from utterances said whole), per voice.
const KEY_PACE = 'rollcoach.voice-pace';

// Extra time after an utterance's expected length before it is taken as
// over when the browser never fires `end`.
const FALLBACK_MARGIN_MS = 1500;

export class Speaker {
  constructor() {
    this.synth = window.speechSynthesis || null;
    this.current = null; // { id, utterance, done, timer }
  }

  get supported() { return this.synth !== null; }
  get enabled() { return localStorage.getItem(KEY_ON) !== 'off'; }
  set enabled(on) { localStorage.setItem(KEY_ON, on ? 'on' : 'off'); if (!on) this.cancel(); }
  get rate() {
    const r = parseFloat(localStorage.getItem(KEY_RATE));
    return Number.isFinite(r) && r >= 0.5 && r <= 2 ? r : 1;
  }
  set rate(r) { localStorage.setItem(KEY_RATE, String(r)); }
  get voiceName() { return localStorage.getItem(KEY_VOICE) || ''; }
  set voiceName(name) { localStorage.setItem(KEY_VOICE, name); }

  // The voice's measured pace: above 1 it says things faster than the
  // planner's estimate at this rate, below 1 slower. 1 until measured.
  get pace() {
    let all = {};
    try { all = JSON.parse(localStorage.getItem(KEY_PACE) || '{}') || {}; } catch { all = {}; }
    const p = Number(all[`${this.voiceName}@${this.rate}`]);
    return Number.isFinite(p) && p >= 0.5 && p <= 2 ? p : 1;
  }

  // An utterance expected to last `expectedMs` was said whole in `realMs`.
  measured(expectedMs, realMs) {
    if (expectedMs < 800 || realMs <= 0) return;
    const sample = Math.min(2, Math.max(0.5, expectedMs / realMs));
    let all = {};
    try { all = JSON.parse(localStorage.getItem(KEY_PACE) || '{}') || {}; } catch { all = {}; }
    const key = `${this.voiceName}@${this.rate}`;
    const old = Number(all[key]);
    // A moving average: one odd utterance moves it little.
    all[key] = Number.isFinite(old) ? old * 0.8 + sample * 0.2 : sample;
    localStorage.setItem(KEY_PACE, JSON.stringify(all));
  }

  voices() {
    return this.synth ? this.synth.getVoices() : [];
  }

  // Starts saying `text` now, as utterance `id`; `done(id)` is called once
  // when it is over. `expectedMs` (real time) bounds the wait for a browser
  // that never fires `end`; `estimateMs`, the planner's estimate at this
  // rate before the measured pace, is compared with the real length of an
  // utterance said whole. With speech off or missing it is over at once.
  say(id, text, expectedMs, done, estimateMs = null) {
    if (this.current) this.cancel();
    if (!this.supported || !this.enabled || !text) {
      setTimeout(() => done(id), 0);
      return;
    }
    const u = new SpeechSynthesisUtterance(text);
    u.rate = this.rate;
    const voice = this.voices().find((v) => v.name === this.voiceName);
    if (voice) u.voice = voice;
    const entry = { id, utterance: u, done, timer: null };
    const end = () => this.end(entry);
    let started = null;
    u.onstart = () => { started = performance.now(); };
    u.onend = () => {
      // Said whole: how long it really took refines the planner's estimate.
      if (this.current === entry && started !== null && estimateMs !== null) {
        this.measured(estimateMs, performance.now() - started);
      }
      end();
    };
    u.onerror = end;
    entry.timer = setTimeout(end, expectedMs + FALLBACK_MARGIN_MS);
    this.current = entry;
    this.synth.speak(u);
  }

  end(entry) {
    if (this.current !== entry) return;
    clearTimeout(entry.timer);
    this.current = null;
    entry.done(entry.id);
  }

  // Stops utterance `id` if it is the one being said.
  cut(id) {
    if (this.current && this.current.id === id) this.cancel();
  }

  // Says `text` outside a session (the settings' "Try it").
  try(text) {
    this.say(0, text, 6000, () => {});
  }

  // Called from a tap: browsers that only speak after a user gesture then
  // speak the cues that arrive later without another tap.
  unlock() {
    if (this.supported && this.enabled) this.synth.speak(new SpeechSynthesisUtterance(''));
  }

  // Stops whatever is being said; its `done` is called at once.
  cancel() {
    const entry = this.current;
    if (this.synth) this.synth.cancel();
    if (entry) this.end(entry);
  }
}

export const speaker = new Speaker();
