/* The heat map over the drawing: "Inside the model"'s saliency laid over the chosen glyph's box.
 *
 * heatOverlay is mixed into the Pad class by web/pad.js. Python (web/inside_panel.py)
 * calls pad.showHeat(rgba, inner, index) after it computes a heat map: `rgba` is the
 * 28x28 map as a Uint8ClampedArray of RGBA with alpha (transparent where nothing pushed either way),
 * `inner` the [x0, y0, x1, y1] of the ink inside the 28x28 input, and `index` the
 * glyph it explains. The ink's box in the input is the glyph's ink box on the pad
 * (preprocess only scales and shifts it), so that part of the map is stretched over the
 * glyph's box. A new reading (showBoxes) or clearing the boxes drops it.
 *
 * The map belongs to the open "Inside the model" panel: web/bridge.js calls wantHeat(open)
 * from the panel's own toggle event, so closing it takes the map off at once, and a map the
 * worker computed before it heard of the closing is not laid back on.
 */

export const heatOverlay = {
  heatWanted: false,

  wantHeat(on) {
    this.heatWanted = on;
    if (!on) this.clearHeat();
  },

  showHeat(rgba, inner, index) {
    if (!this.heatWanted) return;
    const c = this.heatCanvas || (this.heatCanvas = document.createElement("canvas"));
    c.width = c.height = 28;
    const data = new ImageData(rgba, 28, 28);
    c.getContext("2d").putImageData(data, 0, 0);
    this.heat = { inner: Array.from(inner), index };
    this.drawBoxes();
  },

  clearHeat() {
    if (!this.heat) return;
    this.heat = null;
    this.drawBoxes();
  },

  /** Called by drawBoxes for the frame it draws in (source pixels -> overlay pixels). */
  drawHeat(ctx, frame) {
    const heat = this.heat, reading = this.boxes;
    const d = heat && reading && reading.digits[heat.index];
    if (!d || heat.index !== reading.selected) return;
    const [x0, y0, x1, y1] = d.box.map((v, k) => (k % 2 ? frame.y : frame.x) + v * frame.scale);
    const [ix0, iy0, ix1, iy1] = heat.inner;
    ctx.save();
    ctx.globalAlpha = 0.75;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.heatCanvas, ix0, iy0, ix1 - ix0, iy1 - iy0, x0, y0, x1 - x0, y1 - y0);
    ctx.restore();
  },
};
