"""The page, seen from the worker: stand-ins for its elements whose changes are recorded and sent.

The page's Python runs in a Web Worker (web/compute.js), so the main thread only draws
and never waits on Python; a worker has no DOM. The page's modules change the page
through these stand-ins instead: each change (text, a class, an attribute, new children,
pixels on a canvas, a call to a page function such as the pad's ``showBoxes``) is
recorded as one operation, and ``flush`` posts the batch, which web/bridge.js applies on
the main thread in one go. Nothing is read back from the page: what Python needs to know
(the ink, which button was pressed, whether a panel is open) arrives with the messages
the bridge sends, and a stand-in remembers only what Python itself set on it.

``on(kind)`` registers a handler for the bridge's messages of that kind; ``later`` is
``setTimeout`` for Python functions. Both flush after the function returns.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import create_proxy, to_js

_ops: list[list] = []
_handles = iter(range(1, 1 << 62))
_handlers: dict[str, Callable] = {}
_timers: dict[int, tuple[Callable, Any]] = {}  # key -> (function, the worker's timer id)
_timer_keys = iter(range(1, 1 << 62))

PROPERTIES = {"textContent", "className", "title", "type", "scope", "hidden", "disabled", "value", "open"}
CANVAS_PROPERTIES = {"width", "height"}


def _record(*op) -> None:
    _ops.append(list(op))


def js_bytes(data: bytes, kind: str = "Uint8Array"):
    """A JavaScript typed-array copy of ``data`` (what the page's canvases and stores take)."""
    out = getattr(js, kind).new(len(data))
    out.assign(data)
    return out


class _ReadsBack:
    """Reads an attribute back from what Python set (``self._values``), never from the page."""

    def __getattr__(self, name: str):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{name} was not set from Python, and the worker cannot read the page") from None


class _Shadow(_ReadsBack):
    """What Python set on one part of a stand-in (read back from here, never from the page)."""

    def __init__(self, element: Element, op: str):
        object.__setattr__(self, "_element", element)
        object.__setattr__(self, "_op", op)
        object.__setattr__(self, "_values", {})

    def __setattr__(self, name: str, value) -> None:
        self._values[name] = value
        _record(self._op, self._element.ref, name, value)


class ClassList:
    def __init__(self, element: Element):
        self.ref = element.ref

    def toggle(self, name: str, on: bool) -> None:
        _record("class", self.ref, name, bool(on))

    def add(self, name: str) -> None:
        self.toggle(name, True)

    def remove(self, name: str) -> None:
        self.toggle(name, False)


class Context2D:
    """A canvas's 2-D context: filled rectangles and RGBA pixels."""

    def __init__(self, element: Element):
        object.__setattr__(self, "ref", element.ref)

    def __setattr__(self, name: str, value) -> None:
        _record("ctx", self.ref, name, value)

    def fillRect(self, x: float, y: float, w: float, h: float) -> None:  # noqa: N802 (the DOM's name)
        _record("fillRect", self.ref, x, y, w, h)


class Element(_ReadsBack):
    """One element of the page: by id or selector (``ref`` a string), or created here (``ref`` a number)."""

    def __init__(self, ref: str | int):
        object.__setattr__(self, "ref", ref)
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "dataset", _Shadow(self, "data"))
        object.__setattr__(self, "style", _Shadow(self, "style"))
        object.__setattr__(self, "classList", ClassList(self))

    def __setattr__(self, name: str, value) -> None:
        if name not in PROPERTIES | CANVAS_PROPERTIES:
            raise AttributeError(f"setting {name} is not supported from the worker")
        self._values[name] = value
        _record("set", self.ref, name, value)

    def setAttribute(self, name: str, value: str) -> None:  # noqa: N802
        _record("attr", self.ref, name, str(value))

    def append(self, *children: Element | str) -> None:
        _record("append", self.ref, [c.ref if isinstance(c, Element) else ["text", c] for c in children])

    def replaceChildren(self, *children: Element) -> None:  # noqa: N802
        _record("replace", self.ref, [c.ref for c in children])

    def getContext(self, kind: str) -> Context2D:  # noqa: N802
        return Context2D(self)


class Document:
    def getElementById(self, element_id: str) -> Element:  # noqa: N802
        return Element("#" + element_id)

    def querySelector(self, selector: str) -> Element:  # noqa: N802
        return Element(selector)

    def createElement(self, tag: str) -> Element:  # noqa: N802
        element = Element(next(_handles))
        _record("create", element.ref, tag)
        return element


document = Document()


def put_rgba(ctx: Context2D, rgba: bytes, width: int, height: int) -> None:
    """Paint RGBA bytes on a canvas at (0, 0)."""
    _record("pixels", ctx.ref, js_bytes(rgba, "Uint8ClampedArray"), width, height)


def call(path: str, *args) -> None:
    """Call a page function by its path from ``window`` (``"digitPad.showBoxes"``) with ``args``."""
    _record("call", path, list(args))


class Remote:
    """A page object's functions, called by name: ``Remote("digitPad").showBoxes(text)``."""

    def __init__(self, path: str):
        self._path = path

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args: call(f"{self._path}.{name}", *args)


class Stats:
    """``window.digitsStats``, which the tests and the benchmarks read: lists of figures and a count."""

    def __init__(self):
        object.__setattr__(self, "count", 0)

    def push(self, key: str, value) -> None:
        _record("stat", key, value)

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        _record("statSet", name, value)


stats = Stats()


def _post(ops: list, answered: str | None) -> None:
    """One batch of operations to web/bridge.js, which applies them on the main thread."""
    js.digitsHost.postMessage(
        to_js({"type": "ops", "ops": ops, "answered": answered}, dict_converter=js.Object.fromEntries)
    )


def flush(answered: str | None = None) -> None:
    """Post the recorded operations to the main thread (``answered``: the message kind they answer)."""
    global _ops
    if not _ops and answered is None:
        return
    ops, _ops = _ops, []
    _post(ops, answered)


def _report(kind: str) -> None:
    """An exception in a handler: the console gets the traceback, the page keeps working."""
    js.console.error(f"digits: the {kind} handler failed:\n{traceback.format_exc()}")


def on(kind: str):
    """Register ``fn(message)`` for the bridge's messages of ``kind``."""

    def register(fn: Callable) -> Callable:
        _handlers[kind] = fn
        return fn

    return register


def handle(message) -> None:
    """The worker's entry point for each message from the page (web/compute.js calls it)."""
    kind = str(message.type)
    try:
        fn = _handlers.get(kind)
        if fn is None:
            raise ValueError(f"no handler for the page's {kind!r} message")
        fn(message)
    except Exception:
        _report(kind)
    try:
        flush(answered=kind)
    except Exception:  # the operations could not be posted: still answer, or the pad waits forever
        _report(f"{kind} answer")
        _ops.clear()
        _post([], kind)


def _fire(key: int) -> None:
    entry = _timers.pop(key, None)
    if entry is None:
        return
    try:
        entry[0]()
    except Exception:
        _report(getattr(entry[0], "__name__", "timer"))
    flush()


_fire_proxy = create_proxy(_fire)


def later(fn: Callable[[], None], ms: float = 0) -> int:
    """Run ``fn()`` in a task of its own after ``ms``; returns a key for ``cancel``."""
    key = next(_timer_keys)
    _timers[key] = (fn, js.digitsHost.setTimeout(_fire_proxy, ms, key))
    return key


def cancel(key: int | None) -> None:
    entry = _timers.pop(key, None) if key is not None else None
    if entry is not None:
        js.digitsHost.clearTimeout(entry[1])


def now_ms() -> float:
    return js.digitsHost.now()
