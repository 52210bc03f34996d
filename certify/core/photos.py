"""A candidate's photo (考生证照) as the exam records want it: JPEG, 20–200 KB, at least
144×192 pixels, upright, in portrait 3:4.

A phone's photo arrives as JPEG, PNG or WebP of any size, often on its side (the camera
stores the turn in EXIF) and larger than any form allows. It is opened safely (a pixel
limit against decompression bombs, the file's own format checked, not its name), turned
upright, cropped to 3:4 about its centre, scaled down to 480×640 at most and saved again as
JPEG, stepping the quality down until it fits the size limit. EXIF — the phone's location
among it — is not kept.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageOps, ImageStat, UnidentifiedImageError

MIN_WIDTH, MIN_HEIGHT = 144, 192  # portrait; the rule's "≥ 192×144"
MAX_WIDTH, MAX_HEIGHT = 480, 640
MIN_BYTES, MAX_BYTES = 20 * 1024, 200 * 1024
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo; anything larger is refused unread
ACCEPTED = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "MPO": "JPEG"}
FLAT = 4.0  # a picture whose brightness barely varies is blank, not a face
QUALITIES = (92, 88, 84, 80, 75, 70, 65, 60)
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses larger images before decoding them


class PhotoRefused(ValueError):
    """The photo cannot be used; the message says why and what to do, for the applicant."""


@dataclass(frozen=True)
class Photo:
    jpeg: bytes
    width: int
    height: int


def prepare_photo(data: bytes) -> Photo:
    """The photo to store, or PhotoRefused saying what to change."""
    if not data:
        raise PhotoRefused(_("Choose a photo first."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoRefused(
            _("The photo is larger than 15 MB: take it again or choose a smaller one.")
        )
    image = _open(data)
    image = ImageOps.exif_transpose(image)
    image = image.convert("RGB")
    if min(image.size) < MIN_WIDTH or max(image.size) < MIN_HEIGHT:
        raise PhotoRefused(
            _(
                "The photo is %(w)d×%(h)d pixels; it must be at least %(mw)d×%(mh)d. "
                "Take it again with the phone's camera.",
                w=image.width,
                h=image.height,
                mw=MIN_WIDTH,
                mh=MIN_HEIGHT,
            )
        )
    image = _portrait(image)
    if image.width < MIN_WIDTH or image.height < MIN_HEIGHT:
        raise PhotoRefused(
            _(
                "Cut to an upright 3:4 photo it is %(w)d×%(h)d pixels; it must be at least "
                "%(mw)d×%(mh)d. Take it again, holding the phone upright.",
                w=image.width,
                h=image.height,
                mw=MIN_WIDTH,
                mh=MIN_HEIGHT,
            )
        )
    if max(ImageStat.Stat(image.convert("L")).stddev) < FLAT:
        raise PhotoRefused(_("The photo is almost one colour: take a clear photo of your face."))
    image.thumbnail((MAX_WIDTH, MAX_HEIGHT), Image.Resampling.LANCZOS)
    return Photo(_fitting_jpeg(image), image.width, image.height)


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED:
            raise PhotoRefused(
                _(
                    "Only JPEG, PNG and WebP photos can be used: save the photo as JPEG and "
                    "try again."
                )
            )
        image.load()
    except PhotoRefused:
        raise
    except Image.DecompressionBombError as exc:
        raise PhotoRefused(_("The photo has too many pixels: choose a smaller one.")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoRefused(
            _(
                "This file is not a photo that can be read (HEIC photos: set the camera to "
                "JPEG or “most compatible”)."
            )
        ) from exc
    return image


def _portrait(image: Image.Image) -> Image.Image:
    """The largest 3:4 upright part about the centre (a little above it for a portrait)."""
    width, height = image.size
    if width * 4 > height * 3:  # too wide
        new_width = height * 3 // 4
        left = (width - new_width) // 2
        return image.crop((left, 0, left + new_width, height))
    new_height = width * 4 // 3
    top = max(0, (height - new_height) // 3)  # keep more of the top: the head
    return image.crop((0, top, width, top + new_height))


def _fitting_jpeg(image: Image.Image) -> bytes:
    """The best quality within MAX_BYTES; a photo that is too small even at the best quality
    is saved at full size and best quality, and refused only if that too is under MIN_BYTES."""
    for quality in QUALITIES:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=True)
        data = out.getvalue()
        if len(data) <= MAX_BYTES:
            break
    else:
        raise PhotoRefused(_("The photo cannot be made small enough: take it again."))
    if len(data) < MIN_BYTES:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=95, subsampling=0)
        data = out.getvalue()
        if len(data) < MIN_BYTES:
            raise PhotoRefused(
                _(
                    "The photo has too little detail: take it again in good light, closer to "
                    "the face."
                )
            )
    return data
