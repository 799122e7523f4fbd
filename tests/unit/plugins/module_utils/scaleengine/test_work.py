# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The work functions of the four modules, with a fake client and an ExecutionContext; inputs validated with each module's own spec."""

from __future__ import annotations

import re

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.command import run_command
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.names import check_name
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.pushpublish import disconnect_pushpublish
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.stream import close_stream
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.viewer import viewer_info
from tests.unit.plugins.module_utils.scaleengine.fakes import (
    FakeClient,
    command_params,
    make_client,
    nested,
    pushpublish_params,
    stream_params,
    viewer_params,
)

LIVE = {"app": "demo-origin", "inst": "live", "stream": "my_live_stream", "stream_id": 1000}
SESSIONS = [
    {"entry_name": "session_1", "push_service_id": 1234, "connected": True},
    {"entry_name": "cupertino-akamai", "push_service_id": 1235},
    {"entry_name": "old", "push_service_id": 1236, "status": "stopped"},
]
SUCCESS = {"status": "success", "message": "done"}
NOT_LIVE = {"status": "failure", "message": "Stream demo-origin/live/my_live_stream is not live"}
NO_SESSION = {"status": "failure", "message": "No matching PushPublish session"}


# -- input refused before any request ----------------------------------------------------


def test_run_command_refuses_huge_or_deep_params_in_check_mode_too():
    base = dict(command="recording.start", changed=True, read_only=False)
    check = ExecutionContext(check_mode=True)
    with pytest.raises(StreamingError, match="too large to send"):
        run_command(command_params(**base, params={"note": "x" * (1024 * 1024 + 1)}), check, client=object())
    with pytest.raises(StreamingError, match=r"params\.deep"):
        run_command(command_params(**base, params={"deep": nested(40)}), check, client=object())
    # Escapes make the encoded text longer than the raw one: the exact size is checked too.
    with pytest.raises(StreamingError, match=r"params would be [0-9.]+ MiB once encoded"):
        run_command(command_params(**base, params={"note": "\U0001f600" * 100000}), check, client=object())
    # The spec's type=dict refuses a list for the module; a caller that does not validate gets the work's own sentence.
    with pytest.raises(StreamingError, match="params must be an object"):
        run_command(dict(command_params(**base), params=["a"]), check, client=object())
    with pytest.raises(StreamingError, match="command must look like"):
        run_command(command_params(**dict(base, command="stream.\u212aill"), params={}), check, client=object())


@pytest.mark.parametrize(
    ("option", "value", "shown"),
    [
        ("stream", "live\n", 'stream "live\\u000a" contains the control character U+000A at position 5'),
        ("app", "\x00demo", "U+0000 at position 1"),
        ("inst", "li\tve", "U+0009 at position 3"),
        ("entry_name", "\x1b[31m", "U+001B"),
        ("origin_url", "host\x7f", "U+007F"),
        ("url", ["ok", "bad\x85"], "U+0085"),
    ],
)
def test_names_with_control_characters_are_refused(option, value, shown):
    with pytest.raises(StreamingError, match=re.escape(shown)) as caught:
        check_name(value, option)
    assert "Remove it" in str(caught.value)


def test_names_without_control_characters_pass():
    for value in ("caf\u00e9/\U0001f600 <live>", 42, None, ["a", 1], "sestore3/x/y.mp4|mystream_*"):
        assert check_name(value, "stream") == value


def test_work_functions_check_names_before_any_request():
    context = ExecutionContext()
    with pytest.raises(StreamingError, match="U\\+000A"):
        close_stream(stream_params(app="demo-origin", inst="live", stream="my_live_stream\n"), context, client=object())
    with pytest.raises(StreamingError, match="U\\+000D"):
        disconnect_pushpublish(pushpublish_params(app="demo-origin", inst="live", entry_name="a\rb"), context, client=object())
    with pytest.raises(StreamingError, match="not a list"):
        viewer_info(viewer_params(app=[["demo-origin"]]), context, client=object())
    with pytest.raises(StreamingError, match="U\\+0000"):
        viewer_info(viewer_params(app="demo-origin", url=["a", "\x00"]), context, client=object())
    with pytest.raises(StreamingError, match="U\\+000A"):
        run_command(command_params(command="stream.close", params={"stream": "s\n"}, changed=True), context, client=object())


@pytest.mark.parametrize(("app", "url"), [([], None), (True, None), (1.5, None), ("a", []), ("a", 5)])
def test_viewer_info_validates_app_and_url(app, url):
    with pytest.raises(StreamingError):
        viewer_info(viewer_params(app=app, url=url), ExecutionContext(), client=object())


def test_empty_names_the_spec_lets_through_are_refused():
    with pytest.raises(StreamingError, match="app and inst are required to find the stream"):
        close_stream(stream_params(app="", inst="live", stream="s"), ExecutionContext(), client=object())
    with pytest.raises(StreamingError, match="give exactly one of stream and stream_id"):
        close_stream(stream_params(app="a", inst="live", stream=""), ExecutionContext(), client=object())
    with pytest.raises(StreamingError, match="give push_service_id, or app, inst and entry_name"):
        disconnect_pushpublish(pushpublish_params(app="a", inst="live", entry_name=""), ExecutionContext(), client=object())


@pytest.mark.parametrize(
    ("build", "raw", "says"),
    [
        (stream_params, dict(app="a", inst="b", stream="s", stream_id=1), "mutually exclusive: stream|stream_id"),
        (stream_params, dict(app="a", inst="b"), "one of the following is required: stream, stream_id"),
        (pushpublish_params, dict(app="a", inst="b"), "one of the following is required: push_service_id, entry_name"),
        (pushpublish_params, dict(entry_name="x"), "missing parameter(s) required by 'entry_name': app, inst"),
        (pushpublish_params, dict(push_service_id=1, app="a"), "parameters are required together: app, inst"),
    ],
)
def test_the_specs_hold_the_constraints(build, raw, says):
    with pytest.raises(AssertionError, match=re.escape(says)):
        build(**raw)


# -- scaleengine_stream ----------------------------------------------------------------------


def test_close_stream_closes_a_live_stream_with_a_diff():
    client = FakeClient({"stream.details": {"status": "success", "data": LIVE}, "stream.close": SUCCESS})
    context = ExecutionContext(diff_mode=True)
    result = run_work(close_stream, stream_params(app="demo-origin", inst="live", stream="my_live_stream"), context, client=client)
    assert result == {
        "changed": True,
        "stream": LIVE,
        "message": "done",
        "diff": {
            "before": {"live": True},
            "after": {"live": False},
            "before_header": "demo-origin/live/my_live_stream",
            "after_header": "demo-origin/live/my_live_stream",
        },
    }
    assert client.sent == [
        ("stream.details", {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"}, True),
        ("stream.close", {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"}, True),
    ]


def test_close_stream_not_live_sends_no_close():
    client = FakeClient({"stream.details": NOT_LIVE})
    result = run_work(close_stream, stream_params(app="demo-origin", inst="live", stream="my_live_stream"), ExecutionContext(diff_mode=True), client=client)
    assert result == {"changed": False, "stream": None, "message": "demo-origin/live/my_live_stream is not live; nothing to close"}
    assert client.commands() == ["stream.details"]


def test_close_stream_check_mode_predicts_the_close_and_its_diff():
    client = FakeClient({"stream.details": {"status": "success", "data": [LIVE]}})
    context = ExecutionContext(check_mode=True, diff_mode=True)
    result = run_work(close_stream, stream_params(app="demo-origin", inst="live", stream="my_live_stream", origin_url="o.example"), context, client=client)
    assert result["changed"] is True and result["stream"] == LIVE
    assert result["message"] == "demo-origin/live/my_live_stream is live and would be closed (check mode)"
    assert (result["diff"]["before"], result["diff"]["after"]) == ({"live": True}, {"live": False})
    assert client.sent == [("stream.details", {"app": "demo-origin", "inst": "live", "stream": "my_live_stream", "origin_url": "o.example"}, True)]


def test_close_stream_by_id_closes_by_the_id_alone():
    client = FakeClient(
        {"stream.active": {"status": "success", "data": [{"stream": "other", "stream_id": 7}, dict(LIVE, stream_id="1000")]}, "stream.close": SUCCESS}
    )
    result = run_work(close_stream, stream_params(app="demo-origin", inst="live", stream_id=1000, origin_url="o.example"), ExecutionContext(), client=client)
    assert result["changed"] is True and result["stream"]["stream"] == "my_live_stream"
    assert client.sent[1] == ("stream.close", {"stream_id": 1000, "origin_url": "o.example"}, True)


def test_close_stream_by_id_not_among_the_active_streams():
    client = FakeClient({"stream.active": {"status": "success", "data": [{"stream": "other", "stream_id": 7}]}})
    result = run_work(close_stream, stream_params(app="demo-origin", inst="live", stream_id=1000), ExecutionContext(), client=client)
    assert result == {"changed": False, "stream": None, "message": "demo-origin/live/stream_id 1000 is not live; nothing to close"}


def test_a_stream_that_stopped_before_the_close_is_unchanged():
    client = FakeClient({"stream.details": {"status": "success", "data": LIVE}, "stream.close": NOT_LIVE})
    result = run_work(close_stream, stream_params(app="demo-origin", inst="live", stream="my_live_stream"), ExecutionContext(diff_mode=True), client=client)
    assert result == {"changed": False, "stream": LIVE, "message": "Stream demo-origin/live/my_live_stream is not live"}


@pytest.mark.parametrize("failing", ["stream.details", "stream.close"])
def test_close_stream_failures_carry_the_api_code(failing):
    answers = {"stream.details": {"status": "success", "data": LIVE}, "stream.close": SUCCESS}
    answers[failing] = {"status": "failure", "code": "0005", "message": "Unauthorized access"}
    with pytest.raises(StreamingError, match=rf"ScaleEngine {re.escape(failing)} failed: Unauthorized access \(code 0005\)"):
        close_stream(stream_params(app="demo-origin", inst="live", stream="my_live_stream"), ExecutionContext(), client=FakeClient(answers))


def test_close_stream_refuses_data_that_are_no_records():
    client = FakeClient({"stream.details": {"status": "success", "data": "live"}})
    with pytest.raises(StreamingError, match=re.escape('ScaleEngine stream.details: the answer cannot be used: "data" is the string "live"')):
        close_stream(stream_params(app="demo-origin", inst="live", stream="my_live_stream"), ExecutionContext(), client=client)


# -- scaleengine_pushpublish ---------------------------------------------------------------------


def _active(sessions=None):
    return {"status": "success", "data": [dict(LIVE, pushpublish=SESSIONS if sessions is None else sessions)]}


def test_pushpublish_disconnects_the_matching_connected_session_with_a_diff():
    client = FakeClient({"stream.active": _active(), "pushpublish.disconnect": {"status": "success", "message": "session_1 disconnected"}})
    context = ExecutionContext(diff_mode=True)
    result = run_work(disconnect_pushpublish, pushpublish_params(app="demo-origin", inst="live", entry_name="session_1"), context, client=client)
    first = {"entry_name": "session_1", "push_service_id": 1234, "stream": "my_live_stream"}
    second = {"entry_name": "cupertino-akamai", "push_service_id": 1235, "stream": "my_live_stream"}
    assert result == {
        "changed": True,
        "verified": True,
        "sessions_disconnected": [first],
        "message": "session_1 disconnected",
        "diff": {
            "before": {"sessions_connected": [first, second]},
            "after": {"sessions_connected": [second]},
            "before_header": "PushPublish sessions of demo-origin/live",
            "after_header": "PushPublish sessions of demo-origin/live",
        },
    }
    assert client.sent[1] == ("pushpublish.disconnect", {"app": "demo-origin", "inst": "live", "entry_name": "session_1"}, True)


def test_pushpublish_with_nothing_connected_sends_no_disconnect():
    client = FakeClient({"stream.active": _active([{"entry_name": "session_1", "connected": False}])})
    result = run_work(
        disconnect_pushpublish, pushpublish_params(app="demo-origin", inst="live", entry_name="*"), ExecutionContext(diff_mode=True), client=client
    )
    assert result == {"changed": False, "verified": True, "sessions_disconnected": [], "message": "no matching PushPublish session is connected"}
    assert client.commands() == ["stream.active"]


def test_pushpublish_star_of_one_stream_in_check_mode_lists_all_and_sends_nothing():
    client = FakeClient({"stream.details": {"status": "success", "data": dict(LIVE, pushpublish=SESSIONS)}})
    context = ExecutionContext(check_mode=True, diff_mode=True)
    params = pushpublish_params(app="demo-origin", inst="live", stream="my_live_stream", entry_name="*")
    result = run_work(disconnect_pushpublish, params, context, client=client)
    assert result["changed"] is True and result["message"] == "would disconnect (check mode)"
    assert [item["entry_name"] for item in result["sessions_disconnected"]] == ["session_1", "cupertino-akamai"]
    assert result["diff"]["after"] == {"sessions_connected": []}
    assert result["diff"]["before_header"] == "PushPublish sessions of demo-origin/live/my_live_stream"
    assert client.commands() == ["stream.details"]


def test_pushpublish_by_service_id_alone_is_sent_unverified():
    client = FakeClient({"pushpublish.disconnect": {"status": "success", "message": "disconnected"}})
    context = ExecutionContext(diff_mode=True)
    result = run_work(disconnect_pushpublish, pushpublish_params(push_service_id=1234, origin_url="o.example"), context, client=client)
    asked = {"entry_name": None, "push_service_id": 1234, "stream": None}
    assert result["changed"] is True and result["verified"] is False and result["sessions_disconnected"] == [asked]
    assert result["diff"]["before"] == {"sessions_connected": [asked]} and result["diff"]["after"] == {"sessions_connected": []}
    assert result["diff"]["before_header"] == "PushPublish sessions of push_service_id 1234"
    assert client.sent == [("pushpublish.disconnect", {"push_service_id": 1234, "origin_url": "o.example"}, True)]


def test_pushpublish_service_id_filters_the_listed_sessions():
    client = FakeClient({"stream.active": _active(), "pushpublish.disconnect": SUCCESS})
    params = pushpublish_params(push_service_id=1235, app="demo-origin", inst="live")
    result = run_work(disconnect_pushpublish, params, ExecutionContext(), client=client)
    assert [item["entry_name"] for item in result["sessions_disconnected"]] == ["cupertino-akamai"]
    assert client.sent[1] == ("pushpublish.disconnect", {"push_service_id": 1235, "app": "demo-origin", "inst": "live"}, True)


def test_pushpublish_a_disconnect_that_finds_nothing_is_unchanged():
    client = FakeClient({"pushpublish.disconnect": NO_SESSION})
    result = run_work(disconnect_pushpublish, pushpublish_params(push_service_id=1234), ExecutionContext(diff_mode=True), client=client)
    assert result == {"changed": False, "verified": False, "sessions_disconnected": [], "message": "No matching PushPublish session"}


def test_pushpublish_sessions_of_an_odd_shape_name_the_read_command():
    client = FakeClient({"stream.active": _active("session_1")})
    with pytest.raises(StreamingError, match=re.escape('ScaleEngine stream.active: the answer cannot be used: the "pushpublish" of stream "my_live_stream"')):
        disconnect_pushpublish(pushpublish_params(app="demo-origin", inst="live", entry_name="*"), ExecutionContext(), client=client)


def test_pushpublish_no_live_stream_means_no_session():
    client = FakeClient({"stream.active": {"status": "failure", "message": "No active streams"}})
    result = run_work(disconnect_pushpublish, pushpublish_params(app="demo-origin", inst="live", entry_name="*"), ExecutionContext(), client=client)
    assert result["changed"] is False and result["verified"] is True


# -- scaleengine_viewer_info -----------------------------------------------------------------------


def test_viewer_info_returns_the_records_as_sent():
    records = [{"app": "demo-origin", "video_url": "s", "viewer_count_sum": 3}]
    client = FakeClient({"viewer.live": {"status": "success", "message": "Found live viewers", "data": records}})
    result = run_work(viewer_info, viewer_params(app=["demo-origin", 2], url=["a_*", "b"]), ExecutionContext(check_mode=True), client=client)
    assert result == {"changed": False, "viewers": records, "message": "Found live viewers"}
    assert client.sent == [("viewer.live", {"app": ["demo-origin", 2], "url": ["a_*", "b"]}, True)]


BROKEN_ANSWERS = [
    (b"<html>Maintenance</html>", "the answer is not a JSON object the module can read: it is not valid JSON"),
    ({"status": 5}, 'the answer cannot be used: its "status" is the number 5'),
    ({"status": "failure", "code": [4]}, 'the answer cannot be used: its "code" is a list'),
]


@pytest.mark.parametrize(("body", "says"), [*BROKEN_ANSWERS, ({"status": "success", "data": "x"}, 'the answer cannot be used: "data" is the string "x"')])
def test_broken_answers_to_a_read_say_what_is_wrong(tmp_path, body, says):
    client, _http, _clock = make_client(body, tmp_path=tmp_path)
    with pytest.raises(StreamingError) as caught:
        viewer_info(viewer_params(app="a"), ExecutionContext(), client=client)
    text = str(caught.value)
    assert says in text and "ScaleEngine viewer.live" in text and "api_url" in text
    assert "may have taken effect" not in text


# -- scaleengine_command ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "read_only", "repeatable"),
    [("recording.start", False, False), ("recording.status", True, True), ("stream.close", False, True), ("stream.details", False, True)],
)
def test_run_command_repeats_read_only_and_known_commands(tmp_path, command, read_only, repeatable):
    client, http, _clock = make_client({"status": "success"}, tmp_path=tmp_path)
    params = command_params(command=command, params={"app": "a"}, changed=False, read_only=read_only)
    run_command(params, ExecutionContext(), client=client)
    assert http.repeatable == [repeatable]


def test_run_command_read_only_is_sent_in_check_mode_and_never_changed():
    client = FakeClient({"stream.active": {"status": "success", "data": [LIVE]}})
    context = ExecutionContext(check_mode=True, diff_mode=True)
    result = run_work(
        run_command, command_params(command="stream.active", params={"app": "demo-origin", "inst": "live"}, read_only=True), context, client=client
    )
    assert result == {"changed": False, "sent": True, "response": {"status": "success", "data": [LIVE]}}
    assert client.sent == [("stream.active", {"app": "demo-origin", "inst": "live"}, True)]


def test_run_command_declared_change_is_sent_with_a_diff():
    client = FakeClient({"recording.start": SUCCESS})
    context = ExecutionContext(diff_mode=True)
    result = run_work(run_command, command_params(command="recording.start", params={"app": "demo-origin/live"}, changed=True), context, client=client)
    assert result == {
        "changed": True,
        "sent": True,
        "response": SUCCESS,
        "diff": {
            "before": {"command": "recording.start", "sent": False},
            "after": {"command": "recording.start", "sent": True},
            "before_header": "recording.start",
            "after_header": "recording.start",
        },
    }
    assert client.sent == [("recording.start", {"app": "demo-origin/live"}, False)]


def test_run_command_declared_unchanged_is_sent_and_unchanged():
    client = FakeClient({"stream.close": SUCCESS})
    result = run_work(run_command, command_params(command="stream.close", params={"stream_id": 1000}), ExecutionContext(diff_mode=True), client=client)
    assert result == {"changed": False, "sent": True, "response": SUCCESS}


@pytest.mark.parametrize("changed", [True, False])
def test_run_command_check_mode_sends_nothing_and_makes_no_client(changed):
    context = ExecutionContext(check_mode=True, diff_mode=True)
    result = run_work(run_command, command_params(command="stream.close", params={"stream_id": 1000}, changed=changed), context, client=object())
    assert (result["changed"], result["sent"], result["response"]) == (changed, False, None)
    assert ("diff" in result) is changed


def test_run_command_refusals():
    context = ExecutionContext()
    with pytest.raises(StreamingError, match="contradicts"):
        run_command(command_params(command="stream.active", read_only=True, changed=True), context, client=object())
    with pytest.raises(StreamingError, match="api_key"):
        run_command(command_params(command="stream.active", params={"api_key": "x"}), context, client=object())
    with pytest.raises(StreamingError, match="command must look like"):
        run_command(command_params(command="stream close"), context, client=object())
    with pytest.raises(StreamingError, match="code 0000"):
        run_command(
            command_params(command="stream.bogus", changed=True),
            context,
            client=FakeClient({"stream.bogus": {"status": "failure", "code": "0000", "message": "Unrecognized command"}}),
        )
