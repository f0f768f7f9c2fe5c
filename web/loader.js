/* Loading progress and the service worker, in plain JavaScript.
 *
 * The page's Python runs in a Web Worker (web/compute.js), which reports its steps
 * through web/bridge.js: runtime -> numpy -> engine -> model -> ready (or failed).
 * This script shows them in the header, with a Retry button when loading failed.
 */

const STEPS = ["runtime", "numpy", "engine", "model", "ready"];
const TEXT = {
  runtime: "Loading the Python runtime (Pyodide)…",
  numpy: "Loading NumPy…",
  engine: "Loading the recognizer engine…",
  model: "Loading the model…",
  ready: "Ready",
};
const DOWNLOADING = ["runtime", "numpy"];  // the steps whose text is followed by how much has arrived

const loader = {
  step: "runtime",
  t0: 0,  // performance.now() is measured from navigation start
  readyMs: null,
  history: [],  // [[step, ms since navigation start], ...]: what the tests and the bench read
  texts: {},  // each step's text as the worker last named it
  received: 0,  // bytes of the runtime arrived so far, of total (web/compute.js counts them)
  total: 0,
  el: document.getElementById("load-status"),
  bar: document.getElementById("load-progress"),

  /** Move to a step (never backwards) and optionally replace its text. */
  stage(step, text) {
    const i = STEPS.indexOf(step);
    if (i < 0 || i < STEPS.indexOf(this.step)) return;
    if (step !== this.step || !this.history.length) this.history.push([step, Math.round(performance.now())]);
    this.step = step;
    this.bar.value = i;
    if (text) this.texts[step] = text;
    this.el.textContent = (this.texts[step] || TEXT[step]) + (DOWNLOADING.includes(step) ? this.bytesText() : "");
    document.documentElement.dataset.loadStep = step;
  },

  /** How much of the runtime has arrived: shown after the step's text while downloading. */
  bytes(received, total) {
    this.received = received;
    this.total = total;
    if (DOWNLOADING.includes(this.step)) this.stage(this.step);
  },

  /** "3.1 of 15.6 MB (20%)" (or "3.1 MB" without a total), once anything has arrived. */
  bytesText() {
    if (!this.received) return "";
    const mb = (n) => (n / 1e6).toFixed(1);
    if (!this.total) return ` ${mb(this.received)} MB`;
    const pct = Math.min(100, Math.round((100 * this.received) / this.total));
    return ` ${mb(Math.min(this.received, this.total))} of ${mb(this.total)} MB (${pct}%)`;
  },

  /** Called by web/bridge.js once Python can predict. */
  ready() {
    this.readyMs = performance.now() - this.t0;
    this.stage("ready", `Ready in ${(this.readyMs / 1000).toFixed(1)} s — runs entirely in your browser`);
    this.bar.value = this.bar.max;
    document.documentElement.classList.add("py-ready");
    registerWorker();
  },

  fail(message) {
    if (document.documentElement.classList.contains("py-failed")) return;  // the first failure says why
    this.history.push(["failed", Math.round(performance.now())]);
    this.el.textContent = message;
    document.documentElement.classList.add("py-failed");
    const retry = document.getElementById("load-retry");
    if (retry) retry.hidden = false;
    registerWorker();
  },
};
loader.bar.max = STEPS.length - 1;
loader.stage("runtime");
window.digitsLoader = loader;
// Figures the page's Python reports (web/ui.py's stats), read by the tests and the bench: per-reading ms
// (timings = prepare + model), the "Inside the model" tasks, the learning tasks and the teach panel's notes.
window.digitsStats = { timings: [], prepare: [], model: [], count: 0, inside: [], learn: [], teach: [] };

document.getElementById("load-retry")?.addEventListener("click", () => location.reload());

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
