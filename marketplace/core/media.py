"""Uploaded files (offer pictures, complaint photos, business licences) behind one seam, so
no domain knows where they live or reaches into the dev runtime for a folder.

A file goes by its name, `<folder>/<unguessable>.jpg`, and is shown at `/media/<name>`.
The store is chosen by settings (MEDIA_STORAGE, marketplace/core/settings.py):

- "filesystem" (the default): files under MEDIA_ROOT, by default `<BENEFITS_VAR>/media`
  (the image's volume /var/lib/benefits/media, a dev run's var/media), served by the app.

An S3-compatible store (MinIO, a cloud's object storage) would be a second class with the
same methods, writing objects under the same names to a bucket and serving `/media/` from
it; it is described in docs/architecture.md and not built, since no client for it is among
the project's dependencies and none could be tested against a real store here.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from marketplace.core.settings import get_settings


class MediaStore(Protocol):
    def save(self, name: str, content: bytes) -> None:
        """Keep `content` under `name`, whole or not at all."""

    def delete(self, name: str) -> None:
        """Forget `name`; nothing happens when there is no such file."""

    def size(self, name: str) -> int | None:
        """The file's size in bytes, or None when there is none."""

    def folder(self) -> Path:
        """Where the app serves `/media/` from."""


@dataclass(frozen=True)
class FileSystemMedia:
    root: Path

    def _path(self, name: str) -> Path:
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or any(part in ("..", ".") for part in parts):
            raise ValueError(f"not a media name: {name!r}")
        return self.root.joinpath(*parts)

    def save(self, name: str, content: bytes) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_bytes(content)
        partial.replace(path)  # readers see the whole file or none

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def size(self, name: str) -> int | None:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            return None

    def folder(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root


def store() -> MediaStore:
    """The configured store."""
    return FileSystemMedia(get_settings().media.root)
