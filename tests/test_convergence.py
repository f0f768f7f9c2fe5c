"""bench/convergence.py --quick: the table and the picture are produced, every method ran the same
epochs on the same examples, and AdamW is ahead of full-batch gradient descent after them."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import convergence  # noqa: E402


def test_quick_run_writes_the_table_and_the_curves(tmp_path, capsys, mnist, monkeypatch):
    monkeypatch.setattr(convergence, "load_mnist", lambda log=print: mnist)
    assert convergence.main(["--quick", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    table = (tmp_path / "convergence.md").read_text()
    assert table.strip() in printed
    png = (tmp_path / "convergence.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| method")]
    assert [r.split("|")[1].strip() for r in rows] == list(convergence.METHODS)
    assert "to 90%: epochs / s" in table and "to 98%: epochs / s" in table
    assert re.search(r"CPU: .+ · 2,000 training images, 1,000 validation · 6 epochs each", table)
    for row in rows:  # each target cell: "epochs / seconds" or "not reached"
        cells = [c.strip() for c in row.split("|")[6:9]]
        assert all(c == "not reached" or re.fullmatch(r"\d+ / \d+\.\d", c) for c in cells), row
    accuracy = {r.split("|")[1].strip(): float(r.split("|")[5].strip().rstrip("%")) for r in rows}
    assert accuracy["AdamW"] > accuracy["full-batch GD"] + 2, accuracy


def test_full_batch_gradient_is_the_mean_over_all_images(mnist, monkeypatch):
    """One full-batch step, summed over chunks, moves the weights by lr times the whole set's mean gradient
    (a model without BatchNorm, whose chunked gradient is exactly the whole batch's)."""
    import numpy as np

    from engine.losses import softmax_cross_entropy
    from engine.model import Sequential
    from engine.optimizers import SGD

    monkeypatch.setattr(convergence, "FULL_BATCH_CHUNK", 250)  # 600 images: chunks of 250, 250 and 100
    config = {
        "input_shape": [784],
        "layers": [
            {"type": "Dense", "in_features": 784, "out_features": 32},
            {"type": "ReLU"},
            {"type": "Dense", "in_features": 32, "out_features": 10},
        ],
    }
    x = mnist["train_images"][:600].reshape(-1, 784).astype(np.float32) / 255
    y = mnist["train_labels"][:600].astype(np.int64)
    reference = Sequential.from_config(config, np.random.default_rng(0))
    model = Sequential.from_config(config, np.random.default_rng(0))
    before = {k: p.copy() for k, p, _ in model.parameters()}
    loss = convergence.full_batch_step(
        model, SGD(model.parameters(), momentum=0.0), x, y, 0.1, np.random.default_rng(1)
    )
    ref_loss, d = softmax_cross_entropy(reference.forward(x, training=True), y)
    reference.backward(d)
    assert abs(loss - ref_loss) < 1e-5
    gradients = {k: g for k, _, g in reference.parameters()}
    for key, p, _ in model.parameters():
        np.testing.assert_allclose(before[key] - p, 0.1 * gradients[key], atol=1e-6)
