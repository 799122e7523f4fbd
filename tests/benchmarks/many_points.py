"""Part 4 of ``make bench``: one task looping over many publishing points that are all as desired already.

The points are created directly in the USP emulator (its in-process API, not
logged and not timed); then one ``usp_publishing_point`` task with ``loop``
over their names (``state: present``, fast path) runs in one play, and every
item must come back ok and unchanged. The figure is the wall time of the whole
``ansible-playbook`` run, Ansible's startup included.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import RUN_TIMEOUT, ansible_runner, check_run, local_play, requests_received, write_playbook
from tests.benchmarks.report import Target, fixed, table
from tests.emulators.stack import SMIL_NS, build_stack

TARGET = Target(15, "s", unit="", strict=True)
SMIL = (
    f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{SMIL_NS}">\n  <head>\n'
    '    <meta name="archiving" content="true" />\n    <meta name="dvr_window_length" content="30" />\n'
    "  </head>\n  <body>\n    <switch></switch>\n  </body>\n</smil>\n"
)


@dataclass
class Loop:
    points: int
    seconds: float
    requests: int


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


def run(root: Path, count: int, progress) -> Loop:
    progress(f"points: creating {count} publishing points in the emulator")
    stack = build_stack([])
    try:
        create_points(stack, count)
        with ansible_runner(root, "points-") as runner:
            argv = write_playbook(runner, local_play([loop_task(count)]))
            stack.clear_logs()
            progress(f"points: one task looping over {count} unchanged points, fast path")
            started = time.perf_counter()
            result = runner.run(argv, env=stack.env(), timeout=RUN_TIMEOUT)
            seconds = time.perf_counter() - started
            check_run(f"the loop over {count} points", result, changed=False, count=count)
            return Loop(count, seconds, len(requests_received(stack)))
    finally:
        stack.stop()


def render(loop: Loop) -> str:
    header = ["points", "play s", "ms/item", "requests/item", "target"]
    row = [str(loop.points), fixed(loop.seconds), fixed(1000 * loop.seconds / loop.points), fixed(loop.requests / loop.points), TARGET.judged(loop.seconds)]
    title = "4. One usp_publishing_point task looping over unchanged points (fast path): wall time of ansible-playbook"
    return table(header, [row], title)
