"""The page's Python: load the engine and the model, read whatever the pad shows.

Runs in Pyodide through PyScript, on the main thread. The drawing pad
(web/pad.js) works without Python and dispatches "ink" events on #pad; the
handlers below turn the ink into grayscale and read it with
``engine.read_number``, the one code path for a digit and a whole number alike
(a single digit is a one-glyph reading). Reading takes ~150 ms in Pyodide, so
the pad spaces its live requests by twice the last one's time while the pen
moves (drawing keeps at least two thirds of the main thread), and the bars and
the preview (one more model call) are filled in a task of their own right after
(skipped when a newer reading comes first), so no task does both.

What the page shows: ``#prediction`` holds exactly what was read (a digit, a
number, "?" in place of a glyph that is not a digit, or nothing when none is
a digit, which ``#message`` then says in words); ``#digits`` lists each glyph
with its confidence, and the pad's overlay canvas draws their boxes. The
probability bars and the 28x28 preview show one glyph, the first until
another is chosen in ``#digits``.

The "Inside the model" panel (``Inside``) is closed by default and computes
nothing then. Open, it explains the chosen glyph after its bars are shown: the
heat map (``engine.explain.saliency``, toward the answer or the runner-up) in
one timer task, the feature maps of each conv stage (``engine.explain.feature_maps``)
in the next, each dropped when a newer reading comes first; web/inside.py turns
the arrays into pixels.

All state lives in one ``App`` object; the module only creates it and binds
the event handlers.
"""

import json

from pyodide.ffi import create_proxy
from pyscript import document, when, window

loader = window.digitsLoader
loader.stage("engine", "Importing the engine…")

import about_model  # noqa: E402  (imported after the progress update on purpose)
import engine  # noqa: E402
import ink  # noqa: E402
import inside  # noqa: E402
import wording  # noqa: E402
from wording import percent  # noqa: E402

MODEL_PATH = "models/mnist_int8.npz"
UNSURE_BELOW = 0.60  # below this top probability the page says it is not sure
HINT = "Your answer appears here as you write."  # distinct from the pad's heading and hint
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def now_ms() -> float:
    return window.performance.now()


def put_rgba(ctx, rgba: bytes, width: int, height: int) -> None:
    """Paint RGBA bytes on a canvas context at (0, 0) through ImageData."""
    data = window.Uint8ClampedArray.new(width * height * 4)
    data.assign(rgba)
    ctx.putImageData(window.ImageData.new(data, width, height), 0, 0)


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


class Inside:
    """The "Inside the model" panel: why the chosen glyph reads as it does, and what each conv stage sees.

    ``update`` hands it the glyph's 28x28 input; while the panel is open that schedules
    the heat map and then the feature maps, each in a timer task of its own. The panel's
    data-version counts updates, data-shown is the version whose pictures are all drawn
    and data-heat says what the heat map shows ("answer 4" / "runner-up 9"); tests wait
    on them. ``window.digitsStats.inside`` collects each task's ms ("heat 12.3", "maps 8.0").
    """

    def __init__(self, model, stats):
        self.model = model
        self.panel = document.getElementById("inside-panel")
        self.heat = document.getElementById("heat").getContext("2d")
        self.caption = document.getElementById("heat-caption")
        self.toggle = document.getElementById("heat-toggle")
        self.stages = document.getElementById("stages")
        self.times = stats.inside = window.Array.new()
        self.x = self.probs = self.label = None
        self.version = 0
        self.runner_up = False  # which way the heat map points; kept from one reading to the next
        self.layout = None  # ((stage name, (H, W, C)), ...) of the stage canvases built so far
        self.canvases: list[list] = []
        self.timer = None
        self.want_maps = True
        self.heat_proxy = create_proxy(self.draw_heat)
        self.maps_proxy = create_proxy(self.draw_maps)

    def update(self, x, probs, label) -> None:
        """A new glyph (or a new reading of it) to explain: (28, 28) input, its probabilities, its label."""
        self.x, self.probs, self.label = x, probs, label
        self.version += 1
        self.panel.dataset.version = str(self.version)
        self.schedule()

    def schedule(self, maps: bool = True) -> None:
        """While open, draw the heat map in a task of its own, then (``maps``) the feature maps in the next."""
        self.want_maps = maps or (self.timer is not None and self.want_maps)  # a pending maps task stays wanted
        self.cancel()
        if self.x is None or not self.panel.open:
            return
        self.timer = window.setTimeout(self.heat_proxy, 0)

    def cancel(self) -> None:
        if self.timer is not None:
            window.clearTimeout(self.timer)
            self.timer = None

    def clear(self) -> None:
        """Nothing to explain (the pad is empty): blank pictures, the hint, the toggle off."""
        self.cancel()
        self.x = self.probs = self.label = None
        self.version += 1
        self.heat.fillStyle = "#fff"
        self.heat.fillRect(0, 0, 28, 28)
        self.caption.textContent = "Draw a digit to see why the model reads it."
        self.toggle.disabled = True
        for row in self.canvases:
            for c in row:
                ctx = c.getContext("2d")
                ctx.fillStyle = "#000"
                ctx.fillRect(0, 0, c.width, c.height)
        self.panel.dataset.version = self.panel.dataset.shown = str(self.version)
        self.panel.dataset.heat = ""

    def flip(self) -> None:
        """The toggle: the heat map toward the runner-up, or back toward the answer."""
        self.runner_up = not self.runner_up
        self.toggle.setAttribute("aria-pressed", "true" if self.runner_up else "false")
        self.schedule(maps=False)

    def draw_heat(self, *_) -> None:
        """Task 1: engine.explain.saliency toward the answer (or the runner-up) on #heat."""
        self.timer = None
        t0 = now_ms()
        answer, second = inside.targets(self.probs, self.label)
        target = second if self.runner_up else answer
        try:
            heat = engine.explain.saliency(self.model, self.x, target)
        except Exception as exc:  # never break the reading for the panel's sake
            self.caption.textContent = f"Could not compute the heat map: {exc}"
            return
        put_rgba(self.heat, inside.heat_rgba(heat, self.x), 28, 28)
        what = f"{answer}" if self.label is not None else f"{answer} (the closest digit; this mark is not one)"
        if self.runner_up:
            self.caption.textContent = f"Why not {second}? Red pushed toward {second}, the runner-up; blue against it."
            self.toggle.textContent = f"Back to {answer}"
        else:
            self.caption.textContent = f"Why {what}: red pixels pushed the model toward it, blue ones against it."
            self.toggle.textContent = f"Toward the runner-up, {second}"
        self.toggle.disabled = False
        self.panel.dataset.heat = f"{'runner-up' if self.runner_up else 'answer'} {target}"
        self.times.push(f"heat {now_ms() - t0:.1f}")
        if self.want_maps:
            self.timer = window.setTimeout(self.maps_proxy, 0)
        else:
            self.panel.dataset.shown = str(self.version)

    def draw_maps(self, *_) -> None:
        """Task 2: engine.explain.feature_maps, the first channels of each conv stage as small canvases."""
        self.timer = None
        t0 = now_ms()
        try:
            stages = engine.explain.feature_maps(self.model, self.x)
        except Exception as exc:
            self.stages.textContent = f"Could not compute the feature maps: {exc}"
            return
        layout = tuple((name, tuple(a.shape)) for name, a in stages)
        if layout != self.layout:
            self.build(layout)
        for (_, maps), row in zip(stages, self.canvases):
            h, w = maps.shape[:2]
            for c, rgba in zip(row, inside.channel_rgba(maps)):
                put_rgba(c.getContext("2d"), rgba, w, h)
        self.panel.dataset.shown = str(self.version)
        self.times.push(f"maps {now_ms() - t0:.1f}")

    def build(self, layout) -> None:
        """One block per conv stage: its line of text over a row of channel canvases."""
        blocks, self.canvases = [], []
        if not layout:
            p = document.createElement("p")
            p.className = "small muted"
            p.textContent = "This model has no conv stages to show."
            blocks.append(p)
        for name, shape in layout:
            block = document.createElement("div")
            block.className = "stage"
            block.dataset.stage = name
            p = document.createElement("p")
            p.textContent = inside.stage_text(name, shape)
            maps = document.createElement("div")
            maps.className = "maps"
            maps.setAttribute("role", "img")
            maps.setAttribute("aria-label", f"{name}: the first {min(shape[2], inside.CHANNELS_SHOWN)} channels")
            row = []
            for _ in range(min(shape[2], inside.CHANNELS_SHOWN)):
                c = document.createElement("canvas")
                c.width, c.height = shape[1], shape[0]
                maps.append(c)
                row.append(c)
            block.append(p, maps)
            blocks.append(block)
            self.canvases.append(row)
        self.stages.replaceChildren(*blocks)
        self.layout = layout


class App:
    """The model, the page elements it writes to, the last reading, and the numbers the bench reads."""

    def __init__(self, model, card: dict):
        self.model = model
        self.card = card
        self.pad = window.digitPad
        self.stats = window.digitsStats  # JS object: ms per prediction (timings = prepare + model), count
        self.prediction = document.getElementById("prediction")
        self.answer = document.querySelector(".answer")
        self.confidence = document.getElementById("confidence")
        self.message = document.getElementById("message")
        self.timing = document.getElementById("timing")
        self.glyphs = document.getElementById("digits")
        self.bars = document.getElementById("bars")
        rows = document.querySelectorAll("#bars li")
        self.rows = [rows.item(i) for i in range(10)]
        self.fills = [r.querySelector(".fill") for r in self.rows]
        self.values = [r.querySelector(".bar-value") for r in self.rows]
        self.preview = document.getElementById("preview").getContext("2d")
        # The last reading: its grayscale input, where that sits on the pad, and the chosen glyph.
        self.gray = None
        self.reading = None
        self.kind = "pad"
        self.origin = (0, 0)
        self.selected = 0
        # The bars and the preview are filled by a timer task after each reading (see finish).
        self.timer = None
        self.finish_proxy = create_proxy(self.finish)
        self.inside = Inside(model, self.stats)

    # ---------- prediction ----------

    def predict(self, detail) -> None:
        """Read the pad's or the image's pixels with read_number and show the reading."""
        if detail.kind == "empty":
            self.show_empty()
            return
        t0 = now_ms()
        rgba = ink.rgba_array(detail.rgba.to_bytes(), detail.width, detail.height)
        gray = ink.to_gray(detail.kind, rgba)  # (H, W) uint8, ink bright on dark
        t1 = now_ms()
        reading = engine.read_number(self.model, gray)
        t2 = now_ms()
        self.stats.timings.push(t2 - t0)
        self.stats.prepare.push(t1 - t0)
        self.stats.model.push(t2 - t1)
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
        if self.timer is not None:
            window.clearTimeout(self.timer)
        self.timer = window.setTimeout(self.finish_proxy, 0)

    def finish(self, *_) -> None:
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
        items = []
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

    def selected_input(self):
        """The 28x28 image of the chosen glyph: its box cropped from the input (the whole input for one glyph)."""
        digits = self.reading.digits
        if len(digits) == 1:
            return engine.preprocess(self.gray)
        x0, y0, x1, y1 = digits[self.selected].box
        return engine.preprocess(self.gray[y0:y1, x0:x1])

    def show_selected(self):
        """Bars and preview for the chosen glyph; returns its digit probabilities."""
        x = self.selected_input()  # (28, 28) float32 in [0, 1]
        probs = self.model.predict_proba(x)[0]  # (10,) float32
        self.draw_preview(x)
        label = self.reading.digits[self.selected].label
        self.inside.update(x, probs, label)  # computes only while its panel is open, in later tasks
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
        for i, b in enumerate(self.glyphs.querySelectorAll("button.glyph")):
            b.setAttribute("aria-pressed", "true" if i == index else "false")
        self.draw_boxes()
        self.show_selected()

    def show_empty(self, message: str | None = None) -> None:
        if self.timer is not None:
            window.clearTimeout(self.timer)
            self.timer = None
        self.bars.dataset.reading = str(self.stats.count)
        self.answer.setAttribute("aria-busy", "false")
        self.prediction.textContent = ""
        self.confidence.textContent = ""
        self.say(message or HINT)
        self.reading = self.gray = None
        self.glyphs.replaceChildren()
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
    loader.stage("model", "Loading the model…")
    try:
        model = engine.load_model(MODEL_PATH)
    except (OSError, ValueError) as exc:  # engine errors are ValueErrors that say what to do
        loader.fail(f"Could not load the model: {exc}")
        document.getElementById("message").textContent = "The model could not be loaded, so nothing can be predicted."
        raise
    app = App(model, model.card)
    app.render_card()
    return app


app = start()


@when("ink", "#pad")
def on_ink(event):
    """Read the pad each time it changes (live while drawing, stroke end, undo, clear, image)."""
    app.predict(event.detail)


@when("click", "#digits")
def on_glyph(event):
    """Choosing a glyph in the list shows it in the bars, the preview and the boxes."""
    button = event.target.closest("button.glyph")
    if button:
        app.select(int(button.dataset.index))


@when("toggle", "#model-panel")
def on_model_panel(event):
    """Remember whether the model panel was open, so it stays that way on the next visit."""
    window.localStorage.setItem("digits.modelPanel", "open" if event.target.open else "closed")


@when("toggle", "#inside-panel")
def on_inside_panel(event):
    """Opening the panel explains what is on the pad now; closing it drops pending work."""
    if event.target.open:
        app.inside.schedule()
    else:
        app.inside.cancel()


@when("click", "#heat-toggle")
def on_heat_toggle(event):
    app.inside.flip()


if window.localStorage.getItem("digits.modelPanel") == "open":
    document.getElementById("model-panel").open = True
loader.ready()
# Whatever was drawn while Python was loading gets its prediction now.
app.predict(app.pad.snapshot(True))
