"""The changelog check of ``make release-check``: what ``antsibull-changelog release`` makes of the fragments.

It runs on its own copy of the staged collection, because a release consumes
the fragments (``keep_fragments: false``) that the build check must see being
kept out of the tarball. The release uses the version in galaxy.yml; the check
wants ``CHANGELOG.rst`` with that version, every entry of every fragment (the
text, whitespace aside), every module under "New Modules", the release in
``changelogs/changelog.yaml``, and reStructuredText that docutils parses
without errors.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import yaml
from docutils.core import publish_doctree

from tests.run_tests import BIN_DIR, run

NAMESPACE_NAME = "mediaops.streaming"


def normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def fragment_entries(collection: Path) -> list[tuple[str, str]]:
    """(fragment file, entry text) for every entry of every fragment, but the trivial ones the changelog leaves out by design."""
    config = yaml.safe_load((collection / "changelogs" / "config.yaml").read_text()) or {}
    trivial = config.get("trivial_section_name", "trivial")
    entries = []
    for fragment in sorted((collection / "changelogs" / "fragments").glob("*.y*ml")):
        for section, value in (yaml.safe_load(fragment.read_text()) or {}).items():
            if section == trivial:
                continue
            texts = [value] if isinstance(value, str) else list(value or [])
            entries.extend((fragment.name, normalized(text)) for text in texts)
    return entries


def rst_errors(text: str) -> list[str]:
    """The error messages docutils reports for an RST text (level 3 = error and above)."""
    messages = io.StringIO()
    doctree = publish_doctree(text, settings_overrides={"report_level": 3, "halt_level": 5, "warning_stream": messages})
    return [node.astext() for node in doctree.traverse() if node.tagname == "system_message" and int(node.get("level", 0)) >= 3]


def problems_in(collection: Path, version: str, entries: list[tuple[str, str]]) -> list[str]:
    changelog = collection / "CHANGELOG.rst"
    if not changelog.is_file():
        return ["antsibull-changelog release wrote no CHANGELOG.rst"]
    text = changelog.read_text()
    flat = normalized(text)
    problems = [] if re.search(rf"^v{re.escape(version)}\n=+$", text, re.MULTILINE) else [f"CHANGELOG.rst has no section v{version}"]
    problems.extend(f"CHANGELOG.rst lacks the entry of {name}: {entry[:100]}" for name, entry in entries if entry not in flat)
    modules = sorted(path.stem for path in (collection / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
    problems.extend(f"CHANGELOG.rst does not list the new module {module}" for module in modules if f"- {NAMESPACE_NAME}.{module} - " not in text)
    releases = (yaml.safe_load((collection / "changelogs" / "changelog.yaml").read_text()) or {}).get("releases") or {}
    if version not in releases:
        problems.append(f"changelogs/changelog.yaml has no release {version}")
    problems.extend(f"CHANGELOG.rst is not valid reStructuredText: {error}" for error in rst_errors(text))
    return problems


def check(staged: Path, workdir: Path, env: dict) -> bool:
    collection = workdir / "ansible_collections" / "mediaops" / "streaming"
    shutil.copytree(staged, collection, symlinks=True)
    version = str(yaml.safe_load((collection / "galaxy.yml").read_text())["version"])
    entries = fragment_entries(collection)
    print(f"{len(entries)} entries in {len({name for name, _entry in entries})} fragments; releasing version {version}")
    if not entries:
        print("no changelog fragments to release")
        return False
    if run([BIN_DIR / "antsibull-changelog", "lint"], collection, env=env).returncode != 0:
        return False
    if run([BIN_DIR / "antsibull-changelog", "release", "--version", version], collection, env=env).returncode != 0:
        return False
    problems = problems_in(collection, version, entries)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"CHANGELOG.rst: v{version} with all {len(entries)} fragment entries")
    return not problems
