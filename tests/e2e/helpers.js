// Shared helpers: a real `rollcoach serve` on loopback with a temp database,
// and Debian's Chromium driven by playwright-core.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..');
export const artifacts = join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });

const BINARY = process.env.ROLLCOACH_BIN
  || join(process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, 'target'), 'debug', 'rollcoach');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Starts `rollcoach serve` on a free loopback port; resolves with its URL
// (the origin, without the token), the link it printed (`link`, with
// `?token=...`: opening it lets a browser in), the token, `fetch(path, init)`
// for Node's requests with the token as `Authorization: Bearer`, and the
// database path, for `rollcoach --db DB ...`. The server refuses requests
// without the link's cookie or the token, on loopback too.
// `protocols`: user protocol files to serve beside the built-ins, as
// { 'file-name.toml': text } (the directory ROLLCOACH_PROTOCOLS names).
export async function startServer({ speed = 20, grace = 20, protocols = {}, database = null } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rollcoach-e2e-'));
  const db = database ?? join(dir, 'rollcoach.db');
  if (Object.keys(protocols).length) {
    mkdirSync(join(dir, 'protocols'));
    for (const [name, text] of Object.entries(protocols)) writeFileSync(join(dir, 'protocols', name), text);
  }
  const proc = spawn(BINARY, ['--db', db, 'serve', '--speed', String(speed), '--grace', String(grace), '--addr', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ROLLCOACH_PROTOCOLS: join(dir, 'protocols') },
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const link = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve printed no URL within 20 s; stdout: ${out} stderr: ${err}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/\S+)\s/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`serve exited with ${code}: ${err}`)); });
  });
  return {
    ...served(link),
    db,
    output: () => out,
    stop: async () => {
      proc.kill('SIGTERM');
      await new Promise((ok) => { if (proc.exitCode !== null) ok(); else proc.on('exit', ok); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A fresh PostgreSQL database on the test server ROLLCOACH_TEST_POSTGRES
// names (`.ci/postgres.sh` starts one and sets it), as a postgres:// URL for
// `startServer({ database })`; null without one, except under CI=true,
// where it must be there.
export async function postgresDatabase() {
  const server = process.env.ROLLCOACH_TEST_POSTGRES;
  if (!server) {
    if (process.env.CI === 'true') throw new Error('ROLLCOACH_TEST_POSTGRES must be set under CI=true (. .ci/postgres.sh)');
    return null;
  }
  const name = `rollcoach_e2e_${process.pid}_${Date.now()}`;
  const proc = spawn('psql', [server, '-Atqc', `CREATE DATABASE "${name}"`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((ok) => { proc.on('exit', ok); });
  if (code !== 0) throw new Error(`psql could not create ${name}: ${err}`);
  return `${server}${server.includes('?') ? '&' : '?'}dbname=${name}`;
}

// What a printed link gives: `url` (the origin), `link`, `token`, and
// `fetch(path, init)` carrying the token.
export function served(link) {
  const parsed = new URL(link);
  const token = parsed.searchParams.get('token');
  const url = parsed.origin;
  return {
    url,
    link,
    token,
    fetch: (path, init = {}) => fetch(`${url}${path}`, {
      ...init,
      headers: { ...(init.headers || {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }),
  };
}

// Lets a browser context in to `server`, as a person opening the link
// `serve` printed: the cookie it sets is the context's from then on.
export async function signIn(context, server) {
  const resp = await context.request.get(server.link, { maxRedirects: 0 });
  if (resp.status() !== 303) throw new Error(`opening ${server.link} answered ${resp.status()}: ${await resp.text()}`);
}

// A stand-in for the browser's voice: records each utterance's text, start
// and end (performance.now()) instead of speaking it, and ends it after as
// long as espeak-ng would take to say it (the model of the engine's
// `estimate_ms`, over the utterance's rate), or at once on `cancel`. An
// utterance started while another is still going is recorded as
// overlapping. Also records the buzzes (`navigator.vibrate`), the tones (each
// oscillator's pitch) and the person's clicks.
const SPEECH_STANDIN = () => {
  window.__spoken = [];
  window.__utterances = [];
  window.__cancels = [];
  window.__vibrations = [];
  window.__tones = [];
  window.__clicks = [];
  window.__phasesShown = [];
  // Every output of the session the page runs, in order, as the engine
  // gives it (the page announces each on window: 'rollcoach-output', with
  // its session time `at` and `due`, the performance.now() that time falls
  // on); and when each arrived.
  window.__outputs = [];
  window.__outputTimes = [];
  window.addEventListener('rollcoach-output', (e) => {
    window.__outputs.push(e.detail.output);
    window.__outputTimes.push({ type: e.detail.output.type, at: e.detail.at, due: e.detail.due, seen: performance.now() });
  });
  document.addEventListener('click', (e) => {
    const t = e.target instanceof Element ? e.target.closest('button, a') : null;
    window.__clicks.push({ text: t ? t.textContent : '', at: performance.now() });
  }, true);
  // Each phase the page shows: the breath line changing while rolling.
  new MutationObserver(() => {
    const b = document.querySelector('[data-stage=rolling] #breath');
    if (!b || !b.dataset.breath || !['Breathe in', 'Breathe out'].includes(b.textContent)) return;
    const last = window.__phasesShown[window.__phasesShown.length - 1];
    const rep = document.querySelector('#rep')?.textContent;
    const key = `${rep} ${b.textContent}`;
    if (!last || last.key !== key) window.__phasesShown.push({ key, breath: b.dataset.breath, at: performance.now() });
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-breath', 'data-stage'] });
  navigator.vibrate = (pattern) => { window.__vibrations.push({ pattern, at: performance.now() }); return true; };
  const Ctx = window.AudioContext;
  if (Ctx) {
    const create = Ctx.prototype.createOscillator;
    Ctx.prototype.createOscillator = function createOscillator() {
      const osc = create.call(this);
      const set = osc.frequency.setValueAtTime.bind(osc.frequency);
      osc.frequency.setValueAtTime = (hz, when) => {
        const at = performance.now();
        // When it sounds, on the page's clock: scheduled ahead on the audio clock.
        window.__tones.push({ hz, when, now: this.currentTime, at, sounds: at + (when - this.currentTime) * 1000, osc });
        return set(hz, when);
      };
      const stop = osc.stop.bind(osc);
      // A tone cancelled before it sounded (osc.stop() with no time).
      osc.stop = (when) => {
        if (when === undefined) {
          const rec = window.__tones.find((t) => t.osc === osc);
          if (rec) rec.cancelled = performance.now();
        }
        return stop(when);
      };
      return osc;
    };
  }
  const synth = window.speechSynthesis;
  if (!synth) return;
  const estimate = (text, rate) => {
    let ms = 400;
    const t = text.trim();
    for (let i = 0; i < t.length; i += 1) {
      const c = t[i];
      if (/[0-9]/.test(c)) ms += 180;
      else if (/\p{L}/u.test(c)) ms += 53;
      else if (/\s/.test(c)) ms += 16;
      else if (',;:()'.includes(c)) ms += 260;
      else if ('.!?'.includes(c) && (i + 1 === t.length || /\s/.test(t[i + 1]))) ms += 370;
    }
    return ms / (rate > 0 ? rate : 1);
  };
  let current = null;
  const finish = (rec, u, event) => {
    if (rec.end !== null) return;
    rec.end = performance.now();
    if (current && current.rec === rec) current = null;
    setTimeout(() => {
      if (event === 'end' && u.onend) u.onend(new Event('end'));
      if (event === 'error' && u.onerror) u.onerror(Object.assign(new Event('error'), { error: 'interrupted' }));
    }, 0);
  };
  synth.speak = (u) => {
    if (!u.text) return;
    const now = performance.now();
    const rec = { text: u.text, start: now, end: null, cut: false, overlaps: current !== null, ms: estimate(u.text, u.rate) };
    window.__spoken.push(u.text);
    window.__utterances.push(rec);
    current = { rec, u };
    setTimeout(() => { if (u.onstart && rec.end === null) u.onstart(new Event('start')); }, 0);
    setTimeout(() => finish(rec, u, 'end'), rec.ms);
  };
  synth.cancel = () => {
    window.__cancels.push({ at: performance.now(), spoken: window.__spoken.length });
    if (current) {
      const { rec, u } = current;
      rec.cut = true;
      finish(rec, u, 'error');
    }
  };
};

// A fresh Chromium profile at 360 x 740, with the speech stand-in, the
// session's outputs collected in the page (`outputs`), and the page's
// script errors and failed requests in `errors` (each with its address).
// With `server`, the profile has opened the link it printed (signIn).
export async function launch(server = null) {
  const profile = mkdtempSync(join(tmpdir(), 'rollcoach-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 1,
    hasTouch: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  await context.addInitScript(SPEECH_STANDIN);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  const watch = (p) => {
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`); });
  };
  watch(page);
  context.on('page', watch);
  if (server) await signIn(context, server);
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const AXE = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// Serious and critical accessibility violations on the page as it is now.
export async function axeViolations(page) {
  // Evaluated through the debugger protocol, so the page's CSP does not apply.
  await page.evaluate(AXE);
  const results = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: false });
}

// The outputs of the session the page runs, so far (since the page loaded).
export async function outputs(page) {
  return page.evaluate(() => window.__outputs.slice());
}

// Forgets the outputs collected so far.
export async function clearOutputs(page) {
  await page.evaluate(() => { window.__outputs.length = 0; window.__outputTimes.length = 0; });
}

// Waits until the session has given an output matching `pred`.
export async function waitOutput(page, pred, timeout = 20000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const f = (await outputs(page)).find(pred);
    if (f) return f;
    if (Date.now() > deadline) throw new Error('no such output within the timeout');
    await new Promise((ok) => { setTimeout(ok, 5); });
  }
}

// The phone's own store (web/local.js), read in the page.
export async function phoneSessions(page) {
  return page.evaluate(async () => (await import('/local.js')).sessions());
}

export async function phoneInjuries(page) {
  return page.evaluate(async () => (await import('/local.js')).injuries());
}

// Runs `rollcoach ARGS...` (e.g. --db DB history --json); resolves with stdout.
export async function rollcoach(args) {
  const proc = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((ok) => { proc.on('exit', ok); });
  if (code !== 0) throw new Error(`rollcoach ${args.join(' ')} exited with ${code}: ${err}`);
  return out;
}

// A session's uid in the page's address.
export const UID = /#\/session\/([0-9a-f]{12}-[0-9a-f]{16})$/;

// The cues the session gave for speaking, in order: what the page must say.
export function expectedSpeech(frames) {
  const out = [];
  for (const f of frames) {
    if ((f.type === 'cue' || f.type === 'note') && f.say) out.push(f.say);
    if (f.type === 'end') out.push(f.message);
  }
  return out;
}

export async function spoken(page) {
  return page.evaluate(() => window.__spoken.slice());
}

// Every utterance so far: { text, start, end, cut, overlaps, ms }.
export async function utterances(page) {
  return page.evaluate(() => window.__utterances.map((u) => ({ ...u })));
}

// Pairs of utterances that were said at once (none should be).
export function overlapping(list) {
  const out = [];
  const sorted = [...list].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i += 1) {
    const prev = sorted[i - 1];
    if (sorted[i].overlaps || prev.end === null || sorted[i].start < prev.end) out.push([prev.text, sorted[i].text]);
  }
  return out;
}
