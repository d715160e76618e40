"""`benefits backup` / `benefits restore`: a drill into a fresh directory, and the refusals
that keep a restore from doing harm."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from marketplace.core import pii
from marketplace.runtime import backup
from marketplace.runtime.paths import component_dir
from tests.factories import build_world

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPONENT_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "MEILI_URL",
    "MEILI_MASTER_KEY",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "STRIPE_WEBHOOK_SECRET",
    "BENEFITS_EMBEDDED",
)


async def _counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        tables = [
            row["tablename"]
            for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {table: await connection.fetchval(f'SELECT count(*) FROM "{table}"') for table in tables}
    finally:
        await connection.close()


def _benefits(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**env, "COLUMNS": "250"}  # one line per message, however long
    return subprocess.run(
        [sys.executable, "-m", "marketplace.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
async def test_a_backup_restores_into_a_fresh_directory_with_the_same_rows_pictures_and_keys(tmp_path):
    world = await build_world()
    picture = component_dir("media") / "offers" / "drill-picture.jpg"
    picture.parent.mkdir(parents=True, exist_ok=True)
    picture.write_bytes(b"\xff\xd8 not really a jpeg \xff\xd9")
    source = await _counts(os.environ["DATABASE_URL"])
    assert source["member"] == 2 and source["offer"] == 3

    made = _benefits("backup", str(tmp_path / "backups"), env=dict(os.environ))
    assert made.returncode == 0, made.stdout + made.stderr
    [folder] = (tmp_path / "backups").iterdir()
    assert sorted(path.name for path in folder.iterdir()) == ["database.dump", "manifest.json", "media.tar"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"] == source
    dump = (folder / "database.dump").read_bytes()
    for secret in (os.environ["PII_ENCRYPTION_KEY"], os.environ["PII_HASH_KEY"], os.environ["SECRET_KEY"]):
        assert secret.encode() not in dump and secret not in (folder / "manifest.json").read_text()

    # A fresh machine: nothing configured but the secrets kept apart from the backup.
    # (Beside the session's var folder, not in tmp_path: as root, the embedded PostgreSQL
    # runs as its own user, who cannot enter pytest's private temporary folders.)
    fresh_var = Path(os.environ["BENEFITS_VAR"]).parent / f"drill-{uuid.uuid4().hex[:8]}"
    env = {key: value for key, value in os.environ.items() if key not in COMPONENT_ENV}
    env["BENEFITS_VAR"] = str(fresh_var)
    try:
        restored = _benefits("restore", str(folder), env=env)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "every table's row count matches the backup" in restored.stdout
        state = json.loads((fresh_var / "postgres" / "state.json").read_text())
        assert await _counts(state["address"]) == source
        assert (fresh_var / "media" / "offers" / "drill-picture.jpg").read_bytes() == picture.read_bytes()
        # The same keys read and find the restored personal data.
        member_id, phone = world.members["chaoyang"]
        connection = await asyncpg.connect(state["address"])
        try:
            row = await connection.fetchrow(
                "SELECT id, phone_cipher FROM member WHERE phone_hash = $1", pii.lookup_hash(phone)
            )
        finally:
            await connection.close()
        assert row["id"] == member_id and pii.decrypt(bytes(row["phone_cipher"])) == phone
        # The search index was rebuilt in the fresh Meilisearch.
        meili = json.loads((fresh_var / "meilisearch" / "state.json").read_text())["address"]
        key = json.loads((fresh_var / "secrets.json").read_text())["MEILI_MASTER_KEY"]
        prefix = os.environ.get("MEILI_INDEX_PREFIX", "")
        stats = httpx.get(f"{meili}/indexes/{prefix}offers/stats", headers={"Authorization": f"Bearer {key}"})
        assert stats.status_code == 200 and stats.json()["numberOfDocuments"] > 0
    finally:
        _benefits("services", "down", env=env)
        shutil.rmtree(fresh_var, ignore_errors=True)
        picture.unlink(missing_ok=True)


async def test_a_restore_refuses_a_database_that_has_data(tmp_path):
    await build_world()
    report = await backup.backup(tmp_path)
    assert report.rows["member"] == 2
    with pytest.raises(backup.BackupError, match="already has"):
        await backup.restore(report.path)
    assert (await _counts(os.environ["DATABASE_URL"]))["member"] == 2


async def test_a_restore_refuses_other_pii_keys_before_touching_anything(tmp_path):
    await build_world()
    report = await backup.backup(tmp_path)
    manifest_path = report.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    backup.check_keys(manifest)  # this environment's keys: accepted
    manifest["key_fingerprints"]["PII_HASH_KEY"] = backup.key_fingerprint(os.urandom(32))
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(backup.BackupError, match="PII_HASH_KEY of this environment differ"):
        await backup.restore(report.path, replace=True)
    assert (await _counts(os.environ["DATABASE_URL"]))["member"] == 2  # not dropped


@pytest.mark.unit
def test_a_folder_without_a_manifest_is_not_a_backup(tmp_path):
    with pytest.raises(backup.BackupError, match="not a backup"):
        backup.read_manifest(tmp_path)


@pytest.mark.unit
def test_the_database_password_never_reaches_a_command_line():
    target, env = backup._libpq("postgresql://benefits:s3cret@db.internal:5432/benefits?sslmode=require")
    assert "s3cret" not in target and env["PGPASSWORD"] == "s3cret"
    assert target == "postgresql://benefits@db.internal:5432/benefits?sslmode=require"
    target, _ = backup._libpq("postgresql://postgres:@/benefits?host=/tmp/socket")
    assert target == "postgresql://postgres@/benefits?host=/tmp/socket"
