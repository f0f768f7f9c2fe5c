/* Opening a picture on the pad: the "Open image…" input, drag and drop, paste.
 *
 * imageOpening is mixed into the Pad class by web/pad.js (it uses the pad's
 * strokes, image, remember(), redraw() and send()). The browser decodes the
 * file (bitmaps are never closed: undo may show them again); the picture is scaled to fit IMAGE_MAX x IMAGE_MAX on white paper and sent to
 * Python as an "image" ink event, where web/ink.py decides whether to invert it.
 */

const IMAGE_MAX = 280;  // opened images are scaled to fit this box before Python sees them

export const imageOpening = {
  /** Show a picture (File or Blob) on the pad and send it to Python. */
  async openImage(file) {
    if (!file) return;
    const name = file.name || "the image";
    if (file.type && !file.type.startsWith("image/")) {
      this.refuseImage(`Could not open ${name}: it is not an image (try a PNG or JPEG).`);
      return;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (err) {
      this.refuseImage(`Could not open ${name}: the browser cannot decode it (${err.message || err}).`);
      return;
    }
    const scale = Math.min(1, IMAGE_MAX / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const c = document.createElement("canvas");
    c.width = w; c.height = h;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    // Transparent pixels become white paper, so a PNG of dark ink with alpha
    // reads like a scan.
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(bitmap, 0, 0, w, h);
    this.remember();  // opening a picture can be undone like a stroke
    this.strokes = [];
    this.current = null;
    this.boxes = null;
    this.image = { bitmap, width: w, height: h, rgba: ctx.getImageData(0, 0, w, h).data };
    this.redraw();
    this.announce(`Opened ${file.name || "image"}`);
    this.send(true);
  },

  /**
   * A picture that cannot be shown: the stale picture and answer go (undo brings them back)
   * and the reason takes the answer's place, warning-coloured, so it is not missed.
   */
  refuseImage(text) {
    if (!this.isEmpty()) this.remember();
    this.strokes = [];
    this.current = null;
    this.boxes = null;
    this.image = null;
    this.redraw();
    this.refusal = text;  // Python clears the answer, the bars and the boxes (an empty pad) and shows why
    this.send(true);
    this.refusal = null;
    this.announce(text);
    const message = document.getElementById("message");
    if (message) {
      message.textContent = text;
      message.classList.add("unsure");
    }
  },

  announce(text) {
    const el = document.getElementById("pad-status");
    if (el) el.textContent = text;
  },
};

/** The ways in for a picture: the file input, a drop anywhere on the page, a paste. */
export function wireImageInput(pad) {
  const file = document.getElementById("file");
  file.addEventListener("change", () => { pad.openImage(file.files[0]); file.value = ""; });

  // Dropping an image anywhere on the page opens it.
  const zone = document.body;
  zone.addEventListener("dragover", (e) => {
    if ([...(e.dataTransfer?.types || [])].includes("Files")) {
      e.preventDefault();
      document.documentElement.classList.add("dragging");
    }
  });
  zone.addEventListener("dragleave", (e) => {
    if (!e.relatedTarget) document.documentElement.classList.remove("dragging");
  });
  zone.addEventListener("drop", (e) => {
    document.documentElement.classList.remove("dragging");
    const f = e.dataTransfer?.files?.[0];
    if (f) { e.preventDefault(); pad.openImage(f); }
  });
  // Pasting an image (Ctrl+V of a screenshot) opens it too.
  document.addEventListener("paste", (e) => {
    const item = [...(e.clipboardData?.items || [])].find((i) => i.type.startsWith("image/"));
    if (item) { e.preventDefault(); pad.openImage(item.getAsFile()); }
  });
}
