"""Pictures in an S3-compatible object store (PICTURES_S3_BUCKET), against a real S3
server: moto's, started by these tests on 127.0.0.1 and spoken to over HTTP by boto3,
exactly as a production store would be. Nothing of the client is mocked."""

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from moto.server import ThreadedMotoServer

from forums import services
from forums.models import PICTURES_STORAGE, Picture, Post
from tests.pictures import image_bytes, upload
from tests.processes import run_python

BUCKET = "grassroots-pictures"
CREDENTIALS = {"access_key": "test-key", "secret_key": "test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["access_key"], aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint, client
    server.stop()


@pytest.fixture
def pictures_in_s3(settings, s3_endpoint):
    endpoint, client = s3_endpoint
    settings.STORAGES = {**settings.STORAGES, "pictures": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET, "endpoint_url": endpoint, "region_name": "us-east-1",
            "location": "pictures", "default_acl": "private", "file_overwrite": False,
            **CREDENTIALS,
        },
    }}
    return client


def _keys(client) -> set[str]:
    listing = client.list_objects_v2(Bucket=BUCKET, Prefix="pictures/")
    return {item["Key"] for item in listing.get("Contents", [])}


def test_the_environment_configures_the_s3_store(s3_endpoint):
    endpoint, client = s3_endpoint
    result = run_python(
        "-c",
        "import django; django.setup();"
        "from django.core.files.base import ContentFile;"
        "from django.core.files.storage import storages;"
        "store = storages['pictures'];"
        "name = store.save('check.txt', ContentFile(b'stored in S3'));"
        "print(type(store).__name__, name, store.open(name).read().decode())",
        timeout=60,
        PICTURES_S3_BUCKET=BUCKET, PICTURES_S3_ENDPOINT_URL=endpoint, PICTURES_S3_REGION="us-east-1",
        PICTURES_S3_ACCESS_KEY_ID=CREDENTIALS["access_key"],
        PICTURES_S3_SECRET_ACCESS_KEY=CREDENTIALS["secret_key"], PICTURES_S3_PREFIX="env-check",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "check.txt", "stored", "in", "S3"]
    assert client.get_object(Bucket=BUCKET, Key="env-check/check.txt")["Body"].read() == b"stored in S3"


@pytest.mark.django_db
def test_pictures_are_stored_served_and_deleted_in_s3(
    pictures_in_s3, member_client, member, opening_post, client, django_capture_on_commit_callbacks
):
    keys_before = _keys(pictures_in_s3)
    url = reverse("forums:reply-create", args=[opening_post.thread_id, 0])
    response = member_client.post(url, {"body": "![A cat](cat.png)", "pictures": [upload("cat.png")]})
    assert response.status_code == 302

    picture = Picture.objects.get(owner=member)
    stored = {f"pictures/{picture.display.name}", f"pictures/{picture.thumbnail.name}"}
    assert _keys(pictures_in_s3) - keys_before == stored
    # Private: the bucket is read through the site, which checks who may see each picture.
    grants = pictures_in_s3.get_object_acl(Bucket=BUCKET, Key=f"pictures/{picture.display.name}")["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]

    served = client.get(picture.get_absolute_url())
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")

    reply = Post.objects.get(author=member, parent=opening_post)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_delete(member=member, post=reply)
    assert not stored & _keys(pictures_in_s3)


@pytest.mark.django_db
def test_a_refused_upload_leaves_nothing_in_s3(pictures_in_s3, member, monkeypatch):
    keys_before = _keys(pictures_in_s3)
    services.pictures_upload(owner=member, files=[upload("a.png")], body="", require_placed=False)
    assert len(_keys(pictures_in_s3)) == len(keys_before) + 2
    with pytest.raises(ValidationError):
        services.pictures_upload(
            owner=member, files=[upload("b.png"), upload("c.png", image_bytes("PNG") + b"<script>")],
            body="", require_placed=False,
        )
    # The store fails after b.png is in the bucket: b.png goes again.
    real_save = type(PICTURES_STORAGE._wrapped).save
    calls = []

    def failing_save(storage, name, content, **kwargs):
        calls.append(name)
        if len(calls) > 2:
            raise OSError("the store is unreachable")
        return real_save(storage, name, content, **kwargs)

    monkeypatch.setattr(type(PICTURES_STORAGE._wrapped), "save", failing_save)
    with pytest.raises(OSError):
        services.pictures_upload(owner=member, files=[upload("b.png"), upload("c.png")], body="",
                                 require_placed=False)
    monkeypatch.undo()
    assert len(_keys(pictures_in_s3)) == len(keys_before) + 2
    assert list(Picture.objects.filter(owner=member).values_list("name", flat=True)) == ["a.png"]
