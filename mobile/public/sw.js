/*
 * AronaNET's service worker: the app shell opens with the node down (or offline) instead of
 * the browser's error page. The page is network-first (a new version shows as soon as the node
 * serves it) with the last copy as fallback; the content-hashed files under /_expo/static/ never
 * change, so they are served from the cache once there. The WebSocket is never touched.
 */
const SHELL = 'aronanet-shell-v1';
const SHELL_FILES = ['/', '/splash.css', '/favicon.svg', '/manifest.webmanifest', '/icon-192.png', '/icon-512.png'];
const HASHED = '/_expo/static/';

/** The page and every file it names (its script bundle), so the first visit already works offline. */
async function cacheShell() {
  const cache = await caches.open(SHELL);
  await cache.addAll(SHELL_FILES);
  const page = await (await cache.match('/')).text();
  const assets = [...page.matchAll(/(?:src|href)="(\/_expo\/static\/[^"]+)"/g)].map((found) => found[1]);
  await cache.addAll(assets);
}

self.addEventListener('install', (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

async function networkFirst(request, fallback) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(fallback ?? request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(fallback ?? request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname === '/artp') return;
  if (request.mode === 'navigate') event.respondWith(networkFirst(request, '/'));
  else if (url.pathname.startsWith(HASHED)) event.respondWith(cacheFirst(request));
  else event.respondWith(networkFirst(request));
});
