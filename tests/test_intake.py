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
from digitkit.intake.boxed import box_stretch_ratio, restore
from digitkit.intake.strokes import stretch_ratio
from digitkit.intake.upscaled import native_grid

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
    assert np.allclose(native_grid(blocky / 255.0), small / 255.0, atol=1e-6)
    assert native_grid(np.asarray(Image.open(HERE / "grey8.png"), np.float32) / 255) is None
    assert_digit(to_digit(255 - blocky))


@pytest.mark.parametrize("factor", [3, 8, 13, 22])
def test_bilinear_upscale_of_a_tiny_digit_gives_back_its_grid(seven, factor):
    small = Image.fromarray((seven * 255).astype(np.uint8)).resize((8, 8), Image.Resampling.BOX)
    smooth = np.asarray(small.resize((8 * factor, 8 * factor), Image.Resampling.BILINEAR), np.float32) / 255
    grid = native_grid(smooth)
    assert grid is not None and grid.shape == (8, 8)
    assert np.abs(grid - np.asarray(small, np.float32) / 255).max() < 0.03


def test_pictures_that_are_not_enlargements_have_no_grid(seven):
    assert native_grid(seven) is None  # 28x28 = 4 x 7: tried, and rejected
    photo = np.asarray(Image.fromarray((seven * 255).astype(np.uint8)).resize((96, 96), Image.Resampling.BICUBIC))
    assert native_grid(photo / 255.0) is None  # smooth, but from 28x28, not a tiny grid


def test_box_stretch_ratio_reads_a_solid_slab_as_a_narrow_one():
    ring = np.ones((40, 40), bool)
    ring[6:34, 6:34] = False  # a square "0" filling its box, strokes 6 px = 0.15 of its height
    assert box_stretch_ratio(ring) == pytest.approx(1.0, abs=0.1)
    narrow = np.ones((40, 20), bool)
    narrow[6:34, 6:14] = False  # a "0" half as wide, stretched to fill the square box
    assert box_stretch_ratio(np.repeat(narrow, 2, axis=1)) == pytest.approx(2.0, abs=0.2)
    slab = np.ones((16, 16), bool)  # an upright "1" stretched to fill the box
    assert box_stretch_ratio(slab) > 4


def test_restore_gives_a_smooth_binary_outline():
    scan = np.zeros((16, 16), np.float32)
    scan[2:14, 3:13] = 1.0
    scan[5:11, 6:10] = 0.0
    fine = restore(scan)
    assert fine.shape[0] == 160 and set(np.unique(fine)) <= {0.0, 1.0}
    assert restore(np.zeros((16, 16), np.float32)).max() == 0.0  # nothing to restore: no ink


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
    kind = draw(st.sampled_from(["canvas", "binary", "blocky", "smooth", "grey"]))
    if kind == "canvas":
        pen = tuple(int(v) for v in rng.integers(0, 256, 3))
        image = canvas(ink, pen, draw(st.booleans()))
    elif kind == "binary":
        image = Image.fromarray(ink < 0.5).convert("1")
    elif kind == "blocky":
        image = Image.fromarray(np.kron((ink * 255).astype(np.uint8), np.ones((draw(st.integers(2, 12)),) * 2,
                                                                                np.uint8)))
    elif kind == "smooth":  # a tiny grey digit enlarged with bilinear sampling
        grey = Image.fromarray((rng.random((side, side)) * ink * 255).astype(np.uint8))
        factor = draw(st.integers(2, 12))
        image = grey.resize((side * factor, side * factor), Image.Resampling.BILINEAR)
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


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 16), st.integers(1, 16), st.integers(1, 14), st.integers(0, 2**32 - 1), st.booleans())
def test_grid_finding_and_restoring_never_raise(rows, cols, factor, seed, smooth):
    """The new steps on their own: any enlargement (or not) of any grid, any ink."""
    rng = np.random.default_rng(seed)
    grid = rng.random((rows, cols)).astype(np.float32)
    method = Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST
    picture = np.asarray(Image.fromarray(grid, "F").resize((cols * factor, rows * factor), method), np.float32)
    found = native_grid(np.clip(picture, 0, 1))
    if found is not None:
        assert found.shape[0] <= 16 and found.shape[1] <= 16 and found.dtype == np.float32
        assert 0.0 <= found.min() <= found.max() <= 1.0
    assert 0.7 <= box_stretch_ratio(grid > 0.5) <= 6.0
    fine = restore(grid, float(rng.uniform(0.2, 0.8)))
    assert fine.ndim == 2 and fine.size and np.isin(fine, (0.0, 1.0)).all()


@pytest.mark.parametrize("size", [1, 2, 7, 100])
def test_median_and_percentile_by_selection_match_numpys(size):
    # The intake and the reader use these instead of np.median / np.percentile, which import
    # numpy.ma on first use (a cold start's milliseconds); they must answer the same.
    from digitkit.intake.strokes import median, percentile

    values = np.random.default_rng(size).random(size).astype(np.float32)
    assert median(values) == pytest.approx(float(np.median(values)))
    for q in (0, 10, 50, 90, 99.7, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))

