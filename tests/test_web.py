import pytest

from marketplace.core.web.pages import _same_site_path


@pytest.mark.unit
@pytest.mark.parametrize(
    "referer, expected",
    [
        (None, "/"),
        ("http://example.org:8000/console/nodes/3?x=1", "/console/nodes/3?x=1"),
        ("/provider/", "/provider/"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/\\evil.example"),  # a path on this host: browsers keep it here
        ("javascript:alert(1)", "/"),
    ],
)
def test_the_language_switch_only_returns_to_this_site(referer, expected):
    assert _same_site_path(referer, "example.org:8000") == expected
