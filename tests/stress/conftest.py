"""Shared machinery of the stress tests: the tests' Ansible runner, and a playbook that can be killed mid-flight.

``ansible_run`` comes from tests/helpers unchanged. What is added here:

* :class:`RunningPlaybook`: ``ansible-playbook`` started in its own session,
  stdout on a pseudo-terminal (as an operator's terminal or an AWX job,
  which ansible-runner runs on a pty), killable at any moment with SIGKILL;
* :class:`Tripwire`: watches the emulators answer requests and kills the
  playbook at the moment the servers have carried out a given step for given
  channels, before the last answer leaves, so the playbook never learns that
  the step was done.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.fixtures import ansible_collections_path, ansible_run, execution_path, scaleengine, usp
from tests.helpers.playbook import AnsibleResult, AnsibleRunner

# Imported into this conftest, the shared fixtures serve the stress tests too.
__all__ = ["ansible_collections_path", "ansible_run", "execution_path", "scaleengine", "usp"]

# -- killing a playbook and everything it started -------------------------------------


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process, from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name (field 2) may contain spaces and parentheses: the fields after it start at the last ')'.
        parents[int(entry)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, parent in _parents().items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def kill_tree(root: int) -> list[int]:
    """SIGKILL the process group of ``root`` and every process descended from it; returns the pids killed besides the group.

    Ansible puts each worker in a session (process group) of its own, so
    killing the ansible-playbook process group alone would leave the forks'
    module processes running to completion after the "crash": not what a
    controller that dies looks like. Everything is stopped first (a stopped
    process can neither fork nor send), found by walking /proc until no new
    descendant appears, then killed.
    """
    stopped: set[int] = set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(root, signal.SIGSTOP)
    for _round in range(50):
        new = _descendants(root) - stopped
        if not new:
            break
        for pid in new:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        stopped |= new
    with contextlib.suppress(ProcessLookupError):
        os.killpg(root, signal.SIGKILL)
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return sorted(stopped)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has finished: it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


class RunningPlaybook:
    """An ``ansible-playbook`` run in progress, with stdout on a pseudo-terminal.

    On a pipe Python buffers stdout in blocks and Ansible does not flush, so a
    SIGKILL would also destroy the last few kilobytes of what the run had
    already "printed"; on a terminal (or AWX's pty) every line is out when it
    is written. The pty is what an operator reads, so that is what the tests read.
    """

    def __init__(self, argv: list[str], cwd: Path, env: dict, results_file: Path):
        self.results_file = results_file
        self.killed: list[int] | None = None
        #: killed processes that were still running when wait() gave up on them
        self.survivors: list[int] = []
        primary, secondary = os.openpty()
        # A terminal 160 columns wide, so banners do not depend on the default size of a pty.
        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 160, 0, 0))
        self.process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=secondary, stderr=subprocess.PIPE, start_new_session=True)
        os.close(secondary)
        self._stdout = bytearray()
        self._stderr = b""
        self._readers = [
            threading.Thread(target=self._read_pty, args=(primary,), daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_pty(self, fd: int) -> None:
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    return
                if not chunk:
                    return
                self._stdout += chunk
        finally:
            os.close(fd)

    def _read_stderr(self) -> None:
        self._stderr = self.process.stderr.read()

    def kill(self) -> None:
        if self.killed is None:
            self.killed = kill_tree(self.process.pid)

    def wait(self, timeout: float = 300) -> AnsibleResult:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait(timeout=30)
        for reader in self._readers:
            reader.join(timeout=30)
        if self.killed:
            # SIGKILL is delivered asynchronously; a process that survives it would go on changing the servers.
            deadline = time.monotonic() + 30
            while any(_alive(pid) for pid in self.killed) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.survivors = [pid for pid in self.killed if _alive(pid)]
        stdout = self._stdout.decode("utf-8", errors="replace").replace("\r\n", "\n")
        result = AnsibleResult(self.process.returncode, stdout, self._stderr.decode("utf-8", errors="replace"))
        if self.results_file.exists():
            # A kill can cut the last line short: keep the complete ones.
            for line in self.results_file.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError):
                    result.tasks.append(json.loads(line))
        return result


def start_playbook(runner: AnsibleRunner, argv: list[str], env: dict | None = None) -> RunningPlaybook:
    """Start ``argv`` (an ansible-playbook command line) as ``runner.run`` would, without waiting for it."""
    results_file = runner.results_file()
    return RunningPlaybook(argv, runner.workdir, dict(runner.env(env), MEDIAOPS_RESULT_FILE=str(results_file)), results_file)


# -- the tripwire ---------------------------------------------------------------------------


@dataclass
class Answered:
    """A request an emulator has just carried out, with the answer it is about to send."""

    service: str  # usp, scaleengine, red5
    listener: str  # api, origin, control
    method: str
    path: str
    status: int
    body: bytes
    request: object = None  # the emulator's Request (None for a control action)
    payload: dict | None = None  # a control action's JSON body

    def __str__(self) -> str:
        return f"{self.service} {self.listener} {self.method} {self.path} -> {self.status}"


class Tripwire:
    """Kill a running playbook once an emulator has carried out a given step for each of some channels.

    ``step_done(answered)`` names the publishing point for which ``answered``
    completes the step (or returns None); the kill comes when that has
    happened for every point in ``points``. It runs in the emulator's handler
    thread between carrying out the last of those requests and sending its
    answer: the module that sent it is blocked reading that answer, so nothing
    the playbook does can slip in between. Channels not in ``points`` are
    caught wherever their fork is, as on a real server whose client dies.
    """

    def __init__(self, stack, step_done: Callable[[Answered], str | None], points: set[str]):
        self.step_done = step_done
        self.points = set(points)
        self.done: set[str] = set()
        self.running: RunningPlaybook | None = None
        self.tripped_by: Answered | None = None
        #: everything the emulators carried out while the tripwire was in place, in order
        self.answered: list[Answered] = []
        self._lock = threading.Lock()
        for service in ("usp", "scaleengine", "red5"):
            emulator = getattr(stack, service)
            emulator.route = functools.partial(self._route, service, emulator.route)
        stack.usp.control = functools.partial(self._control, stack.usp.control)

    def arm(self, running: RunningPlaybook) -> RunningPlaybook:
        self.running = running
        return running

    def _route(self, service: str, route, request):
        response = route(request)
        self._check(Answered(service, request.listener, request.method, request.path, response.status, response.body, request=request))
        return response

    def _control(self, control, action: str, payload: dict):
        response = control(action, payload)
        self._check(Answered("usp", "control", "POST", action, response.status, response.body, payload=payload))
        return response

    def _check(self, answered: Answered) -> None:
        with self._lock:
            self.answered.append(answered)
            if self.running is None or self.tripped_by is not None:
                return
            point = self.step_done(answered)
            if point is None:
                return
            self.done.add(point)
            if self.points <= self.done:
                self.tripped_by = answered
                self.running.kill()
