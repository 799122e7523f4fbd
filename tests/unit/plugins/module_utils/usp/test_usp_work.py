"""The work of the usp_* modules with a fake client: what they decide, write, return and report.

Parameters go through each module's own argument spec (``validated``), the
work runs with an :class:`ExecutionContext` as the runner builds it, and
:class:`FakeUsp` keeps publishing points in memory, answering as
:class:`UspClient` does. No sockets, no emulator.
"""

from __future__ import annotations

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.usp import args
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.archive_purge import purge_archive
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.client import UncertainCreate
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.identity import DELETABLE_STATES
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.info import read_publishing_point_info
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.publishing_point import MAX_ROUNDS, ensure_publishing_point
from ansible_collections.mediaops.streaming.plugins.module_utils.usp.smil import build_manifest, canonical_manifest, parse_smil
from tests.unit.plugins.module_utils.spec import refusal, validated

API = "http://api.test"
ORIGIN = "http://origin.test"
NS = "http://www.w3.org/2001/SMIL20/Language"
TRACK = '<video src="ch1-video.ismv" systemBitrate="400000"/>'


def manifest(options: dict | None = None, tracks: str = "") -> str:
    metas = "".join(f'<meta name="{key}" content="{value}"/>' for key, value in (options or {}).items())
    return f'<?xml version="1.0" encoding="utf-8"?>\n<smil xmlns="{NS}"><head>{metas}</head><body><switch>{tracks}</switch></body></smil>\n'


@pytest.fixture(autouse=True)
def no_usp_environment(monkeypatch):
    # The specs fall back to USP_* variables; the tests say everything themselves.
    for variable in ("USP_API_URL", "USP_ORIGIN_URL", "USP_USERNAME", "USP_PASSWORD"):
        monkeypatch.delenv(variable, raising=False)


def point_params(**raw) -> dict:
    return validated(args.PUBLISHING_POINT_MODULE_KWARGS, {"api_url": API, "name": "ch1", **raw})


def info_params(**raw) -> dict:
    return validated(args.INFO_MODULE_KWARGS, {"name": "ch1", **raw})


def purge_params(**raw) -> dict:
    return validated(args.ARCHIVE_PURGE_MODULE_KWARGS, {"origin_url": ORIGIN, "name": "ch1", **raw})


class FakeUsp:
    """Publishing points in memory, answering as UspClient does, recording every call.

    ``before[method]`` runs before the answer (another client acting between
    the task's read and its write); ``failures[method]`` is an exception the
    call raises instead of answering.
    """

    def __init__(self, points=None, states=None, archives=None, archive_after_purge=None):
        self.points = dict(points or {})  # directory -> manifest text
        self.states = dict(states or {})  # directory -> state; "idle" when not given
        self.archives = dict(archives or {})  # directory -> archive list
        self.archive_after_purge = archive_after_purge
        self.calls: list[tuple] = []
        self.before: dict = {}
        self.failures: dict = {}
        self.closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.closed = True
        return False

    def _answer(self, method: str, *call):
        self.calls.append((method, *call))
        if method in self.before:
            self.before[method](self)
        if method in self.failures:
            failure = self.failures[method]
            raise failure.pop(0) if isinstance(failure, list) else failure

    def names(self) -> list[str]:
        return [call[0] for call in self.calls]

    def api_url(self, point):
        return f"{API}/{point.resource}"

    def origin_url(self, point, what=""):
        return f"{ORIGIN}/{point.resource}" + (f"/{what}" if what else "")

    def read_manifest(self, point):
        self._answer("read_manifest", point.directory)
        text = self.points.get(point.directory)
        return (None, None) if text is None else (text, parse_smil(text))

    def create(self, point, text):
        self._answer("create", point.directory, text)
        if point.directory in self.points:
            return False
        self.points[point.directory] = text
        return True

    def update(self, point, text):
        self._answer("update", point.directory, text)
        if point.directory not in self.points:
            return False
        self.points[point.directory] = text
        return True

    def delete(self, point):
        self._answer("delete", point.directory)
        if point.directory not in self.points:
            return False
        del self.points[point.directory]
        return "deleted"

    def best_effort_state(self, point):
        self._answer("best_effort_state", point.directory)
        return self.states.get(point.directory, "idle") if point.directory in self.points else None

    def read_state(self, point):
        self._answer("read_state", point.directory)
        if point.directory not in self.points:
            return None
        return {"state": self.states.get(point.directory, "idle"), "updated": "2026-11-23T10:15:02.123456Z"}

    def read_statistics(self, point):
        self._answer("read_statistics", point.directory)
        return [] if point.directory in self.points else None

    def read_archive(self, point):
        self._answer("read_archive", point.directory)
        if point.directory not in self.points:
            return None
        return self.archives.get(point.directory, [])

    def purge(self, point, window):
        self._answer("purge", point.directory, window)
        self.archives[point.directory] = self.archive_after_purge or []


def run(work, params, fake, check_mode=False, diff_mode=False):
    context = ExecutionContext(check_mode=check_mode, diff_mode=diff_mode)
    result = run_work(work, params, context, client=fake)
    return result, context.warnings


# -- usp_publishing_point: present --------------------------------------------


def test_create_from_options_with_diff():
    fake = FakeUsp()
    result, warnings = run(ensure_publishing_point, point_params(options={"archiving": True}), fake, diff_mode=True)
    built = build_manifest("ch1", {"archiving": True})
    assert result["changed"] is True
    assert result["url"] == f"{API}/ch1/ch1.isml"
    assert result["settings"]["archiving"] == "true"
    assert result["manifest"] == built
    assert fake.names() == ["read_manifest", "create"]
    assert fake.points["ch1"] == built
    assert result["diff"] == {"before": "", "after": canonical_manifest(built), "before_header": result["url"], "after_header": result["url"]}
    assert warnings == []
    assert fake.closed


def test_unchanged_point_costs_one_read_and_has_no_diff():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true", "dvr_window_length": "30"})})
    result, _context = run(ensure_publishing_point, point_params(options={"archiving": True}), fake, diff_mode=True)
    assert result["changed"] is False
    assert "diff" not in result and "changes" not in result and "recreated" not in result
    assert fake.names() == ["read_manifest"]


def test_update_merges_head_and_diff_is_the_same_dict_as_before():
    current = manifest({"archiving": "false", "dvr_window_length": "30"})
    fake = FakeUsp(points={"ch1": current})
    result, _context = run(ensure_publishing_point, point_params(options={"archiving": True}), fake, diff_mode=True)
    assert result["changed"] is True
    assert result["changes"] == "archiving: 'false' -> 'true'"
    assert result["settings"] == {"archiving": "true", "dvr_window_length": "30"}
    assert fake.names() == ["read_manifest", "update"]
    sent = fake.calls[1][2]
    assert result["manifest"] == sent
    assert result["diff"] == {
        "before": canonical_manifest(current),
        "after": canonical_manifest(sent),
        "before_header": f"{API}/ch1/ch1.isml",
        "after_header": f"{API}/ch1/ch1.isml",
    }


@pytest.mark.parametrize(
    ("points", "raw"),
    [
        ({}, {"options": {"archiving": True}}),
        ({"ch1": manifest({"archiving": "false"})}, {"options": {"archiving": True}}),
        ({"ch1": manifest({"archiving": "false"})}, {"manifest": manifest({"archiving": "false"}, TRACK), "recreate": True}),
        ({"ch1": manifest({"archiving": "false"})}, {"state": "absent"}),
    ],
)
def test_check_mode_reads_predicts_and_never_writes(points, raw):
    fake = FakeUsp(points=points)
    result, _context = run(ensure_publishing_point, point_params(**raw), fake, check_mode=True, diff_mode=True)
    assert result["changed"] is True
    assert "diff" in result
    assert not {"create", "update", "delete"} & set(fake.names())
    assert fake.points == points


def test_manifest_from_src_file(tmp_path):
    source = tmp_path / "ch1.isml"
    source.write_text(manifest({"archiving": "true"}))
    fake = FakeUsp()
    result, _context = run(ensure_publishing_point, point_params(src=str(source)), fake)
    assert result["changed"] is True
    assert fake.points["ch1"] == source.read_text()


# -- body differences and recreate ---------------------------------------------


def test_body_difference_without_recreate_fails_and_writes_nothing():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})})
    with pytest.raises(StreamingError, match="differs in its body") as info:
        run(ensure_publishing_point, point_params(manifest=manifest({"archiving": "true"}, TRACK)), fake)
    assert "recreate=true" in str(info.value) and "ch1-video.ismv" in str(info.value)
    assert fake.names() == ["read_manifest"]


def test_recreate_deletes_and_creates():
    desired = manifest({"archiving": "true"}, TRACK)
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})})
    result, _context = run(ensure_publishing_point, point_params(manifest=desired, recreate=True), fake)
    assert result["changed"] is True and result["recreated"] is True
    assert fake.names() == ["read_manifest", "delete", "create"]
    assert fake.points["ch1"] == desired


def test_recreate_whose_create_fails_says_the_point_is_already_deleted():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})})
    fake.failures["create"] = StreamingError(
        "the server failed to create the resources of ch1", method="POST", url=f"{API}/ch1/ch1.isml", status=500, advice="See the web server's error log"
    )
    with pytest.raises(StreamingError) as info:
        run(ensure_publishing_point, point_params(manifest=manifest({"archiving": "true"}, TRACK), recreate=True), fake)
    message = str(info.value)
    assert message.startswith("the server failed to create the resources of ch1; publishing point ch1 is already deleted")
    assert "its archive is gone" in message
    assert "See the web server's error log" in message
    assert "Run the task again with the same manifest (or options)" in message
    assert info.value.status == 500
    assert "ch1" not in fake.points


def test_recreate_whose_uncertain_create_is_not_found_says_the_point_is_already_deleted():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})})
    fake.failures["create"] = UncertainCreate(StreamingError("request failed: no answer within 30s", method="POST", url=f"{API}/ch1/ch1.isml"))
    with pytest.raises(StreamingError) as info:
        run(ensure_publishing_point, point_params(manifest=manifest({"archiving": "true"}, TRACK), recreate=True), fake)
    assert "was not created" in str(info.value) and "is already deleted" in str(info.value)
    assert fake.names() == ["read_manifest", "delete", "create", "read_manifest"]


def test_recreate_when_another_client_deleted_first_says_nothing_about_this_task_deleting():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})})
    fake.before["delete"] = lambda usp: usp.points.pop("ch1")
    fake.failures["create"] = StreamingError("the server failed to create the resources of ch1")
    with pytest.raises(StreamingError) as info:
        run(ensure_publishing_point, point_params(manifest=manifest({"archiving": "true"}, TRACK), recreate=True), fake)
    assert str(info.value) == "the server failed to create the resources of ch1"


def test_recreate_409_after_own_delete_compares_again():
    desired = manifest({"archiving": "true"}, TRACK)
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})})
    # Another client creates the desired point between this task's delete and its create.
    fake.before["create"] = lambda usp: usp.points.setdefault("ch1", desired)
    result, _context = run(ensure_publishing_point, point_params(manifest=desired, recreate=True), fake)
    assert result["changed"] is True and result["recreated"] is True
    assert fake.names() == ["read_manifest", "delete", "create", "read_manifest"]


# -- races with other clients ---------------------------------------------------


def test_409_on_create_with_the_same_head_is_no_change():
    fake = FakeUsp()
    fake.before["create"] = lambda usp: usp.points.setdefault("ch1", manifest({"archiving": "true"}))
    result, warnings = run(ensure_publishing_point, point_params(options={"archiving": True}), fake, diff_mode=True)
    assert result["changed"] is False and "diff" not in result
    assert fake.names() == ["read_manifest", "create", "read_manifest"]
    assert warnings == []


def test_409_on_create_with_another_head_is_updated():
    fake = FakeUsp()
    fake.before["create"] = lambda usp: usp.points.setdefault("ch1", manifest({"archiving": "false"}))
    result, _context = run(ensure_publishing_point, point_params(options={"archiving": True}), fake)
    assert result["changed"] is True and result["changes"] == "archiving: 'false' -> 'true'"
    assert fake.names() == ["read_manifest", "create", "read_manifest", "update"]


def test_404_on_update_creates_again_with_a_warning():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "false"})})
    fake.before["update"] = lambda usp: usp.points.pop("ch1")
    result, warnings = run(ensure_publishing_point, point_params(options={"archiving": True}), fake)
    assert result["changed"] is True
    assert fake.names() == ["read_manifest", "update", "read_manifest", "create"]
    assert warnings == ["publishing point ch1 was deleted by another client while this task updated it; it was created again with the desired settings"]


def test_lost_create_answer_with_the_point_found_is_a_change_with_a_warning():
    fake = FakeUsp()

    def created_but_lost(usp):
        usp.points["ch1"] = build_manifest("ch1", {"archiving": True})
        raise UncertainCreate(StreamingError("request failed: no answer within 30s", method="POST", url=f"{API}/ch1/ch1.isml"))

    fake.before["create"] = created_but_lost
    result, warnings = run(ensure_publishing_point, point_params(options={"archiving": True}), fake)
    assert result["changed"] is True
    assert fake.names() == ["read_manifest", "create", "read_manifest"]
    assert warnings == ["the create of ch1 got no answer (request failed: no answer within 30s), but the point exists now; this task reports it as created"]


def test_lost_create_answer_with_the_point_missing_fails_without_a_second_post():
    fake = FakeUsp()
    fake.failures["create"] = UncertainCreate(StreamingError("request failed: no answer within 30s", method="POST", url=f"{API}/ch1/ch1.isml"))
    with pytest.raises(StreamingError, match="publishing point ch1 was not created: request failed") as info:
        run(ensure_publishing_point, point_params(), fake)
    assert "Run the task again: that is safe" in str(info.value)
    assert fake.names().count("create") == 1


def test_lost_create_answer_and_failed_read_back_says_unknown():
    fake = FakeUsp()
    fake.failures["create"] = UncertainCreate(StreamingError("request failed: no answer within 30s"))
    # The first read answers; the read-back after the lost create fails.
    fake.before["create"] = lambda usp: usp.failures.setdefault("read_manifest", StreamingError("could not read publishing point ch1"))
    with pytest.raises(StreamingError, match="whether publishing point ch1 was created is unknown") as info:
        run(ensure_publishing_point, point_params(), fake)
    assert "reading the point back failed too (could not read publishing point ch1)" in str(info.value)


def test_a_point_that_keeps_changing_fails_after_max_rounds():
    fake = FakeUsp()
    # Every create is answered 409, every read finds nothing: another client creates and deletes it each time.
    fake.before["create"] = lambda usp: usp.points.setdefault("ch1", manifest())
    fake.before["read_manifest"] = lambda usp: usp.points.pop("ch1", None)
    with pytest.raises(StreamingError, match=rf"kept changing while this task worked on it: in {MAX_ROUNDS} rounds") as info:
        run(ensure_publishing_point, point_params(), fake)
    assert "this task changed nothing" in str(info.value)
    assert fake.names().count("create") == MAX_ROUNDS


# -- usp_publishing_point: absent -----------------------------------------------


def test_delete_with_diff():
    current = manifest({"archiving": "true"})
    fake = FakeUsp(points={"ch1": current})
    result, warnings = run(ensure_publishing_point, point_params(state="absent"), fake, diff_mode=True)
    url = f"{API}/ch1/ch1.isml"
    assert result == {
        "url": url,
        "settings": {},
        "manifest": None,
        "changed": True,
        "diff": {"before": canonical_manifest(current), "after": "", "before_header": url, "after_header": url},
    }
    assert fake.names() == ["read_manifest", "delete"]
    assert warnings == []


def test_absent_point_is_unchanged():
    fake = FakeUsp()
    result, _context = run(ensure_publishing_point, point_params(state="absent"), fake, diff_mode=True)
    assert result == {"url": f"{API}/ch1/ch1.isml", "settings": {}, "manifest": None, "changed": False}


def test_delete_answered_404_is_no_change_with_a_warning():
    fake = FakeUsp(points={"ch1": manifest()})
    fake.before["delete"] = lambda usp: usp.points.pop("ch1")
    result, warnings = run(ensure_publishing_point, point_params(state="absent"), fake, diff_mode=True)
    assert result["changed"] is False and "diff" not in result
    assert warnings == ["publishing point ch1 was deleted by another client between this task's read and its delete; this task deleted nothing"]


def test_repeated_delete_answered_404_is_a_change_with_a_warning():
    fake = FakeUsp(points={"ch1": manifest()})
    fake.delete = lambda point: fake.points.pop(point.directory) and "repeated"
    result, warnings = run(ensure_publishing_point, point_params(state="absent"), fake)
    assert result["changed"] is True
    assert "the first request most likely deleted it, so this task reports a change" in warnings[0]


def test_delete_outside_check_and_diff_mode_is_one_request():
    fake = FakeUsp(points={"ch1": manifest()})
    result, warnings = run(ensure_publishing_point, point_params(state="absent"), fake)
    assert result == {"url": f"{API}/ch1/ch1.isml", "settings": {}, "manifest": None, "changed": True}
    assert fake.names() == ["delete"]
    assert warnings == []


def test_delete_of_a_missing_point_is_one_request_unchanged_without_a_warning():
    fake = FakeUsp()
    result, warnings = run(ensure_publishing_point, point_params(state="absent"), fake)
    assert result == {"url": f"{API}/ch1/ch1.isml", "settings": {}, "manifest": None, "changed": False}
    assert fake.names() == ["delete"]
    assert warnings == []


@pytest.mark.parametrize(("check_mode", "diff_mode"), [(True, False), (False, True), (True, True)], ids=["check", "diff", "check-diff"])
def test_check_and_diff_mode_read_before_the_delete(check_mode, diff_mode):
    fake = FakeUsp(points={"ch1": manifest()})
    result, _warnings = run(ensure_publishing_point, point_params(state="absent"), fake, check_mode=check_mode, diff_mode=diff_mode)
    assert result["changed"] is True
    assert fake.names()[0] == "read_manifest"
    assert ("delete" in fake.names()) is not check_mode
    assert ("diff" in result) is diff_mode


# -- usp_publishing_point: backup_path ------------------------------------------


def test_backup_is_written_before_the_delete_with_private_modes(tmp_path):
    current = manifest({"archiving": "true"}, TRACK)
    backup = tmp_path / "saved" / "api.test" / "ch1" / "ch1.isml"
    fake = FakeUsp(points={"ch1": current})
    seen_at_delete = []
    fake.before["delete"] = lambda usp: seen_at_delete.append(backup.read_text())
    result, warnings = run(ensure_publishing_point, point_params(state="absent", backup_path=str(backup)), fake)
    assert fake.names() == ["read_manifest", "delete"]
    assert seen_at_delete == [current]
    assert result["backup_file"] == str(backup) and result["changed"] is True
    assert backup.stat().st_mode & 0o777 == 0o600
    for directory in (tmp_path / "saved", tmp_path / "saved" / "api.test", backup.parent):
        assert directory.stat().st_mode & 0o777 == 0o700
    assert [path.name for path in backup.parent.iterdir()] == ["ch1.isml"]  # no temporary file left
    assert warnings == []


def test_backup_is_replaced_whole(tmp_path):
    backup = tmp_path / "ch1.isml"
    backup.write_text("an older, longer manifest " * 100)
    current = manifest({"archiving": "true"})
    run(ensure_publishing_point, point_params(state="absent", backup_path=str(backup)), FakeUsp(points={"ch1": current}))
    assert backup.read_text() == current


def test_backup_of_a_missing_point_writes_nothing(tmp_path):
    backup = tmp_path / "saved" / "ch1.isml"
    fake = FakeUsp()
    result, _warnings = run(ensure_publishing_point, point_params(state="absent", backup_path=str(backup)), fake)
    assert result["changed"] is False and "backup_file" not in result
    assert fake.names() == ["read_manifest"]
    assert not (tmp_path / "saved").exists()


def test_backup_is_not_written_in_check_mode(tmp_path):
    backup = tmp_path / "saved" / "ch1.isml"
    fake = FakeUsp(points={"ch1": manifest()})
    result, _warnings = run(ensure_publishing_point, point_params(state="absent", backup_path=str(backup)), fake, check_mode=True)
    assert result["changed"] is True and "backup_file" not in result
    assert not (tmp_path / "saved").exists()


def test_backup_that_cannot_be_written_deletes_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fake = FakeUsp(points={"ch1": manifest()})
    with pytest.raises(StreamingError, match=r"could not save the manifest of publishing point ch1 to .*; nothing was deleted"):
        run(ensure_publishing_point, point_params(state="absent", backup_path=str(blocker / "ch1.isml")), fake)
    assert "delete" not in fake.names() and "ch1" in fake.points


@pytest.mark.parametrize("exists", [True, False], ids=["unchanged", "created"])
def test_present_removes_the_backup_once_the_point_exists(tmp_path, exists):
    backup = tmp_path / "ch1.isml"
    text = manifest({"archiving": "true"})
    backup.write_text(text)
    fake = FakeUsp(points={"ch1": text} if exists else {})
    result, warnings = run(ensure_publishing_point, point_params(src=str(backup), backup_path=str(backup)), fake)
    assert fake.points["ch1"] == text and result["changed"] is not exists
    assert not backup.exists()
    assert warnings == []


def test_present_keeps_the_backup_in_check_mode_and_when_the_create_fails(tmp_path):
    backup = tmp_path / "ch1.isml"
    backup.write_text(manifest())
    run(ensure_publishing_point, point_params(backup_path=str(backup)), FakeUsp(), check_mode=True)
    assert backup.exists()
    fake = FakeUsp()
    fake.failures["create"] = StreamingError("the server failed to create the resources of ch1")
    with pytest.raises(StreamingError):
        run(ensure_publishing_point, point_params(backup_path=str(backup)), fake)
    assert backup.exists()


def test_present_without_a_backup_file_says_nothing(tmp_path):
    result, warnings = run(ensure_publishing_point, point_params(backup_path=str(tmp_path / "none.isml")), FakeUsp())
    assert result["changed"] is True and warnings == []


@pytest.mark.parametrize("state", ["started", "stopping"])
def test_check_mode_predicts_a_refused_delete(state):
    fake = FakeUsp(points={"ch1": manifest()}, states={"ch1": state})
    with pytest.raises(StreamingError, match=f"publishing point ch1 is {state}: the delete would be refused") as info:
        run(ensure_publishing_point, point_params(state="absent", origin_url=ORIGIN), fake, check_mode=True)
    assert info.value.details == {"publishing_point_state": state}
    assert "delete" not in fake.names()


def test_publishing_point_spec_refuses_two_sources():
    message = refusal(args.PUBLISHING_POINT_MODULE_KWARGS, {"name": "ch1", "options": {}, "manifest": "x"})
    assert "mutually exclusive: options|manifest|src" in message


# -- usp_publishing_point_info --------------------------------------------------


def test_info_settings_and_manifest_share_one_read():
    text = manifest({"archiving": "true"})
    fake = FakeUsp(points={"ch1": text})
    result, _context = run(read_publishing_point_info, info_params(api_url=API, gather=["settings", "manifest"]), fake)
    point = result["publishing_point"]
    assert point["manifest"] == text
    assert point["settings"] == {"archiving": "true"}
    assert point["exists"] is True
    assert point["deletable"] is None and point["state"] is None
    assert fake.names() == ["read_manifest"]
    assert result["changed"] is False and result["waited"] == 0


def test_info_manifest_alone():
    text = manifest({"archiving": "true"})
    fake = FakeUsp(points={"ch1": text})
    point = run(read_publishing_point_info, info_params(api_url=API, gather=["manifest"]), fake)[0]["publishing_point"]
    assert point["manifest"] == text and point["settings"] is None and point["exists"] is True


def test_info_default_gather_has_no_manifest_and_says_deletable():
    fake = FakeUsp(points={"ch1": manifest({"archiving": "true"})}, states={"ch1": "started"})
    result, _context = run(read_publishing_point_info, info_params(api_url=API, origin_url=ORIGIN), fake)
    point = result["publishing_point"]
    assert point["manifest"] is None
    assert point["state"] == "started" and point["deletable"] is False
    assert point["tracks"] == [] and point["archive"] == []
    assert fake.names() == ["read_manifest", "read_state", "read_statistics", "read_archive"]
    assert list(point) == ["exists", "url", "settings", "manifest", "state", "updated", "deletable", "tracks", "archive"]


@pytest.mark.parametrize("state", ["idle", "starting", "started", "stopping", "stopped"])
def test_info_deletable_follows_the_delete_rule(state):
    fake = FakeUsp(points={"ch1": manifest()}, states={"ch1": state})
    point = run(read_publishing_point_info, info_params(origin_url=ORIGIN, gather=["state"]), fake)[0]["publishing_point"]
    assert point["deletable"] is (state in DELETABLE_STATES)
    assert point["deletable"] is (state in ("idle", "starting", "stopped"))


def test_info_missing_point():
    fake = FakeUsp()
    result, _context = run(read_publishing_point_info, info_params(api_url=API, origin_url=ORIGIN, gather=["settings", "manifest", "state", "archive"]), fake)
    point = result["publishing_point"]
    assert point["exists"] is False
    assert point["manifest"] is None and point["settings"] == {} and point["state"] is None and point["deletable"] is None
    assert point["archive"] == []
    assert point["url"] == f"{API}/ch1/ch1.isml"


def test_info_wait_for_sets_state_and_deletable():
    fake = FakeUsp(points={"ch1": manifest()}, states={"ch1": "starting"})
    states = iter(["started", "stopping", "stopped"])

    def advance(usp):
        usp.states["ch1"] = next(states, "stopped")

    fake.before["read_state"] = advance
    result, _context = run(read_publishing_point_info, info_params(origin_url=ORIGIN, gather=["archive"], wait_for=["stopped"], wait_interval=0.01), fake)
    point = result["publishing_point"]
    assert point["state"] == "stopped" and point["deletable"] is True and point["exists"] is True
    assert point["url"] == f"{ORIGIN}/ch1/ch1.isml"
    assert fake.names().count("read_state") == 3


def test_info_wait_for_times_out():
    fake = FakeUsp(points={"ch1": manifest()}, states={"ch1": "started"})
    with pytest.raises(StreamingError, match=r"did not reach stopped or idle within 0.05s \(last state: started\)"):
        run(read_publishing_point_info, info_params(origin_url=ORIGIN, wait_for=["stopped", "idle"], wait_timeout=0.05, wait_interval=0.01), fake)


def test_info_spec_needs_one_url():
    assert "one of the following is required: api_url, origin_url" in refusal(args.INFO_MODULE_KWARGS, {"name": "ch1"})
    assert "value of gather must be one or more of" in refusal(args.INFO_MODULE_KWARGS, {"name": "ch1", "api_url": API, "gather": ["everything"]})


# -- usp_archive_purge ----------------------------------------------------------

ARCHIVE = [
    {
        "src": "ch1-video.ismv",
        "type": "video",
        "track_id": 1,
        "track_name": "video",
        "ranges": [{"start": "2026-11-23T10:00:00.000000Z", "end": "2026-11-23T10:01:00.000000Z"}],
    }
]
KEPT = [dict(ARCHIVE[0], ranges=[{"start": "2026-11-23T10:00:20.000000Z", "end": "2026-11-23T10:01:00.000000Z"}])]


def test_purge_all_with_diff():
    fake = FakeUsp(points={"ch1": manifest()}, archives={"ch1": ARCHIVE})
    result, warnings = run(purge_archive, purge_params(all=True), fake, diff_mode=True)
    url = f"{ORIGIN}/ch1/ch1.isml"
    assert result == {
        "url": url,
        "t": "0",
        "archive_before": ARCHIVE,
        "archive_after": [],
        "changed": True,
        "diff": {"before": {"archive": ARCHIVE}, "after": {"archive": []}, "before_header": url, "after_header": url},
    }
    assert fake.names() == ["read_archive", "purge", "read_archive"]
    assert fake.calls[1] == ("purge", "ch1", "0")
    assert warnings == []


def test_purge_all_warns_when_media_remains():
    fake = FakeUsp(points={"ch1": manifest()}, archives={"ch1": ARCHIVE}, archive_after_purge=KEPT)
    result, warnings = run(purge_archive, purge_params(all=True), fake)
    assert result["archive_after"] == KEPT
    assert warnings == [
        "the archive of ch1 is not empty after a complete purge: an encoder is probably still ingesting; stop it first if the archive must be empty"
    ]


def test_purge_check_mode_predicts_and_diffs_the_prediction():
    fake = FakeUsp(points={"ch1": manifest()}, archives={"ch1": ARCHIVE})
    result, _context = run(purge_archive, purge_params(keep="00:00:40"), fake, check_mode=True, diff_mode=True)
    assert result["changed"] is True and result["t"] == "00:00:40"
    assert result["archive_after"] == KEPT
    assert result["diff"]["before"] == {"archive": ARCHIVE}
    assert result["diff"]["after"] == {"archive": KEPT}
    assert fake.names() == ["read_archive"]


def test_purge_outside_the_archive_is_no_change_without_diff():
    fake = FakeUsp(points={"ch1": manifest()}, archives={"ch1": ARCHIVE})
    result, _context = run(purge_archive, purge_params(start="01:00:00", end="02:00:00"), fake, diff_mode=True)
    assert result["changed"] is False and "diff" not in result
    assert result["archive_after"] == ARCHIVE
    assert fake.names() == ["read_archive"]


def test_purge_missing_point_warns():
    fake = FakeUsp()
    result, warnings = run(purge_archive, purge_params(all=True), fake, diff_mode=True)
    assert result["changed"] is False and result["archive_before"] == [] and "diff" not in result
    assert warnings == ["publishing point ch1 does not exist on the origin; there is nothing to purge"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({}, "one of the following is required: all, keep, start"),
        ({"all": False}, "all is False but any of the following are missing: keep, start"),
        ({"all": True, "keep": "00:10:00"}, "parameters are mutually exclusive: all|keep|start"),
        ({"keep": "00:10:00", "start": "00:00:00", "end": "00:01:00"}, "parameters are mutually exclusive: all|keep|start"),
        ({"start": "00:00:00"}, "parameters are required together: start, end"),
    ],
)
def test_purge_spec_wants_exactly_one_window(raw, fragment):
    assert fragment in refusal(args.ARCHIVE_PURGE_MODULE_KWARGS, {"origin_url": ORIGIN, "name": "ch1", **raw})
