"""Uploads go through the media seam (marketplace/core/media.py): a filesystem store under
the var folder settings give, or a bucket of an S3-compatible store, chosen by MEDIA_STORAGE.

The S3 store is tried against moto's S3 server: a process of its own on loopback that speaks
the S3 API over HTTP, as MinIO would; nothing of boto3 is mocked."""

import asyncio
import contextlib
import io
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
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

    name = asyncio.run(catalog.store_picture(builders.picture("PNG"), "offers"))
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


# Uploads through the app, with the bucket slow, busy or down -----------------------------------


class GatedRelay:
    """A loopback TCP relay in front of the S3 server that can hold requests (a bucket that
    is slow to answer): while shut, the bytes a connection sends wait until the test lets
    them go, or at most `hold` seconds. `outcome` says which came first."""

    def __init__(self, target: str, hold: float = 20.0):
        self.target = urlsplit(target)
        self.hold = hold
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open = threading.Event()
        self.open.set()
        self.arrived = threading.Event()
        self.outcome: str | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def shut(self) -> None:
        self.open.clear()

    def let_go(self) -> None:
        self.outcome = self.outcome or "let go by the test"
        self.open.set()

    def close(self) -> None:
        self.open.set()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:  # closed
                return
            upstream = socket.create_connection((self.target.hostname, self.target.port))
            threading.Thread(target=self._pipe, args=(downstream, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, downstream, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, gated: bool) -> None:
        try:
            while data := source.recv(65536):
                if gated and not self.open.is_set():
                    self.arrived.set()
                    if not self.open.wait(self.hold):
                        self.outcome = self.outcome or "the hold ran out"
                        self.open.set()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (sink, source):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def gated_s3(s3_server, s3_store, settings_from):
    """The test's bucket reached through a `GatedRelay`."""
    relay = GatedRelay(s3_server)
    settings_from(MEDIA_S3_ENDPOINT=relay.url)
    assert isinstance(media.store(), media.S3Media) and media.store().bucket == s3_store.bucket
    yield relay
    relay.close()


OFFERS = "/api/v1/provider/offers/"


async def _draft(client, headers, world) -> int:
    response = await client.post(OFFERS, headers=headers, json=builders.offer_body(world))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _upload(client, headers, offer_id: int, content: bytes, **extra):
    return await client.post(
        f"{OFFERS}{offer_id}/image", headers=headers, files={"image": ("cover.png", content, "image/png")}, **extra
    )


@pytest.mark.integration
async def test_an_upload_to_a_slow_bucket_leaves_the_other_requests_answered(gated_s3, client, world):
    """boto3 blocks: run on the event loop, one upload to a slow bucket would stall every
    request of the process. While the bucket holds the upload, another request is answered,
    and only then does the test let the bucket answer the upload."""
    headers = await builders.owner(client, world)
    offer_id = await _draft(client, headers, world)
    answered_meanwhile = []

    async def meanwhile() -> None:
        assert await anyio.to_thread.run_sync(gated_s3.arrived.wait, 120), "the upload never reached the bucket"
        answered_meanwhile.append((await client.get("/health")).status_code)
        gated_s3.let_go()

    gated_s3.shut()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(meanwhile)
        uploaded = await _upload(client, headers, offer_id, builders.picture("PNG"))
    assert gated_s3.outcome == "let go by the test", "the upload held the event loop until the bucket answered"
    assert answered_meanwhile == [200]
    assert uploaded.status_code == 200, uploaded.text
    assert media.store().read(uploaded.json()["cover_image"]) is not None


def _calls_of(store: media.S3Media) -> list[str]:
    """The S3 operations the store's client makes from now on (boto3's own event hook)."""
    calls: list[str] = []
    store.client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    return calls


@pytest.mark.integration
async def test_the_picture_quota_asks_the_bucket_nothing(s3_store, client, world):
    """The quota's bytes are kept in the database at each upload: an upload costs the two
    saves of its copies, whatever the number of pictures the provider already keeps (it
    was a HEAD request per picture and thumbnail)."""
    headers = await builders.owner(client, world)
    for _ in range(3):
        kept = await _upload(client, headers, await _draft(client, headers, world), builders.picture("PNG"))
        assert kept.status_code == 200, kept.text
    calls = _calls_of(s3_store)
    uploaded = await _upload(client, headers, await _draft(client, headers, world), builders.picture("PNG"))
    assert uploaded.status_code == 200, uploaded.text
    assert calls == ["PutObject", "PutObject"]


@pytest.mark.integration
async def test_the_byte_quota_gives_the_same_answer_for_pictures_measured_or_kept(s3_store, client, world, monkeypatch):
    """The byte limit counts a picture and its thumbnail as the bucket keeps them. A picture
    kept before its size was (or by the seed) is measured in the bucket once, then kept."""
    from catalog import services as catalog
    from marketplace.core.db import engine

    headers = await builders.owner(client, world)
    first = await _upload(client, headers, await _draft(client, headers, world), builders.picture("PNG"))
    name = first.json()["cover_image"]
    kept = s3_store.size(name) + s3_store.size(catalog.thumbnail_name(name))
    [row] = await engine().run_ddl(f"SELECT cover_image_bytes FROM offer WHERE cover_image = '{name}'")
    assert row["cover_image_bytes"] == kept
    small = builders.picture("JPEG", size=(64, 48))
    monkeypatch.setitem(catalog.PICTURE_QUOTA, "active", (100, kept + len(small)))
    # One byte more than the space left is refused, the space left exactly is taken.
    monkeypatch.setitem(catalog.PICTURE_QUOTA, "active", (100, kept + len(small) - 1))
    refused = await _upload(client, headers, await _draft(client, headers, world), small)
    assert refused.status_code == 409 and refused.json()["code"] == "picture_quota", refused.text
    await engine().run_ddl("UPDATE offer SET cover_image_bytes = NULL")  # as before the column
    calls = _calls_of(s3_store)
    again = await _upload(client, headers, await _draft(client, headers, world), small)
    assert again.status_code == 409 and again.json()["code"] == "picture_quota", again.text
    assert sorted(calls) == ["HeadObject", "HeadObject"]  # measured once...
    [row] = await engine().run_ddl(f"SELECT cover_image_bytes FROM offer WHERE cover_image = '{name}'")
    assert row["cover_image_bytes"] == kept  # ...and kept
    monkeypatch.setitem(catalog.PICTURE_QUOTA, "active", (100, kept + len(small)))
    assert (await _upload(client, headers, await _draft(client, headers, world), small)).status_code == 200
    assert sorted(calls) == ["HeadObject", "HeadObject", "PutObject", "PutObject"]


@pytest.fixture
def s3_down(settings_from):
    """MEDIA_STORAGE=s3 at a loopback port where nothing listens."""
    settings_from(
        MEDIA_STORAGE="s3",
        MEDIA_S3_BUCKET="pictures",
        MEDIA_S3_ENDPOINT=f"http://127.0.0.1:{components.free_port()}",
        MEDIA_S3_ACCESS_KEY="benefits",
        MEDIA_S3_SECRET_KEY="benefits-secret",
    )


@pytest.mark.integration
async def test_an_upload_while_the_bucket_is_down_is_a_503_at_the_field_and_keeps_nothing(s3_down, client, world):
    from tests.test_errors import assert_problem

    headers = await builders.owner(client, world)
    offer_id = await _draft(client, headers, world)
    refused = await _upload(client, headers, offer_id, builders.picture("PNG"))
    body = assert_problem(refused, 503, "media_unavailable")
    assert body["errors"][0]["field"] == "image"
    assert (await client.get(f"{OFFERS}{offer_id}", headers=headers)).json()["cover_image"] is None


@pytest.mark.integration
async def test_an_upload_on_a_page_while_the_bucket_is_down_says_so_at_the_field(s3_down, client, world):
    from tests.catalog.test_pages import HTML, _web_login

    offer_id = await _draft(client, await builders.owner(client, world), world)
    await _web_login(client, "provider", world.providers["chaoyang"]["owner"])
    await client.get(f"/provider/offers/{offer_id}", headers=HTML)
    page = await client.post(
        f"/provider/offers/{offer_id}/image",
        headers=HTML,
        data={"_csrf_token": client.cookies.get("csrftoken")},
        files={"image": ("cover.png", builders.picture("PNG"), "image/png")},
    )
    assert page.status_code == 503
    error = re.search(r'id="image-error"[^>]*>(.*?)</p>', page.text, re.S)
    assert error and "图片暂时无法保存或显示" in error.group(1), page.text[:2000]
    from marketplace.core.db import engine

    [row] = await engine().run_ddl(f"SELECT cover_image, cover_image_bytes FROM offer WHERE id = {offer_id}")
    assert row["cover_image"] is None and row["cover_image_bytes"] is None


@pytest.mark.integration
async def test_a_licence_while_the_bucket_is_down_keeps_no_application(s3_down, client, world):
    from tests.providers.builders import VALID_CODE
    from tests.providers.test_pages import HTML, _application_form

    await client.get("/provider/apply", headers=HTML)
    page = await client.post(
        "/provider/apply",
        headers=HTML,
        data={**_application_form(world.nodes["chaoyang"]), "_csrf_token": client.cookies.get("csrftoken")},
        files={"licence": ("licence.png", builders.picture("PNG"), "image/png")},
    )
    assert page.status_code == 503
    error = re.search(r'id="licence-error"[^>]*>(.*?)</p>', page.text, re.S)
    assert error and "图片暂时无法保存或显示" in error.group(1), page.text[:2000]
    from marketplace.core.db import engine

    [row] = await engine().run_ddl(f"SELECT count(*) AS n FROM provider WHERE credit_code = '{VALID_CODE}'")
    assert row["n"] == 0


@pytest.mark.integration
def test_media_is_a_503_while_the_bucket_is_down(s3_down):
    from marketplace.core import errors
    from marketplace.core.web import media_pages

    app = Litestar(route_handlers=[media_pages.route()], exception_handlers=errors.EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        shown = client.get("/media/offers/a.jpg")
    assert shown.status_code == 503, shown.text
    assert shown.json()["code"] == "media_unavailable"


@pytest.mark.integration
async def test_an_upload_to_a_folder_that_cannot_be_written_is_a_503(settings_from, client, world, tmp_path):
    """The filesystem store's failures (a full or read-only disk; here the media folder is a
    file) answer as the bucket's do."""
    from tests.test_errors import assert_problem

    (tmp_path / "media").write_bytes(b"not a folder")
    settings_from(MEDIA_STORAGE="filesystem", MEDIA_ROOT=str(tmp_path / "media"))
    headers = await builders.owner(client, world)
    offer_id = await _draft(client, headers, world)
    refused = await _upload(client, headers, offer_id, builders.picture("PNG"))
    assert assert_problem(refused, 503, "media_unavailable")["errors"][0]["field"] == "image"
    assert (await client.get(f"{OFFERS}{offer_id}", headers=headers)).json()["cover_image"] is None


@pytest.mark.integration
async def test_a_complaint_photo_while_the_bucket_is_down_files_no_complaint(s3_down, client, world):
    from marketplace.core.db import engine
    from tests.evaluation.test_quality_loop import redeemed_voucher
    from tests.evaluation.test_quality_pages import member_login
    from tests.inbox.test_complaint_pages import png, post_complaint

    _, voucher = await redeemed_voucher(world)
    await member_login(client, world)
    page = await post_complaint(client, voucher.id, ("dirty.png", png(), "image/png"), "k1")
    assert page.status_code == 503
    assert 'data-testid="field-error"' in page.text and "图片暂时无法保存或显示" in page.text
    [row] = await engine().run_ddl("SELECT count(*) AS n FROM complaint")
    assert row["n"] == 0
