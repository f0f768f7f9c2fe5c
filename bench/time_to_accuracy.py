"""Wall time to a validation accuracy: engine versus PyTorch, same recipe.

    python bench/time_to_accuracy.py [--arch mlp cnn]

Recipe for both: the architecture's layers, batch 128, AdamW (weight decay on
weights only), one-cycle learning rate planned over ``max_epochs``, label smoothing
0.05, no augmentation, the same stratified 5,000-image validation split. Validation
runs every quarter epoch; its time is not counted. Targets: 98% (mlp), 99% (cnn).
"""

import argparse
import math
import time

import numpy as np

from common import framework_threads, load_torch, machine, machine_line, save_json

from digits.cpu_runtime import keep_freed_memory
from digits.mnist import load_mnist
from engine.architectures import ARCHITECTURES
from engine.images import unit_float
from engine.model import Sequential
from engine.schedules import OneCycle
from engine.train import TrainConfig, Trainer, evaluate, stratified_split

TARGETS = {"mlp": 0.98, "cnn": 0.99}
RECIPE = {"mlp": {"lr": 2e-3, "max_epochs": 6}, "cnn": {"lr": 3e-3, "max_epochs": 4}}
BATCH = 128
SMOOTHING = 0.05


def split(mnist, seed=0, limit=None):
    train_idx, val_idx = stratified_split(mnist["train_labels"], 5000, np.random.default_rng(seed))
    if limit:
        train_idx = train_idx[:limit]
    return (
        unit_float(mnist["train_images"][train_idx]),
        mnist["train_labels"][train_idx].astype(np.int64),
        unit_float(mnist["train_images"][val_idx]),
        mnist["train_labels"][val_idx].astype(np.int64),
    )


def engine_run(arch, data, target, max_epochs, lr, seed=0):
    x, y, vx, vy = data
    model = Sequential.from_config(ARCHITECTURES[arch](), np.random.default_rng(seed))
    trainer = Trainer(
        model,
        TrainConfig(
            batch_size=BATCH, optimizer="adamw", weight_decay=5e-4, label_smoothing=SMOOTHING, augment=False, seed=seed
        ),
    )
    steps_per_epoch = math.ceil(len(y) / BATCH)
    schedule = OneCycle(lr, max_epochs * steps_per_epoch)
    vin = vx.reshape((-1,) + model.input_shape)
    check_every = max(steps_per_epoch // 4, 1)
    trained, step, acc = 0.0, 0, 0.0
    for _ in range(max_epochs):
        order = trainer.rng.permutation(len(y))
        start = time.perf_counter()
        for b in range(steps_per_epoch):
            idx = order[b * BATCH : (b + 1) * BATCH]
            trainer.step(x[idx], y[idx], schedule(step))
            step += 1
            if step % check_every == 0 or b == steps_per_epoch - 1:
                trained += time.perf_counter() - start
                _, acc = evaluate(model, vin, vy)
                if acc >= target:
                    return {"seconds": trained, "reached": True, "val_accuracy": acc, "steps": step}
                start = time.perf_counter()
    return {"seconds": trained, "reached": False, "val_accuracy": acc, "steps": step}


def torch_run(torch, arch, data, target, max_epochs, lr, seed=0):
    from torch_models import build, input_shape

    x, y, vx, vy = data
    config = ARCHITECTURES[arch]()
    torch.manual_seed(seed)
    model = build(torch, config)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight") and p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if not (n.endswith("weight") and p.dim() > 1)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 5e-4}, {"params": rest, "weight_decay": 0.0}], lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=SMOOTHING)
    shape = (-1,) + input_shape(config)
    xt, yt = torch.from_numpy(x.reshape(shape)), torch.from_numpy(y)
    vxt, vyt = torch.from_numpy(vx.reshape(shape)), torch.from_numpy(vy)
    steps_per_epoch = math.ceil(len(y) / BATCH)
    schedule = OneCycle(lr, max_epochs * steps_per_epoch)
    check_every = max(steps_per_epoch // 4, 1)
    gen = torch.Generator().manual_seed(seed)
    trained, step, acc = 0.0, 0, 0.0
    for _ in range(max_epochs):
        order = torch.randperm(len(y), generator=gen)
        model.train()
        start = time.perf_counter()
        for b in range(steps_per_epoch):
            idx = order[b * BATCH : (b + 1) * BATCH]
            for group in opt.param_groups:
                group["lr"] = schedule(step)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
            step += 1
            if step % check_every == 0 or b == steps_per_epoch - 1:
                trained += time.perf_counter() - start
                model.eval()
                with torch.inference_mode():
                    acc = float((model(vxt).argmax(1) == vyt).float().mean())
                model.train()
                if acc >= target:
                    return {"seconds": trained, "reached": True, "val_accuracy": acc, "steps": step}
                start = time.perf_counter()
    return {"seconds": trained, "reached": False, "val_accuracy": acc, "steps": step}


def run(archs=("mlp", "cnn"), mnist=None, limit=None, max_epochs=None, targets=None) -> dict:
    mnist = mnist or load_mnist(log=print)
    data = split(mnist, limit=limit)
    torch = load_torch()
    keep_freed_memory()  # for both frameworks, as in train_bench
    rows = []
    for arch in archs:
        target = (targets or TARGETS)[arch]
        recipe = dict(RECIPE[arch], **({"max_epochs": max_epochs} if max_epochs else {}))
        with framework_threads(pytorch=False):
            engine = engine_run(arch, data, target, recipe["max_epochs"], recipe["lr"])
        row = {"arch": arch, "target": target, **recipe, "engine": engine}
        if torch is not None:
            row["pytorch"] = torch_run(torch, arch, data, target, recipe["max_epochs"], recipe["lr"])
        rows.append(row)
    return {"machine": machine(), "rows": rows}


def markdown(result: dict) -> str:
    lines = ["| arch | target (validation) | engine | PyTorch | engine / PyTorch |", "|---|---:|---:|---:|---:|"]
    for r in result["rows"]:

        def cell(m):
            if m is None:
                return "n/a"
            return (
                f"{m['seconds']:.0f} s ({m['steps']} steps)"
                if m["reached"]
                else f"not reached: {m['val_accuracy'] * 100:.2f}% after {r['max_epochs']} epochs, {m['seconds']:.0f} s"
            )

        e, t = r["engine"], r.get("pytorch")
        ratio = f"{e['seconds'] / t['seconds']:.2f}x" if t and e["reached"] and t["reached"] else ""
        lines.append(f"| {r['arch']} | {r['target'] * 100:.0f}% | {cell(e)} | {cell(t)} | {ratio} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", nargs="+", default=["mlp", "cnn"], choices=sorted(ARCHITECTURES))
    args = p.parse_args()
    result = run(args.arch)
    print(machine_line(result["machine"]))
    print(markdown(result))
    save_json("time_to_accuracy", result)


if __name__ == "__main__":
    main()
