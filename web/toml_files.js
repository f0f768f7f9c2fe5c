/* The [files] table of pyscript.toml, read the same way by the page's two workers.
 *
 * web/compute.js is a module worker (import "./toml_files.js") and web/sw.js a classic
 * service worker (importScripts), and neither kind can load the other's way: a module
 * worker has no importScripts, and a classic script cannot export. So this is a classic
 * script that both can run, and it leaves its function on the worker's global object.
 */

/** The [files] of pyscript.toml as [[site path, file-system path], ...] ("./a" = "./b" lines). */
self.filesFromToml = function filesFromToml(text) {
  const section = text.split(/^\[files\]\s*$/m)[1] || "";
  const body = section.split(/^\[/m)[0];
  return [...body.matchAll(/^\s*"([^"]+)"\s*=\s*"([^"]+)"/gm)].map((m) => [m[1], m[2]]);
};
