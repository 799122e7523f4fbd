# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for plugins/module_utils/red5/answers.py and client.py: what the Stream Manager's answers mean.

The client gets a fake ``http`` object that answers from a table: no sockets.
"""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import AnswerError
from ansible_collections.mediaops.streaming.plugins.module_utils.red5 import answers
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.client import Red5Client
from ansible_collections.mediaops.streaming.plugins.module_utils.red5.stream_info import read_stream_info
from tests.unit.plugins.module_utils.red5.fakes import TOKEN, FakeResponse, info_params, registry_params


class FakeHttp:
    """Answers each request with the (status, body) registered for the end of its path."""

    def __init__(self, table: dict):
        self.answers = table
        self.max_response_bytes = None
        self.requests = []
        self.closed = False

    def request(self, method, url, params=None, headers=None, **kwargs):
        self.requests.append((method, url, params))
        for suffix, (status, body) in self.answers.items():
            if url.endswith(suffix):
                return FakeResponse(status, body)
        raise AssertionError(f"unexpected request {method} {url}")

    def close(self):
        self.closed = True


def api_client(table: dict, version="4.0", token=TOKEN):
    return Red5Client(registry_params(api_version=version, access_token=token), ExecutionContext(), http=FakeHttp(table))


# -- answers -------------------------------------------------------------------------


def test_epoch_ms_to_iso():
    assert answers.epoch_ms_to_iso(1454369656708) == "2016-02-01T23:34:16.708Z"
    assert answers.epoch_ms_to_iso(0) == "1970-01-01T00:00:00.000Z"
    assert answers.epoch_ms_to_iso("1476179449523") == "2016-10-11T09:50:49.523Z"
    assert answers.epoch_ms_to_iso(None) is None
    assert answers.epoch_ms_to_iso("soon") is None
    assert answers.epoch_ms_to_iso(True) is None


def test_normalise_stream_reference_stats_example():
    item = {"name": "demo", "scope": "/live", "serverAddress": "104.197.131.87", "region": "us-east-1", "currentSubscribers": 0, "startTime": 1454369656708}
    assert answers.normalise_stream(item) == {
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
    assert answers.normalise_stream(item) == {
        "name": "demo",
        "scope": "live",
        "server_address": "10.0.0.1",
        "region": "nyc3",
        "type": "edge",
        "stream_guid": "live/demo",
    }


def test_in_scope_includes_nested_scopes_only():
    assert answers.in_scope({"scope": "live"}, "live")
    assert answers.in_scope({"scope": "live/sub"}, "live")
    assert not answers.in_scope({"scope": "livestream"}, "live")
    assert not answers.in_scope({"scope": "vod"}, "live")


def test_parse_answer_success():
    answer = answers.parse_answer(FakeResponse(200, {"name": "demo"}, "application/json;charset=UTF-8"), "GET", "http://sm/x")
    assert answer.found
    assert answer.data == {"name": "demo"}


def test_parse_answer_requires_json_content_type():
    with pytest.raises(StreamingError, match=r"Content-Type text/html instead of application/json") as caught:
        answers.parse_answer(FakeResponse(200, "<html>login</html>", "text/html"), "GET", "http://sm/x")
    assert caught.value.status == 200


def test_parse_answer_invalid_json():
    with pytest.raises(StreamingError, match="not valid JSON"):
        answers.parse_answer(FakeResponse(200, '{"name": "de'), "GET", "http://sm/x")


@pytest.mark.parametrize("status", [400, 404])
def test_not_publishing_answer_when_expected(status):
    body = {"errorMessage": "Stream not found", "timestamp": 1}
    answer = answers.parse_answer(FakeResponse(status, body), "GET", "http://sm/x", not_found_ok=True)
    assert not answer.found
    assert answer.message == "Stream not found"
    assert answer.status == status


def test_error_message_in_2xx_body_is_an_error():
    body = {"errorMessage": "Something is wrong", "timestamp": 1}
    with pytest.raises(StreamingError, match="refused the request: Something is wrong"):
        answers.parse_answer(FakeResponse(200, body), "GET", "http://sm/x")
    # ... and where "not publishing" is expected, it means that, like a 400.
    assert not answers.parse_answer(FakeResponse(200, body), "GET", "http://sm/x", not_found_ok=True).found


def test_404_without_error_message_is_a_wrong_url_not_a_missing_stream():
    with pytest.raises(StreamingError, match="no Stream Manager API answered") as caught:
        answers.parse_answer(FakeResponse(404, "<html>Not Found</html>", "text/html"), "GET", "http://sm/x", not_found_ok=True)
    assert "api_version" in str(caught.value)


def test_other_client_errors_fail_with_the_error_message():
    with pytest.raises(StreamingError, match="refused the request: Invalid version") as caught:
        answers.parse_answer(FakeResponse(405, {"errorMessage": "Invalid version"}), "GET", "http://sm/x", not_found_ok=True)
    assert caught.value.status == 405


def test_server_errors_fail():
    with pytest.raises(StreamingError, match="request failed") as caught:
        answers.parse_answer(FakeResponse(500, "boom", "text/plain"), "GET", "http://sm/x", not_found_ok=True)
    assert "log" in str(caught.value)


def test_secret_is_masked_in_quoted_bodies():
    body = {"errorMessage": f"Invalid accessToken {TOKEN}", "timestamp": 1}
    with pytest.raises(StreamingError) as caught:
        answers.parse_answer(FakeResponse(401, body), "DELETE", f"http://sm/admin/event?accessToken={TOKEN}", secret=TOKEN)
    rendered = str(caught.value) + json.dumps(caught.value.result())
    assert TOKEN not in rendered
    assert "access_token" in rendered
    with pytest.raises(StreamingError) as caught:
        answers.parse_answer(FakeResponse(502, f"proxy error for {TOKEN}", "text/plain"), "DELETE", "http://sm/admin/event", secret=TOKEN)
    assert TOKEN not in str(caught.value) + json.dumps(caught.value.result())


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
        answers.parse_answer(FakeResponse(200, body), "GET", "http://sm/x")
    assert "the Stream Manager's answer cannot be used" in str(caught.value)
    assert "http://sm/x" in str(caught.value)


def test_parse_answer_refuses_more_than_the_bound():
    body = b'{"name":"demo","padding":"' + b"x" * (8 * 1024 * 1024) + b'"}'
    with pytest.raises(StreamingError, match="more than the 8 MiB a JSON answer may have"):
        answers.parse_answer(FakeResponse(200, body), "GET", "http://sm/x")


def test_parse_answer_tolerates_a_byte_order_mark():
    assert answers.parse_answer(FakeResponse(200, b"\xef\xbb\xbf" + b'{"name":"demo"}'), "GET", "http://sm/x").data == {"name": "demo"}


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
    answer = answers.parse_answer(FakeResponse(404, {"errorMessage": error_message, "timestamp": 1}), "GET", "http://sm/x", not_found_ok=True)
    assert (answer.found, answer.message) == (False, shown)


def test_the_token_is_masked_before_the_error_message_is_shortened():
    body = {"errorMessage": "x" * 490 + TOKEN}
    with pytest.raises(StreamingError) as caught:
        answers.parse_answer(FakeResponse(401, body), "DELETE", "http://sm/admin/event", secret=TOKEN)
    assert TOKEN[:8] not in str(caught.value) + json.dumps(caught.value.result())
    with pytest.raises(StreamingError) as caught:
        answers.parse_answer(FakeResponse(502, "y" * 290 + TOKEN, "text/plain"), "DELETE", "http://sm/admin/event", secret=TOKEN)
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
    with pytest.raises(AnswerError, match=re.escape(says)):
        answers.normalise_stream(item)


def test_normalise_stream_tolerances():
    assert answers.normalise_stream({"startTime": "1454369656708", "currentSubscribers": " 3 "}) == {
        "start_time": "2016-02-01T23:34:16.708Z",
        "start_time_ms": 1454369656708,
        "current_subscribers": 3,
    }
    assert answers.normalise_stream({"startTime": None, "currentSubscribers": None, "scope": None}) == {
        "start_time": None,
        "start_time_ms": None,
        "current_subscribers": None,
        "scope": None,
    }
    # A key spelled like one the collection returns itself never replaces it.
    hostile = {"startTime": 0, "start_time": "1999-01-01", "start_time_ms": 5, "server_address": "203.0.113.9", "serverAddress": "10.0.0.1"}
    assert answers.normalise_stream(hostile) == {"start_time": "1970-01-01T00:00:00.000Z", "start_time_ms": 0, "server_address": "10.0.0.1"}


def test_epoch_ms_to_iso_only_takes_whole_milliseconds():
    assert answers.epoch_ms_to_iso(" 1454369656708 ") == "2016-02-01T23:34:16.708Z"
    assert answers.epoch_ms_to_iso(-1000) == "1969-12-31T23:59:59.000Z"
    for value in (1.5, "1.5", "1e3", [1], 10**17, -(10**17)):
        assert answers.epoch_ms_to_iso(value) is None, value


# -- the client over a fake http --------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://sm.example.com:5080\n", "http://sm example.com", "http://sm.example.com/\x00", "\thttp://sm.example.com"])
def test_urls_with_spaces_or_control_characters_are_refused(url):
    with pytest.raises(StreamingError, match="invalid Stream Manager url") as caught:
        Red5Client(info_params(url=url), ExecutionContext())
    assert not re.search(r"[\x00-\x1f]", str(caught.value))


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


def test_lookup_query_carries_only_what_was_given():
    client = api_client({"event/live/sub/demo": (200, {"name": "demo"})})
    client.read_stream("/live/sub", "demo", "subscribe", region="eu-west-1", strict=False, endpoints=2, transcode=True)
    client.read_stream("live/sub", "demo", "broadcast")
    assert client.http.requests == [
        (
            "GET",
            "http://sm.example.com:5080/streammanager/api/4.0/event/live/sub/demo",
            {"action": "subscribe", "region": "eu-west-1", "strict": "false", "endpoints": "2", "transcode": "true"},
        ),
        ("GET", "http://sm.example.com:5080/streammanager/api/4.0/event/live/sub/demo", {"action": "broadcast"}),
    ]


def test_stats_of_a_stream_that_is_not_publishing_is_not_found():
    client = api_client({"event/live/demo/stats": (404, {"errorMessage": "Stream live/demo is not broadcasting", "timestamp": 1})})
    answer = client.read_stream_stats("live", "demo")
    assert (answer.found, answer.message, answer.status) == (False, "Stream live/demo is not broadcasting", 404)


@pytest.mark.parametrize(("count", "expected"), [(0, 0), (3, 3), ("3", 3), (" 12 ", 12)])
def test_delete_counts(count, expected):
    client = api_client({"admin/event": (200, {"count": count, "timestamp": 1})})
    assert client.delete_stream_entries(include_active=True)["count"] == expected
    assert client.http.requests == [("DELETE", "http://sm.example.com:5080/streammanager/api/4.0/admin/event", {"accessToken": TOKEN, "includeActive": "true"})]


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


def test_the_client_closes_its_http_when_used_with_with():
    client = api_client({})
    with client:
        pass
    assert client.http.closed


def test_the_client_reads_at_most_the_json_bound():
    client = Red5Client(info_params(), ExecutionContext())
    assert client.http.max_response_bytes == 8 * 1024 * 1024
    client.close()


# -- the work over the real client and a fake http --------------------------------------------


@pytest.mark.parametrize(
    ("table", "overrides", "says"),
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
def test_one_stream_answers_of_the_wrong_shape(table, overrides, says):
    client = api_client(table)
    with pytest.raises(StreamingError, match=re.escape(says)) as caught:
        read_stream_info(info_params(name="demo", api_version="4.0", **overrides), ExecutionContext(), client=client)
    assert "http://sm.example.com:5080/streammanager/api/4.0/event/live/demo" in str(caught.value)


def test_one_stream_fills_in_what_the_answer_left_out():
    client = api_client({"event/live/demo/stats": (200, {"scope": None, "serverAddress": "10.0.0.1", "startTime": "1454369656708"})}, version="2.0")
    result = read_stream_info(info_params(name="demo"), ExecutionContext(), client=client)
    assert result["stream"] == {
        "scope": "live",
        "name": "demo",
        "server_address": "10.0.0.1",
        "start_time": "2016-02-01T23:34:16.708Z",
        "start_time_ms": 1454369656708,
    }
