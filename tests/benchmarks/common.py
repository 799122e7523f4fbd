"""What the parts of ``make bench`` share: a work directory per run, playbooks, results, the emulators' request logs."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.emulators.base import Request
from tests.emulators.scaleengine import ScaleEngineEmulator
from tests.emulators.stack import Stack
from tests.helpers.playbook import BIN_DIR, AnsibleResult, AnsibleRunner, collections_path

RUN_TIMEOUT = 900


class BenchmarkError(Exception):
    """A run that did not do what it is measured for: the benchmark has no figure for it."""


@contextmanager
def ansible_runner(root: Path, prefix: str, fast_path: bool = True):
    """An ``AnsibleRunner`` in a work directory of its own under ``root``, removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    try:
        yield AnsibleRunner(workdir, collections_path(root), fast_path=fast_path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def local_play(tasks: list[dict]) -> list[dict]:
    return [{"name": "bench", "hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": tasks}]


def write_playbook(runner: AnsibleRunner, play: list[dict], name: str = "bench.yml") -> list[str]:
    """The ``ansible-playbook`` command line of ``play``, written as JSON (which YAML reads as it is)."""
    path = runner.workdir / name
    path.write_text(json.dumps(play, indent=1), encoding="utf-8")
    return [str(BIN_DIR / "ansible-playbook"), str(path)]


def mitogen_env() -> dict[str, str]:
    """The environment that makes ``ansible-playbook`` use Mitogen's ``mitogen_linear`` strategy."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or spec.origin is None:
        raise BenchmarkError("ansible_mitogen is not installed in this Python: pip install -r tests/requirements.txt")
    strategies = Path(spec.origin).parent / "plugins" / "strategy"
    return {"ANSIBLE_STRATEGY_PLUGINS": str(strategies), "ANSIBLE_STRATEGY": "mitogen_linear"}


def unexpected_results(result: AnsibleResult, changed: bool, count: int) -> list[str]:
    """What is wrong with a run that should have ``count`` ok results (loop items count one by one), each ``changed`` as given."""
    items = []
    for entry in result.tasks:
        loop = entry["result"].get("results")
        for item in loop if isinstance(loop, list) else [entry["result"]]:
            items.append((entry["task"], entry["status"], item))
    problems = [f"{len(items)} results, not {count}"] if len(items) != count else []
    for task, status, item in items:
        if status != "ok" or item.get("failed"):
            problems.append(f"{task}: {status}: {str(item.get('msg', ''))[:300]}")
        elif bool(item.get("changed")) != changed:
            problems.append(f"{task}: changed={bool(item.get('changed'))}, expected {changed}")
    return problems


def check_run(what: str, result: AnsibleResult, changed: bool, count: int) -> None:
    if result.rc != 0:
        raise BenchmarkError(f"{what}: ansible-playbook exited {result.rc}\n{result.output[-3000:]}")
    problems = unexpected_results(result, changed, count)
    if problems:
        raise BenchmarkError(f"{what}: {'; '.join(problems[:5])}\n{result.output[-2000:]}")


def requests_received(stack: Stack) -> list[tuple[str, Request]]:
    """Every request the three emulators logged (their control API is not logged), with the emulator's name, in time order."""
    logged = [(name, request) for name, emulator in stack_emulators(stack) for request in emulator.log()]
    return sorted(logged, key=lambda pair: pair[1].time)


def stack_emulators(stack: Stack) -> list[tuple[str, object]]:
    return [("usp", stack.usp), ("scaleengine", stack.scaleengine), ("red5", stack.red5)]


def request_line(emulator: str, request: Request) -> str:
    """``GET /ch/ch.isml``, ``POST /ch/ch.isml/purge?t=0`` (USP, Red5), or ``POST /stable/ stream.details``.

    ScaleEngine's path is the same for every command, so its line names the command.
    """
    line = f"{request.method} {request.path}" + (f"?{request.raw_query}" if request.raw_query else "")
    if emulator == "scaleengine":
        text = ScaleEngineEmulator._json_field(request)
        try:
            command = json.loads(text).get("command") if text else None
        except ValueError:
            command = None
        line += f" {command or '(no command)'}"
    return line
