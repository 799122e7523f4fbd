"""usp_publishing_points run through Ansible against the USP emulator, on both execution paths."""

from __future__ import annotations

import base64
import json
from collections import Counter
from urllib.parse import quote, quote_plus

from tests.helpers.playbook import task

FLEET = "mediaops.streaming.usp_publishing_points"
WRITES = ("POST", "PUT", "DELETE")
SMIL_NS = "http://www.w3.org/2001/SMIL20/Language"


def smil(options: dict, tracks: str = "") -> str:
    metas = "".join(f'<meta name="{name}" content="{value}"/>' for name, value in options.items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{SMIL_NS}"><head>{metas}</head><body><switch>{tracks}</switch></body></smil>\n'


def create(emulator, directory: str, options: dict) -> None:
    """A point made by another client (the emulator's own API, not logged)."""
    name = directory.rsplit("/", 1)[-1]
    answer = emulator.api_call("POST", f"/{directory}/{name}.isml", smil(options))
    assert answer.status == 201, answer.body


def requests_per_point(emulator) -> dict[str, list[str]]:
    """The methods each point's manifest received, in order, from the emulator's log."""
    methods: dict[str, list[str]] = {}
    for entry in emulator.log():
        methods.setdefault(entry.path, []).append(entry.method)
    return methods


def test_mixed_fleet_costs_each_point_what_the_single_module_would(ansible_run, usp):
    usp.create_directory("events/2026")
    create(usp, "updated", {"archiving": "false", "dvr_window_length": "30"})
    create(usp, "events/2026/unchanged", {"archiving": "true"})
    create(usp, "deleted", {"archiving": "true"})
    points = [
        {"name": "created", "options": {"archiving": True}},
        {"name": "updated", "options": {"archiving": True}},
        {"name": "unchanged", "base_path": "events/2026", "options": {"archiving": "true"}},
        {"name": "deleted", "state": "absent"},
        {"name": "never_there", "state": "absent"},
    ]
    result = ansible_run.playbook(task("fleet", FLEET, register="fleet", api_url=usp.url("api"), points=points, max_workers=3))
    assert result.rc == 0, result.output
    fleet = result.task("fleet")
    assert fleet["changed"] is True
    assert fleet["summary"] == {"ok": 2, "changed": 3, "failed": 0, "total": 5}
    assert [(point["name"], point["changed"], point["failed"]) for point in fleet["results"]] == [
        ("created", True, False),
        ("updated", True, False),
        ("unchanged", False, False),
        ("deleted", True, False),
        ("never_there", False, False),
    ]
    assert fleet["results"][1]["changes"] == "archiving: 'false' -> 'true'"
    assert fleet["results"][2]["url"] == f"{usp.url('api')}/events/2026/unchanged/unchanged.isml"
    assert fleet["results"][2]["settings"]["archiving"] == "true"
    # The API floor per point, exactly the single module's requests: create GET+POST, update GET+PUT, unchanged GET, absent DELETE.
    assert requests_per_point(usp) == {
        "/created/created.isml": ["GET", "POST"],
        "/updated/updated.isml": ["GET", "PUT"],
        "/events/2026/unchanged/unchanged.isml": ["GET"],
        "/deleted/deleted.isml": ["DELETE"],
        "/never_there/never_there.isml": ["DELETE"],
    }
    assert usp.point("created").option("archiving") == "true"
    assert usp.point("updated").option("archiving") == "true" and usp.point("updated").option("dvr_window_length") == "30"
    assert "deleted" not in usp.points

    usp.clear_log()
    again = ansible_run.playbook(task("fleet", FLEET, api_url=usp.url("api"), points=points[:3]))
    assert again.rc == 0, again.output
    assert again.task("fleet")["changed"] is False
    assert Counter(entry.method for entry in usp.log()) == {"GET": 3}


def test_check_mode_and_diff_predict_per_point_and_write_nothing(ansible_run, usp):
    create(usp, "ch2", {"archiving": "false"})
    create(usp, "ch3", {"archiving": "true"})
    points = [{"name": "ch1", "options": {"archiving": True}}, {"name": "ch2", "options": {"archiving": True}}, {"name": "ch3", "state": "absent"}]
    result = ansible_run.playbook(task("fleet", FLEET, register="fleet", api_url=usp.url("api"), points=points), check=True, diff=True, callback="default")
    assert result.rc == 0, result.output
    fleet = result.task("fleet")
    assert [point["changed"] for point in fleet["results"]] == [True, True, True]
    assert fleet["summary"] == {"ok": 0, "changed": 3, "failed": 0, "total": 3}
    assert [entry.method for entry in usp.log() if entry.method in WRITES] == []
    assert usp.point("ch2").option("archiving") == "false" and "ch1" not in usp.points and "ch3" in usp.points
    # One diff per changed point, each headed by the point's URL, as Ansible shows a list of diffs.
    assert [diff["before_header"] for diff in fleet["diff"]] == [f"{usp.url('api')}/{name}/{name}.isml" for name in ("ch1", "ch2", "ch3")]
    assert fleet["diff"][0]["before"] == "" and fleet["diff"][2]["after"] == ""
    assert fleet["results"][1]["diff"] == fleet["diff"][1]
    assert f"--- before: {usp.url('api')}/ch2/ch2.isml" in result.stdout
    assert '-    <meta name="archiving" content="false"/>' in result.stdout
    assert '+    <meta name="archiving" content="true"/>' in result.stdout


def test_failing_points_are_reported_with_the_others_results_and_fail_the_task(ansible_run, usp):
    for name in ("ch1", "ch2", "ch3", "ch4"):
        create(usp, name, {"archiving": "false"})
    usp.add_fault(kind="status", method="PUT", path=r"^/ch2/ch2\.isml$", status=500, body="Internal Server Error\n", count=None)
    with_track = smil({"archiving": "true"}, '<video src="ch3-video.ismv" systemBitrate="400000"/>')
    points = [
        {"name": "ch1", "options": {"archiving": True}},
        {"name": "ch2", "options": {"archiving": True}},
        {"name": "ch3", "manifest": with_track},
        {"name": "ch4", "options": {"archiving": True}},
    ]
    result = ansible_run.playbook(task("fleet", FLEET, register="fleet", api_url=usp.url("api"), points=points, max_workers=2))
    assert result.rc != 0
    assert "Traceback" not in result.output
    fleet = result.task("fleet")
    assert [entry["status"] for entry in result.tasks if entry["task"] == "fleet"] == ["failed"]
    assert fleet["changed"] is True
    assert fleet["summary"] == {"ok": 0, "changed": 2, "failed": 2, "total": 4}
    assert fleet["msg"].startswith("2 of 4 publishing points failed: ch2, ch3. ch2: could not update publishing point ch2")
    assert "ch3: publishing point ch3 differs in its body" in fleet["msg"]
    first, put_failed, body_differs, last = fleet["results"]
    assert (first["failed"], first["changed"], last["failed"], last["changed"]) == (False, True, False, True)
    assert put_failed["failed"] is True and (put_failed["method"], put_failed["status"]) == ("PUT", 500)
    assert put_failed["url"] == f"{usp.url('api')}/ch2/ch2.isml" and put_failed["response_excerpt"] == "Internal Server Error"
    assert body_differs["failed"] is True and "ch3-video.ismv" in body_differs["msg"] and "recreate=true" in body_differs["msg"]
    # The failures stopped nobody: the others were converged, the failed ones left as they were.
    assert usp.point("ch1").option("archiving") == "true" and usp.point("ch4").option("archiving") == "true"
    assert usp.point("ch2").option("archiving") == "false" and usp.point("ch3").option("archiving") == "false"


def test_refusals_before_any_request(ansible_run, usp):
    duplicated = [{"name": "ch1"}, {"name": "ch2"}, {"name": "ch1", "base_path": "/"}]
    tasks = (
        task("duplicates", FLEET, ignore_errors=True, api_url=usp.url("api"), points=duplicated)
        + task("too many workers", FLEET, ignore_errors=True, api_url=usp.url("api"), points=[{"name": "ch1"}], max_workers=65)
        + task("both options and manifest", FLEET, ignore_errors=True, api_url=usp.url("api"), points=[{"name": "ch1", "options": {}, "manifest": "x"}])
        + task("empty", FLEET, register="empty", api_url=usp.url("api"), points=[])
    )
    result = ansible_run.playbook(tasks)
    assert result.rc == 0, result.output
    assert "points lists the same publishing point more than once: ch1 (entries 1, 3)" in result.task("duplicates")["msg"]
    assert "max_workers must be a whole number from 1 to 64, got 65" in result.task("too many workers")["msg"]
    assert "mutually exclusive" in result.task("both options and manifest")["msg"]
    empty = result.task("empty")
    assert (empty["changed"], empty["results"], empty["summary"]["total"]) == (False, [], 0)
    assert usp.log() == []


def test_at_most_max_workers_requests_are_in_flight(ansible_run, usp):
    names = [f"ch{index}" for index in range(8)]
    for name in names:
        create(usp, name, {"archiving": "true"})
    delay = 0.3
    usp.add_fault(kind="delay", method="GET", seconds=delay, count=None)
    result = ansible_run.playbook(task("fleet", FLEET, api_url=usp.url("api"), points=[{"name": name} for name in names], max_workers=2))
    assert result.rc == 0, result.output
    arrivals = sorted(entry.time for entry in usp.log())
    assert len(arrivals) == len(names)
    # Each request is answered no sooner than `delay` after it arrived. With at most two in flight, of any three consecutive
    # arrivals the first had been answered before the third arrived; with three or more in flight, two would be closer.
    gaps = [arrivals[index + 2] - arrivals[index] for index in range(len(arrivals) - 2)]
    assert min(gaps) >= delay - 0.02, gaps
    # And two did run at once: eight requests of 0.3 s each took far less than 8 * 0.3 s.
    assert arrivals[-1] - arrivals[0] < (len(names) - 1) * delay - 0.5, arrivals


def test_no_secret_at_vvvv_in_results_failures_or_warnings(ansible_run, usp_auth):
    usp = usp_auth
    username, password = usp.credentials
    create(usp, "ch2", {"archiving": "false"})
    # A careless server echoes the whole request, Authorization header included, in its error page.
    usp.add_fault(kind="echo", status=500, method="PUT", path=r"^/ch2/", count=None)
    usp.add_fault(kind="status", method="GET", path=r"^/ch3/", status=503, count=1)  # one retry: a warning of that point
    points = [{"name": "ch1", "options": {"archiving": True}}, {"name": "ch2", "options": {"archiving": True}}, {"name": "ch3"}]
    result = ansible_run.playbook(
        task("fleet", FLEET, register="fleet", api_url=usp.url("api"), username=username, password=password, points=points, retries=1), verbosity=4
    )
    assert result.rc != 0
    fleet = result.task("fleet")
    assert fleet["results"][1]["failed"] is True and "Authorization" in fleet["results"][1]["response_excerpt"]
    # The point's retry warning, with the point's name, among the task's warnings; and in the point's own result without it.
    assert any(warning.startswith("ch3: GET ") and "retrying" in warning for warning in fleet["warnings"]), fleet["warnings"]
    assert fleet["results"][2]["warnings"] and fleet["results"][2]["warnings"][0].startswith("GET ")
    pair = f"{username}:{password}"
    forms = {
        password,
        quote(password),
        quote_plus(password),
        json.dumps(password)[1:-1],
        base64.b64encode(pair.encode("utf-8")).decode("ascii"),
        base64.b64encode(pair.encode("latin-1")).decode("ascii"),
    }
    shown = result.output + json.dumps(result.tasks)
    for form in forms:
        assert form not in shown, f"a form of the password appears: {form!r}"
    assert "********" in json.dumps(fleet["results"][1])


def test_a_thousand_unchanged_points_in_one_task(ansible_run, usp):
    names = [f"point{index:04d}" for index in range(1, 1001)]
    for name in names:
        create(usp, name, {"archiving": "true", "dvr_window_length": "30"})
    play_vars = {"fleet": [{"name": name, "options": {"archiving": True}} for name in names]}
    result = ansible_run.playbook(task("fleet", FLEET, register="fleet", api_url=usp.url("api"), points="{{ fleet }}"), extra_vars=play_vars, timeout=600)
    assert result.rc == 0, result.output[-3000:]
    fleet = result.task("fleet")
    assert fleet["changed"] is False
    assert fleet["summary"] == {"ok": 1000, "changed": 0, "failed": 0, "total": 1000}
    assert [point["name"] for point in fleet["results"]] == names
    logged = usp.log()
    assert Counter(entry.method for entry in logged) == {"GET": 1000}
    assert len({entry.path for entry in logged}) == 1000
