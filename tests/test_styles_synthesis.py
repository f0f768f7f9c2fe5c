"""digits/styles.py: training digits in the styles MNIST lacks (slashed 0, flagged 1, crossed 7, ...)."""

import numpy as np
import pytest

import engine
from digits import styles

COUNT = 2 * len(styles.STYLES)  # two of every style


@pytest.fixture(scope="module")
def train(mnist):
    """A slice of MNIST's training split (the only split the edits may use)."""
    return mnist["train_images"][:3000], mnist["train_labels"][:3000]


@pytest.fixture(scope="module")
def styled(train):
    return styles.styled_set(np.random.default_rng(5), COUNT, *train)


def test_styles_name_their_labels_and_cover_the_issue():
    assert set(styles.STYLES) == set(styles.RENDERED) | set(styles.EDITED)
    assert all(isinstance(v, int) and 0 <= v <= 9 for v in styles.STYLES.values())
    for name in ("zero_slashed", "one_flag", "one_flag_foot", "one_caret", "seven_crossed", "four_open"):
        assert name in styles.STYLES
    for name in ("four_closed", "five_one_stroke", "nine_curly", "eight_flat", "mnist_seven_crossed"):
        assert name in styles.STYLES
    # every stylized digit has a plain counterpart (the open 4 is MNIST's usual 4)
    for label in set(styles.STYLES.values()) - {4}:
        assert any(n.endswith("_plain") and styles.STYLES[n] == label for n in styles.RENDERED), label


def test_shapes_dtypes_and_ink(train):
    images, labels = styles.styled_digits(np.random.default_rng(0), 25, *train)
    assert images.shape == (25, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (25,) and labels.dtype == np.int64
    assert (images.reshape(25, -1).max(axis=1) > 200).all()  # every image has strong ink


def test_images_are_centred_like_mnist(styled):
    """Ink fitted into 20x20 with the centre of mass at (14, 14), as engine.preprocess makes it."""
    for img in styled.images:
        ys, xs = np.nonzero(img > 0)
        assert np.ptp(ys) <= 21 and np.ptp(xs) <= 21
        w = img.astype(np.float64)
        com = (np.indices(img.shape) * w).sum(axis=(1, 2)) / w.sum()
        assert np.abs(com - 14.0).max() < 1.0


def test_same_seed_same_images_other_seed_other_images(train):
    a = styles.styled_digits(np.random.default_rng(7), 30, *train)
    b = styles.styled_digits(np.random.default_rng(7), 30, *train)
    c = styles.styled_digits(np.random.default_rng(8), 30, *train)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_every_style_is_produced_and_styles_are_balanced(train):
    out = styles.styled_set(np.random.default_rng(1), 3 * len(styles.STYLES) + 5, *train)
    names, counts = np.unique(out.styles, return_counts=True)
    assert set(names) == set(styles.STYLES)
    assert counts.min() >= 3 and counts.max() <= 4
    assert [styles.STYLES[n] for n in out.styles] == out.labels.tolist()
    # labels follow the styles: each label's share is its number of styles over the total
    share = np.bincount(out.labels, minlength=10) / len(out.labels)
    expected = np.bincount(list(styles.STYLES.values()), minlength=10) / len(styles.STYLES)
    assert np.abs(share - expected).max() < 0.03


def test_without_mnist_only_rendered_styles(train):
    out = styles.styled_set(np.random.default_rng(2), 2 * len(styles.RENDERED))
    names, counts = np.unique(out.styles, return_counts=True)
    assert set(names) == set(styles.RENDERED) and (counts == 2).all()


def test_shuffled_not_grouped_by_style(styled):
    assert len(set(styled.styles[: len(styles.STYLES)])) > len(styles.STYLES) // 2


@pytest.mark.parametrize("style", styles.EDITED)
def test_an_edit_adds_ink_where_the_digit_had_none(train, style):
    """A slashed 0 (crossed 7, flagged 1) has ink where its MNIST original, preprocessed alike, has none."""
    images, labels = train
    added = []
    for i in styles._editable(style, images, labels == styles.STYLES[style])[:10]:
        edited = styles.edit_mnist(np.random.default_rng(3), images[i], style)
        assert edited.shape == (28, 28) and edited.dtype == np.uint8
        plain = engine.preprocess(images[i]) * 255
        added.append(int(((edited > 128) & (plain < 20)).sum()))
    assert min(added) >= 3 and np.median(added) >= 8, (style, added)


def test_a_slashed_zero_has_ink_inside_the_plain_ones_hole():
    """The same oval (same seeds) drawn plain and slashed: only the slashed one has ink in the middle."""
    empty = 0
    for seed in range(20):
        plain = styles.render(np.random.default_rng(seed), styles.zero_plain(np.random.default_rng(seed)))
        slashed = styles.render(np.random.default_rng(seed), styles.zero_slashed(np.random.default_rng(seed)))
        assert slashed[12:16, 12:16].max() > 128, seed
        empty += int(plain[12:16, 12:16].max() < 64)
    assert empty >= 16


@pytest.mark.parametrize("count", [-1, 2.5, "3", True, None])
def test_bad_count_is_a_value_error(count):
    with pytest.raises(ValueError, match="count"):
        styles.styled_digits(np.random.default_rng(0), count)


def test_zero_count_is_empty():
    images, labels = styles.styled_digits(np.random.default_rng(0), 0)
    assert images.shape == (0, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (0,) and labels.dtype == np.int64


def test_bad_mnist_arguments_are_value_errors(train):
    images, labels = train
    with pytest.raises(ValueError, match="both"):
        styles.styled_digits(np.random.default_rng(0), 4, images, None)
    with pytest.raises(ValueError, match="uint8"):
        styles.styled_digits(np.random.default_rng(0), 4, images.astype(np.float32), labels)
    with pytest.raises(ValueError, match="one per image"):
        styles.styled_digits(np.random.default_rng(0), 4, images, labels[:-1])
