"""Part 3 of ``make bench``: the HTTP requests one task sends per operation, against the fewest the APIs allow.

Each operation is one task (fast path) against a fresh emulator stack with one
live, archiving channel; its requests are read from the three emulators'
request logs, emptied after the operation's own setup. The task must come back
ok, changed or not as the operation says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.common import RUN_TIMEOUT, BenchmarkError, ansible_runner, check_run, local_play, request_line, requests_received, write_playbook
from tests.benchmarks.report import fixed, table
from tests.emulators.stack import build_stack

CHANNEL = "channel01"
#: a point that exists but has no encoder (idle), and a ScaleEngine stream that is not live
IDLE = "idle01"
NEW = "new01"


@dataclass(frozen=True)
class Operation:
    title: str
    module: str
    args: dict
    changed: bool
    floor: int
    #: the least the API needs for it, in one line
    why: str
    idle_point: bool = False


OPERATIONS = (
    Operation("usp_publishing_point present, unchanged", "usp_publishing_point", {"name": CHANNEL, "state": "present"}, False, 1, "GET the manifest"),
    Operation(
        "usp_publishing_point create",
        "usp_publishing_point",
        {"name": NEW, "state": "present"},
        True,
        2,
        "GET (404: missing; a POST to an existing point is a 409, not a no-op) + POST",
    ),
    Operation(
        "usp_publishing_point delete (idle point)",
        "usp_publishing_point",
        {"name": IDLE, "state": "absent"},
        True,
        1,
        "DELETE: 200 deleted it, 404 there was nothing to delete (changed false)",
        idle_point=True,
    ),
    Operation(
        "usp_publishing_point update head options",
        "usp_publishing_point",
        {"name": CHANNEL, "options": {"dvr_window_length": 60}},
        True,
        2,
        "GET (a PUT replaces the whole head, so the options not given come from the server's) + PUT",
    ),
    Operation(
        "usp_archive_purge nothing to purge",
        "usp_archive_purge",
        {"name": CHANNEL, "start": "2000-01-01T00:00:00Z", "end": "2000-01-02T00:00:00Z"},
        False,
        1,
        "GET /archive: nothing in the window",
    ),
    Operation(
        "usp_archive_purge all (live channel)",
        "usp_archive_purge",
        {"name": CHANNEL, "all": True},
        True,
        2,
        "GET /archive (anything to purge decides changed) + POST /purge?t=0",
    ),
    Operation("usp_publishing_point_info settings", "usp_publishing_point_info", {"name": CHANNEL, "gather": ["settings"]}, False, 1, "GET the manifest"),
    Operation(
        "scaleengine_stream close live stream",
        "scaleengine_stream",
        {"app": "demo-origin", "inst": "live", "stream": CHANNEL, "state": "closed"},
        True,
        2,
        "stream.details (is it live; the result's stream is its details before closing) + stream.close",
    ),
    Operation(
        "scaleengine_stream close, not live",
        "scaleengine_stream",
        {"app": "demo-origin", "inst": "live", "stream": IDLE, "state": "closed"},
        False,
        1,
        "stream.details: not live, nothing to close",
    ),
    Operation("red5_stream_info live stream", "red5_stream_info", {"name": CHANNEL, "scope": "live"}, False, 1, "GET /event/live/{name}/stats"),
)


@dataclass
class Count:
    operation: Operation
    sent: list[str]
    error: str | None = None

    @property
    def requests(self) -> int | None:
        return None if self.error else len(self.sent)


def measure(operation: Operation, root: Path, progress) -> Count:
    progress(f"requests: {operation.title}")
    stack = build_stack([CHANNEL], interval=0.5, fragments=30)
    try:
        if operation.idle_point:
            stack.create_point(IDLE)
        task = {"name": operation.title, f"mediaops.streaming.{operation.module}": operation.args}
        with ansible_runner(root, "requests-") as runner:
            argv = write_playbook(runner, local_play([task]))
            stack.clear_logs()
            result = runner.run(argv, env=stack.env(), timeout=RUN_TIMEOUT)
            sent = [request_line(emulator, request) for emulator, request in requests_received(stack)]
            check_run(operation.title, result, changed=operation.changed, count=1)
    except BenchmarkError as exc:
        progress(f"requests: {operation.title} FAILED: {exc}")
        return Count(operation, [], error=str(exc))
    finally:
        stack.stop()
    return Count(operation, sent)


def run(root: Path, progress) -> list[Count]:
    return [measure(operation, root, progress) for operation in OPERATIONS]


def at_floor(count: Count) -> str:
    if count.requests is None:
        return "FAILED"
    extra = count.requests - count.operation.floor
    if extra < 0:
        return f"below ({extra}): floor too high?"
    return "yes" if extra == 0 else f"no (+{extra})"


def render(counts: list[Count]) -> str:
    header = ["operation", "requests", "floor", "at floor?", "requests sent (method path [ScaleEngine command])"]
    rows = [[count.operation.title, fixed(count.requests, 0), str(count.operation.floor), at_floor(count), ", ".join(count.sent) or "-"] for count in counts]
    floors = "\n".join(f"   floor of {count.operation.title}: {count.operation.why}" for count in counts)
    return f"{table(header, rows, '3. HTTP requests per operation (one task, fast path) vs the API floor')}\n{floors}"
