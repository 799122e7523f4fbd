"""Part 2 of ``make bench``: the wall time of one task of each module, fast path and module path, next to ping and uri.

A task's time is that of a playbook on localhost (``connection: local``) with
R identical tasks, minus that of the same playbook with no task (Ansible's own
startup, the fastest of three runs: noise only ever adds), divided by R. Every
task must come back ok and unchanged, against an emulator stack with one live
channel.

The ScaleEngine tasks differ in one name per repetition: the modules never send
the same signed request twice within a second (a server may refuse it as a
replay, docs/scaleengine.md), so identical requests would each wait for the
next second, and the figure would measure that wait.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import RUN_TIMEOUT, BenchmarkError, ansible_runner, check_run, local_play, requests_received, write_playbook
from tests.benchmarks.report import MISSING, Target, fixed, ratio, table, times
from tests.emulators.red5 import DEFAULT_TOKEN
from tests.emulators.stack import Stack, build_stack

CHANNEL = "channel01"
STARTUP_RUNS = 3
#: a window long before the emulated channel began archiving: nothing to purge
EMPTY_WINDOW = {"start": "2000-01-01T00:00:00Z", "end": "2000-01-02T00:00:00Z"}
TARGET_MODULE = "usp_publishing_point"
TARGETS = {"fast": Target(0.1, "ping"), "module": Target(1.25, "ping")}


@dataclass(frozen=True)
class Probe:
    """A task measured: ``module`` with the arguments ``args(stack, repetition)`` gives."""

    title: str
    module: str
    args: object
    collection: bool = True


def _scaleengine_idle(repetition: int) -> str:
    return f"idle{repetition:02d}"


PROBES = (
    Probe("ping", "ansible.builtin.ping", lambda stack, i: {}, collection=False),
    # Not a module: the cost of any task that runs in the worker and does nothing, the floor of the fast path.
    Probe("debug (in the worker; no module)", "ansible.builtin.debug", lambda stack, i: {"msg": "floor"}, collection=False),
    Probe(
        "uri GET (the manifest)",
        "ansible.builtin.uri",
        lambda stack, i: {"url": f"{stack.usp.url('api')}/{CHANNEL}/{CHANNEL}.isml", "method": "GET"},
        collection=False,
    ),
    Probe("usp_publishing_point (present, unchanged)", "usp_publishing_point", lambda stack, i: {"name": CHANNEL, "state": "present"}),
    Probe("usp_publishing_point_info (settings)", "usp_publishing_point_info", lambda stack, i: {"name": CHANNEL, "gather": ["settings"]}),
    Probe("usp_archive_purge (nothing in the window)", "usp_archive_purge", lambda stack, i: {"name": CHANNEL, **EMPTY_WINDOW}),
    Probe(
        "scaleengine_stream (closed, not live)",
        "scaleengine_stream",
        lambda stack, i: {"app": stack.app, "inst": stack.inst, "stream": _scaleengine_idle(i), "state": "closed"},
    ),
    Probe(
        "scaleengine_pushpublish (stream not live)",
        "scaleengine_pushpublish",
        lambda stack, i: {"app": stack.app, "inst": stack.inst, "stream": _scaleengine_idle(i), "entry_name": "*"},
    ),
    Probe("scaleengine_viewer_info", "scaleengine_viewer_info", lambda stack, i: {"app": stack.app, "url": _scaleengine_idle(i)}),
    Probe(
        "scaleengine_command (viewer.live, read_only)",
        "scaleengine_command",
        lambda stack, i: {"command": "viewer.live", "params": {"app": stack.app, "url": _scaleengine_idle(i)}, "read_only": True},
    ),
    Probe("red5_stream_info (live stream)", "red5_stream_info", lambda stack, i: {"name": CHANNEL, "scope": stack.scope}),
    # API 3.1 clears only inactive entries, and the one entry is the live channel's: nothing to clear.
    Probe("red5_stream_registry (nothing inactive)", "red5_stream_registry", lambda stack, i: {"api_version": "3.1", "state": "cleared"}),
)


@dataclass
class PerTask:
    title: str
    fast: float | None = None
    module: float | None = None
    fast_requests: float | None = None
    module_requests: float | None = None
    error: str | None = None


def tasks_of(probe: Probe, stack: Stack, repeats: int) -> list[dict]:
    module = f"mediaops.streaming.{probe.module}" if probe.collection else probe.module
    return [{"name": f"{probe.title} #{index}", module: probe.args(stack, index)} for index in range(1, repeats + 1)]


def timed_run(runner, stack: Stack, tasks: list[dict], what: str) -> tuple[float, int]:
    """Seconds of one ``ansible-playbook`` run of ``tasks`` and the requests the emulators got; every task ok and unchanged."""
    argv = write_playbook(runner, local_play(tasks))
    env = {**stack.env(), "RED5_SM_ACCESS_TOKEN": DEFAULT_TOKEN}
    stack.clear_logs()
    started = time.perf_counter()
    result = runner.run(argv, env=env, timeout=RUN_TIMEOUT)
    seconds = time.perf_counter() - started
    check_run(what, result, changed=False, count=len(tasks))
    return seconds, len(requests_received(stack))


def startup_seconds(runner, stack: Stack) -> float:
    return min(timed_run(runner, stack, [], "the playbook without tasks")[0] for _attempt in range(STARTUP_RUNS))


def measure(probe: Probe, stack: Stack, root: Path, repeats: int, startup: float, progress) -> PerTask:
    """Both paths of a collection module (one failing does not hide the other), the module path of a builtin."""
    figures = PerTask(probe.title)
    for path in ("fast", "module") if probe.collection else ("module",):
        progress(f"per task: {probe.title}, {path} path, {repeats} tasks")
        try:
            with ansible_runner(root, f"task-{path}-", fast_path=path == "fast") as runner:
                seconds, requests = timed_run(runner, stack, tasks_of(probe, stack, repeats), f"{probe.title} ({path} path)")
        except BenchmarkError as exc:
            figures.error = f"{figures.error}\n{exc}" if figures.error else str(exc)
            progress(f"per task: {probe.title}, {path} path FAILED: {exc}")
            continue
        setattr(figures, path, (seconds - startup) / repeats)
        setattr(figures, f"{path}_requests", requests / repeats)
    return figures


def run(root: Path, repeats: int, progress) -> tuple[float, list[PerTask]]:
    stack = build_stack([CHANNEL], interval=0.5, fragments=30)
    try:
        with ansible_runner(root, "startup-") as runner:
            progress(f"per task: the playbook without tasks, {STARTUP_RUNS} runs")
            startup = startup_seconds(runner, stack)
        return startup, [measure(probe, stack, root, repeats, startup, progress) for probe in PROBES]
    finally:
        stack.stop()


def _requests(figures: PerTask) -> str:
    shown = [fixed(value) for value in (figures.fast_requests, figures.module_requests) if value is not None]
    return " / ".join(dict.fromkeys(shown)) or MISSING


def render(startup: float, results: list[PerTask], repeats: int) -> str:
    ping = next((item.module for item in results if item.title == "ping"), None)
    header = ["task", "fast path s/task", "x ping", "module path s/task", "x ping", "requests/task"]
    rows = [
        [
            item.title if item.error is None else f"{item.title} FAILED",
            fixed(item.fast, 3),
            times(ratio(item.fast, ping)),
            fixed(item.module, 3),
            times(ratio(item.module, ping)),
            _requests(item),
        ]
        for item in results
    ]
    title = (
        f"2. Per-task wall time: (playbook with {repeats} tasks - playbook without tasks, {startup:.2f} s) / {repeats}; "
        "every task ok and unchanged; the builtins (ping and uri are modules, debug runs in the worker) are in the module path column"
    )
    target = next((item for item in results if item.title.startswith(TARGET_MODULE + " ")), None)
    lines = [table(header, rows, title)]
    for path, goal in TARGETS.items():
        value = None if target is None else ratio(getattr(target, path), ping)
        lines.append(f"   target: {TARGET_MODULE} unchanged, {path} path {times(value)} ping, {goal.judged(value)}")
    return "\n".join(lines)
