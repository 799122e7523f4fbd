"""usp_publishing_point_info's manifest and deletable, and usp_archive_purge's diff, through Ansible against the USP emulator."""

from __future__ import annotations

import pytest

from tests.helpers.playbook import task

PP = "mediaops.streaming.usp_publishing_point"
INFO = "mediaops.streaming.usp_publishing_point_info"
PURGE = "mediaops.streaming.usp_archive_purge"


def connection(emulator, **extra) -> dict:
    return dict(api_url=emulator.url("api"), origin_url=emulator.url("origin"), **extra)


def create(ansible_run, usp, name: str, **options) -> None:
    result = ansible_run.playbook(task("create", PP, **connection(usp, name=name), options=options or {"archiving": True}))
    assert result.rc == 0, result.output


# -- manifest ----------------------------------------------------------------


def test_settings_and_manifest_come_from_one_get(ansible_run, usp):
    create(ansible_run, usp, "m1", archiving=True, dvr_window_length=45)
    served = usp.api_call("GET", "/m1/m1.isml").body.decode("utf-8")
    usp.clear_log()
    result = ansible_run.playbook(task("info", INFO, **connection(usp, name="m1"), gather=["settings", "manifest"]))
    assert result.rc == 0, result.output
    point = result.task("info")["publishing_point"]
    assert isinstance(point["manifest"], str)
    assert point["manifest"] == served
    assert "<smil" in point["manifest"] and 'name="dvr_window_length" content="45"' in point["manifest"]
    assert point["settings"]["dvr_window_length"] == "45"
    assert point["exists"] is True
    assert [(entry.method, entry.path) for entry in usp.log()] == [("GET", "/m1/m1.isml")]


def test_manifest_alone_and_of_a_missing_point(ansible_run, usp):
    create(ansible_run, usp, "m2")
    tasks = task("present", INFO, api_url=usp.url("api"), name="m2", gather=["manifest"]) + task(
        "missing", INFO, api_url=usp.url("api"), name="nothing", gather=["manifest"]
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    present = result.task("present")["publishing_point"]
    assert "<smil" in present["manifest"] and present["settings"] is None and present["exists"] is True
    missing = result.task("missing")["publishing_point"]
    assert missing["manifest"] is None and missing["exists"] is False


def test_manifest_is_null_unless_gathered(ansible_run, usp):
    create(ansible_run, usp, "m3")
    tasks = task("default", INFO, **connection(usp, name="m3")) + task("settings", INFO, api_url=usp.url("api"), name="m3", gather=["settings"])
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    for title in ("default", "settings"):
        point = result.task(title)["publishing_point"]
        assert "manifest" in point and point["manifest"] is None
        assert point["settings"]["archiving"] == "true"


def test_manifest_recreates_the_point(ansible_run, usp):
    # What the role does: keep the manifest, delete the point, create it again from the copy.
    create(ansible_run, usp, "m4", archiving=True, archive_segment_length=60)
    tasks = (
        task("read", INFO, register="saved", **connection(usp, name="m4"), gather=["manifest"])
        + task("delete", PP, **connection(usp, name="m4"), state="absent")
        + task("again", PP, register="again", **connection(usp, name="m4"), manifest="{{ saved.publishing_point.manifest }}")
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    assert result.task("again")["changed"] is True
    assert usp.point("m4").option("archive_segment_length") == "60"


# -- deletable ---------------------------------------------------------------


def test_deletable_follows_the_state(ansible_run, usp):
    create(ansible_run, usp, "d1")
    read = task("info", INFO, origin_url=usp.url("origin"), name="d1", gather=["state"])

    idle = ansible_run.playbook(read)
    assert idle.rc == 0, idle.output
    assert idle.task("info")["publishing_point"]["state"] == "idle"
    assert idle.task("info")["publishing_point"]["deletable"] is True

    usp.encoder_start("d1")
    usp.encoder_push("d1", count=2)
    started = ansible_run.playbook(read)
    assert started.task("info")["publishing_point"]["state"] == "started"
    assert started.task("info")["publishing_point"]["deletable"] is False
    # And the API agrees: a delete is refused now.
    refused = ansible_run.playbook(task("delete", PP, **connection(usp, name="d1"), state="absent"))
    assert refused.rc != 0 and refused.task("delete")["status"] == 403

    usp.encoder_eos("d1")
    stopped = ansible_run.playbook(read)
    assert stopped.task("info")["publishing_point"]["state"] == "stopped"
    assert stopped.task("info")["publishing_point"]["deletable"] is True


@pytest.mark.parametrize("state", ["starting", "stopping"])
def test_deletable_in_transitional_states(ansible_run, usp, state):
    create(ansible_run, usp, "d2")
    usp.set_state("d2", state)
    result = ansible_run.playbook(task("info", INFO, origin_url=usp.url("origin"), name="d2", gather=["state"]))
    assert result.rc == 0, result.output
    assert result.task("info")["publishing_point"]["deletable"] is (state == "starting")


def test_deletable_is_null_without_state_or_point(ansible_run, usp):
    create(ansible_run, usp, "d3")
    tasks = (
        task("no state", INFO, **connection(usp, name="d3"), gather=["settings", "archive"])
        + task("missing", INFO, **connection(usp, name="nothing"), gather=["state"])
        + task("default", INFO, **connection(usp, name="d3"))
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    assert result.task("no state")["publishing_point"]["deletable"] is None
    assert result.task("missing")["publishing_point"]["deletable"] is None
    assert result.task("missing")["publishing_point"]["exists"] is False
    assert result.task("default")["publishing_point"]["deletable"] is True


def test_deletable_after_wait_for(ansible_run, usp):
    create(ansible_run, usp, "d4")
    result = ansible_run.playbook(task("wait", INFO, origin_url=usp.url("origin"), name="d4", gather=["archive"], wait_for=["idle"], wait_timeout=10))
    assert result.rc == 0, result.output
    point = result.task("wait")["publishing_point"]
    assert point["state"] == "idle" and point["deletable"] is True


# -- usp_archive_purge diff mode ---------------------------------------------


def _archived_point(ansible_run, usp, name: str) -> None:
    create(ansible_run, usp, name)
    usp.encoder_start(name, start_time="2026-11-23T10:00:00Z", fragment_seconds=2.0)
    usp.encoder_push(name, count=30)
    usp.encoder_eos(name)


def test_purge_diff_shows_the_archive_before_and_after(ansible_run, usp):
    _archived_point(ansible_run, usp, "p1")
    origin = usp.url("origin")
    url = f"{origin}/p1/p1.isml"
    tasks = task("predict", PURGE, check_mode=True, origin_url=origin, name="p1", keep="00:00:40") + task(
        "purge", PURGE, origin_url=origin, name="p1", keep="00:00:40"
    )
    result = ansible_run.playbook(tasks, diff=True)
    assert result.rc == 0, result.output
    kept = [{"start": "2026-11-23T10:00:20.000000Z", "end": "2026-11-23T10:01:00.000000Z"}]
    for title in ("predict", "purge"):
        purged = result.task(title)
        diff = purged["diff"]
        assert diff["before"] == {"archive": purged["archive_before"]}
        assert diff["after"] == {"archive": purged["archive_after"]}
        assert diff["before_header"] == diff["after_header"] == url
        assert diff["after"]["archive"][0]["ranges"] == kept
        assert diff["before"]["archive"][0]["ranges"] == [{"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:01:00.000000Z"}]

    again = ansible_run.playbook(task("again", PURGE, origin_url=origin, name="p1", keep="00:00:40"), diff=True)
    assert again.rc == 0, again.output
    assert again.task("again")["changed"] is False and "diff" not in again.task("again")


def test_purge_diff_renders_in_the_default_callback(ansible_run, usp):
    _archived_point(ansible_run, usp, "p2")
    result = ansible_run.playbook(task("purge", PURGE, origin_url=usp.url("origin"), name="p2", all=True), diff=True, callback="default")
    assert result.rc == 0, result.output
    assert f"--- before: {usp.url('origin')}/p2/p2.isml" in result.stdout
    assert '-                    "start": "2026-11-23T10:00:00.000000Z"' in result.stdout
    assert '+    "archive": []' in result.stdout
