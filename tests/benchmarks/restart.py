"""Part 1 of ``make bench``: the wall time and HTTP requests of restarting N live channels, five ways.

Each run gets a fresh in-process emulator stack (``tests/emulators/stack.py``)
with N live, archiving channels, one inventory host per channel, and counts only
if ``ansible-playbook`` exits 0 and afterwards every channel was deleted once,
holds only archive ingested after the run began, and is ``started`` on USP,
live on ScaleEngine and publishing on Red5 again (:func:`not_restarted`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import RUN_TIMEOUT, BenchmarkError, ansible_runner, mitogen_env
from tests.benchmarks.report import Target, fixed, ratio, table, times
from tests.emulators.stack import Stack, build_stack
from tests.helpers.playbook import BIN_DIR

BENCH_DIR = Path(__file__).resolve().parent
DEMO_DIR = BENCH_DIR.parent / "demo"
VARS_FILE = DEMO_DIR / "restart_vars.yml"
START_TASKS = DEMO_DIR / "restart_start_encoder.yml"


@dataclass(frozen=True)
class Kind:
    """One way to run the restart: which playbook, which execution path of the collection's modules, which strategy."""

    name: str
    role: bool
    fast_path: bool
    mitogen: bool
    about: str


KINDS = (
    Kind("baseline", role=False, fast_path=True, mitogen=False, about="uri_restart.yml, linear strategy"),
    Kind("baseline_mitogen", role=False, fast_path=True, mitogen=True, about="uri_restart.yml, mitogen_linear"),
    Kind("role_module", role=True, fast_path=False, mitogen=False, about="the role, MEDIAOPS_STREAMING_FAST_PATH=0"),
    Kind("role_fast", role=True, fast_path=True, mitogen=False, about="the role, fast path, linear strategy"),
    Kind("role_mitogen", role=True, fast_path=True, mitogen=True, about="the role, fast path, mitogen_linear"),
)
KIND_NAMES = tuple(kind.name for kind in KINDS)

#: (kind, what its seconds are compared with, the most they may be, at which channel counts; None: all).
#: Both are the role on the fast path under the plain linear strategy: against the hand-written baseline, and
#: against that baseline run under Mitogen, which is what users who care about speed run today.
TIME_TARGETS = (
    ("role_fast", "baseline", Target(0.2, "baseline"), (10, 50)),
    ("role_fast", "baseline_mitogen", Target(0.5, "baseline_mitogen"), (10, 50)),
)


@dataclass
class Measurement:
    kind: str
    channels: int
    seconds: float | None = None
    requests: int | None = None
    error: str | None = None

    @property
    def per_channel(self) -> float | None:
        return None if self.requests is None else self.requests / self.channels


def channel_names(count: int) -> list[str]:
    return [f"channel{index:02d}" for index in range(1, count + 1)]


def playbook_argv(kind: Kind, inventory: Path, forks: int) -> list[str]:
    common = ["-i", str(inventory), "-e", f"@{VARS_FILE}", "--forks", str(forks)]
    if not kind.role:
        return [str(BIN_DIR / "ansible-playbook"), str(BENCH_DIR / "uri_restart.yml"), *common]
    return [str(BIN_DIR / "ansible-playbook"), "mediaops.streaming.restart_session", *common, "-e", f"restart_session_start_tasks={START_TASKS}"]


def request_count(stack: Stack) -> int:
    return sum(len(emulator.log()) for emulator in (stack.usp, stack.scaleengine, stack.red5))


def not_restarted(stack: Stack, names: list[str], since: float) -> list[str]:
    """The channels that were not restarted (deleted once, archive only from after ``since``) or are not live again everywhere."""
    registry = {entry["name"]: entry["active"] for entry in stack.red5.dump_registry()}
    deletes = [entry.path for entry in stack.usp.log(method="DELETE")]
    problems = []
    for name in names:
        with stack.usp.lock:
            point = stack.usp.points.get(name)
            state = point.state if point is not None else "missing"
            fresh = point is not None and all(start >= since * 1_000_000 for start, _end in point.archive)
        live = stack.is_live(name)
        if deletes.count(f"/{name}/{name}.isml") != 1 or not fresh:
            problems.append(f"{name} (not restarted: {deletes.count(f'/{name}/{name}.isml')} deletes, archive from before the run: {not fresh})")
        elif state != "started" or not live or not registry.get(name):
            problems.append(
                f"{name} (USP {state}, ScaleEngine {'live' if live else 'not live'}, Red5 {'publishing' if registry.get(name) else 'not publishing'})"
            )
    return problems


def measure(kind: Kind, count: int, forks: int, root: Path) -> Measurement:
    """One ``ansible-playbook`` run of ``kind`` restarting ``count`` channels of a fresh stack; the error instead of figures if it failed."""
    try:
        seconds, requests = _restart(kind, count, forks, root)
    except BenchmarkError as exc:
        return Measurement(kind.name, count, error=str(exc))
    return Measurement(kind.name, count, seconds, requests)


def _restart(kind: Kind, count: int, forks: int, root: Path) -> tuple[float, int]:
    names = channel_names(count)
    env_extra = mitogen_env() if kind.mitogen else {}
    with ansible_runner(root, f"{kind.name}{count}-", fast_path=kind.fast_path) as runner:
        inventory = runner.workdir / "channels.yml"
        inventory.write_text(json.dumps({"all": {"children": {"channels": {"hosts": {name: {} for name in names}}}}}))
        # The stack of the demo: fragments every 0.5 s, 30 already archived, End Of Stream and Red5 after 0.5 s.
        stack = build_stack(names, interval=0.5, fragments=30)
        try:
            stack.clear_logs()
            since = time.time()
            started = time.perf_counter()
            result = runner.run(playbook_argv(kind, inventory, forks), env={**stack.env(), **env_extra}, timeout=RUN_TIMEOUT)
            seconds = time.perf_counter() - started
            requests = request_count(stack)
            if result.rc != 0:
                raise BenchmarkError(f"{kind.name} with {count} channels: ansible-playbook exited {result.rc}\n{result.output[-4000:]}")
            problems = not_restarted(stack, names, since)
            if problems:
                raise BenchmarkError(f"{kind.name} with {count} channels: not live again after the run: {', '.join(problems)}\n{result.output[-2000:]}")
        finally:
            stack.stop()
    return seconds, requests


def run(counts: list[int], kinds: list[str], forks: int, root: Path, progress) -> list[Measurement]:
    measurements = []
    for count in counts:
        for kind in KINDS:
            if kind.name in kinds:
                progress(f"restart: {kind.name}, {count} channel(s), --forks {forks}")
                measurements.append(measure(kind, count, forks, root))
                if measurements[-1].error:
                    progress(f"restart: {kind.name}, {count} channel(s) FAILED: {measurements[-1].error}")
    return measurements


def _find(measurements: list[Measurement], kind: str, count: int) -> Measurement | None:
    return next((item for item in measurements if item.kind == kind and item.channels == count), None)


def _seconds(measurements: list[Measurement], kind: str, count: int) -> float | None:
    found = _find(measurements, kind, count)
    return None if found is None else found.seconds


def time_target(measurements: list[Measurement], item: Measurement) -> str:
    """The wall-time targets that apply to ``item``, judged; ``-`` when none does."""
    judged = [
        target.judged(ratio(item.seconds, _seconds(measurements, reference, item.channels)))
        for kind, reference, target, counts in TIME_TARGETS
        if item.kind == kind and (counts is None or item.channels in counts)
    ]
    return "; ".join(judged) or "-"


def requests_target(measurements: list[Measurement], item: Measurement) -> str:
    """The role sends at most as many requests per channel as the hand-written baseline."""
    if not item.kind.startswith("role"):
        return "-"
    baseline = _find(measurements, "baseline", item.channels)
    limit = None if baseline is None else baseline.per_channel
    if limit is None:
        return "<= baseline: n/a"
    return Target(limit, "(baseline)", unit="").judged(item.per_channel)


def render(measurements: list[Measurement], forks: int) -> str:
    header = ["channels", "kind", "seconds", "x baseline", "x baseline_mitogen", "requests/channel", "time target", "requests target"]
    rows = []
    for item in measurements:
        mitogen_ratio = ratio(item.seconds, _seconds(measurements, "baseline_mitogen", item.channels)) if item.kind.startswith("role") else None
        rows.append(
            [
                str(item.channels),
                item.kind,
                fixed(item.seconds) if item.error is None else "FAILED",
                times(ratio(item.seconds, _seconds(measurements, "baseline", item.channels))),
                times(mitogen_ratio),
                fixed(item.per_channel),
                time_target(measurements, item),
                requests_target(measurements, item),
            ]
        )
    title = f"1. Restart of N live channels (--forks {forks}): wall time of ansible-playbook, HTTP requests per channel (all three emulators)"
    legend = "\n".join(f"   {kind.name}: {kind.about}" for kind in KINDS)
    return f"{table(header, rows, title)}\n{legend}"
