/* The drawing pad: mouse, touch and pen through pointer events.
 *
 * Plain JavaScript on purpose: it runs from the first paint, seconds before
 * Python has loaded, so drawing never waits for the runtime. It owns the
 * strokes (undo, clear, keyboard shortcuts) and the opened image, and tells
 * Python about changes by dispatching events on #pad:
 *
 *   "ink"      detail = {kind: "pad"|"image"|"empty", width, height, rgba, final}
 *              rgba is a Uint8ClampedArray of an offscreen canvas: for "pad" it is
 *              white ink on black, the ink's bounding box on an INK_SIZE x INK_SIZE
 *              canvas (plus the brush radius); for "image" it is the
 *              decoded picture (Python turns it to grayscale and decides whether
 *              to invert it). Sent at most once per animation frame and every
 *              LIVE_INTERVAL_MS while drawing (live prediction), and once at each
 *              stroke end, undo, clear and image load (final = true).
 *
 * Strokes are stored in pad coordinates normalised to [0, 1], so the pad can be
 * resized (rotation, window resize) and redrawn at any devicePixelRatio.
 */

const INK_SIZE = 280;          // side of the offscreen canvas Python reads
const IMAGE_MAX = 280;         // opened images are scaled to fit this box before Python sees them
// Brush diameter as a fraction of the pad side. Chosen so that a digit drawn
// across about two thirds of the pad has MNIST-like strokes after preprocess()
// scales its bounding box to 20 px: 0.075 * 280 = 21 px -> ~2.3 px at 28x28.
const BRUSH = 0.075;
const LIVE_INTERVAL_MS = 100;  // live prediction while drawing, at most this often

class Pad {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.ink = document.createElement("canvas");  // what the model reads: white on black
    this.ink.width = this.ink.height = INK_SIZE;
    this.inkCtx = this.ink.getContext("2d", { willReadFrequently: true });
    this.strokes = [];        // [[{x, y}, ...], ...] in [0, 1] pad coordinates
    this.current = null;      // the stroke being drawn
    this.pointerId = null;
    this.image = null;        // {bitmap, rgba, width, height} when a picture is shown
    this.lastSent = 0;
    this.pendingFrame = 0;
    this.palette = this.colors();
    this.listeners();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.redraw());
  }

  /* ---------- pointer input ---------- */

  listeners() {
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.down(e));
    c.addEventListener("pointermove", (e) => this.move(e));
    c.addEventListener("pointerup", (e) => this.up(e));
    c.addEventListener("pointercancel", (e) => this.up(e));
    c.addEventListener("lostpointercapture", (e) => this.up(e));
    // No context menu or text selection on long press.
    c.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    return {
      x: Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)),
      y: Math.min(1, Math.max(0, (e.clientY - r.top) / r.height)),
    };
  }

  down(e) {
    if (this.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.pointerId = e.pointerId;
    if (this.image) this.clearImage();  // drawing over a photo starts a fresh pad
    this.current = [this.point(e)];
    this.strokes.push(this.current);
    this.drawDot(this.current[0]);
    this.schedule(false);
  }

  move(e) {
    if (e.pointerId !== this.pointerId || !this.current) return;
    e.preventDefault();
    // Coalesced events keep fast strokes smooth: the browser may batch several
    // pointer samples into one pointermove.
    const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) {
      const p = this.point(ev);
      const last = this.current[this.current.length - 1];
      if (Math.hypot(p.x - last.x, p.y - last.y) < 0.002) continue;
      this.current.push(p);
      this.drawTail(this.current);
    }
    this.schedule(false);
  }

  up(e) {
    if (e.pointerId !== this.pointerId) return;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
    this.pointerId = null;
    if (!this.current) return;
    this.current = null;
    this.send(true);
  }

  /* ---------- actions ---------- */

  undo() {
    if (this.image) { this.clearImage(); this.send(true); return; }
    if (!this.strokes.length) return;
    this.strokes.pop();
    this.current = null;
    this.redraw();
    this.send(true);
  }

  clear() {
    this.strokes = [];
    this.current = null;
    this.clearImage();
    this.redraw();
    this.send(true);
  }

  isEmpty() { return !this.strokes.length && !this.image; }

  /** Show a picture (File or Blob) on the pad and send it to Python. */
  async openImage(file) {
    if (!file) return;
    if (file.type && !file.type.startsWith("image/")) {
      this.announce(`${file.name} is not an image`);
      return;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (err) {
      this.announce(`Could not read ${file.name || "the image"}: ${err.message || err}`);
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
    this.strokes = [];
    this.current = null;
    this.image = { bitmap, width: w, height: h, rgba: ctx.getImageData(0, 0, w, h).data };
    this.redraw();
    this.announce(`Opened ${file.name || "image"}`);
    this.send(true);
  }

  clearImage() {
    if (this.image) this.image.bitmap.close?.();
    this.image = null;
  }

  announce(text) {
    const el = document.getElementById("pad-status");
    if (el) el.textContent = text;
  }

  /* ---------- rendering ---------- */

  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
      this.redraw();
    }
  }

  colors() {
    const s = getComputedStyle(this.canvas);
    return {
      ink: s.getPropertyValue("--pad-ink").trim() || "#111",
      paper: s.getPropertyValue("--pad-paper").trim() || "#fff",
    };
  }

  /** Stroke path through the midpoints of successive samples (quadratic curves). */
  path(ctx, pts, size) {
    ctx.beginPath();
    ctx.moveTo(pts[0].x * size, pts[0].y * size);
    if (pts.length === 1) {
      ctx.lineTo(pts[0].x * size + 0.01, pts[0].y * size);  // a dot
    }
    for (let i = 1; i < pts.length - 1; i++) {
      const mx = (pts[i].x + pts[i + 1].x) / 2, my = (pts[i].y + pts[i + 1].y) / 2;
      ctx.quadraticCurveTo(pts[i].x * size, pts[i].y * size, mx * size, my * size);
    }
    if (pts.length > 1) {
      const last = pts[pts.length - 1];
      ctx.lineTo(last.x * size, last.y * size);
    }
    ctx.stroke();
  }

  styleStroke(ctx, color, size) {
    ctx.strokeStyle = color;
    ctx.lineWidth = BRUSH * size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  /** Draw the newest part of a stroke on both canvases (no full redraw while drawing). */
  drawTail(pts) {
    const n = pts.length;
    const tail = pts.slice(Math.max(0, n - 4));
    // The last three samples re-drawn as one curve piece: overlapping round
    // caps hide the joins and the cost stays constant per sample.
    this.styleStroke(this.ctx, this.palette.ink, this.canvas.width);
    this.path(this.ctx, tail, this.canvas.width);
    this.styleStroke(this.inkCtx, "#fff", INK_SIZE);
    this.path(this.inkCtx, tail, INK_SIZE);
  }

  drawDot(p) { this.drawTail([p]); }

  redraw() {
    this.palette = this.colors();  // re-read on every redraw: theme changes trigger one
    const { ink, paper } = this.palette;
    const W = this.canvas.width;
    this.ctx.fillStyle = paper;
    this.ctx.fillRect(0, 0, W, this.canvas.height);
    this.inkCtx.fillStyle = "#000";
    this.inkCtx.fillRect(0, 0, INK_SIZE, INK_SIZE);
    if (this.image) {
      const { bitmap } = this.image;
      const s = Math.min(W / bitmap.width, this.canvas.height / bitmap.height);
      const w = bitmap.width * s, h = bitmap.height * s;
      this.ctx.drawImage(bitmap, (W - w) / 2, (this.canvas.height - h) / 2, w, h);
    }
    for (const stroke of this.strokes) {
      this.styleStroke(this.ctx, ink, W);
      this.path(this.ctx, stroke, W);
      this.styleStroke(this.inkCtx, "#fff", INK_SIZE);
      this.path(this.inkCtx, stroke, INK_SIZE);
    }
    this.canvas.classList.toggle("has-ink", !this.isEmpty());
  }

  /* ---------- talking to Python ---------- */

  /** Live updates: at most once per frame and every LIVE_INTERVAL_MS, never inside the pointer handler. */
  schedule(final) {
    this.canvas.classList.add("has-ink");
    if (this.pendingFrame) return;
    this.pendingFrame = requestAnimationFrame(() => {
      this.pendingFrame = 0;
      if (performance.now() - this.lastSent >= LIVE_INTERVAL_MS) this.send(final);
      else if (this.current) this.schedule(final);  // keep trying until the interval passed
    });
  }

  snapshot(final = true) {
    if (this.image) {
      const { rgba, width, height } = this.image;
      return { kind: "image", width, height, rgba, final };
    }
    if (!this.strokes.length) return { kind: "empty", width: 0, height: 0, rgba: null, final };
    // Only the ink's bounding box (plus the brush radius and a safety pixel):
    // preprocess() crops to the ink anyway, so the result is the same, and
    // Python gets fewer pixels to copy and scan.
    const { x, y, w, h } = this.inkBox();
    const rgba = this.inkCtx.getImageData(x, y, w, h).data;
    return { kind: "pad", width: w, height: h, rgba, final };
  }

  /** Pixel box of all strokes on the INK_SIZE canvas, grown by the brush radius + 2 px. */
  inkBox() {
    let x0 = 1, y0 = 1, x1 = 0, y1 = 0;
    for (const stroke of this.strokes) {
      for (const p of stroke) {
        if (p.x < x0) x0 = p.x;
        if (p.y < y0) y0 = p.y;
        if (p.x > x1) x1 = p.x;
        if (p.y > y1) y1 = p.y;
      }
    }
    const pad = (BRUSH * INK_SIZE) / 2 + 2;
    const x = Math.max(0, Math.floor(x0 * INK_SIZE - pad));
    const y = Math.max(0, Math.floor(y0 * INK_SIZE - pad));
    const w = Math.min(INK_SIZE, Math.ceil(x1 * INK_SIZE + pad)) - x;
    const h = Math.min(INK_SIZE, Math.ceil(y1 * INK_SIZE + pad)) - y;
    return { x, y, w: Math.max(1, w), h: Math.max(1, h) };
  }

  send(final) {
    this.lastSent = performance.now();
    this.canvas.classList.toggle("has-ink", !this.isEmpty());
    this.canvas.dispatchEvent(new CustomEvent("ink", { detail: this.snapshot(final) }));
  }
}

/* ---------- wiring: buttons, keys, file open and drop ---------- */

function wire(pad) {
  document.getElementById("clear").addEventListener("click", () => pad.clear());
  document.getElementById("undo").addEventListener("click", () => pad.undo());
  const file = document.getElementById("file");
  file.addEventListener("change", () => { pad.openImage(file.files[0]); file.value = ""; });

  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key === "Escape") { e.preventDefault(); pad.clear(); }
    else if ((e.ctrlKey || e.metaKey) && !e.shiftKey && e.key.toLowerCase() === "z") {
      e.preventDefault();
      pad.undo();
    }
  });

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

const pad = new Pad(document.getElementById("pad"));
wire(pad);
// Python asks for the current ink when it becomes ready (something may have
// been drawn while it was loading), and tests drive the pad through this.
window.digitPad = pad;
