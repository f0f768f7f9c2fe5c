/* A few example digits to try, offered while the pad is empty: one click draws one on the pad.
 *
 * The shapes are strokes in a unit square (x, y in [0, 1], y down), drawn the way people write them,
 * placed side by side in the middle of the pad whatever its aspect; they go through the pad like any
 * drawing (undo removes them, Python reads them). The row hides once the pad has ink and comes back
 * when it is empty again (the pad's "ink" events say which).
 */

function arc(cx, cy, rx, ry, start, end, n = 16) {
  const pts = [];
  for (let i = 0; i <= n; i++) {
    const a = start + ((end - start) * i) / n;
    pts.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
  }
  return pts;
}

const PI = Math.PI;
const GLYPHS = {
  2: [[...arc(0.5, 0.36, 0.2, 0.15, PI * 1.05, PI * 2.2), [0.3, 0.8], [0.72, 0.8]]],
  3: [[...arc(0.48, 0.35, 0.18, 0.14, PI * 1.1, PI * 2.5), ...arc(0.48, 0.63, 0.2, 0.17, -PI / 2, PI * 0.85)]],
  4: [[[0.38, 0.2], [0.3, 0.58], [0.7, 0.58]], [[0.6, 0.22], [0.6, 0.82]]],
  7: [[[0.3, 0.22], [0.7, 0.22], [0.58, 0.45], [0.46, 0.82]]],
};
const EXAMPLES = ["7", "3", "42"];
const SIZE = 0.75;     // a glyph's cell, in pad heights
const ADVANCE = 0.62;  // the next glyph's cell starts this share of a cell to the right

/** Draw `text` (digits with a shape above) in the middle of the pad, as strokes. */
function drawExample(pad, text) {
  const aspect = pad.layoutAspect();
  const size = Math.min(SIZE, aspect / (1 + ADVANCE * (text.length - 1)));
  const left = (aspect - size * (1 + ADVANCE * (text.length - 1))) / 2;
  const top = (1 - size) / 2;
  pad.remember();
  if (pad.image) pad.image = null;
  [...text].forEach((ch, i) => {
    for (const stroke of GLYPHS[ch]) {
      pad.strokes.push(stroke.map(([x, y]) => ({ x: left + (i * ADVANCE + x) * size, y: top + y * size })));
    }
  });
  pad.boxes = null;
  pad.redraw();
  pad.send(true);
}

const row = document.getElementById("try-examples");
const pad = window.digitPad;
if (row && pad) {
  for (const text of EXAMPLES) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.setAttribute("aria-label", `Draw an example: ${text}`);
    b.addEventListener("click", () => drawExample(pad, text));
    row.append(b);
  }
  pad.canvas.addEventListener("ink", (e) => { row.hidden = e.detail.kind !== "empty"; });
}
