"""MNIST-style preprocessing: what a photo of a digit becomes, and that nothing escapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from digitkit.data import load_digits
from digitkit.errors import InputError
from digitkit.intake.preprocess import preprocess_image, resize_only


@pytest.fixture(scope="module")
def mnist():
    digits = load_digits("sample", split="test")
    return digits.images[:40].astype(np.float32) / 255.0


def correlation(a, b) -> float:
    """Best correlation over shifts of up to one pixel (centring rounds to whole pixels)."""
    return max(float(np.corrcoef(np.roll(a, (dr, dc), axis=(0, 1)).ravel(), np.ravel(b))[0, 1])
               for dr in (-1, 0, 1) for dc in (-1, 0, 1))


def centre_of_mass(image):
    mass = image.sum()
    return ((image.sum(axis=1) * np.arange(28)).sum() / mass, (image.sum(axis=0) * np.arange(28)).sum() / mass)


def as_photo(digit, canvas=(300, 400), at=(40, 220), scale=6):
    """Dark ink on light paper, scaled up and off-centre on a larger sheet."""
    from PIL import Image

    big = np.asarray(Image.fromarray(digit, mode="F").resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR))
    sheet = np.zeros(canvas, np.float32)
    sheet[at[0]:at[0] + big.shape[0], at[1]:at[1] + big.shape[1]] = big
    return 0.92 - 0.8 * np.clip(sheet, 0, 1)


def test_mnist_digits_stay_mnist_digits(mnist):
    for digit in mnist:
        out = preprocess_image(digit)
        assert correlation(out, digit) > 0.8
        rows = np.flatnonzero(out.max(axis=1) > 0)
        cols = np.flatnonzero(out.max(axis=0) > 0)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (20, 21)
        r, c = centre_of_mass(out)
        assert abs(r - 14) <= 1 and abs(c - 14) <= 1


def test_photo_of_dark_ink_on_paper_off_centre(mnist):
    for digit in mnist[:10]:
        out = preprocess_image(as_photo(digit))
        assert correlation(out, preprocess_image(digit)) > 0.85
        assert out[0].max() == 0 and out[:, 0].max() == 0  # background is black


def test_uneven_lighting_and_noise(mnist):
    rng = np.random.default_rng(0)
    for digit in mnist[:10]:
        photo = as_photo(digit)
        light = np.linspace(0.55, 1.0, photo.shape[1])[None, :]  # a shadow across the sheet
        photo = np.clip(photo * light + rng.normal(0, 0.03, photo.shape), 0, 1)
        assert correlation(preprocess_image(photo), preprocess_image(digit)) > 0.8


def test_specks_do_not_move_the_digit(mnist):
    photo = as_photo(mnist[0])
    clean = preprocess_image(photo)
    photo[5:8, 5:8] = 0.1  # a dot of dirt far from the digit
    photo[280:282, 390:392] = 0.2
    assert correlation(preprocess_image(photo), clean) > 0.97


def test_aspect_ratio_is_kept():
    bar = np.zeros((100, 100), np.float32)
    bar[10:90, 45:55] = 1.0  # a "1": tall and thin
    out = preprocess_image(bar)
    rows = np.flatnonzero(out.max(axis=1) > 0)
    cols = np.flatnonzero(out.max(axis=0) > 0)
    assert rows[-1] - rows[0] + 1 == 20
    assert cols[-1] - cols[0] + 1 <= 5


@pytest.mark.parametrize("level", [0.0, 1.0, 0.5, 0.97])
def test_flat_images_have_no_ink(level):
    with pytest.raises(InputError, match="no ink found"):
        preprocess_image(np.full((50, 40), level, np.float32))


def test_uint8_input_and_resize_only(mnist):
    as_bytes = (mnist[0] * 255).astype(np.uint8)
    assert np.allclose(preprocess_image(as_bytes), preprocess_image(as_bytes.astype(np.float32) / 255), atol=0.02)
    out = resize_only(np.ones((56, 40), np.float32))
    assert out.shape == (28, 28) and out.dtype == np.float32 and out.min() == 1.0  # no inversion


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 70), st.integers(1, 70)),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_any_array_gives_a_digit_or_an_input_error(array):
    for grey in (array, resize_only):
        try:
            out = preprocess_image(array) if grey is array else resize_only(array)
        except InputError as exc:
            assert "\n" not in str(exc)
            continue
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


@settings(max_examples=100, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 90), st.integers(1, 90), st.sampled_from([1, 3, 4]))))
def test_any_uint8_colour_array_gives_a_digit_or_an_input_error(array):
    try:
        out = preprocess_image(array)
    except InputError:
        return
    assert out.shape == (28, 28) and np.isfinite(out).all() and 0 <= out.min() <= out.max() <= 1


def test_generated_photos_come_back_as_their_mnist_digit(tmp_path, mnist):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_realworld_digits

    from digitkit.intake import read_digit as load_digit

    rows = make_realworld_digits.make(tmp_path / "a", count=12, seed=3)
    again = make_realworld_digits.make(tmp_path / "b", count=2, seed=3)
    assert (tmp_path / "a" / rows[0][0]).read_bytes() == (tmp_path / "b" / again[0][0]).read_bytes()
    scores = [correlation(load_digit(tmp_path / "a" / name), preprocess_image(mnist[i]))
              for i, (name, _) in enumerate(rows)]
    # Rotation up to 12 degrees and blur lower the score; a wrong crop or polarity gives < 0.4.
    assert min(scores) > 0.55 and np.median(scores) > 0.8, scores


def test_realworld_labels_name_the_source_digit_of_each_file(tmp_path):
    """The accuracy benchmark's ceiling column scores the model on these source digits."""
    import csv
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_realworld_digits

    make_realworld_digits.make(tmp_path, count=2, seed=0, kinds=("photo", "upscale8"))
    images, labels = make_realworld_digits.load_source(None)
    with open(tmp_path / "labels.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["kind"] for row in rows] == ["photo", "photo", "upscale8", "upscale8"]
    sources = [int(row["source"]) for row in rows]
    assert sources == [0, 1, 8, 9]  # each kind takes the next ``count`` test digits
    assert [int(row["label"]) for row in rows] == [int(labels[i]) for i in sources]
