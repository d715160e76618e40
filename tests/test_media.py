"""Uploads go through the media seam (marketplace/core/media.py): a filesystem store under
the var folder settings give, chosen by MEDIA_STORAGE; no other store is pretended."""

import pytest

from marketplace.core import media
from marketplace.core.settings import get_settings

pytestmark = pytest.mark.unit


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


def test_a_file_is_kept_sized_and_forgotten(tmp_path):
    store = media.FileSystemMedia(tmp_path / "media")
    assert store.size("offers/a.jpg") is None
    store.save("offers/a.jpg", b"\xff\xd8picture")
    assert (tmp_path / "media" / "offers" / "a.jpg").read_bytes() == b"\xff\xd8picture"
    assert store.size("offers/a.jpg") == 9
    assert [path.name for path in (tmp_path / "media" / "offers").iterdir()] == ["a.jpg"]  # no partial left
    store.delete("offers/a.jpg")
    store.delete("offers/a.jpg")  # twice: nothing happens
    assert store.size("offers/a.jpg") is None


@pytest.mark.parametrize("name", ["../secrets.json", "/etc/passwd", "offers/../../x.jpg", ""])
def test_a_name_never_leaves_the_store(tmp_path, name):
    store = media.FileSystemMedia(tmp_path)
    with pytest.raises(ValueError):
        store.save(name, b"x")


def test_the_store_lives_under_the_var_folder_unless_told(settings_from, tmp_path):
    assert settings_from(BENEFITS_VAR=str(tmp_path)).media.root == tmp_path / "media"
    assert media.store() == media.FileSystemMedia(tmp_path / "media")
    assert settings_from(MEDIA_ROOT=str(tmp_path / "elsewhere")).media.root == tmp_path / "elsewhere"


def test_a_store_that_is_not_built_is_refused_at_start(settings_from):
    with pytest.raises(RuntimeError, match="MEDIA_STORAGE=s3 is not available"):
        settings_from(MEDIA_STORAGE="s3")
