"""Run the unit and integration tests on the oldest supported pair, ansible-core 2.19 with Python 3.11 (``make test-oldest``).

Run it with Python 3.11 itself (``python3.11 tests/run_oldest.py``): it
creates ``.venv-oldest`` with that interpreter and
``tests/requirements-oldest.txt`` (rebuilt when a requirements file or the
interpreter changes), stages the checkout as ``make test`` does (the same
``stage()``), and runs pytest over ``tests/unit`` and ``tests/integration``
with the venv's Python, so every ``ansible``/``ansible-playbook`` the tests
start is ansible-core 2.19. Extra arguments go to pytest
(``python3.11 tests/run_oldest.py -k adhoc``; test paths given replace
``tests/unit tests/integration``). It prints one summary and
exits non-zero when anything failed.

The linters, ansible-test sanity and the emulators' own tests do not depend
on the ansible-core version the collection runs on: ``make test`` runs them
on the newest pair.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.run_tests import stage, stream  # noqa: E402  (the checkout's root must be importable first)

VENV = REPO_ROOT / ".venv-oldest"
REQUIREMENTS = REPO_ROOT / "tests" / "requirements-oldest.txt"
# requirements-oldest.txt includes the collection's own requirements: a change to either rebuilds the venv.
REQUIREMENT_FILES = (REQUIREMENTS, REPO_ROOT / "requirements.txt")
PAIR = (3, 11)
ANSIBLE_CORE = "2.19"


def venv_python() -> Path:
    return VENV / "bin" / "python"


def fingerprint() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for path in REQUIREMENT_FILES:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv() -> bool:
    stamp = VENV / ".installed"
    wanted = fingerprint()
    if stamp.exists() and stamp.read_text(encoding="utf-8") == wanted and venv_python().exists():
        print(f"{VENV.name} is up to date")
        return True
    shutil.rmtree(VENV, ignore_errors=True)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(venv_python()), "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [str(venv_python()), "-m", "pip", "install", "--quiet", "-r", str(REQUIREMENTS)],
    ]
    for argv in steps:
        print("$ " + " ".join(argv), flush=True)
        if subprocess.run(argv, cwd=REPO_ROOT, check=False).returncode != 0:
            return False
    stamp.write_text(wanted, encoding="utf-8")
    return True


def installed_versions() -> tuple[str, str]:
    probe = "import sys, ansible.release; print(ansible.release.__version__); print(sys.version.split()[0])"
    completed = subprocess.run([str(venv_python()), "-c", probe], capture_output=True, text=True, check=True)
    ansible_version, python_version = completed.stdout.split()
    return ansible_version, python_version


def run_pytest(collection: Path, extra: list[str]) -> tuple[bool, str]:
    bin_dir = venv_python().parent
    env = dict(os.environ, PYTHONPATH=str(collection.parents[2]), PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("VIRTUAL_ENV", None)
    workers = os.environ.get("PYTEST_WORKERS", "2")
    # Test paths among the extra arguments replace the default ones.
    named = any((REPO_ROOT / arg.split("::")[0]).exists() for arg in extra if not arg.startswith("-"))
    # pytest-ansible would otherwise make a collections/ tree of symlinks in the staged checkout (it has a galaxy.yml) and
    # install Ansible's collection finder for that tree, which hides the collection's tests package from the unit tests.
    argv = [str(venv_python()), "-u", "-m", "pytest", *([] if named else ["tests/unit", "tests/integration"]), "-p", "no:cacheprovider"]
    argv += ["--ansible-unit-inject-only", "-n", workers, "-q", "-rfEs", *extra]
    returncode, stdout = stream(argv, collection, env)
    lines = [line for line in stdout.splitlines() if re.search(r"\d+ (passed|failed|errors?|skipped|deselected|tests? collected)|no tests ran", line)]
    return returncode == 0, (lines[-1].strip("= ") if lines else "no pytest summary line")


def main(argv: list[str]) -> int:
    if sys.version_info[:2] != PAIR:
        print(f"run this with Python {PAIR[0]}.{PAIR[1]} (the oldest supported), not {sys.version.split()[0]}: python3.11 tests/run_oldest.py", file=sys.stderr)
        return 2
    started = time.monotonic()
    if not ensure_venv():
        print(f"make test-oldest: FAILED: could not install {REQUIREMENTS.relative_to(REPO_ROOT)} into {VENV.name}")
        return 1
    ansible_version, python_version = installed_versions()
    if not ansible_version.startswith(ANSIBLE_CORE + "."):
        print(f"make test-oldest: FAILED: {VENV.name} holds ansible-core {ansible_version}, not {ANSIBLE_CORE}")
        return 1
    collection = stage()
    print(f"staged the collection at {collection}")
    try:
        ok, summary = run_pytest(collection, argv)
    finally:
        shutil.rmtree(collection.parents[2], ignore_errors=True)
    print(f"\n=== summary (oldest supported pair: ansible-core {ansible_version}, Python {python_version})")
    print(f"{'PASS' if ok else 'FAIL'}  pytest (unit, integration) {time.monotonic() - started:7.1f}s")
    print(f"pytest: {summary}")
    print("make test-oldest: all tests passed" if ok else "make test-oldest: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
