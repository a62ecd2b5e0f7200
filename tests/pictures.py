"""Pictures for tests: small images made in memory, as a browser would upload them."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from forums.models import Picture
from forums.services import pictures_upload


def image_bytes(image_format="PNG", size=(40, 30), color=(200, 40, 40), **options) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, color).save(output, format=image_format, **options)
    return output.getvalue()


def upload(name="cat.png", data=None, content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes() if data is None else data, content_type=content_type)


def pending_picture(owner, name="cat.png", data=None) -> Picture:
    """A picture `owner` uploaded and has not placed yet, through the service."""
    pictures_upload(owner=owner, files=[upload(name, data)], body="", require_placed=False)
    return Picture.objects.filter(owner=owner).latest("pk")


def placed(picture, alt="A red square") -> str:
    """The Markdown that shows `picture`."""
    return f"![{alt}]({picture.get_absolute_url()})"
