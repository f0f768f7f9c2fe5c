/* The personal model and the writer's examples, kept in this browser profile (IndexedDB).
 *
 * One record, written whole in one transaction, so a tab closed while saving leaves
 * either the old record or the new one, never half of each:
 *
 *   {format: 1, savedAt, model: Uint8Array|null (an engine .npz file),
 *    labels: Uint8Array(N), pixels: Uint8Array(N * 784) (28x28 model inputs, 0..255),
 *    strokes: string (JSON: one stroke list or null per example)}
 *
 * Nothing here trusts the record: web/teach.py checks every field and loads the model
 * bytes with engine.load_model, falling back to the shipped model when anything is off.
 * window.digitsStore = {load(), save(model, labels, pixels, strokes), clear(), put(record)}
 * (put writes any record as it is: tests use it to plant a damaged one).
 */

const DB_NAME = "digits";
const STORE = "teach";
const KEY = "state";
export const FORMAT = 1;

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`IndexedDB cannot be opened: ${req.error}`));
    req.onblocked = () => reject(new Error("IndexedDB is blocked by another tab of this page"));
  });
}

/** Run one request in its own transaction; resolve with its result once the transaction commits. */
async function request(mode, make) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = make(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = tx.onerror = () => reject(new Error(`IndexedDB: ${tx.error || req.error}`));
    });
  } finally {
    db.close();
  }
}

const store = {
  /** The saved record, or null when nothing was saved (or IndexedDB is unavailable: rejects). */
  load: () => request("readonly", (s) => s.get(KEY)).then((r) => r ?? null),
  save: (model, labels, pixels, strokes) =>
    store.put({ format: FORMAT, savedAt: new Date().toISOString(), model, labels, pixels, strokes }),
  put: (record) => request("readwrite", (s) => s.put(record, KEY)),
  clear: () => request("readwrite", (s) => s.delete(KEY)),
};

window.digitsStore = store;
