# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for plugins/module_utils/red5.py: the pure logic, without a server."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import red5
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError

TOKEN = "s3cr3t-admin-T0ken"


class FakeResponse:
    """The parts of requests.Response that parse_answer reads: the status, the headers and the body as bytes."""

    def __init__(self, status=200, body="", content_type="application/json"):
        self.status_code = status
        if isinstance(body, bytes):
            self.content = body
        else:
            self.content = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.headers = {"Content-Type": content_type} if content_type else {}


def base_params(**overrides):
    params = dict(
        url="http://sm.example.com:5080",
        api_version="2.0",
        access_token=None,
        validate_certs=True,
        ca_path=None,
        timeout=5,
        retries=0,
        name=None,
        scope=None,
        action=None,
        region=None,
        strict=None,
        geozone=None,
        endpoints=None,
        transcode=None,
        stats=True,
        wait_for_publishing=False,
        wait_timeout=60,
        wait_interval=2,
    )
    params.update(overrides)
    return params


# -- paths and scopes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [("live", "live"), ("/live", "live"), ("/live/", "live"), ("live/sub", "live/sub"), ("/live/sub/", "live/sub"), ("", ""), (None, "")],
)
def test_normalise_scope_drops_slashes(scope, expected):
    assert red5.normalise_scope(scope) == expected


def test_event_path_has_no_leading_slash_and_nested_scopes_as_segments():
    assert red5.event_path("live", "demo") == "event/live/demo"
    assert red5.event_path("/live", "demo") == "event/live/demo"
    assert red5.event_path("live/sub", "stream1") == "event/live/sub/stream1"
    assert red5.event_path("/live/sub/", "stream1", stats=True) == "event/live/sub/stream1/stats"


@pytest.mark.parametrize("scope", ["live//sub", "live/../admin", "live?x=1", "live#a", "li ve", "/"])
def test_bad_scopes_are_refused(scope):
    with pytest.raises(StreamingError, match="scope"):
        red5.event_path(scope, "demo")


@pytest.mark.parametrize("name", ["a/b", "..", "demo?action=x", "", "de mo", "."])
def test_bad_names_are_refused(name):
    with pytest.raises(StreamingError, match="stream name"):
        red5.event_path("live", name)


def test_api_base_per_version():
    assert red5.api_base("http://sm.example.com:5080", "2.0") == "http://sm.example.com:5080/streammanager/api/2.0/"
    assert red5.api_base("https://sm.example.com/", "4.0") == "https://sm.example.com/streammanager/api/4.0/"
    with pytest.raises(StreamingError, match=re.escape("unsupported api_version '5.0'")):
        red5.api_base("http://sm.example.com", "5.0")
    with pytest.raises(StreamingError, match="invalid Stream Manager url"):
        red5.api_base("sm.example.com:5080", "2.0")


# -- version-specific parameters ---------------------------------------------------


@pytest.mark.parametrize("parameter", ["strict", "geozone", "endpoints", "transcode", "include_active"])
@pytest.mark.parametrize("version", ["1.0", "2.0", "3.0"])
def test_new_parameters_refused_on_old_versions(parameter, version):
    with pytest.raises(StreamingError) as caught:
        red5.check_parameter_support(version, {parameter: True})
    text = str(caught.value)
    assert parameter in text
    assert f"API {version}" in text
    assert "3.1 and 4.0" in text


@pytest.mark.parametrize("version", ["3.1", "4.0"])
def test_new_parameters_accepted_on_new_versions(version):
    red5.check_parameter_support(version, dict(strict=True, geozone="europe", endpoints=2, transcode=False, include_active=True))


def test_unset_parameters_are_not_refused():
    red5.check_parameter_support("2.0", dict(strict=None, geozone=None, endpoints=None, transcode=None, include_active=None))


def test_explicit_false_is_refused_too():
    # include_active=false on 2.0 would promise to keep live entries, which 2.0 clears anyway.
    with pytest.raises(StreamingError, match="include_active"):
        red5.check_parameter_support("2.0", {"include_active": False})


def test_admin_delete_semantics_per_version():
    assert [version for version in red5.API_VERSIONS if red5.clears_only_inactive(version)] == ["3.1", "4.0"]


# -- answers -------------------------------------------------------------------------


def test_epoch_ms_to_iso():
    assert red5.epoch_ms_to_iso(1454369656708) == "2016-02-01T23:34:16.708Z"
    assert red5.epoch_ms_to_iso(0) == "1970-01-01T00:00:00.000Z"
    assert red5.epoch_ms_to_iso("1476179449523") == "2016-10-11T09:50:49.523Z"
    assert red5.epoch_ms_to_iso(None) is None
    assert red5.epoch_ms_to_iso("soon") is None
    assert red5.epoch_ms_to_iso(True) is None


def test_normalise_stream_reference_stats_example():
    item = {"name": "demo", "scope": "/live", "serverAddress": "104.197.131.87", "region": "us-east-1", "currentSubscribers": 0, "startTime": 1454369656708}
    assert red5.normalise_stream(item) == {
        "name": "demo",
        "scope": "live",
        "server_address": "104.197.131.87",
        "region": "us-east-1",
        "current_subscribers": 0,
        "start_time": "2016-02-01T23:34:16.708Z",
        "start_time_ms": 1454369656708,
    }


def test_normalise_stream_keeps_type_and_unknown_keys_in_snake_case():
    item = {"name": "demo", "scope": "live", "serverAddress": "10.0.0.1", "region": "nyc3", "type": "edge", "streamGuid": "live/demo"}
    assert red5.normalise_stream(item) == {
        "name": "demo",
        "scope": "live",
        "server_address": "10.0.0.1",
        "region": "nyc3",
        "type": "edge",
        "stream_guid": "live/demo",
    }


def test_in_scope_includes_nested_scopes_only():
    assert red5.in_scope({"scope": "live"}, "live")
    assert red5.in_scope({"scope": "live/sub"}, "live")
    assert not red5.in_scope({"scope": "livestream"}, "live")
    assert not red5.in_scope({"scope": "vod"}, "live")


def test_parse_answer_success():
    answer = red5.parse_answer(FakeResponse(200, {"name": "demo"}, "application/json;charset=UTF-8"), "GET", "http://sm/x")
    assert answer.found
    assert answer.data == {"name": "demo"}


def test_parse_answer_requires_json_content_type():
    with pytest.raises(StreamingError, match=r"Content-Type text/html instead of application/json") as caught:
        red5.parse_answer(FakeResponse(200, "<html>login</html>", "text/html"), "GET", "http://sm/x")
    assert caught.value.status == 200


def test_parse_answer_invalid_json():
    with pytest.raises(StreamingError, match="not valid JSON"):
        red5.parse_answer(FakeResponse(200, '{"name": "de'), "GET", "http://sm/x")


@pytest.mark.parametrize("status", [400, 404])
def test_not_publishing_answer_when_expected(status):
    body = {"errorMessage": "Stream not found", "timestamp": 1}
    answer = red5.parse_answer(FakeResponse(status, body), "GET", "http://sm/x", not_found_ok=True)
    assert not answer.found
    assert answer.message == "Stream not found"
    assert answer.status == status


def test_error_message_in_2xx_body_is_an_error():
    body = {"errorMessage": "Something is wrong", "timestamp": 1}
    with pytest.raises(StreamingError, match="refused the request: Something is wrong"):
        red5.parse_answer(FakeResponse(200, body), "GET", "http://sm/x")
    # ... and where "not publishing" is expected, it means that, like a 400.
    assert not red5.parse_answer(FakeResponse(200, body), "GET", "http://sm/x", not_found_ok=True).found


def test_404_without_error_message_is_a_wrong_url_not_a_missing_stream():
    with pytest.raises(StreamingError, match="no Stream Manager API answered") as caught:
        red5.parse_answer(FakeResponse(404, "<html>Not Found</html>", "text/html"), "GET", "http://sm/x", not_found_ok=True)
    assert "api_version" in str(caught.value)


def test_other_client_errors_fail_with_the_error_message():
    with pytest.raises(StreamingError, match="refused the request: Invalid version") as caught:
        red5.parse_answer(FakeResponse(405, {"errorMessage": "Invalid version"}), "GET", "http://sm/x", not_found_ok=True)
    assert caught.value.status == 405


def test_server_errors_fail():
    with pytest.raises(StreamingError, match="request failed") as caught:
        red5.parse_answer(FakeResponse(500, "boom", "text/plain"), "GET", "http://sm/x", not_found_ok=True)
    assert "log" in str(caught.value)


def test_secret_is_masked_in_quoted_bodies():
    body = {"errorMessage": f"Invalid accessToken {TOKEN}", "timestamp": 1}
    with pytest.raises(StreamingError) as caught:
        red5.parse_answer(FakeResponse(401, body), "DELETE", f"http://sm/admin/event?accessToken={TOKEN}", secret=TOKEN)
    rendered = str(caught.value) + json.dumps(caught.value.result())
    assert TOKEN not in rendered
    assert "access_token" in rendered
    with pytest.raises(StreamingError) as caught:
        red5.parse_answer(FakeResponse(502, f"proxy error for {TOKEN}", "text/plain"), "DELETE", "http://sm/admin/event", secret=TOKEN)
    assert TOKEN not in str(caught.value) + json.dumps(caught.value.result())


# -- work functions: validation before any request ----------------------------------


@pytest.fixture
def no_http(monkeypatch):
    """Fail the test if a work function tries to build a client."""

    def refuse(*args, **kwargs):
        raise AssertionError("a request was about to be made")

    monkeypatch.setattr(red5.Red5Client, "from_params", classmethod(refuse))


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
def test_read_stream_info_refuses_before_any_request(no_http, overrides, message):
    with pytest.raises(StreamingError, match=message):
        red5.read_stream_info(base_params(**overrides))


def test_registry_needs_token_before_any_request(no_http):
    with pytest.raises(StreamingError, match="access_token is required") as caught:
        red5.clear_stream_registry(base_params())
    assert "RED5_SM_ACCESS_TOKEN" in str(caught.value)


def test_registry_refuses_include_active_on_2_0(no_http):
    with pytest.raises(StreamingError, match=re.escape("include_active is not available with Stream Manager API 2.0")):
        red5.clear_stream_registry(base_params(access_token=TOKEN, include_active=True))


# -- work functions with a fake client ---------------------------------------------------


class FakeClient:
    def __init__(self, streams=(), stats=None, deleted=0):
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

    def delete_stream_entries(self, include_active=None):
        self.calls.append(("delete", include_active))
        return {"count": self.deleted, "timestamp": 1}

    def close(self):
        self.calls.append(("close",))


@pytest.fixture
def fake_client(monkeypatch):
    holder = {}

    def install(client):
        holder["client"] = client
        monkeypatch.setattr(red5.Red5Client, "from_params", classmethod(lambda cls, params, warn=None: client))
        return client

    return install


LISTED = [
    {"name": "a", "scope": "live", "type": "origin"},
    {"name": "a", "scope": "live", "type": "edge"},
    {"name": "b", "scope": "live/sub", "type": "origin"},
]


@pytest.mark.parametrize(
    ("version", "include_active", "expected"),
    [("2.0", None, 2), ("1.0", None, 2), ("3.0", None, 2), ("3.1", True, 2), ("4.0", True, 2), ("4.0", None, 0), ("3.1", False, 0)],
)
def test_registry_check_mode_predicts_without_deleting(fake_client, version, include_active, expected):
    client = fake_client(FakeClient(streams=LISTED))
    warnings = []
    result = red5.clear_stream_registry(
        base_params(api_version=version, access_token=TOKEN, include_active=include_active), check_mode=True, warn=warnings.append
    )
    assert result == {"changed": expected > 0, "count": expected}
    assert ("delete", include_active) not in client.calls
    assert ("list", False) in client.calls
    assert bool(warnings) == (expected == 0)


@pytest.mark.parametrize(("deleted", "changed"), [(0, False), (3, True)])
def test_registry_changed_follows_count(fake_client, deleted, changed):
    client = fake_client(FakeClient(deleted=deleted))
    result = red5.clear_stream_registry(base_params(api_version="3.1", access_token=TOKEN, include_active=True))
    assert result == {"changed": changed, "count": deleted}
    assert client.calls == [("delete", True), ("close",)]


def test_list_is_filtered_by_scope_and_nested_scopes(fake_client):
    fake_client(FakeClient(streams=[*LISTED, {"name": "c", "scope": "vod"}]))
    result = red5.read_stream_info(base_params(scope="/live"))
    assert [stream["name"] for stream in result["streams"]] == ["a", "a", "b"]


def test_not_publishing_is_not_a_failure(fake_client):
    fake_client(FakeClient(stats=[red5.Answer(False, message="not broadcasting", status=404)]))
    assert red5.read_stream_info(base_params(name="demo")) == {"changed": False, "exists": False, "stream": {}, "message": "not broadcasting"}


def test_wait_until_publishing_polls_then_succeeds():
    live = red5.Answer(True, data={"name": "demo"}, status=200)
    client = FakeClient(stats=[red5.Answer(False, message="no", status=404)] * 3 + [live])
    now = [0.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    answer = red5.wait_until_publishing(client, "live", "demo", timeout=10, interval=2, clock=lambda: now[0], sleep=sleep)
    assert answer is live
    assert sleeps == [2, 2, 2]


def test_wait_until_publishing_times_out_with_the_last_answer():
    client = FakeClient(stats=[red5.Answer(False, message="Stream live/demo is not broadcasting", status=404, url="http://sm/x")] * 10)
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    with pytest.raises(StreamingError) as caught:
        red5.wait_until_publishing(client, "live", "demo", timeout=5, interval=2, clock=lambda: now[0], sleep=sleep)
    text = str(caught.value)
    assert "not publishing after waiting 5s" in text
    assert "4 checks" in text  # at 0, 2, 4 and 5 seconds
    assert "HTTP 404: Stream live/demo is not broadcasting" in text


# -- hostile input from the playbook: refused before any request -------------------------------


@pytest.mark.parametrize(
    ("scope", "name", "says"),
    [
        ("live", "demo\n", "U+000A at position 5"),  # "$" in a pattern would have let this one through
        ("live", "..", '".." cannot be a part of a path'),
        ("live", "demo?action=broadcast", 'the character "?" at position 5'),
        ("live", "demo#frag", 'the character "#" at position 5'),
        ("live", "%2e%2e", 'the character "%" at position 1'),
        ("live", "de\x00mo", "U+0000 at position 3"),
        ("live", "\u202eomed", "U+202E at position 1"),
        ("live", "d\u00e9mo", 'the character "\u00e9" at position 2'),
        ("live", "de mo", "U+0020 at position 3"),
        ("live", "n" * 256, "a part of 256 characters is longer than 255"),
        ("live\n", "demo", "U+000A at position 5"),
        (" live", "demo", "U+0020 at position 1"),
        ("live%00", "demo", 'the character "%" at position 5'),
        ("live/../admin", "demo", '".." cannot be a part of a path'),
        ("live/./x", "demo", '"." cannot be a part of a path'),
        ("live//sub", "demo", '"" cannot be a part of a path'),
        ("s" * 256, "demo", "a part of 256 characters"),
        ("a/" * 600, "demo", "more than 1024"),
        ("live?x", "demo", 'the character "?"'),
    ],
)
def test_hostile_scopes_and_names_never_become_a_path(scope, name, says):
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        red5.event_path(scope, name)
    text = str(caught.value)
    assert not re.search(r"[\x00-\x1f\x7f\u202e]", text), text


@pytest.mark.parametrize(("scope", "name"), [("live", "n" * 255), ("/live/sub/", "a.b~c@d+e=f,g:h-i_j"), ("s" * 255, "demo")])
def test_names_at_the_bounds_are_accepted(scope, name):
    assert red5.event_path(scope, name) == "event/" + "/".join(quote(part, safe="") for part in [*scope.strip("/").split("/"), name])


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
def test_other_hostile_options_are_refused_before_any_request(no_http, overrides, says):
    with pytest.raises(StreamingError, match=re.escape(says)):
        red5.read_stream_info(base_params(**overrides))


@pytest.mark.parametrize("url", ["http://sm.example.com:5080\n", "http://sm example.com", "http://sm.example.com/\x00", "\thttp://sm.example.com"])
def test_urls_with_spaces_or_control_characters_are_refused(url):
    with pytest.raises(StreamingError, match="invalid Stream Manager url") as caught:
        red5.Red5Client.from_params(base_params(url=url))
    assert not re.search(r"[\x00-\x1f]", str(caught.value))


# -- hostile answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", "not valid JSON"),
        (b'{"name":"demo","name":"other"}', 'the key "name" appears twice'),
        (b'{"name":"demo","load":NaN}', "NaN, which is not a JSON number"),
        (b'{"n":' + b"[" * 50 + b"]" * 50 + b"}", "more than 32 levels deep"),
        (b'{"name":"\\ud800"}', "half of a UTF-16 surrogate pair"),
        (b"\xff", "not UTF-8"),
        (b"", "the body is empty"),
    ],
)
def test_parse_answer_refuses_unusable_json(body, says):
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        red5.parse_answer(FakeResponse(200, body), "GET", "http://sm/x")
    assert "the Stream Manager's answer cannot be used" in str(caught.value)
    assert "http://sm/x" in str(caught.value)


def test_parse_answer_refuses_more_than_the_bound():
    body = b'{"name":"demo","padding":"' + b"x" * (8 * 1024 * 1024) + b'"}'
    with pytest.raises(StreamingError, match="more than the 8 MiB a JSON answer may have"):
        red5.parse_answer(FakeResponse(200, body), "GET", "http://sm/x")


def test_parse_answer_tolerates_a_byte_order_mark():
    assert red5.parse_answer(FakeResponse(200, b"\xef\xbb\xbf" + b'{"name":"demo"}'), "GET", "http://sm/x").data == {"name": "demo"}


@pytest.mark.parametrize(
    ("error_message", "shown"),
    [
        ({"code": 42}, '{"code":42}'),
        (["a", 1], '["a",1]'),
        (404, "404"),
        (False, "false"),
        ("", "(an empty errorMessage)"),
        ("gone\x1b[2J\u202e\nnext line", "gone\\u001b[2J\\u202e next line"),
        ("x" * 5000, "x" * 500 + "..."),
    ],
)
def test_error_messages_of_any_type_are_shown_as_bounded_text(error_message, shown):
    answer = red5.parse_answer(FakeResponse(404, {"errorMessage": error_message, "timestamp": 1}), "GET", "http://sm/x", not_found_ok=True)
    assert (answer.found, answer.message) == (False, shown)


def test_the_token_is_masked_before_the_error_message_is_shortened():
    body = {"errorMessage": "x" * 490 + TOKEN}
    with pytest.raises(StreamingError) as caught:
        red5.parse_answer(FakeResponse(401, body), "DELETE", "http://sm/admin/event", secret=TOKEN)
    assert TOKEN[:8] not in str(caught.value) + json.dumps(caught.value.result())
    with pytest.raises(StreamingError) as caught:
        red5.parse_answer(FakeResponse(502, "y" * 290 + TOKEN, "text/plain"), "DELETE", "http://sm/admin/event", secret=TOKEN)
    assert TOKEN[:8] not in str(caught.value) + json.dumps(caught.value.result())


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ([], "the stream is a list, not an object"),
        ("demo", 'the stream is the string "demo", not an object'),
        ({"name": 5}, 'the "name" of the stream is the number 5, not text'),
        ({"scope": ["live"]}, 'the "scope" of the stream is a list, not text'),
        ({"serverAddress": {"ip": "10.0.0.1"}}, 'the "serverAddress" of the stream is an object'),
        ({"region": True}, 'the "region" of the stream is the boolean true'),
        ({"type": 1}, 'the "type" of the stream is the number 1'),
        ({"currentSubscribers": -1}, 'the "currentSubscribers" of the stream is the number -1, not a whole number of 0 or more'),
        ({"currentSubscribers": 2.5}, "is the number 2.5"),
        ({"currentSubscribers": "many"}, 'is the string "many"'),
        ({"startTime": "yesterday"}, 'the "startTime" of the stream is the string "yesterday", not a whole number'),
        ({"startTime": 1454369656708.5}, "is the number 1454369656708.5"),
        ({"startTime": True}, "is the boolean true"),
        ({"startTime": 10**17}, "not epoch milliseconds between the years 1 and 9999"),
    ],
)
def test_normalise_stream_refuses_wrong_types(item, says):
    with pytest.raises(red5.AnswerError, match=re.escape(says)):
        red5.normalise_stream(item)


def test_normalise_stream_tolerances():
    assert red5.normalise_stream({"startTime": "1454369656708", "currentSubscribers": " 3 "}) == {
        "start_time": "2016-02-01T23:34:16.708Z",
        "start_time_ms": 1454369656708,
        "current_subscribers": 3,
    }
    assert red5.normalise_stream({"startTime": None, "currentSubscribers": None, "scope": None}) == {
        "start_time": None,
        "start_time_ms": None,
        "current_subscribers": None,
        "scope": None,
    }
    # A key spelled like one the collection returns itself never replaces it.
    hostile = {"startTime": 0, "start_time": "1999-01-01", "start_time_ms": 5, "server_address": "203.0.113.9", "serverAddress": "10.0.0.1"}
    assert red5.normalise_stream(hostile) == {"start_time": "1970-01-01T00:00:00.000Z", "start_time_ms": 0, "server_address": "10.0.0.1"}


def test_epoch_ms_to_iso_only_takes_whole_milliseconds():
    assert red5.epoch_ms_to_iso(" 1454369656708 ") == "2016-02-01T23:34:16.708Z"
    assert red5.epoch_ms_to_iso(-1000) == "1969-12-31T23:59:59.000Z"
    for value in (1.5, "1.5", "1e3", [1], 10**17, -(10**17)):
        assert red5.epoch_ms_to_iso(value) is None, value


class FakeHttp:
    """Answers each request with the (status, body) registered for the end of its path."""

    def __init__(self, answers: dict):
        self.answers = answers
        self.max_response_bytes = None
        self.requests = []

    def request(self, method, url, params=None, headers=None, **kwargs):
        self.requests.append((method, url, params))
        for suffix, (status, body) in self.answers.items():
            if url.endswith(suffix):
                return FakeResponse(status, body)
        raise AssertionError(f"unexpected request {method} {url}")

    def close(self):
        pass


def api_client(answers: dict, version="4.0", token=TOKEN):
    return red5.Red5Client(FakeHttp(answers), "http://sm.example.com:5080", version, token)


@pytest.mark.parametrize(
    ("listed", "says"),
    [
        ({"streams": []}, "the stream list is an object, not a JSON array"),
        ('"streams"', 'the stream list is the string "streams", not a JSON array'),
        ([{"name": "a", "scope": "live"}, 7], "item 1 of the stream list is the number 7, not an object"),
        ([{"name": "a"}], "item 0 of the stream list has no scope"),
        ([{"scope": "live"}], "item 0 of the stream list has no name"),
        ([{"serverAddress": "10.0.0.1"}], "has no name and no scope"),
        ([{"name": "a", "scope": "live", "startTime": "soon"}], 'the "startTime" of item 0 of the stream list is the string "soon"'),
    ],
)
def test_list_streams_refuses_what_it_cannot_read(listed, says):
    client = api_client({"event/list/stats": (200, listed)})
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        client.list_streams(stats=True)
    assert "/streammanager/api/4.0/event/list/stats" in str(caught.value)


def test_list_streams_skips_null_items():
    client = api_client({"event/list": (200, [None, {"name": "a", "scope": "/live"}, None])})
    assert client.list_streams() == [{"name": "a", "scope": "live"}]


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (3, 3), ("3", 3), (" 12 ", 12)])
def test_delete_counts(count, expected):
    client = api_client({"admin/event": (200, {"count": count, "timestamp": 1})})
    assert client.delete_stream_entries(include_active=True)["count"] == expected


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"count": "many"}, 'the "count" of the registry delete\'s answer is the string "many"'),
        ({"count": -1}, "a whole number of 0 or more"),
        ({"count": 2.0}, "is the number 2.0"),
        ({"count": True}, "is the boolean true"),
        ({"count": None}, "is null"),
        ({"deleted": 3}, "an object without a count"),
        ([3], "answered a list, not an object with a count"),
    ],
)
def test_delete_without_a_usable_count_says_the_entries_are_probably_cleared(answer, says):
    client = api_client({"admin/event": (200, answer)})
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        client.delete_stream_entries()
    text = str(caught.value)
    assert "entries are probably cleared" in text and "accessToken=REDACTED" in text and TOKEN not in text


@pytest.mark.parametrize(
    ("answers", "overrides", "says"),
    [
        ({"event/live/demo/stats": (200, [{"name": "demo"}])}, {}, "the stream's stats is a list, not an object"),
        ({"event/live/demo/stats": (200, '"live"')}, {}, 'the stream\'s stats is the string "live"'),
        ({"event/live/demo": (200, 7)}, dict(action="broadcast", stats=False), "the broadcast lookup's answer is the number 7"),
        ({"event/live/demo": (200, [])}, dict(action="subscribe", stats=False, endpoints=2), "the subscribe lookup answered an empty list of endpoints"),
        (
            {"event/live/demo": (200, [{"name": "demo"}, "10.0.0.2"])},
            dict(action="subscribe", stats=False, endpoints=2),
            'endpoint 1 of the subscribe lookup is the string "10.0.0.2", not an object',
        ),
    ],
)
def test_one_stream_answers_of_the_wrong_shape(monkeypatch, answers, overrides, says):
    client = api_client(answers)
    monkeypatch.setattr(red5.Red5Client, "from_params", classmethod(lambda cls, params, warn=None: client))
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        red5.read_stream_info(base_params(name="demo", api_version="4.0", **overrides))
    assert "http://sm.example.com:5080/streammanager/api/4.0/event/live/demo" in str(caught.value)


def test_one_stream_fills_in_what_the_answer_left_out(monkeypatch):
    client = api_client({"event/live/demo/stats": (200, {"scope": None, "serverAddress": "10.0.0.1", "startTime": "1454369656708"})})
    monkeypatch.setattr(red5.Red5Client, "from_params", classmethod(lambda cls, params, warn=None: client))
    result = red5.read_stream_info(base_params(name="demo"))
    assert result["stream"] == {
        "scope": "live",
        "name": "demo",
        "server_address": "10.0.0.1",
        "start_time": "2016-02-01T23:34:16.708Z",
        "start_time_ms": 1454369656708,
    }


def test_the_client_reads_at_most_the_json_bound():
    client = red5.Red5Client.from_params(base_params())
    assert client.http.max_response_bytes == 8 * 1024 * 1024
    client.close()
