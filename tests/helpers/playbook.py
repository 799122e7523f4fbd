"""Run the collection's modules through Ansible itself: the one place for playbook helpers.

:class:`AnsibleRunner` runs ``ansible-playbook`` (or ad-hoc ``ansible``) in a
subprocess with this checkout as the ``mediaops.streaming`` collection, and
returns the task results (recorded by the test-only ``result_recorder``
callback in ``callback_plugins/``) together with stdout/stderr exactly as a
user sees them, so tests can prove that a secret never appears there.

Everything a run writes stays in the test's own directory: Ansible's home
(where the restart_session role keeps its backups), its local and remote
temporary directories, and ``TMPDIR`` (where modules put files of their own,
such as the ScaleEngine signing ledger; the ``ansible_run`` fixture gives it a
short directory of the test's own, removed afterwards).

:func:`task` writes one task of a playbook.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
BIN_DIR = Path(sys.executable).parent

# Characters a YAML double-quoted scalar cannot hold raw, or reads as something
# else (line breaks other than \n, the BOM): written as \uXXXX escapes instead.
# https://yaml.org/spec/1.2.2/#51-character-set
_YAML_UNSAFE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def yaml_flow(value) -> str:
    """``value`` as JSON that YAML reads back as the same value (JSON is a YAML flow mapping).

    Non-ASCII text stays as it is: ``json.dumps``'s ``\\uXXXX`` form of a
    character outside the Basic Multilingual Plane is a surrogate pair, which
    YAML refuses.
    """
    return _YAML_UNSAFE.sub(lambda match: f"\\u{ord(match.group(0)):04x}", json.dumps(value, ensure_ascii=False))


def task(title: str, module: str, /, register: str | None = None, ignore_errors: bool = False, check_mode: bool | None = None, **args) -> str:
    """One task as YAML: ``module`` with ``args`` (as a JSON flow mapping), and the task keywords given."""
    lines = [f"- name: {title}", f"  {module}: {yaml_flow(args)}"]
    if register:
        lines.append(f"  register: {register}")
    if ignore_errors:
        lines.append("  ignore_errors: true")
    if check_mode is not None:
        lines.append(f"  check_mode: {str(check_mode).lower()}")
    return "\n".join(lines) + "\n"


def collections_path(root: Path) -> Path:
    """A directory holding ``ansible_collections/mediaops/streaming`` = this checkout (``root`` is where to make one when needed)."""
    if REPO_ROOT.parts[-3:-1] == ("ansible_collections", "mediaops") and REPO_ROOT.name == "streaming":
        return REPO_ROOT.parents[2]
    (root / "ansible_collections" / "mediaops").mkdir(parents=True, exist_ok=True)
    link = root / "ansible_collections" / "mediaops" / "streaming"
    if not link.exists():
        link.symlink_to(REPO_ROOT)
    return root


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
    """Ansible command lines run in ``workdir``, with ``collections`` as the collections path."""

    def __init__(self, workdir: Path, collections: Path, tmp: Path | None = None, fast_path: bool = True):
        self.workdir = workdir
        # Which way the collection's modules run: in the controller's worker (the default) or as module processes.
        self.fast_path = fast_path
        self.collections = collections
        self.home = workdir / "ansible-home"
        self.home.mkdir(exist_ok=True)
        self.tmp = tmp if tmp is not None else workdir / "tmp"
        self.tmp.mkdir(exist_ok=True)
        self.runs = 0

    def env(self, extra: dict | None = None, callback: str = "default") -> dict:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "USP_", "SCALEENGINE_", "RED5_", "MEDIAOPS_"))}
        env.update(
            ANSIBLE_COLLECTIONS_PATH=str(self.collections),
            ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
            ANSIBLE_HOME=str(self.home),
            ANSIBLE_LOCAL_TEMP=str(self.home / "tmp"),
            ANSIBLE_REMOTE_TMP=str(self.home / "remote-tmp"),
            TMPDIR=str(self.tmp),
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
            MEDIAOPS_STREAMING_FAST_PATH="1" if self.fast_path else "0",
            PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(extra or {})
        return env

    def results_file(self) -> Path:
        """Where the next run's task results go (one file a run)."""
        self.runs += 1
        return self.workdir / f"results-{self.runs}.jsonl"

    def run(self, argv: list[str], env: dict | None = None, callback: str = "default", timeout: float = 300) -> AnsibleResult:
        """Run any Ansible command line (e.g. ``ansible-playbook mediaops.streaming.restart_session``)."""
        return self._run(argv, self.env(env, callback), timeout)

    def _run(self, argv: list[str], env: dict, timeout: float) -> AnsibleResult:
        results_file = self.results_file()
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
