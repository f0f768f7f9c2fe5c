"""engine.explain: saliency against float64 finite differences on a tiny model, a model whose answer
depends on one region only, the shipped model's maps on real test digits (on the ink, toward the
answer, different for the runner-up), integrated gradients' completeness, feature maps, bad inputs
refused clearly, and one gradient pass's CPU time."""

import re
import time

import numpy as np
import pytest

import engine
from digits.cpu_runtime import engine_threads
from engine.architectures import mlp_config
from engine.errors import InputShapeError
from engine.explain import feature_maps, gradient_model, logit_gradients, saliency
from engine.model import Sequential
from gradcheck import numerical_gradient, to_float64
from shipped_model import SHIPPED_MODEL

TINY = {
    "input_shape": [28, 28, 1],
    "layers": [
        {"type": "Conv2D", "in_channels": 1, "out_channels": 3, "kernel": 3, "padding": 1},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "size": 2},
        {"type": "Conv2D", "in_channels": 3, "out_channels": 4, "kernel": 3, "padding": 0},
        {"type": "ReLU"},
        {"type": "MaxPool2D", "size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "in_features": 6 * 6 * 4, "out_features": 10},
    ],
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The engine and BLAS on one thread: no spinning for a busy second core, and honest CPU times."""
    with engine_threads(1):
        yield


@pytest.fixture(scope="module")
def tiny64():
    """The tiny CNN in float64, with non-zero biases so ReLUs cut inside the image."""
    model = Sequential.from_config(TINY, np.random.default_rng(3))
    for layer in model.layers:
        to_float64(layer)
        if "b" in layer.params:
            layer.params["b"][...] = np.random.default_rng(4).normal(0, 0.1, layer.params["b"].shape)
    return model


@pytest.fixture(scope="module")
def shipped():
    return engine.load_model(SHIPPED_MODEL)


def logit(model, x64, target):
    return float(gradient_model(model).forward(x64.reshape(1, 28, 28, 1))[0, target])


def test_gradient_x_input_matches_finite_differences(tiny64):
    x = np.random.default_rng(5).random((28, 28)).astype(np.float32)
    x64 = x.astype(np.float64)
    for target in (0, 7):
        reference = x64 * numerical_gradient(lambda t=target: logit(tiny64, x64, t), x64)
        np.testing.assert_allclose(saliency(tiny64, x, target=target), reference, atol=1e-6, rtol=1e-4)
    # the engine's backward in float64 agrees with the differences to rounding
    _, grad = logit_gradients(gradient_model(tiny64), x64.reshape(1, 28, 28, 1), np.array([7]))
    np.testing.assert_allclose(grad[0, :, :, 0], numerical_gradient(lambda: logit(tiny64, x64, 7), x64), atol=1e-8)


def test_integrated_gradients_is_complete_and_is_the_path_average(tiny64):
    x = np.random.default_rng(6).random((28, 28)).astype(np.float32)
    x64 = x.astype(np.float64)
    ig = saliency(tiny64, x, target=2, method="integrated_gradients", steps=1024)
    gain = logit(tiny64, x64, 2) - logit(tiny64, np.zeros_like(x64), 2)
    assert ig.sum() == pytest.approx(gain, rel=2e-3, abs=1e-4)
    # one step is the gradient at the path's midpoint, times x
    half = x64 / 2
    reference = x64 * numerical_gradient(lambda: logit(tiny64, half, 2), half)
    np.testing.assert_allclose(
        saliency(tiny64, x, target=2, method="integrated_gradients", steps=1), reference, atol=1e-6, rtol=1e-4
    )


@pytest.mark.parametrize("method", ["gradient_x_input", "integrated_gradients"])
def test_a_model_that_looks_at_one_region_gets_its_heat_there(method):
    """Output 3 depends only on the pixels of rows 4..9, columns 16..23; the image is ink everywhere."""
    model = Sequential.from_config(
        {"input_shape": [784], "layers": [{"type": "Dense", "in_features": 784, "out_features": 10}]},
        np.random.default_rng(0),
    )
    region = np.zeros((28, 28), bool)
    region[4:10, 16:24] = True
    model.layers[0].params["W"][:, 3] = np.where(region.reshape(-1), 0.5, 0.0)
    image = np.full((28, 28), 0.8, np.float32)
    heat = saliency(model, image, target=3, method=method)
    np.testing.assert_allclose(heat[region], 0.4, rtol=1e-5)
    assert np.all(heat[~region] == 0)
    other = saliency(model, image, target=4, method=method)
    assert np.count_nonzero(other[~region]) == (~region).sum()  # output 4 looks everywhere


@pytest.mark.parametrize("method", ["gradient_x_input", "integrated_gradients"])
def test_the_map_of_a_test_digit_lies_on_its_ink_and_pushes_toward_the_answer(shipped, mnist, method):
    ink_share, toward = [], []
    for i in range(12):
        image = mnist["test_images"][i]
        heat = saliency(shipped, image, method=method)
        assert heat.shape == (28, 28) and heat.dtype == np.float32
        ink = image > 0
        assert np.all(heat[~ink] == 0)  # x * anything is 0 where there is no ink
        top = np.argsort(-heat.reshape(-1))[:40]  # the 40 pixels that pushed hardest toward the answer
        ink_share.append(np.mean(image.reshape(-1)[top] > 127))  # mostly on the stroke, not its faint edge
        toward.append(heat.sum())
    assert np.mean(ink_share) > 0.6
    if method == "integrated_gradients":
        assert min(toward) > 0  # completeness: the answer's logit is above a black image's


def test_the_runner_up_gets_another_map(shipped, mnist):
    for i in range(6):
        image = mnist["test_images"][i]
        probs = shipped.predict_proba(image)[0]
        answer, runner_up = np.argsort(-probs)[:2]
        a = saliency(shipped, image, method="integrated_gradients")
        b = saliency(shipped, image, target=int(runner_up), method="integrated_gradients")
        assert np.array_equal(a, saliency(shipped, image, target=int(answer), method="integrated_gradients"))
        assert np.corrcoef(a.reshape(-1), b.reshape(-1))[0, 1] < 0.9
        assert a.sum() > b.sum()  # the answer's logit gained more from the ink than the runner-up's


def test_explaining_leaves_the_model_as_it_was(mnist):
    trained_mlp = Sequential.from_config(mlp_config(), np.random.default_rng(1))  # BatchNorm and Dropout inside
    images = mnist["test_images"][:50]
    before = trained_mlp.predict_proba(images)
    first = trained_mlp.layers[0].needs_input_grad
    heat = saliency(trained_mlp, images[0], method="integrated_gradients")
    assert heat.shape == (28, 28) and np.abs(heat).sum() > 0
    np.testing.assert_array_equal(trained_mlp.predict_proba(images), before)
    assert trained_mlp.layers[0].needs_input_grad == first
    assert feature_maps(trained_mlp, images[0]) == []  # no conv stage in an MLP


def test_feature_maps_of_the_shipped_model(shipped, mnist):
    image = mnist["test_images"][0]
    maps = feature_maps(shipped, image)
    assert [(name, a.shape) for name, a in maps] == [
        ("conv1", (28, 28, 16)),
        ("conv2", (28, 28, 32)),
        ("conv3", (14, 14, 64)),
        ("conv4", (14, 14, 64)),
        ("conv5", (5, 5, 64)),
    ]
    assert all(a.dtype == np.float32 and a.min() >= 0 and a.max() > 0 for _, a in maps)  # after ReLU
    # the model's own layers: the last stage, pooled and read by the head, gives its logits
    h = maps[-1][1][None]
    for layer in shipped.layers[12:]:
        h = layer.forward(h)
    np.testing.assert_allclose(h, shipped.logits(engine.images.unit_float(image).reshape(1, 28, 28, 1)), atol=1e-5)
    # a float model's feature maps are its inference form's
    float_maps = feature_maps(gradient_model(shipped), image)
    assert [n for n, _ in float_maps] == [n for n, _ in maps]


def test_bad_input_is_refused_clearly(shipped, tiny64):
    image = np.zeros((28, 28), np.float32)
    cases = [
        (dict(image28=np.zeros((27, 28))), InputShapeError, r"\(28, 28\)"),
        (dict(image28=np.zeros((2, 28, 28))), InputShapeError, "one image"),
        (dict(image28=np.full((28, 28), np.nan)), InputShapeError, "NaN"),
        (dict(image28=np.full((28, 28), 3.0)), InputShapeError, r"\[0, 1\]"),
        (dict(image28="digit.png"), InputShapeError, "numeric"),
        (dict(image28=image, target=11), InputShapeError, "target must be a digit 0..(9|10)"),
        (dict(image28=image, target=True), InputShapeError, "target"),
        (dict(image28=image, target="3"), InputShapeError, "target"),
        (dict(image28=image, method="occlusion"), ValueError, "gradient_x_input"),
        (dict(image28=image, method="integrated_gradients", steps=0), ValueError, "steps"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            saliency(shipped, **kwargs)
    with pytest.raises(InputShapeError, match="0..9"):
        saliency(tiny64, image, target=10)
    with pytest.raises(TypeError, match="engine model"):
        saliency(object(), image)
    with pytest.raises(InputShapeError):
        feature_maps(shipped, np.zeros((28, 29)))


def test_one_gradient_pass_is_fast(shipped, mnist):
    image = mnist["test_images"][0]
    saliency(shipped, image)  # the float copy is made once per model
    cpu = []
    for _ in range(9):
        start = time.process_time()
        saliency(shipped, image)
        cpu.append(time.process_time() - start)
    assert np.median(cpu) < 0.05, f"one gradient x input pass took {np.median(cpu) * 1e3:.1f} ms of CPU"


# -- the command line: python -m engine explain / mistakes --------------------------------------------


def test_explain_command_writes_the_heat_map_and_prints_the_top_k(tmp_path, mnist, capsys):
    from PIL import Image

    from digits.cli import main

    photo = tmp_path / "seven.png"
    Image.fromarray(255 - mnist["test_images"][0]).resize((140, 140)).save(photo)  # dark ink on white, 5x
    out = tmp_path / "why.png"
    assert main(["explain", str(photo), "--out", str(out), "--top-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"{re.escape(str(photo))}: 7 \(\d+\.\d%\)  \d \(\d+\.\d%\)", lines[0]), lines
    assert lines[1] == f"heat map toward 7: {out}"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(out) as picture:
        assert picture.width > 2 * picture.height  # input, heat map and probabilities side by side
    other = tmp_path / "toward2.png"
    assert main(["explain", str(photo), "--out", str(other), "--target", "2", "--method", "gradient_x_input"]) == 0
    assert "heat map toward 2" in capsys.readouterr().out and other.is_file()
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["explain", str(bad), "--out", str(tmp_path / "x.png")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and str(bad) in error and "not a readable image" in error
    assert not (tmp_path / "x.png").exists()


def test_mistakes_command_lists_every_test_error(tmp_path, capsys, shipped, mnist):
    import csv

    from digits.cli import main

    assert main(["mistakes", "--out", str(tmp_path), "--correct", "12"]) == 0
    printed = capsys.readouterr().out
    wrong = np.flatnonzero(shipped.predict(mnist["test_images"]) != mnist["test_labels"])
    assert printed.startswith(f"{len(wrong)} of 10000 test digits wrong")
    expected = round((1 - shipped.card["test_accuracy"]) * 10000)
    assert len(wrong) == expected and f"the model card says {expected}" in printed  # the card's own count
    with open(tmp_path / "mistakes.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["index"]) for r in rows if r["correct"] == "0"] == wrong.tolist()
    assert sum(r["correct"] == "1" for r in rows) == 12
    for r in rows:
        i = int(r["index"])
        assert int(r["label"]) == mnist["test_labels"][i]
        assert (int(r["prediction"]) == int(r["label"])) == (r["correct"] == "1")
        probs = [float(r[f"p{d}"]) for d in range(10)]
        assert int(np.argmax(probs)) == int(r["prediction"]) and abs(sum(probs) - 1) < 2e-3
        assert r["top3"].split()[0] == f"{r['prediction']}:{r['p_prediction']}"
    for name in ("mistakes.png", "correct.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mistakes_refuses_a_huge_sample_and_ignores_a_card_accuracy_that_is_no_share(tmp_path, capsys, shipped):
    """--correct 10**12 drew a contact sheet for minutes; a card saying Infinity or NaN crashed the last line."""
    import engine
    from digits.cli import main
    from digits.explain_command import MAX_CORRECT

    assert main(["mistakes", "--out", str(tmp_path), "--correct", str(10**12)]) == 1
    assert (
        capsys.readouterr().err.strip()
        == f"error: --correct must be from 0 to {MAX_CORRECT} (digits on one contact sheet), got {10**12}"
    )
    for value in (float("inf"), float("nan")):
        damaged = tmp_path / "card.npz"
        engine.save_model(shipped, damaged, card={**shipped.card, "test_accuracy": value})
        assert main(["mistakes", "--model", str(damaged), "--out", str(tmp_path), "--correct", "0"]) == 0
        printed = capsys.readouterr().out
        assert "test digits wrong" in printed and "the model card says" not in printed
