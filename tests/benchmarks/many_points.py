"""Part 4 of ``make bench``: many publishing points that are all as desired already, four ways.

The points are created directly in the USP emulator (its in-process API, not
logged and not timed). Then, each in an ``ansible-playbook`` run of its own,
with every point required to come back ok and unchanged:

* ``fleet_fast`` / ``fleet_module``: one ``usp_publishing_points`` task
  converging all of them (the points come from a vars file, a "fleet file"),
  on the fast path and on the module path;
* ``loop_fast`` / ``loop_module``: one ``usp_publishing_point`` task with
  ``loop`` over their names, on the fast path and on the module path.

The figure is the wall time of the whole ``ansible-playbook`` run, Ansible's
startup included, and the requests the emulator received per point.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import RUN_TIMEOUT, BenchmarkError, ansible_runner, check_run, local_play, requests_received, write_playbook
from tests.benchmarks.report import Target, fixed, ratio, table, times
from tests.emulators.stack import SMIL_NS, build_stack

# What the issues ask: one task under 5 s for 1,000 points, a loop on the fast path under 15 s.
TARGETS = {"fleet_fast": Target(5, "s", unit="", strict=True), "loop_fast": Target(15, "s", unit="", strict=True)}
KINDS = ("fleet_fast", "fleet_module", "loop_fast", "loop_module")
SMIL = (
    f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{SMIL_NS}">\n  <head>\n'
    '    <meta name="archiving" content="true" />\n    <meta name="dvr_window_length" content="30" />\n'
    "  </head>\n  <body>\n    <switch></switch>\n  </body>\n</smil>\n"
)


@dataclass
class Converge:
    kind: str
    points: int
    seconds: float | None = None
    requests: int | None = None
    error: str | None = None


def point_name(index: int) -> str:
    return f"point{index:04d}"


def create_points(stack, count: int) -> None:
    for index in range(1, count + 1):
        name = point_name(index)
        answer = stack.usp.api_call("POST", f"/{name}/{name}.isml", SMIL)
        if answer.status != 201:
            raise RuntimeError(f"the USP emulator answered {answer.status} to creating {name}")


def loop_task(count: int) -> dict:
    names = f"start=1 end={count} format=point%04d"
    return {
        "name": f"{count} publishing points, present",
        "mediaops.streaming.usp_publishing_point": {"name": "{{ item }}", "state": "present"},
        "loop": f"{{{{ query('ansible.builtin.sequence', '{names}') }}}}",
    }


def fleet_play(runner, count: int) -> list[dict]:
    """One ``usp_publishing_points`` task over a fleet file of ``count`` points, as an operator would keep it."""
    fleet_file = runner.workdir / "fleet.json"
    fleet_file.write_text(json.dumps({"fleet": [{"name": point_name(index), "state": "present"} for index in range(1, count + 1)]}), encoding="utf-8")
    play = local_play([{"name": f"{count} publishing points, present", "mediaops.streaming.usp_publishing_points": {"points": "{{ fleet }}"}}])
    play[0]["vars_files"] = [str(fleet_file)]
    return play


def measure(root: Path, stack, kind: str, count: int, progress) -> Converge:
    fast_path = kind.endswith("_fast")
    with ansible_runner(root, f"points-{kind}-", fast_path=fast_path) as runner:
        play = fleet_play(runner, count) if kind.startswith("fleet") else local_play([loop_task(count)])
        argv = write_playbook(runner, play)
        stack.clear_logs()
        progress(f"points: {kind}, {count} unchanged points")
        started = time.perf_counter()
        result = runner.run(argv, env=stack.env(), timeout=RUN_TIMEOUT)
        seconds = time.perf_counter() - started
        try:
            check_run(f"{kind} over {count} points", result, changed=False, count=count)
        except BenchmarkError as exc:
            return Converge(kind, count, error=str(exc))
        return Converge(kind, count, seconds, len(requests_received(stack)))


def run(root: Path, count: int, progress, kinds: tuple[str, ...] = KINDS) -> list[Converge]:
    progress(f"points: creating {count} publishing points in the emulator")
    stack = build_stack([])
    try:
        create_points(stack, count)
        return [measure(root, stack, kind, count, progress) for kind in kinds]
    finally:
        stack.stop()


def render(measurements: list[Converge]) -> str:
    header = ["kind", "points", "play s", "ms/point", "x fleet_fast", "requests/point", "target"]
    reference = next((item.seconds for item in measurements if item.kind == "fleet_fast"), None)
    rows = []
    for item in measurements:
        per_point = None if item.seconds is None else 1000 * item.seconds / item.points
        requests = None if item.requests is None else item.requests / item.points
        target = TARGETS[item.kind].judged(item.seconds) if item.kind in TARGETS else "-"
        rows.append([item.kind, str(item.points), fixed(item.seconds), fixed(per_point), times(ratio(item.seconds, reference)), fixed(requests), target])
    title = (
        "4. Unchanged publishing points: one usp_publishing_points task (fleet) vs a usp_publishing_point loop, "
        "fast path and module path: wall time of ansible-playbook"
    )
    return table(header, rows, title)
