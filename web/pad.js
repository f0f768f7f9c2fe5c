/* The drawing pad: mouse, touch and pen through pointer events.
 *
 * Plain JavaScript on purpose: it runs from the first paint, seconds before
 * Python has loaded, so drawing never waits for the runtime. It owns the
 * strokes (undo, redo, clear, keyboard shortcuts) and the opened image, and tells
 * Python about changes by dispatching events on #pad:
 *
 *   "ink"      detail = {kind: "pad"|"image"|"empty", x, y, width, height, rgba, final, note}
 *              rgba is a Uint8ClampedArray of an offscreen canvas: for "pad" it is
 *              white ink on black (drawn with web/ink_pen.js's pen), the ink's bounding box (plus the pen radius),
 *              whose corner is (x, y) on the ink canvas (INK_HEIGHT tall, as wide
 *              as the pad's aspect); for "image" it is the decoded picture (x = y = 0;
 *              Python turns it to grayscale and decides whether to invert it).
 *              Sent at most once per animation frame while drawing (live prediction),
 *              LIVE_INTERVAL_MS apart, and once at each stroke end, undo, clear and
 *              image load (final = true). web/bridge.js hands them to Python's worker,
 *              one reading in flight at a time. An "empty" event may carry a `note`: why
 *              a picture could not be opened, which Python shows in the answer's place.
 *
 * Python answers with pad.showBoxes(reading): the box of each glyph it read,
 * drawn on the overlay canvas #pad-boxes with its confidence underneath.
 *
 * Strokes are stored in units of the pad's height (x in [0, aspect], y in [0, 1]),
 * so the pad can be resized (rotation, window resize) and redrawn at any
 * devicePixelRatio without distorting them.
 *
 * This file holds the pad's state, pointer input, undo/clear with their buttons
 * and keys, and the ink events; two ES modules add their methods to the class:
 *   web/pad_strokes.js  drawing the strokes on screen and on the ink canvas
 *   web/pad_image.js    opening a picture (file input, drop, paste)
 */

import { INK_HEIGHT, strokeDrawing } from "./pad_strokes.js";
import { imageOpening, wireImageInput } from "./pad_image.js";
import { heatOverlay } from "./pad_heat.js";
import { padHistory } from "./pad_history.js";

const LIVE_INTERVAL_MS = 100;  // live prediction while drawing, at most this often
const EDGE_SLOP_PX = 24;       // a stroke may start this far outside the pad (a pen lands a little off)

class Pad {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.ink = document.createElement("canvas");  // what the model reads: white on black
    this.ink.width = this.ink.height = INK_HEIGHT;
    this.inkCtx = this.ink.getContext("2d", { willReadFrequently: true });
    // The boxes of what was read, over the pad (pointer events go through to the pad).
    this.overlay = document.getElementById("pad-boxes") || document.createElement("canvas");
    this.overlayCtx = this.overlay.getContext("2d");
    this.boxes = null;        // the last reading Python showed (see showBoxes)
    this.refusal = null;      // while an unopenable picture is refused: why (sent with the empty ink)
    this.strokes = [];        // [[{x, y}, ...], ...] in [0, 1] pad coordinates
    this.current = null;      // the stroke being drawn
    this.pointerId = null;
    this.image = null;        // {bitmap, rgba, width, height} when a picture is shown
    this.lastSent = 0;
    this.inkStale = true;     // the ink canvas no longer shows the strokes (renderInk redraws it)
    this.inkPenPx = 0;        // the pen it was last drawn with
    this.pendingFrame = 0;
    this.touches = new Set();  // touch pointers down now: two or more is a pinch, never a stroke
    this.initHistory();
    this.palette = this.colors();
    this.listeners();
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.redraw());
  }

  /* ---------- pointer input ---------- */

  listeners() {
    const c = this.canvas;
    // On the document, not the pad: a stroke that starts just outside the pad still counts,
    // and every finger is seen, wherever it lands, to tell a pinch from a stroke.
    document.addEventListener("pointerdown", (e) => this.down(e));
    for (const type of ["pointerup", "pointercancel"]) {
      document.addEventListener(type, (e) => this.touches.delete(e.pointerId), true);
    }
    c.addEventListener("pointermove", (e) => this.move(e));
    c.addEventListener("pointerup", (e) => this.up(e));
    c.addEventListener("pointercancel", (e) => this.up(e));
    c.addEventListener("lostpointercapture", (e) => this.up(e));
    // No context menu or text selection on long press.
    c.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  /** On the pad, or within EDGE_SLOP_PX of it and not on a control. */
  nearPad(e) {
    if (e.target === this.canvas) return true;
    if (e.target.closest?.("button, a, input, label, select, textarea, summary, details")) return false;
    const r = this.canvas.getBoundingClientRect();
    return e.clientX >= r.left - EDGE_SLOP_PX && e.clientX <= r.right + EDGE_SLOP_PX
      && e.clientY >= r.top - EDGE_SLOP_PX && e.clientY <= r.bottom + EDGE_SLOP_PX;
  }

  point(e) {
    const r = this.canvas.getBoundingClientRect();
    const h = r.height || 1;
    return {
      x: Math.min(r.width / h, Math.max(0, (e.clientX - r.left) / h)),
      y: Math.min(1, Math.max(0, (e.clientY - r.top) / h)),
    };
  }

  down(e) {
    if (e.pointerType === "touch") this.touches.add(e.pointerId);
    if (this.touches.size > 1) { this.abandonStroke(); return; }  // a second finger: a pinch, not a stroke
    if (this.pointerId !== null || (e.pointerType === "mouse" && e.button !== 0) || !this.nearPad(e)) return;
    e.preventDefault();
    this.canvas.setPointerCapture(e.pointerId);
    this.pointerId = e.pointerId;
    this.remember();
    if (this.image) { this.image = null; this.boxes = null; this.redraw(); }  // drawing over a photo starts a fresh pad
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

  /** Drop the stroke being drawn (a pinch began): as if it never started. */
  abandonStroke() {
    if (!this.current) return;
    if (this.canvas.hasPointerCapture(this.pointerId)) this.canvas.releasePointerCapture(this.pointerId);
    this.pointerId = null;
    this.current = null;
    const before = this.past[this.past.length - 1];
    this.forgetLast();
    this.restore(before);
  }

  /* ---------- actions (undo and redo: web/pad_history.js) ---------- */

  clear() {
    if (!this.isEmpty()) this.remember();
    this.strokes = [];
    this.current = null;
    this.boxes = null;
    this.image = null;
    this.redraw();
    this.send(true);
  }

  isEmpty() { return !this.strokes.length && !this.image; }

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
      return { kind: "image", x: 0, y: 0, width, height, rgba, final };
    }
    if (!this.strokes.length) return { kind: "empty", x: 0, y: 0, width: 0, height: 0, rgba: null, final, note: this.refusal || null };
    // Only the ink's bounding box (plus the brush radius and a safety pixel):
    // preprocess() crops to the ink anyway, so the result is the same, and
    // Python gets fewer pixels to copy and scan.
    this.renderInk();
    const { x, y, w, h } = this.inkBox();
    const rgba = this.inkCtx.getImageData(x, y, w, h).data;
    return { kind: "pad", x, y, width: w, height: h, rgba, final };
  }

  send(final) {
    this.canvas.classList.toggle("has-ink", !this.isEmpty());
    this.canvas.dispatchEvent(new CustomEvent("ink", { detail: this.snapshot(final) }));
    this.lastSent = performance.now();
  }
}

// The drawing and image-opening methods live in their own files (see the top).
Object.assign(Pad.prototype, strokeDrawing, imageOpening, heatOverlay, padHistory);

/* ---------- wiring: buttons and keys ---------- */

function wire(pad) {
  document.getElementById("clear").addEventListener("click", () => pad.clear());
  document.getElementById("undo").addEventListener("click", () => pad.undo());
  document.getElementById("redo").addEventListener("click", () => pad.redo());

  document.addEventListener("keydown", (e) => {
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (e.key === "Escape") { e.preventDefault(); pad.clear(); }
    else if (!(e.ctrlKey || e.metaKey)) return;
    const key = e.key.toLowerCase();
    if (key === "z" && !e.shiftKey) { e.preventDefault(); pad.undo(); }
    else if ((key === "z" && e.shiftKey) || key === "y") { e.preventDefault(); pad.redo(); }
  });
}

const pad = new Pad(document.getElementById("pad"));
wire(pad);
wireImageInput(pad);
// Python asks for the current ink when it becomes ready (something may have
// been drawn while it was loading), and tests drive the pad through this.
window.digitPad = pad;
