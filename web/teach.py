"""Teach it your handwriting: the page's examples, Learn, Forget, Export and Import (issue 16).

After a reading, "It was a ..." (``#teach-0`` ... ``#teach-9``, or the keys 0-9 on the pad,
web/teach.js) keeps the drawing as an example: the 28x28 input of the chosen glyph (for a
number, the glyph chosen in the glyph list), its label and the pad's strokes. Pressing a
second digit for the same drawing relabels that example instead of adding another.

``Learn`` runs ``engine.personalize_steps`` on the shipped model and every example, in timer
tasks of at most ``BUDGET_MS`` of pieces each: Python runs in a worker, so drawing never waits
on learning, and between tasks the worker reads new ink and hears Cancel, which just stops
calling it. When it ends the page says how many examples
each model reads right, predictions use the personal model and ``#personal-mark`` shows.

The personal model (its .npz bytes, engine.save_model) and the examples are kept in
IndexedDB (web/store.js, through web/bridge.js's digitsPage); at start-up they are checked as carefully as a file from
anywhere (engine.load_model, and the frozen layers must be the shipped model's), and
anything wrong falls back to the shipped model with a message. Export downloads the
model and an examples file (engine.save_examples; ``train_offline.py --extra`` trains
with it); Import reads either back through the same loaders.

The panel's data-state ("idle", "learning") and data-model ("shipped", "personal") and
``window.digitsStats.learn`` (ms of each learning task) are what the tests watch.
"""

import json
import os
import zipfile

import numpy as np

import engine
import ink
import ui
from ui import document, js_bytes, now_ms

BUDGET_MS = 12.0  # a timer task starts another piece of learning while under this (a piece takes 20-45 ms, up to 60 on a busy machine)
PIECE_NOTE_MS = 40.0  # pieces longer than this are noted in window.digitsStats.teach
EVAL_CHUNK = 8  # examples per model call when counting what a model reads right
MAX_EXAMPLES = 300  # kept examples; personalize's time grows with them
SEED = 0  # the same examples give the same personal model (as in CPython: tests/test_personalize_parity.py)
FORMAT = 1  # of the IndexedDB record (web/store.js)
SCRATCH = "/tmp/teach.npz"  # Pyodide's in-memory file system: the engine's loaders read files
MAX_IMPORT_BYTES = 200 << 20
MODEL_FILE, EXAMPLES_FILE = "digits-personal-model.npz", "digits-examples.npz"


def written_bytes() -> bytes:
    """The scratch file the engine just wrote. Its atomic writes chmod the file by the umask, which
    Pyodide's file system reports so that the file ends up unreadable: make it readable first."""
    os.chmod(SCRATCH, 0o644)
    with open(SCRATCH, "rb") as f:
        return f.read()


def model_bytes(model) -> bytes:
    engine.save_model(model, SCRATCH)
    return written_bytes()


def load_model_bytes(data: bytes):
    with open(SCRATCH, "wb") as f:
        f.write(data)
    return engine.load_model(SCRATCH)


def first_line(exc: Exception, name: str) -> str:
    """The error's first line, naming ``name`` rather than the scratch file."""
    return str(exc).replace(SCRATCH, name).splitlines()[0] if str(exc) else type(exc).__name__


def same_frozen_layers(mine, shipped) -> bool:
    """A personal model of ``shipped`` keeps every array but its Dense head's bit for bit."""
    head = f"{len(shipped.layers) - 1}."
    if type(mine) is not type(shipped) or mine.architecture != shipped.architecture:
        return False
    return all(k.startswith(head) or np.array_equal(v, mine.arrays.get(k)) for k, v in shipped.arrays.items())


class Teacher:
    """The examples, the personal model, a learning job in progress, and the panel showing them."""

    def __init__(self, app):
        self.app = app
        self.shipped = app.model
        self.personal = None
        self.labels: list[int] = []
        self.pixels: list[np.ndarray] = []  # (28, 28) uint8 each
        self.strokes: list = []  # the pad's strokes (x, y in pad heights) or None for an opened image
        self.last_taught = None  # (reading number, glyph) of the newest example: a second press relabels it
        self.job = None  # the learning generator while it runs
        self.timer = None
        self.panel = document.getElementById("teach-panel")
        self.strip = document.getElementById("examples")
        self.message = document.getElementById("teach-message")
        self.progress = document.getElementById("learn-progress")
        self.cancel_button = document.getElementById("learn-cancel")
        self.learn_button = document.getElementById("learn")
        self.mark = document.getElementById("personal-mark")
        self.stats = app.stats  # its "learn" list: ms of each learning task; "teach": "finish 12.3", "save 8.0"
        self.result = None  # (model, right before, right after) between the last piece and finished()
        self.started = 0.0  # when Learn was pressed (ms)

    def say(self, text: str, warn: bool = False) -> None:
        self.message.textContent = text
        self.message.classList.toggle("warn", warn)

    # ---------- examples ----------

    def teach(self, label: int) -> None:
        """Keep the chosen glyph of the last reading as an example of ``label``."""
        app = self.app
        if self.job is not None:
            self.say("Learning is running: wait for it, or cancel it, before adding examples.", warn=True)
            return
        if app.reading is None:
            self.say("Draw a digit first, then say which digit it was.", warn=True)
            return
        key = (int(app.stats.count), app.selected)
        if key == self.last_taught:
            self.labels[-1] = label
            self.say(f"Changed your last example to a {label}.")
        elif len(self.labels) >= MAX_EXAMPLES:
            self.say(f"You have {MAX_EXAMPLES} examples, the most kept: remove some first.", warn=True)
            return
        else:
            x, _ = app.selected_glyph()  # (28, 28) float32 in [0, 1]: the picture the model read
            self.pixels.append((np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
            self.labels.append(label)
            self.strokes.append(json.loads(app.strokes) if app.kind == "pad" else None)
            self.last_taught = key
            glyph = f" (glyph {app.selected + 1} of {len(app.reading.digits)})" if len(app.reading.digits) > 1 else ""
            self.say(f"Kept as a {label}{glyph}: {self.count_text()}. Press Learn when you have a few.")
        self.render()
        self.save()

    def remove(self, index: int) -> None:
        if self.job is not None or not 0 <= index < len(self.labels):
            return
        for kept in (self.labels, self.pixels, self.strokes):
            del kept[index]
        self.last_taught = None
        self.say(f"Removed an example: {self.count_text()}.")
        self.render()
        self.save()

    def count_text(self) -> str:
        n = len(self.labels)
        return f"{n} example{'' if n == 1 else 's'}"

    def render(self) -> None:
        """The "your examples" strip: each example's 28x28 input, its label and a remove button."""
        items = []
        for i, (label, px) in enumerate(zip(self.labels, self.pixels)):
            li = document.createElement("li")
            canvas = document.createElement("canvas")
            canvas.width = canvas.height = 28
            ui.put_rgba(canvas.getContext("2d"), ink.preview_rgba(px / 255.0), 28, 28)
            span = document.createElement("span")
            span.className = "example-label"
            span.textContent = str(label)
            button = document.createElement("button")
            button.type = "button"
            button.className = "remove"
            button.dataset.index = str(i)
            button.textContent = "×"
            button.setAttribute("aria-label", f"Remove example {i + 1}, a {label}")
            li.append(canvas, span, button)
            items.append(li)
        self.strip.replaceChildren(*items)
        self.panel.dataset.examples = str(len(self.labels))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.stack(self.pixels), np.array(self.labels, np.int64)

    # ---------- learning ----------

    def learn(self) -> None:
        if self.job is not None:
            return
        if not self.labels:
            self.say("No examples yet: draw a digit, then press the digit it was (or its key).", warn=True)
            return
        x, y = self.arrays()
        self.job = self.learning(x, y)
        self.started = now_ms()
        self.panel.dataset.state = "learning"
        self.learn_button.disabled = True
        self.progress.value = 0
        self.progress.hidden = self.cancel_button.hidden = False
        self.say(f"Learning from {self.count_text()}… you can keep drawing.")
        self.timer = ui.later(self.tick)

    def learning(self, x: np.ndarray, y: np.ndarray):
        """The whole job in pieces: count what the shipped model reads right, personalize, count again.
        Yields the progress (0..1) or None after each piece; returns (model, right before, right after)."""
        before = yield from self.count_right(self.shipped, x, y)
        steps = engine.personalize_steps(self.shipped, x, y, rng=np.random.default_rng(SEED))
        while True:
            try:
                p = next(steps)
            except StopIteration as finished:
                mine = finished.value
                break
            yield p.done / p.total
        after = yield from self.count_right(mine, x, y)
        return mine, before, after

    @staticmethod
    def count_right(model, x: np.ndarray, y: np.ndarray):
        right = 0
        for a in range(0, len(y), EVAL_CHUNK):
            right += int((model.predict(x[a : a + EVAL_CHUNK], reject=True) == y[a : a + EVAL_CHUNK]).sum())
            yield None
        return right

    def tick(self) -> None:
        """One timer task: pieces of the job until BUDGET_MS has passed, then the next task."""
        self.timer = None
        if self.job is None:
            return
        t0 = now_ms()
        try:
            while now_ms() - t0 < BUDGET_MS:
                t1 = now_ms()
                fraction = next(self.job)
                if fraction is not None:
                    self.progress.value = fraction
                if now_ms() - t1 > PIECE_NOTE_MS:
                    self.stats.push("teach", f"piece {now_ms() - t1:.1f} at {fraction}")
        except StopIteration as done:
            self.stats.push("learn", now_ms() - t0)
            self.end_job()
            self.result = done.value
            ui.later(self.finished)  # saving is a task of its own
            return
        except Exception as exc:  # never leave the page half-learning
            self.end_job()
            self.say(f"Learning failed ({first_line(exc, 'the examples')}); the model is unchanged.", warn=True)
            return
        self.stats.push("learn", now_ms() - t0)
        self.timer = ui.later(self.tick)

    def cancel(self) -> None:
        if self.job is None:
            return
        self.job.close()
        self.end_job()
        self.say("Learning cancelled; the model is unchanged.")

    def end_job(self) -> None:
        ui.cancel(self.timer)
        self.timer = None
        self.job = None
        self.panel.dataset.state = "idle"
        self.learn_button.disabled = False
        self.progress.hidden = self.cancel_button.hidden = True

    def finished(self) -> None:
        """After the last piece, in a task of its own: use the personal model, say what changed, keep it."""
        t0 = now_ms()
        mine, before, after = self.result
        self.result = None
        self.use(mine)
        self.say(
            f"Now reads {after} of your {self.count_text()} right; before, {before}. "
            "Predictions use your personal model."
        )
        self.save()
        self.stats.push("teach", f"finish {now_ms() - t0:.1f}")
        self.stats.push("teach", f"learned {len(self.labels)} in {now_ms() - self.started:.0f}")

    # ---------- which model ----------

    def use(self, model) -> None:
        """Predict with ``model`` from now on (None: the shipped one) and read the pad again, in a task of its own."""
        self.personal = model
        current = model if model is not None else self.shipped
        self.app.model = self.app.inside.model = current
        self.mark.hidden = model is None
        self.panel.dataset.model = "shipped" if model is None else "personal"
        ui.call("digitsPage.resendInk")  # the pad sends its ink again, if it has any

    def forget(self) -> None:
        self.cancel()
        self.labels, self.pixels, self.strokes = [], [], []
        self.last_taught = None
        self.use(None)
        self.render()
        ui.call("digitsPage.storeClear")  # a failure comes back as a "store-failed" message
        self.say("Back to the shipped model; your examples and personal model are deleted from this browser.")

    # ---------- the store ----------

    def save(self) -> None:
        """The personal model and the examples into IndexedDB, as one record (web/store.js)."""
        t0 = now_ms()
        try:
            model = js_bytes(model_bytes(self.personal)) if self.personal is not None else None
            if self.labels:
                x, y = self.arrays()
                labels, pixels = js_bytes(y.astype(np.uint8).tobytes()), js_bytes(x.tobytes())
            else:
                labels, pixels = js_bytes(b""), js_bytes(b"")
            ui.call("digitsPage.storeSave", model, labels, pixels, json.dumps(self.strokes))
        except Exception as exc:
            self.save_failed(exc)
        self.stats.push("teach", f"save {now_ms() - t0:.1f}")

    def save_failed(self, error=None) -> None:
        self.say(f"Could not keep your examples in this browser ({error}); they last until the tab closes.", warn=True)

    def start_restore(self) -> None:
        ui.call("digitsPage.storeLoad")  # answered by a "restore" or "restore-failed" message

    def restore_failed(self, error=None) -> None:
        self.say(f"Could not open this browser's storage ({error}); using the shipped model.", warn=True)

    def restore(self, record) -> None:
        """What the store held, checked field by field; anything wrong falls back to the shipped model."""
        if record is None or not hasattr(record, "format"):
            return
        try:
            labels, pixels, strokes, model = self.checked(record)
        except Exception as exc:  # a damaged record can fail anywhere; the page must not
            self.say(
                f"Your saved examples could not be read ({first_line(exc, 'the saved model')}); "
                "using the shipped model. Teach it again, or Forget to clear them.",
                warn=True,
            )
            return
        self.labels, self.pixels, self.strokes = labels, pixels, strokes
        self.render()
        if model is not None:
            self.use(model)
            self.say(f"Using your personal model, taught with {self.count_text()} (kept in this browser).")
        elif labels:
            self.say(f"{self.count_text()} kept from last time; press Learn to teach the model.")

    def checked(self, record) -> tuple[list, list, list, object]:
        if record.format != FORMAT:
            raise ValueError(f"it was saved in format {record.format!r} by another version of this page, not {FORMAT}")
        y = np.frombuffer(record.labels.to_bytes(), np.uint8).astype(np.int64)
        px = np.frombuffer(record.pixels.to_bytes(), np.uint8)
        if px.size != y.size * 784 or (y > 9).any() or y.size > MAX_EXAMPLES:
            raise ValueError(f"{y.size} labels but {px.size} pixels, or a label that is not a digit")
        strokes = json.loads(record.strokes) if y.size else []
        if not isinstance(strokes, list) or len(strokes) != y.size:
            raise ValueError("the strokes do not match the examples")
        model = None
        if record.model is not None:
            model = load_model_bytes(record.model.to_bytes())
            if not same_frozen_layers(model, self.shipped):
                raise ValueError("the personal model was made from another version of the shipped model")
        return y.tolist(), list(px.reshape(-1, 28, 28)), strokes, model

    # ---------- files ----------

    def export(self) -> None:
        if not self.labels and self.personal is None:
            self.say("Nothing to export yet: teach some examples first.", warn=True)
            return
        names = []
        if self.personal is not None:
            ui.call("digitsTeach.download", MODEL_FILE, js_bytes(model_bytes(self.personal)))
            names.append(f"{MODEL_FILE} (python -m engine evaluate --model {MODEL_FILE})")
        if self.labels:
            engine.save_examples(SCRATCH, *self.arrays())
            ui.call("digitsTeach.download", EXAMPLES_FILE, js_bytes(written_bytes()))
            names.append(f"{EXAMPLES_FILE} (python train_offline.py --extra {EXAMPLES_FILE})")
        self.say("Downloaded " + " and ".join(names) + ".")

    def import_file(self, name: str, data: bytes) -> None:
        """A personal model or an examples file, through the engine's loaders; a bad one changes nothing."""
        if self.job is not None:
            self.say("Learning is running: wait for it, or cancel it, before importing.", warn=True)
            return
        try:
            if len(data) > MAX_IMPORT_BYTES:
                raise ValueError(f"{len(data)} bytes is too large for a model or examples file")
            with open(SCRATCH, "wb") as f:
                f.write(data)
            if self.holds_examples():
                x, y = engine.load_examples(SCRATCH)
                if len(y) + len(self.labels) > MAX_EXAMPLES:
                    raise ValueError(f"{len(y)} examples would make more than {MAX_EXAMPLES}")
                self.pixels += list(x)
                self.labels += y.tolist()
                self.strokes += [None] * len(y)
                self.last_taught = None
                self.render()
                self.save()
                self.say(f"Imported {len(y)} examples from {name}: {self.count_text()}. Press Learn to use them.")
                return
            model = engine.load_model(SCRATCH)
            if type(model) is not type(self.shipped) or model.input_shape != self.shipped.input_shape:
                raise ValueError("it is not an int8 digit model like the shipped one")
        except (ValueError, OSError) as exc:
            self.say(f"Could not import {name}: {first_line(exc, name)}. The current model is kept.", warn=True)
            return
        self.use(model)
        self.save()
        self.say(f"Imported the model in {name}; predictions use it now.")

    @staticmethod
    def holds_examples() -> bool:
        """Whether the scratch file is a zip with an examples_format array (else it is read as a model)."""
        try:
            with zipfile.ZipFile(SCRATCH) as z:
                return "examples_format.npy" in z.namelist()
        except (zipfile.BadZipFile, OSError, ValueError):
            return False  # engine.load_model then says what is wrong with it


def start(app) -> Teacher:
    """Create the panel's Teacher, bind its messages (web/bridge.js) and restore what this browser kept."""
    teacher = Teacher(app)
    handlers = {
        "teach": lambda m: teacher.teach(int(str(m.value).split("-")[1])),
        "remove": lambda m: teacher.remove(int(m.value)),
        "learn": lambda m: teacher.learn(),
        "learn-cancel": lambda m: teacher.cancel(),
        "forget": lambda m: teacher.forget(),
        "export": lambda m: teacher.export(),
        "import": lambda m: teacher.import_file(str(m.name), m.bytes.to_bytes()),
        "restore": lambda m: teacher.restore(m.record),
        "restore-failed": lambda m: teacher.restore_failed(m.error),
        "store-failed": lambda m: teacher.save_failed(m.error),
    }
    for kind, handler in handlers.items():
        ui.on(kind)(handler)
    teacher.start_restore()
    return teacher
