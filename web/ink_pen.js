/* The pen the model's input is drawn with: as thick as the writing is tall, not as the pad is.
 *
 * MNIST digits sit in a 20 px box with strokes ~2-2.5 px wide, about an eighth
 * of their height. The visible pad keeps a fixed brush (what a person expects
 * of a pen), but the offscreen ink canvas Python reads is redrawn with a pen of
 * INK_PEN_RATIO times the height of the tallest glyph, so a digit drawn small
 * is not a blob and one drawn large is not a hairline once preprocess() scales
 * it to 20 px. Glyphs are found the cheap way: strokes whose x ranges overlap
 * belong to one glyph, so a number's pen follows its tallest digit, not the
 * slant of the whole line.
 *
 * Measured with bench/pen_bench.py (tests/strokes samples scaled to 17%, 40%
 * and 72% of the pad, AMD EPYC): at 17% the fixed 21 px brush read 70-75%
 * right, a pen of 0.08-0.14 x the glyph height 98-99%; at 40% and 72% all
 * read 98-99%. 0.12 sits in the middle of that plateau.
 */

export const INK_PEN_RATIO = 0.12;  // pen diameter / tallest glyph height (~2.4 px in MNIST's 20 px box)
export const INK_PEN_MIN = 3;       // px on the ink canvas: thinner lines break up under anti-aliasing
export const INK_PEN_MAX = 30;      // px: a digit filling the pad (250 px) still gets its eighth

/** Height of the tallest glyph, in the strokes' units (strokes: [[{x, y}, ...], ...]). */
export function tallestGlyph(strokes) {
  const spans = strokes
    .filter((s) => s.length)
    .map((s) => {
      const xs = s.map((p) => p.x), ys = s.map((p) => p.y);
      return { x0: Math.min(...xs), x1: Math.max(...xs), y0: Math.min(...ys), y1: Math.max(...ys) };
    })
    .sort((a, b) => a.x0 - b.x0);
  let tallest = 0, glyph = null;
  for (const s of spans) {
    if (glyph && s.x0 <= glyph.x1) {  // overlaps the glyph so far: the same glyph
      glyph.x1 = Math.max(glyph.x1, s.x1);
      glyph.y0 = Math.min(glyph.y0, s.y0);
      glyph.y1 = Math.max(glyph.y1, s.y1);
    } else {
      glyph = { ...s };
    }
    tallest = Math.max(tallest, glyph.y1 - glyph.y0);
  }
  return tallest;
}

/** Pen diameter in ink-canvas pixels for these strokes (their units times `scale` are ink pixels). */
export function inkPen(strokes, scale) {
  const pen = INK_PEN_RATIO * tallestGlyph(strokes) * scale;
  return Math.min(INK_PEN_MAX, Math.max(INK_PEN_MIN, pen));
}
