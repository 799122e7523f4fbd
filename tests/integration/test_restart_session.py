"""The restart_session role through its collection playbook, against the wired emulators (tests/emulators/stack.py).

Every run is ``ansible-playbook mediaops.streaming.restart_session -i <channels> -e @<vars>``
with the connection settings in the environment, as an AWX job template runs it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import ansible_mitogen
import pytest

from tests.emulators.scaleengine import DEFAULT_API_KEY, DEFAULT_API_SECRET
from tests.emulators.stack import build_stack
from tests.emulators.usp import add_range
from tests.helpers.playbook import BIN_DIR
from tests.helpers.restart_vars import FAST, START_TASKS, STOP_TASKS

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITES = ("POST", "PUT", "DELETE")
USP_PASSWORD = "S3cr3t-pa55/wörd"
DESIRED = {"archiving": True, "archive_segment_length": 60, "dvr_window_length": 60}


@pytest.fixture
def stack():
    emulators = build_stack(["ch1", "ch2"], interval=0.5, eos_delay=0.3, red5_delay=0.3)
    yield emulators
    emulators.stop()


def restart(ansible_run, stack, hosts, variables, *, check=False, verbosity=0, args=(), env=None, timeout=300):
    """Run the collection playbook for the channels ``hosts`` (name -> host variables).

    The connection settings come from the environment (``env``, by default all of ``stack.env()``).
    """
    inventory = ansible_run.workdir / "channels.yml"
    inventory.write_text(json.dumps({"channels": {"hosts": {name: host_vars or {} for name, host_vars in hosts.items()}}}))
    extra = ansible_run.workdir / "vars.json"
    extra.write_text(json.dumps(variables))
    argv = [str(BIN_DIR / "ansible-playbook"), "mediaops.streaming.restart_session", "-i", str(inventory), "-e", f"@{extra}"]
    if check:
        argv.append("--check")
    if verbosity:
        argv.append("-" + "v" * verbosity)
    argv += list(args)
    return ansible_run.run(argv, env=stack.env() if env is None else env, timeout=timeout)


def role_task(result, suffix: str, host: str) -> dict:
    """The result of the role's task whose name ends with ``suffix`` (role tasks are prefixed with the role)."""
    found = [entry for entry in result.tasks if entry["host"] == host and entry["task"].endswith(suffix)]
    assert found, f"no task ending in {suffix!r} for {host}; output:\n{result.output[-4000:]}"
    return found[-1]


def summary(result, host: str) -> dict:
    return role_task(result, "Put the result together", host)["result"]["ansible_facts"]["restart_session_result"]


def summary_lines(result, host: str) -> list[str]:
    return role_task(result, "Summarise the restart", host)["result"]["msg"]


def failure(result, host: str) -> str:
    entry = role_task(result, "Fail with where the restart stopped", host)
    assert entry["status"] == "failed"
    return entry["result"]["msg"]


def usp_writes(stack, point: str | None = None) -> list[tuple[str, str]]:
    entries = [entry for entry in stack.usp.log() if entry.method in WRITES]
    if point is not None:
        entries = [entry for entry in entries if entry.path.startswith(f"/{point}/")]
    return [(entry.method, entry.path + (f"?{entry.raw_query}" if entry.raw_query else "")) for entry in entries]


def scaleengine_writes(stack) -> list[dict]:
    return [item for item in stack.scaleengine.commands() if item["command"] in ("stream.close", "pushpublish.disconnect")]


def settings_of(stack, point: str) -> dict:
    return dict(stack.usp.point(point).head)


def archive_of(stack, point: str) -> list:
    return list(stack.usp.point(point).archive)


def requests_of(stack, point: str, stream: str) -> list[str]:
    """Every request one channel's restart sent, in order per API: USP, ScaleEngine commands, Red5.

    A wait polls until the state arrives, so its repeated polls count once here; the emulators'
    control API (the simulated encoder) is not an API the role calls and is not logged.
    """
    usp = []
    for entry in stack.usp.log():
        if entry.path.startswith(f"/{point}/"):
            line = f"{entry.method} {entry.path}" + (f"?{entry.raw_query}" if entry.raw_query else "")
            if not (usp and usp[-1] == line and line.endswith("/state")):
                usp.append(line)
    scaleengine = [f"scaleengine {item['command']}" for item in stack.scaleengine.commands() if item.get("stream") == stream]
    red5 = [f"red5 {entry.method} {entry.path}" for entry in stack.red5.log() if f"/{stream}/" in entry.path]
    return usp + scaleengine + [line for index, line in enumerate(red5) if line not in red5[:index]]


def recap(result, host: str) -> dict:
    match = re.search(rf"^{re.escape(host)}\s+:\s+(.*)$", result.stdout, re.MULTILINE)
    assert match, result.output[-3000:]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


# -- the whole workflow ----------------------------------------------------------------


def test_full_restart(ansible_run, stack):
    stack.usp.create_directory("events")
    stack.add_channel("ev1", base_path="events", interval=0.5)
    stack.clear_logs()
    before = {point: settings_of(stack, point) for point in ("ch1", "ch2", "events/ev1")}
    started_at = time.time()
    hosts = {
        "ch1": {"restart_session_options": DESIRED},
        "ch2": None,  # no desired options: it comes back with the manifest it had
        "events-ev1": {"restart_session_channel": "ev1", "restart_session_base_path": "events", "restart_session_options": DESIRED},
    }
    variables = dict(FAST, restart_session_start_tasks=START_TASKS, restart_session_wait_for_started=True, restart_session_wait_for_red5=True)
    result = restart(ansible_run, stack, hosts, variables)
    assert result.rc == 0, result.output

    for host, point in (("ch1", "ch1"), ("ch2", "ch2"), ("events-ev1", "events/ev1")):
        name = point.rsplit("/", 1)[-1]
        # The documented order, each write once: purge everything, delete, create.
        assert usp_writes(stack, point) == [
            ("POST", f"/{point}/{name}.isml/purge?t=0"),
            ("DELETE", f"/{point}/{name}.isml"),
            ("POST", f"/{point}/{name}.isml"),
        ]
        # The encoder was stopped through ScaleEngine, and is live again everywhere.
        assert [item["stream"] for item in scaleengine_writes(stack) if item["stream"] == name] == [name]
        assert stack.usp.point(point).state == "started"
        assert stack.is_live(name)
        assert [entry["active"] for entry in stack.red5.dump_registry() if entry["name"] == name] == [True]
        # The old archive is gone: what is archived now was ingested after the restart began.
        assert archive_of(stack, point)
        assert all(start >= started_at * 1_000_000 for start, _end in archive_of(stack, point))

        result_fact = summary(result, host)
        assert result_fact["check_mode"] is False
        # Outside check mode the first read asks for the settings only: the state before is not read.
        assert result_fact["before"]["state"] is None
        assert result_fact["before"]["archive"].startswith("video")  # as the purge read it before purging
        assert result_fact["after"]["state"] == "started"  # as the wait for started read it
        assert result_fact["after"]["archive"] == "empty after the purge"
        assert result_fact["archive_purged"] is True
        # Only the waits are timed one by one (the modules' "waited"); the total covers the whole run.
        assert set(result_fact["timings"]) == {"wait", "verify"}
        assert all(isinstance(seconds, (int, float)) and seconds >= 0 for seconds in result_fact["timings"].values())
        assert result_fact["total_seconds"] > 0
        lines = summary_lines(result, host)
        assert lines[0].startswith(f"channel {name}: restarted in ")
        assert any(line.startswith("verify: started after") and f"Red5 live/{name} publishing on 10.0.1.10" in line for line in lines)

    # Desired options applied; without them the point came back exactly as it was.
    assert settings_of(stack, "ch1")["dvr_window_length"] == "60"
    assert settings_of(stack, "events/ev1")["dvr_window_length"] == "60"
    assert settings_of(stack, "ch2") == before["ch2"]
    assert summary(result, "ch2")["recreated_from"] == "current"
    assert not saved_manifest_path(ansible_run, stack, "ch2").exists()  # saved before the delete, removed by the create
    assert "settings changed: none (the same as before)" in summary_lines(result, "ch2")
    assert any(line.startswith("settings changed: ") and "dvr_window_length: 30 -> 60" in line for line in summary_lines(result, "ch1"))

    # The requests of one channel: 12 with desired options, 13 for a point that comes back as it was
    # (its delete reads the manifest it saves first). A wait's repeated polls count once.
    restart_requests = [
        "GET /{p}/{n}.isml",  # step 1: the settings (and the manifest when it comes back as it was)
        "GET /{p}/{n}.isml/state",  # step 3: wait until stopped
        "GET /{p}/{n}.isml/archive",  # step 4: the archive before the purge
        "POST /{p}/{n}.isml/purge?t=0",
        "GET /{p}/{n}.isml/archive",  # the archive after the purge: verified empty
        "DELETE /{p}/{n}.isml",  # step 5
        "GET /{p}/{n}.isml",  # step 6: the create reads first
        "POST /{p}/{n}.isml",
        "GET /{p}/{n}.isml/state",  # step 8: wait until started
        "scaleengine stream.details",  # step 2: is the stream live?
        "scaleengine stream.close",
        "red5 GET /streammanager/api/2.0/event/live/{n}/stats",  # step 8: publishing on Red5
    ]
    for point in ("ch1", "events/ev1"):
        name = point.rsplit("/", 1)[-1]
        assert requests_of(stack, point, name) == [line.format(p=point, n=name) for line in restart_requests]
    with_backup = [*restart_requests[:5], "GET /{p}/{n}.isml", *restart_requests[5:]]  # the manifest saved before the DELETE
    assert requests_of(stack, "ch2", "ch2") == [line.format(p="ch2", n="ch2") for line in with_backup]


def test_check_mode_changes_nothing(ansible_run, stack):
    stack.add_channel("ch3", live=False)  # idle: check mode predicts its delete too
    stack.clear_logs()
    snapshot = stack.usp.dump_points()
    hosts = {"ch1": {"restart_session_options": DESIRED}, "ch2": None, "ch3": None, "ch4": {"restart_session_options": DESIRED}}
    variables = dict(FAST, restart_session_start_tasks=START_TASKS, restart_session_wait_for_started=True, restart_session_wait_for_red5=True)
    result = restart(ansible_run, stack, hosts, variables, check=True)
    assert result.rc == 0, result.output

    # Mechanical proof: no write to USP, no state-changing ScaleEngine command.
    assert usp_writes(stack) == []
    assert scaleengine_writes(stack) == []
    assert {item["command"] for item in stack.scaleengine.commands()} == {"stream.details"}
    after = stack.usp.dump_points()
    assert set(after) == {"ch1", "ch2", "ch3"}
    for point in ("ch1", "ch2", "ch3"):
        assert after[point]["head"] == snapshot[point]["head"]
        assert after[point]["state"] == snapshot[point]["state"]
    assert archive_of(stack, "ch1")
    assert stack.is_live("ch1") and stack.is_live("ch2")

    lines = summary_lines(result, "ch1")
    assert lines[0] == "channel ch1: (check mode) nothing was changed; what a run would do:"
    assert "stop: (check mode) would close the ScaleEngine stream demo-origin/live/ch1" in lines
    assert "purge: (check mode) would purge the whole archive (t=0)" in lines
    assert "delete: (check mode) would delete it after the encoder stops" in lines
    assert "create: (check mode) would create it again with the options " + json.dumps(DESIRED) in lines
    assert "(check mode) would wait up to 10 s for ch1 to be stopped or idle (it is started now)" in result.stdout
    # An idle point's delete is predicted by the module itself.
    assert "delete: (check mode) would delete" in summary_lines(result, "ch3")
    assert "purge: the archive was already empty" in summary_lines(result, "ch3")
    # A missing point (a previous run failed after the delete) would just be created.
    assert summary(result, "ch4")["before"]["exists"] is False
    assert "create: (check mode) would create with the options " + json.dumps(DESIRED) in summary_lines(result, "ch4")


# -- failures at each step, then a second run that converges -----------------------------


SCALEENGINE_FAILURE = json.dumps({"status": "failure", "code": "0004", "message": "Unexpected error"})
FAULTS = {
    "stop": (
        "scaleengine",
        dict(kind="status", method="POST", path=r"^/stable/$", status=200, body=SCALEENGINE_FAILURE, headers={"Content-Type": "application/json"}),
    ),
    "purge": ("usp", dict(kind="status", method="POST", path=r"^/ch1/ch1\.isml/purge$", status=500, body="Internal Server Error\n")),
    "delete": ("usp", dict(kind="status", method="DELETE", path=r"^/ch1/ch1\.isml$", status=500, body="Internal Server Error\n")),
    "create": ("usp", dict(kind="status", method="POST", path=r"^/ch1/ch1\.isml$", listener="api", status=500, body="Internal Server Error\n")),
}
# What must be true after the failed run: the role stopped exactly there.
AFTER_FAILURE = {
    "stop": lambda stack: stack.usp.point("ch1").state == "started" and archive_of(stack, "ch1"),
    "purge": lambda stack: stack.usp.point("ch1").state == "stopped" and archive_of(stack, "ch1"),
    "delete": lambda stack: stack.usp.point("ch1").state == "stopped" and not archive_of(stack, "ch1"),
    "create": lambda stack: "ch1" not in stack.usp.dump_points(),
}


def test_media_arriving_during_the_purge_stops_the_restart_before_the_delete(ansible_run, stack):
    # Another encoder keeps ingesting: a range is archived before each archive read, so the one after the purge is not empty.
    def media_arrives(emulator):
        with emulator.lock:
            point = emulator.point("ch1")
            now_us = int(time.time() * 1_000_000)
            point.archive = add_range(point.archive, now_us - 2_000_000, now_us)

    stack.usp.interfere("GET", r"^/ch1/ch1\.isml/archive$", media_arrives, count=2)
    failed = restart(ansible_run, stack, {"ch1": None}, dict(FAST, restart_session_options=DESIRED))
    assert failed.rc != 0
    message = failure(failed, "ch1")
    assert message.startswith("the archive is not empty after the purge (1 range(s) left): is media still arriving?"), message
    assert "stopped at step 'purge'" in message and "The publishing point was not deleted" in message
    assert "ch1" in stack.usp.dump_points() and ("DELETE", "/ch1/ch1.isml") not in usp_writes(stack, "ch1")


@pytest.mark.parametrize("step", list(FAULTS))
def test_fault_at_each_step_fails_clearly_then_converges(ansible_run, stack, step):
    emulator, fault = FAULTS[step]
    getattr(stack, emulator).add_fault(count=1, **fault)
    variables = dict(FAST, restart_session_options=DESIRED)

    failed = restart(ansible_run, stack, {"ch1": None}, variables)
    assert failed.rc != 0
    message = failure(failed, "ch1")
    assert f"restart of channel ch1 stopped at step '{step}'" in message
    assert "run the role again" in message
    assert AFTER_FAILURE[step](stack)
    if step == "create":
        assert "is NOT created yet" in message
    if step in ("stop",):
        assert "Nothing was purged or deleted." in message and "0004" in message

    second = restart(ansible_run, stack, {"ch1": None}, variables)
    assert second.rc == 0, second.output
    point = stack.usp.point("ch1")
    assert point.state == "idle"  # no start tasks: the encoder has not come back
    assert archive_of(stack, "ch1") == []
    assert point.option("archiving") == "true" and point.option("dvr_window_length") == "60"
    # Each destructive write happened once in total, over both runs (the faulted try included).
    writes = usp_writes(stack, "ch1")
    assert writes.count(("DELETE", "/ch1/ch1.isml")) == (2 if step == "delete" else 1)
    assert writes.count(("POST", "/ch1/ch1.isml")) == (2 if step == "create" else 1)
    if step == "create":
        assert summary(second, "ch1")["before"]["exists"] is False
        assert summary(second, "ch1")["steps"]["stop"] == "skipped: the point did not exist"


def test_encoder_that_never_stops_fails_and_deletes_nothing(ansible_run, stack):
    stack.stubborn.add("ch1")
    variables = dict(FAST, restart_session_stop_timeout=2, restart_session_options=DESIRED)
    result = restart(ansible_run, stack, {"ch1": None}, variables)
    assert result.rc != 0
    message = failure(result, "ch1")
    assert "channel ch1: the encoder is still ingesting (state: started after 2 s); nothing was purged or deleted" in message
    assert "stopped at step 'wait'" in message
    # The ScaleEngine stream was closed, but the point and its archive are untouched.
    assert [item["command"] for item in scaleengine_writes(stack)] == ["stream.close"]
    assert usp_writes(stack) == []
    assert stack.usp.point("ch1").state == "started" and archive_of(stack, "ch1")


def test_full_restart_under_mitogen(ansible_run, stack):
    """Mitogen's mitogen_linear strategy, as users who want speed run playbooks: the role restarts the channel on either path."""
    mitogen = {"ANSIBLE_STRATEGY_PLUGINS": str(Path(ansible_mitogen.__file__).resolve().parent / "plugins" / "strategy"), "ANSIBLE_STRATEGY": "mitogen_linear"}
    stack.clear_logs()
    started_at = time.time()
    variables = dict(FAST, restart_session_start_tasks=START_TASKS, restart_session_wait_for_started=True, restart_session_wait_for_red5=True)
    result = restart(ansible_run, stack, {"ch2": None}, variables, env=dict(stack.env(), **mitogen))
    assert result.rc == 0, result.output
    assert usp_writes(stack, "ch2") == [("POST", "/ch2/ch2.isml/purge?t=0"), ("DELETE", "/ch2/ch2.isml"), ("POST", "/ch2/ch2.isml")]
    assert stack.usp.point("ch2").state == "started" and stack.is_live("ch2")
    assert all(start >= started_at * 1_000_000 for start, _end in archive_of(stack, "ch2"))
    assert summary(result, "ch2")["before"]["exists"] is True


# -- input validation before any request ----------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"restart_session_stop_method": None}, "missing required arguments: restart_session_stop_method"),
        ({"restart_session_stop_method": "kill"}, "restart_session_stop_method must be one of"),
        ({"restart_session_stop_timeout": "soon"}, "restart_session_stop_timeout"),
        ({"restart_session_stop_method": "tasks"}, "restart_session_stop_tasks is required with restart_session_stop_method=tasks"),
        ({"restart_session_manifest": "<smil/>", "restart_session_options": DESIRED}, "set at most one of restart_session_options"),
        ({"restart_session_start_tasks": "/nonexistent/start.yml"}, "restart_session_start_tasks /nonexistent/start.yml is not a file"),
        ({"restart_session_scaleengine_app": ""}, "restart_session_scaleengine_app and restart_session_scaleengine_inst are required"),
    ],
    ids=["stop-method-missing", "stop-method-unknown", "timeout-not-int", "stop-tasks-missing", "two-manifests", "start-tasks-absent", "app-missing"],
)
def test_invalid_variables_fail_before_any_request(ansible_run, stack, variables, expected):
    stack.clear_logs()
    merged = {key: value for key, value in dict(FAST, **variables).items() if value is not None}
    result = restart(ansible_run, stack, {"ch1": None}, merged)
    assert result.rc != 0
    assert expected in result.output
    assert stack.usp.log() == [] and stack.scaleengine.log() == [] and stack.red5.log() == []


def test_missing_point_without_desired_settings_is_refused(ansible_run, stack):
    result = restart(ansible_run, stack, {"gone": None}, FAST)
    assert result.rc != 0
    assert "the publishing point" in failure(result, "gone") and "does not exist, and none of" in failure(result, "gone")
    assert usp_writes(stack) == [] and scaleengine_writes(stack) == []


def saved_manifest_path(ansible_run, stack, point: str) -> Path:
    """Where the role keeps the manifest of a point that comes back as it was (restart_session_backup_dir's default)."""
    host_port = stack.usp.url("api").split("://", 1)[1].replace(":", "_")
    name = point.rsplit("/", 1)[-1]
    return ansible_run.home / "restart_session" / host_port / point / f"{name}.isml"


def test_point_deleted_by_an_earlier_run_is_created_from_its_saved_manifest(ansible_run, stack):
    # What a run killed between the delete and the create leaves behind: the point gone, its manifest saved.
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head>'
        '<meta name="archiving" content="true"/><meta name="dvr_window_length" content="45"/></head><body><switch></switch></body></smil>'
    )
    saved = saved_manifest_path(ansible_run, stack, "ch3")
    saved.parent.mkdir(parents=True, mode=0o700)
    saved.write_text(text)
    stack.clear_logs()

    result = restart(ansible_run, stack, {"ch3": None}, FAST)
    assert result.rc == 0, result.output
    assert usp_writes(stack, "ch3") == [("POST", "/ch3/ch3.isml")]
    assert stack.usp.point("ch3").option("dvr_window_length") == "45"
    assert summary(result, "ch3")["steps"]["create"] == f"created with the manifest saved at {saved} before an earlier run deleted it"
    assert not saved.exists()  # removed by the create once the point exists


def test_saved_manifest_exists_only_between_the_delete_and_the_create(ansible_run, stack):
    saved = saved_manifest_path(ansible_run, stack, "ch2")
    # The create's POST is refused once: the run stops with the point deleted and its manifest saved.
    stack.usp.add_fault(kind="status", method="POST", path=r"^/ch2/ch2\.isml$", listener="api", status=500, body="Internal Server Error\n", count=1)
    failed = restart(ansible_run, stack, {"ch2": None}, FAST)
    assert failed.rc != 0
    assert "ch2" not in stack.usp.dump_points()
    assert saved.stat().st_mode & 0o777 == 0o600 and saved.parent.stat().st_mode & 0o777 == 0o700
    assert f"the whole manifest is saved at {saved}" in failure(failed, "ch2")

    second = restart(ansible_run, stack, {"ch2": None}, FAST)
    assert second.rc == 0, second.output
    assert "ch2" in stack.usp.dump_points() and not saved.exists()
    assert summary(second, "ch2")["steps"]["create"].startswith(f"created with the manifest saved at {saved}")


# -- the other stop methods --------------------------------------------------------------------


def test_pushpublish_and_task_file_stop_methods(ansible_run, stack):
    hosts = {
        "ch1": {"restart_session_stop_method": "scaleengine_pushpublish"},
        "ch2": {"restart_session_stop_method": "tasks", "restart_session_stop_tasks": STOP_TASKS},
    }
    # Extra vars (-e) beat inventory variables, so a per-channel stop method must not also be set there.
    variables = {key: value for key, value in FAST.items() if key != "restart_session_stop_method"}
    result = restart(ansible_run, stack, hosts, dict(variables, restart_session_options=DESIRED, restart_session_start_tasks=START_TASKS))
    assert result.rc == 0, result.output
    assert [(item["command"], item["stream"]) for item in scaleengine_writes(stack)] == [("pushpublish.disconnect", "ch1")]
    assert summary(result, "ch1")["steps"]["stop"] == "disconnected PushPublish usp-ch1 of demo-origin/live/ch1"
    assert summary(result, "ch2")["steps"]["stop"] == f"ran {STOP_TASKS}"
    for point in ("ch1", "ch2"):
        assert usp_writes(stack, point)[:2] == [("POST", f"/{point}/{point}.isml/purge?t=0"), ("DELETE", f"/{point}/{point}.isml")]
        assert stack.usp.point(point).option("dvr_window_length") == "60"
        assert stack.usp.point(point).session is not None  # the start tasks started the encoder again


def test_tags_run_single_steps(ansible_run, stack):
    # read and summary always run, so a partial run still reports the state.
    result = restart(ansible_run, stack, {"ch1": None}, dict(FAST, restart_session_options=DESIRED), args=("--tags", "stop,wait"))
    assert result.rc == 0, result.output
    fact = summary(result, "ch1")
    assert set(fact["timings"]) == {"wait"}  # only the waits are timed one by one
    assert fact["steps"]["stop"].startswith("closed the ScaleEngine stream") and fact["steps"]["wait"].startswith("stopped after")
    assert fact["steps"]["purge"] == "not run"
    assert stack.usp.point("ch1").state == "stopped" and archive_of(stack, "ch1")
    assert usp_writes(stack) == []


# -- many channels, isolation, secrets -----------------------------------------------------------


def test_twenty_channels_with_five_forks(ansible_run, execution_path, record_property):
    names = [f"ch{index:02d}" for index in range(1, 21)]
    stack = build_stack(names, interval=0.5, fragments=10, eos_delay=0.3, red5_delay=0.3)
    try:
        hosts = {name: {"restart_session_options": {"archiving": True, "dvr_window_length": 100 + index}} for index, name in enumerate(names)}
        variables = dict(FAST, restart_session_start_tasks=START_TASKS, restart_session_wait_for_started=True)
        began = time.monotonic()
        result = restart(ansible_run, stack, hosts, variables, args=("--forks", "5"))
        wall = time.monotonic() - began
        record_property(f"restart_20_channels_forks_5_seconds_{execution_path}", round(wall, 1))
        print(f"20 channels with --forks 5 restarted in {wall:.1f} s")
        assert result.rc == 0, result.output

        for index, name in enumerate(names):
            assert recap(result, name)["failed"] == 0
            # Each channel's writes went to its own publishing point only, once each, in order.
            assert usp_writes(stack, name) == [("POST", f"/{name}/{name}.isml/purge?t=0"), ("DELETE", f"/{name}/{name}.isml"), ("POST", f"/{name}/{name}.isml")]
            assert stack.usp.point(name).option("dvr_window_length") == str(100 + index)
            assert stack.usp.point(name).state == "started"
            assert summary(result, name)["channel"] == name
        # Nothing else was written, and each stream was closed exactly once.
        assert len(usp_writes(stack)) == 3 * len(names)
        assert sorted(item["stream"] for item in scaleengine_writes(stack)) == names
        assert {entry.path.split("/")[1] for entry in stack.usp.log()} == set(names)
    finally:
        stack.stop()


def test_failure_on_one_channel_leaves_the_others_alone(ansible_run, stack):
    stack.usp.add_fault(kind="status", method="DELETE", path=r"^/ch2/", status=500, body="Internal Server Error\n", count=1)
    result = restart(ansible_run, stack, {"ch1": None, "ch2": None}, dict(FAST, restart_session_options=DESIRED))
    assert result.rc != 0
    assert recap(result, "ch1")["failed"] == 0 and recap(result, "ch2")["failed"] == 1
    assert "stopped at step 'delete'" in failure(result, "ch2")
    assert [method for method, _path in usp_writes(stack, "ch1")] == ["POST", "DELETE", "POST"]
    assert stack.usp.point("ch1").option("dvr_window_length") == "60"
    assert [method for method, _path in usp_writes(stack, "ch2")] == ["POST", "DELETE"]
    assert stack.usp.point("ch2").option("dvr_window_length") == "30"


def test_red5_verification_on_stream_manager_2(ansible_run, stack):
    """The role waits for the stream on a Stream Manager 2.0 that protects its stream calls: login, Bearer, no secret shown."""
    sm2 = stack.red5_sm2
    password = "SM2-pa55/wörd"
    sm2.set_auth(username="operator", password=password, streams_require_auth=True)
    variables = dict(
        FAST,
        restart_session_start_tasks=START_TASKS,
        restart_session_wait_for_red5=True,
        restart_session_red5_url=sm2.url(),
        restart_session_red5_api_version="sm2",
        restart_session_red5_node_group="ng-live",
        restart_session_red5_username="operator",
        restart_session_red5_password=password,
    )
    result = restart(ansible_run, stack, {"ch1": None}, variables, verbosity=4)
    assert result.rc == 0, result.output[-5000:]
    assert any(line.startswith("verify:") and "Red5 live/ch1 publishing on 10.0." in line for line in summary_lines(result, "ch1"))
    assert sm2.is_live(scope="live", name="ch1")
    polls = sm2.log(method="GET", path=r"^/as/v1/streams/stream/ng-live/stream/live/ch1$")
    assert polls and all(entry.headers.get("authorization", "").startswith("Bearer ") for entry in polls[1:])
    assert sm2.log(method="PUT", path=r"^/as/v1/auth/login$")
    # The Stream Manager 1.x of the stack was not asked.
    assert stack.red5.log() == []
    tokens = {entry.headers["authorization"].split(" ", 1)[1] for entry in sm2.log() if entry.headers.get("authorization", "").startswith("Bearer ")}
    for secret in (password, *tokens):
        assert secret not in result.output


@pytest.mark.parametrize("secure_logging", [True, False])
def test_no_secret_in_output_at_vvvv(ansible_run, secure_logging):
    stack = build_stack(["ch1"], interval=0.5, usp_username="operator", usp_password=USP_PASSWORD, eos_delay=0.3)
    try:
        # The USP password as a role variable, the ScaleEngine secret and key from the environment (an AWX credential).
        variables = dict(
            FAST,
            restart_session_usp_username="operator",
            restart_session_usp_password=USP_PASSWORD,
            restart_session_options=DESIRED,
            restart_session_secure_logging=secure_logging,
        )
        env = {key: value for key, value in stack.env().items() if key not in ("USP_USERNAME", "USP_PASSWORD")}
        result = restart(ansible_run, stack, {"ch1": None}, variables, verbosity=4, env=env)
        assert result.rc == 0, result.output[-5000:]
        assert stack.usp.point("ch1").option("dvr_window_length") == "60"
        for secret in (USP_PASSWORD, DEFAULT_API_SECRET, DEFAULT_API_KEY):
            assert secret not in result.output
        # With secure logging the modules' results are hidden too; without it they are printed (their secrets masked).
        assert ('"archive_after"' in result.stdout) is not secure_logging
    finally:
        stack.stop()
