/* The Web Worker the page's Python runs in (started by web/bridge.js).
 *
 * It loads the vendored Pyodide and NumPy, writes the files pyscript.toml's [files] lists
 * (the engine, the page's modules, the model) into Pyodide's file system, fetched in
 * parallel with the runtime, and runs web/main.py. Messages from the page wait until
 * Python is ready, then go to ui.handle (web/ui.py) one at a time; Python answers with
 * postMessage. Steps, readiness and failure are reported as {type: "stage" | "ready" |
 * "failed"} messages, and the runtime's download as {type: "bytes", received, total}
 * (its bodies counted as they arrive, against the sizes web/vendor/precache.json lists),
 * which the page shows (web/loader.js).
 */

import { loadPyodide } from "./vendor/pyodide/pyodide.mjs";
import "./toml_files.js";  // self.filesFromToml, shared with web/sw.js

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

/* ---------- how much of the runtime has arrived ---------- */

const REPORT_EVERY_MS = 100;
const download = { received: 0, total: 0, reported: 0 };

function report(force = false) {
  const now = performance.now();
  if (!force && now - download.reported < REPORT_EVERY_MS) return;
  download.reported = now;
  postMessage({ type: "bytes", received: download.received, total: download.total });
}

/** The runtime's files Pyodide fetches (the module and its asm.js come by import, not fetch):
 * their sizes for the percentage, and the NumPy wheel fetched at once, while the interpreter
 * starts, instead of after it (Pyodide's own request for it is then answered with this one). */
async function expectBytes() {
  try {
    const res = await plainFetch(new URL("./vendor/precache.json", import.meta.url));
    const files = (await res.json()).files.filter((f) => !/\.m?js$/.test(f.url));
    download.total += files.reduce((sum, f) => sum + f.bytes, 0);
    for (const f of files.filter((f) => f.url.endsWith(".whl"))) {
      const url = new URL(f.url, SITE).href;
      early.set(url, plainFetch(url));
    }
  } catch {
    // no sizes: the header then shows the bytes without a percentage, and Pyodide fetches the wheel itself
  }
}

const plainFetch = self.fetch.bind(self);
const counting = [];  // one promise per body being counted
const early = new Map();  // URL -> the response promise of a request made before Pyodide asked
self.fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : new URL(String(input), self.location.href).href;
  const ahead = early.get(url);
  early.delete(url);
  if (ahead) return checked(await ahead, init?.integrity, url);
  const res = await plainFetch(input, init);
  if (res.status === 200 && res.body) counting.push(count(res.clone().body));
  // The response itself goes on untouched: a Response built here would have no URL, and Chromium
  // keys its cache of compiled WebAssembly on the URL (a repeat visit would compile the wasm again).
  return res;
};

/** A response fetched ahead, held to the integrity Pyodide asked for (its lock file's sha256): the
 * browser checks `integrity` only on the request that carries it, which this one did not. */
async function checked(res, integrity, url) {
  const bytes = await res.arrayBuffer();
  download.received += bytes.byteLength;
  const [algorithm, want] = (integrity || "").split(/-(.*)/s);
  if (!res.ok || !want) throw new TypeError(`${url}: HTTP ${res.status}, or no integrity to check it against`);
  const digest = await crypto.subtle.digest(algorithm.replace(/^sha/, "SHA-"), bytes);
  if (btoa(String.fromCharCode(...new Uint8Array(digest))) !== want) {
    throw new TypeError(`${url} does not match the integrity Pyodide's lock file gives it`);
  }
  return new Response(bytes, { status: res.status, statusText: res.statusText, headers: res.headers });
}

/** Read a copy of a body as it arrives, only to count its bytes. */
async function count(body) {
  const reader = body.getReader();
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      download.received += chunk.value.byteLength;
      report();
    }
  } catch {
    // the original's reader reports any failure
  }
}

async function fetchBytes(path) {
  const res = await plainFetch(new URL(path, SITE));  // the page's own files: small, not counted
  if (!res.ok) throw new Error(`${path.replace(/^\.\//, "")}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Every [files] entry and main.py, fetched at once: [[file-system path, bytes], ...] and main.py's text. */
async function fetchFiles() {
  const toml = new TextDecoder().decode(await fetchBytes("./pyscript.toml"));
  const files = self.filesFromToml(toml);
  const [main, ...bodies] = await Promise.all([fetchBytes("./web/main.py"), ...files.map(([src]) => fetchBytes(src))]);
  return { main: new TextDecoder().decode(main), files: files.map(([, dst], i) => [dst, bodies[i]]) };
}

function writeFiles(pyodide, files) {
  for (const [dst, bytes] of files) {
    const path = HOME + dst.replace(/^\.\//, "");
    pyodide.FS.mkdirTree(path.slice(0, path.lastIndexOf("/")));
    pyodide.FS.writeFile(path, bytes);
  }
}

async function start() {
  stage("runtime");
  const expecting = expectBytes();
  const fetching = fetchFiles();
  fetching.then(() => mark("files fetched"), () => {});  // a failure is reported below, once the runtime is up
  mark("loadPyodide");
  const pyodide = await loadPyodide({ fsInit: () => mark("wasm instantiated") });
  mark("loadPyodide done");
  await expecting;
  stage("numpy");
  const problems = [];  // loadPackage reports a package it could not load here, and resolves anyway
  await pyodide.loadPackage("numpy", { messageCallback: () => {}, errorCallback: (m) => problems.push(m), checkIntegrity: true });
  if (!pyodide.loadedPackages.numpy) throw new Error(`NumPy could not be loaded: ${problems.join(" ") || "no reason given"}`);
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
  writeFiles(pyodide, site.files);
  mark("files written");
  pyodide.runPython(`import sys\nif ${JSON.stringify(HOME)} not in sys.path: sys.path.insert(0, ${JSON.stringify(HOME)})`);
  pyodide.FS.chdir(HOME);
  await pyodide.runPythonAsync(site.main, { filename: "main.py" });
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
