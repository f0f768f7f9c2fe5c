/* The main thread's side of the page's Python, which runs in a Web Worker (web/compute.js).
 *
 * Python never blocks this thread: loading Pyodide and NumPy, reading the ink, explaining
 * and learning all run in the worker. This file
 *   - shows the worker's loading steps (window.digitsLoader, web/loader.js; web/worker_start.js
 *     starts the worker as the page begins to load);
 *   - sends it what Python needs to know: the pad's "ink" (one reading in flight at a time:
 *     ink drawn meanwhile waits, and only the newest waits) and the page's clicks and
 *     toggles, each as a small message (EVENTS below);
 *   - applies the operations Python sends back (web/ui.py records them): text, classes,
 *     attributes, new elements, pixels on canvases, calls such as digitPad.showBoxes;
 *   - does what only the page can do for Python (window.digitsPage): IndexedDB
 *     (web/store.js), opening a gallery digit on the pad, sending the ink again.
 */

import { takeEarlyEvents, worker } from "./worker_start.js";  // started before this file runs

const loader = window.digitsLoader;
const pad = window.digitPad;
const LOADING_NOTE = "Your drawing will be read as soon as the model is ready.";

let ready = false;
let inkInFlight = 0;  // ink messages Python has not answered yet
let inkWaiting = null;  // the newest ink not yet sent (null: none)

/* ---------- what the page tells Python ---------- */

function closestData(e, selector, key) {
  const el = e.target.closest?.(selector);
  return el ? { value: key === "id" ? el.id : el.dataset[key] } : null;
}

// [event, element selector, message kind, what the message carries (null: send nothing)]
const EVENTS = [
  ["click", "#digits", "glyph", (e) => closestData(e, "button.glyph", "index")],
  ["toggle", "#inside-panel", "inside", (e) => ({ open: e.target.open })],
  ["click", "#heat-toggle", "heat-toggle", () => ({})],
  ["click", "#confusion", "cell", (e) => closestData(e, "button[data-cell]", "cell")],
  ["click", "#gallery-all", "gallery-all", () => ({})],
  ["click", "#gallery", "gallery-entry", (e) => closestData(e, "button.example", "entry")],
  ["click", ".teach-row", "teach", (e) => closestData(e, "button[id^='teach-']", "id")],
  ["click", "#examples", "remove", (e) => closestData(e, "button.remove", "index")],
  ["click", "#learn", "learn", () => ({})],
  ["click", "#learn-cancel", "learn-cancel", () => ({})],
  ["click", "#forget", "forget", () => ({})],
  ["click", "#export", "export", () => ({})],
  ["teach-import", "#teach-panel", "import", (e) => ({ name: e.detail.name, bytes: e.detail.bytes })],
];

function post(message) {
  worker.postMessage(message);
}

function wireEvents() {
  for (const [event, selector, type, extract] of EVENTS) {
    document.querySelector(selector)?.addEventListener(event, (e) => {
      const fields = extract(e);
      if (!fields) return;
      // A press answers what is on the pad now ("It was a 5" right after the pen lifts): ink still
      // waiting goes first, so Python reads it before it handles the press.
      if (inkWaiting) postInk(takeWaiting());
      post({ type, ...fields });
    });
  }
}

/** Send the pad's ink, or keep it until the reading in flight is answered. */
function sendInk(detail) {
  if (!ready) {
    if (detail.kind !== "empty") say(LOADING_NOTE);
    return;  // the ink is read when Python is ready (see "ready" below)
  }
  if (inkInFlight) { inkWaiting = { ...detail, strokes: strokesOf(detail) }; markBusy(); return; }
  postInk({ ...detail, strokes: strokesOf(detail) });
}

/** The answer on screen is about to change: busy until Python shows the reading of the newest ink
 * (a final reading, or an empty pad, sets it back), so neither a screen reader nor a test takes the
 * reading of an earlier stroke for the answer while a later one waits for its turn. */
function markBusy() {
  document.querySelector(".answer")?.setAttribute("aria-busy", "true");
}

/** The pad's strokes behind `detail` (JSON), taken when the ink is, not when it is sent. */
function strokesOf(detail) {
  return detail.kind === "pad" ? JSON.stringify(pad.strokes) : "null";
}

function postInk(detail) {
  inkInFlight += 1;
  markBusy();
  post({ type: "ink", detail });  // copied, not transferred: other listeners may read the pixels too
}

function takeWaiting() {
  const next = inkWaiting;
  inkWaiting = null;
  return next;
}

function inkAnswered() {
  inkInFlight = Math.max(0, inkInFlight - 1);
  if (inkWaiting && !inkInFlight) postInk(takeWaiting());
}

function say(text) {
  const message = document.getElementById("message");
  if (message) message.textContent = text;
}

/* ---------- what Python tells the page ---------- */

const elements = new Map();  // ref (selector, or number of an element Python created) -> element

function element(ref) {
  let el = elements.get(ref);
  if (!el && typeof ref === "string") {
    el = document.querySelector(ref);
    if (el) elements.set(ref, el);
  }
  if (!el) throw new Error(`no element ${ref}`);
  return el;
}

/** Forget the elements Python created inside `el` (they are being replaced). */
function release(el) {
  for (const child of el.querySelectorAll("*")) if (child.digitsRef) elements.delete(child.digitsRef);
}

function children(list) {
  return list.map((c) => (Array.isArray(c) ? document.createTextNode(c[1]) : element(c)));
}

function resolve(path) {
  const names = path.split(".");
  const name = names.pop();
  const owner = names.reduce((o, n) => o[n], window);
  if (typeof owner?.[name] !== "function") throw new Error(`${path} is not a page function`);
  return owner[name].bind(owner);
}

const OPS = {
  create: (ref, tag) => { const el = document.createElement(tag); el.digitsRef = ref; elements.set(ref, el); },
  set: (ref, name, value) => { element(ref)[name] = value; },
  data: (ref, key, value) => { element(ref).dataset[key] = value; },
  style: (ref, key, value) => { element(ref).style[key] = value; },
  class: (ref, name, on) => { element(ref).classList.toggle(name, on); },
  attr: (ref, name, value) => { element(ref).setAttribute(name, value); },
  append: (ref, list) => { element(ref).append(...children(list)); },
  replace: (ref, list) => { const el = element(ref); const next = children(list); release(el); el.replaceChildren(...next); },
  ctx: (ref, name, value) => { element(ref).getContext("2d")[name] = value; },
  fillRect: (ref, x, y, w, h) => { element(ref).getContext("2d").fillRect(x, y, w, h); },
  pixels: (ref, rgba, w, h) => { element(ref).getContext("2d").putImageData(new ImageData(rgba, w, h), 0, 0); },
  call: (path, args) => { resolve(path)(...args); },
  stat: (key, value) => { (window.digitsStats[key] ||= []).push(value); },
  statSet: (key, value) => { window.digitsStats[key] = value; },
};

function apply(ops) {
  for (const [kind, ...args] of ops) {
    try {
      OPS[kind](...args);
    } catch (err) {
      console.error(`digits: could not apply ${kind} ${JSON.stringify(args[0])}:`, err);
    }
  }
}

function onWorkerMessage({ data }) {
  if (data.type === "ops") {
    apply(data.ops);
    if (data.answered === "ink") inkAnswered();
  } else if (data.type === "failed" && ready) {
    console.error("digits:", data.message);  // the page works: Python failed after it was ready
  } else if (data.type === "stage") {
    loader.stage(data.step, data.text);
  } else if (data.type === "bytes") {
    loader.bytes(data.received, data.total);
  } else if (data.type === "ready") {
    ready = true;
    loader.marks = (data.marks || []).map(([name, t]) => [name, Math.round(t - performance.timeOrigin)]);
    loader.ready();
    sendInk(pad.snapshot(true));  // what was drawn while loading (an empty pad resets the loading note)
    if (pad.isEmpty()) post({ type: "warm-up" });  // nothing to read yet: Python warms its reader (web/main.py)
  } else if (data.type === "failed") {
    loader.fail(data.message);
  }
}

function onWorkerError(e) {
  if (ready) console.error("digits: the Python worker reported an error:", e.message);  // it keeps running
  else loader.fail(`The page's Python could not start (${e.message || "the worker failed to load"}).`);
}


/* ---------- what only the page can do for Python ---------- */

function reply(type, fields) { post({ type, ...fields }); }
const failed = (err) => reply("store-failed", { error: String(err?.message || err) });

window.digitsPage = {
  /** Read the pad again (the model changed): the current ink as a fresh "ink" message. */
  resendInk() { if (!pad.isEmpty()) sendInk(pad.snapshot(true)); },
  storeLoad() {
    try {
      window.digitsStore.load().then((record) => reply("restore", { record }), (err) => reply("restore-failed", { error: String(err) }));
    } catch (err) { reply("restore-failed", { error: String(err) }); }
  },
  storeSave(model, labels, pixels, strokes) {
    try { window.digitsStore.save(model ?? null, labels, pixels, strokes).catch(failed); } catch (err) { failed(err); }
  },
  storeClear() {
    try { window.digitsStore.clear().catch(failed); } catch (err) { failed(err); }
  },
  /** A gallery digit (RGBA, dark on white) opened on the pad like a picture, with `note` under the gallery. */
  openPicture(rgba, width, height, name, note) {
    const c = document.createElement("canvas");
    c.width = width; c.height = height;
    c.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
    c.toBlob((blob) => {
      blob.name = name;  // the pad announces "Opened <name>"
      pad.openImage(blob);
      document.getElementById("gallery-chosen").textContent = note;
    }, "image/png");
  },
};

/* ---------- the heat map is on the drawing only while "Inside the model" is open ---------- */

const insidePanel = document.getElementById("inside-panel");
pad.wantHeat(insidePanel.open);
insidePanel.addEventListener("toggle", () => pad.wantHeat(insidePanel.open));

/* ---------- the "About the model" panel remembers whether it was open ---------- */

const modelPanel = document.getElementById("model-panel");
if (localStorage.getItem("digits.modelPanel") === "open") modelPanel.open = true;
modelPanel.addEventListener("toggle", () => localStorage.setItem("digits.modelPanel", modelPanel.open ? "open" : "closed"));

pad.canvas.addEventListener("ink", (e) => sendInk(e.detail));
wireEvents();

// Last, once everything above exists: what the worker said before now, then all it says.
worker.addEventListener("message", onWorkerMessage);
worker.addEventListener("error", onWorkerError);
for (const event of takeEarlyEvents()) (event.type === "error" ? onWorkerError : onWorkerMessage)(event);
