"""Opening a user's image file safely and turning it into a grey array.

Every image file that enters digitkit (predict, preview, image-folder datasets) goes
through :func:`open_image`, then :func:`to_grey`, then
:func:`digitkit.preprocess.preprocess_image`; :func:`load_digit` does all three.

What a user may hand us, and what happens to it:

- PNG, JPEG, BMP, GIF, TIFF, WebP in any mode Pillow reads: 1-bit, 8- and 16-bit grey
  (16-bit is scaled, never clipped to white), RGB, RGBA and LA (a transparent background is
  paper, not ink: composited onto white), palette images (with transparency), CMYK.
- EXIF orientation is honoured; an animation gives its first frame.
- Images larger than :data:`MAX_PIXELS` are refused from the header, before decoding.
- Empty, truncated or non-image files (an HTML page saved as ``.png``), 0x0 and 1x1
  images raise :class:`~digitkit.errors.InputError` with one line saying why. Nothing else
  escapes: a decoder bug in Pillow is reported the same way.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np

from digitkit.errors import DigitkitError, InputError

# A digit needs a few thousand pixels; 40 megapixels still admits any phone photo or A4
# scan at 600 dpi (35 MP), yet keeps decoding under ~160 MB. Pillow's own bomb limit
# (89 MP warning, 179 MP error) is far looser and only a warning below 179 MP.
MAX_PIXELS = 40_000_000
MAX_SIDE = 30_000
MIN_SIDE = 2
# Reading a multi-gigabyte file into memory is refused before Pillow sees it.
MAX_FILE_BYTES = 200 * 1024 * 1024

ImageSource = Union[str, os.PathLike, bytes, bytearray, memoryview]


def display_name(source: ImageSource) -> str:
    """A printable name for a path (undecodable bytes shown as ``\\xNN``) or ``<bytes>``."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "<bytes>"
    raw = os.fsencode(source)
    return raw.decode("utf-8", errors="backslashreplace")


def _read_source(source: ImageSource) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    name = display_name(source)
    path = Path(os.fsdecode(source))
    try:
        if path.is_dir():
            raise InputError(f"{name} is a folder, not an image")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{name} is {size / 1e6:.0f} MB; digitkit reads images up to "
                             f"{MAX_FILE_BYTES // (1024 * 1024)} MB")
        return path.read_bytes(), name
    except FileNotFoundError:
        raise InputError(f"{name} does not exist") from None
    except PermissionError:
        raise InputError(f"{name} is not readable (permission denied)") from None
    except OSError as exc:
        raise InputError(f"{name} could not be read: {exc.strerror or exc}") from None


def _sniff_not_an_image(data: bytes) -> str | None:
    """A better reason than "cannot identify image file" for common non-images."""
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<svg")):
        return "it is an HTML/XML/SVG text file, not a raster image"
    try:
        data[:512].decode("utf-8")
        return "it looks like a text file, not an image"
    except UnicodeDecodeError:
        return None


def open_image(source: ImageSource, max_side: int | None = None):
    """Open and fully decode an image file (path or bytes), first frame, EXIF-upright.

    Args:
        source: a file path, or the file's bytes (e.g. read from stdin).
        max_side: when set, a large JPEG may be decoded at 1/2, 1/4 or 1/8 scale, never
            below this many pixels a side (much faster; digits need few pixels).

    Returns:
        A loaded ``PIL.Image.Image`` of at least 2x2 pixels, in its original mode.

    Raises:
        InputError: the file is missing, empty, not an image, truncated, too small or too large.
    """
    data, name = _read_source(source)
    if not data:
        raise InputError(f"{name} is empty (0 bytes)")
    try:
        return _decode(data, name, max_side)
    except DigitkitError:
        raise
    except Exception as exc:  # a decoder error of any type must reach the user as one line
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(f"{name} could not be decoded: {detail}") from None


def _decode(data: bytes, name: str, max_side: int | None = None):
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        # Our own cap is stricter; Pillow's warning would only be noise on stderr.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            _check_png_header(data, name)
            why = _sniff_not_an_image(data) or "not an image format digitkit reads (PNG, JPEG, BMP, GIF, TIFF, WebP)"
            raise InputError(f"{name} is not an image: {why}") from None
        except Image.DecompressionBombError:
            raise InputError(f"{name} claims more than {2 * Image.MAX_IMAGE_PIXELS / 1e6:.0f} MP; digitkit reads "
                             f"images up to {MAX_PIXELS // 1_000_000} MP", hint="crop or shrink it around the digit",
                             ) from None
        _check_size(image.size, name)  # from the header, before any pixel is decoded
        image.seek(0)  # first frame of an animation or a multi-page TIFF
        if max_side and image.format == "JPEG" and min(image.size) > 2 * max_side:
            image.draft(image.mode, (max_side, max_side))
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputError(f"{name} is truncated or damaged ({_short(exc)})") from None
        image = ImageOps.exif_transpose(image) or image
    _check_size(image.size, name)
    return image


def _check_png_header(data: bytes, name: str) -> None:
    """Pillow calls a 0x0 PNG "unidentified"; say what is really wrong with it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        _check_size((width, height), name)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _check_size(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InputError(f"{name} is {width}x{height} pixels: too small to hold a digit")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise InputError(
            f"{name} is {width}x{height} pixels ({width * height / 1e6:.0f} MP); digitkit reads images up to "
            f"{MAX_PIXELS // 1_000_000} MP", hint="crop or shrink it around the digit"
        )


def to_grey(image) -> np.ndarray:
    """Grey levels in [0, 1] (float32, 0 = black), whatever the image mode.

    Transparency is composited onto white (paper), 16- and 32-bit grey is scaled by its
    bit depth rather than clipped, colour uses ITU-R 601 luma.
    """

    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return (np.asarray(image, dtype=np.float64) / 65535.0).astype(np.float32)
    if mode == "I":
        values = np.asarray(image, dtype=np.float64)
        # 16-bit PNGs decode to mode I; a genuine 32-bit image is rare enough to scale by its peak.
        top = 65535.0 if values.max(initial=0) <= 65535 else float(values.max())
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)
    if mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = 1.0 if values.max(initial=0) <= 1.0 else (255.0 if values.max() <= 255 else float(values.max()))
        return np.clip(values / top, 0.0, 1.0).astype(np.float32)
    if mode == "1":
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info) \
        or (mode in ("L", "RGB") and "transparency" in image.info)
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[..., 3:4]
        rgb = rgba[..., :3] * alpha + (1.0 - alpha)  # onto white paper
        return _luma(rgb)
    if mode not in ("L", "RGB"):
        image = image.convert("RGB")  # CMYK, YCbCr, LAB, HSV, P without transparency
    if mode != "L":
        image = image.convert("L")  # ITU-R 601 luma, in C
    return np.asarray(image, dtype=np.float32) / 255.0


def _luma(rgb: np.ndarray) -> np.ndarray:
    grey = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.clip(grey, 0.0, 1.0).astype(np.float32)


def load_grey(source: ImageSource, max_side: int | None = None) -> np.ndarray:
    """Open an image file and return its grey levels (float32 in [0, 1], any size)."""
    return to_grey(open_image(source, max_side))


def load_digit(source: ImageSource, *, preprocess: bool = True) -> np.ndarray:
    """Load an image file as an MNIST-style digit: float32 28x28 in [0, 1], white ink on black.

    Args:
        source: a file path or the file's bytes.
        preprocess: ``False`` only resizes to 28x28 (for inputs already in MNIST form).

    Raises:
        InputError: unreadable file, or no ink found.
    """
    from digitkit.preprocess import WORK_SIDE, preprocess_image, resize_only

    grey = load_grey(source, max_side=2 * WORK_SIDE if preprocess else None)
    name = display_name(source)
    try:
        return preprocess_image(grey) if preprocess else resize_only(grey)
    except InputError as exc:
        raise InputError(f"{name}: {exc.message}", hint=exc.hint) from None
