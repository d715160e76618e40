"""Uploads go through the media seam (marketplace/core/media.py): a filesystem store under
the var folder settings give, or a bucket of an S3-compatible store, chosen by MEDIA_STORAGE.

The S3 store is tried against moto's S3 server: a process of its own on loopback that speaks
the S3 API over HTTP, as MinIO would; nothing of boto3 is mocked."""

import io
import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from marketplace.core import media
from marketplace.core.settings import get_settings
from marketplace.runtime import components
from tests.catalog import builders
from tests.conftest import ARTIFACTS


@pytest.fixture
def settings_from(monkeypatch):
    def read(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return get_settings()

    yield read
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.unit
def test_a_file_is_kept_sized_and_forgotten(tmp_path):
    store = media.FileSystemMedia(tmp_path / "media")
    assert store.size("offers/a.jpg") is None
    assert store.read("offers/a.jpg") is None
    store.save("offers/a.jpg", b"\xff\xd8picture")
    assert (tmp_path / "media" / "offers" / "a.jpg").read_bytes() == b"\xff\xd8picture"
    assert store.size("offers/a.jpg") == 9
    assert store.read("offers/a.jpg") == b"\xff\xd8picture"
    assert [path.name for path in (tmp_path / "media" / "offers").iterdir()] == ["a.jpg"]  # no partial left
    assert list(store.names()) == ["offers/a.jpg"]
    store.delete("offers/a.jpg")
    store.delete("offers/a.jpg")  # twice: nothing happens
    assert store.size("offers/a.jpg") is None


BAD_NAMES = ["../secrets.json", "/etc/passwd", "offers/../../x.jpg", "offers/./x.jpg", "offers//x.jpg", ""]


@pytest.mark.unit
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_never_leaves_the_store(tmp_path, name):
    store = media.FileSystemMedia(tmp_path)
    with pytest.raises(ValueError):
        store.save(name, b"x")


@pytest.mark.unit
def test_the_store_lives_under_the_var_folder_unless_told(settings_from, tmp_path):
    assert settings_from(BENEFITS_VAR=str(tmp_path)).media.root == tmp_path / "media"
    assert media.store() == media.FileSystemMedia(tmp_path / "media")
    assert settings_from(MEDIA_ROOT=str(tmp_path / "elsewhere")).media.root == tmp_path / "elsewhere"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"MEDIA_STORAGE": "ftp"}, "MEDIA_STORAGE=ftp is not available"),
        ({"MEDIA_STORAGE": "s3"}, "MEDIA_STORAGE=s3 needs MEDIA_S3_BUCKET"),
        ({"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": "pictures", "MEDIA_S3_ACCESS_KEY": "key"}, "both"),
    ],
)
def test_a_store_that_cannot_keep_uploads_is_refused_at_start(settings_from, env, refusal):
    with pytest.raises(RuntimeError, match=refusal):
        settings_from(**env)


@pytest.mark.unit
def test_s3_settings_choose_the_bucket_and_keep_the_secret_out_of_logs(settings_from):
    settings = settings_from(
        MEDIA_STORAGE="s3",
        MEDIA_S3_BUCKET="pictures",
        MEDIA_S3_ENDPOINT="http://minio:9000",
        MEDIA_S3_ACCESS_KEY="benefits",
        MEDIA_S3_SECRET_KEY="s3cr3t-value",
    )
    store = media.store()
    assert isinstance(store, media.S3Media) and store.bucket == "pictures"
    assert store.client.meta.endpoint_url == "http://minio:9000"
    assert "s3cr3t-value" not in repr(settings) and "benefits" not in repr(settings.media)


# Against a real S3 server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server on a free loopback port, for this module; its URL."""
    port = components.free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with open(ARTIFACTS / "moto-s3.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # moto imports for seconds, more on a busy machine
    while True:
        try:
            httpx.get(url, timeout=5)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("moto's S3 server did not start; see tests/artifacts/moto-s3.log") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def s3_store(s3_server, settings_from) -> media.S3Media:
    """MEDIA_STORAGE=s3 on a new, empty bucket of the server."""
    bucket = f"media-{secrets.token_hex(4)}"
    settings_from(
        MEDIA_STORAGE="s3",
        MEDIA_S3_BUCKET=bucket,
        MEDIA_S3_ENDPOINT=s3_server,
        MEDIA_S3_ACCESS_KEY="benefits",
        MEDIA_S3_SECRET_KEY="benefits-secret",
    )
    store = media.store()
    assert isinstance(store, media.S3Media)
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.mark.integration
def test_the_bucket_keeps_sizes_reads_and_forgets(s3_store):
    assert s3_store.size("offers/a.jpg") is None
    assert s3_store.read("offers/a.jpg") is None
    s3_store.save("offers/a.jpg", b"\xff\xd8picture")
    assert s3_store.size("offers/a.jpg") == 9
    assert s3_store.read("offers/a.jpg") == b"\xff\xd8picture"
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key="offers/a.jpg")
    assert head["ContentType"] == "image/jpeg"
    s3_store.save("offers/a.jpg", b"\xff\xd8second")  # a second save replaces the object whole
    assert s3_store.read("offers/a.jpg") == b"\xff\xd8second"
    assert list(s3_store.names()) == ["offers/a.jpg"]
    s3_store.delete("offers/a.jpg")
    s3_store.delete("offers/a.jpg")  # twice: nothing happens
    assert s3_store.size("offers/a.jpg") is None
    assert list(s3_store.names()) == []


@pytest.mark.integration
@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_name_never_leaves_the_bucket(s3_store, name):
    with pytest.raises(ValueError):
        s3_store.save(name, b"x")
    assert list(s3_store.names()) == []


@pytest.mark.integration
def test_an_uploaded_picture_goes_to_the_bucket_and_is_served_at_media(s3_store):
    """The upload path (catalog's checks and resizing) writes through the store, and `/media/`
    answers the object from the bucket (a proxy: the bucket stays private, the picture on the
    site's origin), cached by the viewer's browser for good."""
    from catalog import services as catalog
    from marketplace.core.web import media_pages

    name = catalog._store_image(builders.picture("PNG"))
    thumbnail = catalog.thumbnail_name(name)
    assert {name, thumbnail} == set(s3_store.names())
    handler = media_pages.route()
    assert handler is media_pages.from_store
    with TestClient(Litestar(route_handlers=[handler])) as client:
        shown = client.get(f"/media/{name}")
        assert shown.status_code == 200
        assert shown.content == s3_store.read(name)
        assert shown.headers["content-type"] == "image/jpeg"
        assert shown.headers["cache-control"] == "private, max-age=31536000, immutable"
        assert Image.open(io.BytesIO(client.get(f"/media/{thumbnail}").content)).width == 400
        assert client.get("/media/offers/nothing-here.jpg").status_code == 404
        assert client.get("/media/offers/%2E%2E/x.jpg").status_code == 404


@pytest.mark.unit
def test_the_filesystem_store_is_served_as_static_files(settings_from, tmp_path):
    from marketplace.core.web import media_pages

    settings_from(MEDIA_STORAGE="filesystem", MEDIA_ROOT=str(tmp_path))
    media.store().save("offers/a.jpg", b"\xff\xd8picture")
    with TestClient(Litestar(route_handlers=[media_pages.route()])) as client:
        shown = client.get("/media/offers/a.jpg")
        assert shown.status_code == 200 and shown.content == b"\xff\xd8picture"
        assert shown.headers["cache-control"] == "private, max-age=31536000, immutable"
        assert client.get("/media/offers/b.jpg").status_code == 404


@pytest.mark.integration
def test_a_backup_moves_the_pictures_of_a_folder_into_the_bucket(settings_from, s3_store, tmp_path):
    """`benefits backup` packs every file of the store; `benefits restore` puts them into
    the store configured then: here from a folder into a bucket, and back out of it."""
    from marketplace.runtime import backup

    bucket_env = {name: value for name, value in os.environ.items() if name.startswith("MEDIA_")}
    settings_from(MEDIA_STORAGE="filesystem", MEDIA_ROOT=str(tmp_path / "folder"))
    media.store().save("offers/a.jpg", b"\xff\xd8one")
    media.store().save("complaints/b.jpg", b"\xff\xd8two")
    assert backup._pack_media(tmp_path / "folder.tar") == 2

    settings_from(**bucket_env)
    backup._unpack_media(tmp_path / "folder.tar")
    assert sorted(s3_store.names()) == ["complaints/b.jpg", "offers/a.jpg"]
    assert s3_store.read("complaints/b.jpg") == b"\xff\xd8two"
    assert backup._pack_media(tmp_path / "bucket.tar") == 2

    settings_from(MEDIA_STORAGE="filesystem", MEDIA_ROOT=str(tmp_path / "again"))
    backup._unpack_media(tmp_path / "bucket.tar")
    assert (tmp_path / "again" / "offers" / "a.jpg").read_bytes() == b"\xff\xd8one"
