"""python -m engine predict / evaluate, on real image files; bad files end with a one-line error."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine

ROOT = Path(__file__).resolve().parent.parent
Image = pytest.importorskip("PIL.Image", reason="Pillow is a declared dependency (pyproject.toml)")


def run_engine(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "engine", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, trained_mlp):
    path = tmp_path_factory.mktemp("model") / "mlp.npz"
    engine.save_model(trained_mlp, path)
    return path


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, mnist):
    """The first ten test digits as photos would be: 8x larger, RGB, dark ink on white paper."""
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i in range(10):
        img = Image.fromarray(255 - mnist["test_images"][i]).resize((224, 224), Image.BILINEAR).convert("RGB")
        path = folder / f"digit{i}.{'png' if i % 2 else 'jpg'}"
        img.save(path)
        paths.append(path)
    return paths, mnist["test_labels"][:10]


def test_predict_reads_photos_of_any_size_and_polarity(model_path, digit_files):
    paths, labels = digit_files
    result = run_engine("predict", *map(str, paths), "--model", str(model_path), "--json", "--top-k", "2")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [len(r["top"]) for r in rows] == [2] * 10
    predicted = np.array([r["top"][0]["digit"] for r in rows])
    assert (predicted == labels).sum() >= 9, (predicted, labels)


def test_predict_plain_output(model_path, digit_files):
    paths, labels = digit_files
    result = run_engine("predict", str(paths[0]), "--model", str(model_path))
    assert result.returncode == 0
    assert result.stdout.startswith(f"{paths[0]}: {labels[0]} (")


def make_bad_files(folder: Path) -> dict[str, Path]:
    files = {}
    files["text"] = folder / "notes.png"
    files["text"].write_text("this is not an image")
    png = folder / "ok.png"
    Image.new("L", (64, 64), 255).save(png)
    files["truncated"] = folder / "truncated.png"
    files["truncated"].write_bytes(png.read_bytes()[:60])
    files["bomb"] = folder / "bomb.png"
    Image.new("1", (12000, 12000)).save(files["bomb"])  # 144 Mpx that compress to a few kB
    files["missing"] = folder / "missing.png"
    return files


@pytest.mark.parametrize("case", ["text", "truncated", "bomb", "missing"])
def test_bad_image_files_exit_nonzero_with_one_line(tmp_path, model_path, case):
    path = make_bad_files(tmp_path)[case]
    result = run_engine("predict", str(path), "--model", str(model_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and str(path) in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_bad_model_file_is_one_line(tmp_path, digit_files):
    bad = tmp_path / "model.npz"
    bad.write_bytes(b"garbage")
    result = run_engine("predict", str(digit_files[0][0]), "--model", str(bad))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_evaluate_prints_accuracy_table_and_confusion(model_path, trained_mlp, mnist):
    result = run_engine("evaluate", "--model", str(model_path), timeout=300)
    assert result.returncode == 0, result.stderr
    expected = (trained_mlp.predict(mnist["test_images"]) == mnist["test_labels"]).mean()
    assert f"test accuracy {expected * 100:.2f}%" in result.stdout
    assert "confusion matrix" in result.stdout and "precision" in result.stdout


def test_committed_model_card_matches_what_evaluate_measures():
    model_file = ROOT / "models" / "mnist_int8.npz"
    assert model_file.is_file(), "models/mnist_int8.npz must be committed (python train_offline.py installs it)"
    card = json.loads((ROOT / "models" / "mnist_int8.json").read_text())
    result = run_engine("evaluate", "--model", str(model_file), "--json", timeout=600)
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)["accuracy"]
    assert abs(measured - card["test_accuracy"]) <= 0.0001  # 0.01 percentage points
    assert engine.load_model(model_file).card == card
    assert model_file.stat().st_size <= 120 * 1024


@pytest.mark.parametrize("buffered", [True, False], ids=["block-buffered", "unbuffered"])
def test_a_reader_that_goes_away_ends_the_output_quietly(buffered):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "evaluate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # like `| head -0`: the reader is gone before the first line
    stderr = proc.stderr.read()
    assert proc.wait(timeout=120) == 141  # as Unix tools exit on a closed pipe
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


# --- issue 17: wide grayscale images, and batches with bad files in them ---------------------------


def digit_photo(mnist, i: int = 0) -> np.ndarray:
    """Test digit ``i`` as a photo would show it: 4x larger, dark ink on white paper, float 0..255."""
    img = Image.fromarray(255 - mnist["test_images"][i]).resize((112, 112), Image.BILINEAR)
    return np.asarray(img, dtype=np.float64)


@pytest.mark.parametrize(
    "name, convert",
    [
        ("digit16.png", lambda px: Image.fromarray((px * 257).astype(np.uint16))),  # 16-bit grayscale PNG
        ("digit16.tif", lambda px: Image.fromarray((px * 257).astype(np.uint16))),
        ("digit_float.tif", lambda px: Image.fromarray((px / 255).astype(np.float32))),  # float 0..1 TIFF
        ("digit_int32.tif", lambda px: Image.fromarray((px * 257).astype(np.int32))),
    ],
    ids=["16-bit png", "16-bit tiff", "float tiff", "32-bit tiff"],
)
def test_predict_scales_wide_grayscale_images_instead_of_clipping_them(tmp_path, model_path, mnist, name, convert):
    """Clipped to 8 bits, these read as a blank page ("no ink found"); scaled, they read as the digit."""
    path = tmp_path / name
    convert(digit_photo(mnist)).save(path)
    assert Image.open(path).mode in ("I;16", "I", "F")
    result = run_engine("predict", str(path), "--model", str(model_path), "--json")
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)[0]
    assert not row["empty"] and row["top"][0]["digit"] == mnist["test_labels"][0], row


def test_wide_grayscale_scaling():
    from digits.cli import wide_gray

    assert wide_gray(np.array([[0, 65535]], np.uint16), "I;16", Path("x")).tolist() == [[0.0, 1.0]]
    assert wide_gray(np.array([[0, 255]], np.int32), "I", Path("x")).tolist() == [[0.0, 1.0]]
    assert wide_gray(np.array([[0.0, 0.5]], np.float32), "F", Path("x")).tolist() == [[0.0, 0.5]]
    assert wide_gray(np.array([[-2.0, 2.0]], np.float32), "F", Path("x")).tolist() == [[0.0, 1.0]]
    with pytest.raises(engine.EngineError, match="NaN"):
        wide_gray(np.array([[np.nan]], np.float32), "F", Path("x"))


def test_one_bad_file_among_many_reports_every_good_one(tmp_path, model_path, digit_files):
    paths, labels = digit_files
    bad = make_bad_files(tmp_path)
    files = [paths[0], bad["missing"], paths[1], bad["text"], paths[2]]
    result = run_engine("predict", *map(str, files), "--model", str(model_path))
    assert result.returncode == 1
    out = result.stdout.strip().splitlines()
    assert [line.split(":")[0] for line in out] == [str(paths[0]), str(paths[1]), str(paths[2])], result.stdout
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("error: ") for line in errors), result.stderr
    assert str(bad["missing"]) in errors[0] and str(bad["text"]) in errors[1]
    assert "Traceback" not in result.stderr


def test_one_bad_file_among_many_in_json(tmp_path, model_path, digit_files):
    paths, _ = digit_files
    bad = make_bad_files(tmp_path)["truncated"]
    result = run_engine("predict", str(paths[0]), str(bad), "--model", str(model_path), "--json")
    assert result.returncode == 1
    rows = json.loads(result.stdout)
    assert rows[0]["file"] == str(paths[0]) and "top" in rows[0]
    assert rows[1]["file"] == str(bad) and str(bad) in rows[1]["error"]
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr


def test_a_long_strip_is_shrunk_and_read_not_refused(tmp_path, model_path, mnist):
    """9000 px tall (over preprocess's 8192-pixel side): the CLI box-averages it first (cli.MAX_SIDE)."""
    path = tmp_path / "tall.png"
    strip = Image.new("L", (3000, 9000), 255)
    strip.paste(Image.fromarray(digit_photo(mnist, 0).astype(np.uint8)).resize((1500, 1500)), (750, 3750))
    strip.save(path)
    result = run_engine("predict", str(path), "--model", str(model_path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["top"][0]["digit"] == int(mnist["test_labels"][0])


def test_a_large_picture_is_shrunk_before_numpy_sees_it(tmp_path):
    """A 6300x6300 PNG of 70 kB took 804 MB as float32 with ink_on_dark's and preprocess's copies."""
    path = tmp_path / "big.png"
    big = Image.new("L", (6300, 6300), 255)
    big.paste(0, (2800, 1500, 3500, 4800))  # a thick 1
    big.save(path)
    # VmHWM: this process's peak (ru_maxrss would carry pytest's own over from the fork)
    probe = (
        "import re, sys; from digits import cli; sys.exit(cli.main(['predict', sys.argv[1], '--json']) or"
        " print(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read())[1], file=sys.stderr))"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    peak_mb = int(result.stderr.strip().splitlines()[-1]) / 1024
    assert json.loads(result.stdout)[0]["top"][0]["digit"] == 1
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"


def test_images_pillow_fails_on_in_its_own_ways_are_one_line_errors(tmp_path, model_path, monkeypatch):
    """Pillow's decoders raise more than OSError and ValueError: BLPFormatError, RuntimeError (AVIF),
    NotImplementedError (DDS), ... A bad BLP file for real, the others through Image.open."""
    from PIL import Image as PILImage

    from digits import cli

    blp = tmp_path / "bad.blp"
    Image.new("P", (16, 16)).save(blp, "BLP")
    data = bytearray(blp.read_bytes())
    data[8] = 126  # an encoding BLP does not have
    blp.write_bytes(bytes(data))
    result = run_engine("predict", str(blp), "--model", str(model_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {blp}: not a readable image (BLPFormatError: Unknown BLP encoding 126)"
    ]
    png = tmp_path / "ok.png"
    Image.new("L", (32, 32), 255).save(png)
    for error in (RuntimeError("Failed to decode frame 0"), NotImplementedError("Unimplemented pixel format 0")):

        def failing_open(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(PILImage, "open", failing_open)
        with pytest.raises(cli.ImageFileError, match=f"not a readable image \\({type(error).__name__}: {error}\\)"):
            cli.decode_image(png)


def test_a_netpbm_header_padded_with_comments_is_refused_at_once(tmp_path, model_path):
    """Pillow reads Netpbm comments a byte at a time: 45 MB of them took over 20 s."""
    padded = tmp_path / "padded.pgm"
    padded.write_bytes(b"P5\n" + b"#" + b"x" * (2 << 20) + b"\n8 8\n255\n" + bytes(64))
    plain = tmp_path / "plain.pgm"
    plain.write_bytes(b"P5\n# made by a scanner\n8 8\n255\n" + bytes(64))
    result = run_engine("predict", str(padded), str(plain), "--model", str(model_path), timeout=20)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {padded}: a Netpbm header (with its comments) over 65536 bytes"
    ], result.stderr
    assert str(plain) in result.stdout  # a short comment is fine


def test_a_name_too_long_for_the_file_system_is_one_line(tmp_path, model_path, digit_files):
    long_name = tmp_path / ("m" * 300 + ".npz")
    for args in (
        ["predict", str(digit_files[0][0]), "--model", str(long_name)],
        ["predict", str(long_name.with_suffix(".png"))],
    ):
        result = run_engine(*args)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "File name too long" in result.stderr and result.stderr.count("\n") == 1, result.stderr


# --- issue 14: whole numbers (predict --number) ---------------------------------------------------

SHIPPED = ROOT / "models" / "mnist_int8.npz"


@pytest.fixture(scope="module")
def number_photo(tmp_path_factory, mnist):
    """A photo of a 4-digit number: MNIST test digits the shipped model reads surely, side by side,
    4x larger, dark ink on white paper, RGB. Returns (path, text, the x range of each digit's slot)."""
    model = engine.load_model(SHIPPED)
    images, labels = mnist["test_images"][:200], mnist["test_labels"][:200]
    probs = model.predict_proba(images)
    sure = [i for i in range(200) if probs[i].argmax() == labels[i] and probs[i].max() > 0.95]
    picked, seen = [], set()
    for i in sure:  # four different digits, in test-set order
        if int(labels[i]) not in seen:
            picked.append(i)
            seen.add(int(labels[i]))
        if len(picked) == 4:
            break
    assert len(picked) == 4, f"the model reads only {len(picked)} different digits surely"
    gap, scale = 6, 4
    strip = np.concatenate([np.pad(images[i], ((6, 6), (gap // 2, gap // 2))) for i in picked], axis=1)
    path = tmp_path_factory.mktemp("number") / "number.png"
    Image.fromarray(255 - strip).resize((strip.shape[1] * scale, strip.shape[0] * scale), Image.BILINEAR).convert(
        "RGB"
    ).save(path)
    slot = (28 + gap) * scale
    return path, "".join(str(int(labels[i])) for i in picked), [(k * slot, (k + 1) * slot) for k in range(4)]


def test_predict_number_reads_a_composed_number_with_boxes(number_photo):
    path, text, slots = number_photo
    result = run_engine("predict", "--number", str(path), "--json")
    assert result.returncode == 0, result.stderr
    [row] = json.loads(result.stdout)
    assert row["file"] == str(path) and row["text"] == text and len(text) == 4, row
    assert [d["label"] for d in row["digits"]] == [int(c) for c in text]
    width, height = Image.open(path).size
    for d, (lo, hi) in zip(row["digits"], slots):
        assert 0.5 < d["confidence"] <= 1.0, d
        x0, y0, x1, y1 = d["box"]
        assert lo <= x0 < x1 <= hi and 0 <= y0 < y1 <= height, (d, lo, hi)  # each box on its own digit
        assert y1 - y0 > 0.4 * height, d
    assert slots[-1][1] <= width


def test_predict_number_plain_output_gives_each_digits_confidence(number_photo):
    path, text, _ = number_photo
    result = run_engine("predict", "--number", str(path))
    assert result.returncode == 0, result.stderr
    each = ", ".join(rf"{c} \d+\.\d%" for c in text)
    assert re.fullmatch(rf"{re.escape(str(path))}: {text}  \({each}\)\n", result.stdout), result.stdout


def test_predict_number_reports_every_good_file_and_one_error_per_bad_one(tmp_path, number_photo):
    path, text, _ = number_photo
    bad = make_bad_files(tmp_path)
    blank = tmp_path / "blank.png"
    Image.new("L", (120, 60), 255).save(blank)
    files = [path, bad["missing"], blank, bad["truncated"], bad["bomb"]]
    result = run_engine("predict", "--number", *map(str, files))
    assert result.returncode == 1
    out = result.stdout.strip().splitlines()
    assert out[0].startswith(f"{path}: {text}  (") and out[1] == f"{blank}: no ink found", result.stdout
    assert len(out) == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors), result.stderr
    for line, name in zip(errors, ("missing", "truncated", "bomb")):
        assert str(bad[name]) in line, (line, name)
    assert "Traceback" not in result.stderr

    result = run_engine("predict", "--number", "--json", *map(str, files))
    rows = json.loads(result.stdout)
    assert [r["file"] for r in rows] == list(map(str, files))
    assert rows[0]["text"] == text and rows[2] == {"file": str(blank), "text": "", "digits": []}
    assert all(str(files[i]) in rows[i]["error"] for i in (1, 3, 4))


def test_predict_number_names_a_too_large_file(tmp_path):
    from digits.cli import MAX_PIXELS

    path = tmp_path / "wide.png"
    Image.new("1", (12000, 4000), 1).save(path)  # 48 Mpx in a few kB
    result = run_engine("predict", "--number", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and str(MAX_PIXELS) in lines[0], result.stderr
    [row] = json.loads(run_engine("predict", "--number", "--json", str(path)).stdout)
    assert row["file"] == str(path) and str(path) in row["error"] and str(MAX_PIXELS) in row["error"], row


@pytest.mark.parametrize("mode", ["L", "LA", "I;16"])
def test_a_picture_one_pixel_wide_and_millions_tall_is_refused_before_decoding(tmp_path, mode):
    """helper-30's fuzzing: 1 x 40,000,000 pixels is within MAX_PIXELS and a 0.1 MB PNG, yet Pillow's
    rows took 1.4 GB to decode (LA), 0.7 GB in plain gray. A side over MAX_LONG_SIDE is refused from
    the header."""
    from digits.cli import MAX_LONG_SIDE

    path = tmp_path / "strip.png"
    Image.new(mode, (1, 4 * MAX_LONG_SIDE)).save(path)
    result = run_engine("predict", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert str(path) in line and str(MAX_LONG_SIDE) in line, line


def test_number_line_says_not_a_digit():
    from digits.cli import number_line

    digit = {"label": 4, "confidence": 0.9712, "box": [0, 0, 1, 1]}
    mark = {"label": None, "confidence": 0.412, "box": [2, 0, 3, 1]}
    assert (
        number_line({"file": "a.png", "text": "?", "digits": [mark]}) == "a.png: not a digit  (? not a digit (41.2%))"
    )
    assert number_line({"file": "b.png", "text": "4?", "digits": [digit, mark]}) == (
        "b.png: 4?  (4 97.1%, ? not a digit (41.2%))"
    )


@pytest.mark.parametrize("width", [600, 5000], ids=["small", "shrunk"])
def test_a_phone_photo_taken_sideways_is_turned_upright_before_and_after_shrinking(tmp_path, width):
    """A 1 stored as a wide bar with EXIF orientation 6 (turn 90 degrees to view): read as the upright 1."""
    img = Image.new("L", (width, width // 2), 255)
    img.paste(0, (width // 10, width // 4 - width // 40, width - width // 10, width // 4 + width // 40))
    exif = img.getexif()
    exif[0x0112] = 6
    path = tmp_path / "sideways.jpg"
    img.save(path, exif=exif)
    result = run_engine("predict", str(path), "--model", str(SHIPPED), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["top"][0]["digit"] == 1


def one_error_line(result) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: "), result.stderr
    return line


def test_bad_explain_and_mistakes_values_are_one_line(tmp_path):
    """helper-30's fuzzing: these ended in tracebacks (a ValueError the command line did not catch,
    NumPy's "expected non-negative integer")."""
    digit = tmp_path / "digit.png"
    ink = Image.new("L", (28, 28), 255)
    ink.paste(0, (12, 4, 16, 24))  # a 1
    ink.save(digit)
    line = one_error_line(run_engine("explain", "--steps", "0", "--out", str(tmp_path / "e.png"), str(digit)))
    assert "steps must be a whole number from 1 to 1024" in line
    assert "--seed must be 0 or more" in one_error_line(run_engine("mistakes", "--seed", "-1", "--out", str(tmp_path)))


def test_a_test_set_of_no_images_is_named_not_divided_by(tmp_path):
    """evaluate said "test accuracy 0.00% on 0 images"; mistakes divided by zero."""
    from engine import write_idx

    rng = np.random.default_rng(0)
    for split, n in (("train", 20), ("t10k", 0)):
        write_idx(tmp_path / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(tmp_path / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n, dtype=np.uint8))
    for command in (["evaluate"], ["mistakes", "--out", str(tmp_path / "out")]):
        line = one_error_line(run_engine(*command, "--data", str(tmp_path)))
        assert "t10k-images-idx3-ubyte" in line and "holds no images" in line, line


def test_a_newline_in_a_file_name_keeps_each_answer_on_one_line(tmp_path):
    """helper-30's fuzzing: the error line stopped at the newline, losing the reason, and a good file's
    answer took two lines."""
    good, bad = tmp_path / "good\nname.png", tmp_path / "bad\nname.png"
    ink = Image.new("L", (28, 28), 255)
    ink.paste(0, (12, 4, 16, 24))
    ink.save(good, format="PNG")
    bad.write_bytes(b"not a picture")
    result = run_engine("predict", str(good), str(bad))
    assert result.returncode == 1
    [answer] = result.stdout.strip().splitlines()
    assert answer.startswith(str(tmp_path / "good\\nname.png") + ": "), answer
    [error] = result.stderr.strip().splitlines()
    assert error.startswith(f"error: {tmp_path / 'bad'}\\nname.png: not a readable image"), error
