"""Inference speed in CPython: float32 model, both int8 paths, and PyTorch; file sizes.

    python bench/inference_bench.py [--repeats 5]

Images per second at batch 1 (one drawing, as in the page) and batch 1,000, on
real MNIST test images, for the default CNN. Timing does not depend on the weight
values, so an initialized network stands in for a trained one; the int8 variants
are calibrated on real training images as in the shipped pipeline.
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np

from common import ROOT, framework_threads, load_torch, machine, machine_line, median_spread, save_json, timed

import engine
from digits.cpu_runtime import keep_freed_memory
from digits.mnist import load_mnist
from engine.architectures import ARCHITECTURES
from engine.images import unit_float
from engine.model import Sequential
from engine.quantize import quantize


def variants(arch: str, calibration: np.ndarray) -> dict:
    model = Sequential.from_config(ARCHITECTURES[arch](), np.random.default_rng(0))
    q = quantize(model, calibration)
    return {
        "float32": model,
        "int8 (int8 path)": q.with_inference("int8"),
        "int8 (dequantized path)": q.with_inference("dequantized"),
    }


def file_bytes(model) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.npz"
        engine.save_model(model, path, card={})
        return path.stat().st_size


def run(arch="cnn", repeats=5, batch=1000, mnist=None) -> dict:
    mnist = mnist or load_mnist(log=print)
    test = mnist["test_images"][:batch]
    calibration = unit_float(mnist["train_images"][:500])
    models = variants(arch, calibration)
    torch = load_torch()
    keep_freed_memory()  # for every model, as in the training benchmark
    if torch is not None:
        from torch_models import build, input_shape

        config = ARCHITECTURES[arch]()
        net = build(torch, config).eval()
        x_torch = torch.from_numpy(unit_float(test).reshape((len(test),) + input_shape(config)))

        class TorchModel:
            def predict_proba(self, images):
                with torch.inference_mode():
                    return torch.softmax(net(x_torch[: len(images)]), dim=1)

        models["PyTorch float32"] = TorchModel()
    # Round-robin: each repetition times every model once, so a noisy moment on this shared
    # machine hits all of them instead of whichever happened to run then.
    single = {name: [] for name in models}
    full = {name: [] for name in models}
    for name, model in models.items():  # warm-up
        with framework_threads(pytorch=name.startswith("PyTorch")):
            model.predict_proba(test[:1])
            model.predict_proba(test)
    for _ in range(repeats):
        for name, model in models.items():
            with framework_threads(pytorch=name.startswith("PyTorch")):
                single[name] += timed(lambda: model.predict_proba(test[:1]), 20, warmup=0)
                full[name] += timed(lambda: model.predict_proba(test), 1, warmup=0)
    rows = []
    for name, model in models.items():
        s1, f1 = median_spread(single[name]), median_spread(full[name])
        rows.append(
            {
                "model": name,
                "batch1_per_s": 1 / s1[0],
                "batch1_ms": s1[0] * 1000,
                "batch_per_s": batch / f1[0],
                "batch_ms": f1[0] * 1000,
                "batch_ms_spread": f1[1] * 1000,
                "file_bytes": None if name.startswith("PyTorch") else file_bytes(model),
            }
        )
    shipped = ROOT / "models" / "mnist_int8.npz"
    return {
        "machine": machine(),
        "arch": arch,
        "batch": batch,
        "rows": rows,
        "shipped_model_bytes": shipped.stat().st_size if shipped.exists() else None,
    }


def markdown(result: dict) -> str:
    lines = [
        f"| {result['arch']} model | batch 1: images/s (ms) | batch {result['batch']:,}: images/s (ms ± spread) | file |",
        "|---|---:|---:|---:|",
    ]
    for r in result["rows"]:
        size = f"{r['file_bytes'] / 1024:.1f} KB" if r["file_bytes"] else "n/a"
        lines.append(
            f"| {r['model']} | {r['batch1_per_s']:.0f} ({r['batch1_ms']:.2f}) | "
            f"{r['batch_per_s']:.0f} ({r['batch_ms']:.0f} ± {r['batch_ms_spread']:.0f}) | {size} |"
        )
    if result["shipped_model_bytes"]:
        lines.append(f"\nShipped model models/mnist_int8.npz: {result['shipped_model_bytes'] / 1024:.1f} KB.")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--arch", default="cnn", choices=sorted(ARCHITECTURES))
    args = p.parse_args()
    result = run(args.arch, args.repeats)
    print(machine_line(result["machine"]))
    print(markdown(result))
    save_json("inference", result)


if __name__ == "__main__":
    main()
