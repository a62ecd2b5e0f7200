"""Pictures in posts and messages (issue 19, item 2): what is accepted, what is stored,
who sees it, and how it is served."""

import io
import random
import struct
import zlib
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.services import star_grant
from conversations.services import conversation_create
from forums import services
from forums.models import PICTURES_STORAGE, Picture, Post
from forums.pictures import encode_picture
from forums.rendering import render_post
from moderation.services import post_hide
from tests.factories import MemberFactory, ReplyFactory
from tests.pictures import image_bytes, pending_picture, placed, upload

pytestmark = pytest.mark.django_db


def _stored_files() -> set[str]:
    """Every file in the pictures' storage."""
    found, folders = set(), [""]
    while folders:
        folder = folders.pop()
        subfolders, files = PICTURES_STORAGE.listdir(folder)
        found.update(f"{folder}/{name}".lstrip("/") for name in files)
        folders.extend(f"{folder}/{name}".lstrip("/") for name in subfolders)
    return found


def _reply(client, post, body, *files, preview=False):
    url = reverse("forums:reply-create", args=[post.thread_id, post.number])
    data = {"subject": "", "body": body, "pictures": list(files)}
    if preview:
        data["preview"] = "1"
    return client.post(url, data)


def _staff(**flags):
    staff = MemberFactory()
    type(staff).objects.filter(pk=staff.pk).update(is_staff=True, **flags)
    staff.refresh_from_db()
    return staff


def _decoded(response) -> Image.Image:
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


# What counts as a picture, and what is made of it.


def _exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0112] = 6  # turned: stored sideways
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPS latitude
    return exif.tobytes()


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_encode_picture_strips_metadata_and_applies_the_orientation(image_format):
    data = image_bytes(image_format, size=(60, 20), exif=_exif_with_gps())
    assert b"PhoneMaker" in data

    picture = encode_picture(data, name="photo")

    stored = Image.open(io.BytesIO(picture.display))
    assert stored.format == image_format
    assert not stored.getexif() and b"PhoneMaker" not in picture.display
    assert stored.size == (20, 60)  # turned upright, as the orientation said


def test_encode_picture_drops_comments_and_text_chunks():
    output = io.BytesIO()
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "taken at 12 Secret Street")
    Image.new("RGB", (10, 10)).save(output, format="PNG", pnginfo=info)
    assert b"Secret Street" in output.getvalue()
    assert b"Secret Street" not in encode_picture(output.getvalue(), name="x.png").display


def test_encode_picture_makes_a_display_size_and_a_thumbnail():
    picture = encode_picture(image_bytes("JPEG", size=(4000, 1000)), name="wide.jpg")
    assert (picture.width, picture.height) == (1600, 400)
    assert Image.open(io.BytesIO(picture.display)).size == (1600, 400)
    assert Image.open(io.BytesIO(picture.thumbnail)).size == (240, 60)
    assert (picture.content_type, picture.extension) == ("image/jpeg", "jpg")


@pytest.mark.parametrize("image_format", ["GIF", "WEBP"])
def test_encode_picture_keeps_animation(image_format):
    frames = [Image.new("RGB", (30, 20), (40 * n, 0, 0)) for n in range(4)]
    output = io.BytesIO()
    frames[0].save(output, format=image_format, save_all=True, append_images=frames[1:], duration=80, loop=0)

    picture = encode_picture(output.getvalue(), name="moving")

    assert Image.open(io.BytesIO(picture.display)).n_frames == 4
    assert Image.open(io.BytesIO(picture.thumbnail)).n_frames == 1


def _png_with_size(width, height) -> bytes:
    """A real PNG of 10x10 pixels whose header claims another size (with a valid CRC)."""
    data = bytearray(image_bytes("PNG", size=(10, 10)))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def _bomb() -> bytes:
    output = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(output, format="PNG")  # 144 megapixels in 20 KB
    return output.getvalue()


REFUSED_FILES = {
    "empty": (b"", "is empty"),
    "truncated JPEG": (image_bytes("JPEG", size=(300, 200))[:-400], "not a picture we can read"),
    "header lies about its size": (_png_with_size(400, 400), "not a picture we can read"),
    "SVG": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not a picture we can read"),
    "HTML named .jpg": (b"<!doctype html><script>alert(document.cookie)</script>", "not a picture we can read"),
    "polyglot: PNG then HTML": (image_bytes("PNG") + b"<html><script>alert(1)</script></html>",
                                "holds something besides a picture"),
    "polyglot: GIF then a zip": (image_bytes("GIF") + b"PK\x03\x04" + b"\x01" * 40,
                                 "holds something besides a picture"),
    "polyglot: script in a JPEG comment": (
        image_bytes("JPEG", comment=b"<script>alert(1)</script>"), "holds something besides a picture"
    ),
    "decompression bomb": (_bomb(), "too many pixels"),
    "text": (b"just some words", "not a picture we can read"),
}


@pytest.mark.parametrize("label", REFUSED_FILES)
def test_encode_picture_refuses_what_is_not_plainly_one_picture(label):
    data, message = REFUSED_FILES[label]
    with pytest.raises(ValidationError) as refusal:
        encode_picture(data, name="upload.jpg")
    assert message in refusal.value.messages[0] and "upload.jpg" in refusal.value.messages[0]


def test_encode_picture_accepts_a_photo_with_a_motion_video_after_it():
    data = image_bytes("JPEG") + b"\x00\x00\x00\x18ftypmp42" + b"\x07" * 64
    assert encode_picture(data, name="motion.jpg").format == "JPEG"


def test_the_format_comes_from_the_content_not_the_name(member_client, member, opening_post):
    response = _reply(member_client, opening_post, "![A photo](photo.png)",
                      upload("photo.png", image_bytes("JPEG"), content_type="image/png"))
    assert response.status_code == 302
    picture = Picture.objects.get(owner=member)
    assert picture.format == "JPEG" and picture.display.name.endswith(".jpg")
    served = member_client.get(picture.get_absolute_url())
    assert served["Content-Type"] == "image/jpeg"


# Posting with pictures.


def test_reply_with_a_placed_picture_shows_it(member_client, member, opening_post, client):
    response = _reply(member_client, opening_post, "Look: ![Our cat asleep](cat.png)", upload("cat.png"))

    assert response.status_code == 302
    reply = Post.objects.get(author=member, parent=opening_post)
    picture = Picture.objects.get(owner=member)
    assert picture.post == reply and not picture.is_pending and picture.name == "cat.png"
    assert reply.body == f"Look: ![Our cat asleep]({picture.get_absolute_url()})"
    assert f'<img alt="Our cat asleep" loading="lazy" src="{picture.get_absolute_url()}">' in reply.body_html
    page = client.get(opening_post.thread.get_view_all_url()).content.decode()
    assert f'src="{picture.get_absolute_url()}"' in page


def test_several_pictures_of_one_name_are_placed_in_order(member_client, member, opening_post):
    first, second = upload("image.jpg", image_bytes("JPEG")), upload("image.jpg", image_bytes("JPEG"))
    _reply(member_client, opening_post, "![One](image.jpg) ![Two](image.jpg)", first, second)
    one, two = Picture.objects.filter(owner=member).order_by("pk")
    reply = Post.objects.get(author=member, parent=opening_post)
    assert reply.body == f"![One]({one.get_absolute_url()}) ![Two]({two.get_absolute_url()})"


def test_names_with_spaces_are_placed_in_angle_brackets(member_client, member, opening_post):
    _reply(member_client, opening_post, "![Beach](<photo (1).png>)", upload("photo (1).png"))
    picture = Picture.objects.get(owner=member)
    assert Post.objects.get(author=member, parent=opening_post).body == f"![Beach]({picture.get_absolute_url()})"


def test_a_picture_not_placed_in_the_text_is_refused(member_client, member, opening_post):
    response = _reply(member_client, opening_post, "I forgot to place it.", upload("cat.png"))
    assert response.status_code == 400
    assert "Place cat.png in your text with ![what it shows](cat.png)" in response.content.decode()
    assert not Picture.objects.exists()
    assert not Post.objects.filter(author=member, parent=opening_post).exists()


def test_alt_text_is_required(member_client, member, opening_post):
    response = _reply(member_client, opening_post, "![](cat.png)", upload("cat.png"))
    assert response.status_code == 400
    assert "Describe every picture" in response.content.decode()
    assert not Post.objects.filter(author=member, parent=opening_post).exists()


@pytest.mark.parametrize("label", ["empty", "truncated JPEG", "header lies about its size", "SVG",
                                   "HTML named .jpg", "polyglot: PNG then HTML", "decompression bomb"])
def test_bad_uploads_get_a_clear_400_and_store_nothing(member_client, member, opening_post, label):
    files_before = _stored_files()
    data, message = REFUSED_FILES[label]
    response = _reply(member_client, opening_post, "![It](upload.jpg)", upload("upload.jpg", data))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Picture.objects.exists() and _stored_files() == files_before
    assert not Post.objects.filter(author=member, parent=opening_post).exists()


def test_one_bad_file_among_good_ones_stores_none_of_them(member_client, member, opening_post):
    files_before = _stored_files()
    response = _reply(member_client, opening_post, "![A](a.png) ![B](b.png)",
                      upload("a.png"), upload("b.png", b"<html></html>"))
    assert response.status_code == 400
    assert not Picture.objects.exists() and _stored_files() == files_before


def test_a_file_over_the_size_limit_is_refused(member_client, member, opening_post, settings):
    settings.FORUMS_PICTURE_MAX_BYTES = 1024 * 1024
    big = image_bytes("PNG", size=(800, 800)) + b"\x00" * (1024 * 1024)
    response = _reply(member_client, opening_post, "![Big](big.png)", upload("big.png", big))
    assert response.status_code == 400
    assert "big.png is larger than 1 MB" in response.content.decode()
    assert not Picture.objects.exists()


def test_a_picture_near_the_size_limit_passes_the_request_body_limit(member_client, member, opening_post, settings):
    """Bodies over FORUMS_MAX_REQUEST_BYTES are refused before Django reads them, except
    on the forms that take pictures."""
    noise = Image.frombytes("RGB", (1200, 1000), random.Random(19).randbytes(1200 * 1000 * 3))
    output = io.BytesIO()
    noise.save(output, format="PNG")
    assert settings.FORUMS_MAX_REQUEST_BYTES < len(output.getvalue()) < settings.FORUMS_PICTURE_MAX_BYTES
    response = _reply(member_client, opening_post, "![Noise](noise.png)", upload("noise.png", output.getvalue()))
    assert response.status_code == 302
    assert Picture.objects.get(owner=member).uploaded_bytes == len(output.getvalue())


def test_a_100_mb_body_gets_the_413_page(member_client, opening_post):
    url = reverse("forums:reply-create", args=[opening_post.thread_id, opening_post.number])
    response = member_client.post(url, {"body": "x"}, CONTENT_LENGTH=str(100 * 1024 * 1024))
    assert response.status_code == 413
    assert "larger than 33 MB" in response.content.decode()
    assert not Picture.objects.exists()


def test_text_alone_over_the_form_data_limit_gets_the_413_page(member_client, opening_post, settings):
    """Picture forms take bodies of 33 MB; text beyond DATA_UPLOAD_MAX_MEMORY_SIZE is
    refused by Django while it reads the form, with the 413 page rather than a bare 400."""
    url = reverse("forums:reply-create", args=[opening_post.thread_id, opening_post.number])
    response = member_client.post(url, {"body": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    assert response.status_code == 413
    assert "larger than 3 MB" in response.content.decode()
    assert not Post.objects.filter(parent=opening_post).exists()


def test_too_many_pictures_at_once_are_refused(member_client, member, opening_post, settings):
    settings.FORUMS_PICTURES_PER_POST = 2
    files = [upload(f"{n}.png") for n in range(3)]
    response = _reply(member_client, opening_post, " ".join(f"![{n}]({n}.png)" for n in range(3)), *files)
    assert response.status_code == 400
    assert "at most 2 pictures" in response.content.decode()
    assert not Picture.objects.exists()


def test_a_post_shows_at_most_the_pictures_per_post(member, opening_post, settings):
    settings.FORUMS_PICTURES_PER_POST = 2
    pictures = [pending_picture(member, f"{n}.png") for n in range(3)]
    with pytest.raises(ValidationError, match="at most 2 pictures"):
        services.reply_create(author=member, parent=opening_post, body=" ".join(placed(p) for p in pictures))


def test_the_daily_allowance_is_larger_for_star_members(member_client, member, opening_post, settings):
    picture_size = len(image_bytes())
    settings.FORUMS_PICTURE_BYTES_PER_DAY = picture_size * 2
    settings.FORUMS_PICTURE_BYTES_PER_DAY_STAR = picture_size * 4
    for n in range(2):
        assert _reply(member_client, opening_post, f"![{n}]({n}.png)", upload(f"{n}.png")).status_code == 302
    refused = _reply(member_client, opening_post, "![Third](3.png)", upload("3.png"))
    assert refused.status_code == 400
    assert "were not stored" in refused.content.decode() and "Star Members can upload" in refused.content.decode()
    assert Picture.objects.filter(owner=member).count() == 2

    star_grant(member=member, months=1)
    assert _reply(member_client, opening_post, "![Third](3.png)", upload("3.png")).status_code == 302
    assert Picture.objects.filter(owner=member).count() == 3


def test_preview_stores_the_picture_and_the_text_points_at_it(member_client, member, opening_post):
    response = _reply(member_client, opening_post, "![A cat](cat.png)", upload("cat.png"), preview=True)

    assert response.status_code == 200
    picture = Picture.objects.get(owner=member)
    assert picture.is_pending and not Post.objects.filter(author=member, parent=opening_post).exists()
    page = response.content.decode()
    assert f'<img alt="A cat" loading="lazy" src="{picture.get_absolute_url()}">' in page  # the preview
    assert f"![A cat]({picture.get_absolute_url()})" in page  # the text to send

    sent = _reply(member_client, opening_post, f"![A cat]({picture.get_absolute_url()})")
    assert sent.status_code == 302
    picture.refresh_from_db()
    assert picture.post == Post.objects.get(author=member, parent=opening_post)


def test_pending_pictures_are_listed_on_the_forms_and_placed_by_name(member_client, member, opening_post):
    pending_picture(member, "garden.png")
    form = member_client.get(reverse("forums:reply-create", args=[opening_post.thread_id, 0]))
    assert "garden.png" in form.content.decode()
    _reply(member_client, opening_post, "![My garden](garden.png)")
    assert Picture.objects.get(owner=member).post.parent == opening_post


def test_another_members_pending_picture_is_not_placed(member, other_member, opening_post, client):
    theirs = pending_picture(other_member)
    reply = services.reply_create(author=member, parent=opening_post, body=placed(theirs))
    theirs.refresh_from_db()
    assert theirs.is_pending and theirs.post is None
    client.force_login(member)
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert reply.pk


def test_remote_images_become_links():
    html = render_post("![A tracker](https://evil.example/pixel.gif) ![](http://x.example/y.png)")
    assert "<img" not in html
    assert '<a href="https://evil.example/pixel.gif" rel="nofollow ugc noopener">A tracker</a>' in html
    assert '<a href="http://x.example/y.png" rel="nofollow ugc noopener">http://x.example/y.png</a>' in html


@pytest.mark.parametrize("source", [
    "![x](/pictures/1/?next=https://evil.example)", "![x](//evil.example/pictures/1/)",
    "![x](javascript:alert(1))", "![x](/pictures/1/../../admin/)", '<img src="/pictures/1/">',
])
def test_only_the_sites_own_picture_addresses_make_images(source):
    assert "<img" not in render_post(source)


def test_posts_and_messages_get_pictures_by_file_input_on_every_form(member_client, opening_post):
    for url in (
        reverse("forums:reply-create", args=[opening_post.thread_id, 0]),
        reverse("forums:thread-create", args=[opening_post.thread.forum.slug]),
        reverse("conversations:conversation-create"),
    ):
        page = member_client.get(url).content.decode()
        assert 'enctype="multipart/form-data"' in page
        assert 'type="file" name="pictures"' in page and "multiple" in page


def test_feeds_show_pictures_and_site_links_by_full_address(member_client, member, opening_post, client, settings):
    settings.ALLOWED_HOSTS = ["forum.example.org", "testserver"]
    forum = opening_post.thread.forum
    response = member_client.post(reverse("forums:thread-create", args=[forum.slug]), {
        "title": "Allotment photos", "body": "See ![Our beans](beans.png) and [the rules](/about/).",
        "pictures": [upload("beans.png")],
    })
    assert response.status_code == 302
    picture = Picture.objects.get(owner=member)
    feed = client.get(reverse("forums:forum-feed", args=[forum.slug]), HTTP_HOST="forum.example.org")
    description = ET.fromstring(feed.content).find("channel/item").findtext("description")
    assert f'src="http://forum.example.org{picture.get_absolute_url()}"' in description
    assert 'href="http://forum.example.org/about/"' in description


# Serving.


def test_a_picture_is_served_as_an_image_that_cannot_become_a_page(client, member, opening_post):
    picture = pending_picture(member, "<script>alert(1)</script>.png")
    services.reply_create(author=member, parent=opening_post, body=placed(picture))

    response = client.get(picture.get_absolute_url())

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Content-Disposition"] == f'inline; filename="picture-{picture.pk}.png"'
    assert "private" in response["Cache-Control"]
    assert _decoded(response).format == "PNG"
    thumbnail = client.get(picture.get_thumbnail_url())
    assert thumbnail["Content-Disposition"] == f'inline; filename="picture-{picture.pk}-thumbnail.png"'


def test_the_stored_files_have_random_names_and_the_real_extension(member):
    picture = pending_picture(member, "../../etc/passwd.html")
    assert picture.name == "passwd.html"
    assert picture.display.name.endswith(".png") and "passwd" not in picture.display.name
    assert picture.thumbnail.name.endswith("-thumb.png")


def test_a_pending_picture_is_only_its_owners(client, member, other_member):
    picture = pending_picture(member)
    assert client.get(picture.get_absolute_url()).status_code == 404
    client.force_login(other_member)
    assert client.get(picture.get_absolute_url()).status_code == 404
    client.force_login(member)
    assert client.get(picture.get_absolute_url()).status_code == 200


def test_a_hidden_posts_picture_is_no_longer_shown_to_others(client, member, other_member, opening_post):
    picture = pending_picture(other_member)
    reply = services.reply_create(author=other_member, parent=opening_post, body=placed(picture))
    staff = _staff()
    post_hide(staff=staff, post=reply, hide=True, reason="Rude")

    assert client.get(picture.get_absolute_url()).status_code == 404
    client.force_login(member)
    assert client.get(picture.get_absolute_url()).status_code == 404
    for who in (other_member, staff):
        client.force_login(who)
        assert client.get(picture.get_absolute_url()).status_code == 200
    assert Picture.objects.filter(pk=picture.pk).exists()


def test_a_deleted_posts_pictures_are_deleted(member_client, member, opening_post, django_capture_on_commit_callbacks):
    picture = pending_picture(member)
    reply = services.reply_create(author=member, parent=opening_post, body=placed(picture))
    names = {picture.display.name, picture.thumbnail.name}
    assert names <= _stored_files()

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("forums:post-delete", args=[reply.thread_id, reply.number]))

    assert response.status_code == 302
    assert not Picture.objects.filter(pk=picture.pk).exists()
    assert not names & _stored_files()
    assert member_client.get(picture.get_absolute_url()).status_code == 404


def test_a_messages_picture_is_for_its_participants_only(client, member, other_member):
    picture = pending_picture(member, "plan.png")
    conversation = conversation_create(
        sender=member, recipient=other_member, subject="Plans", body=f"See {placed(picture)}"
    )
    message = conversation.messages.get()
    assert list(message.pictures.all()) == [picture]
    for reader, status in ((other_member, 200), (member, 200), (MemberFactory(), 404),
                           (_staff(), 404)):
        client.force_login(reader)
        assert client.get(picture.get_absolute_url()).status_code == status


def test_a_message_sent_with_a_picture(member_client, member, other_member):
    response = member_client.post(reverse("conversations:conversation-create"), {
        "recipient": other_member.username, "subject": "Hello", "body": "![Our dog](dog.png)",
        "pictures": [upload("dog.png")],
    })
    assert response.status_code == 302
    picture = Picture.objects.get(owner=member)
    assert picture.messages.get().body == f"![Our dog]({picture.get_absolute_url()})"
    assert picture.post is None and not picture.is_pending


# The member's data, leaving, the admin and housekeeping.


def test_download_my_data_lists_the_members_pictures(member_client, member, opening_post):
    picture = pending_picture(member, "cat.png")
    reply = services.reply_create(author=member, parent=opening_post, body=placed(picture))
    data = member_client.get(reverse("members:member-data")).json()
    [row] = data["pictures"]
    assert row["file_name"] == "cat.png" and row["post_id"] == reply.pk and row["format"] == "PNG"
    assert row["url"].endswith(picture.get_absolute_url())


def test_deleting_the_account_removes_the_members_pictures(
    member_client, member, other_member, opening_post, django_capture_on_commit_callbacks
):
    in_post, in_message = pending_picture(member, "a.png"), pending_picture(member, "b.png")
    reply = services.reply_create(author=member, parent=opening_post, body=f"Mine: {placed(in_post, 'My cat')}")
    conversation = conversation_create(sender=member, recipient=other_member, subject="Hi",
                                       body=placed(in_message, "My dog"))
    names = {in_post.display.name, in_message.thumbnail.name}

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(reverse("members:member-delete"), {"password": "correct horse battery staple"})

    assert response.status_code == 302
    assert not Picture.objects.filter(owner=member).exists()
    assert not names & _stored_files()
    reply.refresh_from_db()
    assert "<img" not in reply.body_html and "[My cat]" in reply.body_html
    assert "[My dog]" in conversation.messages.get().body_html


def test_staff_remove_a_picture_in_the_admin(client, member, opening_post):
    picture = pending_picture(member, "cat.png")
    reply = services.reply_create(author=member, parent=opening_post, body=placed(picture, "A cat"))
    client.force_login(_staff(is_superuser=True))

    listing = client.get(reverse("admin:forums_picture_changelist")).content.decode()
    assert "cat.png" in listing and reply.thread.title in listing
    response = client.post(reverse("admin:forums_picture_changelist"), {
        "action": "delete_selected", "post": "yes", "_selected_action": [picture.pk],
    })

    assert response.status_code == 302
    assert not Picture.objects.filter(pk=picture.pk).exists()
    reply.refresh_from_db()
    assert "<img" not in reply.body_html and "[A cat]" in reply.body_html


def test_prune_pictures_removes_old_unplaced_ones(member, opening_post, django_capture_on_commit_callbacks):
    from django.core.management import call_command

    old = pending_picture(member, "old.png")
    pending_picture(member, "new.png")
    kept = pending_picture(member, "kept.png")
    services.reply_create(author=member, parent=opening_post, body=placed(kept))
    Picture.objects.filter(pk__in=[old.pk, kept.pk]).update(created_at=timezone.now() - timedelta(days=2))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("prune_pictures", stdout=io.StringIO())

    assert set(Picture.objects.values_list("name", flat=True)) == {"new.png", "kept.png"}
    assert old.display.name not in _stored_files()


# Query counts: pictures are part of the post HTML made at write time, so pages that
# show them cost nothing more, whoever posted them.


def test_thread_page_with_pictures_of_three_authors_costs_no_more_queries(
    client, thread, opening_post, django_assert_num_queries
):
    authors = [MemberFactory() for _ in range(3)]
    for author in authors:
        pictures = [pending_picture(author, f"{n}.png") for n in range(3)]
        services.reply_create(author=author, parent=opening_post, body=" ".join(placed(p) for p in pictures))
    ReplyFactory(parent=opening_post)
    # As many as without pictures (tests/forums/test_views.py, "View all"), less the
    # recommenders' query: nobody recommended this opening post.
    with django_assert_num_queries(6):
        page = client.get(thread.get_view_all_url())
    assert page.content.decode().count("<img alt=\"A red square\"") == 9


def test_compose_page_lists_pending_pictures_in_one_query(client, member, opening_post, django_assert_num_queries):
    for n in range(3):
        pending_picture(member, f"{n}.png")
    client.force_login(member)
    url = reverse("forums:reply-create", args=[opening_post.thread_id, 0])
    # The reply form's 8 (tests/forums/test_posting.py) and the pending pictures.
    with django_assert_num_queries(9):
        page = client.get(url)
    assert all(f"{n}.png" in page.content.decode() for n in range(3))


def test_admin_lists_uploads_with_their_posts_in_fixed_queries(client, opening_post, django_assert_num_queries):
    for author in [MemberFactory() for _ in range(3)]:
        pictures = [pending_picture(author, f"{author.username}-{n}.png") for n in range(2)]
        services.reply_create(author=author, parent=opening_post, body=placed(pictures[0]))
    client.force_login(_staff(is_superuser=True))
    client.get(reverse("admin:forums_picture_changelist"))
    # session, member, the count (twice: filtered and all), the page of pictures with
    # owners, posts and threads, the format filter's choices
    with django_assert_num_queries(6):
        page = client.get(reverse("admin:forums_picture_changelist")).content.decode()
    assert all(picture.name in page for picture in Picture.objects.all())
    assert page.count("not placed yet") == 3 and page.count(f"{opening_post.thread.title} #") == 3


def test_the_rendering_knows_the_addresses_the_site_serves_pictures_at():
    from forums.pictures import PICTURE_PATH, PICTURE_URL

    assert reverse("pictures:picture", args=[42]) == PICTURE_PATH.format(id=42)
    assert PICTURE_URL.match(reverse("pictures:picture", args=[42])).group(1) == "42"
    assert PICTURE_URL.match(reverse("pictures:picture-thumbnail", args=[42])).group(1) == "42"
