"""Strokes of digits, numbers and non-digits for the pad, whatever its aspect.

pagekit.draw_mouse maps strokes given as fractions of the pad's width and height.
The pad is square on phones but wider than tall on a desktop (a whole number
needs room), so shapes here are drawn in a unit square (x, y in [0, 1], like
pagekit.DIGIT_STROKES) and placed in square cells of the pad before drawing:
a "7" stays a 7 on a 5:2 pad.
"""

from __future__ import annotations

import math

import pagekit


def _arc(cx, cy, rx, ry, start, end, n=16):
    """Points on an ellipse from angle `start` to `end` (radians, y down: pi/2 is the bottom)."""
    return [
        (cx + rx * math.cos(start + (end - start) * i / n), cy + ry * math.sin(start + (end - start) * i / n))
        for i in range(n + 1)
    ]


# Each digit in a unit square, drawn the way people write it.
DIGITS = {
    **pagekit.DIGIT_STROKES,
    2: [_arc(0.5, 0.36, 0.2, 0.15, math.pi * 1.05, math.pi * 2.2) + [(0.3, 0.8), (0.72, 0.8)]],
    3: [
        _arc(0.48, 0.35, 0.18, 0.14, math.pi * 1.1, math.pi * 2.5)
        + _arc(0.48, 0.63, 0.2, 0.17, -math.pi / 2, math.pi * 0.85)
    ],
    5: [[(0.68, 0.22), (0.36, 0.22), (0.33, 0.47)] + _arc(0.5, 0.62, 0.2, 0.18, -math.pi * 0.75, math.pi * 0.85)],
    6: [[(0.62, 0.2), (0.45, 0.38)] + _arc(0.5, 0.62, 0.18, 0.18, math.pi * 1.1, math.pi * 3.1)],
    8: [
        _arc(0.5, 0.35, 0.15, 0.13, math.pi / 2, math.pi * 2.5)
        + _arc(0.5, 0.64, 0.19, 0.16, -math.pi / 2, math.pi * 1.5)
    ],
    9: [_arc(0.5, 0.36, 0.17, 0.15, 0.0, math.pi * 2.05) + [(0.67, 0.4), (0.6, 0.82)]],
}

# Marks that are no digit: letters, a scribble, a dot, a tiny tick.
SHAPES = {
    "X": [[(0.28, 0.22), (0.72, 0.8)], [(0.72, 0.22), (0.28, 0.8)]],
    "A": [[(0.28, 0.82), (0.5, 0.2), (0.72, 0.82)], [(0.37, 0.58), (0.63, 0.58)]],
    "scribble": [[(0.2 + 0.6 * i / 24, 0.5 + 0.3 * math.sin(i * 2.1) * (1 if i % 2 else -0.6)) for i in range(25)]],
    "dot": [[(0.5, 0.5)]],
    "tick": [[(0.5, 0.5), (0.515, 0.51)]],
}


def aspect(page) -> float:
    box = pagekit.pad_box(page)
    return box["width"] / box["height"]


def place(strokes, ratio: float, left: float, size: float = 1.0, top: float | None = None):
    """Unit-square strokes in a square cell of the pad (its side `size` pad heights, its left edge
    `left` pad heights from the pad's left edge) -> fractions of the pad's width and height."""
    top = (1.0 - size) / 2 if top is None else top
    return [[((left + x * size) / ratio, top + y * size) for x, y in stroke] for stroke in strokes]


def centered(strokes, ratio: float):
    """Unit-square strokes in the square in the middle of the pad."""
    return place(strokes, ratio, (ratio - 1.0) / 2)


def number(text: str, ratio: float, size: float = 0.7, advance: float = 0.62):
    """The digits of `text` side by side, `advance` of a cell apart, centred on the pad."""
    width = size * (1 + advance * (len(text) - 1))
    if width > ratio:  # a narrow pad: smaller digits
        size *= ratio / width
        width = ratio
    left = (ratio - width) / 2
    out = []
    for i, ch in enumerate(text):
        out += place(DIGITS[int(ch)], ratio, left + i * advance * size, size)
    return out


def draw_digit(page, strokes, release: bool = True) -> None:
    """Draw unit-square strokes in the middle of the pad (a digit keeps its shape on any pad)."""
    pagekit.draw_mouse(page, centered(strokes, aspect(page)), release=release)


def draw_number(page, text: str) -> None:
    pagekit.draw_mouse(page, number(text, aspect(page)))


def pad_gray(page):
    """The grayscale the page hands to read_number for the pad as it is now (uint8, ink bright on dark)."""
    import numpy as np

    snap = page.evaluate(
        "() => { const s = window.digitPad.snapshot(true);"
        " return {w: s.width, h: s.height, x: s.x, y: s.y, r: Array.from(s.rgba.filter((_, i) => i % 4 === 0))}; }"
    )
    gray = np.array(snap["r"], np.uint8).reshape(snap["h"], snap["w"])
    return gray, (snap["x"], snap["y"])


def drawn(page, draw) -> None:
    """Run `draw()` (strokes on the pad) and wait for the page's final answer to it, bars included."""
    before = page.evaluate("window.digitsStats.count")
    draw()
    pagekit.wait_for(
        page,
        "(n) => window.digitsStats.count > n && document.querySelector('.answer').getAttribute('aria-busy') === 'false'"
        " && document.getElementById('bars').dataset.reading === String(window.digitsStats.count)",
        arg=before,
    )


def shown(page) -> dict:
    """What the page shows for the last reading: text, message, the glyph list and the boxes it drew."""
    return page.evaluate(
        """() => ({
        prediction: document.getElementById('prediction').textContent,
        message: document.getElementById('message').textContent,
        glyphs: [...document.querySelectorAll('#digits button.glyph')].map((b) => ({
            label: b.querySelector('.glyph-label').textContent,
            confidence: b.querySelector('.glyph-confidence').textContent,
            pressed: b.getAttribute('aria-pressed'),
        })),
        boxes: window.digitPad.boxes,
        best: [...document.querySelectorAll('#bars li')].findIndex((li) => li.classList.contains('best')),
    })"""
    )


def overlay_ink(page) -> dict:
    """Drawn pixels on the boxes overlay: in all, and at the middle of each box's left and right edges."""
    return page.evaluate(
        """() => {
        const pad = window.digitPad, o = pad.overlay, ctx = o.getContext('2d');
        const all = ctx.getImageData(0, 0, o.width, o.height).data;
        let total = 0; for (let i = 3; i < all.length; i += 4) if (all[i] > 0) total++;
        // Source pixels -> overlay pixels, worked out here rather than asked of the pad: the overlay
        // covers the pad; the ink canvas is the pad at INK_HEIGHT rows; a picture is fitted and centred.
        let f = { x: 0, y: 0, scale: o.height / pad.ink.height };
        if (pad.boxes && pad.boxes.kind === 'image') {
            const { bitmap, width } = pad.image;
            const s = Math.min(o.width / bitmap.width, o.height / bitmap.height);
            f = { x: (o.width - bitmap.width * s) / 2, y: (o.height - bitmap.height * s) / 2, scale: (bitmap.width * s) / width };
        }
        const hit = (x, y) => {  // any drawn pixel within 2 px of (x, y)
            const d = ctx.getImageData(Math.round(x) - 2, Math.round(y) - 2, 5, 5).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) return true;
            return false;
        };
        const edges = (pad.boxes ? pad.boxes.digits : []).map(({ box: [x0, y0, x1, y1] }) => {
            const y = f.y + f.scale * (y0 + y1) / 2;
            return hit(f.x + f.scale * x0, y) && hit(f.x + f.scale * x1, y);
        });
        return { total, edges };
    }"""
    )
