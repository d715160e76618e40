"""Uploaded files (offer pictures, complaint photos, business licences) behind one seam, so
no domain knows where they live or reaches into the dev runtime for a folder.

A file goes by its name, `<folder>/<unguessable>.jpg`, and is shown at `/media/<name>`
(marketplace/core/web/media_pages.py). The store is chosen by settings (MEDIA_STORAGE,
marketplace/core/settings.py):

- "filesystem" (the default): files under MEDIA_ROOT, by default `<BENEFITS_VAR>/media`
  (the image's volume /var/lib/benefits/media, a dev run's var/media).
- "s3": objects of the same names in the bucket MEDIA_S3_BUCKET of an S3-compatible store
  (MinIO, a cloud's object storage) at MEDIA_S3_ENDPOINT, through boto3.

A store's methods block (boto3 is synchronous, and so is a disk). Request handlers never
call them on the event loop: they await `off_loop(...)`, which runs the work in a worker
thread (an upload to a slow bucket must not stall every other request of the process) and
turns a store that cannot be reached into `Unavailable` (503, code `media_unavailable`,
at the form's field). The backup, a command of its own, calls the store directly.
"""

import mimetypes
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio.to_thread
import structlog

from marketplace.core.errors import Unavailable
from marketplace.core.settings import S3Settings, get_settings

log = structlog.get_logger(__name__)

T = TypeVar("T")


class Unreachable(Exception):
    """The store did not do what was asked (S3 down or refusing, a full or failing disk).
    Not a missing file: `size` and `read` answer None for that."""


class MediaStore(Protocol):
    def save(self, name: str, content: bytes) -> None:
        """Keep `content` under `name`, whole or not at all."""

    def delete(self, name: str) -> None:
        """Forget `name`; nothing happens when there is no such file."""

    def size(self, name: str) -> int | None:
        """The file's size in bytes, or None when there is none."""

    def read(self, name: str) -> bytes | None:
        """The file's bytes, or None when there is none."""

    def names(self) -> Iterator[str]:
        """Every file's name (for a backup)."""


def checked(name: str) -> str:
    """`name` when it is a media name (`folder/file.jpg`: relative, no empty, `.` or `..`
    part), so no name leaves the store and both stores take one name for one file."""
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"not a media name: {name!r}")
    return name


def content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


@dataclass(frozen=True)
class FileSystemMedia:
    root: Path

    def _path(self, name: str) -> Path:
        return self.root.joinpath(*checked(name).split("/"))

    def save(self, name: str, content: bytes) -> None:
        path = self._path(name)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(content)
            partial.replace(path)  # readers see the whole file or none
        except OSError as error:
            with suppress(OSError):  # the disk that failed the write may fail this too
                partial.unlink(missing_ok=True)
            raise Unreachable(f"cannot write {name}") from error

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except OSError as error:
            raise Unreachable(f"cannot delete {name}") from error

    def size(self, name: str) -> int | None:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as error:
            raise Unreachable(f"cannot stat {name}") from error

    def read(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise Unreachable(f"cannot read {name}") from error

    def names(self) -> Iterator[str]:
        for path in sorted(self.folder().rglob("*")):
            if path.is_file() and not path.name.startswith("."):  # not a save still under way
                yield path.relative_to(self.root).as_posix()

    def folder(self) -> Path:
        """The folder `/media/` is served from."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root


@dataclass(frozen=True)
class S3Media:
    """The bucket's objects under the media names. S3 keeps an object whole or not at all
    (a PUT either completes or leaves the old state), and deleting a missing key succeeds."""

    bucket: str
    client: Any = field(compare=False, repr=False)  # a boto3 S3 client (thread-safe)

    def save(self, name: str, content: bytes) -> None:
        with self._reaching(name):
            self.client.put_object(Bucket=self.bucket, Key=checked(name), Body=content, ContentType=content_type(name))

    def delete(self, name: str) -> None:
        with self._reaching(name):
            self.client.delete_object(Bucket=self.bucket, Key=checked(name))

    def size(self, name: str) -> int | None:
        with self._reaching(name):
            try:
                return int(self.client.head_object(Bucket=self.bucket, Key=checked(name))["ContentLength"])
            except self.client.exceptions.ClientError as error:
                if _missing(error):
                    return None
                raise

    def read(self, name: str) -> bytes | None:
        with self._reaching(name):
            try:
                found = self.client.get_object(Bucket=self.bucket, Key=checked(name))
            except self.client.exceptions.ClientError as error:
                if _missing(error):
                    return None
                raise
            body = found["Body"]
            try:
                return body.read()
            finally:
                body.close()

    def names(self) -> Iterator[str]:
        with self._reaching("the bucket's names"):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for item in page.get("Contents", ()):
                    yield item["Key"]

    @contextmanager
    def _reaching(self, what: str) -> Iterator[None]:
        """boto3's failures (no connection, a timeout, a refusal such as a missing bucket or
        wrong keys) as `Unreachable`; a bad name stays a ValueError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as error:
            raise Unreachable(f"{self.bucket}: {what}: {error}") from error


def _missing(error) -> bool:
    """A ClientError that says the object is not there (HEAD answers a bare 404)."""
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


@lru_cache(maxsize=4)
def s3_store(settings: S3Settings) -> S3Media:
    """One client per bucket and process: making one costs tens of milliseconds."""
    import boto3  # only a deployment that keeps its media in S3 loads the SDK
    from botocore.config import Config

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint or None,
        region_name=settings.region,
        aws_access_key_id=settings.access_key or None,
        aws_secret_access_key=settings.secret_key or None,
        config=Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # MinIO and most S3-compatible stores take bucket names in the path, not the host.
            s3={"addressing_style": "path" if settings.endpoint else "auto"},
            # Checksums only where S3 requires them: several S3-compatible stores refuse the
            # CRC headers that recent clients add to every upload.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
    return S3Media(settings.bucket, client)


def store() -> MediaStore:
    """The configured store."""
    settings = get_settings().media
    if settings.s3 is not None:
        return s3_store(settings.s3)
    return FileSystemMedia(settings.root)


async def off_loop(work: Callable[..., T], *args: Any, field: str | None = None) -> T:
    """`work(*args)` (a store's call, or an upload's checks, resizing and saves) in a worker
    thread, so a slow store or a picture being resized never holds up the event loop. A store
    that cannot be reached answers 503 `media_unavailable`, at `field` (the form's upload
    field) when there is one; the cause goes to the log, not to the person."""
    try:
        return await anyio.to_thread.run_sync(lambda: work(*args))
    except Unreachable as error:
        log.error("media_unreachable", error=str(error), cause=repr(error.__cause__))
        raise Unavailable(
            "Pictures cannot be stored or shown just now; try again in a few minutes.",
            code="media_unavailable",
            field=field,
        ) from error
