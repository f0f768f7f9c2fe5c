"""digits/negatives.py (things that are not digits) and a smoke run of bench/reject_bench.py."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import reject_bench  # noqa: E402
from digits import negatives as neg  # noqa: E402
from engine.components import label_components  # noqa: E402

ALL_KINDS = [k for k in neg.KINDS if k != "fashion" or neg.fashion_available()]
INKED_KINDS = [k for k in ALL_KINDS if k not in neg.EMPTYISH]


@pytest.fixture(scope="module")
def digits(mnist):
    return mnist["train_images"][:300]


@pytest.fixture(scope="module")
def one_of_each(digits):
    """Six images of every kind, drawn once for the tests below."""
    return {k: neg.negative_set(np.random.default_rng(3), 6, kinds=[k], digits=digits) for k in ALL_KINDS}


def test_every_kind_gives_28x28_uint8_images_labelled_with_their_kind(one_of_each):
    assert set(one_of_each) >= set(neg.KINDS) - {"fashion"}
    for kind, s in one_of_each.items():
        assert s.images.shape == (6, 28, 28) and s.images.dtype == np.uint8, kind
        assert s.kinds.tolist() == [kind] * 6
        is_glyph = kind in ("letters", "symbols")
        assert all(bool(g) == is_glyph for g in s.glyphs) and all(bool(f) == is_glyph for f in s.fonts), kind


@pytest.mark.parametrize("kind", INKED_KINDS)
def test_every_kind_but_the_blank_photos_has_ink_in_every_image(one_of_each, kind):
    images = one_of_each[kind].images.reshape(6, -1)
    assert (images.max(axis=1) == 255).all(), kind  # preprocess stretches the ink to full brightness
    assert (images.mean(axis=1) / 255 > 0.01).all(), kind  # more than the rejection rule's "empty"
    assert len({im.tobytes() for im in images}) == 6, kind  # six different images, not one repeated


def test_the_blank_photos_are_mostly_faint_or_empty(digits):
    s = neg.negative_set(np.random.default_rng(4), 40, kinds=list(neg.EMPTYISH))
    assert s.images.dtype == np.uint8 and s.images.shape == (40, 28, 28)
    assert (s.images.reshape(40, -1).max(axis=1) == 0).any()  # some photos hold no ink at all
    assert s.images.mean() / 255 < 0.12


def test_the_same_seed_gives_the_same_mix_and_another_seed_another(digits):
    mix = {k: v for k, v in neg.DEFAULT_MIX.items() if k in ALL_KINDS}

    def draw(seed):
        return neg.negative_set(np.random.default_rng(seed), 60, digits=digits, kinds=mix)

    a, b, c = draw(11), draw(11), draw(12)
    assert np.array_equal(a.images, b.images) and (a.kinds == b.kinds).all() and (a.glyphs == b.glyphs).all()
    assert not np.array_equal(a.images, c.images)
    assert set(a.kinds) == {k for k, n in neg.counts(mix, 60).items() if n}
    changes = int((a.kinds[1:] != a.kinds[:-1]).sum())
    assert changes > 2 * len(set(a.kinds))  # shuffled, not one block per kind
    e1, e2 = neg.evaluation_letters(np.random.default_rng(5), 1), neg.evaluation_letters(np.random.default_rng(5), 1)
    assert e1.shape == (len(neg.EVALUATION_LETTERS), 28, 28) and np.array_equal(e1, e2)
    some = neg.evaluation_letters(np.random.default_rng(5), 2, letters="AE")
    assert some.shape == (4, 28, 28) and np.array_equal(some[0], e1[0])  # the first draw: an A, the same one


def test_counts_follow_the_shares_and_add_up():
    got = neg.counts({"letters": 3, "dots": 1, "lines": 0}, 101)
    assert sum(got.values()) == 101 and got["lines"] == 0 and got["letters"] in (75, 76)
    assert neg.counts(["dots", "lines", "blobs"], 7) == {"dots": 3, "lines": 2, "blobs": 2}
    with pytest.raises(ValueError, match="unknown negative kind"):
        neg.counts({"digits": 1}, 5)


def test_excluded_letters_never_appear_in_a_training_mix():
    held = neg.EVALUATION_LETTERS[:12]
    s = neg.negative_set(np.random.default_rng(6), 240, kinds={"letters": 3, "symbols": 1}, exclude_letters=held)
    drawn = set(s.glyphs[s.kinds == "letters"].tolist())
    assert not drawn & set(held)
    assert drawn == set(neg.EVALUATION_LETTERS[12:])  # the rest: lookalikes are left out by default
    assert not set(s.glyphs.tolist()) & set(neg.DIGIT_LOOKALIKES)
    assert set(s.glyphs[s.kinds == "symbols"].tolist()) <= set(neg.SYMBOLS)
    assert "O" in neg.glyph_chars("letters", held, lookalikes=True) and "O" not in neg.glyph_chars("letters", held)
    with pytest.raises(ValueError, match="lookalikes=True"):
        neg.negatives(np.random.default_rng(0), 5, kinds=["letters"], exclude_letters=neg.EVALUATION_LETTERS)


def test_fonts_split_into_disjoint_training_and_held_out_families():
    fonts = neg.font_paths()
    train, held = neg.font_split()
    assert train and held and not set(train) & set(held) and set(train) | set(held) == set(fonts)
    assert not {neg.font_family(f) for f in train} & {neg.font_family(f) for f in held}
    assert neg.font_split(list(reversed(fonts))) == (train, held)  # the order they are found in does not matter
    assert neg.font_family("DejaVuSansCondensed-BoldOblique.ttf") == "DejaVuSans"
    assert neg.font_family("LiberationSansNarrow-Bold.ttf") == "LiberationSans"


def test_training_glyphs_use_training_fonts_and_evaluation_glyphs_held_out_ones():
    train, held = neg.font_split()
    s = neg.negative_set(np.random.default_rng(7), 60, kinds=["letters", "symbols"])
    assert set(s.fonts.tolist()) <= {f.name for f in train}
    e = neg.evaluation_negatives(np.random.default_rng(7), 20, kinds=["symbols"])
    assert set(e.fonts.tolist()) <= {f.name for f in held} and (e.kinds == "symbols").all()
    default = neg.evaluation_letters(np.random.default_rng(8), 2)
    assert np.array_equal(default, neg.evaluation_letters(np.random.default_rng(8), 2, fonts=held))
    assert not np.array_equal(default, neg.evaluation_letters(np.random.default_rng(8), 2, fonts=train))


def test_a_missing_glyph_is_detected_and_no_fonts_is_a_clear_error(tmp_path):
    font = str(neg.font_paths()[0])
    assert neg._has_glyph(font, "A") and not neg._has_glyph(font, "\ue000")
    with pytest.raises(neg.NoFontsError, match="no TrueType/OpenType font"):
        neg.font_paths(roots=[tmp_path])


def test_fragments_are_pieces_of_digits_not_whole_ones(digits):
    pieces = neg.fragments(np.random.default_rng(9), 30, digits[:5])
    assert pieces.shape == (30, 28, 28) and pieces.dtype == np.uint8
    whole = {d.tobytes() for d in digits[:5]}
    assert not any(p.tobytes() in whole for p in pieces)
    with pytest.raises(ValueError, match="needs MNIST digits"):
        neg.negatives(np.random.default_rng(0), 4, kinds=["fragments"])


def test_pairs_are_two_touching_digits_in_one_glyph(digits):
    pairs = neg.pairs(np.random.default_rng(9), 40, digits[:20])
    assert pairs.shape == (40, 28, 28) and pairs.dtype == np.uint8
    ink = pairs > 64
    cols = ink.any(axis=1)
    width = 28 - cols[:, ::-1].argmax(axis=1) - cols.argmax(axis=1)
    height = 28 - ink.any(axis=2)[:, ::-1].argmax(axis=1) - ink.any(axis=2).argmax(axis=1)
    # one MNIST digit is taller than wide (median width/height 0.7 in these); two side by side are wider
    assert np.median(width / height) > 1.0 > np.median(_aspects(digits[:20]))
    touching = [_pieces(p) == 1 for p in ink]
    assert np.mean(touching) > 0.8  # pressed together: one connected mark, not two
    with pytest.raises(ValueError, match="'pairs' kind needs MNIST digits"):
        neg.negatives(np.random.default_rng(0), 4, kinds=["pairs"])


def _aspects(images):
    ink = images > 64
    cols, rows = ink.any(axis=1), ink.any(axis=2)
    return (28 - cols[:, ::-1].argmax(axis=1) - cols.argmax(axis=1)) / (
        28 - rows[:, ::-1].argmax(axis=1) - rows.argmax(axis=1)
    )


def _pieces(ink):
    return int((label_components(ink).areas >= 4).sum())  # specks of the resampling aside


def test_fashion_items_come_from_the_debian_package_by_split():
    if not neg.fashion_available():
        pytest.skip("Fashion-MNIST is not installed (bash scripts/install_fashion_mnist.sh)")
    assert neg.fashion_mnist("train").shape == (60000, 28, 28) and neg.fashion_mnist("test").shape == (10000, 28, 28)
    a = neg.fashion(np.random.default_rng(1), 4, "train")
    b = neg.fashion(np.random.default_rng(1), 4, "test")
    assert a.shape == b.shape == (4, 28, 28) and not np.array_equal(a, b) and (a.max(axis=(1, 2)) == 255).all()


def test_the_bench_keeps_the_validation_digits_training_held_out(mnist):
    val = reject_bench.validation_digits(mnist)
    assert val.shape == (5000, 28, 28) and val.dtype == np.uint8
    # train_offline.py's defaults (--seed 0, --val-size 5000) hold out exactly these images
    from engine.train import stratified_split

    train_idx, val_idx = stratified_split(mnist["train_labels"], 5000, np.random.default_rng(0))
    assert np.array_equal(val, mnist["train_images"][val_idx])
    assert not np.array_equal(val[:100], mnist["train_images"][train_idx[:100]])


def test_reject_bench_smoke(mnist, tmp_path, capsys):
    result = reject_bench.main(["--per-letter", "1", "--per-kind", "2", "--val-limit", "300", "--out", str(tmp_path)])
    assert result["validation_digits"] == 300 and result["sizes"][reject_bench.LETTERS] == 23
    assert result["at_target"]["digits_kept"] >= 0.99
    kept = [r["digits_kept"] for r in result["rows"]]
    assert kept == sorted(kept, reverse=True) and all(
        0 <= v <= 1 for r in result["rows"] for v in r["rejected"].values()
    )
    assert set(result["per_letter_at_target"]) == set(neg.EVALUATION_LETTERS)
    out = capsys.readouterr().out
    assert "CPU: " in out and "| threshold | digits kept | letters (held out) |" in out and "Per letter: A " in out
    assert (tmp_path / "reject_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "reject.json").stat().st_size > 0
