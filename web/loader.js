/* Loading progress and the service worker, in plain JavaScript.
 *
 * The Python side cannot report on its own loading (it is not running yet), so
 * this script watches what the browser fetches (PerformanceObserver resource
 * entries) and PyScript's "py:progress" events, and names the current step:
 * runtime -> numpy -> engine -> model. web/main.py takes over for the last steps
 * through window.digitsLoader and reports "Ready in N s".
 */

const STEPS = ["runtime", "numpy", "engine", "model", "ready"];
const TEXT = {
  runtime: "Loading the Python runtime (Pyodide)…",
  numpy: "Loading NumPy…",
  engine: "Loading the recognizer engine…",
  model: "Loading the model…",
  ready: "Ready",
};

const loader = {
  step: "runtime",
  t0: 0,  // performance.now() is measured from navigation start
  readyMs: null,
  history: [],  // [[step, ms since navigation start], ...]: what the tests and the bench read
  el: document.getElementById("load-status"),
  bar: document.getElementById("load-progress"),

  /** Move to a step (never backwards) and optionally replace its text. */
  stage(step, text) {
    const i = STEPS.indexOf(step);
    if (i < 0 || i < STEPS.indexOf(this.step)) return;
    if (step !== this.step || !this.history.length) this.history.push([step, Math.round(performance.now())]);
    this.step = step;
    this.bar.value = i;
    this.el.textContent = text || TEXT[step];
    document.documentElement.dataset.loadStep = step;
  },

  /** Called by main.py once the model can predict. */
  ready() {
    this.readyMs = performance.now() - this.t0;
    this.stage("ready", `Ready in ${(this.readyMs / 1000).toFixed(1)} s — runs entirely in your browser`);
    this.bar.value = this.bar.max;
    document.documentElement.classList.add("py-ready");
    registerWorker();
  },

  fail(message) {
    this.history.push(["failed", Math.round(performance.now())]);
    this.el.textContent = message;
    document.documentElement.classList.add("py-failed");
    registerWorker();
  },
};
loader.bar.max = STEPS.length - 1;
loader.stage("runtime");
window.digitsLoader = loader;
// Per-prediction timings (ms, preprocessing + inference) written by main.py; read by the bench.
window.digitsStats = { timings: [], prepare: [], model: [], count: 0 };

// Finished downloads tell which step the runtime has reached.
const seen = (name) => {
  if (/pyodide-lock\.json$|\.whl$/.test(name)) loader.stage("numpy");
  else if (/\/engine\/.+\.py$/.test(name)) loader.stage("engine", "Fetching the engine and the model…");
};
for (const e of performance.getEntriesByType("resource")) seen(e.name);
new PerformanceObserver((list) => list.getEntries().forEach((e) => seen(e.name)))
  .observe({ type: "resource", buffered: true });

// PyScript reports "Loading Pyodide", "Loaded Pyodide", ... as py:progress.
addEventListener("py:progress", (e) => {
  if (/^Loaded Pyodide/.test(e.detail)) loader.stage("engine", "Fetching the engine and the model…");
});

// PyScript fires py:done when main.py has finished, successfully or not. If
// the model never became ready by then, say so instead of spinning forever.
addEventListener("py:done", () => {
  const html = document.documentElement;
  if (!html.classList.contains("py-ready") && !html.classList.contains("py-failed")) {
    loader.fail("Python stopped before the model was ready; the browser console has the details.");
  }
});

// Offline support. The worker sits at the site root (./sw.js) so that its
// scope covers index.html on any static host without special headers. It is
// registered once the page is ready (or has given up), so that its precaching
// does not compete with the first load for bandwidth and CPU.
function registerWorker() {
  if (loader.workerRequested || !("serviceWorker" in navigator) || location.protocol === "file:") return;
  loader.workerRequested = true;
  navigator.serviceWorker.register("./sw.js").catch((err) => {
    console.warn("service worker not registered:", err);
  });
}
addEventListener("load", () => setTimeout(registerWorker, 20000));
