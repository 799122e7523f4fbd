"""The fleet work (usp_publishing_points) without a server: planning, refusals, result assembly, summary and failure message.

Each point's own work is usp_publishing_point's (tested in test_usp_work.py);
here the points run against :class:`FakeUsp` through ``client_for``, and the
pure helpers are called directly. Requests, concurrency and masking are proved
through Ansible against the emulator (tests/integration/test_usp_fleet.py).
"""

from __future__ import annotations

import threading

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import HttpClient
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args, fleet
from tests.unit.plugins.module_utils.spec import refusal, validated
from tests.unit.plugins.module_utils.usp.test_usp_work import API, FakeUsp, manifest

URL = f"{API}/{{0}}/{{0}}.isml"


@pytest.fixture(autouse=True)
def no_usp_environment(monkeypatch):
    # The spec falls back to USP_* variables; the tests say everything themselves.
    for variable in ("USP_API_URL", "USP_ORIGIN_URL", "USP_USERNAME", "USP_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)


def fleet_params(points, **raw) -> dict:
    return validated(args.FLEET_MODULE_KWARGS, {"api_url": API, "points": points, **raw})


def converge(fake, points, check_mode=False, diff_mode=False, **raw):
    context = ExecutionContext(check_mode=check_mode, diff_mode=diff_mode)
    result = run_work(fleet.converge_publishing_points, fleet_params(points, **raw), context, client_for=lambda _params, _context: fake)
    return result, context.warnings


# -- the argument spec: usp_publishing_point's options per point ------------------------------


def test_each_point_takes_exactly_the_single_modules_options_with_their_defaults():
    params = fleet_params([{"name": "ch1"}])
    assert params["max_workers"] == 8
    assert params["points"] == [
        {"name": "ch1", "base_path": "", "state": "present", "options": None, "manifest": None, "src": None, "recreate": False, "backup_path": None}
    ]
    single = set(args.PUBLISHING_POINT_SPEC) - set(args.CONNECTION_SPEC)
    assert set(args.FLEET_POINT_SPEC) == single


def test_options_manifest_and_src_are_mutually_exclusive_per_point():
    message = refusal(args.FLEET_MODULE_KWARGS, {"api_url": API, "points": [{"name": "ch1", "options": {}, "manifest": "<smil/>"}]})
    assert "mutually exclusive" in message and "points" in message


@pytest.mark.parametrize("raw", [{"points": [{"base_path": "x"}]}, {"points": [{"name": "ch1", "state": "gone"}]}, {}])
def test_the_spec_refuses_what_the_single_module_refuses(raw):
    assert refusal(args.FLEET_MODULE_KWARGS, {"api_url": API, **raw})


@pytest.mark.parametrize("value", [0, -1, 65, 1000])
def test_max_workers_outside_1_to_64_is_refused_before_any_request(value):
    fake = FakeUsp()
    with pytest.raises(StreamingError, match=f"max_workers must be a whole number from 1 to 64, got {value}"):
        converge(fake, [{"name": "ch1"}], max_workers=value)
    assert fake.calls == []


@pytest.mark.parametrize("value", [1, 64])
def test_max_workers_bounds_are_allowed(value):
    assert fleet.check_max_workers(value) == value


# -- planning: duplicates and shared backup files ----------------------------------------------


def test_duplicate_points_are_refused_naming_them_and_their_entries():
    points = [
        {"name": "ch1"},
        {"name": "ch2", "base_path": "events"},
        {"name": "ch1", "options": {"archiving": True}},
        {"name": "ch2", "base_path": "/events/"},
        {"name": "ch2"},
    ]
    fake = FakeUsp()
    with pytest.raises(StreamingError) as raised:
        converge(fake, points)
    message = str(raised.value)
    assert "ch1 (entries 1, 3)" in message and "events/ch2 (entries 2, 4)" in message
    assert "ch2 (entries" not in message.replace("events/ch2 (entries", "")
    assert "nothing was sent" in message
    assert fake.calls == []


def test_two_points_with_one_backup_path_are_refused(tmp_path):
    shared = str(tmp_path / "saved.isml")
    points = [{"name": "ch1", "state": "absent", "backup_path": shared}, {"name": "ch2", "state": "absent", "backup_path": shared}]
    with pytest.raises(StreamingError, match=r"same backup_path: .*saved\.isml \(ch1, ch2\)"):
        converge(FakeUsp(), points)


def test_a_src_that_is_another_points_backup_path_is_refused_but_its_own_is_allowed(tmp_path):
    saved = str(tmp_path / "ch1.isml")
    (tmp_path / "ch1.isml").write_text(manifest({"archiving": "true"}))
    own = [{"name": "ch1", "src": saved, "backup_path": saved}, {"name": "ch2"}]
    result, _warnings = converge(FakeUsp(), own)
    assert result["summary"]["failed"] == 0
    crossed = [{"name": "ch1", "state": "absent", "backup_path": saved}, {"name": "ch2", "src": saved}]
    with pytest.raises(StreamingError, match=r"ch2 reads src .*ch1\.isml, the backup_path of ch1; nothing was sent"):
        converge(FakeUsp(), crossed)


def test_plan_merges_each_point_over_the_connection_and_names_its_url():
    planned = fleet.plan_points(fleet_params([{"name": "ch1", "base_path": "/events/"}], timeout=5))
    assert [(point.label, point.url) for point in planned] == [("events/ch1", f"{API}/events/ch1/ch1.isml")]
    assert planned[0].params["timeout"] == 5 and planned[0].params["api_url"] == API
    assert "points" not in planned[0].params and "max_workers" not in planned[0].params


def test_api_url_is_required_once_for_the_whole_fleet_but_not_for_an_empty_one():
    params = validated(args.FLEET_MODULE_KWARGS, {"points": [{"name": "ch1"}]})
    with pytest.raises(StreamingError, match="set the api_url option or the USP_API_URL environment variable"):
        fleet.plan_points(params)
    context = ExecutionContext()
    result = run_work(fleet.converge_publishing_points, validated(args.FLEET_MODULE_KWARGS, {"points": []}), context)
    assert result == {"results": [], "summary": {"ok": 0, "changed": 0, "failed": 0, "total": 0}, "changed": False}


# -- the work: every point, in order, each as usp_publishing_point -----------------------------


def test_mixed_fleet_converges_every_point_in_input_order():
    fake = FakeUsp(
        points={
            "ch2": manifest({"archiving": "false"}),
            "ch3": manifest({"archiving": "true"}),
            "ch4": manifest({}),
        }
    )
    points = [
        {"name": "ch1", "options": {"archiving": True}},
        {"name": "ch2", "options": {"archiving": True}},
        {"name": "ch3", "options": {"archiving": True}},
        {"name": "ch4", "state": "absent"},
    ]
    result, warnings = converge(fake, points, max_workers=3)
    assert [point["name"] for point in result["results"]] == ["ch1", "ch2", "ch3", "ch4"]
    assert [point["changed"] for point in result["results"]] == [True, True, False, True]
    assert [point["url"] for point in result["results"]] == [URL.format(name) for name in ("ch1", "ch2", "ch3", "ch4")]
    assert result["results"][1]["changes"] == "archiving: 'false' -> 'true'"
    assert result["results"][2]["settings"] == {"archiving": "true"} and "<smil" in result["results"][2]["manifest"]
    assert result["results"][3]["settings"] == {} and result["results"][3]["manifest"] is None
    assert all(point["failed"] is False and point["warnings"] == [] for point in result["results"])
    assert result["summary"] == {"ok": 1, "changed": 3, "failed": 0, "total": 4}
    assert result["changed"] is True and "failed" not in result and "diff" not in result
    assert warnings == []
    assert sorted(call[:2] for call in fake.calls) == sorted(
        [("read_manifest", "ch1"), ("create", "ch1"), ("read_manifest", "ch2"), ("update", "ch2"), ("read_manifest", "ch3"), ("delete", "ch4")]
    )


def test_check_mode_writes_nothing_and_diff_mode_gives_a_list_of_the_changed_points_diffs():
    fake = FakeUsp(points={"ch2": manifest({"archiving": "true"})})
    result, _warnings = converge(fake, [{"name": "ch1", "options": {"archiving": True}}, {"name": "ch2", "options": {"archiving": True}}], True, True)
    assert [call[0] for call in fake.calls] == ["read_manifest", "read_manifest"]
    assert result["changed"] is True and result["summary"] == {"ok": 1, "changed": 1, "failed": 0, "total": 2}
    assert result["diff"] == [result["results"][0]["diff"]]
    assert result["diff"][0]["before"] == "" and result["diff"][0]["before_header"] == URL.format("ch1")
    assert "diff" not in result["results"][1]


def test_a_failing_point_is_reported_with_the_others_and_fails_the_task():
    fake = FakeUsp(points={"ch2": manifest({"archiving": "false"})})
    fake.failures["update"] = StreamingError("could not update publishing point ch2", method="PUT", url=URL.format("ch2"), status=500, body="boom")
    points = [{"name": "ch1"}, {"name": "ch2", "options": {"archiving": True}}, {"name": "ch3"}]
    result, _warnings = converge(fake, points, max_workers=1)
    failed = result["results"][1]
    assert failed["failed"] is True and failed["changed"] is False
    assert failed["msg"].startswith("could not update publishing point ch2 (PUT http://api.test/ch2/ch2.isml returned HTTP 500)")
    assert (failed["method"], failed["url"], failed["status"], failed["response_excerpt"]) == ("PUT", URL.format("ch2"), 500, "boom")
    assert "settings" not in failed
    assert [point["changed"] for point in result["results"]] == [True, False, True]
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("1 of 3 publishing points failed: ch2. ch2: could not update publishing point ch2")
    assert result["summary"] == {"ok": 0, "changed": 2, "failed": 1, "total": 3}


def test_a_bug_in_one_point_is_that_points_failure_not_the_fleets():
    class Broken(FakeUsp):
        def read_manifest(self, point):
            if point.name == "ch2":
                raise KeyError("no such thing")
            return super().read_manifest(point)

    result, _warnings = converge(Broken(), [{"name": "ch1"}, {"name": "ch2"}])
    assert result["results"][0]["failed"] is False
    assert result["results"][1]["failed"] is True
    assert result["results"][1]["msg"].startswith("The module stopped on an unexpected KeyError (no such thing). This is a bug")


def test_an_invalid_name_fails_that_point_only_without_a_url():
    result, _warnings = converge(FakeUsp(), [{"name": "bad/name"}, {"name": "ch1"}])
    invalid = result["results"][0]
    assert invalid["failed"] is True and invalid["url"] is None and "invalid publishing point name" in invalid["msg"]
    assert result["results"][1]["changed"] is True


def test_point_warnings_stay_with_the_point_and_reach_the_task_prefixed():
    fake = FakeUsp(points={"events/ch1": manifest({"archiving": "true"})})
    # The point is deleted between this task's read and its delete: a warning that this task deleted nothing.
    fake.before["delete"] = lambda usp: usp.points.pop("events/ch1")
    result, warnings = converge(fake, [{"name": "ch1", "base_path": "events", "state": "absent"}], diff_mode=True)
    point_warnings = result["results"][0]["warnings"]
    assert len(point_warnings) == 1 and "deleted by another client" in point_warnings[0]
    assert warnings == [f"events/ch1: {point_warnings[0]}"]


def test_points_run_in_at_most_max_workers_threads():
    seen = set()

    class Recording(FakeUsp):
        def read_manifest(self, point):
            seen.add(threading.current_thread().name)
            return super().read_manifest(point)

    converge(Recording(), [{"name": f"ch{index}"} for index in range(20)], max_workers=3)
    assert 1 <= len(seen) <= 3 and all(name.startswith("usp-point") for name in seen)


# -- result assembly ---------------------------------------------------------------------------


def failed_result(label: str) -> dict:
    return {"failed": True, "changed": False, "msg": f"{label} broke", "warnings": []}


def test_failure_message_names_every_failed_point_up_to_a_limit_and_quotes_the_first_three():
    planned = [fleet.PlannedPoint({}, f"ch{index}", None) for index in range(30)]
    results = [failed_result(point.label) if index % 2 else {"failed": False, "changed": False, "warnings": []} for index, point in enumerate(planned)]
    message = fleet.failure_message(planned, results)
    assert message.startswith("15 of 30 publishing points failed: ch1, ch3, ch5, ")
    assert "ch29" in message and " and " not in message.split(".")[0]
    assert "ch1: ch1 broke | ch3: ch3 broke | ch5: ch5 broke (and 12 more)" in message
    assert "ch7 broke" not in message

    planned = [fleet.PlannedPoint({}, f"ch{index}", None) for index in range(25)]
    message = fleet.failure_message(planned, [failed_result(point.label) for point in planned])
    assert message.startswith("25 of 25 publishing points failed: ch0, ch1, ") and "ch19 and 5 more." in message
    assert fleet.failure_message(planned[:1], [{"failed": False}]) is None


def test_summary_counts_changed_failures_once():
    results = [
        {"failed": False, "changed": False},
        {"failed": False, "changed": True},
        {"failed": True, "changed": True},  # a recreate that deleted, then failed to create
        {"failed": True, "changed": False},
    ]
    assert fleet.summarise(results) == {"ok": 1, "changed": 1, "failed": 2, "total": 4}


def test_fleet_result_marks_the_task_changed_when_only_a_failed_point_changed():
    context = ExecutionContext()
    planned = [fleet.PlannedPoint({}, "ch1", None)]
    values = fleet.fleet_result(planned, [{"failed": True, "changed": True, "msg": "create failed", "warnings": ["w"]}], context)
    assert context.changed is True and context.warnings == ["ch1: w"]
    assert values["failed"] is True and values["msg"].startswith("1 of 1 publishing points failed: ch1. ch1: create failed")


# -- one connection pool ---------------------------------------------------------------------------


def test_the_pool_is_sized_keeping_the_retry_policy_and_points_share_it():
    http = HttpClient(retries=5)
    retry_policy = http.session.get_adapter("http://").max_retries
    fleet.size_connection_pool(http, 16)
    for prefix in ("http://", "https://"):
        adapter = http.session.get_adapter(prefix)
        assert adapter._pool_maxsize == 16  # pylint: disable=protected-access
        assert adapter.max_retries is retry_policy
    warned, closed = [], []
    http.session.close = lambda: closed.append(True)
    transport = fleet.PointTransport(http, warned.append)
    transport.warn("retrying")
    transport.close()
    assert transport.session is http.session and warned == ["retrying"]
    assert closed == [], "closing a point's transport must leave the shared session open"
    http.close()
    assert closed == [True]
