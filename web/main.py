"""The page's Python: load the engine and the model, read whatever the pad shows.

Runs in Pyodide in a Web Worker (web/compute.js imports this file), so reading never
blocks the page. The drawing pad (web/pad.js) works without Python; web/bridge.js
sends its "ink" to the worker, one reading in flight at a time, and the handlers
below turn the ink into grayscale and read it with ``engine.read_number``, the one
code path for a digit and a whole number alike (a single digit is a one-glyph
reading). The page's elements are web/ui.py's stand-ins: what is set on them is
applied on the main thread after each handler. The bars and the preview (the
picture and probabilities the reading read the glyph with, so they agree with the
answer) are filled in a task of their own right after the reading (skipped when a
newer reading comes first).

What the page shows: ``#prediction`` holds exactly what was read (a digit, a
number, "?" in place of a glyph that is not a digit, or nothing when none is
a digit, which ``#message`` then says in words); ``#digits`` lists each glyph
with its confidence, and the pad's overlay canvas draws their boxes. The
probability bars and the 28x28 preview show one glyph, the first until
another is chosen in ``#digits``.

The "Inside the model" panel lives in web/inside_panel.py: closed by default it
computes nothing; open, it explains the chosen glyph in timer tasks of its own after
the reading is shown, and shows the model's test-set mistakes.

All state lives in one ``App`` object; the module only creates it and binds
the event handlers.
"""

import json

import js

import ui
from ui import document

ui.call("digitsLoader.stage", "engine", "Importing the engine…")
ui.flush()

mark = js.digitsMark  # web/compute.js's start-up marks (digitsLoader.marks on the page)
mark("main.py")
import engine  # noqa: E402  (imported after the progress update on purpose)

mark("import engine")
import about_model  # noqa: E402
import ink  # noqa: E402
import wording  # noqa: E402

mark("import about_model, ink, wording")
import teach  # noqa: E402

mark("import teach")
from inside_panel import Inside  # noqa: E402

mark("import inside_panel")
from ui import now_ms, put_rgba  # noqa: E402
from wording import percent  # noqa: E402

MODEL_PATH = "models/mnist_int8.npz"
UNSURE_BELOW = 0.60  # below this top probability the page says it is not sure
LIVE_CANDIDATES = 24  # glyph images a reading made while the pen moves may classify (~0.1 s in the page)
MAX_CANDIDATES = engine.number_reader.MAX_CANDIDATES  # the pen-up reading's: every cut worth trying
HINT = "Your answer appears here as you write."  # distinct from the pad's heading and hint
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def ordinal(i: int) -> str:
    return ORDINALS[i] if i < len(ORDINALS) else f"#{i + 1}"


def not_a_digit_message(reading) -> str | None:
    """Words for the glyphs that are not digits (None when every glyph is one)."""
    refused = [i for i, d in enumerate(reading.digits) if d.label is None]
    if not refused:
        return None
    if len(refused) == len(reading.digits):
        return "That is not a digit." if len(refused) == 1 else "None of these marks is a digit."
    names = ", ".join(ordinal(i) for i in refused)
    return f"The {names} mark{'s are' if len(refused) > 1 else ' is'} not a digit (shown as ?)."


class App:
    """The model, the page elements it writes to, the last reading, and the numbers the bench reads."""

    def __init__(self, model, card: dict, model_bytes: bytes):
        self.model = model
        self.card = card
        self.pad = ui.Remote("digitPad")
        self.stats = ui.stats  # window.digitsStats: ms per prediction (timings = prepare + model), count
        self.prediction = document.getElementById("prediction")
        self.answer = document.querySelector(".answer")
        self.confidence = document.getElementById("confidence")
        self.message = document.getElementById("message")
        self.timing = document.getElementById("timing")
        self.glyphs = document.getElementById("digits")
        self.bars = document.getElementById("bars")
        rows = [f"#bars li:nth-child({digit + 1})" for digit in range(10)]
        self.rows = [document.querySelector(r) for r in rows]
        self.fills = [document.querySelector(f"{r} .fill") for r in rows]
        self.values = [document.querySelector(f"{r} .bar-value") for r in rows]
        self.glyph_buttons: list = []  # #digits' buttons, one per glyph of the reading shown
        self.preview = document.getElementById("preview").getContext("2d")
        # The last reading: its grayscale input, where that sits on the pad, and the chosen glyph.
        self.gray = None
        self.reading = None
        self.kind = "pad"
        self.origin = (0, 0)
        self.strokes = "null"  # the pad's strokes behind the reading (JSON), kept with a taught example
        self.selected = 0
        # The bars and the preview are filled by a timer task after each reading (see finish).
        self.timer = None
        self.inside = Inside(model, self.stats, model_bytes, self.pad)

    # ---------- prediction ----------

    def predict(self, detail) -> None:
        """Read the pad's or the image's pixels with read_number and show the reading."""
        if detail.kind == "empty":
            self.show_empty(str(detail.note) if detail.note else None, warn=bool(detail.note))
            return
        t0 = now_ms()
        rgba = ink.rgba_array(detail.rgba.to_bytes(), detail.width, detail.height)
        gray = ink.to_gray(detail.kind, rgba)  # (H, W) uint8, ink bright on dark
        t1 = now_ms()
        # While the pen moves, few cuts: a half-drawn digit often looks like two touching ones, and trying
        # them all took 0.4 s in the page, holding back the next reading; the pen-up reading tries them all.
        reading = engine.read_number(self.model, gray, candidates=MAX_CANDIDATES if detail.final else LIVE_CANDIDATES)
        t2 = now_ms()
        self.stats.push("timings", t2 - t0)
        self.stats.push("prepare", t1 - t0)
        self.stats.push("model", t2 - t1)
        self.stats.count += 1
        # Short enough for one line under the preview on a phone; the split is in the tooltip.
        self.timing.textContent = f"read in {t2 - t0:.0f} ms"
        self.timing.title = f"prepare {t1 - t0:.1f} ms · read_number {t2 - t1:.1f} ms"
        if not reading.digits:  # no ink at all survived
            self.show_empty("No digit found in the image." if detail.kind == "image" else "No digit found.")
            return
        if self.reading is None or len(reading.digits) != len(self.reading.digits):
            self.selected = 0
        self.gray, self.reading = gray, reading
        self.kind, self.origin = str(detail.kind), (int(detail.x or 0), int(detail.y or 0))
        self.strokes = str(detail.strokes)
        self.show(final=bool(detail.final))

    def show(self, final: bool) -> None:
        """#prediction, #confidence, #message, the glyph list, the boxes, then the chosen glyph's bars."""
        reading = self.reading
        digits = reading.digits
        # aria-busy while the pen moves: screen readers announce the settled answer only.
        self.answer.setAttribute("aria-busy", "false" if final else "true")
        read_any = any(d.label is not None for d in digits)
        self.prediction.textContent = reading.text if read_any else ""
        self.prediction.classList.toggle("long", read_any and len(digits) > 2)
        self.glyph_list(digits)
        self.draw_boxes()
        self.later()
        refused = not_a_digit_message(reading)
        if len(digits) == 1 and digits[0].label is not None:
            self.confidence.textContent = f"{percent(digits[0].confidence)} sure"
            return  # the runner-up needs the bars: finish() says it
        if not read_any:
            self.confidence.textContent = ""
            self.say(refused, warn=True)
            return
        least = min(d.confidence for d in digits if d.label is not None)
        self.confidence.textContent = f"{len(digits)} digits, least sure {percent(least)}"
        self.say(refused or "Choose a digit below to see its probabilities.", warn=refused is not None)

    def later(self) -> None:
        """Fill the bars and the preview in a task of their own (a newer reading replaces a pending one)."""
        ui.cancel(self.timer)
        self.timer = ui.later(self.finish)

    def finish(self) -> None:
        """The second half of showing a reading: bars, preview, and a single digit's runner-up."""
        self.timer = None
        if self.reading is None:
            return
        probs = self.show_selected()
        digits = self.reading.digits
        if len(digits) == 1 and digits[0].label is not None:
            order = probs.argsort()[::-1]
            second, p_second = int(order[1]), float(probs[order[1]])
            self.say(*wording.runner_up(second, p_second, unsure=digits[0].confidence < UNSURE_BELOW))
        self.bars.dataset.reading = str(self.stats.count)  # tests wait for this: the bars show the last reading

    def say(self, text: str, warn: bool = False) -> None:
        self.message.textContent = text
        self.message.classList.toggle("unsure", warn)

    def glyph_list(self, digits) -> None:
        """#digits: a button per glyph, its digit (or ?) over its confidence."""
        items, self.glyph_buttons = [], []
        for i, d in enumerate(digits):
            li = document.createElement("li")
            button = document.createElement("button")
            button.type = "button"
            button.className = "glyph" + (" rejected" if d.label is None else "")
            button.dataset.index = str(i)
            button.setAttribute("aria-pressed", "true" if i == self.selected else "false")
            label = document.createElement("span")
            label.className = "glyph-label"
            label.textContent = "?" if d.label is None else str(d.label)
            conf = document.createElement("span")
            conf.className = "glyph-confidence"
            conf.textContent = "not a digit" if d.label is None else percent(d.confidence)
            button.append(label, conf)
            name = "not a digit" if d.label is None else f"{d.label}, {percent(d.confidence)} sure"
            button.setAttribute("aria-label", f"{ordinal(i)}: {name}")
            li.append(button)
            items.append(li)
            self.glyph_buttons.append(button)
        self.glyphs.replaceChildren(*items)

    def draw_boxes(self) -> None:
        """Hand the boxes to the pad's overlay, in ink-canvas pixels (pad) or picture pixels (image)."""
        ox, oy = self.origin
        boxes = [
            {
                "box": [d.box[0] + ox, d.box[1] + oy, d.box[2] + ox, d.box[3] + oy],
                "label": d.label,
                "confidence": round(d.confidence, 4),
                "percent": percent(d.confidence),
            }
            for d in self.reading.digits
        ]
        self.pad.showBoxes(json.dumps({"kind": self.kind, "selected": self.selected, "digits": boxes}))

    def selected_glyph(self):
        """The chosen glyph's 28x28 image and digit probabilities: those the reading read it with, so the
        bars and the preview agree with the answer (else its box cropped from the input, read again)."""
        digit = self.reading.digits[self.selected]
        if digit.image is not None and digit.probabilities is not None:
            return digit.image, digit.probabilities
        x0, y0, x1, y1 = digit.box
        x = engine.preprocess(self.gray[y0:y1, x0:x1])
        return x, self.model.predict_proba(x)[0]

    def show_selected(self):
        """Bars and preview for the chosen glyph; returns its digit probabilities."""
        x, probs = self.selected_glyph()  # (28, 28) float32 in [0, 1], (10,)
        self.draw_preview(x)
        label = self.reading.digits[self.selected].label
        self.inside.update(x, probs, label, self.selected)  # computes only while its panel is open, in later tasks
        top = int(probs.argmax()) if label is None else label
        for digit in range(10):
            p = float(probs[digit])
            self.fills[digit].style.width = wording.bar_width(p)
            self.values[digit].textContent = percent(p)
            self.rows[digit].classList.toggle("best", digit == top)
        return probs

    def select(self, index: int) -> None:
        """Show glyph ``index`` of the last reading in the bars, the preview and the boxes."""
        if self.reading is None or not 0 <= index < len(self.reading.digits):
            return
        self.selected = index
        for i, b in enumerate(self.glyph_buttons):
            b.setAttribute("aria-pressed", "true" if i == index else "false")
        self.draw_boxes()
        self.show_selected()

    def show_empty(self, message: str | None = None, warn: bool = False) -> None:
        ui.cancel(self.timer)
        self.timer = None
        self.bars.dataset.reading = str(self.stats.count)
        self.answer.setAttribute("aria-busy", "false")
        self.prediction.textContent = ""
        self.confidence.textContent = ""
        self.say(message or HINT, warn=warn)
        self.reading = self.gray = None
        self.strokes = "null"
        self.glyphs.replaceChildren()
        self.glyph_buttons = []
        self.pad.clearBoxes()
        for digit in range(10):
            self.fills[digit].style.width = "0%"
            self.values[digit].textContent = "–"
            self.rows[digit].classList.remove("best")
        self.preview.fillStyle = "#000"
        self.preview.fillRect(0, 0, 28, 28)
        self.inside.clear()
        if message is None:
            self.timing.textContent = ""

    def draw_preview(self, x) -> None:
        """Paint the 28x28 input on the "what the model sees" canvas."""
        put_rgba(self.preview, ink.preview_rgba(x), 28, 28)

    # ---------- model card ----------

    def render_card(self) -> None:
        """Fill the "About the model" panel from the card and the architecture inside the model file."""
        parts = about_model.render(document, self.card, getattr(self.model, "architecture", None))
        document.getElementById("model-card").replaceChildren(*parts)


def start() -> App:
    ui.call("digitsLoader.stage", "model", "Loading the model…")
    ui.flush()
    try:
        with open(MODEL_PATH, "rb") as f:
            model_bytes = f.read()
        model = engine.load_model(MODEL_PATH)
        mark("model loaded")
    except (OSError, ValueError) as exc:  # engine errors are ValueErrors that say what to do
        ui.call("digitsLoader.fail", f"Could not load the model: {exc}")
        document.getElementById("message").textContent = "The model could not be loaded, so nothing can be predicted."
        ui.flush()
        raise
    app = App(model, model.card, model_bytes)
    app.render_card()
    mark("App and card")
    return app


app = start()
teacher = teach.start(app)  # the Teach panel (web/teach.py): examples, Learn, the personal model
mark("teach.start")


# The page's messages (web/bridge.js's EVENTS): each handler's changes reach the page when it returns.


@ui.on("ink")
def on_ink(message):
    """Read the pad each time it changes (live while drawing, stroke end, undo, clear, image)."""
    app.predict(message.detail)


@ui.on("warm-up")
def on_warm_up(message):
    """Nothing was drawn while the page loaded (web/bridge.js sends this at ready): read a made-up
    number and a lone digit, unseen, so that the user's first reading does not run NumPy's code for
    the first time (it took 100-260 ms, the next ones 10-16 ms). A stroke begun meanwhile waits for it."""
    t0 = now_ms()
    pair = ink.warm_up_ink()
    engine.read_number(app.model, pair)
    engine.read_number(app.model, pair[:, int(0.6 * pair.shape[0]) :])
    app.stats.push("warm-up", now_ms() - t0)


@ui.on("glyph")
def on_glyph(message):
    """Choosing a glyph in the list shows it in the bars, the preview and the boxes."""
    app.select(int(message.value))


@ui.on("inside")
def on_inside_panel(message):
    """Opening the panel explains what is on the pad now; closing it drops pending work."""
    if message.open:
        app.inside.opened()
    else:
        app.inside.closed()


@ui.on("heat-toggle")
def on_heat_toggle(message):
    app.inside.flip()


@ui.on("cell")
def on_confusion_cell(message):
    """A cell of the confusion matrix shows its test digits in the gallery."""
    app.inside.gallery.on_matrix(str(message.value))


@ui.on("gallery-all")
def on_gallery_all(message):
    app.inside.gallery.filter(None, None)


@ui.on("gallery-entry")
def on_gallery_digit(message):
    """A test digit clicked opens on the pad and is read there, heat map and all."""
    app.inside.gallery.open_entry(int(message.value))


ui.flush()  # the model card; web/compute.js then says the page is ready and the pad sends its ink
