"""Command line for a trained model: predict digits in image files, evaluate on MNIST's test set.

    python -m digits predict digit.png photo.jpg [--model models/mnist_int8.npz] [--top-k 3] [--json]
    python -m digits predict --number year.png cheque.jpg [--json]    # whole numbers, per-digit confidence
    python -m digits evaluate [--model PATH] [--data DIR]

(``python -m engine ...`` does the same.)

Image files are decoded with Pillow, which is a CPython-only convenience: it is
imported here, when a file is decoded, never by the engine, so the page
does not need it. Every bad input ends with a one-line error and exit code 1;
``predict`` reports every good file and one error line per bad one, then exits 1.
"""

import argparse
import json
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np

from engine import EngineError, ink_on_dark, load_model, preprocess, read_number
from engine.errors import describe
from engine.metrics import classification_report

from .cpu_runtime import cpu_runtime
from .explain_command import add_parsers as add_explain_parsers
from .paths import SHIPPED_MODEL

MAX_PIXELS = 40_000_000  # ~ a 7000x5700 photo; more is refused before decoding
MAX_FILE_BYTES = 50 << 20
# Larger pictures are box-averaged down by Pillow (Image.reduce) before NumPy sees them: a 40 MP
# image as float32, with the copies ink_on_dark and preprocess make, would take about 1 GB, and
# preprocess brings every digit down to 20x20 pixels anyway (a whole number to a few hundred).
MAX_SIDE = 2048
# Netpbm headers may hold comments, which Pillow parses a byte at a time (45 MB of comment: > 20 s).
MAX_NETPBM_HEADER = 64 << 10
# Refused before decoding: Pillow keeps each row apart, so a picture one pixel wide and 40 million tall
# (a 117 kB PNG, under MAX_PIXELS) took 1.4 GB to decode.
MAX_LONG_SIDE = 1 << 16


class ImageFileError(EngineError):
    """An image file that cannot be decoded safely."""


def decode_image(path: Path) -> np.ndarray:
    """Grayscale float32 array of the image at ``path``; transparency is composited on white paper."""
    try:
        from PIL import Image, ImageOps
    except ImportError:
        raise ImageFileError("decoding image files needs Pillow: pip install pillow") from None
    try:
        is_file = path.is_file()
        size = path.stat().st_size if is_file else 0
    except OSError as exc:  # a name too long, a loop of symlinks, no permission to look
        raise ImageFileError(f"{path}: cannot open it ({exc.strerror or exc})") from None
    if not is_file:
        raise ImageFileError(f"{path}: {'not a regular file' if os.path.lexists(path) else 'no such file'}")
    if size > MAX_FILE_BYTES:
        raise ImageFileError(f"{path}: {size} bytes is too large for a digit image")
    _check_netpbm_header(path)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's "Corrupt EXIF data" and the like: the result says enough
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # after: the newest filter wins
            with Image.open(path) as img:
                width, height = img.size  # from the header: nothing decoded yet
                if width * height > MAX_PIXELS:
                    raise ImageFileError(f"{path}: {width}x{height} pixels is more than {MAX_PIXELS}")
                if max(width, height) > MAX_LONG_SIDE:
                    raise ImageFileError(f"{path}: {width}x{height} pixels has a side longer than {MAX_LONG_SIDE}")
                img.load()
                mode = img.mode
                ImageOps.exif_transpose(img, in_place=True)  # phone photos: honour the orientation tag (first:
                # a reduced copy has no EXIF; in place: a copy of a 40-megapixel picture is 40-160 MB more)
                img = _shrunk(img)
                if mode in WIDE_MODES:  # 16-bit, 32-bit and float grayscale: convert("L") would clip
                    return wide_gray(np.asarray(img), mode, path)
                if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                    rgba = img.convert("RGBA")
                    paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    img = Image.alpha_composite(paper, rgba)
                return np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    except ImageFileError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageFileError(f"{path}: refused as a decompression bomb ({exc})") from None
    except Exception as exc:  # Pillow's decoders raise OSError, ValueError, SyntaxError, but also
        # RuntimeError (AVIF), NotImplementedError (DDS), BLPFormatError, struct.error, ...
        raise ImageFileError(f"{path}: not a readable image ({describe(exc):.200})") from None


def _shrunk(img):
    """``img`` box-averaged by a whole factor until its longer side is at most MAX_SIDE (Pillow, before NumPy)."""
    factor = -(-max(img.size) // MAX_SIDE)
    if factor <= 1:
        return img
    if img.mode in ("1", "P"):  # Image.reduce takes neither: palette transparency goes through RGBA
        img = img.convert("RGBA" if img.mode == "P" and "transparency" in img.info else "L")
    elif img.mode.startswith("I;16"):
        img = img.convert("I")
    return img.reduce(factor)


def _check_netpbm_header(path: Path) -> None:
    """ImageFileError if a PBM/PGM/PPM/PAM file's header (comments included) runs past MAX_NETPBM_HEADER."""
    with open(path, "rb") as f:
        head = f.read(MAX_NETPBM_HEADER)
    kind = head[1:2]
    if head[:1] != b"P" or len(kind) != 1 or kind not in b"1234567" or len(head) < MAX_NETPBM_HEADER:
        return  # not Netpbm, or too short to hide a long header (Pillow says what else is wrong)
    if kind == b"7":  # PAM: named fields up to ENDHDR
        complete = b"ENDHDR" in head
    else:  # width, height and (except for bitmaps) the maximum value, each perhaps after "#" comments
        fields = 2 if kind in b"14" else 3
        words = (m for m in re.finditer(rb"#[^\r\n]*|[^\s#]+", head[2:]) if not m.group().startswith(b"#"))
        complete = sum(1 for _ in zip(range(fields), words)) == fields
    if not complete:
        raise ImageFileError(f"{path}: a Netpbm header (with its comments) over {MAX_NETPBM_HEADER} bytes")


# Pillow's grayscale modes wider than 8 bits: 16-bit (PNG, TIFF), 32-bit integer and 32-bit float (TIFF).
WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")


def wide_gray(pixels: np.ndarray, mode: str, path: Path) -> np.ndarray:
    """A 16-bit, 32-bit or float grayscale image as float32 in [0, 1].

    16-bit images are divided by 65535. Other integer and float images have no declared
    range: the smallest of 1, 255 and 65535 that holds every value is taken as white, and
    values below 0 or above 65535 are stretched from their minimum to their maximum.
    """
    pixels = pixels.astype(np.float64)
    if not np.all(np.isfinite(pixels)):
        raise ImageFileError(f"{path}: the {mode} image holds NaN or infinite values")
    low, high = (float(pixels.min()), float(pixels.max())) if pixels.size else (0.0, 0.0)
    if mode.startswith("I;16"):
        white = 65535.0
    elif low >= 0 and high <= 65535:
        white = next(w for w in (1.0, 255.0, 65535.0) if high <= w)
    else:
        return ((pixels - low) / (high - low if high > low else 1.0)).astype(np.float32)
    return (pixels / white).astype(np.float32)


def _named(path: Path, exc: EngineError) -> EngineError:
    """The error with the file's name in front (preprocess's and read_number's errors do not know it)."""
    return exc if str(path) in str(exc) else type(exc)(f"{path}: {exc}")


def predict_file(model, path: Path, top_k: int) -> dict:
    """{"file", "empty", "top": [{"digit", "probability"}]} for one image file; EngineError if it is bad."""
    try:
        x = preprocess(ink_on_dark(decode_image(path)))
    except EngineError as exc:
        raise _named(path, exc) from None
    probs = model.predict_proba(x)[0]
    order = np.argsort(-probs)[:top_k]
    return {
        "file": str(path),
        "empty": bool(x.max() == 0),
        "top": [{"digit": int(d), "probability": float(probs[d])} for d in order],
    }


def read_number_file(model, path: Path) -> dict:
    """{"file", "text", "digits": [{"label", "confidence", "box"}]} for one image file, read with
    ``engine.read_number`` (label None where a glyph is not a digit; box x0, y0, x1, y1 in the file's
    pixels, ends exclusive); EngineError if the file is bad."""
    try:
        reading = read_number(model, ink_on_dark(decode_image(path)))
    except EngineError as exc:
        raise _named(path, exc) from None
    digits = [{"label": d.label, "confidence": d.confidence, "box": [int(v) for v in d.box]} for d in reading.digits]
    return {"file": str(path), "text": reading.text, "digits": digits}


def number_line(r: dict) -> str:
    """One file's reading as a line: "photo.png: 2026  (2 99.1%, 0 97.5%, 2 98.0%, 6 96.0%)"."""
    if not r["digits"]:
        return f"{r['file']}: no ink found"
    parts = [
        f"? not a digit ({d['confidence'] * 100:.1f}%)"
        if d["label"] is None
        else f"{d['label']} {d['confidence'] * 100:.1f}%"
        for d in r["digits"]
    ]
    text = r["text"] if any(d["label"] is not None for d in r["digits"]) else "not a digit"
    return f"{r['file']}: {text}  ({', '.join(parts)})"


def one_line(text: str) -> str:
    """``text`` with its unprintable characters (a newline in a file name) written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cmd_predict(args) -> int:
    """Each good file's result on stdout as it comes, one error line on stderr per bad file; 1 if any was bad."""
    model = load_model(args.model)
    results, failed = [], 0
    for path in args.images:
        shown = one_line(str(path))  # a file name may hold a newline: each file's answer stays one line
        try:
            r = read_number_file(model, path) if args.number else predict_file(model, path, args.top_k)
        except (EngineError, OSError) as exc:
            failed += 1
            text = str(exc).replace(str(path), shown)
            message = text.splitlines()[0] if text else type(exc).__name__
            print(f"error: {message if shown in message else f'{shown}: {message}'}", file=sys.stderr)
            results.append({"file": str(path), "error": str(exc).splitlines()[0] if str(exc) else message})
            continue
        results.append(r)
        if args.json:
            continue
        if args.number:
            print(number_line({**r, "file": shown}), flush=True)
            continue
        if r["empty"]:
            print(f"{shown}: no ink found", flush=True)
            continue
        ranked = "  ".join(f"{t['digit']} ({t['probability'] * 100:.1f}%)" for t in r["top"])
        print(f"{shown}: {ranked}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0


def cmd_evaluate(args) -> int:
    from .mnist import load_mnist

    model = load_model(args.model)
    data = load_mnist(args.data, log=lambda msg: print(msg, file=sys.stderr))
    report = classification_report(data["test_labels"], model.predict(data["test_images"]))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Model {args.model}: test accuracy {report['accuracy'] * 100:.2f}% on {len(data['test_labels'])} images")
    print("digit  precision  recall     f1  support")
    for c in report["per_class"]:
        print(f"{c['class']:5d}  {c['precision']:9.4f}  {c['recall']:6.4f}  {c['f1']:.4f}  {c['support']:7d}")
    print("confusion matrix (rows: true digit, columns: predicted)")
    print("     " + "".join(f"{d:6d}" for d in range(10)))
    for d, row in enumerate(report["confusion_matrix"]):
        print(f"{d:5d}" + "".join(f"{v:6d}" for v in row))
    return 0


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m digits", description="Use a trained digit model.")
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("predict", help="recognize the digit (or, with --number, the number) in each image file")
    pr.add_argument("images", nargs="+", type=Path, help="image files (PNG, JPEG, ...), any size, any polarity")
    pr.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    pr.add_argument(
        "--number",
        action="store_true",
        help="read a whole number (engine.read_number): the digits left to right, each with its confidence and box",
    )
    pr.add_argument("--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}", help="without --number")
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    ev = sub.add_parser("evaluate", help="test accuracy, per-class table and confusion matrix")
    ev.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    ev.add_argument("--data", type=Path, help="folder with the MNIST IDX files (default: the cache)")
    ev.add_argument("--json", action="store_true")
    add_explain_parsers(sub)  # explain, mistakes (digits/explain_command.py)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with cpu_runtime():
            run = getattr(args, "run", None) or (cmd_predict if args.command == "predict" else cmd_evaluate)
            status = run(args)
        sys.stdout.flush()  # a closed pipe shows up here when stdout is block-buffered
        return status
    except BrokenPipeError:  # before OSError, which it is
        # The reader went away (``| head``): stop quietly, as Unix tools do. Python would
        # otherwise complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (EngineError, OSError) as exc:  # OSError: a file that vanished, a name too long, a full disk, ...
        print(f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        return 1
