// rollcoach's phone page: a tiny hash router over five screens.

import { api, el, localTime } from './api.js';

// A time the server computed, shown in local time, machine-readable too.
function timeEl(ms) {
  return el('time', { datetime: new Date(ms).toISOString() }, localTime(ms));
}
import { speaker } from './speech.js';
import { turns } from './turns.js';
import { SessionView, activeSession, recoverUnfinished } from './session.js';
import { renderHistory } from './history.js';
import { renderHandout } from './handout.js';
import * as local from './local.js';
import { speed as serverSpeed, hasServer, keepSyncing, syncBriefly, syncNow } from './sync.js';
import { injuryBlock, injuryTime } from './runner.js';

const view = document.getElementById('view');
const live = document.getElementById('live');
const alertRegion = document.getElementById('alert');
let current = null; // the SessionView on screen, if any

function announce(text) {
  live.textContent = text;
}

function alert(text) {
  alertRegion.textContent = text;
}

function showError(root, message) {
  root.append(el('p', { class: 'error', role: 'alert' }, message));
}

// ----- protocols, from the server or as last served -------------------------

// The protocols: from the server when it answers (then kept on the phone),
// else as last served. Each: { id, brief, protocol, rules }.
export async function loadProtocols() {
  try {
    const briefs = await api('/api/protocols');
    const list = [];
    for (const brief of briefs) {
      // eslint-disable-next-line no-await-in-loop
      const { protocol, rules } = await api(`/api/protocols/${encodeURIComponent(brief.id)}`);
      list.push({ id: brief.id, brief, protocol, rules });
    }
    await local.putProtocols(list);
    return list;
  } catch (err) {
    const kept = await local.protocols();
    if (kept.length) return kept;
    throw err;
  }
}


// ----- home -----------------------------------------------------------------

async function renderHome(root) {
  root.replaceChildren(el('h1', { tabindex: '-1' }, 'rollcoach'));
  const back = liveSessionCard();
  if (back) root.append(back);
  await syncBriefly();
  const now = Date.now();
  for (const entry of await loadProtocols()) {
    // The injury block, from the phone's injury log by the engine's rule.
    // eslint-disable-next-line no-await-in-loop
    const block = await injuryBlock(entry.protocol, await local.injuryFacts(entry.protocol.area), now);
    root.append(protocolCard(entry.brief, entry.protocol, block));
  }
  root.append(voiceSettings(), devicesSettings());
  // Only a coach's page has more: the panel comes when the server says so.
  const heading = root.firstChild;
  coachPanel().then((panel) => {
    if (panel && heading.isConnected) root.append(panel);
  });
}

// The session this page left while it was still going, if it still is.
function liveSessionCard() {
  const s = activeSession();
  if (!s) return null;
  return el('section', { class: 'card live-session', id: 'live-session', 'aria-labelledby': 'live-session-h' },
    el('h2', { id: 'live-session-h' }, 'A session is still going'),
    el('p', {}, 'You left it before it ended. Return to it to go on or to stop it.'),
    el('a', { class: 'big link', href: `#/session/${encodeURIComponent(s.uid)}` }, 'Return to the session'));
}

// The options chosen on Home for the session about to start.
let draft = null;

function protocolCard(brief, p, blocked) {
  const id = p.id;
  const card = el('section', { class: 'card', 'aria-labelledby': `t-${id}`, 'data-protocol': id });
  card.append(el('h2', { id: `t-${id}` }, p.title));
  if (blocked) {
    // The block first: it is what the person needs to know now.
    card.append(el('div', { class: 'blocked', role: 'status', id: `blocked-${id}` },
      el('p', {}, el('strong', {}, `Not now: an injury was logged in this area on ${localTime(blocked.injured_at)}, within this protocol's ${blocked.window_hours} hours.`)),
      el('p', {}, blocked.message),
      el('p', { class: 'until' }, 'Allowed again from ', timeEl(blocked.allowed_at), '.'),
      el('a', { href: '#/injuries', class: 'link' }, 'See the injury log')));
  }
  card.append(
    el('p', {}, p.summary),
    el('p', { class: 'meta' }, `${p.movement.reps.min}-${p.movement.reps.max} reps · about ${Math.round(brief.estimated_seconds)} s of rolling · ${p.credit.text}`),
  );
  if (blocked) return card;
  const form = el('form', { class: 'start' });
  // Reps
  const repsSel = el('select', { id: `reps-${id}`, name: 'reps' });
  for (let n = p.movement.reps.min; n <= p.movement.reps.max; n += 1) {
    repsSel.append(el('option', { value: String(n), selected: n === p.movement.reps.default }, String(n)));
  }
  // Tempo
  const t = p.movement.tempo;
  const tempoSel = el('select', { id: `tempo-${id}`, name: 'tempo' });
  for (let s = t.min_seconds; s <= t.max_seconds + 1e-9; s += 0.5) {
    tempoSel.append(el('option', { value: String(s), selected: Math.abs(s - t.default_seconds) < 1e-9 }, `${s} s`));
  }
  // Instrument
  const instr = el('fieldset', {}, el('legend', {}, 'Instrument'));
  for (const i of p.instruments) {
    const iid = `i-${id}-${i.id}`;
    instr.append(el('div', { class: 'check' },
      el('input', { type: 'radio', id: iid, name: 'instrument', value: i.id, checked: i.id === p.default_instrument }),
      el('label', { for: iid }, i.name)));
  }
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  form.append(
    el('div', { class: 'pair' },
      el('label', { for: `reps-${id}` }, 'Reps'), repsSel,
      el('label', { for: `tempo-${id}` }, 'Seconds each way'), tempoSel),
    instr,
    error,
    el('button', { class: 'big go', type: 'submit' }, 'Start'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    // A user gesture: lets the browser speak and sound later without another tap.
    speaker.unlock();
    turns.unlock();
    // The safety questions come first, then the reasons: the session screen asks them.
    draft = {
      reps: Number(data.get('reps')),
      tempo_seconds: Number(data.get('tempo')),
      instrument: data.get('instrument'),
    };
    error.hidden = true;
    location.hash = `#/session/new/${encodeURIComponent(id)}`;
  });
  card.append(form, el('p', {}, el('a', { href: `#/handout/${encodeURIComponent(id)}`, class: 'link' }, 'Read the handout')));
  return card;
}

function voiceSettings() {
  const box = el('details', { class: 'card voice' }, el('summary', {}, 'Voice'));
  // Tones and buzzes at each turn: for eyes closed, with or without speech.
  const tones = el('input', { type: 'checkbox', id: 'turns-on', checked: turns.enabled,
    onchange: () => { turns.enabled = tones.checked; if (tones.checked) turns.unlock(); } });
  const tonesRow = el('div', { class: 'check' }, tones,
    el('label', { for: 'turns-on' }, 'A tone and a buzz at each turn (one for in, two for out)'));
  // iPhone and iPad browsers cannot vibrate: say so, the tones still mark each turn.
  if (!navigator.vibrate) {
    tonesRow.append(el('p', { class: 'hint', id: 'no-vibrate' },
      'This browser cannot vibrate (iPhone and iPad browsers cannot): the tone marks each turn.'));
  }
  if (!speaker.supported) {
    box.append(el('p', {}, 'This browser cannot speak; cues are shown on screen only.'), tonesRow);
    return box;
  }
  const on = el('input', { type: 'checkbox', id: 'speech-on', checked: speaker.enabled,
    onchange: () => { speaker.enabled = on.checked; } });
  const sel = el('select', { id: 'voice', onchange: () => { speaker.voiceName = sel.value; } });
  const fill = () => {
    sel.replaceChildren(el('option', { value: '' }, 'Default voice'));
    for (const v of speaker.voices()) {
      sel.append(el('option', { value: v.name, selected: v.name === speaker.voiceName }, `${v.name} (${v.lang})`));
    }
  };
  fill();
  if (window.speechSynthesis) window.speechSynthesis.addEventListener('voiceschanged', fill);
  const rateOut = el('output', { for: 'rate', id: 'rate-out' }, `${speaker.rate.toFixed(1)}x`);
  const rate = el('input', { type: 'range', id: 'rate', min: '0.5', max: '2', step: '0.1', value: String(speaker.rate),
    oninput: () => { speaker.rate = Number(rate.value); rateOut.textContent = `${Number(rate.value).toFixed(1)}x`; } });
  box.append(
    el('div', { class: 'check' }, on, el('label', { for: 'speech-on' }, 'Speak the cues')),
    tonesRow,
    el('label', { for: 'voice' }, 'Voice'), sel,
    el('label', { for: 'rate' }, 'Rate '), rateOut, rate,
    el('button', { class: 'big calm', type: 'button', onclick: () => speaker.try('Breathe in, roll toward your neck.') }, 'Try it'),
  );
  return box;
}

// ----- devices ---------------------------------------------------------------

// The devices `rollcoach serve` lets in (GET /api/devices): revoke one, or
// make a one-time link (and its QR code) that pairs another.
function devicesSettings() {
  const box = el('details', { class: 'card devices', id: 'devices' }, el('summary', {}, 'Devices'));
  const body = el('div', { id: 'devices-body' });
  const status = el('p', { class: 'error', role: 'alert', id: 'devices-error', hidden: true });
  const fail = (err) => {
    status.textContent = err.status === 401
      ? 'This device is not paired with the computer (or it was revoked). Open a new pairing link: `rollcoach pair` on the computer prints one.'
      : `Devices: ${err.message}`;
    status.hidden = false;
  };
  const link = el('div', { id: 'pair-link' });
  const pairButton = el('button', { class: 'big calm', type: 'button', id: 'pair-another',
    onclick: async () => {
      status.hidden = true;
      try {
        const made = await api('/api/devices/pairing', { method: 'POST' });
        const url = made.url || `${location.origin}${made.path}`;
        link.replaceChildren(
          el('p', {}, 'Open this link on the other device, or scan the code with its camera. It pairs one device, until ', timeEl(made.expires_at), '.'),
          made.qr_svg ? el('img', { class: 'qr', id: 'pair-qr', alt: `QR code of the pairing link ${url}`,
            src: `data:image/svg+xml,${encodeURIComponent(made.qr_svg)}` }) : null,
          el('p', {}, el('a', { class: 'link', id: 'pair-url', href: url }, url)));
        announce('Pairing link made.');
        await fill();
      } catch (err) {
        fail(err);
      }
    } }, 'Pair another device');
  const fill = async () => {
    const { devices } = await api('/api/devices');
    const list = el('ul', { class: 'devices', id: 'devices-list' });
    for (const d of devices) {
      const revoke = d.revoked_at ? null : el('button', { class: 'big calm', type: 'button',
        'aria-label': d.this_device ? `Revoke this device (${d.name}, ${d.id})` : `Revoke ${d.name} (${d.id})`,
        onclick: async () => {
          status.hidden = true;
          try {
            await api(`/api/devices/${encodeURIComponent(d.id)}`, { method: 'DELETE' });
            announce(`${d.name} revoked.`);
            await fill();
          } catch (err) {
            fail(err);
          }
        } }, d.this_device ? 'Revoke this device' : 'Revoke');
      list.append(el('li', { class: d.revoked_at ? 'revoked' : '', 'data-device': d.id },
        el('p', {}, el('strong', {}, d.name), d.this_device ? ' · this device' : '', ` · ${d.id}`),
        el('p', { class: 'meta' }, 'Paired ', timeEl(d.created_at),
          d.last_seen_at ? [', last seen ', timeEl(d.last_seen_at)] : null, `, by ${d.via}.`),
        d.revoked_at ? el('p', {}, 'Revoked ', timeEl(d.revoked_at), '.') : null,
        revoke));
    }
    body.replaceChildren(devices.length ? list : el('p', {}, 'No devices.'));
  };
  const coaches = el('div', { id: 'owner-coaches' });
  box.addEventListener('toggle', async () => {
    if (!box.open) return;
    status.hidden = true;
    try {
      await fill();
      await ownerCoaches(coaches);
    } catch (err) {
      fail(err);
    }
  });
  box.append(
    el('p', {}, 'The phones and browsers that may use this rollcoach. A revoked device is refused from its next request.'),
    status, body, pairButton, link, coaches);
  return box;
}

// Who this page's caller is (GET /api/account), or null where nobody can
// say: a static host or an offline phone has no accounts to ask about, and
// a failed request is the same as none.
async function account() {
  if (!(await hasServer())) return null;
  try {
    return await api('/api/account');
  } catch {
    return null;
  }
}

// For the server's owner only, inside Devices: the coaches this server
// lets in, and a form that adds one (POST /api/coaches) and shows their
// one-time sign-in link. Nobody else, and no static host, sees it.
async function ownerCoaches(into) {
  if (into.childElementCount) return;
  const me = await account();
  if (!me || me.role !== 'owner') return;
  const status = el('p', { class: 'error', role: 'alert', id: 'coaches-error', hidden: true });
  const list = el('ul', { class: 'devices', id: 'coaches-list' });
  const made = el('div', { id: 'coach-link' });
  const show = async () => {
    const { coaches } = await api('/api/coaches');
    list.replaceChildren(...coaches.map((c) => el('li', { 'data-coach': c.id },
      el('p', {}, el('strong', {}, c.name), ` · ${c.id}`),
      el('p', { class: 'meta' }, 'Added ', timeEl(c.created_at), '.'))));
  };
  const name = el('input', { type: 'text', id: 'coach-name', maxlength: '80', autocomplete: 'off', required: true });
  const form = el('form', { id: 'coach-form',
    onsubmit: async (e) => {
      e.preventDefault();
      status.hidden = true;
      try {
        const coach = await api('/api/coaches', { method: 'POST', body: { name: name.value.trim() } });
        name.value = '';
        made.replaceChildren(
          el('p', {}, `Give ${coach.name} this link. It signs in one browser as theirs, within an hour; there they set a password.`),
          el('p', {}, el('a', { class: 'link', id: 'coach-url', href: coach.sign_in_link }, coach.sign_in_link)));
        announce(`Coach ${coach.name} added.`);
        await show();
      } catch (err) {
        status.textContent = `Coaches: ${err.message}`;
        status.hidden = false;
      }
    } },
  el('label', { for: 'coach-name' }, 'Coach\'s name'), name,
  el('button', { class: 'big calm', type: 'submit' }, 'Add a coach'));
  await show();
  into.replaceChildren(
    el('h3', {}, 'Coaches'),
    el('p', {}, 'A coach you add signs in here and invites their clients; each client sees only their own sessions, and the coach only their clients.'),
    status, list, form, made);
}

// ----- a coach's clients -----------------------------------------------------

// For a coach (GET /api/account says so): their password, a one-time invite
// (link and QR code) for a new client, and the clients with their devices,
// each of which can be revoked. Anyone else (the owner, a client, a server
// without accounts, no connection) gets nothing.
async function coachPanel() {
  const me = await account();
  if (!me || me.role !== 'coach') return null;
  const box = el('details', { class: 'card clients', id: 'clients' }, el('summary', {}, 'Clients'));
  const status = el('p', { class: 'error', role: 'alert', id: 'clients-error', hidden: true });
  const fail = (err) => {
    status.textContent = `Clients: ${err.message}`;
    status.hidden = false;
  };
  const password = el('input', { type: 'password', id: 'coach-password', autocomplete: 'new-password', minlength: '10', required: true });
  const passwordNote = el('p', { id: 'password-note' }, me.has_password
    ? `You sign in on other browsers as ${me.name}, with your password. Set a new one here.`
    : `Set a password: with it you sign in as ${me.name} on other browsers.`);
  const passwordForm = el('form', { id: 'password-form',
    onsubmit: async (e) => {
      e.preventDefault();
      status.hidden = true;
      try {
        await api('/api/account/password', { method: 'POST', body: { password: password.value } });
        password.value = '';
        passwordNote.textContent = `Password set. You sign in on other browsers as ${me.name}, with it.`;
        announce('Password set.');
      } catch (err) {
        fail(err);
      }
    } },
  el('label', { for: 'coach-password' }, 'Password (at least 10 characters)'), password,
  el('button', { class: 'big calm', type: 'submit' }, 'Set password'));
  const inviteName = el('input', { type: 'text', id: 'invite-name', maxlength: '80', autocomplete: 'off' });
  const invite = el('div', { id: 'invite-link' });
  const inviteForm = el('form', { id: 'invite-form',
    onsubmit: async (e) => {
      e.preventDefault();
      status.hidden = true;
      try {
        const name = inviteName.value.trim();
        const made = await api('/api/coach/invites', { method: 'POST', body: name ? { name } : {} });
        inviteName.value = '';
        invite.replaceChildren(
          el('p', {}, 'Open this link on your client\'s phone, or scan the code with its camera. It lets one person in, until ', timeEl(made.expires_at), '.'),
          made.qr_svg ? el('img', { class: 'qr', id: 'invite-qr', alt: `QR code of the invite ${made.link}`,
            src: `data:image/svg+xml,${encodeURIComponent(made.qr_svg)}` }) : null,
          el('p', {}, el('a', { class: 'link', id: 'invite-url', href: made.link }, made.link)));
        announce('Invite made.');
      } catch (err) {
        fail(err);
      }
    } },
  el('label', { for: 'invite-name' }, 'Client\'s name (optional)'), inviteName,
  el('button', { class: 'big calm', type: 'submit' }, 'Invite a client'));
  const body = el('div', { id: 'clients-body' });
  const fill = async () => {
    const { clients } = await api('/api/coach/clients');
    const list = el('ul', { class: 'devices', id: 'clients-list' });
    for (const c of clients) {
      const id = encodeURIComponent(c.id);
      // eslint-disable-next-line no-await-in-loop
      const { devices } = await api(`/api/coach/clients/${id}/devices`);
      const name = c.name || 'A client';
      list.append(el('li', { 'data-client': c.id },
        el('p', {}, el('strong', {}, name), ` · ${c.id}`),
        el('p', { class: 'meta' }, 'Joined ', timeEl(c.created_at), '.'),
        el('ul', { class: 'devices' }, devices.map((d) => el('li', { class: d.revoked_at ? 'revoked' : '', 'data-device': d.id },
          el('p', {}, el('strong', {}, d.name), ` · ${d.id}`),
          d.revoked_at ? el('p', {}, 'Revoked ', timeEl(d.revoked_at), '.') : el('button', { class: 'big calm', type: 'button',
            'aria-label': `Revoke ${name}'s ${d.name} (${d.id})`,
            onclick: async () => {
              status.hidden = true;
              try {
                await api(`/api/coach/clients/${id}/devices/${encodeURIComponent(d.id)}`, { method: 'DELETE' });
                announce(`${name}'s ${d.name} revoked.`);
                await fill();
              } catch (err) {
                fail(err);
              }
            } }, 'Revoke'))))));
    }
    body.replaceChildren(clients.length ? list : el('p', {}, 'No clients yet.'));
  };
  box.addEventListener('toggle', async () => {
    if (!box.open) return;
    status.hidden = true;
    try {
      await fill();
    } catch (err) {
      fail(err);
    }
  });
  box.append(
    el('p', {}, 'Your clients join with an invite: one link per person, good for a week. Each sees only their own sessions.'),
    status, passwordNote, passwordForm, inviteForm, invite, body);
  return box;
}

// ----- injuries -------------------------------------------------------------

async function renderInjuries(root) {
  root.replaceChildren(el('h1', { tabindex: '-1' }, 'Injuries'));
  await syncBriefly();
  const protocols = await loadProtocols();
  const injuries = (await local.injuries()).sort((a, b) => a.at - b.at || a.created_at - b.created_at);
  const areas = [...new Set(protocols.map((p) => p.protocol.area))];
  // Each protocol's window, as the server serves it.
  const windows = protocols.map((p) => `${p.protocol.title} (${p.protocol.area}): ${p.rules.injury_window_hours} hours`);
  const area = el('select', { id: 'inj-area', name: 'area' }, areas.map((a) => el('option', { value: a }, a)));
  const when = el('input', { type: 'datetime-local', id: 'inj-at', name: 'at' });
  const note = el('input', { type: 'text', id: 'inj-note', name: 'note', maxlength: '500', autocomplete: 'off' });
  const error = el('p', { class: 'error', role: 'alert', hidden: true });
  const form = el('form', { class: 'card', 'aria-labelledby': 'log-h' },
    el('h2', { id: 'log-h' }, 'Log an injury'),
    el('p', { id: 'inj-rule' }, 'The handout says: do not mobilize a recent injury. A logged injury blocks the sessions of its area for each protocol\'s window:'),
    el('ul', { class: 'windows' }, windows.map((w) => el('li', {}, w))),
    el('label', { for: 'inj-area' }, 'Area'), area,
    el('label', { for: 'inj-at' }, 'When (leave empty for now)'), when,
    el('label', { for: 'inj-note' }, 'Note (optional)'), note,
    error,
    el('button', { class: 'big danger', type: 'submit' }, 'Log injury'));
  const again = async (message) => {
    announce(message);
    syncNow();
    await renderInjuries(root);
    root.querySelector('h1').focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      // Kept on the phone (the engine's rule for its time) and synced.
      const now = Date.now();
      const at = await injuryTime(when.value ? new Date(when.value).getTime() : now, now);
      await local.logInjury({ area: area.value, at, note: note.value.trim() || null, now });
      await again('Injury logged.');
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  root.append(form);
  const list = el('ul', { class: 'injuries', id: 'injuries' });
  const now = Date.now();
  for (const inj of [...injuries].reverse()) {
    const blocks = [];
    if (!inj.cleared_at) {
      for (const p of protocols.filter((x) => x.protocol.area === inj.area)) {
        // eslint-disable-next-line no-await-in-loop
        const b = await injuryBlock(p.protocol, [{ at: inj.at, note: null }], now);
        if (b) blocks.push(el('p', { class: 'blocks' }, `Blocks ${p.protocol.title} until `, timeEl(b.allowed_at), '.'));
      }
    }
    list.append(el('li', { class: inj.cleared_at ? 'cleared' : '' },
      el('p', {}, el('strong', {}, inj.area), ` · ${localTime(inj.at)}`),
      inj.note ? el('p', {}, inj.note) : null,
      blocks,
      inj.refused ? el('p', { class: 'error' }, `The computer refused this injury: ${inj.refused}`) : null,
      inj.cleared_at
        ? el('p', {}, `Cleared ${localTime(inj.cleared_at)}`)
        : el('button', { class: 'big calm', type: 'button', 'aria-label': clearLabel(inj, injuries),
          onclick: async () => {
            try {
              await local.putInjury({ ...inj, cleared_at: Date.now(), synced: false });
              await again('Injury cleared.');
            } catch (err) {
              error.textContent = err.message;
              error.hidden = false;
            }
          } }, 'Clear')));
  }
  root.append(el('section', { 'aria-labelledby': 'list-h' }, el('h2', { id: 'list-h' }, 'Logged'),
    injuries.length ? list : el('p', {}, 'No injuries logged.')));
}

// ----- routing --------------------------------------------------------------

// ----- leaving a session ---------------------------------------------------

let shownHash = location.hash || '#/';
let asking = false;

// Asks in the page whether to leave the session that is still going.
function confirmLeave() {
  return new Promise((resolve) => {
    const stay = el('button', { class: 'big go', type: 'button', id: 'leave-stay' }, 'Stay in the session');
    const leave = el('button', { class: 'big calm', type: 'button', id: 'leave-go' }, 'Leave');
    const dialog = el('dialog', { class: 'leave', id: 'leave-dialog', 'aria-labelledby': 'leave-h', 'aria-describedby': 'leave-p' },
      el('h2', { id: 'leave-h' }, 'Leave the session?'),
      el('p', { id: 'leave-p' }, 'It has not ended. If you leave, it pauses, and Home offers it to return to.'),
      el('div', { class: 'row' }, stay, leave));
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    stay.addEventListener('click', () => done(false));
    leave.addEventListener('click', () => done(true));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(dialog);
    dialog.showModal();
    stay.focus();
  });
}

async function leaveTo(target) {
  if (asking) return;
  asking = true;
  const leave = await confirmLeave();
  asking = false;
  if (!leave || !current) return;
  const view = current;
  current = null;
  view.leave();
  location.hash = target;
}

// The top navigation (and any in-page link) asks first mid-session.
document.addEventListener('click', (e) => {
  const a = e.target instanceof Element ? e.target.closest('a[href^="#/"]') : null;
  if (!a || !current || !current.live) return;
  const target = a.getAttribute('href');
  if (target === shownHash) return;
  e.preventDefault();
  leaveTo(target);
}, true);

async function route() {
  shownHash = location.hash || '#/';
  if (current) {
    current.close();
    current = null;
  }
  const hash = location.hash || '#/';
  const parts = hash.slice(2).split('/');
  document.querySelectorAll('nav.main a').forEach((a) => {
    const target = a.getAttribute('href').slice(2).split('/')[0];
    if (target === parts[0]) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  document.body.dataset.route = parts[0] || 'home';
  document.body.dataset.ready = 'false';
  const root = el('div', { class: 'screen' });
  view.replaceChildren(root);
  try {
    if (parts[0] === 'session' && parts[1]) {
      const chosen = draft;
      draft = null;
      current = new SessionView(root, parts.slice(1).join('/'), {
        announce, alert, speed: await speedKnown, draft: chosen,
        // The new session's own address, without a new history entry.
        onStarted: (uid) => {
          shownHash = `#/session/${uid}`;
          history.replaceState(null, '', shownHash);
        },
      });
      document.title = 'Session · rollcoach';
      await current.start();
    } else if (parts[0] === 'history') {
      document.title = 'History · rollcoach';
      await renderHistory(root);
    } else if (parts[0] === 'injuries') {
      document.title = 'Injuries · rollcoach';
      await renderInjuries(root);
    } else if (parts[0] === 'handout') {
      document.title = 'Handout · rollcoach';
      await renderHandout(root, parts[1] ? decodeURIComponent(parts[1]) : null);
    } else {
      document.title = 'rollcoach';
      await renderHome(root);
    }
  } catch (err) {
    showError(root, err.message);
  }
  const h1 = root.querySelector('h1');
  if (h1) h1.focus({ preventScroll: true });
  document.body.dataset.ready = 'true';
}

document.addEventListener('keydown', (e) => {
  // While the page asks whether to leave, keys are the dialog's (Escape: stay).
  if (document.querySelector('dialog[open]')) return;
  if (current && current.onKey(e)) e.preventDefault();
});
window.addEventListener('hashchange', () => {
  // In-page anchors such as the skip link are not routes.
  if (!(location.hash.startsWith('#/') || location.hash === '')) return;
  const target = location.hash || '#/';
  if (current && current.live && target !== shownHash) {
    // Back (or an address typed) mid-session: the session stays on screen
    // and in the address, and the page asks.
    history.pushState(null, '', shownHash);
    leaveTo(target);
    return;
  }
  route();
});
// The session clock's speed (`serve --speed`), asked once.
const speedKnown = serverSpeed();

// Sessions the page was closed in are recorded (interrupted) before anything
// shows; then the phone syncs now and then.
recoverUnfinished()
  .catch((e) => { console.warn(`recovering unfinished sessions: ${e.message}`); })
  .finally(() => {
    route();
    keepSyncing();
  });

// What a screen reader says for an injury's Clear button: its area and time,
// its note, and which of them it is when several share area and time (two
// injuries logged in the same moment), so no two buttons read the same.
function clearLabel(inj, all) {
  const twins = all.filter((i) => !i.cleared_at && i.area === inj.area && i.at === inj.at);
  const which = twins.length > 1 ? ` (${twins.indexOf(inj) + 1} of ${twins.length})` : '';
  const note = inj.note ? `, "${inj.note}"` : '';
  return `Clear the ${inj.area} injury of ${localTime(inj.at)}${note}${which}`;
}
