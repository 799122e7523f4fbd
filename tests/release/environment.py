"""The execution environment check of ``make release-check``: ``ansible-builder create`` on the sample definition.

``ansible-builder create`` only writes the build context (a Containerfile and
``_build/``); it needs no container engine. The collection's Python and system
requirements are read inside the image build, where the ``galaxy`` stage
installs the collections of ``_build/requirements.yml`` and the ``builder``
stage runs ``introspect.py`` over them. This check runs those two steps from
the created context on this machine - ``ansible-galaxy collection install -r
requirements.yml`` in ``_build`` and the context's own ``scripts/introspect.py``
- and checks that they yield requests and lxml from mediaops.streaming, with
upper bounds, and the system packages lxml needs to compile, for RPM and dpkg
platforms.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from bindep.depends import Depends

from tests.run_tests import BIN_DIR, run

SAMPLE_DIR = Path(__file__).resolve().parent
TARBALL_NAME = "mediaops-streaming.tar.gz"
FROM_COLLECTION = "# from collection mediaops.streaming"
PYTHON_PACKAGES = ("requests", "lxml")
# What compiling lxml needs, per packaging family (bindep profiles -> package names).
COMPILE_NEEDS = {
    ("platform:rpm", "platform:redhat", "compile"): {"gcc", "libxml2-devel", "libxslt-devel"},
    ("platform:dpkg", "platform:debian", "compile"): {"gcc", "libxml2-dev", "libxslt1-dev"},
}


def create_context(workdir: Path, tarball: Path, env: dict) -> tuple[Path | None, list[str]]:
    """Copy the sample definition and the tarball into workdir and run ansible-builder create there."""
    for name in ("execution-environment.yml", "requirements.yml"):
        shutil.copy2(SAMPLE_DIR / name, workdir / name)
    shutil.copy2(tarball, workdir / TARBALL_NAME)
    context = workdir / "context"
    argv = [BIN_DIR / "ansible-builder", "create", "-f", "execution-environment.yml", "-c", context, "--output-filename", "Containerfile", "-v", "2"]
    if run(argv, workdir, env=env).returncode != 0:
        return None, ["ansible-builder create failed"]
    expected = ("Containerfile", "_build/requirements.yml", f"_build/collections/{TARBALL_NAME}")
    problems = [f"the build context lacks {name}" for name in expected if not (context / name).is_file()]
    containerfile = (context / "Containerfile").read_text() if (context / "Containerfile").is_file() else ""
    if "introspect" not in containerfile or "ansible-galaxy collection install" not in containerfile:
        problems.append("the Containerfile neither installs the collections nor introspects their requirements")
    return context, problems


def introspect(context: Path, workdir: Path, env: dict) -> tuple[list[str], list[str], list[str]]:
    """Install _build/requirements.yml as the galaxy stage does, run introspect.py as the builder stage does.

    Returns the Python requirement lines, the bindep lines, and the problems met.
    """
    build = context / "_build"
    collections = workdir / "collections"
    install = [BIN_DIR / "ansible-galaxy", "collection", "install", "-r", "requirements.yml", "--collections-path", collections]
    if run(install, build, env=env).returncode != 0:
        return [], [], ["ansible-galaxy could not install the collection from the build context's requirements.yml"]
    pip_file, bindep_file = workdir / "requirements.txt", workdir / "bindep.txt"
    argv = [
        BIN_DIR / "python",
        build / "scripts" / "introspect.py",
        "introspect",
        f"--user-bindep={build / 'bindep.txt'}",
        f"--write-pip={pip_file}",
        f"--write-bindep={bindep_file}",
        collections,
    ]
    if run(argv, build, env=env).returncode != 0 or not pip_file.is_file() or not bindep_file.is_file():
        return [], [], ["the context's introspect.py failed on the installed collection"]
    return pip_file.read_text().splitlines(), bindep_file.read_text().splitlines(), []


def requirement_problems(pip_lines: list[str], bindep_lines: list[str]) -> list[str]:
    """What the introspected requirements lack: the collection's Python packages with an upper bound, lxml's build packages."""
    problems = []
    ours = [line for line in pip_lines if line.endswith(FROM_COLLECTION)]
    for package in PYTHON_PACKAGES:
        lines = [line for line in ours if line.split("#", 1)[0].strip().lower().startswith(package)]
        if not lines:
            problems.append(f"the execution environment's Python requirements lack {package} from mediaops.streaming")
        elif "<" not in lines[0].split("#", 1)[0]:
            problems.append(f"{package} has no upper bound: {lines[0]}")
    rules = Depends("\n".join(line.split("#", 1)[0].strip() for line in bindep_lines if FROM_COLLECTION in line) + "\n")
    for profiles, needed in COMPILE_NEEDS.items():
        active = {rule[0] for rule in rules.active_rules(list(profiles))}
        if needed - active:
            problems.append(f"bindep for {profiles[0]} lacks {', '.join(sorted(needed - active))}")
    return problems


def check(tarball: Path | None, workdir: Path, env: dict) -> bool:
    if tarball is None:
        print("no tarball: the build check failed")
        return False
    workdir.mkdir(parents=True, exist_ok=True)
    context, problems = create_context(workdir, tarball, env)
    if context is not None and not problems:
        pip_lines, bindep_lines, problems = introspect(context, workdir, env)
        print("introspected Python requirements:\n  " + "\n  ".join(pip_lines))
        print("introspected system requirements:\n  " + "\n  ".join(bindep_lines))
        problems = problems or requirement_problems(pip_lines, bindep_lines)
    definition = yaml.safe_load((SAMPLE_DIR / "execution-environment.yml").read_text())
    if definition.get("version") != 3:
        problems.append("tests/release/execution-environment.yml is not a version 3 definition")
    for problem in problems:
        print(f"execution environment: {problem}")
    return not problems
