"""Everything `benefits setup` downloads: the Meilisearch binary and the static assets,
side by side (they are independent, and each mostly waits on `npm pack` and the network).

Standard library only, on purpose: the Makefile runs this module with the system Python
while the venv is being installed (`python -m marketplace.runtime.downloads`), so a fresh
clone's downloads overlap its install instead of following it (docs/benchmarks.md).
"""

import sys
from concurrent.futures import ThreadPoolExecutor

from marketplace.runtime import meili_binary, npm_assets


def download_all() -> None:
    """The Meilisearch binary and the static assets, when missing; raises the first error."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="download") as pool:
        binary = pool.submit(meili_binary.path)
        assets = pool.submit(npm_assets.install_static_assets)
        binary.result()
        assets.result()


if __name__ == "__main__":
    try:
        download_all()
    except Exception as error:  # the install goes on: `benefits setup` downloads again and reports
        print(
            f"downloading Meilisearch and the static assets failed ({error}); `benefits setup` will try again",
            file=sys.stderr,
        )
        sys.exit(1)
