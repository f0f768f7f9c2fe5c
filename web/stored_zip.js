/* Unpacking a zip archive whose entries are all stored (not compressed) straight into Pyodide's
 * file system, from JavaScript.
 *
 * The repacked NumPy wheel (scripts/repack_runtime.py) and the site's Python archive
 * (scripts/site_python.py) are such archives: the wire compresses them (brotli), so inside
 * they need no inflating. Python's zipfile took about 100 ms to unpack the wheel's 11 MB
 * (every byte copied through the interpreter); here each entry is one FS.writeFile of a view.
 */

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;

/** [[name, first byte, size], ...] of a stored archive, or null when it is not one this reads
 * (compressed entries, zip64, a comment, a name that climbs out of its folder, bounds that do not hold). */
function storedEntries(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength - 22;  // the end-of-directory record, without a comment
  if (end < 0 || view.getUint32(end, true) !== END_OF_DIRECTORY) return null;
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const names = new TextDecoder("utf-8", { fatal: true });
  const entries = [];
  try {
    for (let i = 0; i < count; i++) {
      if (at + 46 > end || view.getUint32(at, true) !== DIRECTORY_ENTRY) return null;
      const method = view.getUint16(at + 10, true);
      const size = view.getUint32(at + 20, true);
      const nameLength = view.getUint16(at + 28, true);
      const skip = nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
      const local = view.getUint32(at + 42, true);
      const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
      if (method !== STORED || size !== view.getUint32(at + 24, true)) return null;
      if (!name || name.startsWith("/") || name.split("/").includes("..")) return null;
      if (local + 30 > end || view.getUint32(local, true) !== LOCAL_HEADER) return null;
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      if (start + size > end) return null;
      entries.push([name, start, size]);
      at += 46 + skip;
    }
  } catch {
    return null;  // a name that is not UTF-8, or a read past the end
  }
  return entries;
}

/** Writes every entry of a stored zip archive under folder (made if missing); returns false, having
 * written nothing, when the archive is not one storedEntries reads (the caller unpacks it another way). */
export function writeStoredZip(FS, bytes, folder) {
  const entries = storedEntries(bytes);
  if (!entries) return false;
  const made = new Set();
  const makeFolder = (path) => {
    if (!made.has(path)) FS.mkdirTree(path);
    made.add(path);
  };
  const root = folder.replace(/\/$/, "");
  makeFolder(root);
  for (const [name, start, size] of entries) {
    const path = `${root}/${name}`;
    if (name.endsWith("/")) {
      makeFolder(path.slice(0, -1));
      continue;
    }
    makeFolder(path.slice(0, path.lastIndexOf("/")));
    FS.writeFile(path, bytes.subarray(start, start + size));
  }
  return true;
}
