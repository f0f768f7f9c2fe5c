"""Where "not a digit" starts: the threshold training picks on validation digits, and the training mix."""

import numpy as np
import pytest

from digits import training_mix
from digits.reject_threshold import chosen_rule, rejected_share, rejection_summary, threshold_keeping
from digits.train_command import mix_of, parse_args
from engine.quantize import quantize
from engine.rejection import NOT_A_DIGIT


def test_threshold_keeping_keeps_the_share_it_promises():
    scores = np.array([0.9, 0.5, 0.5, 0.5, 0.2, 0.1, 0.1, 0.0, 0.0, 0.0], np.float32)
    blank = np.zeros(10, bool)
    t = threshold_keeping(scores, blank, 0.8)  # two may go, but three tie at 0.5
    assert 1 - rejected_share(scores, blank, t) >= 0.8 and t > 0.5
    assert threshold_keeping(scores, blank, 0.9) == pytest.approx(0.5, abs=1e-6)
    blank[:2] = True  # two empty digits are rejected whatever the threshold
    assert threshold_keeping(scores, blank, 0.9) is None


@pytest.mark.parametrize("keep", [0.9, 0.99])
def test_the_chosen_rule_keeps_that_share_of_validation_digits_in_the_int8_model(trained_mlp, mnist, keep):
    val = mnist["test_images"][:1000]
    q = quantize(trained_mlp, mnist["train_images"][:100].astype(np.float32) / 255)
    rule = chosen_rule(q, val, keep)
    model = q.with_reject_rule(rule)
    assert model.reject_rule == rule and q.reject_rule != rule  # a copy: the original keeps its rule
    kept = (model.predict(val, reject=True) >= 0).mean()
    assert keep <= kept < keep + 0.01  # the lowest threshold that keeps it: not a lazy 1.0
    summary = rejection_summary(model, val, {"blank": np.zeros((5, 28, 28), np.uint8)})
    assert summary == {"digits_kept": kept, "rejected": {"blank": 1.0}}


def test_the_mix_adds_styled_digits_and_negatives_labelled_not_a_digit(mnist):
    images, labels = mnist["train_images"][:50], mnist["train_labels"][:50]
    x, y = training_mix.extend(training_mix.Mix(negatives=7, styled=0), 3, images, labels, log=lambda *_: None)
    assert x.shape == (57, 28, 28) and x.dtype == np.float32 and 0 <= x.min() <= x.max() <= 1
    assert np.array_equal(y[:50], labels) and (y[50:] == NOT_A_DIGIT).all()
    again, _ = training_mix.extend(training_mix.Mix(negatives=7), 3, images, labels, log=lambda *_: None)
    assert np.array_equal(x, again)  # the seed decides everything
    assert training_mix.Mix(negatives=1).outputs == 11 and training_mix.Mix(styled=5).outputs == 10


def test_a_limited_run_scales_the_mix_and_no_negatives_means_ten_outputs():
    args = parse_args(["--limit", "5500"])
    assert mix_of(args, 5500) == training_mix.Mix(negatives=1000, styled=800)
    assert mix_of(parse_args(["--negatives", "0", "--styles", "0"])).outputs == 10
    for bad in (["--negatives", "-1"], ["--keep-digits", "1.5"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
