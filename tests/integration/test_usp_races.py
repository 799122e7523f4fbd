"""Concurrent runs on one publishing point converge: races through Ansible against the USP emulator.

Twenty forks (one inventory host each, ``connection: local``) target the same
point; the emulator's gate holds the answers to their first reads until all
twenty have read, so every fork decides on the same view before anyone writes. The tasks
that report ``changed`` must be exactly as many as the writes the emulator
accepted. The single-run tests use ``interfere`` to let "another client" act
between the module's read and its write, deterministically.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers.playbook import task
from tests.integration.test_usp_modules import PP, WRITES

FORKS = 20
NS = "http://www.w3.org/2001/SMIL20/Language"


def smil(name: str, options: dict[str, str], tracks: str = "") -> str:
    """A server manifest as another client (mp4split, a second operator) would post it."""
    metas = "".join(f'<meta name="{key}" content="{value}"/>' for key, value in options.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{NS}"><head>{metas}</head><body><switch>{tracks}</switch></body></smil>\n'


def inventory(states: list[str] | None = None) -> str:
    """``FORKS`` hosts run locally; ``desired_state`` per host when ``states`` is given."""
    lines = ["all:", "  hosts:"]
    for index in range(FORKS):
        lines.append(f"    fork{index:02d}:")
        lines.append(f"      desired_state: {states[index] if states else 'present'}")
    return "\n".join(lines) + "\n"


PLAY_ALL = "- hosts: all\n  gather_facts: false\n  connection: local\n"


def race(ansible_run, usp, args: dict, states: list[str] | None = None, check: bool = False, gate_method: str = "GET", parties: int = FORKS):
    """Run one task on ``FORKS`` hosts at once; the answers to the first ``parties`` requests of ``gate_method`` are held until all of them arrived.

    A delete outside check and diff mode sends its DELETE without reading
    first, so a race of deletes is held at the DELETE.
    """
    gate = usp.gate(parties, method=gate_method, path=r"/race/race\.isml$", timeout=120)
    # A generous timeout: the first forks wait at the gate until the last one has started.
    tasks = task("race", PP, api_url=usp.url("api"), name="race", timeout=150, **args)
    result = ansible_run.playbook(tasks, play_header=PLAY_ALL, inventory=inventory(states), args=("--forks", str(FORKS)), check=check, timeout=600)
    assert result.rc == 0, result.output[-5000:]
    assert gate.released_together, "the forks did not all read before the first write: no race took place"
    entries = [entry for entry in result.tasks if entry["task"] == "race"]
    assert len(entries) == FORKS
    assert [entry["host"] for entry in entries if entry["status"] != "ok"] == []
    return entries


def changed_count(entries) -> int:
    return sum(1 for entry in entries if entry["result"]["changed"])


def statuses(usp, method: str) -> list[int]:
    return sorted(status for request, status in usp.answered(method=method))


def create_point(usp, name: str, options: dict[str, str], tracks: str = "") -> None:
    response = usp.api_call("POST", f"/{name}/{name}.isml", smil(name, options, tracks))
    assert response.status == 201, response.body


# -- twenty forks ---------------------------------------------------------------


def test_twenty_forks_create_the_same_point(ansible_run, usp):
    entries = race(ansible_run, usp, {"options": {"archiving": True, "dvr_window_length": 60}})
    point = usp.point("race")
    assert (point.option("archiving"), point.option("dvr_window_length")) == ("true", "60")
    # Every fork read "missing" and posted; one create won, the others found the
    # point equal to what they wanted and changed nothing.
    assert statuses(usp, "POST") == [201] + [409] * (FORKS - 1)
    assert changed_count(entries) == len(usp.accepted_writes()) == 1


def test_twenty_forks_update_the_same_point(ansible_run, usp):
    create_point(usp, "race", {"archiving": "false", "dvr_window_length": "30", "archive_length": "3600"})
    entries = race(ansible_run, usp, {"options": {"archiving": True, "dvr_window_length": 60}})
    point = usp.point("race")
    assert (point.option("archiving"), point.option("dvr_window_length"), point.option("archive_length")) == ("true", "60", "3600")
    assert changed_count(entries) == len(usp.accepted_writes()) >= 1
    assert {request.method for request in usp.accepted_writes()} == {"PUT"}


def test_twenty_forks_delete_the_same_point(ansible_run, usp):
    create_point(usp, "race", {"archiving": "true"})
    entries = race(ansible_run, usp, {"state": "absent"}, gate_method="DELETE")
    assert "race" not in usp.points
    assert statuses(usp, "GET") == []
    assert statuses(usp, "DELETE") == [200] + [404] * (FORKS - 1)
    assert changed_count(entries) == len(usp.accepted_writes()) == 1
    # A 404 to a DELETE sent without a read means "not there": absent, as wanted, and nothing to warn about.
    assert all(not entry["result"].get("warnings") for entry in entries)


@pytest.mark.parametrize("existing", [True, False], ids=["point-exists", "point-missing"])
def test_twenty_forks_mixing_present_and_absent_end_in_one_of_the_two(ansible_run, usp, existing):
    if existing:
        create_point(usp, "race", {"archiving": "false", "dvr_window_length": "30"})
    states = ["present" if index % 2 == 0 else "absent" for index in range(FORKS)]
    desired = {"archiving": True, "dvr_window_length": 60}
    # The present forks read first; the absent ones delete without reading, whenever they get there.
    entries = race(ansible_run, usp, {"state": "{{ desired_state }}", "options": desired}, states=states, parties=states.count("present"))
    if "race" in usp.points:
        point = usp.point("race")
        assert (point.option("archiving"), point.option("dvr_window_length")) == ("true", "60")
    assert changed_count(entries) == len(usp.accepted_writes())


def test_twenty_forks_in_check_mode_send_no_write(ansible_run, usp):
    create_point(usp, "race", {"archiving": "false"})
    states = ["present" if index % 2 == 0 else "absent" for index in range(FORKS)]
    entries = race(ansible_run, usp, {"state": "{{ desired_state }}", "options": {"archiving": True}}, states=states, check=True)
    assert changed_count(entries) == FORKS
    assert [entry for entry in usp.log() if entry.method in WRITES] == []
    assert usp.point("race").option("archiving") == "false"


# -- one run, another client acting between its read and its write ----------------


def run_one(ansible_run, usp, name: str, **args):
    result = ansible_run.playbook(task("one", PP, api_url=usp.url("api"), name=name, **args))
    return result, result.task("one")


def methods_and_statuses(usp) -> list[tuple[str, int]]:
    return [(request.method, status) for request, status in usp.answered()]


def test_create_conflict_with_the_same_options_is_unchanged(ansible_run, usp):
    usp.interfere("POST", r"/ch1/ch1\.isml$", lambda emulator: create_point(emulator, "ch1", {"archiving": "true"}))
    result, outcome = run_one(ansible_run, usp, "ch1", options={"archiving": True})
    assert result.rc == 0, result.output
    assert outcome["changed"] is False
    assert outcome["settings"]["archiving"] == "true"
    assert methods_and_statuses(usp) == [("GET", 404), ("POST", 409), ("GET", 200)]


def test_create_conflict_with_other_options_updates_them(ansible_run, usp):
    usp.interfere("POST", r"/ch2/ch2\.isml$", lambda emulator: create_point(emulator, "ch2", {"archiving": "false", "archive_length": "600"}))
    result, outcome = run_one(ansible_run, usp, "ch2", options={"archiving": True})
    assert result.rc == 0, result.output
    assert outcome["changed"] is True
    assert outcome["changes"] == "archiving: 'false' -> 'true'"
    assert (usp.point("ch2").option("archiving"), usp.point("ch2").option("archive_length")) == ("true", "600")
    assert methods_and_statuses(usp) == [("GET", 404), ("POST", 409), ("GET", 200), ("PUT", 200)]


def test_update_of_a_point_deleted_meanwhile_creates_it_again(ansible_run, usp):
    create_point(usp, "ch3", {"archiving": "false", "archive_length": "600"})
    usp.interfere("PUT", r"/ch3/ch3\.isml$", lambda emulator: emulator.api_call("DELETE", "/ch3/ch3.isml"))
    result, outcome = run_one(ansible_run, usp, "ch3", options={"archiving": True})
    assert result.rc == 0, result.output
    assert outcome["changed"] is True
    assert "deleted by another client" in outcome["warnings"][0] and "created again" in outcome["warnings"][0]
    # Created from the desired options: what the other client deleted is gone.
    assert (usp.point("ch3").option("archiving"), usp.point("ch3").option("archive_length", None)) == ("true", None)
    assert methods_and_statuses(usp) == [("GET", 200), ("PUT", 404), ("GET", 404), ("POST", 201)]


def test_delete_of_a_point_deleted_meanwhile_is_unchanged(ansible_run, usp):
    create_point(usp, "ch4", {"archiving": "false"})
    usp.interfere("DELETE", r"/ch4/ch4\.isml$", lambda emulator: emulator.api_call("DELETE", "/ch4/ch4.isml"))
    result, outcome = run_one(ansible_run, usp, "ch4", state="absent")
    assert result.rc == 0, result.output
    assert outcome["changed"] is False
    assert not outcome.get("warnings")
    assert methods_and_statuses(usp) == [("DELETE", 404)]


def test_delete_in_diff_mode_of_a_point_deleted_after_its_read_is_unchanged_with_a_warning(ansible_run, usp):
    """Diff mode reads the point first (its "before"), so it can tell that another client deleted it in between."""
    create_point(usp, "ch4", {"archiving": "false"})
    usp.interfere("DELETE", r"/ch4/ch4\.isml$", lambda emulator: emulator.api_call("DELETE", "/ch4/ch4.isml"))
    result = ansible_run.playbook(task("one", PP, api_url=usp.url("api"), name="ch4", state="absent"), diff=True)
    outcome = result.task("one")
    assert result.rc == 0, result.output
    assert outcome["changed"] is False
    assert "deleted by another client" in outcome["warnings"][0] and "this task deleted nothing" in outcome["warnings"][0]
    assert methods_and_statuses(usp) == [("GET", 200), ("DELETE", 404)]


def test_delete_whose_answer_was_lost_is_changed(ansible_run, usp):
    # The first DELETE deletes, the answer is cut off, the client repeats the
    # (idempotent) DELETE and gets 404: this task did delete the point.
    create_point(usp, "ch5", {"archiving": "false"})
    usp.add_fault(kind="reset_mid", method="DELETE", count=1)
    result, outcome = run_one(ansible_run, usp, "ch5", state="absent")
    assert result.rc == 0, result.output
    assert outcome["changed"] is True
    assert "ch5" not in usp.points
    assert methods_and_statuses(usp) == [("DELETE", 200), ("DELETE", 404)]
    assert any("answer" in warning and "deleted" in warning for warning in outcome["warnings"])


BODY = '<video src="ch-video.ismv" systemBitrate="400000"/>'
OLD_BODY = '<video src="ch-video.ismv" systemBitrate="200000"/>'


def recreate_while_another_client_acts(ansible_run, usp, name: str, method: str, interference) -> None:
    """Recreate ``name`` (made with OLD_BODY) with BODY while another client runs ``interference`` just before the task's ``method`` request.

    Whatever the other client did, the task succeeds and reports the point changed and recreated.
    """
    create_point(usp, name, {"archiving": "true"}, OLD_BODY)
    usp.interfere(method, rf"/{name}/{name}\.isml$", interference)
    result, outcome = run_one(ansible_run, usp, name, manifest=smil(name, {"archiving": "true"}, BODY), recreate=True)
    assert result.rc == 0, result.output
    assert outcome["changed"] is True and outcome["recreated"] is True


def test_recreate_when_another_client_deleted_first(ansible_run, usp):
    recreate_while_another_client_acts(ansible_run, usp, "ch6", "DELETE", lambda emulator: emulator.api_call("DELETE", "/ch6/ch6.isml"))
    assert methods_and_statuses(usp) == [("GET", 200), ("DELETE", 404), ("POST", 201)]


def test_recreate_when_another_client_created_the_desired_point_first(ansible_run, usp):
    recreate_while_another_client_acts(ansible_run, usp, "ch7", "POST", lambda emulator: create_point(emulator, "ch7", {"archiving": "true"}, BODY))
    # This task deleted the old point; the new one is the other client's, and equal.
    assert methods_and_statuses(usp) == [("GET", 200), ("DELETE", 200), ("POST", 409), ("GET", 200)]


def test_recreate_when_another_client_created_the_old_point_again(ansible_run, usp):
    recreate_while_another_client_acts(ansible_run, usp, "ch8", "POST", lambda emulator: create_point(emulator, "ch8", {"archiving": "true"}, OLD_BODY))
    assert methods_and_statuses(usp) == [("GET", 200), ("DELETE", 200), ("POST", 409), ("GET", 200), ("DELETE", 200), ("POST", 201)]
    assert 'systemBitrate="400000"' in usp.api_call("GET", "/ch8/ch8.isml").body.decode()


def test_a_point_that_keeps_changing_fails_after_bounded_rounds(ansible_run, usp):
    # Every read says "missing", every create says "exists": the task must give up, not loop.
    usp.add_fault(kind="status", method="GET", path=r"/ch9/", status=404, count=None)
    usp.add_fault(kind="status", method="POST", path=r"/ch9/", status=409, count=None)
    result, outcome = run_one(ansible_run, usp, "ch9", options={"archiving": True})
    assert result.rc != 0
    assert "kept changing" in outcome["msg"] and "5 rounds" in outcome["msg"]
    assert "run_once" in outcome["msg"]
    assert len(usp.log(method="POST")) == 5
    assert "Traceback" not in result.output


# -- a create whose outcome is unknown --------------------------------------------


def test_create_answer_lost_but_point_exists_converges(ansible_run, usp):
    usp.add_fault(kind="reset_mid", method="POST", count=1)
    result, outcome = run_one(ansible_run, usp, "ch10", options={"archiving": True})
    assert result.rc == 0, result.output
    assert outcome["changed"] is True
    assert usp.point("ch10").option("archiving") == "true"
    assert len(usp.log(method="POST")) == 1
    assert "exists now" in outcome["warnings"][0]
    assert methods_and_statuses(usp) == [("GET", 404), ("POST", 201), ("GET", 200)]


def test_create_answer_lost_and_other_options_are_updated(ansible_run, usp):
    # The reset hides that another client created the point with other options.
    usp.add_fault(kind="reset", method="POST", count=1)
    usp.interfere("GET", r"/ch11/ch11\.isml$", lambda emulator: None)  # the first read passes untouched
    usp.interfere("GET", r"/ch11/ch11\.isml$", lambda emulator: create_point(emulator, "ch11", {"archiving": "false"}))
    result, outcome = run_one(ansible_run, usp, "ch11", options={"archiving": True})
    assert result.rc == 0, result.output
    assert outcome["changed"] is True
    assert usp.point("ch11").option("archiving") == "true"
    assert len(usp.log(method="POST")) == 1
    assert [request.method for request, _status in usp.answered()] == ["GET", "GET", "PUT"]


@pytest.mark.parametrize(
    "fault",
    [{"kind": "reset"}, {"kind": "status", "status": 502, "body": "Bad Gateway"}, {"kind": "status", "status": 504, "body": "Gateway Timeout"}],
    ids=["reset", "502", "504"],
)
def test_create_answer_lost_and_point_missing_fails_without_repeating(ansible_run, usp, fault):
    usp.add_fault(method="POST", count=1, **fault)
    result, outcome = run_one(ansible_run, usp, "ch12", options={"archiving": True})
    assert result.rc != 0
    assert "was not created" in outcome["msg"] and "run the task again" in outcome["msg"].lower()
    assert len(usp.log(method="POST")) == 1
    assert [entry.method for entry in usp.log()] == ["GET", "POST", "GET"]
    assert "ch12" not in usp.points
    assert "Traceback" not in result.output


def test_create_that_times_out_and_lands_late_is_found_by_the_next_run(ansible_run, usp):
    usp.add_fault(kind="delay", method="POST", seconds=3, count=1)
    result, outcome = run_one(ansible_run, usp, "ch13", options={"archiving": True}, timeout=1)
    assert result.rc != 0
    assert "no answer within 1s" in outcome["msg"] and "was not created" in outcome["msg"]
    assert len(usp.log(method="POST")) == 1
    deadline = time.monotonic() + 10
    while "ch13" not in usp.points and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "ch13" in usp.points, "the slow create never landed"
    again, outcome = run_one(ansible_run, usp, "ch13", options={"archiving": True})
    assert again.rc == 0, again.output
    assert outcome["changed"] is False
    assert len(usp.log(method="POST")) == 1


def test_create_answer_lost_and_read_back_failing_says_the_outcome_is_unknown(ansible_run, usp):
    # Just before the POST is handled, the API starts failing reads; the POST itself succeeds and its answer is cut off.
    usp.interfere("POST", r"/ch14/", lambda emulator: emulator.add_fault(kind="status", method="GET", status=500, body="disk error", count=None))
    usp.add_fault(kind="reset_mid", method="POST", count=1)
    result, outcome = run_one(ansible_run, usp, "ch14", options={"archiving": True})
    assert result.rc != 0
    assert outcome["msg"].startswith("whether publishing point ch14 was created is unknown: the create failed (request failed: ")
    assert "reading the point back failed too (could not read publishing point ch14)" in outcome["msg"]
    assert "usp_publishing_point_info" in outcome["msg"]
    assert outcome["status"] == 500 and outcome["method"] == "GET"
    assert len(usp.log(method="POST")) == 1
