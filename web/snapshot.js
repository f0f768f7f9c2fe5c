/* The started interpreter's memory, kept for the next visit (Pyodide's memory snapshot).
 *
 * Python's own start-up (its main, then Pyodide's finalizeBootstrap importing ~150 stdlib modules)
 * took ~0.4 s of a repeat visit's 1.5 s. The first visit copies the interpreter's heap right after that
 * start-up (21 MB, before NumPy: a snapshot after it cannot work, NumPy's extension modules being
 * WebAssembly instances outside the heap) into the browser's Cache Storage; the next visit hands it to
 * loadPyodide, which restores it instead of starting Python again. The snapshot belongs to one build of
 * the runtime: it is kept under a key made of the runtime files' sha256 (web/vendor/precache.json), so a
 * new runtime never restores an old heap, and a snapshot that fails to restore is forgotten.
 * Pyodide 0.27 calls the options _makeSnapshot and _loadSnapshot: experimental, so every step here
 * falls back to a plain start.
 */

const CACHE = "digits-snapshot-v1";

/** The key of this runtime's snapshot: a URL made of the sha256 of every runtime file but NumPy's wheel
 * (the snapshot is taken before NumPy is loaded). null when the list names no sha256 to key on. */
export async function snapshotKey(runtimeFiles, base) {
  const parts = runtimeFiles.filter((f) => !f.url.endsWith(".whl")).map((f) => `${f.url}=${f.sha256}`);
  if (!parts.length || parts.some((p) => p.endsWith("=undefined"))) return null;
  const hex = await sha256Hex(new TextEncoder().encode(parts.sort().join("\n")));
  return new URL(`./pyodide-snapshot-${hex.slice(0, 24)}`, base).href;
}

async function openCache() {
  return self.caches ? await self.caches.open(CACHE) : null;  // no Cache Storage outside a secure context
}

/** This runtime's stored snapshot, or null when none is stored: { bytes }, a promise of its bytes that
 * rejects unless they are the very bytes stored (their sha256 is kept beside them: Pyodide hangs on a
 * cut-off heap instead of failing). A promise, so reading 21 MB overlaps the interpreter's download. */
export async function storedSnapshot(key) {
  let response;
  try {
    response = await (await openCache())?.match(key);
  } catch {
    return null;
  }
  if (!response) return null;
  const bytes = response.arrayBuffer().then(async (buffer) => {
    if ((await sha256Hex(buffer)) !== response.headers.get(DIGEST_HEADER)) throw new Error("the stored snapshot is damaged");
    return new Uint8Array(buffer);
  });
  bytes.catch(() => {});  // loadPyodide reports it
  return { bytes };
}

/** Keeps snapshot as this runtime's, dropping any other (an older runtime's). Never throws: a full
 * or unavailable Cache Storage only means the next visit starts Python the plain way. */
export async function storeSnapshot(key, snapshot) {
  try {
    const cache = await openCache();
    if (!cache) return;
    for (const request of await cache.keys()) if (request.url !== key) await cache.delete(request);
    const headers = { "Content-Type": "application/octet-stream", [DIGEST_HEADER]: await sha256Hex(snapshot) };
    await cache.put(key, new Response(snapshot, { headers }));
  } catch (err) {
    console.warn("digits: the interpreter's snapshot was not kept:", err);
  }
}

const DIGEST_HEADER = "X-Snapshot-Sha256";

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Forgets every stored snapshot (one failed to restore). */
export async function forgetSnapshots() {
  try {
    await self.caches?.delete(CACHE);
  } catch {
    // nothing stored, or no Cache Storage: nothing to forget
  }
}
