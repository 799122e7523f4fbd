"""``make bench``: how fast and how frugal the collection is, measured side by side with what a user would write by hand.

One run prints four tables (progress goes to stderr, the tables to stdout):

1. ``restart.py``: the wall time of restarting 1, 10 and 50 live channels
   (``--channels``, ``--forks 10``) five ways (``--kinds``): the hand-written
   ``ansible.builtin.uri`` playbook ``uri_restart.yml`` (``baseline``), the same
   with Mitogen's ``mitogen_linear`` strategy (``baseline_mitogen``), and the
   collection's ``restart_session`` role on the module path
   (``role_module``), on the fast path (``role_fast``) and on the fast path
   with ``mitogen_linear`` (``role_mitogen``); with the ratios to the baselines,
   the HTTP requests per channel, and the targets judged from the figures.
2. ``per_task.py``: the wall time of one task of each of the nine modules, fast
   path and module path, next to ``ansible.builtin.ping`` and one
   ``ansible.builtin.uri`` GET (``--task-repeats`` tasks per playbook).
3. ``request_floor.py``: the HTTP requests of one task per operation against
   the fewest the vendor API needs for it, and which requests they were.
4. ``many_points.py``: ``--points`` unchanged publishing points converged by
   one ``usp_publishing_points`` task and by a ``usp_publishing_point`` loop,
   each on the fast path and on the module path (``--point-kinds``).

Every run gets fresh in-process emulators (``tests/emulators``) and counts only
if it did what it is measured for (every channel restarted, every task ok and
changed or not as expected); a run that did not is shown as FAILED, its output
goes to stderr, the others go on, and the exit status is 1.

``--quick`` is a smoke run: 1 channel, 5 task repetitions, 100 points.
Ansible runs with its home, temporary directories and a short ``TMPDIR`` in a
temporary directory, removed afterwards (``tests/helpers/playbook.py``).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from tests.benchmarks import many_points, per_task, request_floor, restart
from tests.benchmarks.common import BenchmarkError

PARTS = ("restart", "tasks", "requests", "points")
DEFAULTS = {"channels": [1, 10, 50], "task_repeats": 20, "points": 1000}
QUICK = {"channels": [1], "task_repeats": 5, "points": 100}


def channel_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of channel counts") from None
    if not counts or min(counts) < 1 or max(counts) > 99:
        raise argparse.ArgumentTypeError("channel counts are between 1 and 99")
    return counts


def names_from(choices: tuple[str, ...]):
    def parse(text: str) -> list[str]:
        names = [part.strip() for part in text.split(",") if part.strip()]
        unknown = sorted(set(names) - set(choices))
        if not names or unknown:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)} (comma-separated); unknown: {', '.join(unknown) or 'none given'}")
        return names

    return parse


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Wall time and HTTP requests of the collection vs hand-written playbooks, against the emulators.")
    parser.add_argument("--channels", type=channel_counts, help="restart: comma-separated channel counts (default 1,10,50)")
    parser.add_argument("--forks", type=positive, default=10, help="restart: ansible-playbook --forks (default 10)")
    parser.add_argument("--kinds", type=names_from(restart.KIND_NAMES), default=list(restart.KIND_NAMES), help="restart: " + ",".join(restart.KIND_NAMES))
    parser.add_argument("--task-repeats", type=positive, help="per task: tasks per timed playbook (default 20)")
    parser.add_argument("--points", type=positive, help="points: publishing points converged (default 1000)")
    parser.add_argument("--point-kinds", type=names_from(many_points.KINDS), default=list(many_points.KINDS), help="points: " + ",".join(many_points.KINDS))
    parser.add_argument("--parts", type=names_from(PARTS), default=list(PARTS), help="which tables: " + ",".join(PARTS) + " (default all)")
    parser.add_argument("--quick", action="store_true", help="smoke run: --channels 1 --task-repeats 5 --points 100 unless given")
    args = parser.parse_args(argv)
    for name, value in (QUICK if args.quick else DEFAULTS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def measure_parts(args: argparse.Namespace, root: Path) -> tuple[list[str], list[str]]:
    """The tables of the parts asked for, and the errors of the runs that failed."""
    tables, errors = [], []
    if "restart" in args.parts:
        measurements = restart.run(args.channels, args.kinds, args.forks, root, progress)
        tables.append(restart.render(measurements, args.forks))
        errors += [item.error for item in measurements if item.error]
    if "tasks" in args.parts:
        startup, figures = per_task.run(root, args.task_repeats, progress)
        tables.append(per_task.render(startup, figures, args.task_repeats))
        errors += [item.error for item in figures if item.error]
    if "requests" in args.parts:
        counts = request_floor.run(root, progress)
        tables.append(request_floor.render(counts))
        errors += [count.error for count in counts if count.error]
    if "points" in args.parts:
        try:
            measurements = many_points.run(root, args.points, progress, args.point_kinds)
        except (BenchmarkError, RuntimeError) as exc:
            tables.append(f"4. {args.points} unchanged points: FAILED")
            errors.append(str(exc))
        else:
            tables.append(many_points.render(measurements))
            errors += [item.error for item in measurements if item.error]
    return tables, errors


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Short: ansible-core's worker RPC binds a Unix socket under TMPDIR (at most 107 bytes, tests/helpers/fixtures.py).
    root = Path(tempfile.mkdtemp(prefix="mediaops-bench-"))
    try:
        tables, errors = measure_parts(args, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for error in errors:
        print(f"bench: FAILED: {error}", file=sys.stderr)
    print("\n\n".join(tables))
    if errors:
        print(f"\n{len(errors)} run(s) FAILED (details on stderr): " + "; ".join(error.splitlines()[0] for error in errors))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
