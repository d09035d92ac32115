"""Test-time augmentation (``predict --tta``): the views, and the one inference path using them."""

from __future__ import annotations

import numpy as np
import pytest

from digitkit.inference import tta


def _digits(count: int = 3, side: int = 28) -> np.ndarray:
    x = np.random.default_rng(0).random((count, side, side)).astype(np.float32)
    x[:, :4], x[:, -4:], x[:, :, :4], x[:, :, -4:] = 0, 0, 0, 0  # MNIST's empty border
    return x


def test_views_are_the_digit_shifted_and_scaled_in_range():
    x = _digits()
    seen = tta.views(x)
    assert seen.shape == (tta.VIEWS * 3, 28, 28) and seen.dtype == np.float32
    assert 0.0 <= seen.min() and seen.max() <= 1.0
    np.testing.assert_array_equal(seen[:3], x)  # the first view is the digit itself
    np.testing.assert_array_equal(seen[3:6][:, :, 1:], x[:, :, :-1])  # one pixel right
    np.testing.assert_array_equal(tta.shifted(x, -1, 0)[:, :-1], x[:, 1:])  # one pixel up
    np.testing.assert_array_equal(tta.views(x), seen)  # no randomness


def test_scaling_keeps_the_centre_and_the_ink_mass_follows_the_area():
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 10:18, 10:18] = 1.0
    for factor in tta.SCALES:
        zoomed = tta.scaled(x, factor)
        rows, cols = np.nonzero(zoomed[0] > 0.5)
        assert abs(rows.mean() - 13.5) < 0.01 and abs(cols.mean() - 13.5) < 0.01
        assert zoomed.sum() == pytest.approx(64 * factor ** 2, rel=0.05)
    np.testing.assert_allclose(tta.scaled(x, 1.0), x, atol=1e-6)


def test_averaged_is_the_mean_over_views_for_any_sample_shape():
    x = _digits(2).reshape(2, 784)  # a dense model's flat input

    def probabilities(inputs):
        assert inputs.shape == (tta.VIEWS * 2, 784)
        logits = np.stack([inputs.sum(axis=1), -inputs.sum(axis=1)], axis=1)
        exp = np.exp(logits / 100.0)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    averaged = tta.averaged(x, 28, probabilities)
    views = tta.views(x.reshape(2, 28, 28)).reshape(-1, 784)
    expected = probabilities(views).reshape(tta.VIEWS, 2, 2).mean(axis=0)
    np.testing.assert_allclose(averaged, expected, rtol=1e-6)
    np.testing.assert_allclose(averaged.sum(axis=1), 1.0, rtol=1e-6)


def test_predictor_tta_is_off_by_default_and_on_when_asked():
    import digitkit
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test").images[:32].astype(np.float32) / 255.0
    plain = digitkit.load("cnn-best@pretrained", "litert")
    assert plain.tta is False
    asked = digitkit.load("cnn-best@pretrained", "litert", tta=True)
    by_default = plain.predict_proba(digits)
    with_tta = asked.predict_proba(digits)
    np.testing.assert_allclose(plain.predict_proba(digits, tta=True), with_tta, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(asked.predict_proba(digits, tta=False), by_default, rtol=1e-5, atol=1e-7)
    assert not np.allclose(with_tta, by_default)
    np.testing.assert_allclose(with_tta.sum(axis=1), 1.0, atol=1e-5)
    # Calibrated views averaged: the same as averaging predict_proba over the views by hand.
    manual = plain.predict_proba(tta.views(digits)).reshape(tta.VIEWS, 32, 10).mean(axis=0)
    np.testing.assert_allclose(with_tta, manual, rtol=1e-4, atol=1e-6)
    assert (with_tta.argmax(axis=1) == by_default.argmax(axis=1)).mean() > 0.9


def test_predict_tta_in_python_and_on_the_command_line(cli, tmp_path):
    import json

    import digitkit
    from predict_fixtures import digit_png

    label = digit_png(tmp_path / "digit.png", index=0)
    result = digitkit.predict(tmp_path / "digit.png", model="cnn-best@pretrained", tta=True)
    assert result.predictions[0].best == label
    shown = cli("predict", str(tmp_path / "digit.png"), "-m", "cnn-best@pretrained", "--tta", "--json")
    assert shown.exit_code == 0, shown.output
    probabilities = json.loads(shown.stdout)["predictions"][0]["probabilities"]
    np.testing.assert_allclose(probabilities, result.predictions[0].probabilities, atol=1e-5)


@pytest.mark.slow
def test_keras_and_litert_agree_with_tta():
    import digitkit
    from digitkit.data import load_digits

    digits = load_digits("sample", split="test").images[:64].astype(np.float32) / 255.0
    litert = digitkit.load("cnn-best@pretrained", "litert", tta=True).predict_proba(digits)
    keras = digitkit.load("cnn-best@pretrained", "keras", tta=True).predict_proba(digits)
    np.testing.assert_allclose(litert, keras, atol=2e-3)  # float16 weights in the .tflite
