"""A phone's photo becomes the 考生证照 the records want, or is refused saying what to do."""

import io

import pytest
from PIL import Image

from certify.core.photos import MAX_BYTES, MIN_BYTES, PhotoRefused, prepare_photo
from tests.factories import photo_bytes


def _size(jpeg: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(jpeg)).size


def test_a_large_phone_photo_is_cropped_to_3_by_4_scaled_and_saved_within_the_limits(app):
    photo = prepare_photo(photo_bytes(1200, 1800))
    assert (photo.width, photo.height) == (480, 640) == _size(photo.jpeg)
    assert MIN_BYTES <= len(photo.jpeg) <= MAX_BYTES
    assert Image.open(io.BytesIO(photo.jpeg)).format == "JPEG"
    assert not Image.open(io.BytesIO(photo.jpeg)).getexif()  # the phone's EXIF is not kept


def test_a_landscape_png_gives_an_upright_portrait(app):
    photo = prepare_photo(photo_bytes(1000, 700, "PNG"))
    assert photo.width * 4 == photo.height * 3


def test_a_photo_stored_on_its_side_is_turned_upright(app):
    # EXIF orientation 6: the camera was turned; the stored pixels are landscape
    photo = prepare_photo(photo_bytes(1600, 1200, exif_turn=6))
    assert photo.height > photo.width


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", ""),
        (b"%PDF-1.7 not a photo", "HEIC"),
        (photo_bytes(120, 160), "144×192"),
        (photo_bytes(400, 150), "144×192"),
    ],
)
def test_unusable_photos_are_refused_saying_what_to_do(app, data, says):
    with pytest.raises(PhotoRefused, match=says):
        prepare_photo(data)


def test_a_blank_photo_is_refused(app):
    out = io.BytesIO()
    Image.new("RGB", (600, 800), (200, 200, 200)).save(out, "JPEG")
    with pytest.raises(PhotoRefused):
        prepare_photo(out.getvalue())


def test_a_gif_is_refused_by_its_content_not_its_name(app):
    out = io.BytesIO()
    Image.new("RGB", (600, 800)).save(out, "GIF")
    with pytest.raises(PhotoRefused, match=r"JPEG、PNG|JPEG, PNG"):
        prepare_photo(out.getvalue())
