"""What the collection tarball may and must hold (``make release-check``, the build check).

A user installing ``mediaops.streaming`` needs the content Ansible loads
(``plugins/``, ``roles/``, ``playbooks/``, ``meta/``), what AWX/AAP reads
(``extensions/``: credential types; ``meta/execution-environment.yml`` with
``requirements.txt`` and ``bindep.txt``: what ansible-builder puts in an
execution environment), and what Galaxy shows (``README.md``, ``COPYING``,
``docs/`` sources, the released changelog). Everything else in the checkout is
for developing and testing the collection (``tests/``, ``.ci``, ``Makefile``,
``ruff.toml``, virtualenvs, caches, ``docs/build``, unreleased
``changelogs/fragments``) and is kept out by ``build_ignore`` in galaxy.yml.
"""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

# Written by ansible-galaxy collection build itself.
BUILD_FILES = frozenset({"MANIFEST.json", "FILES.json"})
TOP_LEVEL_FILES = frozenset({"README.md", "COPYING", "CHANGELOG.rst", "requirements.txt", "bindep.txt"})
CHANGELOG_FILES = frozenset({"changelogs/changelog.yaml", "changelogs/config.yaml"})
CONTENT_DIRS = ("plugins", "roles", "playbooks", "meta", "extensions", "docs")
# Generated or tool files that must not ship even inside an allowed directory.
NEVER_PARTS = frozenset({"__pycache__"})
NEVER_PREFIXES = ("docs/build/",)
NEVER_SUFFIXES = (".pyc", ".pyo", ".tar.gz", ".retry", ".orig", ".rej", "~")
REQUIRED = frozenset(
    {
        "MANIFEST.json",
        "FILES.json",
        "README.md",
        "COPYING",
        "requirements.txt",
        "bindep.txt",
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "changelogs/changelog.yaml",
    }
)


def tarball_files(tarball: Path) -> list[str]:
    """The paths of the files (not directories) in a collection tarball."""
    with tarfile.open(tarball, "r:gz") as archive:
        return sorted(PurePosixPath(member.name).as_posix() for member in archive.getmembers() if not member.isdir())


def why_unexpected(name: str) -> str | None:
    """None when a user needs this file, otherwise why it must not be in the tarball."""
    path = PurePosixPath(name)
    if any(part.startswith(".") for part in path.parts):
        return "hidden file (tool or editor state)"
    if any(part in NEVER_PARTS for part in path.parts[:-1]) or name.endswith(NEVER_SUFFIXES) or name.startswith(NEVER_PREFIXES):
        return "generated file (cache, build output or archive)"
    if name in BUILD_FILES or name in TOP_LEVEL_FILES or name in CHANGELOG_FILES:
        return None
    if name.startswith("changelogs/"):
        return "changelog data other than the released changelog (fragments are merged by a release)"
    if len(path.parts) > 1 and path.parts[0] in CONTENT_DIRS:
        return None
    return "not part of what a user installs (development or test file)"


def shipped_sources(collection: Path) -> set[str]:
    """The files of the checkout that must reach the user: every file under the content directories."""
    names = set()
    for directory in CONTENT_DIRS:
        for path in (collection / directory).rglob("*"):
            relative = path.relative_to(collection).as_posix()
            if path.is_file() and why_unexpected(relative) is None:
                names.add(relative)
    return names


def problems(tarball: Path, collection: Path) -> list[str]:
    """Every file the tarball should not hold and every file it lacks, one sentence each."""
    names = tarball_files(tarball)
    found = set(names)
    reasons = [f"unexpected in the tarball: {name} ({reason})" for name in names if (reason := why_unexpected(name))]
    missing = sorted((REQUIRED | shipped_sources(collection)) - found)
    reasons.extend(f"missing from the tarball: {name}" for name in missing)
    return reasons
