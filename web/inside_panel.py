"""The "Inside the model" panel: why this glyph, what each layer sees, and the model's mistakes.

``Inside`` is closed by default and computes nothing then. Open, it draws the first
layer's filters once, and explains the chosen glyph after its bars are shown: the heat map
(``engine.explain.saliency``, toward the answer or the runner-up) in one timer task, the
feature maps of each conv stage (``engine.explain.feature_maps``) and the last layer's
scores (``engine.explain.output_scores``) in the next, each dropped when a newer reading
comes first. ``MistakesView`` shows models/gallery.npz (web/gallery.py): every MNIST
test digit the model gets wrong and a few it reads right, filtered by a click on the
confusion matrix; a click on a digit opens it on the pad, where it is read like any
picture, heat map included. web/inside.py and web/gallery.py turn arrays into pixels and
words; this module owns the page elements.
"""

from __future__ import annotations

import engine
import gallery
import inside
import ui
from ui import document, now_ms, put_rgba

GALLERY_PATH = "models/gallery.npz"


class Inside:
    """The "Inside the model" panel: why the chosen glyph reads as it does, and what each conv stage sees.

    ``update`` hands it the glyph's 28x28 input; while the panel is open that schedules
    the heat map and then the feature maps, each in a timer task of its own. The panel's
    data-version counts updates, data-shown is the version whose pictures are all drawn
    and data-heat says what the heat map shows ("answer 4" / "runner-up 9"); tests wait
    on them. ``window.digitsStats.inside`` collects each task's ms ("heat 12.3", "maps 8.0").
    Whether the panel is open comes from the page's toggle events (``opened``, ``closed``).
    """

    def __init__(self, model, stats, model_bytes: bytes, pad):
        self.model = model
        self.panel = document.getElementById("inside-panel")
        self.heat = document.getElementById("heat").getContext("2d")
        self.caption = document.getElementById("heat-caption")
        self.toggle = document.getElementById("heat-toggle")
        self.stages = document.getElementById("stages")
        self.scores = document.getElementById("scores")
        self.filters = document.getElementById("filters")
        self.filters_text = document.getElementById("filters-text")
        self.stats = stats
        self.open = False
        self.filters_drawn = False
        self.x = self.probs = self.label = None
        self.glyph = 0  # which glyph of the reading the pictures explain
        self.pad = pad
        self.version = 0
        self.runner_up = False  # which way the heat map points; kept from one reading to the next
        self.layout = None  # ((stage name, (H, W, C)), ...) of the stage canvases built so far
        self.canvases: list[list] = []
        self.timer = None
        self.want_maps = True
        self.gallery = MistakesView(model_bytes)

    def update(self, x, probs, label, glyph: int = 0) -> None:
        """A new glyph (or a new reading of it) to explain: (28, 28) input, its probabilities, its label."""
        self.x, self.probs, self.label, self.glyph = x, probs, label, glyph
        self.version += 1
        self.panel.dataset.version = str(self.version)
        self.schedule()

    def schedule(self, maps: bool = True) -> None:
        """While open, draw the heat map in a task of its own, then (``maps``) the feature maps in the next."""
        self.want_maps = maps or (self.timer is not None and self.want_maps)  # a pending maps task stays wanted
        self.cancel()
        if self.x is None or not self.open:
            return
        self.timer = ui.later(self.draw_heat)

    def opened(self) -> None:
        """The panel was opened: what is drawn once (filters, the gallery), then the current glyph."""
        self.open = True
        if not self.filters_drawn:
            self.filters_drawn = True
            self.draw_filters()
        self.gallery.show()
        self.schedule()

    def closed(self) -> None:
        """The panel was closed: pending work dropped (the page itself takes the heat map off the drawing)."""
        self.open = False
        self.cancel()

    def cancel(self) -> None:
        ui.cancel(self.timer)
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
        self.scores.replaceChildren()
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

    def draw_heat(self) -> None:
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
        overlay, inner = inside.heat_overlay(heat, self.x)
        self.pad.showHeat(ui.js_bytes(overlay, "Uint8ClampedArray"), [int(v) for v in inner], self.glyph)
        what = f"{answer}" if self.label is not None else f"{answer} (the closest digit; this mark is not one)"
        if self.runner_up:
            self.caption.textContent = f"Why not {second}? Red pushed toward {second}, the runner-up; blue against it."
            self.toggle.textContent = f"Back to {answer}"
        else:
            self.caption.textContent = f"Why {what}: red pixels pushed the model toward it, blue ones against it."
            self.toggle.textContent = f"Toward the runner-up, {second}"
        self.toggle.disabled = False
        self.panel.dataset.heat = f"{'runner-up' if self.runner_up else 'answer'} {target}"
        self.stats.push("inside", f"heat {now_ms() - t0:.1f}")
        if self.want_maps:
            self.timer = ui.later(self.draw_maps)
        else:
            self.panel.dataset.shown = str(self.version)

    def draw_maps(self) -> None:
        """Task 2: engine.explain.feature_maps, the first channels of each conv stage as small canvases."""
        self.timer = None
        t0 = now_ms()
        try:
            stages = engine.explain.feature_maps(self.model, self.x)
        except Exception as exc:
            p = document.createElement("p")
            p.textContent = f"Could not compute the feature maps: {exc}"
            self.stages.replaceChildren(p)  # the stage canvases go (and are built again next time)
            self.layout, self.canvases = None, []
            return
        layout = tuple((name, tuple(a.shape)) for name, a in stages)
        if layout != self.layout:
            self.build(layout)
        for (_, maps), row in zip(stages, self.canvases):
            h, w = maps.shape[:2]
            for c, rgba in zip(row, inside.channel_rgba(maps)):
                put_rgba(c.getContext("2d"), rgba, w, h)
        self.draw_scores()
        self.panel.dataset.shown = str(self.version)
        self.stats.push("inside", f"maps {now_ms() - t0:.1f}")

    def draw_scores(self) -> None:
        """The last layer's activations for the glyph: one signed bar per output."""
        items = []
        for name, length, text in inside.score_rows(engine.explain.output_scores(self.model, self.x)):
            li = document.createElement("li")
            li.className = "negative" if text.startswith("-") else ""
            label, bar, value = (document.createElement("span") for _ in range(3))
            label.className, bar.className, value.className = "score-label", "score-bar", "score-value"
            label.textContent, value.textContent = name, text
            fill = document.createElement("span")
            fill.className = "fill"
            fill.style.width = f"{length * 100:.1f}%"
            bar.append(fill)
            li.append(label, bar, value)
            items.append(li)
        self.scores.replaceChildren(*items)

    def draw_filters(self) -> None:
        """The first layer's kernels, once: they do not change from one drawing to the next."""
        filters = engine.explain.first_filters(self.model)
        if not len(filters):
            self.filters_text.textContent = "This model has no conv layer, so no filters to show."
            return
        canvases = []
        for rgba in inside.filter_rgba(filters):
            c = document.createElement("canvas")
            c.height, c.width = filters.shape[1:]
            put_rgba(c.getContext("2d"), rgba, c.width, c.height)
            canvases.append(c)
        self.filters.replaceChildren(*canvases)
        size = f"{filters.shape[1]}×{filters.shape[2]}"
        self.filters_text.textContent = inside.FILTERS_TEXT.format(count=len(filters), size=size)

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


class MistakesView:
    """The gallery of test digits and the confusion matrix; built on the panel's first opening.

    #gallery's data-count is the number of mistakes the file holds and data-filter the cell
    shown ("all", or "9>4" for 9s read as 4); tests wait on them."""

    def __init__(self, model_bytes: bytes):
        self.model_bytes = model_bytes
        self.grid = document.getElementById("gallery")
        self.caption = document.getElementById("gallery-caption")
        self.matrix = document.getElementById("confusion")
        self.data: gallery.Gallery | None = None
        self.failed = False

    def show(self) -> None:
        if self.data is not None or self.failed:
            return
        try:
            with open(GALLERY_PATH, "rb") as f:
                self.data = gallery.read_gallery(f.read(), self.model_bytes)
        except (OSError, gallery.GalleryError) as exc:
            self.failed = True
            self.caption.textContent = f"The gallery of mistakes is not available: {exc}"
            return
        self.build_matrix()
        self.filter(None, None)

    def build_matrix(self) -> None:
        """A 10x10 table: rows what was written, columns what the model read; cells with examples are buttons."""
        data = self.data
        head = document.createElement("tr")
        corner = document.createElement("th")
        corner.textContent = "written ↓ read →"
        head.append(corner)
        for d in range(10):
            th = document.createElement("th")
            th.scope = "col"
            th.textContent = str(d)
            head.append(th)
        rows = [head]
        for label in range(10):
            tr = document.createElement("tr")
            th = document.createElement("th")
            th.scope = "row"
            th.textContent = str(label)
            tr.append(th)
            for read in range(10):
                td = document.createElement("td")
                count = int(data.confusion[label, read])
                td.className = "diagonal" if label == read else ("wrong" if count else "")
                if count and data.entries(label, read):
                    button = document.createElement("button")
                    button.type = "button"
                    button.textContent = str(count)
                    button.dataset.cell = f"{label}>{read}"
                    what = "read right" if label == read else f"read as {read}"
                    button.setAttribute("aria-label", f"{count} test digits written as {label} {what}: show them")
                    td.append(button)
                else:
                    td.textContent = str(count) if count else ""
                tr.append(td)
            rows.append(tr)
        self.matrix.replaceChildren(*rows)

    def filter(self, label: int | None, read: int | None) -> None:
        """Show the entries of one cell (or every mistake and the right sample) as clickable digits."""
        data = self.data
        which = data.entries(label, read) if label is not None else list(range(len(data.labels)))
        items = []
        for i in which:
            button = document.createElement("button")
            button.type = "button"
            button.className = "example" + (" wrong" if i < data.mistakes else "")
            button.dataset.entry = str(i)
            button.setAttribute("aria-label", f"{data.description(i)}. Open it on the pad")
            c = document.createElement("canvas")
            c.width = c.height = 28
            put_rgba(c.getContext("2d"), data.rgba(i), 28, 28)
            span = document.createElement("span")
            span.textContent = data.caption(i)
            button.append(c, span)
            items.append(button)
        self.grid.replaceChildren(*items)
        self.grid.dataset.count = str(data.mistakes)
        self.grid.dataset.filter = "all" if label is None else f"{label}>{read}"
        if label is None:
            self.caption.textContent = (
                f"The {data.mistakes} MNIST test digits (of {int(data.confusion.sum()):,}) this model reads wrong, "
                f"then {len(data.labels) - data.mistakes} it reads right. Click one to open it on the pad."
            )
        else:
            what = "it reads right" if label == read else f"it reads as {read}"
            self.caption.textContent = f"Test digits written as {label} that {what}: {len(which)} shown."

    def on_matrix(self, cell: str) -> None:
        """A cell's button was pressed: ``cell`` is "9>4" for the 9s read as 4."""
        label, read = (int(v) for v in cell.split(">"))
        self.filter(label, read)

    def open_entry(self, i: int) -> None:
        """Digit ``i`` clicked: the pad opens it as a picture (28x28, dark on white) and reads it as it reads any."""
        if self.data is None or not 0 <= i < len(self.data.labels):
            return
        name = f"MNIST test digit #{int(self.data.index[i])}.png"
        rgba = ui.js_bytes(self.data.rgba(i), "Uint8ClampedArray")
        ui.call("digitsPage.openPicture", rgba, 28, 28, name, self.data.description(i))
