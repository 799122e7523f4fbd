# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""scaleengine/client.py: the client's decisions over a fake transport (no sockets): what is posted, retried, refused and said."""

from __future__ import annotations

import json

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from ansible_collections.mediaops.streaming.plugins.module_utils.json_answer import MAX_ANSWER_BYTES
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.answers import normalise_code
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.client import ScaleEngineClient, normalise_api_url
from ansible_collections.mediaops.streaming.plugins.module_utils.scaleengine.ledger import TimestampLedger
from tests.unit.plugins.module_utils.scaleengine.fakes import API_KEY, PARAMS, SECRET, VECTORS, FakeHttp, FakeResponse, make_client


def test_client_posts_a_signed_body_to_the_url_with_its_slash(tmp_path):
    client, http, _clock = make_client({"status": "success", "message": ""}, tmp_path=tmp_path)
    client.call("stream.close", {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"})
    url, body = http.posted[0]
    assert url == "http://api.example.net/stable/"
    assert body == VECTORS[0][3][:-1] + ',"signature":"FaVyNfvFbt22z98k2uJIG70KDUwTAevh1ZNh9wP+nAI="}'


def test_heavy_load_is_retried_with_warnings(tmp_path):
    warnings = []
    busy = {"status": "failure", "code": 1000, "message": "Heavy load"}
    client, http, _clock = make_client(busy, busy, {"status": "success", "data": []}, tmp_path=tmp_path, warnings=warnings)
    assert client.call("viewer.live", {"app": "a"})["status"] == "success"
    assert len(http.posted) == 3 and len(warnings) == 2
    assert "heavy load" in warnings[0] and "retry 1 of 3" in warnings[0]


def test_heavy_load_gives_up_after_retries(tmp_path):
    busy = {"status": "failure", "code": "1000", "message": "Heavy load"}
    client, http, _clock = make_client(busy, busy, busy, busy, tmp_path=tmp_path)
    with pytest.raises(StreamingError, match="code 1000") as caught:
        client.call("viewer.live", {"app": "a"})
    assert len(http.posted) == 4
    assert "try again in a few minutes" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "advice"),
    [("0002", "clock"), (2, "UTC"), ("0003", "api_secret"), (3, "api_secret"), ("0001", "api_key and cdn"), ("0000", "command")],
)
def test_failures_carry_code_message_and_advice(tmp_path, code, advice):
    client, http, _clock = make_client({"status": "failure", "code": code, "message": "The API said no"}, tmp_path=tmp_path)
    with pytest.raises(StreamingError) as caught:
        client.call("stream.close", {"app": "a", "inst": "b", "stream": "c"})
    text = str(caught.value)
    assert "The API said no" in text and f"code {normalise_code(code)}" in text and advice in text
    assert caught.value.result()["api_code"] == normalise_code(code)
    assert len(http.posted) == 1  # not retried


def test_failures_are_not_retried_and_secrets_are_scrubbed(tmp_path):
    echo = {"status": "failure", "code": "0004", "message": f"bad request {API_KEY} {SECRET}"}
    client, http, _clock = make_client(echo, tmp_path=tmp_path)
    with pytest.raises(StreamingError) as caught:
        client.call("stream.close", {"app": "a", "inst": "b", "stream": "c"})
    text = str(caught.value) + json.dumps(caught.value.result())
    assert SECRET not in text and API_KEY not in text
    signature = json.loads(http.posted[0][1])["signature"]
    assert signature not in text


@pytest.mark.parametrize(
    ("body", "status", "match"),
    [
        ("<html>busy</html>", 200, "not valid JSON"),
        ("[1]", 200, "is a list, not a JSON object"),
        ("", 200, "empty body"),
        ("Not Found", 404, "HTTP 404"),
        ("Internal Server Error", 500, "HTTP 500.*try again later"),
        ("Forbidden", 403, "HTTP 403.*answers with HTTP 200, not 403"),
    ],
)
def test_non_json_or_http_errors_fail_clearly(tmp_path, body, status, match):
    client, _http, _clock = make_client(None, tmp_path=tmp_path)
    client.http.answers = []
    client.http.request = lambda *a, prepare=None, **k: (prepare(), FakeResponse(body, status))[1]
    with pytest.raises(StreamingError, match=match):
        client.call("viewer.live", {"app": "a"})


def test_unsignable_values_are_refused_before_sending(tmp_path):
    client, http, _clock = make_client({"status": "success"}, tmp_path=tmp_path)
    with pytest.raises(StreamingError, match="floating-point"):
        client.call("viewer.live", {"app": "a", "ratio": 0.5})
    assert http.posted == []


@pytest.mark.parametrize(
    ("url", "expected"), [("https://a.example/stable", "https://a.example/stable/"), ("https://a.example/stable/", "https://a.example/stable/")]
)
def test_api_url_keeps_or_gets_its_slash(url, expected):
    assert normalise_api_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://a", "api.example.net/stable/", "https://a.example/stable/?x=1", "https://a.example/st able/", "https://a\x00.example/"])
def test_api_url_must_be_http(url):
    with pytest.raises(StreamingError):
        normalise_api_url(url)


@pytest.mark.parametrize(
    ("command", "repeatable"),
    [
        *[(command, True) for command in ("stream.details", "stream.active", "viewer.live", "stream.close", "pushpublish.disconnect")],
        *[(command, False) for command in ("recording.start", "pushpublish.connect", "stream.explode")],
    ],
)
def test_only_commands_known_to_be_safe_are_repeatable(tmp_path, command, repeatable):
    client, http, _clock = make_client({"status": "success"}, tmp_path=tmp_path)
    client.call(command, {"app": "a"})
    assert http.repeatable == [repeatable]


@pytest.mark.parametrize(("command", "says"), [("recording.start", "recording.start was not repeated"), ("viewer.live", None)])
def test_a_502_on_a_command_that_is_not_repeated_says_so(tmp_path, command, says):
    client, _http, _clock = make_client({"status": "success"}, tmp_path=tmp_path)
    client.http.request = lambda *a, prepare=None, **k: (prepare(), FakeResponse("Bad Gateway", 502))[1]
    with pytest.raises(StreamingError, match="HTTP 502") as caught:
        client.call(command, {"app": "a"})
    assert (says in str(caught.value)) if says else "not repeated" not in str(caught.value)


def test_transport_failures_name_the_command(tmp_path):
    client, _http, _clock = make_client(tmp_path=tmp_path)

    def fail(*args, **kwargs):
        raise StreamingError("request failed: the connection was reset", method="POST", url=client.api_url, advice="The request was not repeated")

    client.http.request = fail
    expected = r"^ScaleEngine recording\.start: request failed: the connection was reset \(POST .*\)\. The request was not"
    with pytest.raises(StreamingError, match=expected) as caught:
        client.call("recording.start", {"app": "a"})
    assert caught.value.url == client.api_url


BROKEN_ANSWERS = [
    (b"<html>Maintenance</html>", "the answer is not a JSON object the module can read: it is not valid JSON"),
    ({"status": 5}, 'the answer cannot be used: its "status" is the number 5'),
    ({"status": "failure", "code": [4]}, 'the answer cannot be used: its "code" is a list'),
]


@pytest.mark.parametrize(("body", "says"), BROKEN_ANSWERS)
def test_broken_answers_to_a_change_say_it_may_have_taken_effect(tmp_path, body, says):
    client, _http, _clock = make_client(body, tmp_path=tmp_path)
    with pytest.raises(StreamingError) as caught:
        client.call("stream.close", {"stream_id": 1000})
    assert says in str(caught.value) and "stream.close may have taken effect" in str(caught.value)


def test_server_text_is_scrubbed_before_it_is_shortened(tmp_path):
    """A key cut in half by the shortening would otherwise show its first half."""
    message = "x" * 280 + API_KEY + " " + SECRET
    client, _http, _clock = make_client({"status": "failure", "code": "0004", "message": message}, tmp_path=tmp_path)
    with pytest.raises(StreamingError) as caught:
        client.call("viewer.live", {"app": "a"})
    text = str(caught.value) + json.dumps(caught.value.result())
    assert API_KEY[:12] not in text and SECRET[:12] not in text


def test_the_client_reads_at_most_the_json_bound(tmp_path):
    """The client's own HTTP session (no request is sent) stops reading at the JSON bound."""
    params = dict(PARAMS, timeout=5, validate_certs=True, ca_path=None)
    client = ScaleEngineClient(params, ExecutionContext(), ledger=TimestampLedger(path=str(tmp_path / "ledger.json")))
    assert client.http.max_response_bytes == MAX_ANSWER_BYTES == 8 * 1024 * 1024
    client.close()


def test_an_injected_transport_is_used_as_it_is_and_closed_with_the_client(tmp_path):
    http = FakeHttp()
    with ScaleEngineClient(PARAMS, ExecutionContext(), http=http, ledger=TimestampLedger(path=str(tmp_path / "ledger.json"))) as client:
        assert client.http is http and not hasattr(http, "max_response_bytes")
    assert http.closed


@pytest.mark.parametrize("override", [{"api_key": ""}, {"api_secret": ""}])
def test_empty_credentials_are_refused_before_any_transport_is_made(override):
    with pytest.raises(StreamingError, match="must not be empty"):
        ScaleEngineClient(dict(PARAMS, **override), ExecutionContext())


def test_an_empty_api_url_means_the_default(tmp_path):
    client = ScaleEngineClient(dict(PARAMS, api_url=""), ExecutionContext(), http=FakeHttp(), ledger=TimestampLedger(path=str(tmp_path / "l")))
    assert client.api_url == "https://api.scaleengine.net/stable/"
