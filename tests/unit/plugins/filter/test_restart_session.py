"""The texts of the restart_session role (plugins/filter/restart_session.py): plan, result, summary, failures.

Each expected text is what the role prints, word for word; the role's integration
tests (tests/integration/test_restart_session.py) check the same texts through Ansible.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.mediaops.streaming.plugins.filter.restart_session import (
    FilterModule,
    restart_session_check_mode_note,
    restart_session_failure,
    restart_session_plan,
    restart_session_problems,
    restart_session_result,
    restart_session_summary,
    restart_session_wait_failure,
)

URL = "http://live-api.example.com:8080/ch1/ch1.isml"
BACKUP = "/home/ops/.ansible/restart_session/live-api.example.com_8080/ch1/ch1.isml"
OPTIONS = {"archiving": True, "dvr_window_length": 60}
ARCHIVE = [
    {
        "track_name": "video",
        "ranges": [
            {"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:15:00.000000Z"},
            {"start": "2026-11-23T10:20:00.000000Z", "end": "2026-11-23T10:25:00.000000Z"},
        ],
    },
    # The same range as the video's first is counted once.
    {"track_name": "audio", "ranges": [{"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:15:00.000000Z"}]},
]
ARCHIVE_TEXT = "video+audio from 2026-11-23T10:00:00.000000Z to 2026-11-23T10:25:00.000000Z (2 range(s))"
SETTINGS = {"creator": "Unified Streaming Platform (USP)", "archiving": "true", "dvr_window_length": "30", "clientManifestRelativePath": "ch1.ismc"}
SETTINGS_TEXT = "archiving=true, dvr_window_length=30"
STEPS_RUN = ("read", "stop", "wait", "purge", "delete", "create", "start", "verify")
CONVERGES = (
    "Fix the cause and run the role again for this channel: it converges (a missing publishing point is created; "
    "stop, purge and delete do nothing when they are already done).]"
)


def point(exists=True, state="started", settings=None, archive=None, deletable=None):
    """A ``publishing_point`` as usp_publishing_point_info returns it gathered as in check mode (settings, state, archive)."""
    if not exists:
        return {"exists": False, "url": URL, "state": None, "settings": {}, "archive": [], "deletable": None}
    return {
        "exists": True,
        "url": URL,
        "state": state,
        "settings": SETTINGS if settings is None else settings,
        "archive": ARCHIVE if archive is None else archive,
        "deletable": state in ("idle", "starting", "stopped") if deletable is None else deletable,
    }


def real_read(settings=None):
    """A ``publishing_point`` as a real run's first step reads it: the settings only (the state and the archive are not read)."""
    return {"exists": True, "url": URL, "state": None, "settings": SETTINGS if settings is None else settings, "archive": None, "deletable": None}


def run(**changes):
    """The role's variables as vars/main.yml hands them to the filters (``_restart_session_run``)."""
    values = {
        "channel": "ch1",
        "source": "options",
        "options": OPTIONS,
        "manifest": "",
        "manifest_src": "",
        "backup_path": BACKUP,
        "from_backup": False,
        "stop_method": "scaleengine_stream",
        "stop_tasks": "",
        "start_tasks": "",
        "stop_timeout": 120,
        "scaleengine_app": "demo-origin",
        "scaleengine_inst": "live",
        "scaleengine_stream": "ch1",
        "scaleengine_entry_name": "*",
        "scaleengine_push_service_id": None,
        "wait_for_started": False,
        "started_timeout": 120,
        "wait_for_red5": False,
        "red5_timeout": 120,
        "red5_scope": "live",
        "red5_stream": "ch1",
    }
    values.update(changes)
    return values


# The first result each step registers (a task skipped by its condition registers one too).
FIRST_RESULT = {
    "read": "read",
    "stop": "stop_stream",
    "wait": "wait",
    "purge": "purge",
    "delete": "delete",
    "create": "create",
    "start": "start",
    "verify": "started_wait",
}
RAN = {"changed": False, "failed": False}  # what an include or a task that changed nothing registers


def results(steps=STEPS_RUN, **registered):
    """``_restart_session_results``: what the steps registered; each step in ``steps`` registered at least one result."""
    ran = {FIRST_RESULT[step]: RAN for step in steps}
    return {"started_at": "2026-11-30T02:00:00Z", "started": 1000.0, **ran, **registered}


AFTER_SETTINGS = {"creator": "Unified Streaming Platform (USP)", "archiving": "true", "dvr_window_length": "60"}
DONE = {
    "stop_stream": {"changed": True},
    "wait": {"publishing_point": {"state": "stopped"}, "waited": 1.23},
    "purge": {"changed": True, "archive_before": ARCHIVE, "archive_after": [{"track_name": "video", "ranges": []}]},
    "delete": {"changed": True},
    "create": {"changed": True, "settings": AFTER_SETTINGS},
}


def steps_of(before, variables, registered, check_mode=False):
    return restart_session_result(before, variables, registered, check_mode, now=1010.0)["steps"]


# -- the variables ---------------------------------------------------------------------------------------


def test_variables_that_fit_together():
    assert restart_session_problems(run()) == []
    assert restart_session_problems(run(options={}, source="current", stop_method="none")) == []


def test_variables_that_contradict_each_other(tmp_path):
    start = tmp_path / "start.yml"
    start.write_text("---\n")
    variables = run(manifest="<smil/>", stop_method="tasks", start_tasks=str(start), manifest_src=str(tmp_path / "ch1.isml"))
    assert restart_session_problems(variables) == [
        "set at most one of restart_session_options, restart_session_manifest and restart_session_manifest_src",
        "restart_session_stop_tasks is required with restart_session_stop_method=tasks",
        f"restart_session_manifest_src {tmp_path / 'ch1.isml'} is not a file",
    ]


@pytest.mark.parametrize("stop_method", ["scaleengine_stream", "scaleengine_pushpublish"])
def test_scaleengine_stop_methods_need_the_application_and_instance(stop_method, tmp_path):
    problems = restart_session_problems(run(stop_method=stop_method, scaleengine_inst="", stop_tasks=str(tmp_path / "stop.yml")))
    assert problems == [
        f"restart_session_scaleengine_app and restart_session_scaleengine_inst are required with restart_session_stop_method={stop_method}",
        f"restart_session_stop_tasks {tmp_path / 'stop.yml'} is not a file",
    ]


# -- the plan --------------------------------------------------------------------------------------------


def test_plan_of_a_live_point_with_options():
    assert restart_session_plan(point(), run()) == [
        f"channel ch1: {URL} is started",
        f"archive: {ARCHIVE_TEXT}",
        f"settings: {SETTINGS_TEXT}",
        "will:",
        "- close the ScaleEngine stream demo-origin/live/ch1",
        "- wait up to 120 s for the point to be stopped or idle",
        "- purge the archive completely and verify that it is empty",
        "- delete the publishing point",
        '- create it again with the options {"archiving": true, "dvr_window_length": 60}',
        "- start nothing (no restart_session_start_tasks): the encoder must reconnect by itself",
    ]


def test_plan_of_a_real_run_shows_what_it_read():
    # Outside check mode only the settings are read: the state and the archive are not made up.
    assert restart_session_plan(real_read(), run())[:3] == [f"channel ch1: {URL} exists", f"settings: {SETTINGS_TEXT}", "will:"]


def test_plan_in_check_mode_of_a_point_that_is_not_deletable_yet():
    plan = restart_session_plan(point(state="started"), run(stop_timeout=10), check_mode=True)
    assert plan[3] == "(check mode) would:"
    assert "- delete the publishing point once the encoder has stopped (check mode does not stop it)" in plan
    # What check mode cannot ask the server ends the plan (one task instead of one per step).
    assert plan[-3:] == [
        "(check mode) would wait up to 10 s for ch1 to be stopped or idle (it is started now)",
        f"(check mode) would delete {URL} after the encoder stops (it is started now, and check mode does not stop it)",
        f'(check mode) would create {URL} again with the options {{"archiving": true, "dvr_window_length": 60}}',
    ]


def test_plan_in_check_mode_of_a_missing_point_with_waits():
    plan = restart_session_plan(point(exists=False), run(wait_for_red5=True), check_mode=True)
    assert plan[-2:] == [
        "- wait up to 120 s for the Red5 stream live/ch1 to publish",
        "(check mode) would wait up to 120 s for the Red5 stream live/ch1 to publish",
    ]


def test_plan_in_check_mode_of_an_idle_point():
    plan = restart_session_plan(point(state="idle"), run(), check_mode=True)
    assert plan[0] == f"channel ch1: {URL} is idle"
    assert "- delete the publishing point" in plan
    assert not any(line.startswith("(check mode) would delete") for line in plan)  # the module predicts this delete itself


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({}, "- close the ScaleEngine stream demo-origin/live/ch1"),
        ({"stop_method": "scaleengine_pushpublish"}, "- disconnect the ScaleEngine PushPublish session(s) * of demo-origin/live/ch1"),
        (
            {"stop_method": "scaleengine_pushpublish", "scaleengine_push_service_id": 17},
            "- disconnect the ScaleEngine PushPublish service 17 of demo-origin/live/ch1",
        ),
        ({"stop_method": "tasks", "stop_tasks": "/srv/encoder/stop.yml"}, "- stop the encoder with /srv/encoder/stop.yml"),
        ({"stop_method": "none"}, "- stop nothing (stop method none): the encoder must stop by itself"),
    ],
    ids=["scaleengine_stream", "pushpublish-entry", "pushpublish-service", "tasks", "none"],
)
def test_plan_of_each_stop_method(changes, line):
    assert restart_session_plan(point(), run(**changes))[4] == line


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ({"source": "manifest"}, "- create it again from restart_session_manifest"),
        ({"source": "manifest_src", "manifest_src": "/srv/manifests/ch1.isml"}, "- create it again from /srv/manifests/ch1.isml"),
        ({"source": "current"}, "- create it again with the manifest it has now (the same settings)"),
    ],
)
def test_plan_of_each_source(changes, line):
    assert line in restart_session_plan(point(), run(**changes))


def test_plan_saves_the_manifest_of_a_point_that_comes_back_as_it_is():
    assert f"- delete the publishing point, after saving its manifest at {BACKUP}" in restart_session_plan(point(state="stopped"), run(source="current"))


def test_plan_of_a_point_a_previous_run_deleted():
    assert restart_session_plan(point(exists=False), run(source="current", from_backup=True)) == [
        f"channel ch1: {URL} does not exist (a previous run deleted it)",
        "will:",
        "- skip stop, wait, purge and delete: the point does not exist",
        f"- create it with the manifest saved at {BACKUP} before an earlier run deleted it",
        "- start nothing (no restart_session_start_tasks): the encoder must reconnect by itself",
    ]


def test_plan_with_start_tasks_and_waits():
    variables = run(start_tasks="/srv/encoder/start.yml", wait_for_started=True, started_timeout=30, wait_for_red5=True, red5_timeout=20, red5_scope="app")
    assert restart_session_plan(point(), variables)[-3:] == [
        "- start the encoder with /srv/encoder/start.yml",
        "- wait up to 30 s for the point to be started",
        "- wait up to 20 s for the Red5 stream app/ch1 to publish",
    ]


def test_plan_shows_settings_as_ansible_printed_them():
    # A head option without content shows as nothing; a point without settings as None.
    before = point(settings={"Zeta": "1", "alpha": None, "creator": "USP"}, archive=[])
    assert restart_session_plan(before, run())[1:3] == ["archive: empty", "settings: Zeta=1, alpha="]
    assert restart_session_plan(point(settings={}), run())[2] == "settings: None"


def test_plan_archive_bounds_compare_strings_regardless_of_case():
    archive = [{"track_name": "video", "ranges": [{"start": "b", "end": "Y"}, {"start": "A", "end": "z"}]}]
    assert restart_session_plan(point(archive=archive), run())[1] == "archive: video from A to z (2 range(s))"


# -- what check mode does not do ---------------------------------------------------------------------------


def test_check_mode_notes():
    variables = run(stop_timeout=10, wait_for_started=True, wait_for_red5=True, started_timeout=30, red5_timeout=20)
    notes = {step: restart_session_check_mode_note(point(), step, variables) for step in ("wait", "delete", "create", "verify")}
    assert notes == {
        "wait": "(check mode) would wait up to 10 s for ch1 to be stopped or idle (it is started now)",
        "delete": f"(check mode) would delete {URL} after the encoder stops (it is started now, and check mode does not stop it)",
        "create": f'(check mode) would create {URL} again with the options {{"archiving": true, "dvr_window_length": 60}}',
        "verify": "(check mode) would wait up to 30 s for the point to be started, and up to 20 s for the Red5 stream live/ch1 to publish",
    }


@pytest.mark.parametrize(
    ("changes", "note"),
    [
        ({"source": "manifest"}, f"(check mode) would create {URL} again from restart_session_manifest"),
        ({"source": "manifest_src", "manifest_src": "/srv/manifests/ch1.isml"}, f"(check mode) would create {URL} again from /srv/manifests/ch1.isml"),
        ({"source": "current"}, f"(check mode) would create {URL} again with the manifest it has now"),
    ],
)
def test_check_mode_note_of_each_source(changes, note):
    assert restart_session_check_mode_note(point(), "create", run(**changes)) == note


def test_check_mode_note_of_one_wait():
    assert (
        restart_session_check_mode_note(point(), "verify", run(wait_for_red5=True))
        == "(check mode) would wait up to 120 s for the Red5 stream live/ch1 to publish"
    )


# -- the result ------------------------------------------------------------------------------------------


def test_result_of_a_whole_restart():
    result = restart_session_result(real_read(), run(), results(**DONE), False, now=1010.04)
    assert result == {
        "channel": "ch1",
        "url": URL,
        "check_mode": False,
        "started_at": "2026-11-30T02:00:00Z",
        "total_seconds": 10.0,
        "timings": {"wait": 1.23},
        "recreated_from": "options",
        # The archive as the purge read it first; the state was not read.
        "before": {"exists": True, "state": None, "settings": SETTINGS, "archive": ARCHIVE_TEXT},
        # The create's settings and the archive the purge left; no wait for started, so no state.
        "after": {"exists": True, "state": None, "settings": AFTER_SETTINGS, "archive": "empty after the purge"},
        "archive_purged": True,
        "steps": {
            "stop": "closed the ScaleEngine stream demo-origin/live/ch1",
            "wait": "stopped after 1.23 s",
            "purge": "purged the whole archive (t=0); verified empty",
            "delete": "deleted",
            "create": 'created with the options {"archiving": true, "dvr_window_length": 60}',
            "start": "nothing to run (the encoder reconnects by itself)",
            "verify": "nothing to verify (no wait asked for)",
        },
    }


def test_result_in_check_mode():
    registered = results(
        stop_stream={"changed": True},
        purge={"changed": True, "archive_after": []},
        delete={"skipped": True},
        create={"skipped": True},
    )
    variables = run(start_tasks="/srv/encoder/start.yml", wait_for_started=True, wait_for_red5=True)
    result = restart_session_result(point(), variables, registered, True, now=1004.0)
    assert result["check_mode"] is True
    assert result["after"] == {}
    assert result["archive_purged"] is False
    assert result["steps"] == {
        "stop": "(check mode) would close the ScaleEngine stream demo-origin/live/ch1",
        "wait": "(check mode) did not wait (the point is started now)",
        "purge": "(check mode) would purge the whole archive (t=0)",
        "delete": "(check mode) would delete it after the encoder stops",
        "create": '(check mode) would create it again with the options {"archiving": true, "dvr_window_length": 60}',
        "start": "ran /srv/encoder/start.yml in check mode",
        "verify": "(check mode) would wait for started and for the Red5 stream",
    }


def test_result_in_check_mode_of_an_idle_point_and_a_missing_one():
    idle = steps_of(point(state="idle", archive=[]), run(), results(delete={"changed": True}, purge={"changed": False}), check_mode=True)
    assert (idle["delete"], idle["purge"]) == ("(check mode) would delete", "the archive was already empty")
    missing = steps_of(point(exists=False), run(), results(create={"changed": True}), check_mode=True)
    assert missing["create"] == '(check mode) would create with the options {"archiving": true, "dvr_window_length": 60}'
    assert missing["verify"] == "nothing to verify (no wait asked for)"


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
@pytest.mark.parametrize(
    ("changes", "registered", "texts"),
    [
        (
            {},
            {"stop_stream": {"changed": True}},
            ("closed the ScaleEngine stream demo-origin/live/ch1", "(check mode) would close the ScaleEngine stream demo-origin/live/ch1"),
        ),
        ({}, {"stop_stream": {"changed": False}}, ("the ScaleEngine stream demo-origin/live/ch1 was not live: nothing to close",) * 2),
        (
            {"stop_method": "scaleengine_pushpublish"},
            {"stop_push": {"changed": True, "sessions_disconnected": [{"entry_name": "usp-ch1"}, {"entry_name": ""}, {}]}},
            (
                "disconnected PushPublish usp-ch1, session, session of demo-origin/live/ch1",
                "(check mode) would disconnect PushPublish usp-ch1, session, session of demo-origin/live/ch1",
            ),
        ),
        (
            {"stop_method": "scaleengine_pushpublish"},
            {"stop_push": {"changed": False, "sessions_disconnected": []}},
            ("no PushPublish session of demo-origin/live/ch1 was connected: nothing to disconnect",) * 2,
        ),
        ({"stop_method": "tasks", "stop_tasks": "/srv/encoder/stop.yml"}, {}, ("ran /srv/encoder/stop.yml", "ran /srv/encoder/stop.yml in check mode")),
        ({"stop_method": "none"}, {}, ("nothing stopped (stop method none)",) * 2),
    ],
    ids=["stream-closed", "stream-not-live", "push-disconnected", "push-none-connected", "tasks", "none"],
)
def test_stop_text_of_each_stop_method(changes, registered, texts, check_mode):
    assert steps_of(point(), run(**changes), results(**registered), check_mode)["stop"] == texts[check_mode]


def test_steps_of_a_point_that_did_not_exist():
    steps = steps_of(point(exists=False), run(source="current", from_backup=True), results(create={"changed": True}))
    assert [steps[step] for step in ("stop", "wait", "purge", "delete")] == ["skipped: the point did not exist"] * 4
    assert steps["create"] == f"created with the manifest saved at {BACKUP} before an earlier run deleted it"


@pytest.mark.parametrize(
    ("changes", "create", "text"),
    [
        ({"source": "current"}, {"changed": True}, "created with the manifest it had before"),
        ({"source": "manifest"}, {"changed": True}, "created from restart_session_manifest"),
        ({"source": "manifest_src", "manifest_src": "/srv/manifests/ch1.isml"}, {"changed": True}, "created from /srv/manifests/ch1.isml"),
        ({}, {"changed": False}, "already present as desired"),
    ],
)
def test_create_text(changes, create, text):
    assert steps_of(point(), run(**changes), results(create=create))["create"] == text


def test_steps_already_done():
    steps = steps_of(point(), run(), results(purge={"changed": False}, delete={"changed": False}, wait={"publishing_point": {"state": "idle"}, "waited": 0}))
    assert (steps["wait"], steps["purge"], steps["delete"]) == ("idle after 0 s", "the archive was already empty", "already deleted")


def test_verify_text_after_waiting():
    registered = results(started_wait={"waited": 4.02}, red5={"stream": {"server_address": "10.0.1.10", "region": "eu-west"}})
    steps = steps_of(point(), run(wait_for_started=True, wait_for_red5=True), registered)
    assert steps["verify"] == "started after 4.02 s; Red5 live/ch1 publishing on 10.0.1.10 (eu-west)"
    assert steps_of(point(), run(wait_for_red5=True), results(red5={"stream": {}}))["verify"] == "Red5 live/ch1 publishing on ? (?)"
    assert steps_of(point(), run(wait_for_red5=True), results(), check_mode=True)["verify"] == "(check mode) would wait for the Red5 stream"


def test_steps_skipped_by_tags_are_not_run():
    ran = {key: DONE[key] for key in ("stop_stream", "wait")}
    result = restart_session_result(real_read(), run(), results(steps=("read", "stop", "wait"), **ran), False, now=1002.0)
    assert result["timings"] == {"wait": 1.23}
    assert [result["steps"][step] for step in ("purge", "delete", "create", "start", "verify")] == ["not run"] * 5
    assert result["archive_purged"] is False
    # Nothing was deleted: the point is as the wait left it, with the settings read; its archive was not read.
    assert result["after"] == {"exists": True, "state": "stopped", "settings": SETTINGS, "archive": "not read"}
    assert result["before"]["archive"] == "not read"


def test_a_step_skipped_by_its_condition_still_ran():
    registered = results(steps=("read", "stop"), stop_stream={"changed": False, "skipped": True})
    assert restart_session_result(real_read(), run(stop_method="none"), registered, now=1001.0)["steps"]["stop"] == "nothing stopped (stop method none)"


def test_timings_are_the_seconds_the_waits_took():
    registered = results(wait={"publishing_point": {"state": "idle"}, "waited": 0.4}, started_wait={"waited": 3.25, "publishing_point": {"state": "started"}})
    result = restart_session_result(real_read(), run(wait_for_started=True), registered, now=1012.0)
    assert result["timings"] == {"wait": 0.4, "verify": 3.25}
    assert result["total_seconds"] == 12.0
    # Waits that did not run (check mode, or not asked for) are not timed.
    skipped = results(wait={"skipped": True}, started_wait={"skipped": True})
    assert restart_session_result(point(), run(), skipped, True, now=1001.0)["timings"] == {}


def test_archive_left_after_the_purge_is_not_purged():
    left = {**DONE, "purge": {"changed": True, "archive_after": [{"ranges": [{"start": "a", "end": "b"}]}]}}
    registered = results(**left)
    assert restart_session_result(point(), run(), registered, now=1010.0)["archive_purged"] is False


def test_after_of_a_point_that_is_gone_and_of_one_with_an_archive():
    # Deleted, and the create left out by the tags.
    gone = results(steps=("read", "stop", "wait", "purge", "delete"), **{key: DONE[key] for key in ("stop_stream", "wait", "purge", "delete")})
    after = restart_session_result(real_read(), run(), gone, now=1010.0)["after"]
    assert after == {"exists": False, "state": None, "settings": {}, "archive": "empty after the purge"}
    archived = results(purge={"changed": True, "archive_before": ARCHIVE, "archive_after": ARCHIVE})
    after = restart_session_result(real_read(), run(), archived, now=1010.0)["after"]
    assert after["archive"] == "2 range(s) from 2026-11-23T10:00:00.000000Z to 2026-11-23T10:25:00.000000Z after the purge"


def test_after_state_comes_from_the_wait_for_started():
    registered = results(**DONE, started_wait={"waited": 2.0, "publishing_point": {"state": "started"}})
    after = restart_session_result(real_read(), run(wait_for_started=True), registered, now=1010.0)["after"]
    assert after["state"] == "started" and after["settings"] == AFTER_SETTINGS


# -- the summary -----------------------------------------------------------------------------------------


def test_summary_of_a_whole_restart():
    result = restart_session_result(real_read(), run(), results(**DONE), False, now=1010.04)
    assert restart_session_summary(result) == [
        "channel ch1: restarted in 10.0 s",
        f"before: exists; archive: {ARCHIVE_TEXT}; settings: {SETTINGS_TEXT}",
        "stop: closed the ScaleEngine stream demo-origin/live/ch1",
        "wait: stopped after 1.23 s",
        "purge: purged the whole archive (t=0); verified empty",
        "delete: deleted",
        'create: created with the options {"archiving": true, "dvr_window_length": 60}',
        "start: nothing to run (the encoder reconnects by itself)",
        "verify: nothing to verify (no wait asked for)",
        "after: exists; archive: empty after the purge; settings: archiving=true, dvr_window_length=60",
        "settings changed: dvr_window_length: 30 -> 60",
        "timings: total 10.0 s; wait 1.23 s",
    ]


def test_summary_in_check_mode():
    result = restart_session_result(point(exists=False), run(), results(steps=("read",)), True, now=1001.0)
    assert restart_session_summary(result) == [
        "channel ch1: (check mode) nothing was changed; what a run would do:",
        "before: did not exist",
        *(f"{step}: not run" for step in ("stop", "wait", "purge", "delete", "create", "start", "verify")),
        "timings: total 1.0 s",
    ]


def test_summary_of_settings_that_did_not_change():
    same = {**DONE, "create": {"changed": True, "settings": SETTINGS}}
    lines = restart_session_summary(restart_session_result(real_read(), run(source="current"), results(**same), now=1010.0))
    assert "settings changed: none (the same as before)" in lines


def test_summary_lists_changed_settings_sorted_regardless_of_case():
    before = point(settings={"creator": "USP", "Zeta": "1", "alpha": None, "dvr_window_length": "30", "archiving": "true"})
    registered = results(
        create={"changed": True, "settings": {"creator": "other", "dvr_window_length": "60", "beta": "b"}},
        started_wait={"waited": 1.0, "publishing_point": {"state": "started"}},
        purge={"changed": False, "archive_before": [], "archive_after": []},
    )
    lines = restart_session_summary(restart_session_result(before, run(), registered, now=1010.0))
    assert "settings changed: archiving: true -> (not set), beta: (not set) -> b, dvr_window_length: 30 -> 60, Zeta: 1 -> (not set)" in lines
    assert "after: is started; archive: empty after the purge; settings: dvr_window_length=60, beta=b" in lines


def test_summary_after_a_point_that_is_gone():
    gone = results(steps=("read",))
    lines = restart_session_summary(restart_session_result(point(exists=False), run(), gone, now=1010.0))
    assert lines[1] == "before: did not exist"
    assert "after: does not exist" in lines
    assert not any(line.startswith("settings changed:") for line in lines)


# -- failures --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "meaning"),
    [
        ("read", "Nothing was changed. "),
        ("stop", "Nothing was purged or deleted. "),
        ("wait", ""),
        ("purge", "The publishing point was not deleted; its archive may be partly purged. "),
        ("delete", "The archive was purged; the publishing point may still exist. "),
        ("create", "The publishing point was deleted and is NOT created yet: the channel is down until a run succeeds. "),
        ("start", "The publishing point was created again; the encoder may not have started. "),
        ("verify", "The publishing point was created again and the start tasks ran, but the channel did not come back in time. "),
        ("summary", "The restart itself finished; reading the result failed. "),
    ],
)
def test_failure_at_each_step(step, meaning):
    # The failed step registered its first result too; only the steps before it are done.
    ran = STEPS_RUN[: STEPS_RUN.index(step) + 1] if step in STEPS_RUN else STEPS_RUN
    done = ", ".join(STEPS_RUN[: STEPS_RUN.index(step)] if step in STEPS_RUN else STEPS_RUN) or "nothing"
    message = restart_session_failure({"msg": "HTTP 500"}, [step], "ch1", results(steps=ran), point(), "options", BACKUP)
    assert message == f"HTTP 500 -- [restart of channel ch1 stopped at step '{step}'; done: {done}. {meaning}{CONVERGES}"


def test_failure_at_create_of_a_point_that_comes_back_as_it_was_shows_its_settings():
    message = restart_session_failure({"msg": "HTTP 500"}, ["create"], "ch1", results(steps=("read", "create")), point(), "current", BACKUP)
    assert message == (
        "HTTP 500 -- [restart of channel ch1 stopped at step 'create'; done: read. The publishing point was deleted and is NOT created yet: "
        "the channel is down until a run succeeds. The settings read before the delete were: "
        + json.dumps({"archiving": "true", "dvr_window_length": "30"})
        + f"; the whole manifest is saved at {BACKUP}, and running the role again creates the point from it. {CONVERGES}"
    )


def test_failure_outside_a_step_and_without_a_message():
    message = restart_session_failure({}, ["always"], "ch1")
    assert message == f"failed -- [restart of channel ch1 stopped at step 'unknown'; done: nothing. {CONVERGES}"
    # A message that is null shows as nothing, as Ansible printed it.
    assert restart_session_failure({"msg": None}, None, "ch1").startswith("-- [restart of channel ch1 stopped at step 'unknown'")


def test_failure_takes_the_first_step_tag_and_collapses_whitespace():
    message = restart_session_failure({"msg": "the server failed\n   to delete"}, ["always", "read", "stop"], "ch1", results(steps=("read",)))
    assert message.startswith("the server failed to delete -- [restart of channel ch1 stopped at step 'read'; done: nothing. Nothing was changed.")


@pytest.mark.parametrize(
    ("stop_method", "hint"),
    [
        (
            "scaleengine_stream",
            "The ScaleEngine stream was closed, but media still arrives: did the encoder reconnect, or does another source push to the point?",
        ),
        ("scaleengine_pushpublish", "The PushPublish sessions were disconnected, but media still arrives: does another session or encoder push to the point?"),
        ("tasks", "The stop tasks ran, but the encoder did not send End Of Stream."),
        ("none", "The stop method is none: stop the encoder, or choose a stop method."),
    ],
)
def test_wait_failure_of_each_stop_method(stop_method, hint):
    message = restart_session_wait_failure({"msg": "timeout", "publishing_point_state": "started"}, "ch1", stop_method, 120)
    assert message == (
        f"channel ch1: the encoder is still ingesting (state: started after 120 s); nothing was purged or deleted. {hint} "
        "Stop it, then run the role again (or raise restart_session_stop_timeout if it is just slow)."
    )


def test_wait_failure_of_a_point_that_disappeared_and_of_a_read_error():
    gone = restart_session_wait_failure({"publishing_point_state": None}, "ch1", "none", 2)
    assert gone.startswith("channel ch1: the encoder is still ingesting (state: does not exist after 2 s); nothing was purged or deleted.")
    error = restart_session_wait_failure({"msg": "could not connect\n to the origin"}, "ch1", "tasks", 2)
    assert error == "channel ch1: could not read the state of the publishing point: could not connect to the origin; nothing was purged or deleted"


def test_filters_are_registered_under_their_names():
    assert set(FilterModule().filters()) == {
        "restart_session_problems",
        "restart_session_check_mode_note",
        "restart_session_plan",
        "restart_session_result",
        "restart_session_summary",
        "restart_session_failure",
        "restart_session_wait_failure",
    }


def test_failure_of_the_purge_verification_says_how_many_ranges_are_left():
    # Step 4's failed_when: the purge succeeded (no msg) but the archive read back still holds media.
    left = [{"src": "v.ismv", "ranges": [{"start": "a", "end": "b"}, {"start": "c", "end": "d"}]}, {"src": "a.isma", "ranges": [{"start": "a", "end": "b"}]}]
    message = restart_session_failure({"failed_when_result": True, "archive_after": left}, ["purge"], "ch1", results(steps=("read", "stop", "wait")))
    assert message.startswith("the archive is not empty after the purge (2 range(s) left): is media still arriving? -- [restart of channel ch1")
    assert "stopped at step 'purge'" in message
    assert "The publishing point was not deleted" in message
