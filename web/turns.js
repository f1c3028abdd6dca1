// Eyes-closed cues besides speech, at each turn of the pacer: a short tone
// (Web Audio, scheduled ahead on the audio clock, at the current phase's
// deadline; higher for breathing in, lower for breathing out) and, where the phone can, a vibration (one buzz for in,
// two for out). On by default; the setting is kept in localStorage.

const KEY_ON = 'rollcoach.turns';

const TONE = {
  inhale: { hz: 660, buzz: [60] },
  exhale: { hz: 440, buzz: [60, 90, 60] },
};
const TONE_S = 0.14;

export class Turns {
  constructor() {
    this.ctx = null;
  }

  get enabled() { return localStorage.getItem(KEY_ON) !== 'off'; }
  set enabled(on) { localStorage.setItem(KEY_ON, on ? 'on' : 'off'); }
  get supported() { return Boolean(window.AudioContext || window.webkitAudioContext); }

  // Called from a tap: browsers start audio only after a user gesture.
  unlock() {
    if (!this.enabled || !this.supported) return;
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      try { this.ctx = new Ctx(); } catch { this.ctx = null; }
    }
    if (this.ctx && this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
  }

  // The turn to `breath` ('inhale' | 'exhale'), `inMs` real milliseconds from
  // now (0: now), scheduled ahead on the audio clock. Returns a handle whose
  // `cancel()` silences it if it has not sounded yet, or null when off.
  turn(breath, inMs = 0) {
    if (!this.enabled) return null;
    const t = TONE[breath] || TONE.inhale;
    const handle = { breath, timer: null, osc: null, cancel() {
      clearTimeout(this.timer);
      if (this.osc) {
        try { this.osc.stop(); } catch { /* already stopped */ }
        this.osc.disconnect();
        this.osc = null;
      }
    } };
    // Browsers refuse vibration before the person has touched the page
    // (e.g. right after a reload).
    const touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (navigator.vibrate && touched) {
      if (inMs > 0) handle.timer = setTimeout(() => navigator.vibrate(t.buzz), inMs);
      else navigator.vibrate(t.buzz);
    }
    if (!this.supported) return handle;
    if (!this.ctx) this.unlock();
    const ctx = this.ctx;
    if (!ctx || ctx.state === 'closed') return handle;
    const at = ctx.currentTime + Math.max(0, inMs) / 1000;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'sine';
    osc.frequency.setValueAtTime(t.hz, at);
    // A soft attack and release: no click.
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.3, at + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + TONE_S);
    osc.connect(gain).connect(ctx.destination);
    osc.start(at);
    osc.stop(at + TONE_S + 0.02);
    handle.osc = osc;
    return handle;
  }
}

export const turns = new Turns();
