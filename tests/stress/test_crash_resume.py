"""The restart_session playbook killed with SIGKILL right after each step, then run again: every channel converges.

Three channels restart in parallel (one with desired options, one that comes
back as it was, one below a base path), next to a live channel that is not in
the inventory. The wired emulator stack (tests/emulators/stack.py) plays USP,
ScaleEngine and Red5; the start tasks start the simulated encoder again.

The kill is not timed: a :class:`~tests.stress.conftest.Tripwire` kills
ansible-playbook and every process it started the moment an emulator has
carried out the request that ends the step (the ``stream.close``, a
``stopped`` state, the purge, the read-back of the purged archive, the
DELETE, the create, the encoder start, a ``started`` state after the create)
for both ch1 and ch2, before the last of those answers leaves. The fork of
the third channel is caught wherever it is. Then the same command runs again,
as an operator would after a crash, and must converge without losing
anything that was not asked to be deleted.
"""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.request
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.emulators.scaleengine import ScaleEngineEmulator
from tests.emulators.stack import build_stack
from tests.emulators.usp import server_manifest
from tests.helpers.playbook import BIN_DIR, REPO_ROOT
from tests.stress.conftest import Answered, Tripwire, start_playbook

START_TASKS = str(REPO_ROOT / "tests" / "demo" / "restart_start_encoder.yml")
DESIRED = {"archiving": True, "archive_segment_length": 60, "dvr_window_length": 60}
DESIRED_EVENTS = {"archiving": True, "archive_segment_length": 60, "dvr_window_length": 90}
#: inventory host -> (publishing point, host variables)
CHANNELS = {
    "ch1": ("ch1", {"restart_session_options": DESIRED}),
    "ch2": ("ch2", {}),  # no desired options: it must come back exactly as it was
    "events-ev1": ("events/ev1", {"restart_session_channel": "ev1", "restart_session_base_path": "events", "restart_session_options": DESIRED_EVENTS}),
}
BYSTANDER = "keep"  # live and archiving, not in the inventory
VARIABLES = {
    "restart_session_stop_method": "scaleengine_stream",
    "restart_session_scaleengine_app": "demo-origin",
    "restart_session_scaleengine_inst": "live",
    "restart_session_start_tasks": START_TASKS,
    "restart_session_stop_timeout": 30,
    "restart_session_poll_interval": 0.2,
    "restart_session_wait_for_started": True,
    "restart_session_started_timeout": 30,
    "restart_session_wait_for_red5": True,
    "restart_session_red5_timeout": 30,
}

# The order in which a restart changes things; a kill after a step must leave no trace of a later one.
PHASES = ("stop", "purge", "delete", "create", "start")
#: the kill comes when the step is done for these channels; the third one's fork is caught wherever it is
TRIP_POINTS = {"ch1", "ch2"}
POINT_OF_NAME = {point.rsplit("/", 1)[-1]: point for point, _vars in CHANNELS.values()}


def _point_path(point: str) -> str:
    return f"/{point}/{point.rsplit('/', 1)[-1]}.isml"


def _point_of(answered: Answered) -> str | None:
    """The publishing point a request was about."""
    if answered.listener == "control":
        return (answered.payload or {}).get("point")
    if answered.service == "usp" and ".isml" in answered.path:
        return answered.path.partition(".isml")[0].strip("/").rpartition("/")[0]
    if answered.service == "scaleengine" and answered.request is not None:
        try:
            stream = json.loads(ScaleEngineEmulator._json_field(answered.request) or "{}").get("stream")
        except ValueError:
            return None
        return POINT_OF_NAME.get(stream, stream)
    return None


def _scaleengine_command(answered: Answered) -> str | None:
    if answered.service != "scaleengine" or answered.request is None:
        return None
    try:
        return json.loads(ScaleEngineEmulator._json_field(answered.request) or "{}").get("command")
    except ValueError:
        return None


def _succeeded(answered: Answered) -> bool:
    try:
        return answered.status == 200 and json.loads(answered.body).get("status") == "success"
    except ValueError:
        return False


def _origin(answered: Answered, method: str, virtual: str) -> bool:
    return answered.service == "usp" and answered.listener == "origin" and answered.method == method and answered.path.endswith(f".isml/{virtual}")


def _state_is(answered: Answered, *states: str) -> bool:
    if not _origin(answered, "GET", "state") or answered.status != 200:
        return False
    metas = {element.get("name"): element.get("content") for element in ElementTree.fromstring(answered.body).iter() if element.tag.endswith("meta")}
    return metas.get("state") in states


def phase_of(answered: Answered) -> str | None:
    """Which step's change this answered request made, if it changed anything."""
    if _scaleengine_command(answered) == "stream.close" and _succeeded(answered):
        return "stop"
    if _origin(answered, "POST", "purge"):
        return "purge" if answered.status == 200 else None
    if answered.service == "usp" and answered.listener == "api" and answered.method == "DELETE":
        return "delete" if answered.status == 200 else None
    if answered.service == "usp" and answered.listener == "api" and answered.method == "POST":
        return "create" if answered.status == 201 else None
    if answered.listener == "control" and answered.path == "encoder/start":
        return "start" if answered.status == 200 else None
    return None


def _logged_before(stack, point: str, method: str, listener: str, suffix: str = "") -> bool:
    return bool(stack.usp.log(method=method, listener=listener, path="^" + re.escape(_point_path(point) + suffix) + "$"))


def _step_done(stack, step: str, answered: Answered) -> str | None:
    """The channel for which ``answered`` completes ``step``, or None."""
    point = _point_of(answered)
    if point is None:
        return None
    done = {
        "stop encoder": lambda: phase_of(answered) == "stop",
        "wait stopped": lambda: _state_is(answered, "stopped", "idle"),
        "purge": lambda: phase_of(answered) == "purge",
        # The purge module reads the archive back after the purge: that answer is the role's verification.
        "verify empty": lambda: _origin(answered, "GET", "archive") and _logged_before(stack, point, "POST", "origin", "/purge"),
        "delete": lambda: phase_of(answered) == "delete",
        "create": lambda: phase_of(answered) == "create",
        "start encoder": lambda: phase_of(answered) == "start",
        "wait live": lambda: _state_is(answered, "started") and _logged_before(stack, point, "POST", "api"),
    }[step]()
    return point if done else None


#: step -> the last kind of change that may have happened when the playbook is killed right after it
LAST_PHASE = {
    "stop encoder": "stop",
    "wait stopped": "stop",
    "purge": "purge",
    "verify empty": "purge",
    "delete": "delete",
    "create": "create",
    "start encoder": "start",
    "wait live": "start",
}


# ch2 as mp4split makes a live point: options in the head, the tracks in the body. Restarted
# "as it was", all of it must come back, also after a run that was killed before the create.
CH2_MANIFEST = """\
<?xml version="1.0" encoding="utf-8"?>
<smil xmlns="http://www.w3.org/2001/SMIL20/Language">
  <head>
    <meta name="clientManifestRelativePath" content="ch2.ismc" />
    <meta name="creator" content="Unified Streaming Platform (USP)" />
    <meta name="lookahead_fragments" content="2" />
    <meta name="archiving" content="true" />
    <meta name="archive_segment_length" content="60" />
    <meta name="dvr_window_length" content="45" />
    <meta name="restart_on_encoder_reconnect" content="true" />
    <meta name="mpd_segment_template" content="time" />
  </head>
  <body>
    <switch>
      <video src="ch2-1.ismv" systemBitrate="1000000">
        <param name="trackID" value="1" valueType="data" />
        <param name="trackName" value="video" valueType="data" />
      </video>
      <audio src="ch2-2.isma" systemBitrate="128000">
        <param name="trackID" value="2" valueType="data" />
        <param name="trackName" value="audio" valueType="data" />
      </audio>
    </switch>
  </body>
</smil>
"""


@pytest.fixture
def stack():
    emulators = build_stack(["ch1", BYSTANDER], interval=0.5, eos_delay=0.3, red5_delay=0.3)
    try:
        request = urllib.request.Request(emulators.usp.url("api") + "/ch2/ch2.isml", data=CH2_MANIFEST.encode(), method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 201
        emulators.usp.encoder_start("ch2", interval=0.5, start_time=time.time() - 60)
        emulators.usp.encoder_push("ch2", count=30)
        emulators.usp.create_directory("events")
        emulators.add_channel("ev1", base_path="events", interval=0.5)
        emulators.clear_logs()
        yield emulators
    finally:
        emulators.stop()


def restart_argv(ansible_run) -> list[str]:
    """The operator's command line: the collection playbook, channels as inventory hosts, shared variables with -e."""
    inventory = ansible_run.workdir / "channels.yml"
    inventory.write_text(json.dumps({"channels": {"hosts": {host: host_vars for host, (_point, host_vars) in CHANNELS.items()}}}))
    extra = ansible_run.workdir / "vars.json"
    extra.write_text(json.dumps(VARIABLES))
    return [str(BIN_DIR / "ansible-playbook"), "mediaops.streaming.restart_session", "-i", str(inventory), "-e", f"@{extra}", "--forks", "3"]


def role_result(result, host: str, suffix: str) -> dict:
    found = [entry for entry in result.tasks if entry["host"] == host and entry["task"].endswith(suffix)]
    assert found, f"no task ending in {suffix!r} for {host}; output:\n{result.output[-4000:]}"
    return found[-1]["result"]


def recap(result, host: str) -> dict:
    match = re.search(rf"^{re.escape(host)}\s+:\s+(.*)$", result.stdout, re.MULTILINE)
    assert match, result.output[-3000:]
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def manifest_of(stack, point: str) -> tuple[dict, str]:
    """Head options and the whole server manifest, as the API returns them."""
    dumped = stack.usp.dump_points()[point]
    with stack.usp.lock:
        found = stack.usp.point(point)
        return dumped["head"], server_manifest(found.head, found.body)


def saved_manifest(ansible_run, stack, point: str) -> Path:
    """Where the role keeps the manifest of ``point`` between its delete and its create (restart_session_backup_dir's default)."""
    host_port = stack.usp.url("api").split("://", 1)[1].replace(":", "_")
    return ansible_run.home / "restart_session" / host_port / _point_path(point).lstrip("/")


def as_strings(options: dict) -> dict:
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in options.items()}


@pytest.mark.parametrize("step", list(LAST_PHASE))
def test_killed_after_step_then_rerun_converges(ansible_run, stack, step, record_property):
    points = [point for point, _vars in CHANNELS.values()]
    before = {point: manifest_of(stack, point) for point in [*points, BYSTANDER]}
    bystander_archive_start = stack.usp.point(BYSTANDER).archive[0][0]
    argv = restart_argv(ansible_run)

    tripwire = Tripwire(stack, lambda answered: _step_done(stack, step, answered), TRIP_POINTS)
    began = time.time()
    running = tripwire.arm(start_playbook(ansible_run, argv, env=stack.env()))
    killed = running.wait()
    assert tripwire.tripped_by is not None, f"the run finished without reaching the crash point {step!r}:\n{killed.output[-4000:]}"
    assert killed.rc == -signal.SIGKILL, killed.output[-3000:]
    assert running.killed and running.survivors == []
    kill_seconds = time.time() - began

    # The kill came right after the step: it was done for ch1 and ch2, and nothing of a later step happened (forks in flight included).
    reached = [phase for phase in (phase_of(answered) for answered in tripwire.answered) if phase]
    assert reached and max(PHASES.index(phase) for phase in reached) == PHASES.index(LAST_PHASE[step]), reached
    at_kill = stack.usp.dump_points()
    gone = sorted(point for point in points if point not in at_kill)
    if step == "delete":
        assert_killed_between_delete_and_create(ansible_run, stack, killed, before, gone)

    began_rerun = time.monotonic()
    rerun = ansible_run.run(argv, env=stack.env())
    rerun_seconds = time.monotonic() - began_rerun
    line = (
        f"killed after {step!r} ({tripwire.tripped_by}, {kill_seconds:.1f} s in, {len(running.killed)} worker/module processes killed, "
        f"deleted and not created: {', '.join(gone) or 'none'}); re-run rc={rerun.rc} in {rerun_seconds:.1f} s"
    )
    print(f"\ncrash/resume: {line}")
    record_property(f"crash_resume[{step}]", line)
    assert rerun.rc == 0, rerun.output[-6000:]

    for host, (point, host_vars) in CHANNELS.items():
        assert_channel_converged(ansible_run, stack, rerun, host, point, host_vars, before=before, began=began, gone=gone)

    assert_bystander_untouched(stack, before[BYSTANDER], bystander_archive_start)


def assert_killed_between_delete_and_create(ansible_run, stack, killed, before: dict, gone: list[str]) -> None:
    assert set(gone) >= TRIP_POINTS
    # What the run was going to create had already been printed when it was killed between the delete and the create.
    plan = killed.stdout
    assert json.dumps("- create it again with the options " + json.dumps(DESIRED)) in plan, plan[-4000:]
    assert json.dumps("- create it again with the manifest it has now (the same settings)") in plan, plan[-4000:]
    # ... and so had the settings of the channel that comes back as it was.
    settings = ", ".join(f"{key}={value}" for key, value in before["ch2"][0].items() if key not in ("creator", "clientManifestRelativePath"))
    assert json.dumps(f"settings: {settings}") in plan, plan[-4000:]
    # The whole manifest of the channel that comes back as it was outlived the run on the controller's disk.
    assert saved_manifest(ansible_run, stack, "ch2").is_file()


def assert_channel_converged(ansible_run, stack, rerun, host: str, point: str, host_vars: dict, *, before: dict, began: float, gone: list[str]) -> None:
    assert recap(rerun, host)["failed"] == 0
    head, manifest = manifest_of(stack, point)
    if "restart_session_options" in host_vars:
        assert as_strings(host_vars["restart_session_options"]).items() <= head.items(), head
    else:
        # Restarted as it was: the whole manifest, head and body, is the one it had before the first run.
        assert manifest == before[point][1]
    found = stack.usp.point(point)
    name = point.rsplit("/", 1)[-1]
    assert found.state == "started" and found.session is not None
    assert stack.is_live(name)
    assert [entry["active"] for entry in stack.red5.dump_registry() if entry["name"] == name] == [True]
    # The archive holds only what was ingested after the restart began: the old session is gone, the new one is recorded.
    assert found.archive and all(start >= began * 1_000_000 for start, _end in found.archive), found.archive
    result = role_result(rerun, host, "Put the result together")["ansible_facts"]["restart_session_result"]
    assert result["after"]["exists"] is True and result["after"]["state"] == "started"
    if point in gone:
        assert result["before"]["exists"] is False
        assert result["steps"]["stop"] == "skipped: the point did not exist"
        if "restart_session_options" in host_vars:
            assert result["steps"]["create"] == "created with the options " + json.dumps(host_vars["restart_session_options"])
        else:
            saved = saved_manifest(ansible_run, stack, point)
            assert result["steps"]["create"] == f"created with the manifest saved at {saved} before an earlier run deleted it"
    assert not saved_manifest(ansible_run, stack, point).exists()


def assert_bystander_untouched(stack, manifest_before: tuple[dict, str], archive_start: int) -> None:
    """Nothing outside the inventory was touched: the bystander point, its archive, its ScaleEngine stream."""
    assert manifest_of(stack, BYSTANDER) == manifest_before
    keep = stack.usp.point(BYSTANDER)
    assert keep.state == "started" and keep.archive[0][0] == archive_start
    assert stack.is_live(BYSTANDER)
    assert not [entry for entry in stack.usp.log() if entry.method in ("POST", "PUT", "DELETE") and entry.path.startswith(f"/{BYSTANDER}/")]
    assert BYSTANDER not in {item.get("stream") for item in stack.scaleengine.commands("stream.close")}
