"""Training speed, engine versus PyTorch (CPU), same architecture, batch, optimizer, dtype, threads.

    python bench/train_bench.py [--steps 40] [--repeats 5] [--arch mlp cnn]

Each repetition times ``--steps`` optimizer steps (forward, backward, AdamW) on real
MNIST batches, for the engine and then PyTorch (each after an untimed warm-up run
of the same length); seconds per epoch are the median step time times the steps in an epoch of
55,000 images. Repetitions alternate between the frameworks in one process, so
machine noise hits both.
"""

import argparse
import math

import numpy as np

from common import (
    framework_threads,
    load_torch,
    machine,
    machine_line,
    matmul_gflops,
    median_spread,
    save_json,
    threads,
    timed,
)

from digits.cpu_runtime import keep_freed_memory
from digits.mnist import load_mnist
from engine.architecture import layer_specs
from engine.architectures import ARCHITECTURES
from engine.images import unit_float
from engine_steps import engine_stepper, step_profile
from flops import training_step_flops
from step_floor import split_floor

TRAIN_IMAGES = 55000


# PyTorch's configurations, each timed side by side; the fastest is the reference. BLAS pinned:
# NumPy's OpenBLAS on one thread while PyTorch runs (as the engine runs); channels-last: images
# and convolution weights in NHWC memory order (images only; an MLP has no such choice).
TORCH_VARIANTS = {
    "pytorch": {"channels_last": False, "pin_blas": False},
    "pytorch, BLAS pinned": {"channels_last": False, "pin_blas": True},
    "pytorch, channels-last": {"channels_last": True, "pin_blas": False},
    "pytorch, channels-last, BLAS pinned": {"channels_last": True, "pin_blas": True},
}


def torch_variants(config: dict) -> dict:
    images = len(config["input_shape"]) == 3
    return {name: v for name, v in TORCH_VARIANTS.items() if images or not v["channels_last"]}


def torch_stepper(torch, config, images, labels, batch_size, seed=0, channels_last=False):
    from torch_models import build, input_shape

    torch.manual_seed(seed)
    model = build(torch, config).train()
    layout = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    x_all = torch.from_numpy(images.reshape((len(images),) + input_shape(config)))
    y_all = torch.from_numpy(labels)
    gen = torch.Generator().manual_seed(seed)

    def steps(n):
        for _ in range(n):
            idx = torch.randint(0, len(labels), (batch_size,), generator=gen)
            opt.zero_grad(set_to_none=True)
            x = x_all[idx].contiguous(memory_format=layout) if channels_last else x_all[idx]
            loss = loss_fn(model(x), y_all[idx])
            loss.backward()
            opt.step()

    return steps


def dense_gemm_ceiling(config: dict, batch_size: int, repeats: int) -> float | None:
    """Seconds for just the matrix products of one MLP training step (forward, dW, dX), nothing else.

    The engine cannot beat this with NumPy's BLAS at these shapes, so it is the
    ceiling for the step's GEMM efficiency. None for architectures with convolutions.
    """
    products = [spec.arrays["W"][1] for spec in layer_specs({"kind": "float32", **config}) if spec.flops]
    if any(len(w_shape) != 2 for w_shape in products):
        return None
    rng = np.random.default_rng(0)
    arrays = [
        (
            rng.random((batch_size, d_in), dtype=np.float32),
            rng.random((d_in, d_out), dtype=np.float32),
            rng.random((batch_size, d_out), dtype=np.float32),
        )
        for d_in, d_out in products
    ]

    def products():
        for i, (x, w, dy) in enumerate(arrays):
            x @ w  # forward
            x.T @ dy  # dL/dW
            if i:  # the first layer needs no dL/dx
                dy @ w.T

    return min(timed(lambda: [products() for _ in range(20)], repeats)) / 20


def bench_arch(arch, data, batch_size, steps, repeats, gemm_gflops, torch) -> dict:
    config = ARCHITECTURES[arch]()
    images, labels = data
    steps_per_epoch = math.ceil(TRAIN_IMAGES / batch_size)
    flops = training_step_flops(config, batch_size)
    row = {"arch": arch, "batch_size": batch_size, "steps_timed": steps, "repeats": repeats, "step_gflop": flops / 1e9}
    runners = {"engine": engine_stepper(config, images, labels, batch_size)}
    variants = torch_variants(config) if torch is not None else {}
    for name, v in variants.items():
        runners[name] = torch_stepper(torch, config, images, labels, batch_size, channels_last=v["channels_last"])
    # Round-robin: each repetition times every framework in turn, so a noisy stretch of the
    # shared machine hits all of them instead of one.
    samples = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            with framework_threads(pytorch=name in variants, pin_blas=variants.get(name, {}).get("pin_blas", False)):
                # An untimed warm-up run of the same length first: steady state, as in training,
                # after the other framework had the caches and the allocator.
                samples[name] += [t / steps for t in timed(lambda: run(steps), 1, warmup=1)]
    for name, times in samples.items():
        med, spread = median_spread(times)
        row.setdefault("pytorch_variants", {})
        (row if name == "engine" else row["pytorch_variants"])[name] = {
            "step_ms": med * 1000,
            "step_ms_spread": spread * 1000,
            "epoch_s": med * steps_per_epoch,
            "images_per_s": batch_size / med,
            "efficiency": flops / med / 1e9 / gemm_gflops,
        }
    with framework_threads(pytorch=False):
        row["engine_profile_ms"] = step_profile(config, images, labels, batch_size, steps)
    ceiling = dense_gemm_ceiling(config, batch_size, repeats)
    if ceiling is not None:
        row["gemm_only_ms"] = ceiling * 1000
        row["gemm_only_efficiency"] = flops / ceiling / 1e9 / gemm_gflops
        row["floor"] = split_floor(config, images, labels, batch_size, steps, flops, gemm_gflops)
    if variants:
        fastest = min(row["pytorch_variants"], key=lambda name: row["pytorch_variants"][name]["step_ms"])
        row["pytorch"] = {**row["pytorch_variants"][fastest], "variant": fastest}  # the reference
        row["ratio_engine_over_pytorch"] = row["engine"]["step_ms"] / row["pytorch"]["step_ms"]
    return row


def run(archs=("mlp", "cnn"), steps=40, repeats=5, batch_size=128, images=None) -> dict:
    torch = load_torch()
    keep_freed_memory()  # for both frameworks: freed activations are reused, not faulted in again
    if images is None:
        mnist = load_mnist(log=print)
        images = (
            unit_float(mnist["train_images"][:TRAIN_IMAGES]),
            mnist["train_labels"][:TRAIN_IMAGES].astype(np.int64),
        )
    gemm = matmul_gflops()
    result = {
        "machine": machine(),
        "threads": threads(),
        "matmul_gflops": gemm,
        "rows": [
            bench_arch(a, images, batch_size, steps if a == "mlp" else max(steps // 4, 2), repeats, gemm, torch)
            for a in archs
        ],
    }
    return result


def markdown(result: dict) -> str:
    lines = [
        f"NumPy float32 matmul on this machine: {result['matmul_gflops']:.0f} GFLOP/s "
        f"(2048x2048, best of 5), {result['threads']} threads for both frameworks.",
        "",
        "| arch | framework | ms/step (± spread) | s/epoch | images/s | GEMM efficiency | engine / PyTorch |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        reference = r.get("pytorch", {}).get("variant")
        for name, m in [("engine", r["engine"]), *r.get("pytorch_variants", {}).items()]:
            if name == "engine":
                ratio = f"**{r['ratio_engine_over_pytorch']:.2f}x**" if "ratio_engine_over_pytorch" in r else ""
            else:  # the engine against each configuration; the fastest is the reference
                ratio = f"{r['engine']['step_ms'] / m['step_ms']:.2f}x" + (" (reference)" if name == reference else "")
            lines.append(
                f"| {r['arch']} | {name} | {m['step_ms']:.1f} ± {m['step_ms_spread']:.1f} | "
                f"{m['epoch_s']:.1f} | {m['images_per_s']:.0f} | {m['efficiency'] * 100:.0f}% | {ratio} |"
            )
    for r in result["rows"]:
        if "gemm_only_ms" in r:
            lines.append(
                f"| {r['arch']} | its matrix products alone | {r['gemm_only_ms']:.1f} | | | "
                f"{r['gemm_only_efficiency'] * 100:.0f}% | |"
            )
    lines.append("")
    lines += target_lines(result)
    lines += profile_lines(result)
    lines.append("")
    lines.append(
        "Batch 128, AdamW, float32, no augmentation; s/epoch = median step time x 430 steps "
        "(55,000 images); repetitions alternate between the frameworks. The engine runs on its own "
        "threads with BLAS pinned to one (`digits/cpu_runtime.py`), PyTorch on its intra-op threads, in "
        "each configuration listed (NumPy's BLAS pinned to one thread or not, NCHW or channels-last "
        "memory); the engine's ratio is against the fastest; "
        "both with glibc keeping freed memory. GEMM efficiency = the step's matrix-product flops per second "
        '(counted from the architecture) over the matmul rate above. "Its matrix products alone" times '
        "just the step's GEMMs (forward, dW, dX) with nothing around them: the ceiling for that figure "
        "with this BLAS at batch 128, where the matrices are too small to reach the 2048x2048 rate."
    )
    return "\n".join(lines)


# Targets: engine step at most this many times PyTorch's fastest configuration (issue 18's bars).
RATIO_TARGETS = {"mlp": (0.8,), "cnn": (1.0,)}


def target_lines(result: dict) -> list[str]:
    lines = []
    for r in result["rows"]:
        if "ratio_engine_over_pytorch" in r:
            ratio = r["ratio_engine_over_pytorch"]
            verdicts = [
                f"<= {bound}x " + ("met" if ratio <= bound else f"missed by {(ratio / bound - 1) * 100:.0f}%")
                for bound in RATIO_TARGETS[r["arch"]]
            ]
            lines.append(
                f"- {r['arch']} step {ratio:.2f}x PyTorch's fastest configuration ({r['pytorch']['variant']}): "
                + ", ".join(verdicts)
                + "."
            )
        if "floor" in r:
            f = r["floor"]
            lines.append(
                f"- The {r['arch']} step's floor: on 1 thread, layer by layer, a step takes {f['one_thread_ms']:.1f} ms: "
                f"{f['split_ms']:.1f} ms of {' and '.join(f['split_kinds']) or 'nothing'}, which the engine splits between "
                f"{result['threads']} threads, and {f['serial_ms']:.1f} ms of smaller layers and the loss, which run "
                f"on one. Split perfectly, with free hand-offs, a step would still take {f['floor_ms']:.1f} ms: "
                f"{f['floor_efficiency'] * 100:.0f}% GEMM efficiency at most. A step makes "
                f"{f['handoffs_per_step']:.0f} hand-offs to a worker thread (one per split product and one for "
                f"AdamW); one took {f['handoff_us']:.0f} µs in this run (median of 2,000), where a byte sent to "
                f"another process through a pipe took {f['os_round_trip_us']:.0f} µs to come back: the machine's "
                f"own wake-up cost, with no Python in the way. With hand-offs at {f['handoff_us']:.0f} µs the "
                f"floor is {f['floor_with_handoffs_ms']:.1f} ms: {f['floor_with_handoffs_efficiency'] * 100:.0f}% "
                f"at most."
            )
    return lines + [""] if lines else []


def profile_lines(result: dict) -> list[str]:
    """Where an engine step goes, per kind of layer (the profile behind the figures above)."""
    lines = []
    for r in result["rows"]:
        prof = r.get("engine_profile_ms")
        if not prof:
            continue
        total = sum(prof.values())
        parts = ", ".join(f"{name} {ms:.1f} ms ({ms / total * 100:.0f}%)" for name, ms in prof.items())
        lines.append(f"- Engine {r['arch']} step, timed layer by layer ({total:.1f} ms in all): {parts}.")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", nargs="+", default=["mlp", "cnn"], choices=sorted(ARCHITECTURES))
    p.add_argument("--steps", type=int, default=40, help="steps per repetition for mlp (cnn: a quarter)")
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    result = run(args.arch, args.steps, args.repeats)
    print(machine_line(result["machine"]))
    print(markdown(result))
    save_json("train", result)


if __name__ == "__main__":
    main()
