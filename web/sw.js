// rollcoach's service worker: after one visit the app opens, and runs a
// session, with the network gone.
//
// - The app shell (the page, its scripts and styles, the wasm module, the
//   manifest and icons) is cached when the worker installs, and served from
//   the cache first. SHELL names its files and its version, a hash of them
//   all; `serve` (crates/server/src/assets.rs) fills it in, so a new binary
//   is a new worker that caches the new shell and deletes the old.
// - The protocols and the session clock's speed (`api/protocols`,
//   `api/protocols/{id}`, its handout, `api/config`) are fetched network
//   first, so the page sees the server's current answer whenever it can, and
//   the last answer when the network is gone or slower than API_TIMEOUT_MS.
//   They are cached at install too, so a first visit is enough.
// - Everything else (history, injuries, sync, export, pairing) goes to the
//   network untouched: the page keeps its own data and syncs when it can.
//
// Every path is relative to the worker's scope, so the static app from
// `rollcoach web export` works from any folder of any https host.

const SHELL = { version: 'unfilled', files: ['./'] };

const scope = new URL(self.registration.scope);
const PREFIX = `rollcoach:${scope.pathname}:`;
const SHELL_CACHE = `${PREFIX}shell:${SHELL.version}`;
const API_CACHE = `${PREFIX}api:v1`;
const API_TIMEOUT_MS = 3000;
const API_PATH = /^api\/(config|protocols(\/[^/]+(\/handout)?)?)$/;

// The path of a same-scope URL relative to the scope ('' for the scope
// itself), or null for any other URL.
function inScope(url) {
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return null;
  return url.pathname.slice(scope.pathname.length);
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    await shell.addAll(SHELL.files.map((f) => new Request(f, { cache: 'no-cache' })));
    try {
      await cacheApi();
    } catch (e) {
      // The shell works without; the page caches the protocols as it fetches them.
      console.warn('rollcoach: could not cache the protocols for offline use', e);
    }
    // The first worker takes the page at once (it came from the network).
    // A new version waits until the page asks for it (install.js offers a
    // reload) or every window of the old one is closed, so one page never
    // mixes old and new files.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'rollcoach:activate') self.skipWaiting();
});

// Caches what a session needs from the API: the speed and every protocol.
async function cacheApi() {
  const cache = await caches.open(API_CACHE);
  const get = async (path) => {
    const resp = await fetch(path, { cache: 'no-cache' });
    if (resp.ok) await cache.put(path, resp.clone());
    return resp;
  };
  await get('api/config');
  const list = await get('api/protocols');
  if (!list.ok) return;
  const briefs = await list.json();
  await Promise.all(briefs.map((b) => get(`api/protocols/${encodeURIComponent(b.id)}`)));
}

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const keep = new Set([SHELL_CACHE, API_CACHE]);
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && !keep.has(name)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  const path = inScope(url);
  if (path === null) return;
  if (API_PATH.test(path) && !url.search) {
    event.respondWith(networkFirst(event, req));
  } else if (req.mode === 'navigate') {
    // The app is one page (routes are in the #hash): the scope and
    // index.html open it; anything else (pairing, downloads) is the network's.
    if (path === '' || path === 'index.html') event.respondWith(page(req));
  } else if (SHELL.files.includes(path) && !url.search) {
    event.respondWith(cacheFirst(req));
  }
});

async function page(req) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = (await cache.match('./')) || (await cache.match('index.html'));
  return cached || fetch(req);
}

async function cacheFirst(req) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(req, { ignoreVary: true });
  if (cached) return cached;
  const resp = await fetch(req);
  if (resp.ok) await cache.put(req, resp.clone());
  return resp;
}

async function networkFirst(event, req) {
  const cache = await caches.open(API_CACHE);
  const network = fetch(req).then(async (resp) => {
    if (resp.ok) await cache.put(req, resp.clone());
    return resp;
  });
  // A late answer still refreshes the cache.
  event.waitUntil(network.catch(() => {}));
  let timer;
  const late = new Promise((ok) => { timer = setTimeout(ok, API_TIMEOUT_MS, null); });
  try {
    const resp = await Promise.race([network, late]);
    if (resp) return resp;
  } catch {
    // Offline, or the server is gone: the cache answers.
  } finally {
    clearTimeout(timer);
  }
  const cached = await cache.match(req, { ignoreVary: true });
  return cached || network;
}
