"""Refactors must not change a single bit: of training, or of what the shipped model predicts.

The digests below were first recorded from the code before the library/application split
(commit 70deef0) with NumPy 2.4.6 on OpenBLAS's SkylakeX kernels (the same on 1 or 2 threads);
float32 products round differently on other BLAS kernels, so training digests are kept per kernel
(SkylakeX on Intel Xeon hosts, Haswell on AMD EPYC ones) and the failure message names the kernel
in use. A change that alters arithmetic on purpose (a new kernel, a new
model) must say so and record new digests in the same commit, with the reason.
"""

import hashlib

import numpy as np
import pytest
import threadpoolctl

import engine
from engine.architectures import cnn_config, mlp_config
from engine.model import Sequential
from engine.train import TrainConfig, Trainer

STEPS = 3
# sha256 of every model and optimizer array after STEPS training steps (see state_digest), per
# OpenBLAS kernel: float32 products round differently on each (Intel Xeon hosts get SkylakeX, AMD EPYC
# ones Haswell). Haswell's were recorded on 2026-12-03 from code whose SkylakeX digests matched.
TRAINING_DIGESTS = {
    "SkylakeX": {
        # Both recorded again when BatchNorm moved to one-pass statistics on wide rows (issue 18): its
        # sums are taken in another order and dL/dx as dy * gain + x * slope + offset (the mlp's again
        # when rows of 256 features or more were no longer widened, their sums in one piece). The cnn's
        # again when the valid 7x7 -> 5x5 convolution's dL/dx moved from the full convolution to col2im.
        "mlp": "08c6c6ba16c7da266f89af2ee750ddf3cfa1eb4e9924756ed38f409a27b6b4d3",
        # Recorded again when training's 3x3 convolutions moved to Winograd F(2x2, 3x3) (issue 18): it
        # rounds differently from im2col (within 2e-6 of it, tests/test_winograd.py). Like the mlp's,
        # this digest is for BLAS on its default threads (2 here); with BLAS pinned to one, as
        # train_offline.py trains, OpenBLAS rounds some of its (64 x 784) @ (784 x 64) products differently.
        "cnn": "861bb19410eb172d525b2d2c0950f2e02087135ab20adfdc093631a308a852b7",
    },
    "Haswell": {
        "mlp": "9fa8666171a29ec13dfd84c7178bd4de9420122f35703f00baa2fe4de1722280",
        "cnn": "26a3cb8f7edd1bd6bc08a45e6303ea17f33ac4153ac11e00345dc23b014fba57",
    },
}
# sha256 of the shipped model's float32 probabilities on the 10,000 MNIST test images. Recorded
# again for the 11-output model of 2026-12-02 (trained with styles and negatives), whose digit
# probabilities are a softmax over the ten digit logits; same NumPy and kernels. Recorded again for
# the model of 2026-12-03 (slashed zeros and long flags drawn more ways, best epoch by accuracy):
# the same bits on SkylakeX and on Haswell (OPENBLAS_CORETYPE=Haswell), as int8 inference should be.
SHIPPED_PREDICTIONS_DIGEST = "53156cec197c1d872cf7edf5e89d22b9b65d712e37e472df6331d5a119115114"


RECORDED_WITH = "SkylakeX"  # the shipped model's predictions come out the same on Haswell


def blas_kernel() -> str:
    return (
        ", ".join(str(lib.get("architecture")) for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")
        or "none"
    )


def digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(arrays):
        value = np.ascontiguousarray(arrays[key])
        h.update(key.encode() + str(value.dtype).encode() + str(value.shape).encode() + value.tobytes())
    return h.hexdigest()


def state_after_steps(arch: str, mnist) -> dict:
    """Model and optimizer arrays after STEPS steps of the real training loop (augmentation and dropout on)."""
    config = TrainConfig(epochs=1, batch_size=64, augment=True, seed=7)
    model = Sequential.from_config({"mlp": mlp_config, "cnn": cnn_config}[arch](), np.random.default_rng(7))
    trainer = Trainer(model, config)
    x = mnist["train_images"][: 64 * STEPS].astype(np.float32) / 255
    y = mnist["train_labels"][: 64 * STEPS].astype(np.int64)
    trainer.fit(x, y, x[:64], y[:64])
    return {
        **{f"model/{k}": v for k, v in model.state_arrays().items()},
        **{f"optimizer/{k}": v for k, v in trainer.optimizer.state_dict().items()},
    }


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_three_training_steps_give_the_recorded_bits(arch, mnist):
    kernel = blas_kernel()
    bits = digest(state_after_steps(arch, mnist))
    if kernel not in TRAINING_DIGESTS:  # nothing recorded to compare with: at least the same bits twice
        assert bits == digest(state_after_steps(arch, mnist)), f"training is not deterministic on {kernel}"
        return
    assert bits == TRAINING_DIGESTS[kernel][arch], (
        f"training bits changed (BLAS kernel here: {kernel}; digests recorded for {', '.join(TRAINING_DIGESTS)})"
    )


def test_shipped_model_predicts_the_recorded_bits(mnist):
    model = engine.load_model("models/mnist_int8.npz")
    probs = model.predict_proba(mnist["test_images"])
    assert digest({"probs": probs}) == SHIPPED_PREDICTIONS_DIGEST, (
        f"the shipped model's predictions changed (BLAS kernel here: {blas_kernel()}; recorded with {RECORDED_WITH})"
    )
