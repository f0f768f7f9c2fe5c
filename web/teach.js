/* The "Teach it your handwriting" panel's browser side; web/teach.py does the rest.
 *
 * - The keys 0-9 while the pad has focus press the "It was a ..." buttons #teach-0 ... #teach-9.
 * - Import: the chosen file's bytes go to Python as a "teach-import" event on #teach-panel,
 *   detail = {name, bytes: Uint8Array}; Python validates them with the engine's loaders.
 * - window.digitsTeach.download(name, bytes): Export's downloads (a Blob URL, revoked after).
 */

function wireKeys() {
  const pad = document.getElementById("pad");
  pad.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || !/^[0-9]$/.test(e.key)) return;
    const button = document.getElementById(`teach-${e.key}`);
    if (!button || button.disabled) return;
    e.preventDefault();
    button.click();
  });
}

function wireImport() {
  const input = document.getElementById("import-file");
  const panel = document.getElementById("teach-panel");
  input.addEventListener("change", async () => {
    const file = input.files && input.files[0];
    input.value = "";  // the same file can be chosen again
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    panel.dispatchEvent(new CustomEvent("teach-import", { detail: { name: file.name, bytes } }));
  });
}

function download(name, bytes) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

wireKeys();
wireImport();
window.digitsTeach = { download };
