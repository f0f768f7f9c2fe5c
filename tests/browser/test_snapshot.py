"""A repeat visit restores the interpreter from the first visit's memory snapshot (web/snapshot.js,
web/compute.js): kept once per runtime, used on the next visit, and a snapshot that does not restore
is forgotten while the page starts Python the plain way and still reads."""

import number_strokes

import pagekit

STORED = """() => caches.open("digits-snapshot-v1")
    .then((cache) => cache.keys())
    .then((keys) => Promise.all(keys.map(async (r) => [r.url, (await (await caches.match(r)).arrayBuffer()).byteLength])))
    .then((entries) => entries.length ? entries : null)"""

SPOIL = """(url) => caches.open("digits-snapshot-v1").then((cache) => cache.put(url, new Response(new Uint8Array(4096).fill(7))))"""


def start_marks(page) -> list[str]:
    return [name for name, _ in page.evaluate("digitsLoader.marks")]


def stored_snapshots(page) -> list:
    """[[url, bytes], ...] once the worker has kept its snapshot (it does so after the page is ready)."""
    return pagekit.wait_for(page, STORED, timeout=30_000)


def reads_a_seven(page) -> bool:
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[7])
    return pagekit.wait_prediction(page, "7") == "7"


def test_first_visit_keeps_one_snapshot_and_the_next_restores_it(visit):
    v = visit(viewport={"width": 1000, "height": 800})
    page = v.open()
    first = start_marks(page)
    assert "loadPyodide" in first and "snapshot taken" in first and "loadPyodide (snapshot)" not in first, first
    [(url, size)] = stored_snapshots(page)
    assert url.startswith(v.base_url + "pyodide-snapshot-"), url
    assert size > 5_000_000, size  # the interpreter's heap, not an empty entry
    page.reload()
    pagekit.wait_ready(page)
    repeat = start_marks(page)
    assert "loadPyodide (snapshot)" in repeat and "loadPyodide" not in repeat, repeat
    assert reads_a_seven(page)
    assert stored_snapshots(page) == [[url, size]]  # kept, not taken again
    assert not [line for line in v.console if "snapshot" in line], v.console


def test_a_snapshot_that_does_not_restore_is_replaced_and_the_page_still_reads(visit):
    v = visit(viewport={"width": 1000, "height": 800})
    page = v.open()
    [(url, size)] = stored_snapshots(page)
    page.evaluate(SPOIL, url)
    assert stored_snapshots(page) == [[url, 4096]]
    page.reload()
    pagekit.wait_ready(page)
    marks = start_marks(page)
    assert marks.index("loadPyodide (snapshot)") < marks.index("loadPyodide"), marks  # tried, then started plainly
    assert reads_a_seven(page)
    assert any("did not restore" in line for line in v.console), v.console
    pagekit.wait_for(page, f"() => ({STORED})().then((e) => e && e[0][1] === {size})", timeout=30_000)


def test_the_snapshot_key_changes_with_any_runtime_file_but_numpys_wheel(visit):
    page = visit().open()
    keys = page.evaluate(
        """async () => {
        const { snapshotKey } = await import("./web/snapshot.js");
        const files = [
            { url: "web/vendor/pyodide/pyodide.asm.wasm", sha256: "aa" },
            { url: "web/vendor/pyodide/python_stdlib.zip", sha256: "bb" },
            { url: "web/vendor/pyodide/numpy.whl", sha256: "cc" },
        ];
        const changed = (i, sha256) => files.map((f, j) => (j === i ? { ...f, sha256 } : f));
        return [
            await snapshotKey(files, location.href),
            await snapshotKey([...files].reverse(), location.href),
            await snapshotKey(changed(0, "ab"), location.href),
            await snapshotKey(changed(1, "bc"), location.href),
            await snapshotKey(changed(2, "cd"), location.href),
            await snapshotKey(changed(1, undefined), location.href),
        ];
    }"""
    )
    base, reordered, wasm, stdlib, wheel, unknown = keys
    assert base.startswith(page.url.split("#")[0] + "pyodide-snapshot-")
    assert reordered == base and wheel == base  # the order and NumPy's wheel do not matter
    assert len({base, wasm, stdlib}) == 3  # any other runtime file does
    assert unknown is None  # nothing to key on: no snapshot
