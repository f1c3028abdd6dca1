// A coach in a real browser (issue 20): the owner's Home shows nothing new;
// `rollcoach coach add` prints a sign-in link that opens the app as the
// coach's, whose Home has a Clients panel: set a password, make an invite
// (link and QR code) that another browser opens as a new client, see the
// client and their device, and revoke it. A browser that is not let in
// signs in with the coach's name and password on the not-paired page. The
// owner adds a coach on the page too (inside Devices, so a person who never
// opens it sees nothing new). All of it on the embedded SQLite default and
// on PostgreSQL (a fresh database on the test server; skipped without one,
// except under CI=true).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, launch, postgresDatabase, rollcoach, screenshot, startServer } from './helpers.js';

async function home(page, url) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready=true][data-route=home]');
}

for (const backend of ['SQLite', 'PostgreSQL']) describe(`coach, on ${backend}`, () => {
  let server;
  let owner;
  let coach;
  let client;
  let other;
  let skip = false;
  const shot = (name) => (backend === 'SQLite' ? name : `${name}-postgres`);

  before(async () => {
    let database = null;
    if (backend === 'PostgreSQL') {
      database = await postgresDatabase();
      if (!database) { skip = true; return; }
    }
    server = await startServer({ speed: 20, database });
    owner = await launch(server);
  });

  after(async () => {
    for (const b of [other, client, coach, owner]) if (b) await b.close();
    if (server) await server.stop();
  });

  test('the owner\'s Home has no Clients panel and the not-paired page no sign-in form without coaches', async (t) => {
    if (skip) { t.skip('no PostgreSQL test server (ROLLCOACH_TEST_POSTGRES)'); return; }
    await home(owner.page, `${server.url}/#/`);
    await owner.page.waitForSelector('#devices');
    // The account answer has come and gone: still no panel.
    await owner.page.evaluate(async () => (await fetch('/api/account')).json());
    assert.equal(await owner.page.locator('#clients').count(), 0);
    other = await launch();
    const resp = await other.page.goto(`${server.url}/`);
    assert.equal(resp.status(), 401);
    assert.equal(await other.page.locator('form').count(), 0);
    await other.close();
    other = null;
  });

  test('a coach sets a password, invites a client who joins, and revokes the client\'s phone', async (t) => {
    if (skip) { t.skip('no PostgreSQL test server (ROLLCOACH_TEST_POSTGRES)'); return; }
    const out = await rollcoach(['--db', server.db, 'coach', 'add', 'Ana', '--url', server.url]);
    const link = out.match(/sign-in link[^:]*: (\S+)/)[1];
    coach = await launch();
    await home(coach.page, link);
    const { page } = coach;
    await page.waitForSelector('#clients');
    await page.locator('#clients summary').click();
    await page.waitForSelector('#clients-body p, #clients-list');
    assert.match(await page.textContent('#clients-body'), /No clients yet/);
    assert.deepEqual(await axeViolations(page), [], 'Clients: serious or critical accessibility violations');

    await page.fill('#coach-password', 'correct horse battery');
    await page.click('#password-form button');
    await page.waitForFunction(() => /Password set/.test(document.querySelector('#password-note').textContent));

    await page.fill('#invite-name', 'Cleo');
    await page.click('#invite-form button');
    await page.waitForSelector('#invite-url');
    const invite = await page.getAttribute('#invite-url', 'href');
    assert.match(invite, /\/join\?token=[0-9a-f]{32}$/);
    assert.ok((await page.getAttribute('#invite-qr', 'src')).startsWith('data:image/svg+xml,'));
    await screenshot(page, shot('coach-invite'));

    client = await launch();
    await home(client.page, invite);
    const me = await client.page.evaluate(async () => (await fetch('/api/account')).json());
    assert.equal(me.role, 'client');
    assert.equal(me.name, 'Cleo');
    assert.equal(await client.page.locator('#clients').count(), 0, 'a client has no Clients panel');

    await home(page, `${server.url}/#/`);
    await page.locator('#clients summary').click();
    await page.waitForSelector('#clients-list li[data-client]');
    assert.match(await page.textContent('#clients-list'), /Cleo/);
    await page.locator('#clients-list li[data-device] button').click();
    await page.waitForSelector('#clients-list li[data-device].revoked');
    assert.equal(await client.page.evaluate(async () => (await fetch('/api/history')).status), 401);
  });

  test('a browser that is not let in signs in as the coach on the not-paired page', async (t) => {
    if (skip) { t.skip('no PostgreSQL test server (ROLLCOACH_TEST_POSTGRES)'); return; }
    other = await launch();
    const resp = await other.page.goto(`${server.url}/`);
    assert.equal(resp.status(), 401);
    await other.page.fill('input[name=name]', 'ana');
    await other.page.fill('input[name=password]', 'wrong password here');
    await other.page.click('form button');
    await other.page.waitForSelector('[role=alert]');
    assert.match(await other.page.textContent('[role=alert]'), /wrong name or password/);
    await other.page.fill('input[name=name]', 'ana');
    await other.page.fill('input[name=password]', 'correct horse battery');
    await other.page.click('form button');
    await other.page.waitForSelector('body[data-ready=true][data-route=home]');
    await other.page.waitForSelector('#clients');
  });

  test('the owner adds a coach on the page, inside Devices, and the link signs that coach in', async (t) => {
    if (skip) { t.skip('no PostgreSQL test server (ROLLCOACH_TEST_POSTGRES)'); return; }
    const { page } = owner;
    await home(page, `${server.url}/#/`);
    await page.locator('#devices summary').click();
    await page.waitForSelector('#coaches-list li[data-coach]');
    assert.match(await page.textContent('#coaches-list'), /Ana/);
    assert.deepEqual(await axeViolations(page), [], 'Coaches: serious or critical accessibility violations');
    await page.fill('#coach-name', 'Bea');
    await page.click('#coach-form button');
    await page.waitForSelector('#coach-url');
    await page.waitForFunction(() => document.querySelector('#coaches-list').textContent.includes('Bea'));
    await screenshot(page, shot('owner-adds-coach'));
    const link = await page.getAttribute('#coach-url', 'href');
    // A name taken (in another case) is refused, saying so.
    await page.fill('#coach-name', 'bea');
    await page.click('#coach-form button');
    await page.waitForSelector('#coaches-error:not([hidden])');
    assert.match(await page.textContent('#coaches-error'), /Bea|taken|already/i);

    const bea = await launch();
    try {
      await home(bea.page, link);
      await bea.page.waitForSelector('#clients');
      const me = await bea.page.evaluate(async () => (await fetch('/api/account')).json());
      assert.equal(me.role, 'coach');
      assert.equal(me.name, 'Bea');
      // A coach's Devices has no Coaches section: only the owner adds coaches.
      await bea.page.locator('#devices summary').click();
      await bea.page.waitForSelector('#devices-list');
      assert.equal(await bea.page.locator('#coach-form').count(), 0);
    } finally {
      await bea.close();
    }
  });
});
