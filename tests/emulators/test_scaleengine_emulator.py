# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ScaleEngine client and work functions against the in-process emulator (tests/emulators/scaleengine.py), over real HTTP.

Every client here keeps its timestamp ledger in the test's tmp_path.
"""

from __future__ import annotations

import pytest
import requests

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import ScaleEngineClient
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.command import run_command
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.ledger import TimestampLedger
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.pushpublish import disconnect_pushpublish
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.signing import build_request, signed_body
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.stream import close_stream
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.viewer import viewer_info
from tests.emulators.scaleengine import ScaleEngineEmulator
from tests.unit.plugins.module_utils.scaleengine.fakes import API_KEY, CDN, PARAMS, SECRET, FakeClock


@pytest.fixture
def api(tmp_path):
    emulator = ScaleEngineEmulator().start()
    params = dict(PARAMS, api_url=emulator.url() + "/stable/", timeout=5, validate_certs=True, ca_path=None)
    emulator.params = params
    emulator.ledger_path = str(tmp_path / "ledger.json")
    yield emulator
    emulator.stop()


def work_client(api, params=None, context=None, **kwargs):
    """A real client for the emulator, its ledger in the test's tmp_path."""
    kwargs.setdefault("ledger", TimestampLedger(path=api.ledger_path))
    return ScaleEngineClient(params or api.params, context or ExecutionContext(), **kwargs)


def stream_params(api, **overrides):
    params = dict(api.params, app="demo-origin", inst="live", stream="my_live_stream", stream_id=None, origin_url=None)
    params.update(overrides)
    return params


def test_messages_of_any_type_reach_the_result(api):
    api.add_fault(kind="status", method="POST", match='"command":"stream.close"', status=200, body='{"status":"success","message":{"closed":["s"]}}')
    result = run_work(close_stream, stream_params(api), ExecutionContext(), client=work_client(api))
    assert result["changed"] is True and result["message"] == '{"closed":["s"]}'


def test_close_stream_closes_then_reports_unchanged(api):
    client = work_client(api)
    result = run_work(close_stream, stream_params(api), ExecutionContext(), client=client)
    assert result["changed"] is True and result["stream"]["stream_id"] == 1000
    assert not api.is_live("demo-origin", "live", "my_live_stream")
    again = run_work(close_stream, stream_params(api), ExecutionContext(), client=work_client(api))
    assert again == {"changed": False, "stream": None, "message": "demo-origin/live/my_live_stream is not live; nothing to close"}
    assert [item["command"] for item in api.commands()] == ["stream.details", "stream.close", "stream.details"]


def test_close_stream_check_mode_sends_no_close(api):
    result = run_work(close_stream, stream_params(api), ExecutionContext(check_mode=True), client=work_client(api))
    assert result["changed"] is True
    assert api.is_live("demo-origin", "live", "my_live_stream")
    assert api.commands("stream.close") == []


def test_close_stream_by_id(api):
    params = stream_params(api, stream=None, stream_id=1000)
    result = run_work(close_stream, params, ExecutionContext(), client=work_client(api))
    assert result["changed"] is True
    assert [item["command"] for item in api.commands()] == ["stream.active", "stream.close"]
    assert api.commands("stream.close")[0] == {
        "command": "stream.close",
        "api_key": API_KEY,
        "timestamp": api.commands()[1]["timestamp"],
        "cdn": CDN,
        "stream_id": 1000,
    }


def test_pushpublish_disconnect_is_idempotent(api):
    params = dict(api.params, app="demo-origin", inst="live", stream=None, entry_name="session_1", push_service_id=None, origin_url=None)
    first = run_work(disconnect_pushpublish, params, ExecutionContext(), client=work_client(api))
    assert first["changed"] is True and first["verified"] is True
    assert first["sessions_disconnected"] == [{"entry_name": "session_1", "push_service_id": 1234, "stream": "my_live_stream"}]
    second = run_work(disconnect_pushpublish, params, ExecutionContext(), client=work_client(api))
    assert second["changed"] is False and second["sessions_disconnected"] == []
    assert len(api.commands("pushpublish.disconnect")) == 1


def test_pushpublish_star_in_check_mode_lists_all_and_sends_nothing(api):
    params = dict(api.params, app="demo-origin", inst="live", stream="my_live_stream", entry_name="*", push_service_id=None, origin_url=None)
    result = run_work(disconnect_pushpublish, params, ExecutionContext(check_mode=True), client=work_client(api))
    assert result["changed"] is True
    assert [item["entry_name"] for item in result["sessions_disconnected"]] == ["session_1", "cupertino-akamai"]
    assert api.commands("pushpublish.disconnect") == []


def test_viewer_info_lists_and_wildcards(api):
    params = dict(api.params, app=["demo-origin", 2], url="my_live_stream_*|channel1")
    result = run_work(viewer_info, params, ExecutionContext(), client=work_client(api))
    assert sorted(item["video_url"] for item in result["viewers"]) == ["channel1", "my_live_stream_720p"]
    assert result["changed"] is False


def test_run_command_check_mode_and_read_only(api):
    base = dict(api.params, command="stream.active", params={"app": "demo-origin", "inst": "live"}, changed=False, read_only=False)
    skipped = run_work(run_command, dict(base, changed=True), ExecutionContext(check_mode=True), client=work_client(api))
    assert skipped == {"changed": True, "sent": False, "response": None}
    assert api.commands() == []
    sent = run_work(run_command, dict(base, read_only=True), ExecutionContext(check_mode=True), client=work_client(api))
    assert sent["sent"] is True and sent["changed"] is False and sent["response"]["data"][0]["stream"] == "my_live_stream"
    with pytest.raises(StreamingError, match="contradicts"):
        run_command(dict(base, read_only=True, changed=True), ExecutionContext(), client=work_client(api))
    with pytest.raises(StreamingError, match="api_key"):
        run_command(dict(base, params={"api_key": "x"}), ExecutionContext(), client=work_client(api))
    with pytest.raises(StreamingError, match="command must look like"):
        run_command(dict(base, command="stream close"), ExecutionContext(), client=work_client(api))
    with pytest.raises(StreamingError, match="code 0000"):
        run_command(dict(base, command="stream.bogus", params={}), ExecutionContext(), client=work_client(api))


def test_emulator_rejects_stale_future_and_replayed_requests(api, tmp_path):
    clock = FakeClock(now=api.clock() - 1000)
    stale = work_client(api, clock=clock, sleep=clock.sleep, ledger=TimestampLedger(path=str(tmp_path / "a"), clock=clock))
    with pytest.raises(StreamingError, match="code 0002"):
        stale.call("viewer.live", {"app": "demo-origin"})
    clock.now += 2000
    with pytest.raises(StreamingError, match="code 0002"):
        stale.call("viewer.live", {"app": "demo-origin"})
    # A replay: the same body posted twice (a client without the ledger would do this).
    request = build_request("viewer.live", {"app": "demo-origin"}, API_KEY, CDN, int(api.clock()))
    body = signed_body(request, SECRET)

    answers = [requests.post(api.params["api_url"], data={"json": body}, timeout=5).json() for _attempt in range(2)]
    assert answers[0]["status"] == "success"
    assert answers[1]["status"] == "failure" and answers[1]["code"] == "0005"


def test_emulator_rejects_unknown_key_and_cdn(api):
    for override in ({"api_key": "NOPE"}, {"cdn": 159}):
        with pytest.raises(StreamingError, match="code 0001"):
            work_client(api, dict(api.params, **override)).call("viewer.live", {"app": "demo-origin"})
