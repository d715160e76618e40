"""The UI's translations: the catalogs match what the code and templates ask for, every
message has a Chinese translation, and pages come out in the language chosen."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from marketplace.core.errors import ERROR_KEYWORDS
from marketplace.core.web import i18n

REPO = Path(__file__).resolve().parents[1]
BABEL_CFG = REPO / "marketplace" / "core" / "web" / "babel.cfg"
# Every package that has messages keeps its own catalogs.
PACKAGES = [name for name, folder in i18n.translation_dirs().items() if folder.exists()]
CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _extracted(package: str) -> set[tuple[str | None, str]]:
    """The (msgctxt, msgid) pairs `pybabel extract -F marketplace/core/web/babel.cfg ... <package>`
    finds; msgctxt is None but for pgettext's messages."""
    with BABEL_CFG.open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    # A sub-package with catalogs of its own (catalog/search) is not part of its parent's.
    own = {str(REPO / other) for other in i18n.translation_dirs() if other.startswith(package + "/")}
    ids = set()
    # Domain errors' messages are msgids too: the first argument of every error class.
    keywords = {**DEFAULT_KEYWORDS, **{name: None for name in ERROR_KEYWORDS}}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(REPO / package),
        method_map,
        options_map,
        keywords=keywords,
        directory_filter=lambda path: path not in own and not path.rsplit("/", 1)[-1].startswith("."),
    ):
        ids.add((context, message if isinstance(message, str) else message[0]))
    return ids


def _catalog(locale: str, package: str = "marketplace"):
    with (i18n.translation_dirs()[package] / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=locale)


def _ids(catalog) -> set[tuple[str | None, str]]:
    return {
        (message.context, message.id if isinstance(message.id, str) else message.id[0])
        for message in catalog
        if message.id
    }


@pytest.fixture(scope="module", params=PACKAGES)
def package(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def extracted(package) -> set[str]:
    ids = _extracted(package)
    assert len(ids) > (50 if package == "marketplace" else 0), "extraction found too few messages"
    return ids


@pytest.mark.unit
def test_every_extracted_message_has_a_chinese_translation(extracted, package):
    catalog = _catalog("zh_Hans", package)
    untranslated = []
    for context, msgid in sorted(extracted, key=lambda pair: (pair[1], pair[0] or "")):
        message = catalog.get(msgid, context)
        strings = (
            [] if message is None else ([message.string] if isinstance(message.string, str) else list(message.string))
        )
        if message is None or message.fuzzy or not all(s and s.strip() for s in strings):
            untranslated.append(msgid)
    assert not untranslated, f"missing zh_Hans translations (run the commands in babel.cfg): {untranslated}"


@pytest.mark.unit
def test_catalogs_match_the_extraction(extracted, package):
    zh, en = _ids(_catalog("zh_Hans", package)), _ids(_catalog("en", package))
    assert zh == en, f"only in zh_Hans: {zh - en}; only in en: {en - zh}"
    assert extracted <= zh, f"not in the catalogs yet (pybabel update): {extracted - zh}"
    assert zh <= extracted, f"stale msgids no code uses any more: {zh - extracted}"


@pytest.mark.unit
def test_translations_keep_their_placeholders(package):
    for message in _catalog("zh_Hans", package):
        if not message.id:
            continue
        singular = message.id if isinstance(message.id, str) else message.id[0]
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(singular)), (singular, string)


@pytest.mark.unit
def test_chinese_translations_are_chinese(package):
    english_only = [
        m.id
        for m in _catalog("zh_Hans", package)
        if m.id
        and isinstance(m.string, str)
        # Placeholders are no words: "%(name)s（%(code)s）" is Chinese punctuation around two values.
        and re.search(r"[A-Za-z]{3,}", PLACEHOLDER.sub("", m.string))
        and not CJK.search(m.string)
    ]
    assert not english_only, english_only
    # An English sentence inside a Chinese one is a translation glued to the next entry's
    # msgid (what a line-based merge of two catalogs does).
    glued = [
        m.id
        for m in _catalog("zh_Hans", package)
        if m.id and isinstance(m.string, str) and re.search(r"[A-Za-z]{3,} [a-z]{3,} [a-z]{3,}", m.string)
    ]
    assert not glued, glued


@pytest.mark.unit
@pytest.mark.parametrize(
    ("locale", "wrong_password", "not_signed_in"),
    [
        ("zh_Hans", "账号或密码错误。", "请先登录。"),
        ("en", "The account or password is wrong.", "Sign in first."),
    ],
)
def test_messages_of_the_identity_service_are_translated(locale, wrong_password, not_signed_in):
    """pages.py passes these domain messages through i18n.gettext(error.detail)."""
    token = i18n.current_locale.set(locale)
    try:
        assert i18n.gettext("The account or password is wrong.") == wrong_password
        assert i18n.gettext("Sign in first.") == not_signed_in
    finally:
        i18n.current_locale.reset(token)


@pytest.mark.integration
async def test_page_in_chinese_by_default(client):
    response = await client.get("/login")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="zh-Hans">' in html
    assert "会员登录" in html and "手机号" in html
    assert "Member sign-in" not in html


@pytest.mark.integration
async def test_page_in_english_when_chosen(client):
    response = await client.get("/login", headers={"cookie": "lang=en"})
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    assert "Member sign-in" in html and "Mobile number" in html
    assert "会员登录" not in html


AREAS = ["/nope", "/provider/nope", "/console/nope", "/evaluator/nope"]


@pytest.mark.parametrize("path", AREAS)
@pytest.mark.integration
async def test_error_page_is_rendered_in_every_area(client, path):
    response = await client.get(path, headers={"accept": "text/html"})
    assert response.status_code == 404
    assert 'data-status="404"' in response.text
    assert "页面不存在" in response.text


@pytest.mark.parametrize("path", AREAS)
@pytest.mark.integration
async def test_error_page_of_an_unknown_path_follows_the_language_cookie(client, path):
    response = await client.get(path, headers={"accept": "text/html", "cookie": "lang=en"})
    assert "Page not found" in response.text


@pytest.mark.integration
async def test_unknown_locale_falls_back_to_chinese(client):
    response = await client.get("/login", headers={"cookie": "lang=fr"})
    assert '<html lang="zh-Hans">' in response.text


@pytest.mark.unit
def test_a_message_shared_by_several_catalogs_has_one_translation():
    """The catalogs are merged into one at start-up, so two translations of one msgid would
    leave one package's pages showing the other's words. A msgid that needs different words
    in two places is two msgids, or one msgid with a msgctxt per meaning (pgettext)."""
    seen: dict[tuple[str | None, str], dict[str, str]] = {}
    for package in PACKAGES:
        for message in _catalog("zh_Hans", package):
            if message.id and isinstance(message.id, str) and message.string:
                seen.setdefault((message.context, message.id), {})[package] = message.string
    differing = {msgid: by_package for msgid, by_package in seen.items() if len(set(by_package.values())) > 1}
    assert not differing, differing


# Domain errors are said from literal msgids ---------------------------------------------------------------

SOURCE_PACKAGES = ("marketplace", "catalog", "providers", "evaluation", "benchmarks")
# Take the row problems of a batch, not a message; they say why themselves with msgids of their own.
TAKES_PROBLEMS = {"BatchRejected"}


def _sources():
    import ast

    for package in SOURCE_PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            yield path.relative_to(REPO), ast.parse(path.read_text(), filename=str(path))


def _called(node) -> str | None:
    import ast

    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name):
            return node.func.id
        if isinstance(node.func, ast.Attribute):
            return node.func.attr
    return None


@pytest.mark.unit
def test_every_domain_error_is_raised_with_a_literal_msgid():
    """`Invalid(f"... {x}")` or `Invalid(MESSAGE)` escapes Babel (no translation, English on a
    Chinese page) and puts values into the msgid: the message is a literal, values go in
    `params=`. Re-wrapping a msgid that was extracted where it was first said (`self.message`, or a
    rule's `violation.message` marked with `N_`) is the one exception."""
    import ast

    offenders = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            name = _called(node)
            if name not in ERROR_KEYWORDS:
                continue
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            rewrapped = isinstance(first, ast.Attribute) and first.attr == "message"
            if not (literal or rewrapped):
                offenders.append(f"{path}:{node.lineno}: {name}({ast.unparse(first) if first else ''})")
    assert not offenders, "domain errors need a literal msgid (values in params=):\n" + "\n".join(offenders)


@pytest.mark.unit
def test_every_domain_error_class_is_extracted():
    """A subclass of a DomainError class is named in ERROR_KEYWORDS, so that Babel extracts
    the messages it is raised with."""
    import ast

    missing = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef) or node.name in ERROR_KEYWORDS or node.name in TAKES_PROBLEMS:
                continue
            bases = {base.id if isinstance(base, ast.Name) else getattr(base, "attr", None) for base in node.bases}
            if bases & ({"DomainError", *ERROR_KEYWORDS} - {"RowProblem"}):
                missing.append(f"{path}:{node.lineno}: {node.name}")
    assert not missing, f"add these to marketplace.core.errors.ERROR_KEYWORDS: {missing}"


@pytest.mark.unit
def test_the_check_finds_an_f_string_msgid(tmp_path):
    """The walk above sees the calls it must refuse (so it cannot pass by finding nothing)."""
    import ast

    tree = ast.parse('raise Invalid(f"{n} is too many.", field="n")\nraise errors.Conflict(TEXT)\n')
    calls = [node for node in ast.walk(tree) if _called(node) in ERROR_KEYWORDS]
    assert len(calls) == 2
    assert not any(isinstance(call.args[0], ast.Constant) for call in calls)
