"""Pictures members put in posts and messages: what counts as one, and its re-encoding.

Nothing a member uploads is ever served as sent. Pillow decodes every frame and writes
a new file in the same format, so metadata (EXIF with GPS, comments, XMP, text chunks)
stays behind and a file that also carries something else (a polyglot) loses it. Files
that are not plainly one image are refused rather than cleaned: SVG and HTML are not
among the formats Pillow may open here; markup anywhere in the file, or data after the
image's end, says it is meant to be read as something else too; a header whose
dimensions the data does not fill fails to decode; a decompression bomb is refused by
its pixel count before it is decoded.

Pure functions of the bytes: services.picture_upload stores what `encode_picture`
returns. Posts point at a picture with PICTURE_PATH, which community/urls.py serves.
"""

import io
import re
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

# Pillow's own guard, for any image opened anywhere in the process: it refuses outright
# at twice this. Ours below refuses anything above it, with a message.
Image.MAX_IMAGE_PIXELS = settings.FORUMS_PICTURE_MAX_PIXELS

# Format -> (content type, file extension). The stored file is always in the format
# Pillow found, whatever the uploaded file's name or claimed type said.
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}

PICTURE_PATH = "/pictures/{id}/"
# A picture of this site in post HTML: PICTURE_PATH, or its thumbnail.
PICTURE_URL = re.compile(r"^/pictures/([1-9][0-9]{0,17})/(?:thumb/)?$")

EMPTY = gettext_noop("{name} is empty (0 bytes). Choose the picture again.")
TOO_LARGE = gettext_noop("{name} is larger than {limit_mb} MB. Choose a smaller picture.")
NOT_AN_IMAGE = gettext_noop(
    "{name} is not a picture we can read: it is damaged, incomplete or in another "
    "format. Use a JPEG, PNG, GIF or WebP image."
)
NOT_ONLY_AN_IMAGE = gettext_noop(
    "{name} holds something besides a picture, so it was refused. Save it again as a "
    "JPEG, PNG, GIF or WebP image from an image editor."
)
TOO_MANY_PIXELS = gettext_noop(
    "{name} has too many pixels ({megapixels} million, with every frame of an "
    "animation counted); the limit is {limit} million. Make it smaller first."
)

# Markup that browsers, SVG viewers or PHP would run. An image has no reason to carry
# it, metadata included (XMP is `<x:xmpmeta>` and `<rdf:...>`, which do not match).
_MARKUP = re.compile(
    rb"<\s*(?:script|html|body|head|svg|iframe|object|embed|!doctype|\?php)\b", re.IGNORECASE
)
# In a JPEG's scan data a 0xFF byte is followed by 0x00 (stuffing) or a restart marker;
# anything else after it is the next marker.
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7]")


@dataclass(frozen=True)
class EncodedPicture:
    format: str
    display: bytes
    thumbnail: bytes
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return FORMATS[self.format][0]

    @property
    def extension(self) -> str:
        return FORMATS[self.format][1]


def _refuse(message: str, **values) -> ValidationError:
    return ValidationError(_(message).format(**values), code="picture")


def _sub_blocks_end(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos]:
        pos += data[pos] + 1
    return pos + 1


def _gif_end(data: bytes) -> int | None:
    pos, flags = 13, data[10]
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)
    while pos < len(data):
        kind = data[pos]
        if kind == 0x3B:  # trailer
            return pos + 1
        if kind == 0x21:  # extension: label, then sub-blocks
            pos = _sub_blocks_end(data, pos + 2)
        elif kind == 0x2C and pos + 10 <= len(data):  # image: descriptor, colours, LZW data
            flags = data[pos + 9]
            pos += 10 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
            pos = _sub_blocks_end(data, pos + 1)
        else:
            return None
    return None


def _png_end(data: bytes) -> int | None:
    pos = 8
    while pos + 12 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos
    return None


def _jpeg_end(data: bytes) -> int | None:
    pos = 2
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == 0xD9:  # end of image
            return pos + 2
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
        else:
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
            if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
                found = _JPEG_MARKER.search(data, pos)
                if not found:
                    return None
                pos = found.start()
    return None


def _image_end(data: bytes, image_format: str) -> int | None:
    """Where the image's own structure ends, or None when it does not."""
    if image_format == "WEBP":
        size = int.from_bytes(data[4:8], "little")
        return 8 + size + (size & 1)
    return {"GIF": _gif_end, "PNG": _png_end, "JPEG": _jpeg_end}[image_format](data)


def _carries_more(data: bytes, image_format: str) -> bool:
    """Data after the image's end. Zero padding is harmless, and phones append a second
    JPEG (multi-picture format) or a video (motion photos) after a photo's end; those
    are dropped by the re-encoding like any metadata."""
    end = _image_end(data, image_format)
    if end is None:
        return True
    rest = data[end:]
    if not rest.strip(b"\x00\r\n\t "):
        return False
    return not (image_format == "JPEG" and (rest.startswith(b"\xff\xd8") or b"ftyp" in rest[:16]))


def _without_metadata(image: Image.Image) -> Image.Image:
    """The pixels alone: savers read comments, ICC profiles and EXIF from `info`."""
    image.info = {}
    return image


def _frame_for(image_format: str, frame: Image.Image) -> Image.Image:
    """A frame in a mode its format saves, keeping transparency."""
    if image_format == "JPEG":
        return frame if frame.mode in ("RGB", "L") else frame.convert("RGB")
    if frame.mode in ("RGB", "RGBA", "L", "LA") and "transparency" not in frame.info:
        return frame.copy()
    return frame.convert("RGBA")


def _fit_width(frame: Image.Image, width: int) -> Image.Image:
    if frame.width <= width:
        return frame
    height = max(1, round(frame.height * width / frame.width))
    return frame.resize((width, height), Image.Resampling.LANCZOS)


def _save(frames: list[Image.Image], image_format: str, durations: list[int], loop) -> bytes:
    output = io.BytesIO()
    first, *rest = [_without_metadata(frame) for frame in frames]
    options = {"quality": 85} if image_format in ("JPEG", "WEBP") else {}
    if rest:
        options.update(save_all=True, append_images=rest, duration=durations, loop=loop)
    first.save(output, format=image_format, **options)
    return output.getvalue()


def _decoded_frames(image: Image.Image, name: str) -> tuple[list[Image.Image], list[int]]:
    """Every frame, decoded in full (a truncated file or a lying header fails here),
    and each frame's duration; animations within the pixel and frame limits."""
    limit = settings.FORUMS_PICTURE_MAX_PIXELS
    frames, durations, pixels = [], [], 0
    for frame in ImageSequence.Iterator(image):
        pixels += frame.width * frame.height
        if pixels > limit or len(frames) >= settings.FORUMS_PICTURE_MAX_FRAMES:
            raise _refuse(TOO_MANY_PIXELS, name=name, megapixels=_megapixels(
                frame.width * frame.height * max(getattr(image, "n_frames", 1), len(frames) + 1)
            ), limit=_megapixels(limit))
        frame.load()
        durations.append(int(frame.info.get("duration", 100)))
        frames.append(_frame_for(image.format, frame))
    return frames, durations


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:.0f}"


def check_file_size(size: int, *, name: str) -> None:
    """Refuse an empty file, or one over FORUMS_PICTURE_MAX_BYTES, before reading it."""
    if not size:
        raise _refuse(EMPTY, name=name)
    limit = settings.FORUMS_PICTURE_MAX_BYTES
    if size > limit:
        raise _refuse(TOO_LARGE, name=name, limit_mb=limit // (1024 * 1024))


def encode_picture(data: bytes, *, name: str) -> EncodedPicture:
    """Decode an uploaded file and re-encode it: the display size (at most
    FORUMS_PICTURE_DISPLAY_WIDTH wide, animation kept) and a still thumbnail. Raises
    ValidationError, naming the file, for anything that is not plainly one picture."""
    check_file_size(len(data), name=name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            image_format = image.format
            if image.width * image.height > settings.FORUMS_PICTURE_MAX_PIXELS:
                raise _refuse(
                    TOO_MANY_PIXELS, name=name, megapixels=_megapixels(image.width * image.height),
                    limit=_megapixels(settings.FORUMS_PICTURE_MAX_PIXELS),
                )
            if _MARKUP.search(data):
                raise _refuse(NOT_ONLY_AN_IMAGE, name=name)
            if image_format == "JPEG":
                # Decode at the smallest scale still at least the display width both
                # ways (a photo may be turned): a 40-megapixel photo then takes an
                # eighth of the memory. Every byte is still read, so damage still shows.
                width = settings.FORUMS_PICTURE_DISPLAY_WIDTH
                image.draft(None, (width, width))
            loop = image.info.get("loop", 0)
            frames, durations = _decoded_frames(image, name)
            if _carries_more(data, image_format):
                raise _refuse(NOT_ONLY_AN_IMAGE, name=name)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(
            TOO_MANY_PIXELS, name=name, megapixels=">" + _megapixels(settings.FORUMS_PICTURE_MAX_PIXELS),
            limit=_megapixels(settings.FORUMS_PICTURE_MAX_PIXELS),
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError):
        raise _refuse(NOT_AN_IMAGE, name=name) from None
    if len(frames) == 1:
        # Photos are stored sideways with an orientation tag; the tag goes, so turn them.
        frames = [ImageOps.exif_transpose(frames[0])]
    width = settings.FORUMS_PICTURE_DISPLAY_WIDTH
    display = [_fit_width(frame, width) for frame in frames]
    thumbnail = display[0].copy()
    size = settings.FORUMS_PICTURE_THUMBNAIL_SIZE
    thumbnail.thumbnail((size, size))
    return EncodedPicture(
        format=image_format,
        display=_save(display, image_format, durations, loop),
        thumbnail=_save([thumbnail], image_format, durations[:1], loop),
        width=display[0].width,
        height=display[0].height,
    )
