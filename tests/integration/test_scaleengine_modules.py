"""scaleengine_* modules run through Ansible against the ScaleEngine emulator."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests

from tests.emulators.scaleengine import API_PATH, DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_CDN
from tests.helpers.playbook import task

STREAM = "mediaops.streaming.scaleengine_stream"
PUSH = "mediaops.streaming.scaleengine_pushpublish"
VIEWERS = "mediaops.streaming.scaleengine_viewer_info"
COMMAND = "mediaops.streaming.scaleengine_command"
READ_COMMANDS = {"stream.details", "stream.active", "viewer.live"}
LIVE_STREAM = {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"}
REPO_ROOT = Path(__file__).resolve().parents[2]


def env_of(emulator, **overrides) -> dict:
    env = {
        "SCALEENGINE_API_URL": emulator.url() + API_PATH,
        "SCALEENGINE_CDN": str(DEFAULT_CDN),
        "SCALEENGINE_API_KEY": DEFAULT_API_KEY,
        "SCALEENGINE_API_SECRET": DEFAULT_API_SECRET,
    }
    env.update(overrides)
    return env


def play_header(emulator, **connection) -> str:
    """A play whose connection options come from module_defaults for the action group."""
    options = dict(api_url=emulator.url() + API_PATH, cdn=DEFAULT_CDN, api_key=DEFAULT_API_KEY, api_secret=DEFAULT_API_SECRET)
    options.update(connection)
    return (
        "- hosts: localhost\n  gather_facts: false\n  connection: local\n  module_defaults:\n    group/mediaops.streaming.scaleengine:\n"
        + textwrap.indent("\n".join(f"{key}: {json.dumps(value)}" for key, value in options.items()), "      ")
        + "\n"
    )


def status(result, name: str) -> str:
    """How the task called ``name`` ended: ok, failed, skipped."""
    return [entry["status"] for entry in result.tasks if entry["task"] == name][-1]


def commands(emulator) -> list[str]:
    return [item["command"] for item in emulator.commands()]


# -- the "done when" command ------------------------------------------------------


def test_adhoc_viewer_info_with_environment(ansible_run, scaleengine):
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin", env=env_of(scaleengine), callback="minimal")
    assert result.rc == 0, result.output
    assert "SUCCESS" in result.stdout
    printed = json.loads(result.stdout[result.stdout.index("{") :])
    assert {item["video_url"] for item in printed["viewers"]} == {"my_live_stream", "my_live_stream_720p", "sestore3/username/path/filename.mp4"}
    assert printed["viewers"][0]["viewer_count_sum"] == 100
    assert commands(scaleengine) == ["viewer.live"]
    assert DEFAULT_API_SECRET not in result.output


def test_what_a_run_writes_stays_in_the_test_directory(ansible_run, scaleengine, tmp_path):
    env = ansible_run.env()
    for name in ("ANSIBLE_HOME", "ANSIBLE_LOCAL_TEMP", "ANSIBLE_REMOTE_TMP"):
        assert Path(env[name]).is_relative_to(tmp_path), name
    # TMPDIR is the test's own short directory (see the ansible_run fixture), never the shared one.
    assert env["TMPDIR"] == str(ansible_run.tmp) and ansible_run.tmp.name.startswith("mediaops-test-")
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin", env=env_of(scaleengine), callback="minimal")
    assert result.rc == 0, result.output
    # The signing ledger's default place is the temporary directory: the test's own.
    assert (ansible_run.tmp / f"mediaops-scaleengine-{os.getuid()}.json").is_file()


def test_missing_connection_options_fail_clearly(ansible_run, scaleengine):
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin", env={"SCALEENGINE_API_URL": scaleengine.url() + API_PATH}, callback="minimal")
    assert result.rc != 0
    assert "missing required arguments" in result.output and "api_secret" in result.output
    assert scaleengine.received() == []


# -- scaleengine_stream -------------------------------------------------------------


def test_close_stream_check_then_close_then_unchanged(ansible_run, scaleengine):
    closed = []
    scaleengine.on_stream_close = lambda *key: closed.append(key)
    ident = dict(app="demo-origin", inst="live", stream="my_live_stream")
    tasks = (
        task("predict", STREAM, register="predicted", check_mode=True, **ident)
        + task("close", STREAM, register="closed", state="closed", **ident)
        + task("close again", STREAM, register="again", **ident)
    )
    result = ansible_run.playbook(tasks, play_header=play_header(scaleengine))
    assert result.rc == 0, result.output

    predicted = result.task("predict")
    assert predicted["changed"] is True and predicted["stream"]["stream_id"] == 1000
    closed_result = result.task("close")
    assert closed_result["changed"] is True
    assert closed_result["stream"]["stream"] == "my_live_stream"
    assert [item["entry_name"] for item in closed_result["stream"]["pushpublish"]] == ["session_1", "cupertino-akamai"]
    again = result.task("close again")
    assert again["changed"] is False and again["stream"] is None and "not live" in again["message"]

    assert commands(scaleengine) == ["stream.details", "stream.details", "stream.close", "stream.details"]
    assert closed == [("demo-origin", "live", "my_live_stream")]


def test_closing_a_stream_that_is_not_live_sends_no_close(ansible_run, scaleengine):
    result = ansible_run.adhoc(STREAM, "app=demo-origin inst=live stream=never_started", env=env_of(scaleengine), callback="minimal")
    assert result.rc == 0, result.output
    assert "SUCCESS" in result.stdout and "CHANGED" not in result.stdout
    assert commands(scaleengine) == ["stream.details"]

    by_id = ansible_run.adhoc(STREAM, "app=demo-origin inst=live stream_id=4242", env=env_of(scaleengine), callback="minimal")
    assert by_id.rc == 0, by_id.output
    assert "CHANGED" not in by_id.stdout
    assert "stream.close" not in commands(scaleengine)
    assert scaleengine.is_live("demo-origin", "live", "my_live_stream")


def test_close_by_stream_id_and_unicode_names(ansible_run, scaleengine):
    special = "caf\u00e9/\U0001f600 <live>"
    scaleengine.start_stream("demo-origin", "live", special, stream_id=77)
    tasks = task("by id", STREAM, register="by_id", app="demo-origin", inst="live", stream_id=1000) + task(
        "special", STREAM, register="special", app="demo-origin", inst="live", stream=special
    )
    result = ansible_run.playbook(tasks, play_header=play_header(scaleengine))
    assert result.rc == 0, result.output
    assert result.task("by id")["changed"] is True
    assert result.task("special")["changed"] is True and result.task("special")["stream"]["stream_id"] == 77
    assert scaleengine.streams == {}
    assert {"command": "stream.close", "stream_id": 1000}.items() <= scaleengine.commands("stream.close")[0].items()
    assert scaleengine.commands("stream.close")[1]["stream"] == special


# -- scaleengine_pushpublish ----------------------------------------------------------


def test_pushpublish_disconnect_is_idempotent(ansible_run, scaleengine):
    scaleengine.start_stream("demo-origin", "live", "second")
    stored = scaleengine.add_pushpublish("demo-origin", "live", "second", "youtube", push_service_id=9001)
    by_name = dict(app="demo-origin", inst="live", entry_name="session_1")
    tasks = (
        task("predict", PUSH, register="predicted", check_mode=True, **by_name)
        + task("disconnect", PUSH, register="first", state="disconnected", **by_name)
        + task("again", PUSH, register="again", **by_name)
        + task("stored", PUSH, register="stored", push_service_id=stored["push_service_id"])
        + task("stored again", PUSH, register="stored_again", push_service_id=stored["push_service_id"])
        + task("all of one stream", PUSH, register="all", app="demo-origin", inst="live", stream="my_live_stream", entry_name="*")
        + task("all again", PUSH, register="all_again", app="demo-origin", inst="live", stream="my_live_stream", entry_name="*")
    )
    result = ansible_run.playbook(tasks, play_header=play_header(scaleengine))
    assert result.rc == 0, result.output

    assert result.task("predict")["changed"] is True
    first = result.task("disconnect")
    assert first["changed"] is True and first["verified"] is True
    assert first["sessions_disconnected"] == [{"entry_name": "session_1", "push_service_id": 1234, "stream": "my_live_stream"}]
    assert first["message"] == "session_1 disconnected"
    assert result.task("again")["changed"] is False
    # Without app/inst the sessions cannot be listed; the API's "no matching session" is still changed=false.
    assert result.task("stored")["changed"] is True and result.task("stored")["verified"] is False
    assert result.task("stored again")["changed"] is False
    assert result.task("all of one stream")["changed"] is True
    assert [item["entry_name"] for item in result.task("all of one stream")["sessions_disconnected"]] == ["cupertino-akamai"]
    assert result.task("all again")["changed"] is False

    sent = scaleengine.commands("pushpublish.disconnect")
    assert [item.get("entry_name", item.get("push_service_id")) for item in sent] == ["session_1", 9001, 9001, "*"]
    assert all(not details["pushpublish"] for details in scaleengine.streams.values())


# -- scaleengine_viewer_info ----------------------------------------------------------


def test_viewer_info_slashes_unicode_wildcards_and_lists(ansible_run, scaleengine):
    vod = "sestore3/\u00fcser/pfad/caf\u00e9_\U0001f600.mp4"
    scaleengine.set_viewers("demo-origin", vod, 7, 1, 9, 33)
    tasks = (
        task("vod", VIEWERS, register="vod", app="demo-origin", url=vod)
        + task("piped", VIEWERS, register="piped", app="demo-origin", url="my_live_stream_*|sestore3/username/path/filename.mp4")
        + task("lists", VIEWERS, register="lists", app=[1, "demo-channel"], url=["sestore3/*", "channel1"])
        + task("by id", VIEWERS, register="by_id", app=2)
        + task("nobody", VIEWERS, register="nobody", app="demo-origin", url="unknown_*")
    )
    result = ansible_run.playbook(tasks, play_header=play_header(scaleengine))
    assert result.rc == 0, result.output

    assert result.task("vod")["viewers"] == [
        {"app": "demo-origin", "video_url": vod, "viewer_count_avg": 7, "viewer_count_min": 1, "viewer_count_max": 9, "viewer_count_sum": 33}
    ]
    assert result.task("vod")["changed"] is False
    assert sorted(item["video_url"] for item in result.task("piped")["viewers"]) == ["my_live_stream_720p", "sestore3/username/path/filename.mp4"]
    assert sorted(item["video_url"] for item in result.task("lists")["viewers"]) == ["channel1", "sestore3/username/path/filename.mp4", vod]
    assert [item["app"] for item in result.task("by id")["viewers"]] == ["demo-channel"]
    assert result.task("nobody")["viewers"] == []
    # The escaped forms were on the wire (so the signature covered what PHP would re-encode).
    posted = [entry.body for entry in scaleengine.log(method="POST")]
    assert any(rb"sestore3\/\u00fcser\/pfad\/caf\u00e9_\ud83d\ude00.mp4" in body for body in posted)


# -- scaleengine_command ----------------------------------------------------------------


def test_command_read_only_changed_and_unknown(ansible_run, scaleengine):
    tasks = (
        task("active", COMMAND, register="active", command="stream.active", params={"app": "demo-origin", "inst": "live"}, read_only=True)
        + task("declared", COMMAND, register="declared", command="stream.close", params=LIVE_STREAM, changed=True)
        + task("unknown", COMMAND, register="unknown", ignore_errors=True, command="stream.explode", params={"app": "demo-origin"})
        + task("float", COMMAND, register="float", ignore_errors=True, command="stream.active", params={"app": "demo-origin", "ratio": 0.5})
    )
    result = ansible_run.playbook(tasks, play_header=play_header(scaleengine))
    assert result.rc == 0, result.output

    active = result.task("active")
    assert active["changed"] is False and active["sent"] is True
    assert active["response"]["status"] == "success" and active["response"]["data"][0]["stream_id"] == 1000
    assert "handle_time" in active["response"]
    assert result.task("declared")["changed"] is True
    assert not scaleengine.is_live("demo-origin", "live", "my_live_stream")
    unknown = result.task("unknown")
    assert status(result, "unknown") == "failed" and "code 0000" in unknown["msg"] and "Unrecognized command" in unknown["msg"]
    assert unknown["api_code"] == "0000"
    floated = result.task("float")
    assert status(result, "float") == "failed" and "floating-point" in floated["msg"]
    assert commands(scaleengine) == ["stream.active", "stream.close", "stream.explode"]


# -- check mode ---------------------------------------------------------------------------


def test_check_mode_sends_no_state_changing_command(ansible_run, scaleengine):
    tasks = (
        task("close", STREAM, register="close", app="demo-origin", inst="live", stream="my_live_stream")
        + task("close by id", STREAM, register="close_id", app="demo-origin", inst="live", stream_id=1000)
        + task("push", PUSH, register="push", app="demo-origin", inst="live", entry_name="*")
        + task("push by id", PUSH, register="push_id", push_service_id=1234)
        + task("command", COMMAND, register="command", command="stream.close", params={"stream_id": 1000}, changed=True)
        + task("read command", COMMAND, register="read", command="stream.details", params=LIVE_STREAM, read_only=True)
        + task("viewers", VIEWERS, register="viewers", app="demo-origin")
    )
    result = ansible_run.playbook(tasks, play_header=play_header(scaleengine), check=True)
    assert result.rc == 0, result.output

    for name in ("close", "close by id", "push", "push by id", "command"):
        assert result.task(name)["changed"] is True, name
    assert result.task("command")["sent"] is False
    assert result.task("read command")["response"]["data"]["stream"] == "my_live_stream"
    assert result.task("viewers")["viewers"]
    assert set(commands(scaleengine)) <= READ_COMMANDS
    assert "stream.close" not in commands(scaleengine) and "pushpublish.disconnect" not in commands(scaleengine)
    assert scaleengine.is_live("demo-origin", "live", "my_live_stream")
    assert len(scaleengine.streams[("demo-origin", "live", "my_live_stream")]["pushpublish"]) == 2


# -- failures and secrets -------------------------------------------------------------


@pytest.mark.parametrize(("verbosity", "source"), [(0, "env"), (4, "env"), (4, "extra_var")])
def test_wrong_secret_fails_with_the_api_message_and_leaks_nothing(ansible_run, scaleengine, tmp_path, verbosity, source):
    # The secret comes from the environment (as AWX injects it) or a variable, never written in the
    # playbook itself: Ansible quotes the playbook's source lines around a failed task.
    wrong = "not-the-s3cret/\u00e9-" + "f" * 20
    header = play_header(scaleengine, api_key="{{ se_key }}", api_secret="{{ se_secret }}")
    vars_file = tmp_path / "secrets.json"
    vars_file.write_text(json.dumps({"se_key": DEFAULT_API_KEY, "se_secret": wrong}))
    if source == "env":
        header = "\n".join(line for line in header.splitlines() if "se_key" not in line and "se_secret" not in line) + "\n"
    result = ansible_run.playbook(
        task("close", STREAM, register="close", app="demo-origin", inst="live", stream="my_live_stream"),
        play_header=header,
        env={"SCALEENGINE_API_KEY": DEFAULT_API_KEY, "SCALEENGINE_API_SECRET": wrong} if source == "env" else None,
        # From a file: at -vvvv ansible-playbook echoes its own command line, -e values included.
        args=() if source == "env" else ("-e", f"@{vars_file}"),
        verbosity=verbosity,
    )
    assert result.rc != 0
    failed = result.task("close")
    assert status(result, "close") == "failed"
    assert "Failed HMAC-SHA256 signature" in failed["msg"] and "code 0003" in failed["msg"] and "api_secret" in failed["msg"]
    assert failed["api_code"] == "0003"
    signatures = [item.get("signature") for item in scaleengine.received()]
    assert signatures and all(signatures)
    for secret in (wrong, json.dumps(wrong)[1:-1], DEFAULT_API_SECRET, DEFAULT_API_KEY, *signatures, *(json.dumps(s)[1:-1] for s in signatures)):
        assert secret not in result.output, f"{secret!r} leaked"
    assert scaleengine.is_live("demo-origin", "live", "my_live_stream")


def test_successful_run_at_vvvv_leaks_nothing(ansible_run, scaleengine):
    result = ansible_run.playbook(
        task("close", STREAM, register="close", app="demo-origin", inst="live", stream="my_live_stream")
        + task("viewers", VIEWERS, register="viewers", app="demo-origin", url="sestore3/username/path/filename.mp4"),
        env=env_of(scaleengine),
        verbosity=4,
    )
    assert result.rc == 0, result.output
    signatures = [item["signature"] for item in scaleengine.received()]
    assert len(signatures) == 3
    for secret in (DEFAULT_API_SECRET, DEFAULT_API_KEY, *signatures, *(json.dumps(s)[1:-1] for s in signatures)):
        assert secret not in result.output, f"{secret!r} leaked"


def test_wrong_key_or_cdn_gets_the_key_advice(ansible_run, scaleengine):
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin cdn=999", env=env_of(scaleengine), callback="minimal")
    assert result.rc != 0
    assert "CDN authorization failed" in result.output and "code 0001" in result.output and "api_key and cdn" in result.output


def test_stale_clock_gets_the_clock_advice(ansible_run, scaleengine):
    scaleengine.clock = lambda: __import__("time").time() + 3600
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin", env=env_of(scaleengine), callback="minimal")
    assert result.rc != 0
    assert "code 0002" in result.output and "clock" in result.output and "UTC" in result.output


def test_503_burst_then_success_signs_every_try_again(ansible_run, scaleengine):
    scaleengine.add_fault(kind="status", method="POST", path=re.escape(API_PATH), status=503, count=2, body="Service Unavailable")
    result = ansible_run.playbook(task("viewers", VIEWERS, register="viewers", app="demo-origin"), play_header=play_header(scaleengine))
    assert result.rc == 0, result.output
    viewers = result.task("viewers")
    assert viewers["viewers"]
    assert sum("HTTP 503" in warning for warning in viewers.get("warnings", [])) == 2

    tries = scaleengine.received()
    assert len(tries) == 3
    assert len({item["signature"] for item in tries}) == 3
    assert len({item["timestamp"] for item in tries}) == 3
    assert [item["timestamp"] for item in tries] == sorted(item["timestamp"] for item in tries)
    assert commands(scaleengine) == ["viewer.live"]  # the two 503s never reached the API


def test_heavy_load_is_retried_then_succeeds(ansible_run, scaleengine):
    requests.post(scaleengine.url() + "/_emulator/heavy_load", json={"count": 2}, timeout=5).raise_for_status()
    result = ansible_run.playbook(task("viewers", VIEWERS, register="viewers", app="demo-origin"), play_header=play_header(scaleengine))
    assert result.rc == 0, result.output
    assert sum("heavy load" in warning for warning in result.task("viewers").get("warnings", [])) == 2
    assert len({item["signature"] for item in scaleengine.received()}) == 3


def test_heavy_load_until_retries_run_out(ansible_run, scaleengine):
    requests.post(scaleengine.url() + "/_emulator/heavy_load", json={"count": 5}, timeout=5).raise_for_status()
    result = ansible_run.playbook(task("viewers", VIEWERS, app="demo-origin", retries=1), play_header=play_header(scaleengine))
    assert result.rc != 0
    assert "code 1000" in result.output and "heavy load" in result.output
    assert len(scaleengine.received()) == 2


def test_non_json_answer_fails_clearly(ansible_run, scaleengine):
    scaleengine.add_fault(kind="status", method="POST", status=200, body="<html><body>Maintenance</body></html>", headers={"Content-Type": "text/html"})
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin", env=env_of(scaleengine), callback="minimal")
    assert result.rc != 0
    assert "not a JSON object" in result.output and "Maintenance" in result.output


def test_api_url_without_trailing_slash_still_posts_to_the_slash(ansible_run, scaleengine):
    result = ansible_run.adhoc(VIEWERS, "app=demo-origin", env=env_of(scaleengine, SCALEENGINE_API_URL=scaleengine.url() + "/stable"), callback="minimal")
    assert result.rc == 0, result.output
    assert [entry.path for entry in scaleengine.log(method="POST")] == [API_PATH]


# -- the emulator itself --------------------------------------------------------------------


def test_emulator_accepts_urlencoded_and_redirects_without_slash(scaleengine):
    answer = requests.post(scaleengine.url() + API_PATH, data={"json": '{"command":"viewer.live"}'}, timeout=5).json()
    assert answer["status"] == "failure" and answer["code"] == "0001"
    redirected = requests.post(scaleengine.url() + "/stable", data={"json": "{}"}, timeout=5, allow_redirects=False)
    assert redirected.status_code == 301 and redirected.headers["Location"] == API_PATH


def test_emulator_cli_starts_and_serves():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.emulators.scaleengine", "--cdn", "7", "--api-key", "K", "--api-secret", "S", "--empty"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
    )
    try:
        urls = json.loads(process.stdout.readline())
        state = requests.post(urls["api"] + "/_emulator/state", json={}, timeout=5).json()
        assert state["streams"] == [] and state["apps"] == {}
        started = requests.post(urls["api"] + "/_emulator/start_stream", json={"app": "a", "inst": "live", "stream": "s"}, timeout=5)
        assert started.status_code == 201
        answer = requests.post(urls["api"] + API_PATH, files={"json": (None, '{"command":"x","api_key":"K","cdn":8}')}, timeout=5).json()
        assert answer["code"] == "0001"  # the --cdn option is in force
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
