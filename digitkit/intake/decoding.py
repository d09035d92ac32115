"""Decoding image bytes with bounded memory, into an image no larger than digits need.

What a user may hand us: PNG, JPEG, BMP, GIF, TIFF, WebP in any mode Pillow reads (1-bit,
8- and 16-bit grey, RGB, RGBA, LA, palette with transparency, CMYK). EXIF orientation is
honoured; an animation or multi-page TIFF gives its first frame.

Memory is bounded in three steps:

1. the size is checked from the header, before any pixel is decoded (:data:`MAX_PIXELS`,
   :data:`MAX_SIDE`);
2. a large JPEG is decoded at 1/2, 1/4 or 1/8 scale by the JPEG decoder itself
   (``Image.draft``), never below :data:`DECODE_SIDE` a side (one of at most 900 px, which
   preprocessing averages to 160 px anyway, never below twice that); a colour JPEG of at
   most 900 px is decoded straight to grey (its luma channel), a larger one keeps its colour
   for the photo step's colour-aware ink;
3. anything still larger is shrunk in C by an integer factor (``Image.reduce``, a box
   average) to at most ``2 * DECODE_SIDE`` a side before any float array is made.

So the largest array is the decoded image itself (at most 4 bytes x 40 MP = 160 MB, for
RGBA, CMYK or 32-bit grey), next to the file's bytes (at most
:data:`~digitkit.intake.reading.MAX_FILE_BYTES`). docs/predict.md gives the measured peak.
"""

from __future__ import annotations

import io
import warnings

from digitkit.errors import DigitkitError, InputError

# A digit needs a few thousand pixels; 40 megapixels still admits any phone photo or A4
# scan at 600 dpi (35 MP). Pillow's own bomb limit (89 MP warning, 179 MP error) is far looser.
MAX_PIXELS = 40_000_000
MAX_SIDE = 30_000
MIN_SIDE = 2
# Large images are shrunk to about this many pixels a side before any float work: a digit
# that fills a tenth of the frame still gets ~100 px, five times the 20 px MNIST box.
DECODE_SIDE = 1024
# Key in ``image.info`` of the (width, height) the file holds, upright, before any shrinking.
ORIGINAL_SIZE = "digitkit_original_size"
# Modes Image.reduce handles directly; others are converted first (see _reducible).
_REDUCIBLE = {"L", "LA", "La", "RGB", "RGBA", "RGBa", "CMYK", "I", "F"}


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def check_size(size: tuple[int, int], name: str) -> None:
    """Refuse images too small to hold a digit or too large to decode within the memory bound."""
    width, height = size
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InputError(f"{name} is {width}x{height} pixels: too small to hold a digit")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise InputError(f"{name} is {width}x{height} pixels; digitkit reads images up to {MAX_SIDE:,} pixels a "
                         f"side and {MAX_PIXELS // 1_000_000} MP", hint="crop or shrink it around the digit")
    if width * height > MAX_PIXELS:
        raise InputError(f"{name} is {width}x{height} pixels ({width * height / 1e6:.1f} MP); digitkit reads "
                         f"images up to {MAX_PIXELS // 1_000_000} MP", hint="crop or shrink it around the digit")


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


def _check_png_header(data: bytes, name: str) -> None:
    """Pillow calls a 0x0 PNG "unidentified"; say what is really wrong with it."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR" and len(data) >= 24:
        check_size((int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")), name)


def decode(data: bytes, name: str = "<bytes>", max_side: int | None = DECODE_SIDE):
    """Decode an image's bytes: first frame, EXIF-upright, shrunk for digit work.

    Args:
        data: the file's bytes (see :func:`~digitkit.intake.reading.read_bytes`).
        name: the input's name, for messages.
        max_side: shrink (JPEG draft, then integer box reduction) while the longer side
            stays at least this; ``None`` keeps full resolution (still size-checked).

    Returns:
        A loaded ``PIL.Image.Image`` of at least 2x2 pixels.

    Raises:
        InputError: not an image, truncated, too small or too large; a decoder error of any
            kind is reported the same way, as one line.
    """
    if not data:
        raise InputError(f"{name} is empty (0 bytes)")
    try:
        return _decode(data, name, max_side)
    except DigitkitError:
        raise
    except MemoryError:
        raise InputError(f"{name} could not be decoded: out of memory") from None
    except Exception as exc:  # a decoder error of any type must reach the user as one line
        raise InputError(f"{name} could not be decoded: {_short(exc)}") from None


def _decode(data: bytes, name: str, max_side: int | None):
    from PIL import Image, UnidentifiedImageError

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
        check_size(image.size, name)  # from the header, before any pixel is decoded
        image.seek(0)  # first frame of an animation or a multi-page TIFF
        header_size = image.size  # the draft changes ``size``
        if image.format == "JPEG":
            _draft(image, max_side)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InputError(f"{name} is truncated or damaged ({_short(exc)})") from None
        orientation = _orientation(image)
        width, height = header_size
        original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)
        if max_side:
            image = shrink(image, max_side)  # a new image: its EXIF is gone, hence read first
        image = _upright(image, orientation)
    check_size(image.size, name)
    image.info[ORIGINAL_SIZE] = original
    return image


def _draft(image, max_side: int | None) -> None:
    """Ask the JPEG decoder for less: grey straight from a colour JPEG (its Y channel, the
    ITU-R 601 luma ``convert("L")`` computes, to a level's rounding), which skips the colour
    conversion and half of the decode's CPU; and a large one at 1/2, 1/4 or 1/8 scale, never
    below ``max_side`` a side (one call: the decoder takes one draft request)."""
    from digitkit.intake.paper import PHOTO_SIDE

    # Pictures up to PHOTO_SIDE are read in grey; a larger photo keeps its colour, for the
    # colour-aware ink of the photo step (grey.picture_or_bytes). A CMYK JPEG keeps its mode
    # (the decoder cannot).
    mode = "L" if image.mode == "RGB" and max(image.size) <= PHOTO_SIDE else image.mode
    size = (max_side, max_side) if max_side and min(image.size) > 2 * max_side else None
    if size is None and max_side:
        size = _working_draft(image.size)
    if mode != image.mode or size is not None:
        image.draft(mode, size)


def _working_draft(size: tuple[int, int]) -> tuple[int, int] | None:
    """The draft size of a JPEG small enough for preprocessing's working-size path (longer
    side at most :data:`~digitkit.intake.paper.PHOTO_SIDE`): that path averages the picture
    down to :data:`~digitkit.intake.preprocess.WORK_SIDE` a side anyway, so it is decoded at
    the smallest 1/2, 1/4 or 1/8 scale that keeps twice that (a digit small enough to be
    re-cut from the full picture still gets ~WORK_SIDE pixels). ``None``: full size.
    Larger pictures keep their pixels: a thin stroke of a small digit in a phone photo is
    found before anything is averaged (:mod:`digitkit.intake.paper`)."""
    from digitkit.intake.paper import PHOTO_SIDE
    from digitkit.intake.preprocess import WORK_SIDE

    longer = max(size)
    if longer > PHOTO_SIDE:
        return None
    scale = next((s for s in (8, 4, 2) if longer // s >= 2 * WORK_SIDE), 1)
    if scale == 1:
        return None
    # Pillow picks the largest of 8, 4, 2 that fits ``size // draft``: exactly ``scale`` here.
    return size[0] // scale, size[1] // scale


def _orientation(image) -> int:
    if image.format in ("PNG", "JPEG", "WEBP", "GIF", "BMP") and "exif" not in image.info:
        return 1  # these keep EXIF only in info["exif"]: no block, no orientation (getexif costs ~20 us)
    try:
        return int(image.getexif().get(0x0112, 1))  # EXIF "Orientation"
    except Exception:  # a damaged EXIF block is no reason to refuse the pixels
        return 1


def _upright(image, orientation: int):
    """Apply an EXIF orientation (2..8) as ``ImageOps.exif_transpose`` would."""
    from PIL import Image

    t = Image.Transpose
    method = {2: t.FLIP_LEFT_RIGHT, 3: t.ROTATE_180, 4: t.FLIP_TOP_BOTTOM, 5: t.TRANSPOSE, 6: t.ROTATE_270,
              7: t.TRANSVERSE, 8: t.ROTATE_90}.get(orientation)
    return image.transpose(method) if method is not None else image


def shrink(image, max_side: int):
    """Box-reduce by an integer factor so the longer side is below ``2 * max_side`` (in C)."""
    factor = max(image.size) // max_side
    if factor < 2:
        return image
    factor = min(factor, min(image.size) // MIN_SIDE)
    if factor < 2:
        return image
    return _reducible(image).reduce(factor)


def _reducible(image):
    """The image in a mode ``reduce`` accepts, keeping transparency and bit depth."""
    mode = image.mode
    if mode in _REDUCIBLE and "transparency" not in image.info:
        return image
    if mode.startswith("I;16"):
        return image.convert("I")
    if mode == "1":
        return image.convert("L")
    has_alpha = "transparency" in image.info or mode in ("PA", "LA", "La", "RGBA", "RGBa")
    if mode in ("L", "LA", "La") or (mode in ("P", "PA") and _palette_is_grey(image)):
        return image.convert("LA" if has_alpha else "L")
    return image.convert("RGBA" if has_alpha else "RGB")


def _palette_is_grey(image) -> bool:
    palette = image.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette) - 2, 3))
