/* Start the page's Python worker (web/compute.js) the moment the page begins to load.
 *
 * index.html loads this module with `async`, so it runs as soon as it arrives, while the HTML is
 * still being parsed, instead of after every deferred module of the page (web/bridge.js, which
 * talks to the worker, runs last): Pyodide's download and start begin that much earlier. What
 * the worker says before web/bridge.js listens is kept and handed over by takeEarlyEvents().
 */

export const worker = new Worker(new URL("./compute.js", import.meta.url), { type: "module" });

const early = [];
const keep = (event) => early.push(event);
worker.addEventListener("message", keep);
worker.addEventListener("error", keep);

/** The worker's messages and errors so far, in order; from now on its listeners get them all. */
export function takeEarlyEvents() {
  worker.removeEventListener("message", keep);
  worker.removeEventListener("error", keep);
  return early.splice(0);
}
