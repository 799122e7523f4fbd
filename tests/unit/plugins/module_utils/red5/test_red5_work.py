# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the work of red5_stream_info and red5_stream_registry, with fake clients.

Parameters go through the module's own argument spec first, as in a task.
"""

from __future__ import annotations

import re

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext, run_work
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.answers import Answer
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_info import read_stream_info, wait_until_publishing
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_registry import clear_stream_registry
from tests.unit.plugins.module_utils.red5.fakes import TOKEN, info_params, registry_params


class NoRequests:
    """A client that fails the test if the work gets as far as using it."""

    def __enter__(self):
        raise AssertionError("a request was about to be made")

    def __exit__(self, *exc_info):
        return False


class FakeClient:
    def __init__(self, streams=(), stats=None, deleted=0, api_version="2.0"):
        self.api_version = api_version
        self.streams = list(streams)
        self.stats = list(stats or [])
        self.deleted = deleted
        self.calls = []

    def list_streams(self, stats=False):
        self.calls.append(("list", stats))
        return self.streams

    def read_stream_stats(self, scope, name):
        self.calls.append(("stats", scope, name))
        return self.stats.pop(0)

    def read_stream(self, scope, name, action, **lookup):
        self.calls.append(("read", scope, name, action, lookup))
        return Answer(True, data={"name": name, "scope": "/" + scope, "serverAddress": "10.0.2.20", "region": "eu-west-1"}, status=200)

    def delete_stream_entries(self, include_active=None):
        self.calls.append(("delete", include_active))
        return {"count": self.deleted, "timestamp": 1}

    def close(self):
        self.calls.append(("close",))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


# -- validation before any request ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(name="demo", action="subscribe", strict=True), "strict is not available with Stream Manager API 2.0"),
        (dict(name="demo", action="subscribe", geozone="europe", api_version="3.0"), "geozone is not available with Stream Manager API 3.0"),
        (dict(name="demo", action="subscribe", endpoints=2, api_version="1.0"), "endpoints is not available"),
        (dict(name="demo", region="us-east-1"), "apply to the address lookup"),
        (dict(name="demo", action="subscribe", region="us-east-1", geozone="americas", api_version="4.0"), "mutually exclusive"),
        (dict(action="subscribe"), "need"),
        (dict(wait_for_publishing=True), "wait_for_publishing need"),
        (dict(name="demo", stats=False), "nothing to read"),
        (dict(name="demo", wait_for_publishing=True, wait_timeout=0), "wait_timeout"),
        (dict(name="demo", action="subscribe", endpoints=0, api_version="4.0"), "endpoints must be 1 or more"),
        (dict(name="a/b"), "stream name"),
    ],
)
def test_read_stream_info_refuses_before_any_request(overrides, message):
    with pytest.raises(StreamingError, match=message):
        read_stream_info(info_params(**overrides), ExecutionContext(), client=NoRequests())


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        (dict(name="demo", action="subscribe", region="us-east-1&strict=true"), 'invalid region "us-east-1&strict=true": the character "&"'),
        (dict(name="demo", action="subscribe", api_version="4.0", geozone="eu\n"), "invalid geozone"),
        (dict(name="demo", wait_for_publishing=True, wait_timeout=float("inf")), "wait_timeout must be more than 0 and at most 86400 seconds, not inf"),
        (dict(name="demo", wait_for_publishing=True, wait_timeout=float("nan")), "wait_timeout must be more than 0"),
        (dict(name="demo", wait_for_publishing=True, wait_interval=float("nan")), "wait_interval must be more than 0"),
        (dict(name="demo", wait_for_publishing=True, wait_timeout=86401), "not 86401"),
        (dict(scope="live\t"), "U+0009"),
    ],
)
def test_other_hostile_options_are_refused_before_any_request(overrides, says):
    with pytest.raises(StreamingError, match=re.escape(says)):
        read_stream_info(info_params(**overrides), ExecutionContext(), client=NoRequests())


def test_registry_needs_token_before_any_request():
    with pytest.raises(StreamingError, match="access_token is required") as caught:
        clear_stream_registry(registry_params(), ExecutionContext(), client=NoRequests())
    assert "RED5_SM_ACCESS_TOKEN" in str(caught.value)


def test_registry_refuses_include_active_on_2_0():
    with pytest.raises(StreamingError, match=re.escape("include_active is not available with Stream Manager API 2.0")):
        clear_stream_registry(registry_params(access_token=TOKEN, include_active=True), ExecutionContext(), client=NoRequests())


# -- red5_stream_registry ------------------------------------------------------------------------

LISTED = [
    {"name": "a", "scope": "live", "type": "origin"},
    {"name": "a", "scope": "live", "type": "edge"},
    {"name": "b", "scope": "live/sub", "type": "origin"},
]


@pytest.mark.parametrize(
    ("version", "include_active", "expected"),
    [("2.0", None, 2), ("1.0", None, 2), ("3.0", None, 2), ("3.1", True, 2), ("4.0", True, 2), ("4.0", None, 0), ("3.1", False, 0)],
)
def test_registry_check_mode_predicts_without_deleting(version, include_active, expected):
    client = FakeClient(streams=LISTED, api_version=version)
    warnings = []
    context = ExecutionContext(check_mode=True, warn=warnings.append)
    result = run_work(clear_stream_registry, registry_params(api_version=version, access_token=TOKEN, include_active=include_active), context, client=client)
    assert result == {"changed": expected > 0, "count": expected, "api_version": version}
    assert ("delete", include_active) not in client.calls
    assert ("list", False) in client.calls
    assert bool(warnings) == (expected == 0)


@pytest.mark.parametrize(("deleted", "changed"), [(0, False), (3, True)])
def test_registry_changed_follows_count(deleted, changed):
    client = FakeClient(deleted=deleted, api_version="3.1")
    result = run_work(clear_stream_registry, registry_params(api_version="3.1", access_token=TOKEN, include_active=True), ExecutionContext(), client=client)
    assert result == {"changed": changed, "count": deleted, "api_version": "3.1"}
    assert client.calls == [("delete", True), ("close",)]


@pytest.mark.parametrize(
    ("version", "include_active", "header"),
    [("2.0", None, "stream registry, all entries"), ("4.0", True, "stream registry, all entries"), ("4.0", None, "stream registry, inactive entries")],
)
def test_registry_diff_shows_the_entries_before_and_after(version, include_active, header):
    params = registry_params(api_version=version, access_token=TOKEN, include_active=include_active)
    result = run_work(clear_stream_registry, params, ExecutionContext(diff_mode=True), client=FakeClient(deleted=3, api_version=version))
    assert result == {
        "changed": True,
        "count": 3,
        "api_version": version,
        "diff": {"before": {"entries": 3}, "after": {"entries": 0}, "before_header": header, "after_header": header},
    }


def test_registry_diff_in_check_mode_shows_the_prediction():
    params = registry_params(api_version="2.0", access_token=TOKEN)
    client = FakeClient(streams=LISTED)
    result = run_work(clear_stream_registry, params, ExecutionContext(check_mode=True, diff_mode=True), client=client)
    assert result["diff"]["before"] == {"entries": 2}
    assert result["diff"]["after"] == {"entries": 0}
    assert ("delete", None) not in client.calls


@pytest.mark.parametrize("check_mode", [False, True])
def test_registry_no_diff_when_nothing_is_cleared(check_mode):
    params = registry_params(api_version="2.0", access_token=TOKEN)
    result = run_work(clear_stream_registry, params, ExecutionContext(check_mode=check_mode, diff_mode=True), client=FakeClient(deleted=0))
    assert result == {"changed": False, "count": 0, "api_version": "2.0"}


# -- red5_stream_info ---------------------------------------------------------------------------


def test_list_is_filtered_by_scope_and_nested_scopes():
    client = FakeClient(streams=[*LISTED, {"name": "c", "scope": "vod"}])
    result = read_stream_info(info_params(scope="/live"), ExecutionContext(), client=client)
    assert [stream["name"] for stream in result["streams"]] == ["a", "a", "b"]
    assert client.calls == [("list", True), ("close",)]


def test_not_publishing_is_not_a_failure():
    client = FakeClient(stats=[Answer(False, message="not broadcasting", status=404)])
    result = run_work(read_stream_info, info_params(name="demo"), ExecutionContext(), client=client)
    assert result == {"changed": False, "exists": False, "stream": {}, "message": "not broadcasting", "api_version": "2.0"}


def test_lookup_after_stats_takes_the_nodes_address():
    stats = Answer(True, data={"name": "demo", "scope": "/live", "serverAddress": "10.0.1.10", "region": "us-east-1", "currentSubscribers": 7}, status=200)
    client = FakeClient(stats=[stats])
    params = info_params(name="demo", action="subscribe", region="eu-west-1")
    result = run_work(read_stream_info, params, ExecutionContext(check_mode=True), client=client)
    assert result == {
        "changed": False,
        "exists": True,
        "stream": {"name": "demo", "scope": "live", "server_address": "10.0.2.20", "region": "eu-west-1", "current_subscribers": 7},
        "region_fallback": False,
        "api_version": "2.0",
    }
    lookup = dict(region="eu-west-1", strict=None, geozone=None, endpoints=None, transcode=None)
    assert client.calls == [("stats", "live", "demo"), ("read", "live", "demo", "subscribe", lookup), ("close",)]


def test_wait_until_publishing_polls_then_succeeds():
    live = Answer(True, data={"name": "demo"}, status=200)
    client = FakeClient(stats=[Answer(False, message="no", status=404)] * 3 + [live])
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    answer = wait_until_publishing(client, "live", "demo", timeout=10, interval=2, clock=lambda: now[0], sleep=sleep)
    assert answer is live
    assert sleeps == [2, 2, 2]


def test_wait_until_publishing_times_out_with_the_last_answer():
    client = FakeClient(stats=[Answer(False, message="Stream live/demo is not broadcasting", status=404, url="http://sm/x")] * 10)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(StreamingError) as caught:
        wait_until_publishing(client, "live", "demo", timeout=5, interval=2, clock=lambda: now[0], sleep=sleep)
    text = str(caught.value)
    assert "not publishing after waiting 5s" in text
    assert "4 checks" in text  # at 0, 2, 4 and 5 seconds
    assert "HTTP 404: Stream live/demo is not broadcasting" in text
