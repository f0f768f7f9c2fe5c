/* The Web Worker the page's Python runs in (started by web/bridge.js).
 *
 * It loads the vendored Pyodide and NumPy, writes the files pyscript.toml's [files] lists
 * (the engine, the page's modules, the model; in a built site the Python as one archive of .pyc)
 * into Pyodide's file system, fetched in
 * parallel with the runtime, and imports web/main.py (one of them). Messages from the page wait until
 * Python is ready, then go to ui.handle (web/ui.py) one at a time; Python answers with
 * postMessage. Steps, readiness and failure are reported as {type: "stage" | "ready" |
 * "failed"} messages, and the runtime's download as {type: "bytes", received, total}
 * (its bodies counted as they arrive, against the sizes web/vendor/precache.json lists),
 * which the page shows (web/loader.js).
 */

import { loadPyodide } from "./vendor/pyodide/pyodide.mjs";
import "./toml_files.js";  // self.filesFromToml, shared with web/sw.js
import { writeStoredZip } from "./stored_zip.js";
import { forgetSnapshots, snapshotKey, storedSnapshot, storeSnapshot } from "./snapshot.js";

const SITE = new URL("../", import.meta.url);  // the site's root: pyscript.toml's paths are relative to it
const HOME = "/home/pyodide/";  // Python's working directory, first on its path: [files] land here

const waiting = [];
let handle = null;
self.addEventListener("message", ({ data }) => (handle ? handle(data) : waiting.push(data)));

const stage = (step, text) => postMessage({ type: "stage", step, text });  // no text: web/loader.js's own

// Where start-up goes: [name, absolute ms (timeOrigin + now)], sent with "ready" (the page keeps them as
// digitsLoader.marks, ms since its navigation start; bench/load_breakdown.py reads them). main.py adds its own.
const marks = [["worker", performance.timeOrigin], ["pyodide.mjs imported", performance.timeOrigin + performance.now()]];
const mark = (name) => marks.push([name, performance.timeOrigin + performance.now()]);
self.digitsMark = mark;
// What web/ui.py calls on this worker's global scope, as functions that need no `this`: while Pyodide
// makes a snapshot (below) Python sees the globals through a Proxy, and a host function called through
// it (postMessage, setTimeout, performance.now) throws "Illegal invocation".
self.digitsHost = {
  postMessage: (message) => postMessage(message),
  setTimeout: (fn, ms, ...args) => setTimeout(fn, ms, ...args),
  clearTimeout: (id) => clearTimeout(id),
  now: () => performance.now(),
};

/* ---------- how much of the runtime has arrived ---------- */

const REPORT_EVERY_MS = 100;
const download = { received: 0, total: 0, reported: 0 };

function report(force = false) {
  const now = performance.now();
  if (!force && now - download.reported < REPORT_EVERY_MS) return;
  download.reported = now;
  postMessage({ type: "bytes", received: download.received, total: download.total });
}

/** NumPy's wheel, fetched at once (while the interpreter starts, instead of after it), its bytes counted
 * as they arrive and checked against the sha256 web/vendor/precache.json gives it; the sizes of the
 * runtime's other files for the percentage (the module and its asm.js come by import, not fetch). */
async function fetchNumpyWheel(runtimeFiles) {
  const files = (await runtimeFiles).filter((f) => !/\.m?js$/.test(f.url));
  download.total += files.reduce((sum, f) => sum + f.bytes, 0);
  const wheel = files.find((f) => f.url.endsWith(".whl"));
  if (!wheel?.sha256) throw new Error("web/vendor/precache.json names no NumPy wheel with its sha256 (run scripts/vendor.py)");
  const name = wheel.url.split("/").pop();
  const url = new URL(wheel.url, SITE);
  const cached = await self.caches?.match(url, { ignoreSearch: true }).catch(() => undefined);
  mark(cached ? "numpy wheel in cache" : "numpy wheel not cached");
  let bytes;
  if (cached) {
    bytes = new Uint8Array(await cached.arrayBuffer());
    download.received += bytes.byteLength;
  } else {
    const got = await plainFetch(url);
    if (!got.ok || !got.body) throw new Error(`${name}: HTTP ${got.status}`);
    mark("numpy wheel response");
    bytes = await readCounting(got.body);
  }
  mark("numpy wheel fetched");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== wheel.sha256) throw new Error(`${name} does not match the sha256 web/vendor/precache.json gives it`);
  mark("numpy wheel checked");
  return bytes;
}

/** The runtime's files as web/vendor/precache.json lists them: [{url, bytes, sha256}, ...]. */
async function fetchRuntimeList() {
  const res = await plainFetch(new URL("./vendor/precache.json", import.meta.url));
  if (!res.ok) throw new Error(`web/vendor/precache.json: HTTP ${res.status}`);
  return (await res.json()).files;
}

const plainFetch = self.fetch.bind(self);
const counting = [];  // one promise per body of Pyodide's being counted
self.fetch = async (input, init) => {
  const res = await plainFetch(input, init);
  if (res.status === 200 && res.body) counting.push(readCounting(res.clone().body, false).catch(() => {}));
  // The response itself goes on untouched: a Response built here would have no URL, and Chromium
  // keys its cache of compiled WebAssembly on the URL (a repeat visit would compile the wasm again).
  return res;
};

/** A body's bytes (or, not kept, only their count), counted as they arrive. */
async function readCounting(body, keep = true) {
  const reader = body.getReader();
  const chunks = [];
  let length = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    if (keep) chunks.push(chunk.value);
    length += chunk.value.byteLength;
    download.received += chunk.value.byteLength;
    report();
  }
  if (!keep) return null;
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}

async function fetchBytes(path) {
  const res = await plainFetch(new URL(path, SITE));  // the page's own files: small, not counted
  if (!res.ok) throw new Error(`${path.replace(/^\.\//, "")}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Every [files] entry, fetched at once: [[file-system path, bytes], ...]. */
async function fetchFiles() {
  const toml = new TextDecoder().decode(await fetchBytes("./pyscript.toml"));
  const files = self.filesFromToml(toml);
  const bodies = await Promise.all(files.map(([src]) => fetchBytes(src)));
  return files.map(([, dst], i) => [dst, bodies[i]]);
}

/** Write each file where [files] puts it; a destination "folder/*" (PyScript's form) unpacks a zip there:
 * a built site's Python comes as one archive of .pyc (scripts/site_python.py). */
function writeFiles(pyodide, files) {
  for (const [dst, bytes] of files) {
    const path = HOME + dst.replace(/^\.\//, "");
    const folder = path.slice(0, path.lastIndexOf("/"));
    pyodide.FS.mkdirTree(folder);
    if (!path.endsWith("/*")) {
      pyodide.FS.writeFile(path, bytes);
      continue;
    }
    if (!writeStoredZip(pyodide.FS, bytes, folder)) unpackWithPython(pyodide, bytes, folder);
  }
}

/** Any zip archive, unpacked by Python's zipfile (slower: every byte goes through the interpreter). */
function unpackWithPython(pyodide, bytes, folder) {
  pyodide.FS.writeFile("/tmp/archive.zip", bytes);
  pyodide.runPython(`import zipfile\nwith zipfile.ZipFile("/tmp/archive.zip") as z: z.extractall(${JSON.stringify(folder)})`);
  pyodide.FS.unlink("/tmp/archive.zip");
}

async function start() {
  stage("runtime");
  const runtimeFiles = fetchRuntimeList();
  const numpyWheel = fetchNumpyWheel(runtimeFiles);
  numpyWheel.catch(() => {});  // reported below, once the runtime is up
  const fetching = fetchFiles();
  fetching.then(() => mark("files fetched"), () => {});  // a failure is reported below, once the runtime is up
  const { pyodide, keepSnapshot } = await startPython(runtimeFiles);
  mark("loadPyodide done");
  stage("numpy");
  // Unpacked, not pyodide.loadPackage: that compiles every extension module of the wheel before
  // anything is imported (7.5 MB of WebAssembly, NumPy's random, fft and test modules among them);
  // Python's import compiles each when it is first imported (in a worker, synchronously).
  let wheel;
  try {
    wheel = await numpyWheel;
  } catch (err) {
    throw new Error(`NumPy could not be loaded: ${err.message}`);
  }
  const sitePackages = pyodide.runPython("from pyodide._package_loader import SITE_PACKAGES\nstr(SITE_PACKAGES)");
  if (!writeStoredZip(pyodide.FS, wheel, sitePackages)) pyodide.unpackArchive(wheel, "wheel");
  mark("numpy unpacked");
  // site-packages' finder may hold a listing from before the wheel's files came: drop it (cheaper than
  // importlib.invalidate_caches(), which imports importlib.metadata and email, 28 ms).
  pyodide.runPython(`import sys\nsys.path_importer_cache.pop(${JSON.stringify(sitePackages)}, None)\nimport numpy`);
  mark("numpy loaded");
  await Promise.all(counting);
  report(true);  // the runtime is all here
  stage("engine", "Fetching the engine and the model…");
  let site;
  try {
    site = await fetching;
  } catch (err) {
    const model = /models\//.test(err.message) ? "Could not load the model: " : "Could not load the page's files: ";
    throw new Error(model + err.message);
  }
  writeFiles(pyodide, site);
  mark("files written");
  pyodide.runPython(`import sys\nif ${JSON.stringify(HOME)} not in sys.path: sys.path.insert(0, ${JSON.stringify(HOME)})`);
  pyodide.FS.chdir(HOME);
  // Imported, not run from its text: in a built site it is a .pyc like the rest, and compiling its
  // source took 60-80 ms in the page (the interpreter's compiler is cold: nothing else is compiled).
  pyodide.runPython("import main");
  const ui = pyodide.pyimport("ui");
  handle = (message) => {
    try {
      ui.handle(message);
    } catch (err) {
      console.error("digits: a message to Python failed:", err);
    }
  };
  mark("main.py done");
  postMessage({ type: "ready", marks });
  for (const message of waiting.splice(0)) handle(message);
  if (keepSnapshot) whenIdle(keepSnapshot);
}

const IDLE_MS = 1500;  // no message from the page for this long: the user is not drawing
const IDLE_AT_MOST_MS = 15_000;

/** Runs task once the page has sent nothing for IDLE_MS (or IDLE_AT_MOST_MS after now at the latest):
 * storing the 21 MB snapshot keeps a core busy for a while, and a first visit's first readings (the
 * digit drawn while the page loaded) must not wait behind it (first prediction 80 ms later, measured). */
function whenIdle(task) {
  const latest = performance.now() + IDLE_AT_MOST_MS;
  let timer = 0;
  const run = () => {
    self.removeEventListener("message", postpone);
    task();
  };
  const postpone = () => {
    clearTimeout(timer);
    timer = setTimeout(run, Math.max(0, Math.min(IDLE_MS, latest - performance.now())));
  };
  self.addEventListener("message", postpone);
  postpone();
}

/** Pyodide, started from this runtime's stored snapshot when there is one (web/snapshot.js), else
 * started plainly and its snapshot taken for the next visit: keepSnapshot() stores it (called once
 * the page is ready and idle, so the first visit does not wait on the write). */
async function startPython(runtimeFiles) {
  const fsInit = () => mark("wasm instantiated");
  // Pyodide's 1 MB of JavaScript, imported while the snapshot is looked up (loadPyodide skips its own
  // import of a script already in).
  const runtimeScript = import(new URL("./vendor/pyodide/pyodide.asm.js", import.meta.url).href);
  runtimeScript.catch(() => {});  // loadPyodide imports it again and reports the failure
  let key = null;
  try {
    key = await snapshotKey(await runtimeFiles, SITE);
  } catch {
    // no list (reported with NumPy's wheel) or no crypto.subtle: start the plain way
  }
  const stored = key && (await storedSnapshot(key));
  await runtimeScript.catch(() => {});
  if (stored) {
    mark("loadPyodide (snapshot)");
    try {
      return { pyodide: await loadPyodide({ fsInit, _loadSnapshot: stored.bytes }) };
    } catch (err) {
      console.warn("digits: the interpreter's snapshot did not restore; starting Python again:", err);
      await forgetSnapshots();
    }
  }
  mark("loadPyodide");
  if (!key) return { pyodide: await loadPyodide({ fsInit }) };
  const pyodide = await loadPyodide({ fsInit, _makeSnapshot: true });
  let snapshot = null;
  try {
    snapshot = pyodide.makeMemorySnapshot();
    mark("snapshot taken");
  } catch (err) {
    console.warn("digits: no snapshot of the interpreter was taken:", err);
  }
  return { pyodide, keepSnapshot: snapshot && (() => storeSnapshot(key, snapshot)) };
}

start().catch((err) => {
  console.error("digits: Python did not start:", err);
  // The reason is the last "SomethingError: ..." line (a Python traceback's last line; Pyodide wraps
  // a failed package load in advice and a "See https://..." pointer), else the last line.
  const lines = String(err?.message || err).split("\n").map((line) => line.trim()).filter(Boolean);
  const reasons = lines.filter((line) => /\b\w*(Error|Exception)\b:/.test(line));
  const reason = reasons[reasons.length - 1] || lines[lines.length - 1] || "Python did not start.";
  postMessage({ type: "failed", message: reason.replace(/^.*?\b(\w*(Error|Exception)\b:)/, "$1") });
});
