"""Images without their metadata, standing upright.

A phone photo carries where and when it was taken (EXIF GPS), the camera's serial number,
editing history (XMP), press captions (IPTC), a comment and a small thumbnail of the
unedited picture, which may show what a crop removed. None of it belongs in a chat or in a
customer's WhatsApp. The pixels are decoded and written anew, so only what Pillow is told
to write ends up in the file: the picture, nothing else. The orientation tag is applied
first (the picture would lie on its side without it). The colour profile goes too (a
profile carries free text); colours of wide-gamut photos shift slightly, which is accepted.

Decoding is CPU work: callers await :func:`strip_in_background` (one thread for it).
"""

from __future__ import annotations

import asyncio
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ImageUndecodable
from bot.media.limits import base_type
from bot.private_files import open_private

if TYPE_CHECKING:
    from PIL import Image

JPEG_QUALITY = 90
"""Re-encoding is unavoidable (the orientation is applied to the pixels); 90 keeps photos
visually unchanged at about the size they came with."""

_FORMAT_FOR = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
_ONE_AT_A_TIME = threading.Lock()
"""One picture decoded at a time in the whole process: a 12-megapixel photo takes 36 MB
decoded, and several workers stripping at once would multiply the bot's memory."""
_MAX_PIXELS = 40_000_000
"""WhatsApp sends photos at most 4096 pixels wide; a picture of more than 40 megapixels
(120 MB decoded) within WhatsApp's 5 MB is a decompression bomb, not a photo."""


@dataclass(frozen=True)
class ImageFacts:
    """What the stripped file is: its size in pixels (upright) and its actual type."""

    width: int
    height: int
    mime: str


_STRIPPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="empfang-strip")
"""The one thread that strips pictures. Run in the default pool instead, each picture landed
in whichever worker thread was free, and glibc gives each thread its own malloc arena that
keeps what a decoded photo used: twelve 2 MB photos left the bot 70 MB larger
(``bench/media.py``); in one thread, 20 MB."""


async def strip_in_background(source: Path, target: Path, mime: str) -> ImageFacts:
    """:func:`strip_image` off the event loop, in the stripping thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_STRIPPER, strip_image, source, target, mime)


def strip_image(source: Path, target: Path, mime: str) -> ImageFacts:
    """Write ``source``'s picture to ``target`` upright and without any metadata.

    The file is written in the format it really has, which may differ from the declared
    ``mime`` (the returned facts say which). Raises :class:`ImageUndecodable` for anything
    that is not a whole JPEG, PNG or WebP picture.
    """
    declared = base_type(mime)
    with _ONE_AT_A_TIME:
        return _strip(source, target, declared)


def _strip(source: Path, target: Path, declared: str) -> ImageFacts:
    # Pillow is imported on the first picture, not at start: it costs every idle bot
    # memory, also one whose customers never send a photo (bench/idle_rss.py).
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source) as opened:
                if opened.format not in _FORMAT_FOR.values():
                    raise ImageUndecodable(
                        f"a file declared as {declared} is no JPEG, PNG or WebP picture",
                        mime=declared,
                        size=None,
                    )
                if opened.width * opened.height > _MAX_PIXELS:
                    raise ImageUndecodable(
                        f"a {declared} picture of {opened.width}×{opened.height} pixels is"
                        " too large to be a photo",
                        mime=declared,
                        size=None,
                    )
                kind = str(opened.format)
                animated = bool(getattr(opened, "is_animated", False))
                facts = _write_clean(opened, target, kind, animated)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageUndecodable(
            f"a file declared as {declared} cannot be read as a picture",
            mime=declared,
            size=None,
        ) from None
    except (OSError, SyntaxError, ValueError) as error:  # truncated or damaged data
        raise ImageUndecodable(
            f"a {declared} picture is damaged ({type(error).__name__})",
            mime=declared,
            size=None,
        ) from None
    return facts


def _write_clean(opened: Image.Image, target: Path, kind: str, animated: bool) -> ImageFacts:
    """Save the pixels alone. Pillow copies ``info`` (ICC profile, comment, EXIF, XMP)
    into some formats when saving, so every frame's ``info`` is emptied first, and nothing
    is passed that would carry metadata."""
    from PIL import ImageOps

    frames: list[Image.Image] = [opened]
    durations = [0]
    if animated:  # stickers, the only animated kind, carry no orientation
        frames, durations = [], []
        for index in range(getattr(opened, "n_frames", 1)):
            opened.seek(index)
            durations.append(int(opened.info.get("duration", 0) or 0))
            frames.append(opened.copy())
    else:  # in place: a decoded photo is tens of MB, a copy would double that
        ImageOps.exif_transpose(opened, in_place=True)
    for frame in frames:
        frame.info = {}
    first = frames[0]
    options: dict[str, object] = {}
    if kind == "JPEG":
        if first.mode not in ("RGB", "L"):
            first = first.convert("RGB")
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif kind == "WEBP":
        options = {"lossless": False, "quality": JPEG_QUALITY}
        if len(frames) > 1:
            options |= {"save_all": True, "append_images": frames[1:], "duration": durations}
    with os.fdopen(open_private(target, os.O_WRONLY | os.O_TRUNC), "wb") as file:
        first.save(file, format=kind, **options)
    mime = next(m for m, f in _FORMAT_FOR.items() if f == kind)
    return ImageFacts(width=first.width, height=first.height, mime=mime)
