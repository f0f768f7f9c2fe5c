"""Property tests (hypothesis): ``engine.preprocess`` and ``engine.ink_on_dark`` on arbitrary arrays.

They take whatever array a user hands them. For random inputs each must either return a
well-formed image or raise ``InputShapeError`` (an ``engine.EngineError``): never another
exception, a NumPy warning, a hang or a big allocation. The named tests below the properties
are the smallest reproductions of what the properties found.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import engine
from property_settings import fixed, warnings_are_errors

IMAGE_DTYPES = [
    np.uint8,
    np.int8,
    np.int16,
    np.uint16,
    np.int32,
    np.int64,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
    np.longdouble,
    np.bool_,
    ">f4",
    ">i2",
    ">f8",
]
ODD_SHAPES = [(1, 1), (1, 5000), (5000, 1), (0, 3), (3, 0), (0, 0), (2, 3000), (600, 400), (1, 2), (97, 3)]


def pixel_values(dtype: np.dtype):
    """Values a real image of ``dtype`` holds: 0..255 for integers, 0..1 or 0..255 for floats."""
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        return st.integers(0, min(255, int(np.iinfo(dtype).max)))
    top = st.sampled_from([1.0, 255.0])
    return top.flatmap(lambda t: st.floats(0.0, t, width=min(dtype.itemsize * 8, 64)))


@st.composite
def gray_images(draw):
    """2-D arrays of many dtypes and shapes: realistic pixels, blank or fully inked canvases,
    ink blobs, and arbitrary values of the dtype (NaN, infinities, negatives, extremes)."""
    dtype = np.dtype(draw(st.sampled_from(IMAGE_DTYPES)))
    shape = draw(
        st.one_of(hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=40), st.sampled_from(ODD_SHAPES))
    )
    pattern = draw(st.sampled_from(["pixels", "any", "constant", "blob"]))
    if pattern == "pixels":
        return draw(hnp.arrays(dtype, shape, elements=pixel_values(dtype)))
    if pattern == "any":
        return draw(hnp.arrays(dtype, shape, elements=hnp.from_dtype(dtype)))
    value = draw(st.one_of(pixel_values(dtype), hnp.from_dtype(dtype)))
    if pattern == "constant":  # all zero, all ink, all NaN, ...
        return np.full(shape, value, dtype)
    img = np.zeros(shape, dtype)  # one rectangle of ink on black
    if img.size:
        y0, x0 = draw(st.integers(0, shape[0] - 1)), draw(st.integers(0, shape[1] - 1))
        y1, x1 = draw(st.integers(y0 + 1, shape[0])), draw(st.integers(x0 + 1, shape[1]))
        img[y0:y1, x0:x1] = value
    return img


ODD_DTYPES = [np.complex64, np.complex128, "m8[s]", "M8[s]", "S2", "U2", "i4,f4", np.object_]


def not_images():
    """Inputs that are not 2-D grayscale images, or not arrays at all."""
    return st.one_of(
        hnp.arrays(
            st.sampled_from(IMAGE_DTYPES[:10]),
            hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5).filter(lambda s: len(s) != 2),
        ),
        st.builds(np.zeros, st.sampled_from([(2, 2), (28, 28), (3,), ()]), st.sampled_from(ODD_DTYPES)),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.complex_numbers(),
        st.text(max_size=4),
        st.binary(max_size=4),
        st.lists(st.lists(st.integers(0, 255), max_size=4), max_size=4),  # often ragged
        st.lists(st.lists(st.floats(), min_size=3, max_size=3), min_size=1, max_size=3),
        st.lists(st.one_of(st.integers(), st.text(max_size=2), st.none()), max_size=4),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    )


def check_preprocess(gray, **kwargs):
    """preprocess(gray) is a finite (28, 28) float32 image in [0, 1], or an engine.EngineError."""
    try:
        with warnings_are_errors():
            out = engine.preprocess(gray, **kwargs)
    except engine.EngineError as exc:
        assert str(exc)
        return None
    assert isinstance(out, np.ndarray) and out.shape == (28, 28) and out.dtype == np.float32
    assert np.all(np.isfinite(out)) and out.min() >= 0.0 and out.max() <= 1.0
    return out


def check_ink_on_dark(gray):
    """ink_on_dark(gray) is a finite float32 image of the input's shape in [0, 1], or an engine.EngineError."""
    try:
        with warnings_are_errors():
            out = engine.ink_on_dark(gray)
    except engine.EngineError as exc:
        assert str(exc)
        return None
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == np.shape(gray)
    assert np.all(np.isfinite(out)) and (out.size == 0 or (out.min() >= 0.0 and out.max() <= 1.0))
    return out


def is_a_valid_image(gray: np.ndarray) -> bool:
    """What preprocess must accept: a non-empty 2-D array of finite values >= 0 that fit in float32."""
    if gray.size == 0 or max(gray.shape) > 8192:
        return False
    with np.errstate(all="ignore"):
        as_float32 = gray.astype(np.float32)  # values a hair above float32's max round to it
    return bool(np.all(np.isfinite(gray)) and np.all(np.isfinite(as_float32)) and as_float32.min() >= 0)


@fixed(300)
@given(gray_images())
def test_preprocess_returns_an_mnist_image_or_raises_input_shape_error(gray):
    out = check_preprocess(gray)
    assert (out is not None) == is_a_valid_image(gray), "preprocess must accept exactly the valid images"


@fixed(200)
@given(gray_images())
def test_ink_on_dark_returns_ink_on_black_or_raises_input_shape_error(gray):
    out = check_ink_on_dark(gray)
    assert (out is not None) == is_a_valid_image(gray), "ink_on_dark must accept exactly the valid images"


@fixed(200)
@given(not_images())
def test_preprocess_and_ink_on_dark_refuse_what_is_not_an_image(value):
    check_preprocess(value)
    check_ink_on_dark(value)


# Values that a broken check turns into an exception at once: between 5 and ~10**5 the margin it
# pads with would need gigabytes before failing, so the strategy skips that range.
STROKE_RATIOS = st.one_of(
    st.none(),
    st.floats(0.0, 5.0),
    st.integers(-3, 5),
    st.text(max_size=2),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), -1e-9, 1e6, 1e300]),
)


@fixed(60)
@given(gray_images(), STROKE_RATIOS)
def test_preprocess_stroke_ratio_any_value(gray, stroke_ratio):
    check_preprocess(gray, stroke_ratio=stroke_ratio)


def test_preprocess_refuses_a_ragged_nested_list():
    with pytest.raises(engine.InputShapeError, match="ragged|same length"):
        engine.preprocess([[0, 255], [255]])


@pytest.mark.parametrize("dtype", [np.complex64, "m8[s]"])
def test_preprocess_refuses_complex_and_timedelta_pixels(dtype):
    for fn in (engine.preprocess, engine.ink_on_dark):
        with pytest.raises(engine.InputShapeError, match="dtype"):
            with warnings_are_errors():
                fn(np.ones((5, 5), dtype))


def test_preprocess_refuses_values_beyond_float32_without_a_numpy_warning():
    gray = np.zeros((5, 5))
    gray[2, 2] = 1e300
    with pytest.raises(engine.InputShapeError, match="float32"):
        with warnings_are_errors():
            engine.preprocess(gray)


def test_ink_on_dark_errors_name_ink_on_dark():
    with pytest.raises(engine.InputShapeError, match="ink_on_dark"):
        engine.ink_on_dark(np.zeros((2, 2, 3)))


@pytest.mark.parametrize("ratio", [float("inf"), float("nan"), -0.1, 1e6, "0.1"])
def test_preprocess_refuses_a_bad_stroke_ratio(ratio):
    with pytest.raises(engine.InputShapeError, match="stroke_ratio"):
        engine.preprocess(np.eye(30), stroke_ratio=ratio)
