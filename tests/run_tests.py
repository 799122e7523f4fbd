"""Run every check of the collection and print one summary (``make test``).

Steps, each timed:

1. stage the checkout (tracked and untracked-but-not-ignored files) as
   ``<tmp>/ansible_collections/mediaops/streaming``, the layout ansible-test
   and the collection loader need;
2. ruff lint and format check;
3. antsibull-changelog lint;
4. ``ansible-test sanity --venv`` on the running Python;
5. ansible-lint (production profile, offline) at the collection root;
6. pytest: unit tests, the emulators' own tests, and integration tests
   (modules run through Ansible against the emulators).

ansible-test bootstraps pip in its venvs with a script it downloads; where
that download fails (no internet but the package registries), a stand-in that
uses the interpreter's own ``ensurepip`` is written to the cache path
ansible-test names, and the step is run again. ansible-test runs with a
project-local HOME (``.cache/ansible-test-home``), so nothing outside the
checkout is touched and its venvs are reused between runs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent
ANSIBLE_TEST_HOME = REPO_ROOT / ".cache" / "ansible-test-home"

GET_PIP_STAND_IN = '''"""Stand-in for ansible-test's get-pip bootstrap script (written by tests/run_tests.py).

The real script is downloaded from a host that is unreachable here; this one
installs pip from the interpreter's bundled wheel, then the requested packages.
"""
import subprocess
import sys

subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
arguments = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
if arguments:
    subprocess.run([sys.executable, "-m", "pip", "install", *arguments], check=True)
'''


def log(message: str) -> None:
    print(f"\n=== {message}", flush=True)


def run(argv, cwd, env=None, capture=False) -> subprocess.CompletedProcess:
    print("$ " + " ".join(str(arg) for arg in argv), flush=True)
    if capture:
        completed = subprocess.run(argv, cwd=cwd, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        sys.stdout.write(completed.stdout)
        sys.stdout.flush()
        return completed
    return subprocess.run(argv, cwd=cwd, env=env, check=False)


def stream(argv, cwd, env=None) -> tuple[int, str]:
    """Run ``argv`` with its output streamed as it comes (a CI log should show progress) and returned for the summary.

    In chunks, not lines: pytest's progress dots share one line until the end.
    """
    print("$ " + " ".join(str(arg) for arg in argv), flush=True)
    output = bytearray()
    with subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        while chunk := process.stdout.read1(65536):
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            output += chunk
    return process.returncode, output.decode("utf-8", errors="replace")


class Steps:
    """Named checks run one after another, each timed; one that raises is a failed step, still in the summary."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool, float]] = []

    def __call__(self, name, function) -> bool:
        log(name)
        started = time.monotonic()
        try:
            ok = bool(function())
        except Exception as exc:  # a broken step must still show up in the summary
            print(f"{name} raised {exc!r}")
            ok = False
        self.results.append((name, ok, time.monotonic() - started))
        return ok

    @property
    def failed(self) -> list[str]:
        return [name for name, ok, _seconds in self.results if not ok]


def project_files() -> list[str]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT, capture_output=True, check=True
        ).stdout.decode()
        return sorted({name for name in listing.split("\0") if name and (REPO_ROOT / name).is_file()})
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", ".cache", "tests/output", "__pycache__", ".pytest_cache", ".ruff_cache"}
        names = []
        for path in REPO_ROOT.rglob("*"):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if path.is_file() and not any(relative == item or relative.startswith(item + "/") or f"/{item}/" in f"/{relative}" for item in skip):
                names.append(relative)
        return sorted(names)


def stage() -> Path:
    root = Path(tempfile.mkdtemp(prefix="mediaops-test-"))
    collection = root / "ansible_collections" / "mediaops" / "streaming"
    for name in project_files():
        target = collection / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, target)
    return collection


def sanity(collection: Path) -> bool:
    env = dict(os.environ, HOME=str(ANSIBLE_TEST_HOME), PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    ANSIBLE_TEST_HOME.mkdir(parents=True, exist_ok=True)
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    argv = [str(BIN_DIR / "ansible-test"), "sanity", "--venv", "--python", python_version, "--color", "no"]
    for _attempt in range(2):
        completed = run(argv, collection, env=env, capture=True)
        missing = re.search(r"Download failed:.*?saved to: (\S+get_pip_\S+\.py)", completed.stdout, re.DOTALL)
        if completed.returncode == 0 or not missing:
            return completed.returncode == 0
        stand_in = Path(missing.group(1))
        print(f"ansible-test could not download its pip bootstrap script; writing a stand-in at {stand_in}")
        stand_in.parent.mkdir(parents=True, exist_ok=True)
        stand_in.write_text(GET_PIP_STAND_IN)
    return False


def print_fault_matrix(rows: list[dict]) -> None:
    """The module x fault table that tests/integration/test_fault_matrix.py recorded, one line a row."""
    faults = list(dict.fromkeys(name for row in rows for name in row.get("cells", {})))
    codes = [f"F{index + 1}" for index in range(len(faults))]
    header = "module (work, where the faults hit)"
    label_width = max(len(header), *(len(row["row"]) for row in rows))
    print("  ".join(f"{code}={name}" for code, name in zip(codes, faults, strict=True)))
    print(f"{header:{label_width}}  " + " ".join(f"{code:>4}" for code in codes))
    counts: dict[str, int] = {}
    for row in sorted(rows, key=lambda item: item["row"]):
        cells = []
        for name in faults:
            outcome = row["cells"].get(name, {}).get("outcome", "-")
            counts[outcome] = counts.get(outcome, 0) + 1
            cells.append(f"{'ok' if outcome == 'ok' else 'fail' if outcome == 'failed' else outcome:>4}")
        print(f"{row['row']:{label_width}}  " + " ".join(cells))
    total = sum(counts.values())
    shown = {"ok": "succeeded", "failed": "ended in a clear failure"}
    print(
        f"{len(rows)} module rows x {len(faults)} faults = {total} cells: "
        + ", ".join(f"{count} {shown.get(outcome, outcome)}" for outcome, count in sorted(counts.items(), key=lambda item: item[0] != "ok"))
        + " (ok = succeeded within the retry budget; fail = a failure naming the URL and what to do; each cell as the test expects)"
    )


def main() -> int:
    step = Steps()
    pytest_summary = ""
    measurements: list[tuple[str, str]] = []
    matrix_rows: list[dict] = []

    collection = stage()
    print(f"staged the collection at {collection}")
    env = dict(os.environ, PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")

    step("ruff check", lambda: run([BIN_DIR / "ruff", "check", "."], collection).returncode == 0)
    step("ruff format --check", lambda: run([BIN_DIR / "ruff", "format", "--check", "."], collection).returncode == 0)
    step("antsibull-changelog lint", lambda: run([BIN_DIR / "antsibull-changelog", "lint"], collection).returncode == 0)
    step("ansible-test sanity", lambda: sanity(collection))
    lint_env = dict(env, ANSIBLE_COLLECTIONS_PATH=str(collection.parents[2]), ANSIBLE_HOME=str(collection.parents[2] / "ansible-home"))
    # At the collection root, as collection CI (ansible-content-actions) runs it; .ansible-lint says what it leaves out and why.
    lint_argv = [BIN_DIR / "ansible-lint", "--offline", "--profile", "production"]
    step("ansible-lint (production)", lambda: run(lint_argv, collection, env=lint_env).returncode == 0)

    def pytest_step():
        nonlocal pytest_summary
        pytest_env = dict(env, PYTHONPATH=str(collection.parents[2]))
        workers = os.environ.get("PYTEST_WORKERS", "2")
        junit = collection.parents[2] / "junit.xml"
        completed = run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/unit",
                "tests/emulators",
                "tests/integration",
                "-p",
                "no:cacheprovider",
                # pytest-ansible would otherwise build a collections/ symlink tree where pytest starts (it holds galaxy.yml).
                "--ansible-unit-inject-only",
                "-n",
                workers,
                "-q",
                "-rfE",
                "-o",
                "junit_family=xunit1",
                f"--junitxml={junit}",
            ],
            collection,
            env=pytest_env,
            capture=True,
        )
        # Figures that tests measured with record_property (e.g. the wall time
        # of the 20-channel restart), printed so every run reports them.
        if junit.exists():
            for prop in ElementTree.parse(junit).iter("property"):
                if prop.get("name") == "fault_matrix":
                    matrix_rows.append(json.loads(prop.get("value", "{}")))
                else:
                    measurements.append((prop.get("name", ""), prop.get("value", "")))
        lines = [line for line in completed.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
        pytest_summary = lines[-1].strip("= ") if lines else "no pytest summary line"
        return completed.returncode == 0

    step("pytest (unit, emulators, integration)", pytest_step)

    if matrix_rows:
        log("fault matrix")
        print_fault_matrix(matrix_rows)

    log("summary")
    for name, ok, seconds in step.results:
        print(f"{'PASS' if ok else 'FAIL'}  {name:40} {seconds:7.1f}s")
    for name, value in measurements:
        print(f"measured: {name} = {value}")
    print(f"pytest: {pytest_summary}")
    failed = step.failed
    print("make test: all checks passed" if not failed else f"make test: FAILED: {', '.join(failed)}")
    shutil.rmtree(collection.parents[2], ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
