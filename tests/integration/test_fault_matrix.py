"""Every module against every fault a production server or network produces, through Ansible.

One row is one module doing one realistic piece of work (creating a publishing
point, closing a live stream, ...) with the fault aimed at one kind of request
of that work: the first read, or the write itself. One cell is one fault. Each
cell gets its own emulator, so its request log is its own; a row is one
``ansible-playbook`` run whose hosts are the row's cells (``--forks`` = cells),
so a row costs the time of its slowest cell.

What every cell must show:

* a transient fault (a reset or a body cut short in mid-answer, a 502/503/504
  burst, 429 with ``Retry-After``) on a request that is safe to repeat: the
  task succeeds within the retry budget, with a warning for each retry;
* anything else: the task fails with a sentence that names the server's URL
  and says what to do;
* never a traceback, ``MODULE FAILURE`` or an ``exception`` key in the result;
* a request that is not safe to repeat (USP's create) is never sent twice.

Each row records its outcomes with ``record_property("fault_matrix", ...)``;
``tests/run_tests.py`` prints them as one module x fault table.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests

from tests.emulators.red5 import Red5Emulator
from tests.emulators.red5_sm2 import Red5Sm2Emulator
from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN, ScaleEngineEmulator
from tests.emulators.usp import UspEmulator

HTML_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>"
# Every cell runs with these HTTP options, so a slow server is slow relative to a short timeout.
TIMEOUT = 1
RETRIES = 3
SLOW_SECONDS = 2.5


@dataclass(frozen=True)
class FaultCase:
    """One column: the faults to inject (in order) and whether a repeatable request should survive them."""

    name: str
    faults: tuple[dict, ...] = ()
    transient: bool = False
    refused: bool = False  # no fault: the module is pointed at a port nobody listens on


FAULTS = (
    FaultCase("connection refused", refused=True),
    FaultCase("slower than timeout", ({"kind": "delay", "seconds": SLOW_SECONDS, "count": None},)),
    FaultCase("reset mid-answer", ({"kind": "reset_mid", "count": 1},), transient=True),
    FaultCase("truncated body", ({"kind": "truncate", "count": 1},), transient=True),
    FaultCase("HTTP 500", ({"kind": "status", "status": 500, "body": "Internal Server Error", "count": None},)),
    FaultCase(
        "502/503/504 burst",
        (
            {"kind": "status", "status": 502, "body": "Bad Gateway", "count": 1},
            {"kind": "status", "status": 503, "body": "Service Unavailable", "count": 1},
            {"kind": "status", "status": 504, "body": "Gateway Timeout", "count": 1},
        ),
        transient=True,
    ),
    FaultCase(
        "429 Retry-After",
        ({"kind": "status", "status": 429, "body": "Too Many Requests", "headers": {"Retry-After": "1"}, "count": 1},),
        transient=True,
    ),
    FaultCase("malformed body", ({"kind": "malformed", "count": None},)),
    FaultCase("HTML page, 200", ({"kind": "status", "status": 200, "body": HTML_PAGE, "headers": {"Content-Type": "text/html"}, "count": None},)),
    FaultCase("HTML page, 502", ({"kind": "status", "status": 502, "body": HTML_PAGE, "headers": {"Content-Type": "text/html"}, "count": None},)),
    FaultCase("wrong content type", ({"kind": "headers", "headers": {"Content-Type": "text/html; charset=utf-8"}, "count": None},)),
    FaultCase("HTTP 401", ({"kind": "status", "status": 401, "body": "Unauthorized", "headers": {"WWW-Authenticate": 'Basic realm="x"'}, "count": None},)),
    FaultCase("HTTP 403", ({"kind": "status", "status": 403, "body": "Forbidden", "count": None},)),
)


@dataclass
class Row:
    """One module doing one piece of work, with the faults aimed at ``target`` requests."""

    label: str
    module: str
    make: Callable[[], object]  # a started emulator, with the state the work needs
    args: Callable[[object], dict]  # module arguments for that emulator
    target: dict  # Fault matching: method / path / listener / match
    repeatable: bool = True  # whether the target request is safe to repeat
    # Outcome per fault name where it differs from the rule (transient and repeatable: ok).
    outcome: dict[str, str] = field(default_factory=dict)
    # The URL the failure message must name, from the emulator.
    url: Callable[[object], str] = lambda emulator: emulator.url()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- rows ------------------------------------------------------------------------------------

USP_SMIL_FAULTS_TOLERATED = {"wrong content type": "ok"}  # the body is SMIL and is parsed strictly, whatever the label
USP_ANSWER_UNUSED = {"malformed body": "ok", "HTML page, 200": "ok", "wrong content type": "ok"}  # an answer whose body the module does not read
ARCHIVING_30 = {"archiving": True, "dvr_window_length": 30}  # the options of usp_with_point's point


def usp_with_point(name: str = "ch1", archived: bool = False) -> UspEmulator:
    emulator = UspEmulator().start()
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head>'
        '<meta name="archiving" content="true"/><meta name="dvr_window_length" content="30"/></head><body/></smil>'
    )
    assert requests.post(f"{emulator.url('api')}/{name}/{name}.isml", data=body.encode(), timeout=10).status_code == 201
    if archived:
        emulator.encoder_start(name, start_time="2026-11-23T10:00:00Z", fragment_seconds=2.0)
        emulator.encoder_push(name, count=5)
        emulator.encoder_eos(name)
    emulator.clear_log()
    return emulator


def usp_connection(emulator) -> dict:
    return {"api_url": emulator.url("api"), "origin_url": emulator.url("origin")}


def usp_row(
    label: str, module: str, target: dict, outcome: dict | None = None, make=None, archived: bool = False, repeatable: bool = True, **module_args
) -> Row:
    """A USP row on the point ch1 (made by ``usp_with_point`` unless ``make`` is given).

    The failure message names the URL of the listener ``target`` aims at (with
    no listener, either one). The archive purge gets only the origin URL.
    """
    listener = target.get("listener")
    connection = (lambda emulator: {"origin_url": emulator.url("origin")}) if module == "archive_purge" else usp_connection
    return Row(
        label,
        f"mediaops.streaming.usp_{module}",
        make or (lambda: usp_with_point("ch1", archived=archived)),
        lambda emulator: dict(connection(emulator), name="ch1", **module_args),
        target,
        repeatable,
        USP_SMIL_FAULTS_TOLERATED if outcome is None else outcome,
        url=(lambda emulator: emulator.url(listener)) if listener else (lambda _emulator: "127.0.0.1:"),
    )


def scaleengine_emulator() -> ScaleEngineEmulator:
    return ScaleEngineEmulator().start()


def scaleengine_connection(emulator) -> dict:
    return {"api_url": emulator.url() + API_PATH, "cdn": DEFAULT_CDN, "api_key": DEFAULT_API_KEY, "api_secret": DEFAULT_API_SECRET}


LIVE_STREAM = {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"}


def scaleengine_row(label: str, module: str, target: dict, **module_args) -> Row:
    """A ScaleEngine row: every command POSTs to one URL, so ``target`` tells commands apart by the body."""
    return Row(
        label,
        f"mediaops.streaming.scaleengine_{module}",
        scaleengine_emulator,
        lambda emulator: dict(scaleengine_connection(emulator), **module_args),
        target,
        # JSON labelled text/html is still JSON, and is decoded as strictly.
        outcome={"wrong content type": "ok"},
    )


def red5_emulator() -> Red5Emulator:
    emulator = Red5Emulator(access_token="fault-matrix-token").start()
    emulator.start_broadcast(scope="live", name="demo", region="us-east-1", subscribers=3)
    emulator.stop_broadcast(scope="live", name="demo")
    emulator.start_broadcast(scope="live", name="demo", region="us-east-1", subscribers=3)
    emulator.start_broadcast(scope="live", name="old", region="us-east-1")
    emulator.stop_broadcast(scope="live", name="old")
    return emulator


def red5_connection(emulator) -> dict:
    return {"url": emulator.url(), "api_version": "3.1"}


SM2_USER, SM2_PASSWORD = "fault-matrix", "fault-matrix-password"


def red5_sm2_emulator(streams_require_auth: bool = False) -> Red5Sm2Emulator:
    emulator = Red5Sm2Emulator(username=SM2_USER, password=SM2_PASSWORD, streams_require_auth=streams_require_auth).start()
    emulator.start_broadcast(scope="live", name="demo", region="frankfurt", subscribers=3)
    return emulator


def red5_sm2_connection(emulator) -> dict:
    return {"url": emulator.url(), "api_version": "sm2", "username": SM2_USER, "password": SM2_PASSWORD}


ROWS = (
    usp_row("usp_publishing_point: unchanged (faults on the read)", "publishing_point", {"method": "GET", "listener": "api"}, options=ARCHIVING_30),
    usp_row(
        "usp_publishing_point: create (faults on the POST)",
        "publishing_point",
        {"method": "POST", "listener": "api"},
        make=lambda: UspEmulator().start(),
        repeatable=False,
        # A body cut short after the server created the point: the module reads
        # the point back instead of sending the POST again, and finds it made.
        # A proxy's page with status 200 is not the 201 of a create: nothing was created.
        outcome={"reset mid-answer": "ok", "truncated body": "ok", "malformed body": "ok", "wrong content type": "ok"},
        options={"archiving": True},
    ),
    usp_row(
        "usp_publishing_point: update (faults on the PUT)",
        "publishing_point",
        {"method": "PUT", "listener": "api"},
        outcome=USP_ANSWER_UNUSED,
        options={"archiving": True, "dvr_window_length": 60},
    ),
    usp_row("usp_publishing_point_info: everything", "publishing_point_info", {"method": "GET"}, archived=True),
    usp_row("usp_archive_purge: all (faults on the archive read)", "archive_purge", {"method": "GET", "listener": "origin"}, archived=True, all=True),
    # The purge answer carries no body the module needs.
    usp_row(
        "usp_archive_purge: all (faults on the purge POST)",
        "archive_purge",
        {"method": "POST", "listener": "origin"},
        outcome=USP_ANSWER_UNUSED,
        archived=True,
        all=True,
    ),
    scaleengine_row("scaleengine_stream: close (faults on stream.details)", "stream", {"method": "POST", "match": r"stream\.details"}, **LIVE_STREAM),
    scaleengine_row("scaleengine_stream: close (faults on stream.close)", "stream", {"method": "POST", "match": r"stream\.close"}, **LIVE_STREAM),
    scaleengine_row("scaleengine_pushpublish: disconnect", "pushpublish", {"method": "POST"}, app="demo-origin", inst="live", entry_name="session_1"),
    scaleengine_row("scaleengine_viewer_info", "viewer_info", {"method": "POST"}, app="demo-origin"),
    scaleengine_row(
        "scaleengine_command: stream.active (read only)",
        "command",
        {"method": "POST"},
        command="stream.active",
        params={"app": "demo-origin", "inst": "live"},
        read_only=True,
    ),
    Row(
        "red5_stream_info: one stream",
        "mediaops.streaming.red5_stream_info",
        red5_emulator,
        lambda emulator: dict(red5_connection(emulator), name="demo"),
        {"method": "GET"},
    ),
    Row(
        "red5_stream_info: all streams",
        "mediaops.streaming.red5_stream_info",
        red5_emulator,
        red5_connection,
        {"method": "GET"},
    ),
    Row(
        "red5_stream_info on 2.0: one stream",
        "mediaops.streaming.red5_stream_info",
        red5_sm2_emulator,
        lambda emulator: dict(red5_sm2_connection(emulator), name="demo"),
        {"method": "GET"},
    ),
    Row(
        "red5_stream_info on 2.0: all streams",
        "mediaops.streaming.red5_stream_info",
        red5_sm2_emulator,
        red5_sm2_connection,
        {"method": "GET"},
    ),
    Row(
        "red5_stream_info on 2.0: protected stream calls (faults on the login PUT)",
        "mediaops.streaming.red5_stream_info",
        lambda: red5_sm2_emulator(streams_require_auth=True),
        lambda emulator: dict(red5_sm2_connection(emulator), name="demo"),
        {"method": "PUT"},
        # The login's JSON is read whatever its label says: the token is all it holds.
        outcome={"wrong content type": "ok"},
    ),
    Row(
        "red5_stream_registry: clear",
        "mediaops.streaming.red5_stream_registry",
        red5_emulator,
        lambda emulator: dict(red5_connection(emulator), access_token="fault-matrix-token"),
        {"method": "DELETE"},
    ),
)


def expected_outcome(row: Row, fault: FaultCase) -> str:
    if fault.name in row.outcome:
        return row.outcome[fault.name]
    return "ok" if fault.transient and row.repeatable else "failed"


def cell_host(index: int) -> str:
    return f"cell{index:02d}"


def refused_args(args: dict) -> dict:
    """The same arguments with every base URL pointed at a port where nothing listens."""
    dead = f"http://127.0.0.1:{free_port()}"
    return {key: (re.sub(r"^https?://127\.0\.0\.1:\d+", dead, value) if isinstance(value, str) else value) for key, value in args.items()}


def start_cells(row: Row, emulators: list) -> str:
    """One emulator per fault, armed with it (appended to ``emulators`` as started); the inventory of one host per cell."""
    inventory_hosts = {}
    for index, fault in enumerate(FAULTS):
        emulator = row.make()
        emulators.append(emulator)
        args = dict(row.args(emulator), timeout=TIMEOUT, retries=RETRIES)
        if fault.refused:
            args = refused_args(args)
        for spec in fault.faults:
            emulator.add_fault(**dict(row.target, **spec))
        inventory_hosts[cell_host(index)] = {"ansible_connection": "local", "cell_args": args}
    return json.dumps({"all": {"hosts": inventory_hosts}})


def cell_problems(row: Row, fault: FaultCase, entry: dict, emulator) -> list[str]:
    """What is wrong with how one cell ended (empty when it ended as expected, clearly)."""
    problems = []
    result = entry["result"]
    outcome = entry["status"]
    expected = expected_outcome(row, fault)
    if outcome != expected:
        problems.append(f"{fault.name}: expected {expected}, got {outcome}: {result.get('msg')}")
    # ansible-core 2.19+ puts an "exception" key on every failed result on
    # the controller side; what must never be there is the module's own frames.
    internals = " ".join(str(result.get(key) or "") for key in ("exception", "module_stderr", "module_stdout"))
    if "Traceback" in internals or 'File "' in internals:
        problems.append(f"{fault.name}: the result carries Python frames: {internals[:300]}")
    if outcome == "failed":
        problems += failure_message_problems(fault, result.get("msg") or "", row.url(emulator) if not fault.refused else "127.0.0.1:")
    if fault.transient and row.repeatable and outcome == "ok" and not result.get("warnings"):
        problems.append(f"{fault.name}: retried without a warning")
    if not row.repeatable:
        sent = [logged for logged in emulator.log() if _targets(row.target, logged)]
        if len(sent) > 1:
            problems.append(f"{fault.name}: the non-repeatable {row.target['method']} was sent {len(sent)} times")
    return problems


def failure_message_problems(fault: FaultCase, message: str, named_url: str) -> list[str]:
    """A failure must name the URL and say what to do."""
    problems = []
    if named_url not in message:
        problems.append(f"{fault.name}: the message does not name the URL {named_url}: {message}")
    if not re.search(r"\b(Check|check|Set|set|raise|Raise|run the task again|Run the task again|try again|Stop|See|is the URL right)\b", message):
        problems.append(f"{fault.name}: the message does not say what to do: {message}")
    return problems


@pytest.mark.parametrize("row", ROWS, ids=[re.sub(r"[^A-Za-z0-9_]+", "-", row.label).strip("-") for row in ROWS])
def test_fault_matrix_row(ansible_run, execution_path, row, record_property):
    emulators = []
    try:
        inventory = start_cells(row, emulators)
        playbook = ansible_run.playbook(
            f"- name: work\n  {row.module}: '{{{{ cell_args }}}}'\n  ignore_errors: true\n",
            play_header="- hosts: all\n  gather_facts: false\n",
            inventory=inventory,
            args=("--forks", str(len(FAULTS))),
            timeout=240,
        )
        assert "Traceback" not in playbook.output, playbook.output[-4000:]
        assert "MODULE FAILURE" not in playbook.output, playbook.output[-4000:]

        outcomes, problems = {}, []
        for index, fault in enumerate(FAULTS):
            entries = [entry for entry in playbook.tasks if entry["host"] == cell_host(index) and entry["task"] == "work"]
            if not entries:
                problems.append(f"{fault.name}: no result recorded")
                continue
            entry = entries[-1]
            result = entry["result"]
            outcomes[fault.name] = {"outcome": entry["status"], "msg": (result.get("msg") or "")[:400], "warnings": len(result.get("warnings") or [])}
            problems += cell_problems(row, fault, entry, emulators[index])
        record_property("fault_matrix", json.dumps({"row": f"{row.label} [{execution_path.replace('_', ' ')}]", "cells": outcomes}))
        assert not problems, "\n".join(problems)
    finally:
        for emulator in emulators:
            emulator.stop()


def _targets(target: dict, entry) -> bool:
    if target.get("method") and entry.method != target["method"]:
        return False
    return not (target.get("listener") and entry.listener != target["listener"])
