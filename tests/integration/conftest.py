"""Run the collection's modules through Ansible itself, against the emulators.

``ansible_run`` runs ``ansible-playbook`` (or ad-hoc ``ansible``) in a
subprocess with this checkout as the ``mediaops.streaming`` collection, and
returns the task results (recorded by the test-only ``result_recorder``
callback) together with stdout/stderr exactly as a user sees them, so tests
can prove that a secret never appears there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.emulators.usp import UspEmulator

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
BIN_DIR = Path(sys.executable).parent


def _collections_path() -> Path:
    """A directory holding ``ansible_collections/mediaops/streaming`` = this checkout."""
    if REPO_ROOT.parts[-3:-1] == ("ansible_collections", "mediaops") and REPO_ROOT.name == "streaming":
        return REPO_ROOT.parents[2]
    root = Path(tempfile.mkdtemp(prefix="mediaops-collections-"))
    (root / "ansible_collections" / "mediaops").mkdir(parents=True)
    (root / "ansible_collections" / "mediaops" / "streaming").symlink_to(REPO_ROOT)
    return root


COLLECTIONS_PATH = _collections_path()


@dataclass
class AnsibleResult:
    rc: int
    stdout: str
    stderr: str
    tasks: list[dict] = field(default_factory=list)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def task(self, name: str, host: str = "localhost") -> dict:
        """The result of the task called ``name`` on ``host`` (the last one, if looped or repeated)."""
        found = [entry["result"] for entry in self.tasks if entry["task"] == name and entry["host"] == host]
        if not found:
            names = [entry["task"] for entry in self.tasks]
            raise AssertionError(f"no result for task {name!r} on {host}; tasks run: {names}\n{self.output[-3000:]}")
        return found[-1]


class AnsibleRunner:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.home = workdir / "ansible-home"
        self.home.mkdir(exist_ok=True)
        self.runs = 0

    def env(self, extra: dict | None = None, callback: str = "default") -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "USP_", "SCALEENGINE_", "RED5_"))}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_HOME=str(self.home),
            ANSIBLE_LOCAL_TEMP=str(self.home / "tmp"),
            ANSIBLE_STDOUT_CALLBACK=callback,
            ANSIBLE_CALLBACK_PLUGINS=str(CALLBACK_DIR),
            ANSIBLE_CALLBACKS_ENABLED="result_recorder",
            ANSIBLE_LOAD_CALLBACK_PLUGINS="true",
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_NOCOLOR="true",
            ANSIBLE_FORCE_COLOR="false",
            ANSIBLE_DEPRECATION_WARNINGS="false",
            PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(extra or {})
        return env

    def run(self, argv: list[str], env: dict | None = None, callback: str = "default", timeout: float = 300) -> AnsibleResult:
        """Run any Ansible command line (e.g. ``ansible-playbook mediaops.streaming.restart_session``)."""
        return self._run(argv, self.env(env, callback), timeout)

    def _run(self, argv: list[str], env: dict, timeout: float) -> AnsibleResult:
        self.runs += 1
        results_file = self.workdir / f"results-{self.runs}.jsonl"
        env = dict(env, MEDIAOPS_RESULT_FILE=str(results_file))
        completed = subprocess.run(argv, cwd=self.workdir, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        result = AnsibleResult(completed.returncode, completed.stdout, completed.stderr)
        if results_file.exists():
            result.tasks = [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line]
        return result

    def playbook(
        self,
        tasks: str,
        *,
        extra_vars: dict | None = None,
        env: dict | None = None,
        check: bool = False,
        diff: bool = False,
        verbosity: int = 0,
        callback: str = "default",
        play_header: str | None = None,
        inventory: str | None = None,
        args: tuple[str, ...] = (),
        timeout: float = 300,
    ) -> AnsibleResult:
        """Run a one-play playbook; ``tasks`` is the YAML list of tasks (unindented)."""
        header = play_header or "- hosts: localhost\n  gather_facts: false\n  connection: local\n"
        body = header + "  tasks:\n" + textwrap.indent(textwrap.dedent(tasks).strip() + "\n", "    ")
        playbook = self.workdir / "playbook.yml"
        playbook.write_text(body)
        argv = [str(BIN_DIR / "ansible-playbook"), str(playbook)]
        if inventory:
            inventory_path = self.workdir / "inventory.yml"
            inventory_path.write_text(inventory)
            argv += ["-i", str(inventory_path)]
        if extra_vars:
            argv += ["-e", json.dumps(extra_vars)]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        argv += list(args)
        return self._run(argv, self.env(env, callback), timeout)

    def adhoc(
        self, module: str, module_args: str, *, env: dict | None = None, check: bool = False, verbosity: int = 0, callback: str = "default"
    ) -> AnsibleResult:
        argv = [str(BIN_DIR / "ansible"), "localhost", "-c", "local", "-m", module, "-a", module_args]
        if check:
            argv.append("--check")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        return self._run(argv, self.env(env, callback), 300)


@pytest.fixture
def ansible_run(tmp_path) -> AnsibleRunner:
    return AnsibleRunner(tmp_path)


@pytest.fixture
def usp():
    emulator = UspEmulator().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def usp_auth():
    emulator = UspEmulator(username="operator", password="S3cr3t-pa55/wörd").start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session", autouse=True)
def _remove_temporary_collections_path():
    yield
    if REPO_ROOT.parts[-3:-1] != ("ansible_collections", "mediaops"):
        shutil.rmtree(COLLECTIONS_PATH, ignore_errors=True)
