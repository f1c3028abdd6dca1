// Spoken cues through the browser's speech synthesis: one at a time, in
// order, never overlapping; cancel empties the queue at once. Voice and rate
// are remembered in localStorage.

const KEY_VOICE = 'rollcoach.voice';
const KEY_RATE = 'rollcoach.rate';
const KEY_ON = 'rollcoach.speech';

export class Speaker {
  constructor() {
    this.synth = window.speechSynthesis || null;
    this.queue = [];
    this.speaking = false;
    this.current = null;
    this.timer = null;
    this.generation = 0;
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

  voices() {
    return this.synth ? this.synth.getVoices() : [];
  }

  // Queues `text`. `tag` marks cues that a newer one of the same tag makes
  // stale (a phase cue the pacer has already left behind).
  say(text, tag = null) {
    if (!this.supported || !this.enabled || !text) return;
    if (tag) this.queue = this.queue.filter((q) => q.tag !== tag);
    this.queue.push({ text, tag });
    this.next();
  }

  next() {
    if (this.speaking || this.queue.length === 0) return;
    const { text } = this.queue.shift();
    const u = new SpeechSynthesisUtterance(text);
    u.rate = this.rate;
    const voice = this.voices().find((v) => v.name === this.voiceName);
    if (voice) u.voice = voice;
    this.speaking = true;
    this.current = u;
    const gen = this.generation;
    const done = () => {
      if (gen !== this.generation || this.current !== u) return;
      clearTimeout(this.timer);
      this.speaking = false;
      this.current = null;
      this.next();
    };
    u.onend = done;
    u.onerror = done;
    // Some engines never fire `end`: move on after a generous estimate.
    this.timer = setTimeout(done, 1500 + (text.length * 90) / this.rate);
    this.synth.speak(u);
  }

  // Called from a tap: browsers that only speak after a user gesture then
  // speak the cues that arrive later without another tap.
  unlock() {
    if (this.supported && this.enabled) this.synth.speak(new SpeechSynthesisUtterance(''));
  }

  // Stops what is being said and forgets what was queued.
  cancel() {
    this.generation += 1;
    this.queue = [];
    this.speaking = false;
    this.current = null;
    clearTimeout(this.timer);
    if (this.synth) this.synth.cancel();
  }
}

export const speaker = new Speaker();
