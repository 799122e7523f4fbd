"""usp_* modules run through Ansible against the USP emulator."""

from __future__ import annotations

import base64
import threading
import time

import pytest

from tests.emulators.usp import server_manifest
from tests.helpers.playbook import task

PP = "mediaops.streaming.usp_publishing_point"
INFO = "mediaops.streaming.usp_publishing_point_info"
PURGE = "mediaops.streaming.usp_archive_purge"
WRITES = ("POST", "PUT", "DELETE")


def connection(emulator, **extra) -> dict:
    return dict(api_url=emulator.url("api"), origin_url=emulator.url("origin"), **extra)


def writes(emulator) -> list:
    return [entry for entry in emulator.log() if entry.method in WRITES]


# -- create, idempotency, update --------------------------------------------


def test_adhoc_create_then_unchanged(ansible_run, usp):
    args = f'api_url={usp.url("api")} name=ch1 options={{"archiving":true}}'
    first = ansible_run.adhoc(PP, args, callback="minimal")
    assert first.rc == 0, first.output
    assert "CHANGED" in first.stdout
    assert usp.point("ch1").option("archiving") == "true"

    usp.clear_log()
    second = ansible_run.adhoc(PP, args, callback="minimal")
    assert second.rc == 0, second.output
    assert "SUCCESS" in second.stdout and "CHANGED" not in second.stdout
    # An unchanged state=present costs exactly one request: the GET.
    assert [(entry.method, entry.path) for entry in usp.log()] == [("GET", "/ch1/ch1.isml")]


def test_create_update_and_second_run(ansible_run, usp):
    usp.create_directory("events/2026")
    base = connection(usp, name="match42", base_path="events/2026")
    tasks = (
        task("create", PP, register="created", **base, options={"archiving": True, "archive_segment_length": 60, "mpd.segment_template": "time"})
        + task("again", PP, register="again", **base, options={"archiving": "true", "archive_segment_length": "60", "mpd_segment_template": "time"})
        + task("update", PP, register="updated", **base, options={"dvr_window_length": 120})
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output

    created = result.task("create")
    assert created["changed"] is True
    assert created["url"] == f"{usp.url('api')}/events/2026/match42/match42.isml"
    assert created["settings"]["archiving"] == "true"
    assert created["settings"]["mpd_segment_template"] == "time"
    assert created["settings"]["clientManifestRelativePath"] == "match42.ismc"
    assert "<smil" in created["manifest"]

    assert result.task("again")["changed"] is False

    updated = result.task("update")
    assert updated["changed"] is True
    assert updated["changes"] == "dvr_window_length: '30' -> '120'"
    point = usp.point("events/2026/match42")
    # The PUT carried the merged head: options set earlier survive the update.
    assert point.option("dvr_window_length") == "120"
    assert point.option("archiving") == "true"
    assert point.option("archive_segment_length") == "60"
    assert [entry.method for entry in usp.log()] == ["GET", "POST", "GET", "GET", "PUT"]


def test_manifest_and_src_forms(ansible_run, usp, tmp_path):
    manifest = (
        '<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head>'
        '<meta name="archiving" content="true"/><meta name="dvr_window_length" content="45"/></head>'
        "<body><switch></switch></body></smil>"
    )
    source = tmp_path / "ch2.isml"
    source.write_text(manifest)
    tasks = task("from manifest", PP, register="one", **connection(usp, name="ch2"), manifest=manifest) + task(
        "from src", PP, register="two", **connection(usp, name="ch2"), src=str(source)
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    assert result.task("from manifest")["changed"] is True
    assert result.task("from src")["changed"] is False
    assert usp.point("ch2").option("dvr_window_length") == "45"


def test_body_difference_fails_unless_recreate(ansible_run, usp):
    with_track = (
        '<smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head><meta name="archiving" content="true"/></head>'
        '<body><switch><video src="ch3-video.ismv" systemBitrate="400000"/></switch></body></smil>'
    )
    usp.clear_log()
    setup = ansible_run.playbook(task("create", PP, **connection(usp, name="ch3"), options={"archiving": True}))
    assert setup.rc == 0, setup.output

    refused = ansible_run.playbook(task("body differs", PP, **connection(usp, name="ch3"), manifest=with_track))
    assert refused.rc != 0
    failure = refused.task("body differs")
    assert "differs in its body" in failure["msg"] and "ch3-video.ismv" in failure["msg"] and "recreate=true" in failure["msg"]
    assert "Traceback" not in refused.output

    recreated = ansible_run.playbook(task("recreate", PP, **connection(usp, name="ch3"), manifest=with_track, recreate=True))
    assert recreated.rc == 0, recreated.output
    assert recreated.task("recreate")["recreated"] is True
    assert [entry.method for entry in writes(usp)] == ["POST", "DELETE", "POST"]


# -- check mode and diff mode -------------------------------------------------


def test_check_mode_sends_no_writes(ansible_run, usp):
    usp_args = connection(usp, name="ch4")
    created_check = ansible_run.playbook(task("create", PP, **usp_args, options={"archiving": True}), check=True, diff=True)
    assert created_check.rc == 0, created_check.output
    assert created_check.task("create")["changed"] is True
    assert created_check.task("create")["diff"]["before"] == ""
    assert 'name="archiving" content="true"' in created_check.task("create")["diff"]["after"]
    assert writes(usp) == []

    assert ansible_run.playbook(task("create", PP, **usp_args, options={"archiving": True})).rc == 0
    usp.encoder_start("ch4", start_time="2026-11-23T10:00:00Z")
    usp.encoder_push("ch4", count=5)
    usp.encoder_eos("ch4")
    usp.clear_log()

    tasks = (
        task("update", PP, register="u", **usp_args, options={"archiving": True, "dvr_window_length": 60})
        + task("purge", PURGE, register="p", origin_url=usp.url("origin"), name="ch4", all=True)
        + task("delete", PP, register="d", **usp_args, state="absent")
    )
    result = ansible_run.playbook(tasks, check=True, diff=True)
    assert result.rc == 0, result.output
    assert result.task("update")["changed"] is True
    assert result.task("purge")["changed"] is True
    assert result.task("purge")["archive_after"] == []
    assert result.task("delete")["changed"] is True
    assert writes(usp) == []
    assert usp.point("ch4").option("dvr_window_length") == "30"


def test_diff_output_shows_changed_option(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch5"), options={"archiving": False})).rc == 0
    result = ansible_run.playbook(task("update", PP, **connection(usp, name="ch5"), options={"archiving": True}), diff=True, callback="default")
    assert result.rc == 0, result.output
    assert '-    <meta name="archiving" content="false"/>' in result.stdout
    assert '+    <meta name="archiving" content="true"/>' in result.stdout


# -- delete ------------------------------------------------------------------


def test_delete_and_absent_again(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch6"))).rc == 0
    tasks = task("delete", PP, register="d", **connection(usp, name="ch6"), state="absent") + task(
        "again", PP, register="a", **connection(usp, name="ch6"), state="absent"
    )
    usp.clear_log()
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    assert result.task("delete")["changed"] is True
    assert result.task("again")["changed"] is False
    assert result.task("again").get("warnings") in (None, [])
    assert "ch6" not in usp.points
    # Outside check and diff mode a delete is one request, and so is the delete of a point that does not exist.
    assert [(entry.method, entry.path) for entry in usp.log()] == [("DELETE", "/ch6/ch6.isml"), ("DELETE", "/ch6/ch6.isml")]


@pytest.mark.parametrize(("check", "diff"), [(True, False), (False, True)], ids=["check", "diff"])
def test_delete_reads_first_in_check_and_diff_mode(ansible_run, usp, check, diff):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch6"))).rc == 0
    usp.clear_log()
    result = ansible_run.playbook(task("delete", PP, **connection(usp, name="ch6"), state="absent"), check=check, diff=diff)
    assert result.rc == 0, result.output
    assert result.task("delete")["changed"] is True
    methods = [(entry.method, entry.path) for entry in usp.log() if entry.path == "/ch6/ch6.isml"]
    assert methods[0] == ("GET", "/ch6/ch6.isml")
    assert (("DELETE", "/ch6/ch6.isml") in methods) is not check
    if diff:
        assert "<smil" in result.task("delete")["diff"]["before"] and result.task("delete")["diff"]["after"] == ""


# -- backup_path ----------------------------------------------------------------


def test_backup_path_is_written_before_the_delete_and_removed_by_present(ansible_run, usp, tmp_path):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch8"), options={"archiving": True, "dvr_window_length": 45})).rc == 0
    saved = server_manifest(usp.point("ch8").head, usp.point("ch8").body)
    backup = tmp_path / "saved" / "usp" / "ch8.isml"
    # The file must exist when the DELETE arrives: the emulator refuses the delete once (as a 500), so the file stays behind.
    usp.add_fault(kind="status", method="DELETE", path=r"^/ch8/ch8\.isml$", status=500, body="Internal Server Error\n", count=1)
    failed = ansible_run.playbook(task("delete", PP, **connection(usp, name="ch8"), state="absent", backup_path=str(backup)))
    assert failed.rc != 0 and "ch8" in usp.points
    assert backup.read_text() == saved

    usp.clear_log()
    tasks = task("delete", PP, register="d", **connection(usp, name="ch8"), state="absent", backup_path=str(backup))
    deleted = ansible_run.playbook(tasks)
    assert deleted.rc == 0, deleted.output
    assert deleted.task("delete")["changed"] is True
    assert deleted.task("delete")["backup_file"] == str(backup)
    assert [(entry.method, entry.path) for entry in usp.log()] == [("GET", "/ch8/ch8.isml"), ("DELETE", "/ch8/ch8.isml")]
    assert "ch8" not in usp.points
    assert backup.read_text() == saved
    assert backup.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "saved").stat().st_mode & 0o777 == 0o700 and backup.parent.stat().st_mode & 0o777 == 0o700

    # Created again from the saved file; once the point exists, the file is removed.
    created = ansible_run.playbook(task("create", PP, register="c", **connection(usp, name="ch8"), src=str(backup), backup_path=str(backup)))
    assert created.rc == 0, created.output
    assert created.task("create")["changed"] is True
    assert usp.point("ch8").option("dvr_window_length") == "45"
    assert not backup.exists()


def test_backup_path_writes_nothing_in_check_mode_or_for_a_missing_point(ansible_run, usp, tmp_path):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch9"))).rc == 0
    backup = tmp_path / "saved" / "ch9.isml"
    checked = ansible_run.playbook(task("delete", PP, register="d", **connection(usp, name="ch9"), state="absent", backup_path=str(backup)), check=True)
    assert checked.rc == 0, checked.output
    assert checked.task("delete")["changed"] is True and "backup_file" not in checked.task("delete")
    assert "ch9" in usp.points and not (tmp_path / "saved").exists()

    missing = ansible_run.playbook(task("delete", PP, register="d", **connection(usp, name="gone"), state="absent", backup_path=str(backup)))
    assert missing.rc == 0, missing.output
    assert missing.task("delete")["changed"] is False and "backup_file" not in missing.task("delete")
    assert not (tmp_path / "saved").exists()

    backup.parent.mkdir(mode=0o700)
    backup.write_text("kept")
    present_check = ansible_run.playbook(task("create", PP, **connection(usp, name="ch9"), backup_path=str(backup)), check=True)
    assert present_check.rc == 0, present_check.output
    assert backup.read_text() == "kept"


def test_delete_refused_while_started_names_state(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch7"))).rc == 0
    usp.encoder_start("ch7")
    usp.encoder_push("ch7", count=2)
    result = ansible_run.playbook(task("delete", PP, **connection(usp, name="ch7"), state="absent"))
    assert result.rc != 0
    failure = result.task("delete")
    assert "is started" in failure["msg"]
    assert "nothing was deleted" in failure["msg"]
    assert "Stop the encoder first" in failure["msg"]
    assert failure["status"] == 403
    assert failure["publishing_point_state"] == "started"
    assert "ch7" in usp.points

    checked = ansible_run.playbook(task("delete", PP, **connection(usp, name="ch7"), state="absent"), check=True)
    assert checked.rc != 0
    assert "would be refused" in checked.task("delete")["msg"]


# -- documented error paths ---------------------------------------------------


@pytest.mark.parametrize(
    ("name", "base_path", "fragment"),
    [
        ("a/b", "", "invalid publishing point name"),
        ("..", "", "invalid publishing point name"),
        ("ch1?x=1", "", "invalid publishing point name"),
        ("", "", "invalid publishing point name"),
        ("ch1", "events//2026", "invalid base_path"),
        ("ch1", "events/../etc", "invalid base_path"),
    ],
)
def test_names_validated_before_any_request(ansible_run, usp, name, base_path, fragment):
    result = ansible_run.playbook(task("bad", PP, **connection(usp, name=name, base_path=base_path)))
    assert result.rc != 0
    assert fragment in result.task("bad")["msg"]
    assert usp.log() == []


def test_missing_base_path_is_404_with_advice(ansible_run, usp):
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch8", base_path="nowhere")))
    assert result.rc != 0
    failure = result.task("create")
    assert failure["status"] == 404
    assert "base path does not exist" in failure["msg"]
    assert "Create the parent directory nowhere" in failure["msg"]


def test_too_large_manifest_is_413(ansible_run, usp):
    usp.max_smil_bytes = 100
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch9"), options={"archiving": True}))
    assert result.rc != 0
    assert result.task("create")["status"] == 413
    assert "larger than the server accepts" in result.task("create")["msg"]


def test_create_failure_500_is_not_repeated(ansible_run, usp):
    usp.add_fault(kind="status", method="POST", status=500, body="mkdir failed", count=1)
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch10")))
    assert result.rc != 0
    failure = result.task("create")
    assert "failed to create the resources" in failure["msg"] and "mkdir failed" in failure["msg"]
    assert len(usp.log(method="POST")) == 1


def test_create_503_is_not_repeated_and_says_so(ansible_run, usp):
    usp.add_fault(kind="status", method="POST", status=503, count=5)
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch11")))
    assert result.rc != 0
    assert len(usp.log(method="POST")) == 1
    assert "HTTP 503" in result.task("create")["msg"]


def test_conflict_409_on_create_converges(ansible_run, usp):
    # Another process created the point between our GET and our POST: the task
    # reads it again and compares instead of failing.
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch12"), options={"archiving": True})).rc == 0
    usp.clear_log()
    usp.add_fault(kind="status", method="GET", path=r"/ch12/ch12\.isml$", status=404, count=1)
    result = ansible_run.playbook(
        task("same", PP, **connection(usp, name="ch12"), options={"archiving": True})
        + task("other", PP, **connection(usp, name="ch12"), options={"dvr_window_length": 60})
    )
    assert result.rc == 0, result.output
    assert result.task("same")["changed"] is False
    assert result.task("other")["changed"] is True
    assert [(request.method, status) for request, status in usp.answered()] == [("POST", 409), ("GET", 200), ("GET", 200), ("PUT", 200)]
    assert usp.point("ch12").option("dvr_window_length") == "60"


def test_server_400_is_reported(ansible_run, usp):
    usp.add_fault(kind="status", method="GET", status=400, body="Path and publishing point name are not identical", count=1)
    result = ansible_run.playbook(task("read", PP, **connection(usp, name="ch13")))
    assert result.rc != 0
    assert "same name" in result.task("read")["msg"]
    assert "not identical" in result.task("read")["msg"]


def test_missing_api_url_is_clear(ansible_run, usp):
    result = ansible_run.playbook(task("no url", PP, name="ch14"))
    assert result.rc != 0
    assert "api_url is required" in result.task("no url")["msg"] and "USP_API_URL" in result.task("no url")["msg"]


# -- faults ------------------------------------------------------------------


def test_503_burst_on_read_is_retried_with_warnings(ansible_run, usp):
    usp.add_fault(kind="status", method="GET", status=503, count=2, headers={"Retry-After": "0"})
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch15")))
    assert result.rc == 0, result.output
    assert result.task("create")["changed"] is True
    assert len(result.task("create")["warnings"]) == 2
    assert len(usp.log(method="GET")) == 3


def test_connection_reset_on_read_is_retried(ansible_run, usp):
    usp.add_fault(kind="reset", method="GET", count=1)
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch16")))
    assert result.rc == 0, result.output
    assert "reset" in result.task("create")["warnings"][0]


def test_malformed_xml_fails_clearly(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch17"))).rc == 0
    usp.add_fault(kind="malformed", method="GET", count=1)
    result = ansible_run.playbook(task("read", PP, **connection(usp, name="ch17")))
    assert result.rc != 0
    assert "not well-formed" in result.task("read")["msg"]
    assert "Traceback" not in result.output


def test_slow_server_times_out(ansible_run, usp):
    usp.add_fault(kind="delay", method="GET", seconds=3, count=10)
    result = ansible_run.playbook(task("slow", PP, **connection(usp, name="ch18"), timeout=0.5, retries=1))
    assert result.rc != 0
    assert "no answer within 0.5s" in result.task("slow")["msg"]


def test_unreachable_server(ansible_run):
    result = ansible_run.playbook(task("down", PP, api_url="http://127.0.0.1:9", name="ch19", retries=0))
    assert result.rc != 0
    assert "could not connect" in result.task("down")["msg"]


# -- connection options -------------------------------------------------------


def test_environment_fallbacks(ansible_run, usp_auth):
    env = {
        "USP_API_URL": usp_auth.url("api"),
        "USP_ORIGIN_URL": usp_auth.url("origin"),
        "USP_USERNAME": "operator",
        "USP_PASSWORD": "S3cr3t-pa55/wörd",
    }
    result = ansible_run.playbook(task("create", PP, name="ch20") + task("read", INFO, register="info", name="ch20"), env=env)
    assert result.rc == 0, result.output
    info = result.task("read")["publishing_point"]
    assert info["exists"] is True and info["state"] == "idle"


def test_module_defaults_group(ansible_run, usp_auth):
    header = (
        "- hosts: localhost\n  gather_facts: false\n  connection: local\n  module_defaults:\n    group/mediaops.streaming.usp:\n"
        f"      api_url: {usp_auth.url('api')}\n      origin_url: {usp_auth.url('origin')}\n"
        "      username: operator\n      password: S3cr3t-pa55/wörd\n"
    )
    tasks = task("create", PP, name="ch21", options={"archiving": True}) + task("read", INFO, name="ch21") + task("purge", PURGE, name="ch21", all=True)
    result = ansible_run.playbook(tasks, play_header=header)
    assert result.rc == 0, result.output
    assert result.task("create")["changed"] is True
    assert result.task("read")["publishing_point"]["settings"]["archiving"] == "true"
    assert result.task("purge")["changed"] is False


def test_empty_user_name_sends_no_authorization(ansible_run, usp):
    # What an AWX credential with its optional user name and password left empty injects.
    env = {"USP_API_URL": usp.url("api"), "USP_ORIGIN_URL": usp.url("origin"), "USP_USERNAME": "", "USP_PASSWORD": ""}
    result = ansible_run.playbook(task("create", PP, name="ch24") + task("read", INFO, name="ch24"), env=env)
    assert result.rc == 0, result.output
    assert usp.log(), "no request reached the emulator"
    assert all("authorization" not in {name.lower() for name in entry.headers} for entry in usp.log())


def test_wrong_password_is_401(ansible_run, usp_auth):
    result = ansible_run.playbook(task("create", PP, **connection(usp_auth, name="ch22", username="operator", password="wrong")))
    assert result.rc != 0
    assert result.task("create")["status"] == 401
    assert "authentication failed" in result.task("create")["msg"]


@pytest.mark.parametrize("verbosity", [0, 4])
def test_password_never_in_output(ansible_run, usp_auth, verbosity):
    password = "S3cr3t-pa55/wörd"
    authorization = base64.b64encode(f"operator:{password}".encode()).decode()
    args = connection(usp_auth, name="ch23", username="operator", password=password)
    bad_name_args = {**args, "name": "x/y"}
    assert ansible_run.playbook(task("create", PP, **args)).rc == 0
    usp_auth.encoder_start("ch23")
    usp_auth.encoder_push("ch23")
    tasks = (
        task("update", PP, **args, options={"archiving": True})
        + task("info", INFO, **args)
        + task("delete refused", PP, **args, state="absent", ignore_errors=True)
        + task("bad name", PP, ignore_errors=True, **bad_name_args)
    )
    for callback in ("default", "minimal"):
        result = ansible_run.playbook(tasks, verbosity=verbosity, callback=callback)
        assert "delete refused" in result.output
        assert password not in result.output
        assert authorization not in result.output
        assert "S3cr3t" not in result.output


# -- info --------------------------------------------------------------------


def test_info_reads_everything(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch24"), options={"archiving": True})).rc == 0
    usp.encoder_start("ch24", start_time="2026-11-23T10:00:00Z")
    usp.encoder_push("ch24", count=3)
    result = ansible_run.playbook(task("info", INFO, **connection(usp, name="ch24")))
    assert result.rc == 0, result.output
    info = result.task("info")["publishing_point"]
    assert info["exists"] is True
    assert info["state"] == "started"
    assert info["updated"].endswith("Z")
    assert info["settings"]["archiving"] == "true"
    assert {track["type"] for track in info["tracks"]} == {"video", "audio"}
    video = next(track for track in info["tracks"] if track["type"] == "video")
    assert video["track_id"] == 1 and video["duration"] > 0 and video["state"] == "started"
    ranges = next(track for track in info["archive"] if track["type"] == "video")["ranges"]
    assert ranges == [{"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:00:06.000000Z"}]
    assert result.task("info")["changed"] is False


def test_info_missing_point_is_not_a_failure(ansible_run, usp):
    result = ansible_run.playbook(task("info", INFO, **connection(usp, name="nothing")))
    assert result.rc == 0, result.output
    info = result.task("info")["publishing_point"]
    assert info["exists"] is False and info["state"] is None and info["archive"] == [] and info["settings"] == {}


def test_info_gather_only_state(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch25"))).rc == 0
    usp.clear_log()
    result = ansible_run.playbook(task("info", INFO, origin_url=usp.url("origin"), name="ch25", gather=["state"]))
    assert result.rc == 0, result.output
    assert result.task("info")["publishing_point"]["state"] == "idle"
    assert [entry.path for entry in usp.log()] == ["/ch25/ch25.isml/state"]


def test_wait_for_stopped(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch26"))).rc == 0
    usp.encoder_start("ch26")
    usp.encoder_push("ch26", count=2)
    # The encoder stops 1.5 s after the module's first poll, however long ansible-playbook takes to start.
    timers = []

    def stop_later(emulator):
        timers.append(threading.Timer(1.5, emulator.encoder_eos, args=("ch26",)))
        timers[0].start()

    usp.interfere("GET", r"/ch26\.isml/state$", stop_later)
    started = time.monotonic()
    result = ansible_run.playbook(task("wait", INFO, **connection(usp, name="ch26"), wait_for=["stopped", "idle"], wait_timeout=20, wait_interval=0.3))
    for timer in timers:
        timer.join()
    assert result.rc == 0, result.output
    assert result.task("wait")["publishing_point"]["state"] == "stopped"
    assert result.task("wait")["waited"] >= 1.5
    assert len(usp.log(path=r"/state$")) >= 4  # polled every 0.3 s while it waited
    assert time.monotonic() - started < 60


def test_wait_for_times_out_clearly(ansible_run, usp):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name="ch27"))).rc == 0
    usp.encoder_start("ch27")
    usp.encoder_push("ch27")
    result = ansible_run.playbook(task("wait", INFO, **connection(usp, name="ch27"), wait_for=["stopped"], wait_timeout=1.5, wait_interval=0.3))
    assert result.rc != 0
    failure = result.task("wait")
    assert "did not reach stopped within 1.5s (last state: started)" in failure["msg"]
    assert "stop it" in failure["msg"]


# -- purge -------------------------------------------------------------------


def _archived_point(ansible_run, usp, name: str, fragments: int = 30):
    assert ansible_run.playbook(task("create", PP, **connection(usp, name=name), options={"archiving": True})).rc == 0
    usp.encoder_start(name, start_time="2026-11-23T10:00:00Z", fragment_seconds=2.0)
    usp.encoder_push(name, count=fragments)
    usp.encoder_eos(name)
    usp.clear_log()


def test_purge_all_then_nothing_to_do(ansible_run, usp):
    _archived_point(ansible_run, usp, "ch28")
    tasks = task("purge", PURGE, origin_url=usp.url("origin"), name="ch28", all=True) + task(
        "again", PURGE, origin_url=usp.url("origin"), name="ch28", all=True
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    purged = result.task("purge")
    assert purged["changed"] is True and purged["t"] == "0"
    assert purged["archive_before"][0]["ranges"] == [{"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:01:00.000000Z"}]
    assert purged["archive_after"] == []
    assert result.task("again")["changed"] is False
    posts = usp.log(method="POST")
    assert [(entry.path, entry.raw_query) for entry in posts] == [("/ch28/ch28.isml/purge", "t=0")]


def test_purge_keep_and_range(ansible_run, usp):
    _archived_point(ansible_run, usp, "ch29")
    origin = usp.url("origin")
    tasks = (
        task("keep", PURGE, origin_url=origin, name="ch29", keep="00:00:40")
        + task("keep again", PURGE, origin_url=origin, name="ch29", keep="00:00:40")
        + task("range", PURGE, origin_url=origin, name="ch29", start="2026-11-23T10:00:30Z", end="2026-11-23T10:00:40Z")
        + task("outside", PURGE, origin_url=origin, name="ch29", start="01:00:00", end="02:00:00")
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    kept = result.task("keep")
    assert kept["changed"] is True and kept["t"] == "00:00:40"
    assert kept["archive_after"][0]["ranges"] == [{"start": "2026-11-23T10:00:20.000000Z", "end": "2026-11-23T10:01:00.000000Z"}]
    assert result.task("keep again")["changed"] is False
    ranged = result.task("range")
    assert ranged["t"] == "2026-11-23T10:00:30.000000-2026-11-23T10:00:40.000000"
    assert ranged["archive_after"][0]["ranges"] == [
        {"start": "2026-11-23T10:00:20.000000Z", "end": "2026-11-23T10:00:30.000000Z"},
        {"start": "2026-11-23T10:00:40.000000Z", "end": "2026-11-23T10:01:00.000000Z"},
    ]
    assert result.task("outside")["changed"] is False
    assert len(usp.log(method="POST")) == 2


def test_purge_check_mode_predicts_without_post(ansible_run, usp):
    _archived_point(ansible_run, usp, "ch30")
    result = ansible_run.playbook(task("keep", PURGE, origin_url=usp.url("origin"), name="ch30", keep="00:00:40"), check=True)
    assert result.rc == 0, result.output
    assert result.task("keep")["changed"] is True
    assert result.task("keep")["archive_after"][0]["ranges"] == [{"start": "2026-11-23T10:00:20.000000Z", "end": "2026-11-23T10:01:00.000000Z"}]
    assert usp.log(method="POST") == []


def test_purge_missing_point_is_unchanged_with_warning(ansible_run, usp):
    result = ansible_run.playbook(task("purge", PURGE, origin_url=usp.url("origin"), name="ghost", all=True))
    assert result.rc == 0, result.output
    assert result.task("purge")["changed"] is False
    assert "does not exist" in result.task("purge")["warnings"][0]


def test_purge_bad_window_is_refused(ansible_run, usp):
    result = ansible_run.playbook(
        task("bad keep", PURGE, origin_url=usp.url("origin"), name="ch31", keep="2h", ignore_errors=True)
        + task("backwards", PURGE, origin_url=usp.url("origin"), name="ch31", start="02:00:00", end="01:00:00", ignore_errors=True)
    )
    assert "keep must be a duration HH:MM:SS" in result.task("bad keep")["msg"]
    assert "must be after start" in result.task("backwards")["msg"]
    assert usp.log() == []


# -- missing libraries -------------------------------------------------------


@pytest.mark.parametrize("library", ["lxml", "requests"])
def test_missing_library_is_reported_without_traceback(ansible_run, usp, tmp_path, library):
    # A package of that name that fails to import, first on the module's path,
    # stands in for a host where the library is not installed.
    blocker = tmp_path / "blocked" / library
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(f"raise ImportError('{library} is blocked for this test')\n")
    result = ansible_run.playbook(task("create", PP, **connection(usp, name="ch32")), env={"PYTHONPATH": str(blocker.parent)})
    assert result.rc != 0
    failure = result.task("create")
    assert f"Failed to import the required Python library ({library})" in failure["msg"]
    assert "Traceback" not in result.stdout
    assert usp.log() == []
