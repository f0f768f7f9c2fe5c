"""Rebuild models/gallery.npz, the shipped model's MNIST test mistakes that the page shows.

    python scripts/make_gallery.py [--model models/mnist_int8.npz] [--out models/gallery.npz]

The training export does this itself when it installs a model; run it by hand after
replacing models/mnist_int8.npz some other way (tests/test_gallery.py checks that the
gallery was made for the shipped model's exact bytes).
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digits.gallery import GALLERY_NAME, write_gallery  # noqa: E402
from digits.mnist import load_mnist  # noqa: E402
from digits.paths import SHIPPED_MODEL  # noqa: E402
from engine import load_model  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=SHIPPED_MODEL)
    p.add_argument("--out", type=Path, default=SHIPPED_MODEL.with_name(GALLERY_NAME))
    args = p.parse_args(argv)
    data = load_mnist(log=lambda msg: print(msg, file=sys.stderr))
    wrong = write_gallery(args.out, load_model(args.model), args.model, data["test_images"], data["test_labels"])
    print(f"{args.out}: {wrong} mistakes of {args.model.name} on the MNIST test set, and a sample of right ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
