"""digitkit.intake: bounded reads, decoding limits, alpha as ink, stroke-aware steps, properties."""

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
from digitkit.intake import MAX_SIDE, decode, read_bytes, read_digit, to_digit, to_grey
from digitkit.intake.strokes import native_blocks, stretch_ratio

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
from make_images import HERE, png_with_header  # noqa: E402


def correlation(a, b) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def assert_digit(digit) -> None:
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    assert np.isfinite(digit).all() and 0.0 <= digit.min() <= digit.max() <= 1.0


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def seven() -> np.ndarray:
    """The fixture digit's ink amount, 0..1 (1 = ink), 144x144."""
    return 1.0 - np.asarray(Image.open(HERE / "grey8.png"), np.float32) / 255.0


def canvas(ink: np.ndarray, pen, transparent_black: bool = True) -> Image.Image:
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., :3] = pen
    if transparent_black:
        rgba[ink == 0, :3] = 0
    rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
    return Image.fromarray(rgba, "RGBA")


# --- reading -------------------------------------------------------------------------------

def test_read_bytes_refuses_special_files_without_reading(tmp_path):
    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        read_bytes(fifo)  # would block forever without O_NONBLOCK
    zero = tmp_path / "zero.png"
    zero.symlink_to("/dev/zero")
    with pytest.raises(InputError, match="a device"):
        read_bytes(zero)
    with pytest.raises(InputError, match="folder"):
        read_bytes(tmp_path)


def test_read_bytes_caps_files_bytes_and_stdin(tmp_path, monkeypatch):
    big = tmp_path / "big.png"
    big.write_bytes(b"x" * 101)
    with pytest.raises(InputError, match="larger than"):
        read_bytes(big, limit=100)
    assert read_bytes(big, limit=101) == b"x" * 101
    with pytest.raises(InputError, match="larger than"):
        read_bytes(b"y" * 11, limit=10)

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Endless())))
    with pytest.raises(InputError, match="<stdin> is larger than"):
        read_bytes("-", limit=1000)


# --- decoding ------------------------------------------------------------------------------

def test_long_thin_header_says_which_limit(tmp_path):
    with pytest.raises(InputError) as caught:
        decode(png_with_header(2, 65535), "thin.png")
    assert f"{MAX_SIDE:,} pixels a side" in str(caught.value) and "(0 MP)" not in str(caught.value)


def test_large_images_are_shrunk_while_decoding_and_keep_orientation():
    image = Image.new("L", (3000, 1000), 255)
    image.paste(0, (100, 100, 400, 900))
    decoded = decode(png_bytes(image), "wide.png")
    assert max(decoded.size) < 2048 and decoded.size[0] > decoded.size[1]
    assert decoded.info["digitkit_original_size"] == (3000, 1000)


# --- alpha ---------------------------------------------------------------------------------

@pytest.mark.parametrize("pen", [(255, 255, 255), (0, 0, 0), (250, 220, 30), (20, 90, 255)])
@pytest.mark.parametrize("transparent_black", [True, False])
def test_any_pen_colour_on_a_transparent_canvas_reads_as_the_digit(seven, pen, transparent_black):
    digit = read_digit(png_bytes(canvas(seven, pen, transparent_black)))
    assert correlation(digit, read_digit(HERE / "grey8.png")) > 0.95


def test_photo_with_transparent_margins_is_composited_on_white(seven):
    # Opaque paper with dark ink, surrounded by transparency: the colour, not the alpha, is the digit.
    rgb = np.repeat(((1.0 - seven) * 255).astype(np.uint8)[..., None], 3, axis=2)
    alpha = np.zeros(seven.shape, np.uint8)
    alpha[10:-10, 10:-10] = 255
    image = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    grey = to_grey(image)
    assert grey[0, 0] == 1.0  # transparent margin is paper
    assert correlation(to_digit(image), read_digit(HERE / "grey8.png")) > 0.9


# --- stroke-aware steps --------------------------------------------------------------------

def test_stretch_ratio_measures_a_sideways_stretch():
    ring = np.zeros((40, 40), bool)
    ring[4:36, 4:36] = True
    ring[8:32, 8:32] = False  # a square "0" with strokes 4 px wide both ways
    assert stretch_ratio(ring) == pytest.approx(1.0, abs=0.1)
    stretched = np.repeat(ring, 2, axis=1)  # twice as wide: vertical strokes 8 px wide
    assert stretch_ratio(stretched) == pytest.approx(2.0, abs=0.2)


def test_blocky_tiny_digit_is_found_and_box_stretch_undone(seven):
    small = np.asarray(Image.fromarray((seven * 255).astype(np.uint8)).resize((8, 8), Image.Resampling.BOX))
    blocky = np.kron(small, np.ones((12, 12), np.uint8))
    assert native_blocks(blocky / 255.0) == 12
    assert native_blocks(np.asarray(Image.open(HERE / "grey8.png"), np.float32) / 255) == 1
    assert_digit(to_digit(255 - blocky))


def test_box_stretched_one_becomes_thin_again():
    one = np.zeros((16, 16), np.float32)
    one[:, :] = 0.0
    one[:, 5:11] = 1.0  # a vertical bar stretched to fill the box, 6 of 16 px wide
    digit = to_digit(one)
    cols = np.flatnonzero(digit.max(axis=0) > 0.3)
    assert cols[-1] - cols[0] + 1 <= 8  # MNIST's "1" is narrow, not a 20 px wide block


# --- properties ----------------------------------------------------------------------------

@st.composite
def drawings(draw):
    """Decodable images people send: canvases in any pen colour, binary scans, blocky upscales."""
    side = draw(st.integers(4, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ink = (rng.random((side, side)) < draw(st.floats(0.0, 1.0))).astype(np.float32)
    kind = draw(st.sampled_from(["canvas", "binary", "blocky", "grey"]))
    if kind == "canvas":
        pen = tuple(int(v) for v in rng.integers(0, 256, 3))
        image = canvas(ink, pen, draw(st.booleans()))
    elif kind == "binary":
        image = Image.fromarray(ink < 0.5).convert("1")
    elif kind == "blocky":
        image = Image.fromarray(np.kron((ink * 255).astype(np.uint8), np.ones((draw(st.integers(2, 12)),) * 2,
                                                                                np.uint8)))
    else:
        image = Image.fromarray((rng.random((side, side)) * 255).astype(np.uint8))
    return png_bytes(image)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawings())
def test_any_drawing_gives_a_digit_or_an_input_error(data):
    try:
        digit = read_digit(data)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert_digit(digit)
