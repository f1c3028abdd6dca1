// Devices and tokens in a real browser (issue 13, findings 7 and 8): the
// page on loopback needs the link `rollcoach serve` printed; Devices on
// Home lists the devices, makes a one-time link that pairs another browser,
// and revokes one, which is refused from its next request.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, launch, rollcoach, screenshot, startServer } from './helpers.js';

let server;
let browser;
let other;

before(async () => {
  server = await startServer({ speed: 20 });
  browser = await launch(server);
});

after(async () => {
  if (other) await other.close();
  if (browser) await browser.close();
  if (server) await server.stop();
});

// Home, loaded afresh, with Devices opened and filled.
async function openDevices(page) {
  await page.goto(`${server.url}/#/`);
  await page.reload();
  await page.waitForSelector('body[data-ready=true][data-route=home]');
  await page.locator('#devices summary').click();
  await page.waitForSelector('#devices-list li, #devices-error:not([hidden])');
}

describe('devices', () => {
  test('a browser that has not opened the printed link gets no page and no export', async () => {
    other = await launch();
    const resp = await other.page.goto(`${server.url}/`);
    assert.equal(resp.status(), 401);
    assert.match(await other.page.textContent('h1'), /not paired/);
    assert.match(await other.page.textContent('body'), /rollcoach serve/);
    const exported = await other.page.evaluate(async () => (await fetch('/api/export')).status);
    assert.equal(exported, 401);
    await other.close();
    other = null;
  });

  test('Devices lists this browser, and a link it makes pairs another that is then revoked', async () => {
    const { page } = browser;
    await openDevices(page);
    const rows = page.locator('#devices-list li');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().textContent(), /this device/);
    assert.deepEqual(await axeViolations(page), [], 'Devices: serious or critical accessibility violations');

    await page.click('#pair-another');
    await page.waitForSelector('#pair-url');
    const link = await page.getAttribute('#pair-url', 'href');
    assert.match(link, /\/pair\?token=[0-9a-f]{32}$/);
    assert.ok((await page.getAttribute('#pair-qr', 'src')).startsWith('data:image/svg+xml,'));
    await screenshot(page, 'devices-pairing-link');

    // Another browser opens the link: paired, the app opens.
    other = await launch();
    await other.page.goto(link);
    await other.page.waitForSelector('body[data-ready=true][data-route=home]');
    assert.equal(await other.page.evaluate(async () => (await fetch('/api/history')).status), 200);
    // The link is spent.
    assert.equal((await (await fetch(link, { redirect: 'manual' })).status), 401);

    // The terminal sees both.
    const listed = JSON.parse(await rollcoach(['--db', server.db, 'devices', 'list', '--json']));
    assert.equal(listed.length, 2);

    // Revoked from the first browser: the other is refused at once.
    await openDevices(page);
    assert.equal(await rows.count(), 2);
    const second = rows.filter({ hasNotText: 'this device' });
    await second.locator('button').click();
    await page.waitForSelector('#devices-list li.revoked');
    assert.match(await page.locator('#devices-list li.revoked').textContent(), /Revoked/);
    assert.equal(await other.page.evaluate(async () => (await fetch('/api/history')).status), 401);
    // Its Devices screen says so.
    await openDevices(other.page);
    assert.match(await other.page.textContent('#devices-error'), /not paired/);
    // This one goes on.
    assert.equal(await page.evaluate(async () => (await fetch('/api/history')).status), 200);
  });
});
