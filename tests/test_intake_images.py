"""The image loader: the fixture zoo replayed, odd names, the size cap, and fuzzing."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digitkit.errors import InputError
from digitkit.intake import MAX_PIXELS, decode, display_name, read_bytes, read_digit, to_grey


def open_image(source):
    """Read (bounded) and decode at full resolution."""
    return decode(read_bytes(source), display_name(source), None)

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_images import EXPECTED, HERE, LABEL  # noqa: E402

GOOD = sorted(name for name, expected in EXPECTED.items() if expected == LABEL)
BAD = sorted(name for name, expected in EXPECTED.items() if expected != LABEL)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def assert_digit(digit: np.ndarray) -> None:
    assert digit.dtype == np.float32
    assert digit.shape == (28, 28)
    assert np.isfinite(digit).all()
    assert digit.min() >= 0.0 and digit.max() <= 1.0


def test_zoo_folder_matches_the_generator():
    assert sorted(p.name for p in HERE.iterdir()) == sorted(EXPECTED)
    assert sum(p.stat().st_size for p in HERE.iterdir()) < 300 * 1024


@pytest.mark.parametrize("name", GOOD)
def test_every_good_file_loads_as_the_same_upright_digit(name):
    reference = read_digit(HERE / "grey8.png")
    digit = read_digit(HERE / name)
    assert_digit(digit)
    # Same digit, white on black, upright: transparency, 16 bits, EXIF, CMYK all handled.
    assert correlation(digit, reference) > 0.85, name
    assert digit[digit > 0.5].size > 30


@pytest.mark.parametrize("name", BAD)
def test_every_bad_file_is_refused_with_one_clear_line(name):
    with pytest.raises(InputError) as caught:
        read_digit(HERE / name)
    message = str(caught.value)
    assert EXPECTED[name] in message
    assert "\n" not in message
    assert name in message


def test_all_white_says_no_ink_found():
    with pytest.raises(InputError, match="no ink found"):
        read_digit(HERE / "all_white.png")


def test_sixteen_bit_grey_is_scaled_not_clipped():
    grey = to_grey(open_image(HERE / "grey16_dark_range.png"))
    # Converting with mode "L" would clip everything above 255 to white.
    assert 0.4 < grey.min() < 0.5 and grey.max() > 0.95


def test_transparent_background_is_paper():
    grey = to_grey(open_image(HERE / "rgba_transparent.png"))
    assert np.median(grey) > 0.95  # the transparent (black underneath) canvas turned white


def test_animation_gives_its_first_frame():
    digit = read_digit(HERE / "animated.gif")
    assert correlation(digit, read_digit(HERE / "grey8.png")) > 0.9


def test_size_cap_is_checked_before_decoding(monkeypatch):
    from PIL import ImageFile

    def refuse(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    with pytest.raises(InputError, match=f"{MAX_PIXELS // 1_000_000} MP"):
        open_image(HERE / "bomb.png")


def test_bytes_input_and_missing_file():
    digit = read_digit((HERE / "rgb.jpg").read_bytes())
    assert_digit(digit)
    with pytest.raises(InputError, match="does not exist"):
        read_digit(HERE / "no-such-file.png")
    with pytest.raises(InputError, match="folder"):
        read_digit(HERE)


def test_non_utf8_file_name(tmp_path):
    # Bytes are image content; a non-UTF-8 name arrives as str with surrogates (like argv).
    path = os.fsdecode(os.fsencode(tmp_path) + b"/seven-\xff.png")
    Image.open(HERE / "grey8.png").save(path, "PNG")
    assert_digit(read_digit(path))
    assert display_name(path).endswith("seven-\\xff.png")
    with pytest.raises(InputError) as caught:
        read_digit(path[:-4] + ".missing")
    str(caught.value).encode("utf-8")  # printable: no lone surrogates


MODES = ["1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "I;16", "I", "F"]


@st.composite
def pictures(draw):
    width = draw(st.integers(1, 48))
    height = draw(st.integers(1, 48))
    mode = draw(st.sampled_from(MODES))
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["noise", "flat", "blob"]))
    rng = np.random.default_rng(seed)
    if kind == "noise":
        pixels = rng.integers(0, 256, (height, width), dtype=np.uint8)
    elif kind == "flat":
        pixels = np.full((height, width), rng.integers(0, 256), np.uint8)
    else:
        pixels = np.full((height, width), 255, np.uint8)
        pixels[height // 4: 3 * height // 4 + 1, width // 3: 2 * width // 3 + 1] = 0
    image = Image.fromarray(pixels).convert(mode if mode not in ("I;16", "I", "F") else "L")
    if mode in ("I;16", "I", "F"):
        image = Image.fromarray(pixels.astype(np.uint16) * 257) if mode == "I;16" else image.convert(mode)
    fmt = draw(st.sampled_from(["PNG", "TIFF", "BMP", "GIF", "WEBP", "JPEG"]))
    buffer = io.BytesIO()
    try:
        image.save(buffer, fmt)
    except (OSError, ValueError, KeyError):  # not every mode exists in every format
        image.convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pictures())
def test_any_picture_gives_a_digit_or_an_input_error(data):
    try:
        digit = read_digit(data)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert_digit(digit)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_any_bytes_give_a_digit_or_an_input_error(data, with_png_signature):
    if with_png_signature:
        data = b"\x89PNG\r\n\x1a\n" + data
    try:
        digit = read_digit(data)
    except InputError:
        pass
    else:
        assert_digit(digit)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2000))
def test_truncated_copies_of_good_files_never_escape(cut):
    data = (HERE / "grey8.png").read_bytes()
    try:
        read_digit(data[: len(data) * cut // 2000])
    except InputError:
        pass
