"""The app is composed from the domains' registrations (marketplace/composition.py, each
package's domain.py): nothing a domain brings is left out, and the worker, the scheduler
and the web app take it from the registry, not from lists kept by hand."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace import composition
from marketplace.core import domains
from marketplace.core.domains import Domain
from marketplace.core.web import config, i18n

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["marketplace", "providers", "catalog", "evaluation"]

pytestmark = pytest.mark.unit


def _modules(pattern: str) -> set[str]:
    return {
        ".".join(path.relative_to(REPO).with_suffix("").parts)
        for package in PACKAGES
        for path in (REPO / package).rglob(pattern)
    }


def _declared_actor_functions() -> set[str]:
    """The names of every function decorated with `@dramatiq.actor` in the packages."""
    names = set()
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
                    "dramatiq.actor" in ast.unparse(decorator) for decorator in node.decorator_list
                ):
                    names.add(node.name)
    return names


def test_every_domain_is_registered_once_by_name():
    names = [domain.name for domain in composition.DOMAINS]
    assert len(names) == len(set(names))
    assert [domain.name for domain in domains.registered()] == names


def test_every_module_of_routes_and_actors_is_declared_by_its_domain():
    routes = {module for domain in domains.registered() for module in domain.routes}
    actors = {module for domain in domains.registered() for module in domain.actors}
    # The shell's own dashboards are the app's, not a domain's.
    pages = (_modules("controllers.py") | _modules("pages.py") | _modules("*_pages.py")) - {"marketplace.dashboards"}
    assert pages <= routes, f"declare these in their domain.py: {sorted(pages - routes)}"
    assert _modules("actors.py") <= actors, (
        f"declare these in their domain.py: {sorted(_modules('actors.py') - actors)}"
    )


def test_every_templates_and_translations_folder_is_registered():
    registered = set(config.template_dirs())
    folders = {
        path
        for package in PACKAGES
        for path in (REPO / package).rglob("templates")
        if path.is_dir() and "static" not in path.parts
    }
    assert folders == registered
    translations = {path for package in PACKAGES for path in (REPO / package).rglob("translations") if path.is_dir()}
    assert translations == set(i18n.translation_dirs().values())


def test_a_registered_domains_templates_and_messages_are_found(tmp_path, monkeypatch):
    folder = tmp_path / "parcels"
    (folder / "templates" / "parcels").mkdir(parents=True)
    (folder / "templates" / "parcels" / "hello.html").write_text("{{ _('A parcel for you') }}")
    messages = folder / "translations" / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "messages.po").write_text('msgid "A parcel for you"\nmsgstr "您有一个包裹"\n')
    (folder / "__init__.py").write_text("")
    domain = Domain.at(str(folder / "__init__.py"), "parcels")
    assert domain.templates == (folder / "templates",) and domain.translations == folder / "translations"
    # Registered for this test only: the registry comes back afterwards, and the catalogs
    # merged with this one are forgotten.
    monkeypatch.setattr(domains, "_domains", dict(domains._domains))
    domains.register(domain)
    try:
        assert config.environment().get_template("parcels/hello.html").render() == "您有一个包裹"
    finally:
        i18n.translations.cache_clear()


def test_the_worker_loads_every_actor_and_the_scheduler_every_periodic_job():
    """`dramatiq marketplace.worker` in a process of its own declares every actor of the
    packages; the periodic jobs are all among them."""
    probe = (
        "import json, dramatiq\n"
        "import marketplace.worker\n"
        "from marketplace.core.jobs import periodic\n"
        "print(json.dumps({'actors': sorted(dramatiq.get_broker().actors),"
        " 'periodic': sorted(actor.actor_name for actor, _ in periodic.jobs())}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=os.environ.copy(), cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert _declared_actor_functions() <= set(loaded["actors"])
    assert len(loaded["periodic"]) >= 20
    assert set(loaded["periodic"]) <= set(loaded["actors"])


def test_what_domains_lend_and_close_reaches_the_app_without_the_shell_naming_them(app):
    from catalog import services as catalog_services
    from catalog.search import index
    from marketplace.core.federation import consent

    assert app.dependencies["picture_store"].dependency() is catalog_services.store_picture
    assert app.dependencies["member_contacts"].dependency() is consent.evaluator_contacts
    assert index.close_clients in app.on_shutdown
    shell = (REPO / "marketplace" / "app.py").read_text()
    assert not any(f"from {package}" in shell for package in ("catalog", "providers", "evaluation"))


def test_a_server_process_freezes_its_start_up_heap_once_the_app_has_started(app):
    """What start-up built is kept out of the collector's walks (the claims bench's p99);
    the hook runs last, after the pools and caches it would otherwise miss."""
    from marketplace.app import _freeze_startup_heap

    assert app.on_startup[-1] is _freeze_startup_heap
    script = (
        "import gc\n"
        "from marketplace.app import _freeze_startup_heap\n"
        "assert gc.get_freeze_count() == 0\n"
        "_freeze_startup_heap()\n"
        "frozen = gc.get_freeze_count()\n"
        "_freeze_startup_heap()\n"
        "print(frozen, gc.get_freeze_count() == frozen)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True)
    frozen, unchanged = result.stdout.split()
    assert int(frozen) > 10_000 and unchanged == "True"
