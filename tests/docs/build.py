"""Build the collection's documentation site with antsibull-docs (``make docs``: ``python -m tests.docs.build``).

1. Stage the checkout as ``make test`` does (tests/run_tests.py's ``stage()``),
   so ansible-doc finds ``mediaops.streaming`` through ``ANSIBLE_COLLECTIONS_PATH``
   and nothing else (the environment's ``ANSIBLE_*`` and vendor variables are dropped).
2. ``antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs``
   on the staged collection: any message fails the build, also when the exit
   status is 0.
3. ``antsibull-docs sphinx-init --use-current --squash-hierarchy --fail-on-error``
   writes the Sphinx project (conf.py, build.sh); its build.sh runs
   ``antsibull-docs collection`` (one page per module, filter and role, from
   their DOCUMENTATION/EXAMPLES/RETURN and the role's meta/argument_specs.yml,
   plus the guides in docs/docsite/) and ``sphinx-build -W``.
4. The HTML goes to docs/build/html (git-ignored), or ``--dest``.

The build runs offline. The generated conf.py maps intersphinx to
docs.python.org, jinja and docs.ansible.com, which Sphinx would download; the
pages antsibull-docs writes link to only a few labels and environment variables
of ansible-core's documentation, so the build writes a local inventory of
those (their real addresses on docs.ansible.com) and maps intersphinx to it alone. Any other
undefined reference is a warning, which ``-W`` turns into a failure, and the
log is searched for signs of a download attempt.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.run_tests import BIN_DIR, REPO_ROOT, stage

COLLECTION = "mediaops.streaming"
DEFAULT_DEST = REPO_ROOT / "docs" / "build" / "html"
ANSIBLE_DOCS_URL = "https://docs.ansible.com/projects/ansible/devel/"
# label: (page and anchor under ANSIBLE_DOCS_URL, title), as ansible-documentation defines them.
ANSIBLE_LABELS = {
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings", "Ansible Configuration Settings"),
    # The inventory plugin's page links to the constructed inventory it extends.
    "ansible_collections.ansible.builtin.constructed_inventory": ("collections/ansible/builtin/constructed_inventory.html", "ansible.builtin.constructed"),
}
# ansible-core's environment variables that plugin pages name (the inventory cache
# options and the unparsed-inventory settings), on the configuration settings page.
ANSIBLE_ENVIRONMENT_VARIABLES = (
    "ANSIBLE_CACHE_PLUGIN",
    "ANSIBLE_CACHE_PLUGIN_CONNECTION",
    "ANSIBLE_CACHE_PLUGIN_PREFIX",
    "ANSIBLE_CACHE_PLUGIN_TIMEOUT",
    "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED",
    "ANSIBLE_INVENTORY_UNPARSED_FAILED",
)
NETWORK_TRACES = re.compile(
    r"failed to reach any of the inventories|intersphinx inventory .* not (?:fetchable|readable)|Max retries exceeded|HTTPSConnectionPool"
    r"|HTTPConnectionPool|NewConnectionError|Name or service not known|Temporary failure in name resolution|urlopen error|Network is unreachable",
    re.IGNORECASE,
)
DROPPED_VARIABLES = ("ANSIBLE_", "USP_", "SCALEENGINE_", "RED5_", "MEDIAOPS_STREAMING_")


class DocsBuildError(RuntimeError):
    """The site could not be built, or a check of the build failed; the message holds the tool's output."""


@dataclass(frozen=True)
class Site:
    html: Path
    log: str

    @property
    def index(self) -> Path:
        return self.html / "index.html"


def environment(root: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(DROPPED_VARIABLES)}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(root),
        # A copy of the collection installed elsewhere (site-packages) must not be documented instead of the checkout.
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_HOME=str(root / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    print("$ " + " ".join(argv), flush=True)
    completed = subprocess.run(argv, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    return completed.returncode, completed.stdout


def lint(collection: Path, env: dict[str, str]) -> None:
    argv = [str(BIN_DIR / "antsibull-docs"), "lint-collection-docs", "--plugin-docs", "--check-extra-docs-refs", str(collection)]
    status, output = run(argv, collection, env)
    if status != 0 or output.strip():
        raise DocsBuildError(f"antsibull-docs lint-collection-docs reported problems (exit status {status}):\n{output}")
    print("antsibull-docs lint-collection-docs: no problems", flush=True)


def write_inventory(path: Path) -> None:
    """A Sphinx objects.inv (version 2) holding ANSIBLE_LABELS and ANSIBLE_ENVIRONMENT_VARIABLES, read by intersphinx from disk."""
    lines = "".join(f"{label} std:label -1 {uri} {title}\n" for label, (uri, title) in sorted(ANSIBLE_LABELS.items()))
    lines += "".join(f"{name} std:envvar 1 reference_appendices/config.html#envvar-{name} -\n" for name in ANSIBLE_ENVIRONMENT_VARIABLES)
    header = "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n# The remainder of this file is compressed using zlib.\n"
    path.write_bytes(header.encode() + zlib.compress(lines.encode()))


def make_offline(project: Path) -> None:
    inventory = project / "ansible_devel.inv"
    write_inventory(inventory)
    conf = project / "conf.py"
    if "intersphinx_mapping" not in conf.read_text():
        raise DocsBuildError(f"{conf} has no intersphinx_mapping: antsibull-docs sphinx-init changed, check how this build keeps Sphinx offline")
    # Assigned after the generated mapping, so it replaces it; the inventory is a local file, never fetched.
    mapping = {"ansible_devel": (ANSIBLE_DOCS_URL, str(inventory))}
    with conf.open("a") as handle:
        handle.write(f"\n# Written by tests/docs/build.py: offline, only the local inventory of ansible-core's labels.\nintersphinx_mapping = {mapping!r}\n")


def expected_pages(collection: Path) -> list[str]:
    modules = [f"{path.stem}_module.html" for path in sorted((collection / "plugins" / "modules").glob("*.py")) if path.stem != "__init__"]
    roles = [f"{path.parents[1].name}_role.html" for path in sorted((collection / "roles").glob("*/meta/argument_specs.yml"))]
    guides = [f"docsite/{path.stem}.html" for path in sorted((collection / "docs" / "docsite" / "rst").glob("*.rst"))]
    return modules + roles + guides


def build_site(collection: Path, workdir: Path, env: dict[str, str]) -> Site:
    project = workdir / "site"
    project.mkdir()
    init = [
        str(BIN_DIR / "antsibull-docs"),
        "sphinx-init",
        "--use-current",
        "--squash-hierarchy",
        "--fail-on-error",
        "--dest-dir",
        str(project),
        "--project",
        COLLECTION,
        "--title",
        f"{COLLECTION} documentation",
        "--copyright",
        "mediaops.streaming maintainers",
        COLLECTION,
    ]
    status, output = run(init, workdir, env)
    if status != 0:
        raise DocsBuildError(f"antsibull-docs sphinx-init failed (exit status {status}):\n{output}")
    make_offline(project)
    status, log = run(["bash", str(project / "build.sh")], project, env)
    if status != 0:
        raise DocsBuildError(f"the generated build.sh failed (exit status {status}):\n{log}")
    traces = sorted({match.group(0) for match in NETWORK_TRACES.finditer(log)})
    if traces:
        raise DocsBuildError(f"the build tried the network ({', '.join(traces)}):\n{log}")
    html = project / "build" / "html"
    missing = [page for page in expected_pages(collection) if not (html / page).is_file()]
    if missing or not (html / "index.html").is_file():
        raise DocsBuildError(f"the build wrote no index.html or misses {', '.join(missing)}:\n{log}")
    return Site(html=html, log=log)


def build(dest: Path = DEFAULT_DEST, collection: Path | None = None) -> Site:
    """Lint and build the site into ``dest`` (replaced); ``collection``: an already staged copy (default: stage the checkout)."""
    staged_here = collection is None
    collection = collection or stage()
    root = collection.parents[2]
    env = environment(root)
    workdir = Path(tempfile.mkdtemp(prefix="mediaops-docs-"))
    try:
        lint(collection, env)
        site = build_site(collection, workdir, env)
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(site.html, dest)
        return Site(html=dest, log=site.log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if staged_here:
            shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"where the HTML goes (default: {DEFAULT_DEST.relative_to(REPO_ROOT)})")
    args = parser.parse_args(argv)
    try:
        site = build(args.dest.resolve())
    except DocsBuildError as error:
        print(f"make docs: FAILED: {error}", file=sys.stderr)
        return 1
    print(f"documentation site: {site.index}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
