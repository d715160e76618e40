"""Embedded components: pinned, integrity-checked installs and a stable life cycle."""

import base64
import hashlib
import subprocess

import pytest

from marketplace.runtime import components, meili_binary, npm_assets


@pytest.mark.unit
def test_integrity_accepts_the_pinned_bytes_and_refuses_any_other():
    data = b"meilisearch tarball"
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    npm_assets.verify_integrity(data, integrity)
    with pytest.raises(npm_assets.IntegrityError):
        npm_assets.verify_integrity(data + b"!", integrity)
    with pytest.raises(npm_assets.IntegrityError):
        npm_assets.verify_integrity(data, "md5-" + base64.b64encode(hashlib.md5(data).digest()).decode())


@pytest.mark.unit
def test_static_assets_install_side_by_side_whole_and_only_when_missing(tmp_path, monkeypatch):
    # The registry is stood in for: what is checked is the writing, not the download.
    asked = []

    def fetch(package, version, integrity, members):
        asked.append(package)
        return {member: f"{package} {member}".encode() for member in members}

    monkeypatch.setattr(npm_assets, "fetch_npm_files", fetch)
    written = npm_assets.install_static_assets(tmp_path)
    expected = []
    for package, _, _, targets in npm_assets.STATIC_ASSETS:
        for member, relative in targets.items():
            assert (tmp_path / relative).read_bytes() == f"{package} {member}".encode()
            expected.append(tmp_path / relative)
    assert sorted(written) == sorted(expected)
    assert not list(tmp_path.rglob("*.partial"))  # every file renamed into place whole
    asked.clear()
    assert npm_assets.install_static_assets(tmp_path) == []
    assert asked == []


@pytest.mark.integration
def test_the_installed_meilisearch_is_the_pinned_version():
    output = subprocess.run([str(meili_binary.path()), "--version"], capture_output=True, text=True, check=True)
    assert meili_binary.MEILI_VERSION in output.stdout


@pytest.mark.integration
def test_a_running_component_is_not_started_twice():
    redis = components.by_name("redis")
    if redis.external():
        pytest.skip("Redis is external to this test session")
    pid = redis.state()["pid"]
    assert redis.ensure_running() is False
    assert redis.state()["pid"] == pid


@pytest.mark.integration
@pytest.mark.exclusive
def test_a_restarted_component_keeps_its_address():
    meili = components.by_name("meilisearch")
    if meili.external():
        pytest.skip("Meilisearch is external to this test session")
    address = meili.state()["address"]
    meili.stop()
    try:
        assert not meili.running()
    finally:
        meili.ensure_running()
    assert meili.state()["address"] == address


@pytest.mark.integration
def test_meilisearch_starts_with_a_master_key_that_looks_like_a_flag(tmp_path, monkeypatch):
    """A generated key may begin with "-"; it must not be read as a command-line flag."""
    import json

    monkeypatch.setenv("BENEFITS_VAR", str(tmp_path))
    monkeypatch.delenv("MEILI_URL")
    (tmp_path / "secrets.json").write_text(json.dumps({"MEILI_MASTER_KEY": "-oLooksLikeAFlag"}))
    meili = components.Meilisearch()
    try:
        assert meili.ensure_running()
        assert meili.running()
    finally:
        meili.stop()
