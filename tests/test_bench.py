"""Tiny runs of every benchmark, so the scripts cannot rot (the full runs are not part of CI)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import flops  # noqa: E402
import inference_bench  # noqa: E402
import time_to_accuracy  # noqa: E402
import train_bench  # noqa: E402
import update_readme  # noqa: E402
from engine.architectures import cnn_config, mlp_config  # noqa: E402


def test_flop_count_matches_a_hand_count():
    assert flops.forward_flops(mlp_config()) == [2 * 784 * 512, 2 * 512 * 256, 2 * 256 * 10]
    first_conv = flops.forward_flops(cnn_config())[0]
    assert first_conv == 2 * 28 * 28 * 9 * 1 * 16
    per_image = sum(flops.forward_flops(mlp_config())) * 3 - 2 * 784 * 512
    assert flops.training_step_flops(mlp_config(), 4) == 4 * per_image


def test_train_bench_smoke(mnist):
    images = (mnist["train_images"][:512].astype(np.float32) / 255, mnist["train_labels"][:512].astype(np.int64))
    result = train_bench.run(archs=("mlp", "cnn"), steps=4, repeats=1, batch_size=32, images=images)
    assert result["matmul_gflops"] > 0
    for row in result["rows"]:
        # Nominal GEMM flops over the matmul rate: Winograd's convolutions multiply up to 2.25x less than
        # that count, and on a loaded machine the matmul rate is measured low, so above 1 is possible.
        assert row["engine"]["step_ms"] > 0 and 0 < row["engine"]["efficiency"] < 3.0
    mlp_row = result["rows"][0]
    assert mlp_row["gemm_only_ms"] > 0 and "gemm_only_ms" not in result["rows"][1]  # ceiling: dense nets only
    floor = mlp_row["floor"]
    assert 0 < floor["serial_ms"] < floor["floor_ms"] <= floor["one_thread_ms"] and floor["handoff_us"] > 0
    assert floor["os_round_trip_us"] > 0 and floor["floor_with_handoffs_ms"] >= floor["floor_ms"]
    if result["threads"] > 1:  # at least AdamW's update is split between the threads
        assert floor["handoffs_per_step"] >= 1 and floor["floor_with_handoffs_ms"] > floor["floor_ms"]
        assert "AdamW" in floor["split_kinds"] and "ReLU" not in floor["split_kinds"]  # measured, not declared
    assert "floor" not in result["rows"][1]
    table = train_bench.markdown(result)
    assert "| mlp | engine |" in table and "| cnn | engine |" in table and "matrix products alone" in table
    assert "The mlp step's floor" in table


def test_time_to_accuracy_smoke(mnist):
    result = time_to_accuracy.run(archs=("mlp",), mnist=mnist, limit=1500, max_epochs=1, targets={"mlp": 0.5})
    engine_row = result["rows"][0]["engine"]
    assert engine_row["reached"] and engine_row["seconds"] > 0
    assert "| mlp | 50% |" in time_to_accuracy.markdown(result)


def test_inference_bench_smoke(mnist):
    result = inference_bench.run(repeats=1, batch=20, mnist=mnist)
    names = [r["model"] for r in result["rows"]]
    assert names[:3] == ["float32", "int8 (int8 path)", "int8 (dequantized path)"]
    int8_size = result["rows"][1]["file_bytes"]
    assert int8_size < result["rows"][0]["file_bytes"] / 2
    assert "batch 1" in inference_bench.markdown(result)


def test_readme_table_is_generated_from_results(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{update_readme.START}\nstale\n{update_readme.END}\noutro\n")
    results = tmp_path / "results.md"
    results.write_text("# Benchmark results\n\n## Training speed\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    update_readme.update_readme(readme, results)
    text = readme.read_text()
    assert "stale" not in text and "| 1 | 2 |" in text and "#### Training speed" in text
    assert text.startswith("intro\n") and text.endswith("outro\n")
    bad = tmp_path / "bad.md"
    bad.write_text("no markers")
    with pytest.raises(SystemExit):
        update_readme.update_readme(bad, results)


def test_cnn_lite_keeps_the_cnns_weights_with_half_its_multiply_adds():
    """--arch cnn-lite: the same ~100k weights (so the same int8 file size) for less than half the work."""
    from engine.architectures import cnn_lite_config
    from engine.model import Sequential

    weights = {}
    for name, config in (("cnn", cnn_config(11)), ("cnn-lite", cnn_lite_config(11))):
        model = Sequential.from_config(config, np.random.default_rng(0))
        weights[name] = sum(a.size for a in model.state_arrays().values())
        assert model.predict_proba(np.zeros((2, 28, 28), np.float32)).shape == (2, 10)
    assert abs(weights["cnn-lite"] - weights["cnn"]) < 0.05 * weights["cnn"], weights
    assert sum(flops.forward_flops(cnn_lite_config(11))) < 0.5 * sum(flops.forward_flops(cnn_config(11)))
