"""Large screens (issue 15): the pad and the answer side by side, the pad growing with the window, the bars
above the fold at 1280x800."""

import number_strokes as ns

import pagekit

GEOMETRY = """() => { const r = (s) => document.querySelector(s).getBoundingClientRect();
    return { bars: r('#bars').bottom, fold: innerHeight, pad: r('#pad').width, padTop: r('#pad').top,
             result: r('.result-card').left, padRight: r('#pad').right }; }"""


def test_the_layout_uses_large_screens(visit):
    seen = {}
    for width, height in ((1280, 800), (1920, 1080)):
        v = visit(viewport={"width": width, "height": height})
        page = v.open()
        ns.drawn(page, lambda p=page: ns.draw_number(p, "42"))
        assert pagekit.prediction(page) == "42"
        seen[width] = g = page.evaluate(GEOMETRY)
        assert g["bars"] <= g["fold"], (width, g)  # no empty band, no bars below the fold
        assert g["result"] >= g["padRight"], (width, g)  # the answer beside the pad, not under it
    assert seen[1920]["pad"] >= 1.15 * seen[1280]["pad"], seen  # the pad grows with the window
    assert seen[1920]["pad"] > 0.45 * 1920, seen  # not a 420 px pad in a 980 px column
