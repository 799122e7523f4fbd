"""``make release-check``: what Galaxy and collection CI run on a release, on a staged copy of the checkout.

The checkout (tracked and untracked-but-not-ignored files, as ``make test``
stages it) is copied to ``<tmp>/ansible_collections/mediaops/streaming``;
nothing in the checkout is written. Checks, each timed, one summary line each:

1. ansible-lint at the collection root, production profile, offline, as
   ansible-content-actions runs it, with ``ANSIBLE_COLLECTIONS_PATH`` at the
   staging root so that the playbooks resolve this collection's modules, role
   and action groups: zero violations;
2. ``ansible-galaxy collection build``, then the tarball's file list against
   what a user needs (``contents.py``): the check names every unexpected or
   missing file;
3. galaxy-importer on the tarball, configured by ``galaxy-importer.cfg``
   (offline; ansible-doc, ansible-lint, flake8, required tags, changelog on;
   ansible-test off, it needs a container): any ERROR fails, warnings are shown;
4. ``antsibull-changelog lint`` and ``release`` with the version in galaxy.yml
   (``changelog.py``): CHANGELOG.rst with every fragment's entries;
5. ``ansible-builder create`` on ``execution-environment.yml`` with the built
   tarball (``environment.py``): the context installs the collection and brings
   its Python requirements and bindep entries. No image is built.

``RELEASE_CHECK_KEEP=1`` keeps the staging directory for a look afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.release import changelog, contents, environment
from tests.run_tests import BIN_DIR, Steps, log, run, stage

HERE = Path(__file__).resolve().parent
SUMMARY_RE = re.compile(r"(\d+) failure\(s\), (\d+) warning\(s\)")


def tool_env(root: Path) -> dict:
    """The tools' environment: this venv first on PATH, Ansible's home and temporary files under the staging root."""
    home = root / "ansible-home"
    local_tmp = root / "ansible-tmp"
    local_tmp.mkdir(parents=True, exist_ok=True)
    return dict(
        os.environ,
        PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(local_tmp),
        ANSIBLE_NOCOLOR="1",
        NO_COLOR="1",
        PY_COLORS="0",
    )


def lint(collection: Path, env: dict) -> bool:
    """ansible-lint with no path: it finds the collection from galaxy.yml and lints everything not excluded."""
    lint_env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(collection.parents[2]))
    completed = run([BIN_DIR / "ansible-lint", "--offline", "--profile", "production"], collection, env=lint_env, capture=True)
    counts = SUMMARY_RE.findall(completed.stdout)
    if completed.returncode != 0:
        return False
    if counts and counts[-1] != ("0", "0"):
        print(f"ansible-lint passed with {counts[-1][0]} failure(s) and {counts[-1][1]} warning(s); none are allowed")
        return False
    return True


def build(collection: Path, output: Path, env: dict) -> Path | None:
    output.mkdir(parents=True, exist_ok=True)
    if run([BIN_DIR / "ansible-galaxy", "collection", "build", "--output-path", output], collection, env=env).returncode != 0:
        return None
    tarballs = sorted(output.glob("mediaops-streaming-*.tar.gz"))
    return tarballs[0] if len(tarballs) == 1 else None


def check_contents(tarball: Path | None, collection: Path) -> bool:
    if tarball is None:
        print("ansible-galaxy collection build made no tarball")
        return False
    problems = contents.problems(tarball, collection)
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{tarball.name}: {len(contents.tarball_files(tarball))} files, each one a user needs, none missing")
    return not problems


def galaxy_importer(tarball: Path | None, workdir: Path, env: dict) -> bool:
    if tarball is None:
        print("no tarball: the build check failed")
        return False
    workdir.mkdir(parents=True, exist_ok=True)
    importer_env = dict(
        env,
        GALAXY_IMPORTER_CONFIG=str(HERE / "galaxy-importer.cfg"),
        GALAXY_IMPORTER_TMP_ROOT_DIR=str(workdir),
        GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP=env["ANSIBLE_LOCAL_TEMP"],
    )
    argv = [sys.executable, "-m", "galaxy_importer.main", str(tarball)]
    print("$ " + " ".join(argv), flush=True)
    # Its INFO lines (one or two per plugin) are shown only when the import fails.
    completed = subprocess.run(argv, cwd=workdir, env=importer_env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    lines = completed.stdout.splitlines()
    errors = [line for line in lines if line.startswith(("ERROR", "CRITICAL")) or "Traceback (most recent call last)" in line]
    warnings = [line for line in lines if line.startswith("WARNING")]
    ok = completed.returncode == 0 and not errors and (workdir / "importer_result.json").is_file()
    if not ok:
        print(completed.stdout)
    print(f"galaxy-importer: exit status {completed.returncode}, {len(errors)} error(s), {len(warnings)} warning(s)")
    for line in warnings:
        print(f"  {line}")
    for line in errors:
        print(f"  {line}")
    return ok


def main() -> int:
    step = Steps()
    collection = stage()
    root = collection.parents[2]
    print(f"staged the collection at {collection}")
    env = tool_env(root)
    built: dict[str, Path | None] = {"tarball": None}

    def build_and_inspect() -> bool:
        built["tarball"] = build(collection, root / "dist", env)
        return check_contents(built["tarball"], collection)

    step("ansible-lint (repository root)", lambda: lint(collection, env))
    step("collection build and contents", build_and_inspect)
    step("galaxy-importer", lambda: galaxy_importer(built["tarball"], root / "importer", env))
    step("antsibull-changelog release", lambda: changelog.check(collection, root / "changelog", env))
    step("execution environment (builder create)", lambda: environment.check(built["tarball"], root / "ee", env))

    log("summary")
    for name, ok, seconds in step.results:
        print(f"{'PASS' if ok else 'FAIL'}  {name:40} {seconds:7.1f}s")
    failed = step.failed
    print("make release-check: all checks passed" if not failed else f"make release-check: FAILED: {', '.join(failed)}")
    if os.environ.get("RELEASE_CHECK_KEEP") == "1":
        print(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
