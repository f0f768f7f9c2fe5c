/* The pad's strokes on its two canvases: what the person sees and what Python reads.
 *
 * Mixed into the Pad class by web/pad.js (the methods use its canvas, ctx, ink,
 * inkCtx, strokes, image and palette). The visible canvas is sized by
 * devicePixelRatio and follows the page's colours (--pad-ink, --pad-paper); the
 * offscreen ink canvas is always INK_SIZE x INK_SIZE, white ink on black.
 * Strokes are smoothed with quadratic curves through the samples' midpoints.
 */

export const INK_SIZE = 280;   // side of the offscreen canvas Python reads
// Brush diameter as a fraction of the pad side. Chosen so that a digit drawn
// across about two thirds of the pad has MNIST-like strokes after preprocess()
// scales its bounding box to 20 px: 0.075 * 280 = 21 px -> ~2.3 px at 28x28.
const BRUSH = 0.075;

export const strokeDrawing = {
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
  },

  colors() {
    const s = getComputedStyle(this.canvas);
    return {
      ink: s.getPropertyValue("--pad-ink").trim() || "#111",
      paper: s.getPropertyValue("--pad-paper").trim() || "#fff",
    };
  },

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
  },

  styleStroke(ctx, color, size) {
    ctx.strokeStyle = color;
    ctx.lineWidth = BRUSH * size;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  },

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
  },

  drawDot(p) { this.drawTail([p]); },

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
  },

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
  },
};
