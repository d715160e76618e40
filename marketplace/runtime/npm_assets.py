"""Files taken from pinned npm packages instead of committed to the repository.

`npm pack <package>@<version>` downloads the package tarball exactly as the registry
serves it, without a package.json or node_modules. We check the tarball against the
registry's published `dist.integrity` (a Subresource-Integrity string, normally
`sha512-<base64>`) before reading anything from it, so a changed or tampered package
is refused rather than installed.

    npm view htmx.org@2.0.11 dist.integrity     # how a pin below was obtained
"""

import base64
import hashlib
import os
import subprocess
import tarfile
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# marketplace/core/web/static (the same folder marketplace.core.web.config serves at /static/)
STATIC_DIR = Path(__file__).resolve().parents[1] / "core" / "web" / "static"

# (package, version, integrity) → {member inside the tarball: target under static/}
STATIC_ASSETS = [
    (
        "htmx.org",
        "2.0.11",
        "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        {"package/dist/htmx.min.js": "vendor/htmx.min.js"},
    ),
    # Swagger UI for the OpenAPI docs at /api/docs, served locally (the machines are offline).
    (
        "swagger-ui-dist",
        "5.32.0",
        "sha512-nKZB0OuDvacB0s/lC2gbge+RigYvGRGpLLMWMFxaTUwfM+CfndVk9Th2IaTinqXiz6Mn26GK2zriCpv6/+5m3Q==",
        {
            "package/swagger-ui-bundle.js": "vendor/swagger-ui/swagger-ui-bundle.js",
            "package/swagger-ui-standalone-preset.js": "vendor/swagger-ui/swagger-ui-standalone-preset.js",
            "package/swagger-ui.css": "vendor/swagger-ui/swagger-ui.css",
        },
    ),
    # The counter's QR reader (providers' /provider/counter): pure JavaScript over a canvas
    # frame, so it reads codes in iPhone Safari and WeChat's browser, which have no
    # BarcodeDetector, as well as in Chrome. Apache-2.0.
    (
        "jsqr",
        "1.4.0",
        "sha512-dxLob7q65Xg2DvstYkRpkYtmKm2sPJ9oFhrhmudT1dZvNFFTlroai3AWSpLey/w5vMcLBXRgOJsbXpdN9HzU/A==",
        {"package/dist/jsQR.js": "vendor/jsqr/jsQR.js"},
    ),
    # axe-core, the accessibility checker the browser tests inject into member pages
    # (tests/journeys/test_accessibility.py). No page references it.
    (
        "axe-core",
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        {"package/axe.min.js": "vendor/axe-core/axe.min.js"},
    ),
]


class IntegrityError(RuntimeError):
    """The downloaded tarball does not match the pinned integrity string."""


def verify_integrity(data: bytes, integrity: str) -> None:
    """Raise IntegrityError unless `data` matches one of the SRI hashes in `integrity`."""
    for entry in integrity.split():
        algorithm, _, expected = entry.partition("-")
        if algorithm not in ("sha256", "sha384", "sha512") or not expected:
            continue
        if base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected:
            return
    raise IntegrityError(f"tarball does not match the pinned integrity {integrity[:24]}...")


def npm_pack(package: str, version: str, destination: Path) -> Path:
    """Download `package@version` as a tarball into `destination`; its path."""
    subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--pack-destination", str(destination), "--silent"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    tarballs = sorted(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        raise RuntimeError(f"npm pack {package}@{version} produced {len(tarballs)} tarballs")
    return tarballs[0]


def fetch_npm_files(package: str, version: str, integrity: str, members: list[str]) -> dict[str, bytes]:
    """The bytes of each of `members` (e.g. "package/dist/htmx.min.js") from the verified
    tarball of `package@version`."""
    with tempfile.TemporaryDirectory(prefix="npm-pack-") as tmp:
        tarball = npm_pack(package, version, Path(tmp))
        verify_integrity(tarball.read_bytes(), integrity)
        files = {}
        with tarfile.open(tarball, "r:gz") as archive:
            for member in members:
                try:
                    source = archive.extractfile(archive.getmember(member))
                except KeyError:
                    source = None
                if source is None:
                    raise FileNotFoundError(f"{member} is not a file in {package}@{version}")
                files[member] = source.read()
        return files


def install_static_asset(asset: tuple, static_dir: Path = STATIC_DIR) -> list[Path]:
    """Write the files of one entry of STATIC_ASSETS under `static_dir` when missing; the
    paths written."""
    package, version, integrity, targets = asset
    missing = {
        member: static_dir / relative for member, relative in targets.items() if not (static_dir / relative).exists()
    }
    if not missing:
        return []
    written = []
    for member, data in fetch_npm_files(package, version, integrity, list(missing)).items():
        target = missing[member]
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data)
        written.append(target)
    return written


def install_static_assets(static_dir: Path = STATIC_DIR) -> list[Path]:
    """Write the vendored browser files under `static_dir` when missing; the paths
    written. Safe to call on every setup: existing files are left alone. The packages
    download side by side: each `npm pack` mostly waits on node's start and the network."""
    with ThreadPoolExecutor(max_workers=len(STATIC_ASSETS), thread_name_prefix="npm-pack") as pool:
        results = list(pool.map(lambda asset: install_static_asset(asset, static_dir), STATIC_ASSETS))
    return [path for written in results for path in written]


def write_atomically(target: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to a file of this process beside `target`, then rename it: a reader (or
    another process installing the same file) never sees half a file."""
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_bytes(data)
    if mode is not None:
        partial.chmod(mode)
    partial.replace(target)


if __name__ == "__main__":
    for path in install_static_assets():
        print(f"wrote {path}")
