"""web/ui.py, the page seen from Python's worker, in CPython: what it records and posts.

``js`` and ``pyodide.ffi`` exist only in Pyodide, so small stand-ins take their place here;
the operations web/ui.py records are what web/bridge.js's OPS table applies, and these tests
pin their shape (the browser tests run both ends together).
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


class FakeTypedArray:
    def __init__(self, n):
        self.data = bytearray(n)

    @classmethod
    def new(cls, n):
        return cls(n)

    def assign(self, data):
        self.data[:] = data


@pytest.fixture
def ui(monkeypatch):
    posted, timers = [], {}
    js = types.ModuleType("js")
    js.Object = types.SimpleNamespace(fromEntries=dict)
    js.Uint8Array = js.Uint8ClampedArray = FakeTypedArray
    js.console = types.SimpleNamespace(error=lambda text: posted.append({"error": text}))

    def set_timeout(fn, ms, key):
        timers[len(timers) + 1] = (fn, key)
        return len(timers)

    js.digitsHost = types.SimpleNamespace(
        postMessage=posted.append,
        setTimeout=set_timeout,
        clearTimeout=lambda timer_id: timers.pop(timer_id, None),
        now=lambda: 12.5,
    )
    ffi = types.ModuleType("pyodide.ffi")
    ffi.create_proxy = lambda fn: fn
    ffi.to_js = lambda value, dict_converter=None: value
    monkeypatch.setitem(sys.modules, "js", js)
    monkeypatch.setitem(sys.modules, "pyodide", types.ModuleType("pyodide"))
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
    monkeypatch.syspath_prepend(str(ROOT / "web"))
    monkeypatch.delitem(sys.modules, "ui", raising=False)
    import ui

    ui.posted, ui.timers = posted, timers
    yield ui
    sys.modules.pop("ui", None)


def test_changes_are_recorded_in_order_and_posted_in_one_batch(ui):
    doc = ui.document
    answer = doc.getElementById("prediction")
    answer.textContent = "42"
    answer.classList.toggle("long", True)
    item = doc.createElement("li")
    item.dataset.index = "0"
    item.style.width = "50%"
    item.setAttribute("aria-pressed", "true")
    doc.querySelector("#digits").replaceChildren(item)
    ui.put_rgba(doc.getElementById("preview").getContext("2d"), b"\x01\x02\x03\x04", 1, 1)
    ui.Remote("digitPad").showBoxes('{"digits": []}')
    ui.stats.push("timings", 3.5)
    ui.stats.count += 1
    ui.flush(answered="ink")
    (message,) = ui.posted
    assert message["type"] == "ops" and message["answered"] == "ink"
    ops = message["ops"]
    assert [op[0] for op in ops] == [
        "set", "class", "create", "data", "style", "attr", "replace", "pixels", "call", "stat", "statSet",
    ]  # fmt: skip
    assert ops[0] == ["set", "#prediction", "textContent", "42"]
    created = ops[2][1]
    assert ops[2] == ["create", created, "li"] and ops[6] == ["replace", "#digits", [created]]
    assert bytes(ops[7][2].data) == b"\x01\x02\x03\x04" and ops[7][3:] == [1, 1]
    assert ops[8] == ["call", "digitPad.showBoxes", ['{"digits": []}']]
    assert ops[10] == ["statSet", "count", 1]
    ui.flush()
    assert len(ui.posted) == 1, "nothing recorded: nothing posted"


def test_a_stand_in_remembers_only_what_python_set(ui):
    canvas = ui.document.createElement("canvas")
    canvas.width, canvas.height = 5, 3
    assert (canvas.width, canvas.height) == (5, 3)
    with pytest.raises(AttributeError, match="cannot read the page"):
        _ = ui.document.getElementById("inside-panel").open
    with pytest.raises(AttributeError, match="not supported"):
        canvas.onclick = print


def test_messages_go_to_their_handler_and_a_failing_one_does_not_stop_the_page(ui):
    seen = []
    ui.on("glyph")(lambda message: seen.append(message.value))
    ui.on("boom")(lambda message: 1 / 0)
    ui.handle(types.SimpleNamespace(type="glyph", value="2"))
    ui.handle(types.SimpleNamespace(type="boom"))
    assert seen == ["2"]
    errors = [m["error"] for m in ui.posted if "error" in m]
    assert len(errors) == 1 and "ZeroDivisionError" in errors[0]
    # Each message is answered, the failing one too (the bridge sends the next ink on the answer).
    assert [m["answered"] for m in ui.posted if "answered" in m] == ["glyph", "boom"]


def test_later_runs_once_then_flushes_and_cancel_drops_it(ui):
    ran = []
    key = ui.later(lambda: ran.append(ui.document.getElementById("timing").setAttribute("title", "x")))
    dropped = ui.later(lambda: ran.append("dropped"))
    ui.cancel(dropped)
    for fn, timer_key in list(ui.timers.values()):
        fn(timer_key)
    assert len(ran) == 1 and key != dropped
    assert ui.posted[-1]["ops"] == [["attr", "#timing", "title", "x"]]
