"""The page's Python: load the engine and the model, predict whatever the pad shows.

Runs in Pyodide through PyScript, on the main thread: one prediction (pixels
to probabilities) takes ~5-20 ms in Pyodide, and the pad asks for one at most
every 100 ms while the pen moves. The drawing pad (web/pad.js) works without
Python and dispatches "ink" events on #pad; the handlers below turn the ink
into a 28x28 image with the same ``engine.preprocess`` the tests use, run the
model and update the page.

All state lives in one ``App`` object; the module only creates it and binds
the event handlers.
"""

from pyscript import document, when, window

loader = window.digitsLoader
loader.stage("engine", "Importing the engine…")

import card as card_rows  # noqa: E402  (imported after the progress update on purpose)
import engine  # noqa: E402
import ink  # noqa: E402

MODEL_PATH = "models/mnist_int8.npz"
UNSURE_BELOW = 0.60  # below this top probability the page says it is not sure


def now_ms() -> float:
    return window.performance.now()


class App:
    """The model, the page elements it writes to, and the numbers the bench reads."""

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
        rows = document.querySelectorAll("#bars li")
        self.rows = [rows.item(i) for i in range(10)]
        self.fills = [r.querySelector(".fill") for r in self.rows]
        self.values = [r.querySelector(".bar-value") for r in self.rows]
        self.preview = document.getElementById("preview").getContext("2d")

    # ---------- prediction ----------

    def predict(self, detail) -> None:
        """Preprocess the pad's or the image's pixels, run the model, show the result."""
        if detail.kind == "empty":
            self.show_empty()
            return
        t0 = now_ms()
        rgba = ink.rgba_array(detail.rgba.to_bytes(), detail.width, detail.height)
        gray = ink.to_gray(detail.kind, rgba)  # (H, W) uint8, ink bright on dark
        x = engine.preprocess(gray)  # (28, 28) float32 in [0, 1]
        t1 = now_ms()
        probs = self.model.predict_proba(x)[0]  # (10,) float32
        t2 = now_ms()
        self.stats.timings.push(t2 - t0)
        self.stats.prepare.push(t1 - t0)
        self.stats.model.push(t2 - t1)
        self.stats.count += 1
        self.timing.textContent = f"prepare {t1 - t0:.1f} ms · model {t2 - t1:.1f} ms"
        self.draw_preview(x)
        if float(x.max()) <= 0.0:  # nothing survived preprocessing
            self.show_empty("No digit found in the image." if detail.kind == "image" else None)
            return
        self.show(probs, final=bool(detail.final))

    def show(self, probs, final: bool) -> None:
        order = probs.argsort()[::-1]
        top, second = int(order[0]), int(order[1])
        p_top, p_second = float(probs[top]), float(probs[second])
        # aria-busy while the pen moves: screen readers announce the settled answer only.
        self.answer.setAttribute("aria-busy", "false" if final else "true")
        self.prediction.textContent = str(top)
        self.confidence.textContent = f"{p_top:.0%} sure"
        if p_top < UNSURE_BELOW:
            self.message.textContent = f"Not sure — it could also be a {second} ({p_second:.0%})."
            self.message.classList.add("unsure")
        else:
            self.message.textContent = f"Runner-up: {second} ({p_second:.1%})"
            self.message.classList.remove("unsure")
        for digit in range(10):
            p = float(probs[digit])
            self.fills[digit].style.width = f"{p * 100:.1f}%"
            self.values[digit].textContent = f"{p:.0%}" if p >= 0.995 or p < 0.005 else f"{p:.1%}"
            self.rows[digit].classList.toggle("best", digit == top)

    def show_empty(self, message: str | None = None) -> None:
        self.answer.setAttribute("aria-busy", "false")
        self.prediction.textContent = ""
        self.confidence.textContent = ""
        self.message.textContent = message or "Draw a digit (0–9) in the box."
        self.message.classList.remove("unsure")
        for digit in range(10):
            self.fills[digit].style.width = "0%"
            self.values[digit].textContent = "–"
            self.rows[digit].classList.remove("best")
        if message is None:
            self.preview.fillStyle = "#000"
            self.preview.fillRect(0, 0, 28, 28)
            self.timing.textContent = ""

    def draw_preview(self, x) -> None:
        """Paint the 28x28 input on the "what the model sees" canvas."""
        data = window.Uint8ClampedArray.new(28 * 28 * 4)
        data.assign(ink.preview_rgba(x))
        self.preview.putImageData(window.ImageData.new(data, 28, 28), 0, 0)

    # ---------- model card ----------

    def render_card(self) -> None:
        """Fill the "About the model" panel from the card inside the model file."""

        def row(label, content):
            tr = document.createElement("tr")
            th = document.createElement("th")
            th.scope = "row"
            th.textContent = label
            td = document.createElement("td")
            if isinstance(content, str):
                td.textContent = content
            else:
                td.append(content)
            tr.append(th, td)
            return tr

        def table_of(rows):
            table = document.createElement("table")
            for label, text in rows:
                table.append(row(label, text))
            return table

        table = table_of(card_rows.main_rows(self.card))
        cells = card_rows.per_class_cells(self.card)
        if cells:
            grid = document.createElement("div")
            grid.className = "per-class"
            for text in cells:
                span = document.createElement("span")
                span.textContent = text
                grid.append(span)
            table.append(row("Accuracy per digit", grid))
        parts = [table]
        more = card_rows.more_rows(self.card)
        if more:
            details = document.createElement("details")
            summary = document.createElement("summary")
            summary.textContent = "All fields of the card"
            details.append(summary, table_of(more))
            parts.append(details)
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
    """Predict the digit each time the pad changes (live while drawing, stroke end, undo, clear, image)."""
    app.predict(event.detail)


@when("toggle", "#model-panel")
def on_model_panel(event):
    """Remember whether the model panel was open, so it stays that way on the next visit."""
    window.localStorage.setItem("digits.modelPanel", "open" if event.target.open else "closed")


if window.localStorage.getItem("digits.modelPanel") == "open":
    document.getElementById("model-panel").open = True
loader.ready()
# Whatever was drawn while Python was loading gets its prediction now.
app.predict(app.pad.snapshot(True))
