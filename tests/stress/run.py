"""Run the stress tests (``make stress``: ``python -m tests.stress.run [pytest arguments]``) and print one summary.

The checkout is staged exactly as ``make test`` stages it (tests/run_tests.py's
``stage()``: tracked and untracked-but-not-ignored files copied to
``<tmp>/ansible_collections/mediaops/streaming``), so the collection is
importable as ``ansible_collections.mediaops.streaming`` and Ansible loads it
from there. The tests run serially: they load the machine on purpose, and two
of them at once would measure each other.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from xml.etree import ElementTree

from tests.run_tests import BIN_DIR, stage, stream


def main(argv: list[str]) -> int:
    started = time.monotonic()
    collection = stage()
    print(f"staged the collection at {collection}", flush=True)
    root = collection.parents[2]
    junit = root / "junit-stress.xml"
    env = dict(os.environ, PYTHONPATH=str(root), PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    # xunit1: the junit family that keeps what tests record with record_property.
    options = ["-p", "no:cacheprovider", "--ansible-unit-inject-only", "-q", "-rfE", "-o", "junit_family=xunit1", f"--junitxml={junit}"]
    command = [sys.executable, "-u", "-m", "pytest", "tests/stress", *options, *argv]
    returncode, output = stream(command, collection, env)

    print("\n=== stress summary")
    if junit.exists():
        for prop in ElementTree.parse(junit).iter("property"):
            print(f"measured: {prop.get('name', '')} = {prop.get('value', '')}")
    lines = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    print(f"pytest: {lines[-1].strip('= ') if lines else 'no pytest summary line'}")
    print(f"make stress: {'all stress tests passed' if returncode == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    shutil.rmtree(root, ignore_errors=True)
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
