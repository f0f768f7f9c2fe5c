/* Undo and redo for the pad: every change (a stroke, Clear, an opened picture) can be taken back and redone.
 *
 * Mixed into the Pad class by web/pad.js. A state is the list of finished
 * strokes and the picture shown; strokes are never changed once drawn, so a
 * state is a shallow copy and the history costs a few arrays. remember() is
 * called just before a change; a new change drops what could be redone, as
 * in any editor.
 */

const HISTORY_LIMIT = 100;  // states kept for undo (a long session should not grow without end)

export const padHistory = {
  initHistory() {
    this.past = [];    // states before each change, oldest first
    this.future = [];  // states undone, the next one to redo last
  },

  state() { return { strokes: this.strokes.slice(), image: this.image }; },

  /** Call before changing the strokes or the picture. */
  remember() {
    this.past.push(this.state());
    if (this.past.length > HISTORY_LIMIT) this.past.shift();
    this.future = [];
  },

  /** Forget the last remember() (a change that did not happen after all, e.g. a stroke cut short by a pinch). */
  forgetLast() { this.past.pop(); },

  restore(s) {
    this.strokes = s.strokes.slice();
    this.image = s.image;
    this.current = null;
    this.boxes = null;
    this.redraw();
    this.send(true);
  },

  undo() {
    if (this.current || !this.past.length) return;
    this.future.push(this.state());
    this.restore(this.past.pop());
  },

  redo() {
    if (this.current || !this.future.length) return;
    this.past.push(this.state());
    this.restore(this.future.pop());
  },
};
