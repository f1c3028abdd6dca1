// Phase-change lateness at the page (BENCHMARKS.md, "Phase changes at the
// page"): a session run by the page at --speed 1, 50 reps at 6 s each way
// (10 minutes of rolling; a test copy of the built-in protocol with more
// reps), in headless Chromium with the speech stand-in of helpers.js. For
// every phase: its scheduled time (the phase's session time on the page's
// performance.now() clock) against performance.now() when the page shows it
// (the breath line changes) and when it starts speaking its cue.
//   node lateness.mjs            10 minutes (50 reps)
//   node lateness.mjs REPS       a shorter run
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, root, startServer } from './helpers.js';

const reps = Number(process.argv[2] || 50);
const upperBack = readFileSync(join(root, 'protocols', 'upper-back.toml'), 'utf8');
const text = upperBack
  .replace('id = "upper-back"', 'id = "lateness"')
  .replace('title = "Foam rolling the upper back"', 'title = "Lateness run"')
  .replace(/\[movement\.reps\]\nmin = \d+\nmax = \d+\ndefault = \d+/, `[movement.reps]\nmin = ${Math.min(5, reps)}\nmax = ${Math.max(8, reps)}\ndefault = ${reps}`);
if (text === upperBack) throw new Error('could not make the test protocol');

const server = await startServer({ speed: 1, protocols: { 'lateness.toml': text } });
const browser = await launch(server);
const { page } = browser;
try {
  const protocol = (await (await server.fetch(`/api/protocols/lateness`)).json()).protocol;
  await page.goto(`${server.url}/#/`);
  await page.waitForSelector('body[data-ready=true][data-route=home]');
  await page.selectOption('#reps-lateness', String(reps));
  await page.selectOption('#tempo-lateness', '6');
  await page.click('[data-protocol=lateness] button[type=submit]');
  for (let i = 1; i <= protocol.screening.questions.length; i += 1) {
    await page.waitForSelector(`.prompt .count:text-is("Question ${i} of ${protocol.screening.questions.length}")`);
    await page.click('button.no:not([disabled])');
  }
  await page.click('#reasons-go');
  for (let i = 1; i <= protocol.setup.length; i += 1) {
    await page.waitForSelector(`.prompt .count:text-is("Step ${i} of ${protocol.setup.length}")`);
    await page.click('button.go:not([disabled])');
  }
  const started = Date.now();
  await page.waitForSelector('#end-message', { timeout: (reps * 12 + 120) * 1000 });
  const { phases, shown, said } = await page.evaluate(() => ({
    phases: window.__outputTimes.filter((o) => o.type === 'phase'),
    shown: window.__phasesShown.slice(),
    said: window.__utterances.map((u) => ({ text: u.text, start: u.start })),
  }));
  const showLate = [];
  const sayLate = [];
  phases.forEach((p, i) => {
    if (shown[i]) showLate.push(shown[i].at - p.due);
    const next = phases[i + 1] ? phases[i + 1].due : Infinity;
    const u = said.find((x) => x.start >= p.due - 1 && x.start < next);
    if (u) sayLate.push(u.start - p.due);
  });
  const stats = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
    return `n ${s.length}, median ${q(0.5).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms, max ${s[s.length - 1].toFixed(2)} ms`;
  };
  console.log(`phases: ${phases.length} over ${((Date.now() - started) / 1000).toFixed(0)} s at --speed 1, tempo 6 s`);
  // The first phase starts with the person's Ready tap, written to the log
  // before it applies; every later one at a deadline.
  console.log(`first phase (the Ready tap): shown ${showLate[0].toFixed(2)} ms, spoken ${sayLate[0].toFixed(2)} ms after the tap`);
  console.log(`phase changes at their deadlines, shown (breath line changed) after the scheduled time: ${stats(showLate.slice(1))}`);
  console.log(`phase changes at their deadlines, speaking started after the scheduled time:           ${stats(sayLate.slice(1))}`);
  if (browser.errors.length) console.log(`page errors: ${browser.errors.join(' | ')}`);
} finally {
  await browser.close();
  await server.stop();
}
