/* Service worker: the whole site offline after the first visit.
 *
 * Loaded by the one-line ./sw.js at the site root (a worker's scope cannot be
 * wider than its own folder without a Service-Worker-Allowed header, which
 * plain static hosts cannot send). URLs here are relative to the site root.
 *
 * What is cached at install:
 *   APP_FILES                the page, its scripts, styles, manifest, icons
 *   pyscript.toml [files]    the engine modules, web/ink.py and the model (read from the
 *                            config itself, so the list cannot drift from what web/compute.js fetches)
 *   web/vendor/precache.json the vendored runtime (written by scripts/vendor.py), and the
 *                            list itself
 *
 * How requests are answered:
 *   web/vendor/*  cache first: pinned, hash-checked files whose cache is named
 *                 after the vendor lock's hash; each visit checks (in the
 *                 background) whether web/vendor/ has a new version and swaps caches
 *   everything    network first (a reload after an edit or a retrain shows the new
 *   else          version), falling back to the cache when offline or after
 *                 NETWORK_TIMEOUT_MS on a network that hangs
 */

importScripts("./web/toml_files.js");  // self.filesFromToml, shared with web/compute.js

const APP_CACHE = "digits-app-v1";
const VENDOR_PREFIX = "digits-vendor-";
const NETWORK_TIMEOUT_MS = 4000;

const APP_FILES = [
  "./",
  "index.html",
  "pyscript.toml",
  "sw.js",
  "web/sw.js",
  "web/bridge.js",
  "web/compute.js",
  "web/worker_start.js",
  "web/toml_files.js",
  "web/stored_zip.js",
  "web/snapshot.js",
  "web/pad.js",
  "web/pad_strokes.js",
  "web/ink_pen.js",
  "web/pad_history.js",
  "web/offline_status.js",
  "web/examples.js",
  "web/pad_image.js",
  "web/pad_heat.js",
  "web/store.js",
  "web/teach.js",
  "web/teach.css",
  "web/loader.js",
  "web/style.css",
  "web/manifest.webmanifest",
  "web/icons/icon.svg",
  "web/icons/icon-192.png",
  "web/icons/icon-512.png",
];

const scopeURL = (path) => new URL(path, self.registration.scope).href;

async function vendorList() {
  const res = await fetch(scopeURL("web/vendor/precache.json"), { cache: "no-cache" });
  if (!res.ok) throw new Error(`web/vendor/precache.json: HTTP ${res.status} (run scripts/vendor.py)`);
  return res.json();  // {version, files: [{url, bytes}]}
}

async function precacheApp() {
  const toml = await fetch(scopeURL("pyscript.toml"), { cache: "no-cache" }).then((r) => r.text());
  const app = await caches.open(APP_CACHE);
  const appUrls = [...APP_FILES, ...self.filesFromToml(toml).map(([src]) => src)].map(scopeURL);
  // "no-cache" revalidates with the server (If-Modified-Since), so the offline copy is the current
  // one, yet a file the page has just fetched comes back as a 304 from the HTTP cache instead of
  // being sent a second time ("reload" did that: every app file twice on a first visit).
  await app.addAll(appUrls.map((u) => new Request(u, { cache: "no-cache" })));
}

/** Make sure the runtime of the current vendor lock is cached; drop other versions. */
async function precacheVendor() {
  const vendor = await vendorList();
  const name = VENDOR_PREFIX + vendor.version;
  const cache = await caches.open(name);
  const have = new Set((await cache.keys()).map((r) => r.url));
  const need = vendor.files.map((f) => scopeURL(f.url)).filter((u) => !have.has(u));
  await cache.addAll(need);
  // The list itself, kept with the files it lists: web/compute.js reads it (the NumPy wheel's sha256).
  const list = JSON.stringify(vendor);
  await cache.put(scopeURL("web/vendor/precache.json"), new Response(list, { headers: { "Content-Type": "application/json" } }));
  for (const other of await caches.keys()) {
    if (other.startsWith(VENDOR_PREFIX) && other !== name) await caches.delete(other);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(Promise.all([precacheApp(), precacheVendor()]).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

// web/vendor/ changes only with vendor.lock.json, which does not change this
// script, so the browser would not reinstall the worker: each page visit
// checks the runtime version in the background instead (a no-op offline).
let vendorCheck = null;
function refreshVendor() {
  vendorCheck ||= precacheVendor().catch(() => {}).finally(() => { vendorCheck = null; });
  return vendorCheck;
}

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("network timeout")), ms));
}

async function networkFirst(request) {
  const cache = await caches.open(APP_CACHE);
  try {
    const response = await Promise.race([fetch(request), timeout(NETWORK_TIMEOUT_MS)]);
    if (response.ok && request.method === "GET") cache.put(request, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(request, { ignoreSearch: true })
      || (request.mode === "navigate" && await cache.match(scopeURL("index.html")));
    if (hit) return hit;
    throw err;
  }
}

async function cacheFirst(request) {
  for (const name of (await caches.keys()).filter((n) => n.startsWith(VENDOR_PREFIX))) {
    const hit = await (await caches.open(name)).match(request, { ignoreSearch: true });
    if (hit) return hit;
  }
  const response = await fetch(request);
  if (response.ok) {
    const names = (await caches.keys()).filter((n) => n.startsWith(VENDOR_PREFIX));
    if (names.length) (await caches.open(names[0])).put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // Only this site's own GET requests; anything else goes straight to the network.
  if (request.method !== "GET" || url.origin !== self.location.origin || !request.url.startsWith(self.registration.scope)) return;
  if (url.pathname.includes("/web/vendor/")) {
    event.respondWith(cacheFirst(request));
  } else {
    event.respondWith(networkFirst(request));
    if (request.mode === "navigate") event.waitUntil(refreshVendor());
  }
});
