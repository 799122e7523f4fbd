"""The documentation site in a real browser (``make docs-test``; not part of ``make test``).

The site is built from a staged copy of the checkout into a temporary
directory by tests/docs/build.py (the same lint and build as ``make docs``)
and opened from disk in Debian's headless Chromium through Playwright, which
never downloads a browser of its own here. What the pages must show is read
from the collection itself, never written down here: the module names from
plugins/modules, the role's options from its meta/argument_specs.yml, the
guides from docs/docsite/extra-docs.yml, and a module's options and return
values from ``ansible-doc --json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import sync_playwright

from tests.docs.build import BIN_DIR, COLLECTION, build, environment
from tests.run_tests import REPO_ROOT, stage

CHROMIUM = Path("/usr/bin/chromium")
# What this closed network needs: no sandbox (root, no user namespaces), and none of Chromium's background calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = REPO_ROOT / "tests" / "output" / "docs" / "usp_publishing_point.png"
MODULE = "usp_publishing_point"
TYPE_NAMES = {"str": "string", "int": "integer", "bool": "boolean", "list": "list", "dict": "dictionary", "float": "float", "path": "path", "raw": "any"}
SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
MARKUP = re.compile(r"\b(?:[CVIBOEM]|RV)\(([^)]*)\)")


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def chromium() -> Path:
    if CHROMIUM.is_file():
        return CHROMIUM
    if on_ci():
        pytest.fail(f"{CHROMIUM} is missing and CI is set: install Debian's chromium (apt-get install -y chromium), as .ci/run does")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); Playwright's own browser download is not used")


@pytest.fixture(scope="module")
def staged():
    collection = stage()
    yield collection
    shutil.rmtree(collection.parents[2], ignore_errors=True)


@pytest.fixture(scope="module")
def site(staged, tmp_path_factory):
    return build(tmp_path_factory.mktemp("docs") / "html", collection=staged)


@pytest.fixture(scope="module")
def browser(chromium):
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 2400}
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


class Visit:
    """One page opened from disk, with everything that went wrong on the way recorded."""

    def __init__(self, context, path: Path):
        self.page = context.new_page()
        self.outside: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: None if request.url.startswith("file://") else self.outside.append(request.url))
        self.page.on("requestfailed", lambda request: self.failed.append(f"{request.url}: {request.failure}"))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.as_uri(), wait_until="load")

    def assert_clean(self) -> None:
        assert not self.outside, f"the page asked for something outside the site (offline docs must not): {self.outside}"
        assert not self.failed, f"requests failed: {self.failed}"
        assert not self.errors, f"JavaScript errors: {self.errors}"
        # The theme's stylesheet applied: its side navigation is fixed, unstyled HTML would leave it static.
        assert self.page.evaluate("getComputedStyle(document.querySelector('.wy-nav-side')).position") == "fixed"

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def visit(browser):
    opened = []

    def open_page(path: Path) -> Visit:
        opened.append(Visit(browser, path))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def module_names(collection: Path) -> list[str]:
    return sorted(path.stem for path in (collection / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def role_specs(collection: Path) -> dict[str, dict]:
    return {path.parents[1].name: yaml.safe_load(path.read_text()) for path in sorted((collection / "roles").glob("*/meta/argument_specs.yml"))}


def ansible_doc(collection: Path, name: str) -> dict:
    argv = [str(BIN_DIR / "ansible-doc"), "--json", f"{COLLECTION}.{name}"]
    completed = subprocess.run(argv, env=environment(collection.parents[2]), capture_output=True, text=True, check=True)
    return json.loads(completed.stdout)[f"{COLLECTION}.{name}"]


def anchors_of(fields: dict, prefix: str, nested: str, path: str = "") -> list[str]:
    """The anchor ids antsibull-docs gives a table's rows: ``parameter-a``, ``parameter-a/b`` for suboption b of a, ..."""
    ids = []
    for name, field in fields.items():
        ids.append(f"{prefix}-{path}{name}")
        ids += anchors_of(field.get(nested) or {}, prefix, nested, f"{path}{name}/")
    return ids


def plain(description) -> str:
    """The first paragraph of a DOCUMENTATION description as the page shows it (markup reduced to its text)."""
    first = description[0] if isinstance(description, list) else description
    return " ".join(MARKUP.sub(r"\1", first).split())


def squeeze(text: str) -> str:
    """Whitespace collapsed, and Sphinx's typographic quotes (smartquotes) back to the plain ones DOCUMENTATION has."""
    return " ".join(text.translate(SMART_QUOTES).split())


def test_index_links_every_module_the_role_and_the_guides(visit, site, staged):
    index = visit(site.index)
    index.assert_clean()
    main = index.page.locator("div[role=main]")
    assert COLLECTION in index.page.title().lower()

    modules = module_names(staged)
    roles = role_specs(staged)
    assert modules and roles
    targets = [(name, "module") for name in modules] + [(name, "role") for name in roles]
    for name, kind in targets:
        href = f"{name}_{kind}.html"
        link = main.locator(f'a[href="{href}"], a[href^="{href}#"]')
        assert link.count() >= 1, f"the index has no link to the {kind} {name}"
        assert name in link.first.inner_text()
        page = visit(site.html / href)
        page.assert_clean()
        heading = page.page.locator("h1").first.inner_text()
        assert heading.startswith(f"{COLLECTION}.{name} {kind}"), f"{href} shows {heading!r}"

    extra_docs = yaml.safe_load((staged / "docs" / "docsite" / "extra-docs.yml").read_text())
    guides = [entry if isinstance(entry, str) else entry["ref"] for section in extra_docs["sections"] for entry in section["toctree"]]
    assert guides
    for guide in guides:
        link = main.locator(f'a[href="docsite/{guide}.html"], a[href^="docsite/{guide}.html#"]')
        assert link.count() >= 1, f"the index has no link to the guide {guide}"
        page = visit(site.html / "docsite" / f"{guide}.html")
        page.assert_clean()
        assert page.page.locator("h1").first.inner_text().startswith(link.first.inner_text().strip())
        assert page.page.locator("div.highlight").count() > 0, f"the guide {guide} shows no highlighted code"


def test_role_page_lists_every_option_of_its_argument_spec(visit, site, staged):
    for role, spec in role_specs(staged).items():
        page = visit(site.html / f"{role}_role.html")
        page.assert_clean()
        for entry_point, entry in spec["argument_specs"].items():
            for option in entry.get("options", {}):
                anchor = page.page.locator(f'[id="parameter-{entry_point}--{option}"]')
                assert anchor.count() == 1, f"the {role} role page has no row for {entry_point}: {option}"


def test_module_page_options_and_return_values(visit, site, staged):
    doc = ansible_doc(staged, MODULE)
    options, returns = doc["doc"]["options"], doc["return"]
    module = visit(site.html / f"{MODULE}_module.html")
    module.assert_clean()
    page = module.page
    assert page.locator("h1").first.inner_text().startswith(f"{COLLECTION}.{MODULE} module")

    tables = page.locator("table.ansible-option-table")
    parameters = tables.filter(has=page.locator('[id^="parameter-"]'))
    assert parameters.count() == 1
    anchors = parameters.locator("div.ansibleOptionAnchor").evaluate_all("nodes => nodes.map(node => node.id)")
    assert sorted(anchors) == sorted(anchors_of(options, "parameter", "suboptions")), "the options table differs from the module's DOCUMENTATION"

    for name in ("name", "state", "api_url"):
        option = options[name]
        row = parameters.locator("tr", has=page.locator(f'[id="parameter-{name}"]'))
        assert row.is_visible()
        text = squeeze(row.inner_text())
        assert text.startswith(name), text
        assert TYPE_NAMES[option.get("type", "str")] in text
        assert ("required" in text) == bool(option.get("required")), text
        assert plain(option["description"]) in text, text
        for choice in option.get("choices", []):
            marker = f'"{choice}" \u2190 (default)' if choice == option.get("default") else f'"{choice}"'
            assert marker in text, text

    values = tables.filter(has=page.locator('[id^="return-"]'))
    assert values.count() == 1
    anchors = values.locator("div.ansibleOptionAnchor").evaluate_all("nodes => nodes.map(node => node.id)")
    assert sorted(anchors) == sorted(anchors_of(returns, "return", "contains")), "the return values table differs from the module's RETURN"
    for name, value in returns.items():
        text = squeeze(values.locator("tr", has=page.locator(f'[id="return-{name}"]')).inner_text())
        assert text.startswith(name) and TYPE_NAMES[value["type"]] in text, text
        assert plain(value["description"]) in text, text
        assert f"Returned: {plain(value['returned'])}" in text, text

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 50_000, "the screenshot is too small to show the page"
