// The phone page in a real browser: Debian's Chromium, headless, driven by
// playwright-core, served by `target/debug/rollcoach serve --speed 20`. The
// sessions run in the page (the engine's runner in WebAssembly, on the
// page's clock at the server's speed, logged in IndexedDB); the tests read
// the outputs the page announces (helpers.js `outputs`) and its store.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UID, axeViolations, clearOutputs, expectedSpeech, launch, outputs, overlapping, phoneInjuries, phoneSessions, root, screenshot, signIn, spoken, startServer, utterances, waitOutput } from './helpers.js';

let server;
let browser;
let page;
let protocol;
// (page: reassigned when a test closes it and opens another.)

before(async () => {
  server = await startServer({ speed: 20 });
  browser = await launch(server);
  page = browser.page;
  const resp = await server.fetch(`/api/protocols/upper-back`);
  protocol = (await resp.json()).protocol;
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// This branch's server has no sync routes yet (the server side of sync is
// built on its own branch): the page's pushes there are refused with 404,
// which the browser logs. Nothing else is let through.
const untilSyncMerged = (e) => !/status of 404 .*\/api\/sync\//.test(e);

const stopMessage = (id) => protocol.stop_rules.find((r) => r.id === id).message;

async function accessible(name) {
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${name}: serious or critical accessibility violations`);
}

async function home(base = server.url) {
  await page.goto(`${base}/#/`);
  await page.waitForSelector('body[data-ready=true][data-route=home]');
}

// From the home page through screening, ratings and setup to rolling.
async function startAndReachRolling({ reason = true, rating = 4, long = false, id = 'upper-back', base = server.url } = {}) {
  await home(base);
  // The longest session the protocol allows (8 reps, 6 s each way: 4.8 s of
  // rolling at --speed 20), for tests that must act while it rolls.
  if (long) await slowest(id);
  await page.click(`[data-protocol=${id}] button[type=submit]`);
  await page.waitForURL(new RegExp(`#/session/new/${id}$`));
  // The safety questions first, then the reasons.
  await answerScreening();
  await page.waitForSelector('#reasons-go');
  if (reason) await page.check(`#r-${id}-soreness`);
  await page.click('#reasons-go');
  await page.waitForURL(UID);
  if (reason) {
    await page.waitForSelector('.prompt .scale');
    await page.click(`.prompt .scale button:text-is("${rating}")`);
  }
  for (let i = 1; i <= protocol.setup.length; i += 1) {
    await page.waitForSelector(`.prompt .count:text-is("Step ${i} of ${protocol.setup.length}")`);
    await page.click('button.go:not([disabled])');
  }
  await page.waitForSelector('#pacer[data-state=moving]');
  return page.url().match(UID)[1];
}

async function answerScreening() {
  for (let i = 1; i <= protocol.screening.questions.length; i += 1) {
    await page.waitForSelector(`.prompt .count:text-is("Question ${i} of ${protocol.screening.questions.length}")`);
    await page.click('button.no:not([disabled])');
  }
}

async function slowest(id = 'upper-back') {
  await page.selectOption(`#reps-${id}`, String(protocol.movement.reps.max));
  await page.selectOption(`#tempo-${id}`, String(protocol.movement.tempo.max_seconds));
}

// Waits until the session has given an output matching `pred` (recorded in
// the page as it happens, so short phases are not missed).
const waitFrame = (pred, timeout = 20000) => waitOutput(page, pred, timeout);

const phaseOfRep = (rep) => (f) => f.type === 'phase' && f.rep === rep;

// Waits until the page has started saying `text` (the end message, said last).
async function speechReached(text) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const got = await spoken(page);
    if (got.includes(text) || Date.now() > deadline) return got;
    await page.waitForTimeout(50);
  }
}

// The wordings the speech planner says for a turn: the breath cue with the
// direction, or the breath cue alone (crates/engine/src/speech.rs).
// Every wording the planner may choose for a phase cue (the protocol
// model's `Movement::cue_forms`): the full cue, the short one, the breath
// cue alone and the short breath word.
function cueForms(breath, dir) {
  const mv = protocol.movement;
  const b = mv.breathing;
  const [cue, short] = breath === 'inhale' ? [b.inhale_cue, b.inhale_short] : [b.exhale_cue, b.exhale_short];
  const spec = dir === 'out' ? mv.out : mv.back;
  const forms = [`${cue}, ${spec.cue}`];
  if (spec.short_cue) forms.push(`${short || cue}, ${spec.short_cue}`);
  forms.push(cue);
  if (short) forms.push(short);
  return forms;
}

function phaseForms() {
  return ['inhale', 'exhale'].flatMap((b) => ['out', 'back'].flatMap((d) => cueForms(b, d)));
}

// Whether `text` is a wording of a phase cue with this breath.
const isBreathCue = (text, breath) => ['out', 'back'].some((d) => cueForms(breath, d).includes(text));

// Clears what the page's stand-ins recorded.
async function clearRecords() {
  await page.evaluate(() => {
    for (const k of ['__spoken', '__utterances', '__cancels', '__vibrations', '__tones', '__clicks', '__phasesShown']) window[k].length = 0;
  });
}

describe('the phone page in Chromium, sessions run in the page', () => {
  test('the home page lists the protocol and is accessible', async () => {
    await home();
    assert.match(await page.textContent('[data-protocol=upper-back] h2'), /Foam rolling the upper back/);
    assert.equal(await page.locator('#blocked-upper-back').count(), 0);
    await screenshot(page, 'home');
    await accessible('home');
  });

  test('a whole session runs to completion and the planner speaks its cues in order, never two at once', async () => {
    await clearOutputs(page);
    await clearRecords();
    await home();
    await page.click('[data-protocol=upper-back] button[type=submit]');
    await page.waitForSelector('.prompt .count:text-is("Question 1 of 3")');
    await screenshot(page, 'session-screening');
    await accessible('session: screening');
    for (let i = 0; i < 3; i += 1) {
      await page.waitForSelector(`.prompt .count:text-is("Question ${i + 1} of 3")`);
      await page.click('button.no:not([disabled])');
    }
    // The reasons come after the safety questions.
    await page.waitForSelector('#reasons-go');
    await screenshot(page, 'session-reasons');
    await accessible('session: reasons');
    await page.check('#r-upper-back-soreness');
    await page.click('#reasons-go');
    await page.waitForSelector('.prompt .scale');
    await screenshot(page, 'session-rating');
    await accessible('session: rating');
    await page.click('.prompt .scale button:text-is("6")');
    for (let i = 1; i <= protocol.setup.length; i += 1) {
      await page.waitForSelector(`.prompt .count:text-is("Step ${i} of ${protocol.setup.length}")`);
      if (i === 1) {
        await screenshot(page, 'session-setup');
        await accessible('session: setup');
      }
      await page.click('button.go:not([disabled])');
    }
    await page.waitForSelector('#pacer[data-state=moving]');
    // Only a screenshot here: axe would block the page long enough for the
    // 200 ms phases to pile up (the reload test checks the rolling screen).
    await screenshot(page, 'session-rolling');
    // The after-rating comes when every rep is done.
    await page.waitForSelector('.prompt .count:text-is("After rolling")', { timeout: 20000 });
    await page.click('.prompt .scale button:text-is("3")');
    await page.waitForSelector('#end-message');
    await screenshot(page, 'session-end');
    await accessible('session: end');

    const frames = await outputs(page);
    const end = frames.find((f) => f.type === 'end');
    assert.equal(end.outcome.outcome, 'completed');
    assert.equal(end.summary.reps_done, 6);
    assert.deepEqual(end.summary.ratings.find((r) => r.id === 'upper-back-soreness'), { id: 'upper-back-soreness', before: 6, after: 3 });
    const phases = frames.filter((f) => f.type === 'phase');
    assert.equal(phases.length, 12);
    phases.forEach((p, i) => {
      assert.equal(p.direction, i % 2 === 0 ? 'out' : 'back');
      assert.equal(p.rep, Math.floor(i / 2) + 1);
    });
    assert.equal(await page.textContent('#end-message'), end.message);

    // The speech planner chooses: a phase's own cue is one of its wordings
    // (at --speed 20 a phase lasts 200 ms, so the shortest), a prompt is cut
    // once answered and a note that does not fit is shown only. Everything
    // said is the engine's words or a phase's wording, the engine's in its
    // order, one turn cue per phase, the end message last, none overlapping.
    const want = expectedSpeech(frames);
    const got = await speechReached(end.message);
    assert.equal(got[got.length - 1], end.message, 'the end message is said last');
    const forms = phaseForms();
    const engineSaid = got.filter((t) => !forms.includes(t));
    for (const t of engineSaid) assert.ok(want.includes(t), `said but not an engine cue: ${t}`);
    let i = 0;
    for (const t of engineSaid) {
      i = want.indexOf(t, i);
      assert.ok(i >= 0, `engine cues said out of order at: ${t}`);
      i += 1;
    }
    const turnsSaid = got.filter((t) => forms.includes(t));
    assert.equal(turnsSaid.length, phases.length, `one turn cue per phase: ${turnsSaid.join(' | ')}`);
    turnsSaid.forEach((t, k) => assert.ok(isBreathCue(t, phases[k].breath), `phase ${k + 1}: ${t}`));
    assert.ok(engineSaid.length >= protocol.screening.questions.length + protocol.setup.length,
      `the questions and steps are said: ${engineSaid.length}`);
    assert.deepEqual(overlapping(await utterances(page)), [], 'no two utterances at once');
  });

  test('pain over the spine mid-rep stops the pacer and the speech at once and shows the protocol message', async () => {
    await clearOutputs(page);
    await startAndReachRolling({ long: true });
    await waitFrame(phaseOfRep(2));
    const before = await page.evaluate(() => window.__cancels.length);
    await page.click('#controls button.danger');
    // Choosing pauses the pacer and silences the speech at once.
    assert.ok(await page.evaluate(() => window.__cancels.length) > before, 'speech cancelled when Pain is pressed');
    assert.equal(await page.getAttribute('#pacer', 'data-state'), 'paused');
    await screenshot(page, 'session-pain-choice');
    await accessible('session: pain choice');
    const cancelsBeforeSpine = await page.evaluate(() => window.__cancels.length);
    await page.click('#chooser button:text-is("Over the spine")');
    // At once, before the server has answered.
    assert.equal(await page.getAttribute('#pacer', 'data-state'), 'stopped');
    assert.ok(await page.evaluate(() => window.__cancels.length) > cancelsBeforeSpine, 'speech cancelled on the pain report');
    const running = await page.evaluate(() => document.querySelector('.runner').getAnimations().filter((a) => a.playState === 'running').length);
    assert.equal(running, 0, 'no pacer animation running');
    const message = stopMessage('pain-over-spine');
    await page.waitForSelector('#end-message');
    assert.equal(await page.textContent('#end-message'), message);
    const t1 = await page.evaluate(() => getComputedStyle(document.querySelector('.runner')).transform);
    await page.waitForTimeout(400);
    const t2 = await page.evaluate(() => getComputedStyle(document.querySelector('.runner')).transform);
    assert.equal(t1, t2, 'the pacer does not move after the stop');
    const frames = await outputs(page);
    const end = frames.find((f) => f.type === 'end');
    assert.deepEqual(end.outcome, { outcome: 'stopped', reason: 'pain-over-spine' });
    // No phase after the pain, and the last thing said is the stop message.
    const endIndex = frames.indexOf(end);
    assert.equal(frames.slice(endIndex).filter((f) => f.type === 'phase').length, 0);
    const got = await spoken(page);
    assert.equal(got[got.length - 1], message);
    assert.match(await page.textContent('#alert'), /spine/);
    await screenshot(page, 'session-stopped');
    await accessible('session: stopped');
  });

  test('pain while getting into position stops the session too', async () => {
    await clearOutputs(page);
    await home();
    await page.click('[data-protocol=upper-back] button[type=submit]');
    await answerScreening();
    await page.click('#reasons-go');
    await page.waitForSelector(`.prompt .count:text-is("Step 1 of ${protocol.setup.length}")`);
    await page.click('#setup-controls button.danger');
    await page.click('#chooser button:text-is("With a pop or crack")');
    await page.waitForSelector('#end-message');
    assert.equal(await page.textContent('#end-message'), stopMessage('pain-with-pop'));
    const end = await waitFrame((f) => f.type === 'end');
    assert.deepEqual(end.outcome, { outcome: 'stopped', reason: 'pain-with-pop' });
  });

  test('closing the page mid-rep 3 and opening it again records the session as interrupted with 2 reps', async () => {
    await clearOutputs(page);
    const uid = await startAndReachRolling({ reason: false, long: true });
    await waitFrame(phaseOfRep(3));
    // The page is closed (as a phone kills a tab): nothing more runs.
    await page.close();
    page = await browser.context.newPage();
    await page.goto(`${server.url}/#/session/${uid}`);
    await page.waitForSelector('body[data-ready=true][data-route=session]');
    await page.waitForSelector('#end-message');
    assert.equal(await page.textContent('#end h2'), 'Interrupted');
    assert.equal(await page.textContent('#end-reps'), `Reps: 2 of ${protocol.movement.reps.max}`);
    const [rec] = (await phoneSessions(page)).filter((s) => s.uid === uid);
    assert.equal(rec.live, false);
    assert.deepEqual(rec.outcome, { outcome: 'interrupted' });
    assert.equal(rec.reason, null);
    assert.equal(rec.reps_done, 2);
    assert.equal(rec.message, null);
    // Ended at its last logged input: the timeout that began rep 3.
    const events = await page.evaluate(async (u) => (await import('/local.js')).events(u), uid);
    assert.equal(events[events.length - 1].input.type, 'timeout');
    assert.equal(rec.ended_at, rec.started_at + events[events.length - 1].at_ms);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i), 'the log is numbered without gaps');
    await screenshot(page, 'session-interrupted');
    await accessible('session: interrupted');
  });

  test('the history page shows the sessions and a chart of the ratings', async () => {
    await page.goto(`${server.url}/#/history`);
    await page.waitForSelector('body[data-ready=true][data-route=history]');
    const items = await page.locator('#sessions li').count();
    assert.equal(items, 4);
    const text = await page.textContent('#sessions');
    assert.match(text, /Completed/);
    assert.match(text, /Stopped \(pain over the spine\)/);
    assert.match(text, /Interrupted/);
    assert.equal(await page.locator('svg.chart').count(), 1, 'one chart: upper-back soreness');
    assert.match(await page.getAttribute('svg.chart', 'aria-label'), /before 6, after 3/);
    assert.equal(await page.isHidden('#older'), true, 'one page holds all four');
    await screenshot(page, 'history');
    await accessible('history');
  });

  test('the history list loads older sessions a page at a time', async () => {
    // Pages of 3 instead of 50, so that the four sessions take two pages.
    await page.evaluate(() => localStorage.setItem('rollcoach.history-page', '3'));
    try {
      await page.goto(`${server.url}/#/`);
      await page.waitForSelector('body[data-ready=true][data-route=home]');
      await page.goto(`${server.url}/#/history`);
      await page.waitForSelector('body[data-ready=true][data-route=history]');
      assert.equal(await page.locator('#sessions li').count(), 3);
      assert.equal(await page.textContent('#sessions-shown'), 'Showing the newest 3 of 4.');
      const firstIds = await page.locator('#sessions li').evaluateAll((els) => els.map((e) => e.dataset.id));
      await page.click('#older');
      await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 4);
      const ids = await page.locator('#sessions li').evaluateAll((els) => els.map((e) => e.dataset.id));
      const starts = await page.locator('#sessions li').evaluateAll((els) => els.map((e) => Number(e.dataset.started)));
      assert.deepEqual(ids.slice(0, 3), firstIds);
      assert.deepEqual([...starts].sort((a, b) => b - a), starts, 'newest first');
      assert.equal(new Set(ids).size, 4, 'no repeats');
      assert.equal(await page.isHidden('#older'), true, 'no older page');
      assert.equal(await page.textContent('#sessions-shown'), '');
      await accessible('history, second page');
    } finally {
      await page.evaluate(() => localStorage.removeItem('rollcoach.history-page'));
    }
  });

  test('the handout page renders the protocol and is accessible', async () => {
    await page.goto(`${server.url}/#/handout`);
    await page.waitForSelector('body[data-ready=true][data-route=handout]');
    const text = await page.textContent('.handout');
    assert.match(text, /5 to 8/);
    assert.match(text, /48 hours/);
    assert.match(text, /Nick April/);
    await screenshot(page, 'handout');
    await accessible('handout');
  });

  test('the 48-hour block shows on the home page after an injury is logged', async () => {
    await page.goto(`${server.url}/#/injuries`);
    await page.waitForSelector('body[data-ready=true][data-route=injuries]');
    await screenshot(page, 'injuries');
    await accessible('injuries');
    await page.fill('#inj-note', 'tweaked it lifting');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#injuries li button');
    await screenshot(page, 'injuries-logged');
    await accessible('injuries: logged');
    await home();
    await page.waitForSelector('#blocked-upper-back');
    const text = await page.textContent('#blocked-upper-back');
    assert.match(text, /Allowed again from/);
    assert.match(text, /48 hours/);
    assert.equal(await page.locator('[data-protocol=upper-back] button[type=submit]').count(), 0, 'no start button while blocked');
    await screenshot(page, 'home-blocked');
    await accessible('home: blocked');
    // Clearing the injury lifts the block.
    await page.goto(`${server.url}/#/injuries`);
    await page.waitForSelector('#injuries li button');
    await page.click('#injuries li button');
    await page.waitForSelector('#injuries li.cleared');
    await home();
    assert.equal(await page.locator('#blocked-upper-back').count(), 0);
  });

  test('a session is fully usable from the keyboard, with reduced motion respected', async () => {
    await clearOutputs(page);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await home();
    await slowest();
    // Start: Tab to the Start button and press Enter.
    await page.focus('[data-protocol=upper-back] button[type=submit]');
    await page.keyboard.press('Enter');
    for (let i = 1; i <= protocol.screening.questions.length; i += 1) {
      await page.waitForSelector(`.prompt .count:text-is("Question ${i} of ${protocol.screening.questions.length}")`);
      // Focus lands on the first answer (Yes); Tab moves to No.
      assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Yes');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
    }
    // The reasons: focus lands on the first; Tab past them to Continue.
    await page.waitForSelector('#reasons-go');
    assert.equal(await page.evaluate(() => document.activeElement.type), 'checkbox');
    for (let k = 0; k < protocol.indications.length; k += 1) await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'reasons-go');
    await page.keyboard.press('Enter');
    for (let i = 1; i <= protocol.setup.length; i += 1) {
      await page.waitForSelector(`.prompt .count:text-is("Step ${i} of ${protocol.setup.length}")`);
      await page.keyboard.press('Enter');
    }
    await page.waitForSelector('#pacer[data-state=moving]');
    const easing = await page.evaluate(() => document.querySelector('.runner').getAnimations()[0].effect.getTiming().easing);
    assert.match(easing, /^steps\(/, 'reduced motion: the pacer steps once a second instead of gliding');
    // P opens the pain choices (pausing), Escape cancels and resumes.
    await page.keyboard.press('p');
    await waitFrame((f) => f.type === 'paused');
    assert.equal(await page.isVisible('#chooser'), true);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'With a pop or crack');
    await page.keyboard.press('Escape');
    await waitFrame((f) => f.type === 'resumed');
    // N logs a noise without pain, and the session goes on.
    await page.keyboard.press('n');
    await waitFrame((f) => f.type === 'acknowledged');
    // Escape stops.
    await page.keyboard.press('Escape');
    const end = await waitFrame((f) => f.type === 'end');
    assert.deepEqual(end.outcome, { outcome: 'stopped', reason: 'by-person' });
    assert.equal(end.summary.noises, 1);
    await page.emulateMedia({ reducedMotion: 'no-preference' });
  });

  test('every turn is spoken at once, with a tone and a buzz, and the stop message follows Pain within 100 ms', async (t) => {
    await clearOutputs(page);
    await clearRecords();
    await startAndReachRolling({ long: true });
    await waitFrame(phaseOfRep(3));
    const shown = await page.evaluate(() => window.__phasesShown.slice());
    assert.ok(shown.length >= 4, `phases shown: ${shown.length}`);
    let said = await utterances(page);
    // Each phase the page shows has its breath cue started within 150 ms,
    // the first (rolling's start) included.
    const lateness = [];
    for (const [k, ph] of shown.entries()) {
      const cue = said.find((u) => u.start >= ph.at - 50 && u.start <= ph.at + 150
        && isBreathCue(u.text, ph.breath));
      const late = said.filter((u) => u.start >= ph.at - 50).map((u) => `${u.text} at +${(u.start - ph.at).toFixed(0)} ms`);
      assert.ok(cue, `phase ${k + 1} (${ph.key}): no breath cue within 150 ms; said after it: ${late.slice(0, 3).join(', ')}`);
      lateness.push(cue.start - ph.at);
    }
    lateness.sort((a, b) => a - b);
    t.diagnostic(`breath-cue start after its phase is shown (ms, ${lateness.length} phases, tempo 6 s at --speed 20): `
      + `median ${lateness[Math.floor(lateness.length / 2)].toFixed(1)}, max ${lateness[lateness.length - 1].toFixed(1)}`);
    // A tone and a buzz at each turn: one pitch and one buzz for in, another
    // pitch and two buzzes for out.
    // The last turn's buzz fires on its own timer at the turn, which can be a
    // moment after the page shows it: give it up to a second to arrive.
    await page.waitForFunction((n) => window.__vibrations.length >= n
      && window.__tones.filter((t) => !t.cancelled).length >= n, shown.length, { timeout: 1000 })
      .catch(() => {});
    const { tones, vibrations } = await page.evaluate(() => ({
      tones: window.__tones.filter((t) => !t.cancelled).map(({ osc, ...t }) => t),
      vibrations: window.__vibrations.slice(),
    }));
    assert.ok(tones.length >= shown.length, `tones: ${tones.length} for ${shown.length} turns`);
    assert.ok(vibrations.length >= shown.length, `buzzes: ${vibrations.length} for ${shown.length} turns`);
    // Each sounds within 100 ms of its turn being shown; after the first,
    // each was scheduled ahead, before its phase reached the page.
    const byBreath = (breath) => shown.filter((p) => p.breath === breath).map((p) => {
      const tone = tones.find((x) => Math.abs(x.sounds - p.at) < 100);
      const buzz = vibrations.find((x) => Math.abs(x.at - p.at) < 100);
      if (p !== shown[0] && tone) assert.ok(tone.at < p.at - 50, `the tone of ${p.key} was scheduled ahead`);
      return { tone, buzz };
    });
    const ins = byBreath('inhale');
    const outs = byBreath('exhale');
    assert.ok(ins.length && outs.length, 'both breaths shown');
    for (const x of [...ins, ...outs]) assert.ok(x.tone && x.buzz, 'a tone and a buzz at the turn');
    assert.equal(new Set(ins.map((x) => x.tone.hz)).size, 1);
    assert.equal(new Set(outs.map((x) => x.tone.hz)).size, 1);
    assert.notEqual(ins[0].tone.hz, outs[0].tone.hz, 'in and out sound different');
    for (const x of ins) assert.equal(x.buzz.pattern.filter((_, i) => i % 2 === 0).length, 1, 'one buzz for in');
    for (const x of outs) assert.equal(x.buzz.pattern.filter((_, i) => i % 2 === 0).length, 2, 'two buzzes for out');
    await screenshot(page, 'session-rolling-tones');

    await page.click('#controls button.danger');
    await page.click('#chooser button:text-is("Sharp, radiating, numb or tingling")');
    const message = stopMessage('sharp-or-radiating');
    await page.waitForSelector('#end-message');
    await speechReached(message);
    said = await utterances(page);
    const clicks = await page.evaluate(() => window.__clicks.slice());
    const pressed = clicks.filter((c) => c.text === 'Sharp, radiating, numb or tingling').pop();
    const stop = said.find((u) => u.text === message);
    assert.ok(stop, 'the stop message is said');
    assert.ok(stop.start - pressed.at <= 100, `the stop message starts ${(stop.start - pressed.at).toFixed(0)} ms after Pain`);
    assert.equal(said[said.length - 1].text, message, 'nothing is said after it');
    assert.deepEqual(overlapping(said), [], 'no two utterances at once');
    // Said whole, it measures the voice's pace against the planner's
    // estimate: the stand-in takes exactly the estimate, so about 1.
    await page.waitForFunction(() => window.__utterances[window.__utterances.length - 1].end !== null, null, { timeout: 15000 });
    const pace = await page.evaluate(() => JSON.parse(localStorage.getItem('rollcoach.voice-pace') || '{}'));
    const measured = Object.values(pace);
    assert.ok(measured.length >= 1, 'a pace was measured');
    for (const p of measured) assert.ok(p > 0.9 && p < 1.1, `pace ${p}`);
  });

  test('leaving mid-session asks first, and Home offers the session to return to', async () => {
    await clearOutputs(page);
    const id = await startAndReachRolling({ long: true });
    // The top navigation: the page asks, Stay keeps the session.
    await page.click('nav.main a[href="#/history"]');
    await page.waitForSelector('#leave-dialog[open]');
    assert.match(page.url(), new RegExp(`#/session/${id}$`));
    assert.equal(await page.evaluate(() => document.activeElement.id), 'leave-stay');
    await screenshot(page, 'session-leave-dialog');
    await accessible('session: leave dialog');
    // Escape answers the dialog (stay), and does not stop the session.
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#leave-dialog').count(), 0);
    await page.waitForTimeout(200);
    assert.equal((await outputs(page)).filter((f) => f.type === 'end').length, 0, 'Escape in the dialog stops nothing');
    await page.click('nav.main a[href="#/injuries"]');
    await page.waitForSelector('#leave-dialog[open]');
    await page.click('#leave-stay');
    assert.equal(await page.locator('#leave-dialog').count(), 0);
    assert.equal(await page.getAttribute('body', 'data-route'), 'session');
    assert.match(page.url(), new RegExp(`#/session/${id}$`));
    // Back: the page asks too; Leave pauses the session and goes.
    await page.evaluate(() => history.back());
    await page.waitForSelector('#leave-dialog[open]');
    assert.match(page.url(), new RegExp(`#/session/${id}$`), 'the session stays in the address while asking');
    await page.click('#leave-go');
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    // Still live in the page, paused (the pause is in its log), not ended.
    const left = (await phoneSessions(page)).find((s) => s.uid === id);
    assert.equal(left.live, true);
    const afterLeaving = await outputs(page);
    assert.equal(afterLeaving.filter((f) => f.type === 'paused').length, 1, 'leaving pauses the rolling');
    assert.equal(afterLeaving.filter((f) => f.type === 'end').length, 0);
    const log = await page.evaluate(async (u) => (await import('/local.js')).events(u), id);
    assert.equal(log[log.length - 1].input.type, 'pause');
    // Home offers the live session.
    await page.waitForSelector('#live-session a');
    assert.equal(await page.getAttribute('#live-session a', 'href'), `#/session/${id}`);
    await screenshot(page, 'home-live-session');
    await accessible('home: a live session');
    await page.click('#live-session a');
    await page.waitForSelector('[data-stage=rolling] #pacer[data-state=paused]');
    await accessible('session: rolling (paused)');
    // Once it has ended, Home no longer offers it, and leaving asks nothing.
    await page.click('#controls button.stop');
    await page.waitForSelector('#end-message');
    await page.click('nav.main a[href="#/"]');
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    assert.equal(await page.locator('#leave-dialog').count(), 0);
    assert.equal(await page.locator('#live-session').count(), 0);
  });

  test('a yes to the recent-injury question offers to log it, and Yesterday logs it and says when rolling is allowed again', async () => {
    await home();
    await page.click('[data-protocol=upper-back] button[type=submit]');
    const question = protocol.screening.questions.find((q) => q.injury_window);
    await page.waitForSelector(`.prompt .question:text-is("${question.text}")`);
    await page.click('button.yes:not([disabled])');
    await page.waitForSelector('#injury-offer');
    const end = await page.textContent('#end-message');
    assert.equal(end, question.refusal);
    assert.doesNotMatch(end, /today/i, 'a 48-hour refusal does not say "today"');
    const shown = await page.innerText('main');
    assert.doesNotMatch(shown, /recent-injury|Reps/, 'no ids and no reps on a refusal');
    assert.doesNotMatch(shown, /Finished/, 'a refusal is not shown as a finished session');
    // Refused by the answer, before any reason was asked: recorded so.
    const refused = (await phoneSessions(page)).find((s) => s.uid === page.url().match(UID)[1]);
    assert.deepEqual(refused.outcome, { outcome: 'refused', reason: { kind: 'answer', question: question.id } });
    assert.equal(refused.reason, `answer:${question.id}`);
    assert.deepEqual(refused.options.reasons, []);
    await screenshot(page, 'session-injury-offer');
    await accessible('session: the offer to log the injury');
    const clicked = Date.now();
    await page.click('#injury-offer button:text-is("Yesterday")');
    await page.waitForSelector('#injury-result:has-text("roll again")');
    // Logged on the phone (and synced to the computer when it can: sync.test.js).
    const active = (await phoneInjuries(page)).filter((i) => !i.cleared_at);
    assert.equal(active.length, 1);
    const [injury] = active;
    assert.equal(injury.area, protocol.area);
    assert.ok(Math.abs(injury.at - (clicked - 24 * 3600e3)) < 120e3, `dated yesterday at this time: ${injury.at}`);
    // The time the engine's rule computes (the protocol's window after it), in local time.
    const allowed = injury.at + protocol.screening.injury_rule.window_hours * 3600e3;
    const local = await page.evaluate(async (ms) => (await import('/api.js')).localTime(ms), allowed);
    assert.match(await page.textContent('#injury-result'), new RegExp(`roll again from ${local.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await screenshot(page, 'session-injury-logged');
    await accessible('session: the injury logged');
    // Home now shows the block until then.
    await home();
    assert.equal(await page.getAttribute('#blocked-upper-back time', 'datetime'), new Date(allowed).toISOString());
    // Clear it for the tests that follow.
    await page.goto(`${server.url}/#/injuries`);
    await page.waitForSelector('#injuries li button');
    await page.click('#injuries li button');
    await page.waitForSelector('#injuries li.cleared');
  });

  test('declining to log the injury still refuses, for the protocol\'s window', async () => {
    await home();
    await page.click('[data-protocol=upper-back] button[type=submit]');
    await page.waitForSelector('.prompt .count:text-is("Question 1 of 3")');
    await page.click('button.yes:not([disabled])');
    await page.click('#injury-decline');
    const text = await page.textContent('#injury-result');
    assert.match(text, new RegExp(`${protocol.screening.injury_rule.window_hours} hours`));
    const injuries = await phoneInjuries(page);
    assert.equal(injuries.filter((i) => !i.cleared_at).length, 0, 'nothing logged');
  });

  test('the chosen voice rate is remembered across a reload', async () => {
    await home();
    await page.click('details.voice summary');
    await page.fill('#rate', '1.5');
    await page.dispatchEvent('#rate', 'input');
    await page.reload();
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    await page.click('details.voice summary');
    assert.equal(await page.inputValue('#rate'), '1.5');
    assert.equal(await page.textContent('#rate-out'), '1.5x');
    await screenshot(page, 'home-voice');
    await accessible('home: voice settings');
  });

  test('where the browser cannot vibrate (iPhone, iPad), the voice settings say so', async () => {
    // The browser tests' stand-in gives every page a vibrate: this one has none.
    const bare = await browser.context.newPage();
    await bare.addInitScript(() => { delete navigator.vibrate; delete Navigator.prototype.vibrate; });
    try {
      await bare.goto(`${server.url}/#/`);
      await bare.waitForSelector('body[data-ready=true][data-route=home]');
      await bare.click('details.voice summary');
      assert.match(await bare.textContent('#no-vibrate'), /cannot vibrate/);
    } finally {
      await bare.close();
    }
    // Where it can, no such note.
    await home();
    await page.click('details.voice summary');
    assert.equal(await page.$('#no-vibrate'), null);
  });

  test('a second tab leaves the session the first runs alone; once the first is closed, it is interrupted', async () => {
    const uid = await startAndReachRolling({ reason: false, long: true });
    const first = page;
    const second = await browser.context.newPage();
    await second.goto(`${server.url}/#/`);
    await second.waitForSelector('body[data-ready=true][data-route=home]');
    // The second tab's start-up has run (recovery comes before the first route).
    let [rec] = (await phoneSessions(second)).filter((s) => s.uid === uid);
    assert.equal(rec.live, true, `still live: ${JSON.stringify(rec.outcome)}`);
    assert.equal(await first.getAttribute('#pacer', 'data-state') !== null, true, 'the first tab still rolls');
    // The first tab is closed mid-session: the second's next start-up records it.
    await first.close();
    page = second;
    await page.reload();
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    [rec] = (await phoneSessions(page)).filter((s) => s.uid === uid);
    assert.equal(rec.live, false);
    assert.deepEqual(rec.outcome, { outcome: 'interrupted' });
  });

  test('the page raised no script errors', () => {
    assert.deepEqual(browser.errors.filter(untilSyncMerged), []);
  });
});

// The page shows the injury rule the server computes; it has no window of its
// own. A user protocol with a 72-hour window, beside the built-in 48 hours,
// over the same area, and an injury logged 60 hours ago: only the 72-hour
// protocol is blocked, until the end the API computes.
describe('a protocol with a 72-hour injury window', () => {
  let slow;

  before(async () => {
    const upperBack = readFileSync(join(root, 'protocols', 'upper-back.toml'), 'utf8');
    const text = upperBack
      .replace('id = "upper-back"', 'id = "upper-back-72"')
      .replace('title = "Foam rolling the upper back"', 'title = "Upper back, 72-hour test"')
      .replace('window_hours = 48', 'window_hours = 72')
      .replace('kind = "discomfort", above = 7', 'kind = "discomfort", above = 5');
    assert.notEqual(text, upperBack);
    slow = await startServer({ speed: 20, protocols: { 'upper-back-72.toml': text } });
    // Its cookie is named for its port: the first server's stays.
    await signIn(browser.context, slow);
  });

  after(async () => {
    if (slow) await slow.stop();
  });

  test('the discomfort chooser marks what stops by the served threshold, 5 here', async () => {
    await clearOutputs(page);
    await startAndReachRolling({ id: 'upper-back-72', base: slow.url, long: true });
    await page.click('#controls button.warn');
    await page.waitForSelector('#chooser .scale');
    assert.match(await page.textContent('#chooser'), /Above 5 stops the session\./);
    const over = await page.locator('#chooser .scale button.over').allTextContents();
    assert.deepEqual(over, ['6', '7', '8', '9', '10']);
    await page.click('#chooser button:text-is("Too much: stop now")');
    const end = await waitFrame((f) => f.type === 'end');
    assert.deepEqual(end.outcome, { outcome: 'stopped', reason: 'too-much-discomfort' });
  });

  test('an injury 60 hours ago blocks it until the end the API computes, and the page says 72 hours', async () => {
    const at = Date.now() - 60 * 3600 * 1000;
    const logged = await slow.fetch(`/api/injuries`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ area: 'upper-back', at }),
    });
    assert.equal(logged.status, 201, await logged.text());
    const briefs = await (await slow.fetch(`/api/protocols`)).json();
    const brief = briefs.find((p) => p.id === 'upper-back-72');
    assert.equal(brief.rules.injury_window_hours, 72);
    assert.equal(brief.blocked.allowed_at, at + 72 * 3600 * 1000);
    assert.equal(briefs.find((p) => p.id === 'upper-back').blocked, null);

    await page.goto(`${slow.url}/#/`);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    await page.waitForSelector('#blocked-upper-back-72');
    const text = await page.textContent('#blocked-upper-back-72');
    assert.match(text, /72 hours/);
    assert.match(text, /Allowed again from/);
    assert.equal(await page.getAttribute('#blocked-upper-back-72 time', 'datetime'),
      new Date(brief.blocked.allowed_at).toISOString());
    assert.equal(await page.locator('[data-protocol=upper-back-72] button[type=submit]').count(), 0);
    // The handout's 48 hours have passed: the built-in protocol can start.
    assert.equal(await page.locator('#blocked-upper-back').count(), 0);
    assert.equal(await page.locator('[data-protocol=upper-back] button[type=submit]').count(), 1);
    await screenshot(page, 'home-blocked-72');
    await accessible('home: blocked for 72 hours');

    await page.goto(`${slow.url}/#/injuries`);
    await page.waitForSelector('body[data-ready=true][data-route=injuries]');
    const rules = await page.textContent('form');
    assert.match(rules, /Upper back, 72-hour test \(upper-back\): 72 hours/);
    assert.match(rules, /Foam rolling the upper back \(upper-back\): 48 hours/);
    assert.doesNotMatch(await page.textContent('#inj-rule'), /48/);
    const blocks = await page.locator('#injuries .blocks').allTextContents();
    assert.equal(blocks.length, 1, blocks.join(' | '));
    assert.match(blocks[0], /^Blocks Upper back, 72-hour test until /);
    assert.equal(await page.getAttribute('#injuries .blocks time', 'datetime'),
      new Date(at + 72 * 3600 * 1000).toISOString());
    await accessible('injuries: a 72-hour block');
  });

  test('a future-dated injury is refused and the page shows why', async () => {
    await page.goto(`${slow.url}/#/injuries`);
    await page.waitForSelector('body[data-ready=true][data-route=injuries]');
    const ahead = new Date(Date.now() + 6 * 24 * 3600 * 1000 + 90 * 60 * 1000);
    const local = new Date(ahead.getTime() - ahead.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    await page.fill('#inj-at', local);
    await page.click('form button[type=submit]');
    await page.waitForSelector('form .error:not([hidden])');
    assert.match(await page.textContent('form .error'), /an injury cannot be dated in the future: the time given is 6 days 1 hour ahead of now/);
  });

  test('the page raised no script errors here either', () => {
    assert.deepEqual(browser.errors.filter(untilSyncMerged), []);
  });
});
