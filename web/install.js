// Installable and offline: registers the service worker (sw.js), offers an
// Install button where the browser has one, and, where the page came over
// plain http from another machine (an insecure context: a phone on the LAN),
// says plainly what cannot work there and how to get it. Sessions run in the
// page either way.
//
// It adds its own element before <main> (or at the top of <body>), shown on
// the home screen only (the page's body[data-route]), never during a
// session, and touches nothing else of the page.

const DISMISSED = 'rollcoach.install.dismissed';

// Shows `node` only while the page is on its home screen.
function homeOnly(node) {
  const update = () => {
    const route = document.body.dataset.route;
    node.hidden = Boolean(route) && route !== 'home';
  };
  update();
  new MutationObserver(update).observe(document.body, { attributes: true, attributeFilter: ['data-route'] });
}

function box(id, label) {
  const aside = document.createElement('aside');
  aside.id = id;
  aside.setAttribute('aria-label', label);
  // CSSOM, not a style attribute: the page's CSP allows only its own stylesheets.
  Object.assign(aside.style, {
    margin: '.6rem 1rem', padding: '.5rem .8rem', borderRadius: '12px',
    border: '2px solid var(--accent, #ffd400)', background: 'var(--panel, #161616)',
    color: 'var(--fg, #fff)',
  });
  const main = document.querySelector('main');
  if (main && main.parentNode) main.parentNode.insertBefore(aside, main);
  else document.body.prepend(aside);
  homeOnly(aside);
  return aside;
}

// A button styled here: the page's own button classes are its tests' selectors too.
function button(text, primary) {
  const b = el('button', text);
  b.type = 'button';
  Object.assign(b.style, {
    display: 'block', width: '100%', minHeight: '48px', margin: '.4rem 0', font: 'inherit',
    borderRadius: '12px', border: '2px solid', cursor: 'pointer',
    color: primary ? '#000' : 'var(--fg, #fff)',
    background: primary ? 'var(--accent, #ffd400)' : 'var(--calm, #2b2b2b)',
    borderColor: primary ? 'var(--accent, #ffd400)' : '#aaa',
  });
  return b;
}

function el(tag, text) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  return node;
}

function code(text) {
  return el('code', text);
}

// Over plain http to another machine: no service worker, no wake lock, no
// install. Collapsed by default so it never crowds the session.
function insecureNote() {
  const aside = box('pwa-insecure', 'What this page cannot do over plain http');
  const details = el('details');
  const summary = el('summary', 'Plain http: no install, no offline use, the screen may sleep');
  Object.assign(summary.style, { cursor: 'pointer', minHeight: '48px', padding: '.7rem 0', boxSizing: 'border-box' });
  details.append(summary);
  const why = el('p', 'Sessions still run on this phone. But this page came over plain http from another machine, and over plain http the browser does not allow:');
  const list = el('ul');
  list.append(
    el('li', 'installing rollcoach as an app on the home screen,'),
    el('li', 'opening it, and running a session, with no network,'),
    el('li', 'keeping the screen on during a session (raise the phone\'s screen timeout instead).'),
  );
  const how = el('p', 'To get them, open rollcoach over https:');
  const ways = el('ul');
  const way = (...parts) => {
    const li = el('li');
    li.append(...parts);
    return li;
  };
  ways.append(
    way('serve it with a certificate for this computer\'s name (mkcert makes one the phone can trust): ',
      code('rollcoach serve --lan --tls-cert FILE --tls-key FILE'), ';'),
    way('or put an https reverse proxy such as Caddy in front of ', code('rollcoach serve'), ';'),
    way('or copy the static app from ', code('rollcoach web export DIR'), ' to any https host (sessions run there with no server; only sync needs one).'),
  );
  const more = el('p', 'Step by step: the section "A phone over https" of rollcoach\'s README.');
  details.append(why, list, how, ways, more);
  aside.append(details);
}

// Chromium's install prompt, on a button of our own; "Not now" is remembered.
function offerInstall(event) {
  event.preventDefault();
  if (document.getElementById('pwa-install')) return;
  try {
    if (localStorage.getItem(DISMISSED)) return;
  } catch {
    // No storage: offer it each time.
  }
  const aside = box('pwa-install', 'Install rollcoach');
  const install = button('Install rollcoach as an app', true);
  install.addEventListener('click', async () => {
    aside.remove();
    await event.prompt();
  });
  const later = button('Not now', false);
  later.addEventListener('click', () => {
    aside.remove();
    try {
      localStorage.setItem(DISMISSED, '1');
    } catch {
      // Gone for this visit only.
    }
  });
  aside.append(el('p', 'It then opens from the home screen, full screen, and works with no network.'), install, later);
}

// A new version (a new `serve` binary or export) has installed beside the
// running one: offer to reload into it, on the home screen only.
function offerUpdate(waiting) {
  if (document.getElementById('pwa-update')) return;
  const aside = box('pwa-update', 'New version');
  const reload = button('Reload to use it', true);
  reload.addEventListener('click', () => {
    navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload());
    waiting.postMessage('rollcoach:activate');
  });
  aside.append(el('p', 'A new version of rollcoach is ready.'), reload);
}

function watchUpdates(reg) {
  if (reg.waiting && navigator.serviceWorker.controller) offerUpdate(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const worker = reg.installing;
    if (!worker) return;
    worker.addEventListener('statechange', () => {
      if (worker.state === 'installed' && navigator.serviceWorker.controller) offerUpdate(worker);
    });
  });
}

if (window.isSecureContext && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js', { scope: './' }).then(watchUpdates, (e) => {
    console.warn('rollcoach: no offline use, the service worker did not register:', e);
  });
  window.addEventListener('beforeinstallprompt', offerInstall);
  window.addEventListener('appinstalled', () => document.getElementById('pwa-install')?.remove());
} else if (!window.isSecureContext) {
  insecureNote();
}
