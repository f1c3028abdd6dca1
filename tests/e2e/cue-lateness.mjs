// Breath-cue start lateness on the page (issue 11's figure): one whole
// `upper-back` session per tempo at `serve --speed 1`, in headless Chromium at
// 360 x 740 with the browser tests' speech stand-in (each utterance takes as
// long as espeak-ng would by the engine's model, or is cut by `cancel`).
// Each prompt is answered 300 ms after it is shown, as a person answering
// by ear would. For each phase the page shows (the breath line changing
// while rolling, as the browser tests see it), the breath cue is the first
// utterance in a cue wording ("breathe in, ...", "in, ...", "out, ...")
// that starts within the phase (or up to 50 ms before it is shown);
// lateness is its start minus the phase shown (negative: the voice started
// in the same task, just before the page drew the phase). Dropped: no
// breath cue started in the phase. Cut: the cue was cancelled before its end.
//
//   cargo build -p rollcoach && cd tests/e2e && npm ci && \
//     node cue-lateness.mjs [--bin PATH] [--tempo 2,4,6] [--reps 5]
//
// `--bin` defaults to the binary the browser tests run (ROLLCOACH_BIN, or
// target/debug/rollcoach); an older binary serves its own page.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, root, served } from './helpers.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : dflt;
};
const bin = opt('bin', process.env.ROLLCOACH_BIN || join(root, 'target', 'debug', 'rollcoach'));
const tempos = opt('tempo', '2,4,6').split(',').map(Number);
const reps = Number(opt('reps', '5'));

function serve() {
  const dir = mkdtempSync(join(tmpdir(), 'rollcoach-lateness-'));
  const proc = spawn(bin, ['--db', join(dir, 'rollcoach.db'), 'serve', '--speed', '1', '--addr', '127.0.0.1:0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ROLLCOACH_PROTOCOLS: join(dir, 'none') } });
  return new Promise((ok, fail) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/\S+)\s/);
      if (m) ok({ ...served(m[1]), stop: () => { proc.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } });
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const BREATH = /^(breathe (in|out)\b|in,|out,|in$|out$)/i;

async function oneSession(tempo) {
  const server = await serve();
  const browser = await launch(server);
  const { page } = browser;
  try {
    await page.goto(`${server.url}/`);
    await page.waitForSelector('[data-protocol=upper-back] button[type=submit]');
    const reason = await page.$('#r-upper-back-soreness');
    if (reason) await page.check('#r-upper-back-soreness');
    await page.selectOption('#reps-upper-back', String(reps));
    await page.selectOption('#tempo-upper-back', String(tempo));
    await page.click('[data-protocol=upper-back] button[type=submit]');
    // Answer whatever is asked, 300 ms after it is shown, until rolling.
    let last = '';
    for (let i = 0; i < 400; i += 1) {
      if (await page.$('#pacer[data-state=moving]')) break;
      // The reasons, asked after the safety questions (the page since issue 11).
      const reasons = await page.$('#reasons-go');
      if (reasons && await reasons.isVisible()) {
        await page.check('#r-upper-back-soreness');
        await reasons.click();
        continue;
      }
      const prompt = await page.$eval('.prompt', (p) => p.textContent).catch(() => '');
      if (!prompt || prompt === last) { await sleep(20); continue; }
      last = prompt;
      await sleep(300);
      const no = await page.$('.prompt button.no:not([disabled])');
      const five = await page.$('.prompt .scale button:text-is("5")');
      const go = await page.$('.prompt button.go:not([disabled])');
      if (no) await no.click();
      else if (five) await five.click();
      else if (go) await go.click();
    }
    await page.waitForSelector('#pacer[data-state=moving]', { timeout: 30000 });
    // The rating after, then the end.
    const deadline = Date.now() + (2 * reps * tempo + 60) * 1000;
    while (Date.now() < deadline && !(await page.$('#end-message'))) {
      const four = await page.$('.prompt .scale button:text-is("4")');
      if (four) { await sleep(300); await four.click().catch(() => {}); }
      await sleep(50);
    }
    const { shown, said } = await page.evaluate(() => ({
      shown: window.__phasesShown.slice(),
      said: window.__utterances.map((u) => ({ ...u })),
    }));
    const late = [];
    let dropped = 0;
    let cut = 0;
    shown.forEach((ph, k) => {
      const end = k + 1 < shown.length ? shown[k + 1].at : ph.at + tempo * 1000;
      const cue = said.find((u) => u.start >= ph.at - 50 && u.start < end && BREATH.test(u.text));
      if (!cue) { dropped += 1; late.push(null); return; }
      late.push(cue.start - ph.at);
      if (cue.cut) cut += 1;
    });
    if (process.env.LATENESS_DUMP) console.log(JSON.stringify({ shown, said: said.map((u) => ({ t: u.text.slice(0, 40), s: Math.round(u.start), e: u.end && Math.round(u.end), cut: u.cut })) }, null, 0));
    return { tempo, phases: shown.length, late, dropped, cut, first: said.filter((u) => BREATH.test(u.text)).slice(0, 2).map((u) => u.text) };
  } finally {
    await browser.close();
    server.stop();
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
for (const tempo of tempos) {
  const r = await oneSession(tempo);
  const ms = r.late.filter((x) => x !== null).sort((a, b) => a - b);
  const f = (x) => (x === undefined ? "-" : x.toFixed(1));
  console.log(`tempo ${tempo} s: ${r.phases} phases shown, breath-cue start lateness median ${f(pct(ms, 50))} / p99 ${f(pct(ms, 99))} / max ${f(ms[ms.length - 1])} ms; `
    + `started ${ms.length} of ${r.phases}, dropped ${r.dropped}, cut ${r.cut}`);
  console.log(`  per phase (ms late): ${r.late.map((x) => (x === null ? '-' : x.toFixed(1))).join(' ')}`);
  console.log(`  first cues: ${r.first.join(' | ')}`);
}
