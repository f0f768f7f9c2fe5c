/* The pad's strokes on its canvases: what the person sees, what Python reads, and the boxes read.
 *
 * Mixed into the Pad class by web/pad.js (the methods use its canvas, ctx, ink,
 * inkCtx, overlay, strokes, image, boxes and palette). Points are in units of
 * the pad's height: y in [0, 1], x in [0, aspect], so a wide pad (a whole
 * number) and a square one (a phone) draw the same shapes, and a resize keeps
 * them. The visible canvas is sized by devicePixelRatio and follows the page's
 * colours (--pad-ink, --pad-paper); the offscreen ink canvas is INK_HEIGHT
 * tall and as wide as the pad's aspect asks, white ink on black, drawn with
 * web/ink_pen.js's pen only when a snapshot needs it. Strokes are
 * smoothed with quadratic curves through the samples' midpoints.
 */

import { inkPen } from "./ink_pen.js";

export const INK_HEIGHT = 280;   // height of the offscreen canvas Python reads
// The visible brush's diameter as a fraction of the pad height. The ink canvas
// Python reads is drawn with a pen that follows the writing's size instead
// (web/ink_pen.js), redrawn from the strokes whenever Python asks (renderInk).
const BRUSH = 0.075;

export const strokeDrawing = {
  /** Width / height of the pad as laid out (1 before layout). */
  layoutAspect() {
    const r = this.canvas.getBoundingClientRect();
    return r.width > 0 && r.height > 0 ? r.width / r.height : 1;
  },

  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    const inkWidth = Math.max(1, Math.round(INK_HEIGHT * this.layoutAspect()));
    const changed = this.canvas.width !== w || this.canvas.height !== h || this.ink.width !== inkWidth;
    if (!changed) return;
    this.canvas.width = this.overlay.width = w;
    this.canvas.height = this.overlay.height = h;
    this.ink.width = inkWidth;
    this.ink.height = INK_HEIGHT;
    this.redraw();
  },

  colors() {
    const s = getComputedStyle(this.canvas);
    return {
      ink: s.getPropertyValue("--pad-ink").trim() || "#111",
      paper: s.getPropertyValue("--pad-paper").trim() || "#fff",
      box: s.getPropertyValue("--pad-box").trim() || "#2457d6",
      reject: s.getPropertyValue("--pad-reject").trim() || "#9a5b00",
    };
  },

  /** Stroke path through the midpoints of successive samples (quadratic curves); scale = pixels per pad height. */
  path(ctx, pts, scale) {
    ctx.beginPath();
    ctx.moveTo(pts[0].x * scale, pts[0].y * scale);
    if (pts.length === 1) {
      ctx.lineTo(pts[0].x * scale + 0.01, pts[0].y * scale);  // a dot
    }
    for (let i = 1; i < pts.length - 1; i++) {
      const mx = (pts[i].x + pts[i + 1].x) / 2, my = (pts[i].y + pts[i + 1].y) / 2;
      ctx.quadraticCurveTo(pts[i].x * scale, pts[i].y * scale, mx * scale, my * scale);
    }
    if (pts.length > 1) {
      const last = pts[pts.length - 1];
      ctx.lineTo(last.x * scale, last.y * scale);
    }
    ctx.stroke();
  },

  /** Round pen of `width` pixels. */
  styleStroke(ctx, color, width) {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  },

  /** Draw the newest part of a stroke on the visible canvas (no full redraw while drawing). */
  drawTail(pts) {
    const n = pts.length;
    const tail = pts.slice(Math.max(0, n - 4));
    // The last three samples re-drawn as one curve piece: overlapping round
    // caps hide the joins and the cost stays constant per sample.
    this.styleStroke(this.ctx, this.palette.ink, BRUSH * this.canvas.height);
    this.path(this.ctx, tail, this.canvas.height);
    this.inkStale = true;
  },

  /** Redraw the ink canvas Python reads from the strokes, with the pen their size asks for (web/ink_pen.js). */
  renderInk() {
    if (!this.inkStale) return;
    this.inkPenPx = inkPen(this.strokes, INK_HEIGHT);
    this.inkCtx.fillStyle = "#000";
    this.inkCtx.fillRect(0, 0, this.ink.width, this.ink.height);
    for (const stroke of this.strokes) {
      this.styleStroke(this.inkCtx, "#fff", this.inkPenPx);
      this.path(this.inkCtx, stroke, INK_HEIGHT);
    }
    this.inkStale = false;
  },

  drawDot(p) { this.drawTail([p]); },

  /** Where the opened picture sits on the visible canvas: {x, y, scale} from its pixels (as sent) to canvas pixels. */
  imageFrame() {
    const { bitmap, width } = this.image;
    const W = this.canvas.width, H = this.canvas.height;
    const s = Math.min(W / bitmap.width, H / bitmap.height);
    return { x: (W - bitmap.width * s) / 2, y: (H - bitmap.height * s) / 2, scale: (bitmap.width * s) / width };
  },

  redraw() {
    this.palette = this.colors();  // re-read on every redraw: theme changes trigger one
    const { ink, paper } = this.palette;
    const W = this.canvas.width, H = this.canvas.height;
    this.ctx.fillStyle = paper;
    this.ctx.fillRect(0, 0, W, H);
    this.inkStale = true;
    if (this.image) {
      const { bitmap, width, height } = this.image;
      const f = this.imageFrame();
      this.ctx.drawImage(bitmap, f.x, f.y, width * f.scale, height * f.scale);
    }
    for (const stroke of this.strokes) {
      this.styleStroke(this.ctx, ink, BRUSH * H);
      this.path(this.ctx, stroke, H);
    }
    this.canvas.classList.toggle("has-ink", !this.isEmpty());
    this.drawBoxes();
  },

  /** Pixel box of all strokes on the ink canvas, grown by the ink pen's radius + 2 px (after renderInk). */
  inkBox() {
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const stroke of this.strokes) {
      for (const p of stroke) {
        if (p.x < x0) x0 = p.x;
        if (p.y < y0) y0 = p.y;
        if (p.x > x1) x1 = p.x;
        if (p.y > y1) y1 = p.y;
      }
    }
    const W = this.ink.width, H = this.ink.height;
    const pad = this.inkPenPx / 2 + 2;
    const x = Math.min(W - 1, Math.max(0, Math.floor(x0 * INK_HEIGHT - pad)));
    const y = Math.min(H - 1, Math.max(0, Math.floor(y0 * INK_HEIGHT - pad)));
    const w = Math.min(W, Math.ceil(x1 * INK_HEIGHT + pad)) - x;
    const h = Math.min(H, Math.ceil(y1 * INK_HEIGHT + pad)) - y;
    return { x, y, w: Math.max(1, w), h: Math.max(1, h) };
  },

  /* ---------- the boxes of what was read, on the overlay canvas ---------- */

  /**
   * Show what Python read. `reading` is a JSON string (or object):
   * {kind: "pad"|"image", selected, digits: [{box: [x0, y0, x1, y1], label, confidence, percent}]},
   * boxes in the pixels of the ink canvas ("pad") or of the picture as sent ("image").
   */
  showBoxes(reading) {
    this.boxes = typeof reading === "string" ? JSON.parse(reading) : reading;
    this.heat = null;  // it explained the previous reading
    this.drawBoxes();
  },

  clearBoxes() { this.boxes = null; this.heat = null; this.drawBoxes(); },

  /** Source pixels -> visible canvas pixels, for the boxes' kind (null when the pad no longer shows it). */
  boxFrame(kind) {
    if (kind === "image") return this.image ? this.imageFrame() : null;
    return this.image ? null : { x: 0, y: 0, scale: this.canvas.height / INK_HEIGHT };
  },

  drawBoxes() {
    const ctx = this.overlayCtx;
    const W = this.overlay.width, H = this.overlay.height;
    ctx.clearRect(0, 0, W, H);
    const reading = this.boxes;
    const frame = reading && this.boxFrame(reading.kind);
    if (!frame) return;
    this.drawHeat?.(ctx, frame);  // web/pad_heat.js: under the boxes
    // The ratio resize() sized the canvas with; not read back from its layout, which would force the page's
    // layout in the middle of applying a reading (20-70 ms for the first answer shown after loading).
    const dpr = window.devicePixelRatio || 1;
    const font = Math.round(13 * dpr);
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    reading.digits.forEach((d, i) => {
      const [x0, y0, x1, y1] = d.box.map((v, k) => (k % 2 ? frame.y : frame.x) + v * frame.scale);
      const color = d.label === null ? this.palette.reject : this.palette.box;
      ctx.strokeStyle = color;
      ctx.lineWidth = (i === reading.selected ? 2.5 : 1.25) * dpr;
      ctx.setLineDash(d.label === null ? [4 * dpr, 3 * dpr] : []);
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      // The small figure under each box: its digit's confidence (or "?" for not a digit).
      const text = d.label === null ? "?" : d.percent;  // Python's figure: one rounding rule (web/wording.py)
      const ty = Math.min(H - font - 2, y1 + 3 * dpr);
      ctx.fillStyle = color;
      ctx.fillText(text, (x0 + x1) / 2, ty);
    });
    ctx.setLineDash([]);
  },
};
