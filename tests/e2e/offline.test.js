// Installable and offline (issue 12, item 3): the app loaded once from
// `rollcoach serve` on localhost (a secure context) opens again, and runs a
// session, from its service worker with the server stopped and the browser
// offline; the manifest is valid and its icons load; over plain http from
// another host (an insecure context) the page says what it cannot do there.

import { execFileSync, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { axeViolations, launch, root, screenshot, served } from './helpers.js';

const BINARY = process.env.ROLLCOACH_BIN
  || join(process.env.CARGO_TARGET_DIR ? resolve(root, process.env.CARGO_TARGET_DIR) : join(root, 'target'), 'debug', 'rollcoach');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// `rollcoach --db DB serve` on `addr`; resolves with its URL and a stop.
// Unlike helpers.js's startServer it keeps the database and can come back
// on the same port: the page syncs to the origin that served it.
async function serve(db, addr = '127.0.0.1:0', extra = []) {
  const proc = spawn(BINARY, ['--db', db, 'serve', '--speed', '20', '--addr', addr, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ROLLCOACH_PROTOCOLS: join(db, '..', 'no-protocols') },
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`serve printed no URL within 20 s: ${out} ${err}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving on (https?:\/\/\S+)\s/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`serve exited with ${code}: ${err}`)); });
  });
  return {
    ...served(url),
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((ok) => proc.on('exit', ok));
      proc.kill('SIGTERM');
      await gone;
    },
  };
}

// Starts a server on the port an earlier one had (freed a moment ago).
async function serveAgain(db, url) {
  const addr = new URL(url).host;
  for (let i = 0; ; i += 1) {
    try {
      return await serve(db, addr);
    } catch (e) {
      if (i >= 20 || !/cannot listen/.test(String(e))) throw e;
      await new Promise((ok) => setTimeout(ok, 250));
    }
  }
}

// Records when the home screen is usable (the page's own signal, as the
// session tests read it), on the page's clock: navigation starts at 0.
const HOME_READY_PROBE = () => {
  window.__homeReadyAt = null;
  const check = () => {
    const b = document.body;
    if (window.__homeReadyAt === null && b && b.dataset.ready === 'true' && b.dataset.route === 'home') {
      window.__homeReadyAt = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-ready', 'data-route'], childList: true });
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

describe('installable and offline, from rollcoach serve on localhost', () => {
  let dir;
  let db;
  let server;
  let browser;
  let page;
  let origin;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcoach-offline-'));
    db = join(dir, 'rollcoach.db');
    server = await serve(db);
    origin = server.url;
    // The browser opens the link serve printed once; its cookie (a device in
    // the database) still lets it in when the server comes back below.
    browser = await launch(server);
    page = browser.page;
    await browser.context.addInitScript(HOME_READY_PROBE);
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const home = async () => {
    await page.goto(`${origin}/#/`);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
  };

  test('one visit installs the service worker, which caches the shell and the protocols', async (t) => {
    await home();
    // skipWaiting + clients.claim: the first visit's page is controlled as soon as the worker is ready.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
    const cached = await page.evaluate(async () => {
      const urls = [];
      for (const name of await caches.keys()) {
        const cache = await caches.open(name);
        for (const req of await cache.keys()) urls.push(new URL(req.url).pathname);
      }
      return { names: await caches.keys(), urls };
    });
    for (const path of ['/', '/index.html', '/app.js', '/style.css', '/rollcoach.wasm', '/manifest.webmanifest',
      '/icon-192.png', '/icon-512.png', '/api/protocols', '/api/protocols/upper-back']) {
      assert.ok(cached.urls.includes(path), `${path} not cached: ${cached.urls.join(' ')}`);
    }
    assert.equal(cached.names.filter((n) => n.includes(':shell:')).length, 1, `one shell cache: ${cached.names}`);
    // For contrast with the offline start below: the same with the server up
    // (the shell from the worker's cache, the protocols from the network).
    const times = [];
    for (let i = 0; i < 11; i += 1) {
      await page.reload();
      await page.waitForSelector('body[data-ready=true][data-route=home]');
      times.push(await page.evaluate(() => window.__homeReadyAt));
    }
    t.diagnostic(`online start, navigation to home usable (ms, ${times.length} reloads): median ${median(times).toFixed(1)}, min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}`);
  });

  test('the manifest is valid, the page installable, and the icons load', async () => {
    const cdp = await browser.context.newCDPSession(page);
    const manifest = await cdp.send('Page.getAppManifest');
    assert.deepEqual(manifest.errors, [], 'the manifest parses without errors');
    assert.ok(manifest.url.endsWith('/manifest.webmanifest'), manifest.url);
    const m = JSON.parse(manifest.data);
    assert.equal(m.name, 'rollcoach');
    assert.equal(m.display, 'standalone');
    const theme = await page.getAttribute('meta[name=theme-color]', 'content');
    assert.equal(m.theme_color, theme, 'the manifest and the page have one theme colour');
    const installable = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installable.installabilityErrors, [], 'Chromium finds nothing that keeps it from installing the app');
    await cdp.detach();
    // Each icon decodes at the size the manifest gives it.
    const icons = await page.evaluate(async (list) => Promise.all(list.map(async (icon) => {
      const img = new Image();
      img.src = new URL(icon.src, new URL('manifest.webmanifest', location.href)).href;
      await img.decode();
      return { src: icon.src, sizes: icon.sizes, got: `${img.naturalWidth}x${img.naturalHeight}`, type: icon.type };
    })), m.icons);
    for (const icon of icons) {
      if (icon.type === 'image/png') assert.equal(icon.got, icon.sizes, icon.src);
    }
    assert.ok(icons.some((i) => i.sizes === '192x192') && icons.some((i) => i.sizes === '512x512'), JSON.stringify(icons));
    // A secure context shows no plain-http note.
    assert.equal(await page.locator('#pwa-insecure').count(), 0);
  });

  test('the install offer is accessible, and "Not now" is remembered', async () => {
    // Chromium's own beforeinstallprompt may have come already; if not, one like it.
    await page.evaluate(() => {
      if (document.getElementById('pwa-install')) return;
      const e = new Event('beforeinstallprompt', { cancelable: true });
      e.prompt = async () => ({ outcome: 'dismissed' });
      window.dispatchEvent(e);
    });
    const offer = page.locator('#pwa-install');
    await offer.waitFor();
    assert.match(await offer.textContent(), /Install rollcoach as an app/);
    assert.deepEqual(await axeViolations(page), [], 'home with the install offer: serious or critical accessibility violations');
    await offer.locator('button', { hasText: 'Not now' }).click();
    assert.equal(await offer.count(), 0);
    await page.reload();
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    await page.evaluate(() => {
      const e = new Event('beforeinstallprompt', { cancelable: true });
      e.prompt = async () => ({ outcome: 'dismissed' });
      window.dispatchEvent(e);
    });
    assert.equal(await page.locator('#pwa-install').count(), 0, 'not offered again after "Not now"');
  });

  test('with the server stopped and the browser offline, the app opens from the service worker', async (t) => {
    await server.stop();
    await browser.context.setOffline(true);
    // Truly offline: what the worker does not keep fails.
    const reached = await page.evaluate(async () => {
      try { await fetch('/api/history'); return true; } catch { return false; }
    });
    assert.equal(reached, false, 'the network is gone');
    const times = [];
    for (let i = 0; i < 11; i += 1) {
      await page.reload();
      await page.waitForSelector('body[data-ready=true][data-route=home]', { timeout: 10000 });
      times.push(await page.evaluate(() => window.__homeReadyAt));
    }
    assert.match(await page.textContent('[data-protocol=upper-back] h2'), /Foam rolling the upper back/);
    await screenshot(page, 'offline-home');
    assert.deepEqual(await axeViolations(page), [], 'offline home: serious or critical accessibility violations');
    // The figure for BENCHMARKS.md ("Offline start"): navigation to the home
    // screen usable, served by the worker with no network.
    t.diagnostic(`offline start, navigation to home usable (ms, ${times.length} reloads): median ${median(times).toFixed(1)}, min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}`);
  });

  // The engine runs in the page (its wasm module), the session is kept in
  // IndexedDB, and it syncs to the server once the server is back.
  test('offline, a whole session runs in the page; with the server back it syncs and history shows it', async (t) => {
    await browser.context.setOffline(true);
    await page.goto(`${origin}/#/`);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    const usable = await page.evaluate(() => performance.now());
    await page.evaluate(() => { window.__spoken.length = 0; window.__utterances.length = 0; window.__clicks.length = 0; });
    await page.click('[data-protocol=upper-back] button[type=submit]');
    // Offline start (a figure, not an assertion): from navigation to the
    // home screen usable, and from the Start tap to the first spoken cue.
    await page.waitForFunction(() => window.__utterances.length > 0);
    const first = await page.evaluate(() => ({
      tap: window.__clicks[0].at, cue: window.__utterances[0].start, text: window.__utterances[0].text,
    }));
    t.diagnostic(`offline: home usable ${usable.toFixed(1)} ms after navigation; first cue ("${first.text.slice(0, 30)}...") `
      + `${(first.cue - first.tap).toFixed(1)} ms after the Start tap`);
    // The safety questions first, then the reasons.
    for (let i = 1; i <= 3; i += 1) {
      await page.waitForSelector(`.prompt .count:text-is("Question ${i} of 3")`);
      await page.click('button.no:not([disabled])');
    }
    await page.check('#r-upper-back-soreness');
    await page.click('#reasons-go');
    await page.waitForSelector('.prompt .scale');
    await page.click('.prompt .scale button:text-is("6")');
    await page.locator('.prompt .count', { hasText: /^Step 1 of \d+$/ }).waitFor();
    const steps = Number((await page.textContent('.prompt .count')).match(/of (\d+)/)[1]);
    for (let i = 1; i <= steps; i += 1) {
      await page.waitForSelector(`.prompt .count:text-is("Step ${i} of ${steps}")`);
      await page.click('button.go:not([disabled])');
    }
    await page.waitForSelector('#pacer[data-state=moving]');
    await page.waitForSelector('.prompt .count:text-is("After rolling")', { timeout: 30000 });
    await page.click('.prompt .scale button:text-is("3")');
    await page.waitForSelector('#end-message');
    const end = await page.textContent('#end-message');
    // Said a moment after it is shown (the voice is driven by its own timer).
    await page.waitForFunction((m) => window.__spoken.includes(m), end.trim(), { timeout: 5000 }).catch(() => {});
    const said = await page.evaluate(() => window.__spoken.slice());
    assert.ok(said.length > 12, `every cue spoken: ${said.join(' | ')}`);
    assert.equal(said[said.length - 1], end.trim(), 'the end message is said last');

    // The server comes back on the same origin: the page syncs the session.
    server = await serveAgain(db, origin);
    await browser.context.setOffline(false);
    await page.goto(`${origin}/#/`);
    const deadline = Date.now() + 20000;
    let history;
    for (;;) {
      history = JSON.parse(execFileSync(BINARY, ['--db', db, 'history', '--json'], { encoding: 'utf8' }));
      if (history.sessions.length > 0 || Date.now() > deadline) break;
      await new Promise((ok) => setTimeout(ok, 250));
    }
    assert.equal(history.sessions.length, 1, 'the session synced');
    const s = history.sessions[0];
    assert.equal(s.reps_done, 6);
    const soreness = s.ratings.find((r) => r.id === 'upper-back-soreness');
    assert.equal(soreness.before, 6);
    assert.equal(soreness.after, 3);
  });
});

describe('over plain http from another host (an insecure context)', () => {
  let dir;
  let server;
  let browser;
  let page;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcoach-insecure-'));
    // --lan on loopback: the page needs pairing, as a phone on the LAN does.
    server = await serve(join(dir, 'rollcoach.db'), '127.0.0.1:0', ['--lan']);
    // A LAN name for loopback: http://rollcoach.test is not a secure context.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
        '--host-resolver-rules=MAP rollcoach.test 127.0.0.1'],
    });
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } });
    page = await context.newPage();
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the page says what it cannot do over plain http, and how to get it', async () => {
    const pairing = server.output().match(/Pair your phone \(one time only\): (\S+)/)[1];
    const url = new URL(pairing);
    url.hostname = 'rollcoach.test';
    await page.goto(url.href);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    const note = page.locator('#pwa-insecure');
    await note.waitFor();
    // Collapsed: one line that says it all, the rest on demand.
    assert.match(await note.locator('summary').textContent(), /no install, no offline use, the screen may sleep/);
    await note.locator('summary').click();
    const text = await note.textContent();
    for (const needle of ['Sessions still run on this phone', 'installing rollcoach', 'no network', 'keeping the screen on',
      'rollcoach serve --lan --tls-cert FILE --tls-key FILE', 'reverse proxy', 'rollcoach web export DIR']) {
      assert.ok(text.includes(needle), `the note says "${needle}": ${text}`);
    }
    await screenshot(page, 'insecure-note');
    assert.deepEqual(await axeViolations(page), [], 'plain http note: serious or critical accessibility violations');
    assert.equal(await page.evaluate(() => navigator.serviceWorker === undefined
      || navigator.serviceWorker.controller === null), true, 'no service worker over plain http');
  });
});

describe('the static app from rollcoach web export, on a plain static file server', () => {
  let dir;
  let files;
  let browser;
  let page;
  let url;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcoach-static-'));
    execFileSync(BINARY, ['web', 'export', join(dir, 'site'), '--speed', '20'], {
      env: { ...process.env, ROLLCOACH_PROTOCOLS: join(dir, 'no-protocols') },
    });
    // Python's http.server: a real static server that knows nothing of
    // rollcoach (folders redirect to their slash and serve index.html).
    files = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', join(dir, 'site')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    url = await new Promise((ok, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`http.server printed no port: ${out}`)), 20000);
      files.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/port (\d+)/);
        if (m) { clearTimeout(timer); ok(`http://127.0.0.1:${m[1]}`); }
      });
      files.on('exit', (code) => { clearTimeout(timer); fail(new Error(`http.server exited with ${code}`)); });
    });
    browser = await launch();
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (files && files.exitCode === null && files.signalCode === null) {
      const gone = new Promise((ok) => files.on('exit', ok));
      files.kill('SIGTERM');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('opens with no rollcoach server, then offline from its service worker', async () => {
    await page.goto(`${url}/#/`);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    assert.match(await page.textContent('[data-protocol=upper-back] h2'), /Foam rolling the upper back/);
    assert.deepEqual(await page.evaluate(async () => (await fetch('api/config')).json()), { speed: 20, sync: false });
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 20000 });
    await browser.context.setOffline(true);
    await page.reload();
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    assert.match(await page.textContent('[data-protocol=upper-back] h2'), /Foam rolling the upper back/);
    assert.deepEqual(browser.errors, []);
  });

  test('a new version waits, is offered on the home screen, and replaces the old cache', async () => {
    await browser.context.setOffline(false);
    await page.goto(`${url}/#/`);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    const before = await page.evaluate(async () => (await caches.keys()).filter((n) => n.includes(':shell:')));
    assert.equal(before.length, 1, String(before));
    // A new export: another shell version in the worker.
    const sw = join(dir, 'site', 'sw.js');
    const text = readFileSync(sw, 'utf8');
    const next = text.replace(/"version":"([0-9a-f]+)"/, '"version":"0000000000000000"');
    assert.notEqual(next, text);
    writeFileSync(sw, next);
    await page.reload();
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    const offer = page.locator('#pwa-update');
    await offer.waitFor({ timeout: 20000 });
    assert.match(await offer.textContent(), /A new version of rollcoach is ready/);
    // The old worker still serves this page until the person reloads.
    assert.deepEqual(await axeViolations(page), [], 'home with the update offer: serious or critical accessibility violations');
    await Promise.all([
      page.waitForEvent('load'),
      offer.locator('button', { hasText: 'Reload to use it' }).click(),
    ]);
    await page.waitForSelector('body[data-ready=true][data-route=home]');
    await page.waitForFunction(async () => {
      const names = (await caches.keys()).filter((n) => n.includes(':shell:'));
      return names.length === 1 && names[0].endsWith(':0000000000000000');
    }, null, { timeout: 20000 });
    assert.equal(await page.locator('#pwa-update').count(), 0);
  });
});
