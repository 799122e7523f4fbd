"""``make bench``: the restart procedure by hand (``uri_restart.yml``) against the collection's role, side by side.

For each channel count N (``--channels 1,10`` by default), two runs, each
against a fresh in-process emulator stack (``tests/emulators/stack.py``) with
N live, archiving channels, so that every run starts from the same state:

a. the baseline: ``ansible-playbook tests/benchmarks/uri_restart.yml``, the
   restart written with ``ansible.builtin.uri`` and a standard-library signing
   helper (``scaleengine_sign.py``);
b. the role: ``ansible-playbook mediaops.streaming.restart_session`` with the
   demo's variables (``tests/demo/restart_vars.yml``, the demo's start-encoder
   task file), on the module path (every task a module run).

Both restart every channel with the manifest it had, one inventory host per
channel, ``--forks 10`` by default. A run counts only if ``ansible-playbook``
exits 0 and afterwards every channel was deleted once and holds only
archive ingested after the run began, and is ``started`` on USP, live on
ScaleEngine and publishing on Red5 again. The table shows the wall time of each
``ansible-playbook`` run and the HTTP requests the three emulators received
per channel (their request logs, emptied before each run; the emulators'
control API, which the start-encoder task uses, is not counted).

Ansible runs with its home, temporary directories and a short ``TMPDIR`` in a
temporary directory, removed afterwards (``tests/helpers/playbook.py``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.emulators.stack import Stack, build_stack
from tests.helpers.playbook import BIN_DIR, AnsibleRunner, collections_path

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
DEMO_DIR = REPO_ROOT / "tests" / "demo"
VARS_FILE = DEMO_DIR / "restart_vars.yml"
START_TASKS = DEMO_DIR / "restart_start_encoder.yml"
KINDS = ("baseline", "role")
RUN_TIMEOUT = 900


@dataclass
class Measurement:
    kind: str
    channels: int
    seconds: float
    requests: int

    @property
    def per_channel(self) -> float:
        return self.requests / self.channels


class BenchmarkError(Exception):
    """A run that did not restart every channel: the benchmark has no figure for it."""


def channel_names(count: int) -> list[str]:
    return [f"channel{index:02d}" for index in range(1, count + 1)]


def playbook_argv(kind: str, inventory: Path, forks: int) -> list[str]:
    common = ["-i", str(inventory), "-e", f"@{VARS_FILE}", "--forks", str(forks)]
    if kind == "baseline":
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


def measure(kind: str, count: int, forks: int, root: Path) -> Measurement:
    """One ``ansible-playbook`` run of ``kind`` restarting ``count`` channels of a fresh stack."""
    names = channel_names(count)
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind[0]}{count}-", dir=root))
    runner = AnsibleRunner(workdir, collections_path(root))
    inventory = workdir / "channels.yml"
    inventory.write_text(json.dumps({"all": {"children": {"channels": {"hosts": {name: {} for name in names}}}}}))
    # The stack of the demo: fragments every 0.5 s, 30 already archived, End Of Stream and Red5 after 0.5 s.
    stack = build_stack(names, interval=0.5, fragments=30)
    try:
        stack.clear_logs()
        since = time.time()
        started = time.perf_counter()
        result = runner.run(playbook_argv(kind, inventory, forks), env=stack.env(), timeout=RUN_TIMEOUT)
        seconds = time.perf_counter() - started
        requests = request_count(stack)
        if result.rc != 0:
            raise BenchmarkError(f"{kind} with {count} channels: ansible-playbook exited {result.rc}\n{result.output[-4000:]}")
        problems = not_restarted(stack, names, since)
        if problems:
            raise BenchmarkError(f"{kind} with {count} channels: not live again after the run: {', '.join(problems)}\n{result.output[-2000:]}")
    finally:
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return Measurement(kind, count, seconds, requests)


def table(rows: list[tuple[Measurement, Measurement]]) -> str:
    header = ("channels", "baseline s", "role s", "role/baseline", "baseline requests/channel", "role requests/channel")
    lines = [" | ".join(header), " | ".join("-" * len(title) for title in header)]
    for baseline, role in rows:
        cells = (
            f"{baseline.channels:>{len(header[0])}}",
            f"{baseline.seconds:>{len(header[1])}.1f}",
            f"{role.seconds:>{len(header[2])}.1f}",
            f"{role.seconds / baseline.seconds:>{len(header[3])}.2f}",
            f"{baseline.per_channel:>{len(header[4])}.1f}",
            f"{role.per_channel:>{len(header[5])}.1f}",
        )
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def channel_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of channel counts") from None
    if not counts or min(counts) < 1 or max(counts) > 99:
        raise argparse.ArgumentTypeError("channel counts are between 1 and 99")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Wall time and HTTP requests of the restart: hand-written uri playbook vs the restart_session role.")
    parser.add_argument("--channels", type=channel_counts, default=[1, 10], help="comma-separated channel counts (default 1,10)")
    parser.add_argument("--forks", type=int, default=10, help="ansible-playbook --forks (default 10)")
    args = parser.parse_args(argv)
    # Short: ansible-core's worker RPC binds a Unix socket under TMPDIR (at most 107 bytes, tests/helpers/fixtures.py).
    root = Path(tempfile.mkdtemp(prefix="mediaops-bench-"))
    rows = []
    try:
        for count in args.channels:
            pair = []
            for kind in KINDS:
                print(f"bench: {kind}, {count} channel(s), --forks {args.forks} ...", file=sys.stderr, flush=True)
                pair.append(measure(kind, count, args.forks, root))
            rows.append(tuple(pair))
    except BenchmarkError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
