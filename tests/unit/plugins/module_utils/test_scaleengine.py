# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for plugins/module_utils/scaleengine.py: PHP-compatible signing, answers, client, work functions."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import time

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import scaleengine as se
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from tests.emulators import scaleengine as emulator_module
from tests.emulators.scaleengine import ScaleEngineEmulator

# Test vectors measured with PHP 8.2 json_encode (docs/scaleengine.md, "Signing, retries and failures").
SECRET = "8fc8c48da81e6a2a06a9556379bf798af508dc0792497c678b4c3532ba8b637f"
API_KEY = "APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE"
CDN = 158
TIMESTAMP = 1700000000

VECTORS = [
    (
        "stream.close",
        {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"},
        CDN,
        '{"command":"stream.close","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","inst":"live","stream":"my_live_stream"}',
        "FaVyNfvFbt22z98k2uJIG70KDUwTAevh1ZNh9wP+nAI=",
    ),
    (
        "pushpublish.disconnect",
        {"app": "demo-origin", "inst": "live", "entry_name": "session_1"},
        CDN,
        '{"command":"pushpublish.disconnect","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","inst":"live","entry_name":"session_1"}',
        "o+R+nK6ibYSPMw6CPP08rmNpwoW+801OGd9FcCp8SD0=",
    ),
    (
        "viewer.live",
        {"app": "demo-origin", "url": "sestore3/username/path/filename.mp4"},
        CDN,
        '{"command":"viewer.live","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","url":"sestore3\\/username\\/path\\/filename.mp4"}',
        "W5Qiw7g4SUm0lI/1dA8XM2YDHiOShSmCU0lRPJbQNhY=",
    ),
    (
        "stream.details",
        {"app": "demo-origin", "inst": "live", "stream": "caf\u00e9_\U0001f600"},
        CDN,
        '{"command":"stream.details","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":158,'
        '"app":"demo-origin","inst":"live","stream":"caf\\u00e9_\\ud83d\\ude00"}',
        "YzYnb4iCdInxR4MNqrNd0+4ukxZojIj+zm9FOvIJFrw=",
    ),
    (
        "stream.close",
        {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"},
        "158",
        '{"command":"stream.close","api_key":"APX4GKLM0RKQLSP2FBO1ROPKSSW47DZE","timestamp":1700000000,"cdn":"158",'
        '"app":"demo-origin","inst":"live","stream":"my_live_stream"}',
        "i5amLjwRQlX2Z6rAiaBVgzbuEl6RYqLqIOjHCOxIZM0=",
    ),
]


def hmac_b64(text: str, key: bytes = SECRET.encode()) -> str:
    return base64.b64encode(hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()).decode()


# -- signing: the measured vectors ----------------------------------------------


@pytest.mark.parametrize(("command", "fields", "cdn", "text", "signature"), VECTORS, ids=["1-close", "2-push", "3-slash", "4-unicode", "5-cdn-string"])
def test_vectors(command, fields, cdn, text, signature):
    request = se.build_request(command, fields, API_KEY, cdn, TIMESTAMP)
    assert se.php_json_encode(request) == text
    assert se.sign_request(request, SECRET) == signature


def test_wrong_variants_differ():
    """What other clients get wrong gives the measured wrong signatures, never the right one."""
    request3 = se.build_request("viewer.live", VECTORS[2][1], API_KEY, CDN, TIMESTAMP)
    raw_slash = se.php_json_encode(request3).replace("\\/", "/")
    assert hmac_b64(raw_slash) == "Na8I8pERz5VHwT5ysGAfuMY46glfhHFRJ60Wik7PLGs="
    assert hmac_b64(raw_slash) != se.sign_request(request3, SECRET)

    request4 = se.build_request("stream.details", VECTORS[3][1], API_KEY, CDN, TIMESTAMP)
    raw_utf8 = json.dumps(request4, separators=(",", ":"), ensure_ascii=False)
    assert hmac_b64(raw_utf8) == "EKJVwQy2gyrwpI/Z9pNhoSpNllLiNvB/z96ACxppEp0="
    assert hmac_b64(raw_utf8) != se.sign_request(request4, SECRET)

    # Python's json.dumps default (spaces) and a hex-decoded secret differ too.
    request1 = se.build_request(*VECTORS[0][:2], API_KEY, CDN, TIMESTAMP)
    assert hmac_b64(json.dumps(request1)) != VECTORS[0][4]
    assert hmac_b64(VECTORS[0][3], bytes.fromhex(SECRET)) != VECTORS[0][4]
    # Key order is part of what is signed.
    reordered = dict(reversed(list(request1.items())))
    assert se.sign_request(reordered, SECRET) != VECTORS[0][4]


def test_signature_is_padded_base64_of_the_raw_digest():
    signature = se.sign_request(se.build_request(*VECTORS[0][:2], API_KEY, CDN, TIMESTAMP), SECRET)
    assert len(signature) == 44 and signature.endswith("=")
    assert len(base64.b64decode(signature)) == 32


def test_signed_body_puts_the_signature_last_with_escaped_slashes():
    request = se.build_request("viewer.live", VECTORS[2][1], API_KEY, CDN, TIMESTAMP)
    body = se.signed_body(request, SECRET)
    assert body == VECTORS[2][3][:-1] + ',"signature":"W5Qiw7g4SUm0lI\\/1dA8XM2YDHiOShSmCU0lRPJbQNhY="}'
    assert list(json.loads(body))[-1] == "signature"
    assert "signature" not in request  # the caller's request is not modified


def test_build_request_order_and_reserved_fields():
    request = se.build_request("stream.close", {"stream": "s", "app": "a"}, API_KEY, CDN, 5)
    assert list(request) == ["command", "api_key", "timestamp", "cdn", "stream", "app"]
    for name in ("signature", "api_key", "timestamp", "cdn", "command"):
        with pytest.raises(StreamingError, match=name):
            se.build_request("stream.close", {name: "x"}, API_KEY, CDN, 5)


# -- the encoder, rule by rule (PHP 8.2 json_encode defaults) ----------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a/b", '"a\\/b"'),
        ('q"b\\s', '"q\\"b\\\\s"'),
        ("\b\f\n\r\t", '"\\b\\f\\n\\r\\t"'),
        ("\x00\x01\x1f", '"\\u0000\\u0001\\u001f"'),
        ("\x0b\x1b", '"\\u000b\\u001b"'),
        ("\x7f", '"\x7f"'),  # DEL raw (json.dumps would write \u007f)
        ("<>&'", '"<>&\'"'),
        ("\u00e9\u20ac\uffff", '"\\u00e9\\u20ac\\uffff"'),
        ("\U0001f600\U0010ffff", '"\\ud83d\\ude00\\udbff\\udfff"'),
        ("\u00c9", '"\\u00c9"'),  # lowercase hex digits, uppercase letter in the text
        ("", '""'),
        (True, "true"),
        (False, "false"),
        (None, "null"),
        (0, "0"),
        (-42, "-42"),
        (2**63 - 1, "9223372036854775807"),
        (-(2**63), "-9223372036854775808"),
        ([], "[]"),
        ([1, "a", None, [True]], '[1,"a",null,[true]]'),
        ({"b": 1, "a": {"x/y": ["z"]}}, '{"b":1,"a":{"x\\/y":["z"]}}'),
        ({"1": "a", "0": "b"}, '{"1":"a","0":"b"}'),  # not 0..n-1 in order: stays an object in PHP
        ({"5": "a"}, '{"5":"a"}'),
        ("caf\u00e9".encode(), '"caf\\u00e9"'),
        (("a", 1), '["a",1]'),
    ],
)
def test_encoder_rules(value, expected):
    assert se.php_json_encode(value) == expected


def test_json_dumps_is_not_php():
    """Why the module has its own encoder: json.dumps escapes DEL and leaves '/' raw."""
    assert json.dumps("\x7f/") == '"\\u007f/"'
    assert se.php_json_encode("\x7f/") == '"\x7f\\/"'


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1.5, "floating-point"),
        (1.0, "floating-point"),
        (float("nan"), "floating-point"),
        ({}, "empty object"),
        ({"a": {"b": {}}}, "empty object"),
        ({"0": "a", "1": "b"}, "becomes a list"),
        ({"0": "a"}, "becomes a list"),
        (b"\xff\xfe", "not valid UTF-8"),
        ("bad\udcff", "not valid UTF-8"),
        ("\ud83d", "not valid UTF-8"),
        (2**63, "64 bits"),
        (-(2**63) - 1, "64 bits"),
        ({1: "a"}, "not a string"),
        ({"a", "b"}, "type set"),
    ],
)
def test_refuses_values_that_cannot_survive_the_round_trip(value, problem):
    with pytest.raises(StreamingError, match=problem) as caught:
        se.php_json_encode({"field": [value]})
    assert "request.field[0]" in str(caught.value)
    assert "PHP" in str(caught.value)  # the advice says why


def test_emulator_decodes_what_the_refused_values_would_become():
    """The refusals are real: the PHP round trip changes these texts (so the signature could never verify)."""
    for text in ('{"a":{}}', '{"a":{"0":"x","1":"y"}}', '{"a":1.0}', '{"a":18446744073709551616}'):
        assert emulator_module.php_encode(emulator_module.php_decode(text)) != text


@pytest.mark.parametrize(
    "value",
    [
        {"s": "sestore3/username/path/filename.mp4", "u": "caf\u00e9_\U0001f600 \u4e2d\u6587", "c": '\x00\x01\x1f\x7f\b\f\n\r\t"\\/'},
        {"list": [1, -2, True, False, None, "x", ["y", {"k": "v"}]], "n": 9007199254740993},
        {"quotes": "\\u007f", "odd": "\\\\u007f\x7f", "html": "<a href='x'>&amp;</a>"},
        {"3": "x", "key/with/slash": {"\u00e9": "\U0001f3b5"}},
    ],
)
def test_agrees_with_the_emulators_independent_php_model(value):
    text = se.php_json_encode(value)
    assert emulator_module.php_encode(emulator_module.php_decode(text)) == text


# -- answers ---------------------------------------------------------------


@pytest.mark.parametrize(("code", "expected"), [(3, "0003"), ("3", "0003"), ("0003", "0003"), (1000, "1000"), ("", None), (None, None), ("E12", "E12")])
def test_normalise_code(code, expected):
    assert se.normalise_code(code) == expected


def test_failure_and_not_found_detection():
    assert se.is_failure({"status": "failure", "message": "x"})
    assert se.is_failure({"message": "no status at all"})
    assert not se.is_failure({"status": "success"})
    assert not se.is_failure({"status": "failure", "code": 100, "message": "operation queued"})
    assert se.is_not_found({"status": "failure", "message": "Stream not found: a/b/c is not live"})
    assert se.is_not_found({"status": "failure", "message": "No matching PushPublish session is connected"})
    # A general code is never "not found", whatever the text says.
    assert not se.is_not_found({"status": "failure", "code": "0006", "message": "Required fields missing: stream not found"})
    assert not se.is_not_found({"status": "failure", "code": 1, "message": "CDN authorization failed"})
    assert not se.is_not_found({"status": "failure", "message": "Something else broke"})
    assert not se.is_not_found({"status": "success", "message": "not live"})


def test_records_tolerates_shapes():
    assert se.records(None) == [] and se.records([]) == [] and se.records({}) == []
    assert se.records([{"a": 1}, None]) == [{"a": 1}]
    assert se.records({"s1": {"a": 1}, "s2": {"a": 2}}) == [{"a": 1}, {"a": 2}]
    assert se.records({"stream": "s1", "app": "a"}) == [{"stream": "s1", "app": "a"}]


class FakeResponse:
    """The parts of requests.Response the client reads: the status and the body as bytes."""

    def __init__(self, body, status=200):
        if isinstance(body, bytes):
            self.content = body
        else:
            self.content = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.status_code = status


class FakeHttp:
    """Stands in for HttpClient: answers in turn; calls prepare() once per answer, as each try does."""

    def __init__(self, *answers, tries_per_answer=1):
        self.answers = list(answers)
        self.tries_per_answer = tries_per_answer
        self.posted = []
        self.repeatable = []

    def request(self, method, url, prepare=None, repeatable=None, **kwargs):
        assert method == "POST" and repeatable in (True, False)
        self.repeatable.append(repeatable)
        for _attempt in range(self.tries_per_answer):
            self.posted.append((url, prepare()["files"]["json"][1]))
        return FakeResponse(self.answers.pop(0))

    def close(self):
        pass


class FakeClock:
    def __init__(self, now=1700000000.2):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


PARAMS = dict(api_url="http://api.example.net/stable", cdn=CDN, api_key=API_KEY, api_secret=SECRET, retries=3)


def make_client(*answers, tmp_path, tries_per_answer=1, warnings=None):
    clock = FakeClock()
    ledger = se.TimestampLedger(path=str(tmp_path / "ledger.json"), clock=clock, sleep=clock.sleep)
    http = FakeHttp(*answers, tries_per_answer=tries_per_answer)
    client = se.ScaleEngineClient(PARAMS, warn=(warnings if warnings is not None else []).append, http=http, clock=clock, sleep=clock.sleep, ledger=ledger)
    return client, http, clock


def test_client_posts_a_signed_body_to_the_url_with_its_slash(tmp_path):
    client, http, _clock = make_client({"status": "success", "message": ""}, tmp_path=tmp_path)
    client.call("stream.close", {"app": "demo-origin", "inst": "live", "stream": "my_live_stream"})
    url, body = http.posted[0]
    assert url == "http://api.example.net/stable/"
    assert body == VECTORS[0][3][:-1] + ',"signature":"FaVyNfvFbt22z98k2uJIG70KDUwTAevh1ZNh9wP+nAI="}'


def test_every_try_is_signed_again_with_a_fresh_timestamp(tmp_path):
    client, http, clock = make_client({"status": "success"}, tmp_path=tmp_path, tries_per_answer=3)
    client.call("viewer.live", {"app": "demo-origin"})
    bodies = [json.loads(body) for _url, body in http.posted]
    assert [body["timestamp"] for body in bodies] == [1700000000, 1700000001, 1700000002]
    assert len({body["signature"] for body in bodies}) == 3
    assert clock.slept  # waited for the next second instead of reusing one


def test_ledger_keeps_signatures_unique_across_processes(tmp_path):
    clock = FakeClock()
    first = se.TimestampLedger(path=str(tmp_path / "l.json"), clock=clock, sleep=clock.sleep)
    second = se.TimestampLedger(path=str(tmp_path / "l.json"), clock=clock, sleep=clock.sleep)
    assert first.claim("same") == 1700000000
    assert second.claim("other") == 1700000000  # a different request needs no wait
    assert second.claim("same") == 1700000001
    assert not (tmp_path / "l.json").stat().st_mode & 0o077


def test_ledger_refuses_a_planted_link(tmp_path):
    target = tmp_path / "precious"
    target.write_text("keep me")
    (tmp_path / "link.json").symlink_to(target)
    clock = FakeClock()
    ledger = se.TimestampLedger(path=str(tmp_path / "link.json"), clock=clock, sleep=clock.sleep)
    assert ledger.claim("x") == 1700000000
    assert ledger.claim("x") == 1700000001  # still unique within the process
    assert target.read_text() == "keep me"


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
    assert "The API said no" in text and f"code {se.normalise_code(code)}" in text and advice in text
    assert caught.value.result()["api_code"] == se.normalise_code(code)
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
    assert se.normalise_api_url(url) == expected


@pytest.mark.parametrize("url", ["ftp://a", "api.example.net/stable/", "https://a.example/stable/?x=1", "https://a.example/st able/", "https://a\x00.example/"])
def test_api_url_must_be_http(url):
    with pytest.raises(StreamingError):
        se.normalise_api_url(url)


# -- work functions against the in-process emulator ------------------------------


@pytest.fixture
def api(tmp_path):
    emulator = ScaleEngineEmulator().start()
    params = dict(PARAMS, api_url=emulator.url() + "/stable/", timeout=5, validate_certs=True, ca_path=None)
    emulator.params = params
    yield emulator
    emulator.stop()


def work_client(api):
    return se.ScaleEngineClient(api.params)


def stream_params(api, **overrides):
    params = dict(api.params, app="demo-origin", inst="live", stream="my_live_stream", stream_id=None, origin_url=None)
    params.update(overrides)
    return params


def test_close_stream_closes_then_reports_unchanged(api):
    client = work_client(api)
    result = se.close_stream(stream_params(api), client=client)
    assert result["changed"] is True and result["stream"]["stream_id"] == 1000
    assert not api.is_live("demo-origin", "live", "my_live_stream")
    again = se.close_stream(stream_params(api), client=client)
    assert again == {"changed": False, "stream": None, "message": "demo-origin/live/my_live_stream is not live; nothing to close"}
    assert [item["command"] for item in api.commands()] == ["stream.details", "stream.close", "stream.details"]


def test_close_stream_check_mode_sends_no_close(api):
    result = se.close_stream(stream_params(api), check_mode=True, client=work_client(api))
    assert result["changed"] is True
    assert api.is_live("demo-origin", "live", "my_live_stream")
    assert api.commands("stream.close") == []


def test_close_stream_by_id(api):
    params = stream_params(api, stream=None, stream_id=1000)
    result = se.close_stream(params, client=work_client(api))
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
    client = work_client(api)
    first = se.disconnect_pushpublish(params, client=client)
    assert first["changed"] is True and first["verified"] is True
    assert first["sessions_disconnected"] == [{"entry_name": "session_1", "push_service_id": 1234, "stream": "my_live_stream"}]
    second = se.disconnect_pushpublish(params, client=client)
    assert second["changed"] is False and second["sessions_disconnected"] == []
    assert len(api.commands("pushpublish.disconnect")) == 1


def test_pushpublish_star_in_check_mode_lists_all_and_sends_nothing(api):
    params = dict(api.params, app="demo-origin", inst="live", stream="my_live_stream", entry_name="*", push_service_id=None, origin_url=None)
    result = se.disconnect_pushpublish(params, check_mode=True, client=work_client(api))
    assert result["changed"] is True
    assert [item["entry_name"] for item in result["sessions_disconnected"]] == ["session_1", "cupertino-akamai"]
    assert api.commands("pushpublish.disconnect") == []


def test_viewer_info_lists_and_wildcards(api):
    params = dict(api.params, app=["demo-origin", 2], url="my_live_stream_*|channel1")
    result = se.viewer_info(params, client=work_client(api))
    assert sorted(item["video_url"] for item in result["viewers"]) == ["channel1", "my_live_stream_720p"]
    assert result["changed"] is False


@pytest.mark.parametrize(("app", "url"), [([], None), (True, None), (1.5, None), ("a", []), ("a", 5)])
def test_viewer_info_validates_app_and_url(app, url):
    with pytest.raises(StreamingError):
        se.viewer_info(dict(PARAMS, app=app, url=url), client=object())


def test_run_command_check_mode_and_read_only(api):
    base = dict(api.params, command="stream.active", params={"app": "demo-origin", "inst": "live"}, changed=False, read_only=False)
    skipped = se.run_command(dict(base, changed=True), check_mode=True, client=work_client(api))
    assert skipped == {"changed": True, "sent": False, "response": None}
    assert api.commands() == []
    sent = se.run_command(dict(base, read_only=True), check_mode=True, client=work_client(api))
    assert sent["sent"] is True and sent["changed"] is False and sent["response"]["data"][0]["stream"] == "my_live_stream"
    with pytest.raises(StreamingError, match="contradicts"):
        se.run_command(dict(base, read_only=True, changed=True), client=work_client(api))
    with pytest.raises(StreamingError, match="api_key"):
        se.run_command(dict(base, params={"api_key": "x"}), client=work_client(api))
    with pytest.raises(StreamingError, match="command must look like"):
        se.run_command(dict(base, command="stream close"), client=work_client(api))
    with pytest.raises(StreamingError, match="code 0000"):
        se.run_command(dict(base, command="stream.bogus", params={}), client=work_client(api))


def test_emulator_rejects_stale_future_and_replayed_requests(api, tmp_path):
    clock = FakeClock(now=api.clock() - 1000)
    stale = se.ScaleEngineClient(api.params, clock=clock, sleep=clock.sleep, ledger=se.TimestampLedger(path=str(tmp_path / "a"), clock=clock))
    with pytest.raises(StreamingError, match="code 0002"):
        stale.call("viewer.live", {"app": "demo-origin"})
    clock.now += 2000
    with pytest.raises(StreamingError, match="code 0002"):
        stale.call("viewer.live", {"app": "demo-origin"})
    # A replay: the same body posted twice (a client without the ledger would do this).
    request = se.build_request("viewer.live", {"app": "demo-origin"}, API_KEY, CDN, int(api.clock()))
    body = se.signed_body(request, SECRET)
    import requests

    answers = [requests.post(api.params["api_url"], data={"json": body}, timeout=5).json() for _attempt in range(2)]
    assert answers[0]["status"] == "success"
    assert answers[1]["status"] == "failure" and answers[1]["code"] == "0005"


def test_emulator_rejects_unknown_key_and_cdn(api):
    for override in ({"api_key": "NOPE"}, {"cdn": 159}):
        with pytest.raises(StreamingError, match="code 0001"):
            se.ScaleEngineClient(dict(api.params, **override)).call("viewer.live", {"app": "demo-origin"})


# -- hostile answers: the bounded decoder (shared with the Red5 client) -----------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff{}", "not UTF-8 text (byte 0"),
        (b'{"a":"caf\xc3"}', "not UTF-8 text (byte 9"),
        (b"[" * 33 + b"]" * 33, "more than 32 levels deep"),
        (b'{"a":' + b"[" * 100000 + b"]" * 100000 + b"}", "more than 32 levels deep"),
        (b'{"a":' + b"{" * 40 + b"}" * 40 + b"}", "more than 32 levels deep"),
        (b'{"a":NaN}', "NaN, which is not a JSON number"),
        (b"[Infinity]", "Infinity, which is not a JSON number"),
        (b"[-Infinity]", "-Infinity, which is not a JSON number"),
        (b"[1e999]", "too large for a floating-point number"),
        (b"[-1e999]", "too large for a floating-point number"),
        (b"[" + b"9" * 41 + b"]", "a number of 41 digits"),
        (b"[-" + b"9" * 5000 + b"]", "a number of 5000 digits"),
        (b'{"status":"failure","status":"success"}', 'the key "status" appears twice'),
        (b'{"data":[{"id":1,"id":2}]}', 'the key "id" appears twice'),
        (b'{"m":"\\ud800"}', "half of a UTF-16 surrogate pair"),
        (b'{"m":"\\udc00x"}', "half of a UTF-16 surrogate pair"),
        (b'{"\\ud83d":1}', "half of a UTF-16 surrogate pair"),
        (b'{"status":"succ', "not valid JSON"),
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", "not valid JSON"),
        (b"", "not valid JSON"),
    ],
)
def test_decode_json_answer_refuses_with_the_reason(content, problem):
    with pytest.raises(se.AnswerError, match=re.escape(problem)):
        se.decode_json_answer(content)


def test_decode_json_answer_refuses_more_than_the_bound_before_decoding():
    with pytest.raises(se.AnswerError, match=r"it is 8 MiB long, more than the 8 MiB"):
        se.decode_json_answer(b" " * (8 * 1024 * 1024) + b"x")  # one byte over
    with pytest.raises(se.AnswerError, match="it is 11 bytes long, more than the 10 bytes"):
        se.decode_json_answer(b'{"a":"bcd"}', max_bytes=10)
    assert se.decode_json_answer(b'{"a":"bc"}', max_bytes=10) == {"a": "bc"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xef\xbb\xbf" + b'{"status":"success"}', {"status": "success"}),  # a byte order mark is tolerated
        (b"[" * 32 + b"]" * 32, json.loads("[" * 32 + "]" * 32)),  # exactly the bound
        (b'{"a":"' + b"[" * 40 + b'"}', {"a": "[" * 40}),  # brackets inside strings do not nest
        (b'{"a":"\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"","b":[1]}', {"a": '"' + "[" * 37 + '"', "b": [1]}),
        (b'{"a":"\\\\","b":' + b"[" * 31 + b"]" * 31 + b"}", {"a": "\\", "b": json.loads("[" * 31 + "]" * 31)}),
        (b'{"m":"\\ud83d\\ude00 caf\\u00e9"}', {"m": "\U0001f600 caf\u00e9"}),  # a surrogate pair is text
        (b"[" + b"9" * 40 + b", -1.5e300, 0.1]", [int("9" * 40), -1.5e300, 0.1]),
        (b'"just text"', "just text"),
    ],
)
def test_decode_json_answer_accepts_what_is_within_the_bounds(content, expected):
    assert se.decode_json_answer(content) == expected


def test_decode_json_answer_counts_nesting_in_linear_time():
    """Quotes and backslashes that would make a string pattern backtrack (quadratic time) are handled in one pass each."""
    hostile = [
        b'"' + b'\\"' * (512 * 1024),  # an unterminated string of escaped quotes
        b'"\\\\' * (512 * 1024),  # an unterminated string of escaped backslashes
        b'"' * (1024 * 1024),
        b"[" + b"[]," * (512 * 1024) + b"[]]",  # wide, not deep: valid
        b"[" * (1024 * 1024),
    ]
    for content in hostile:
        started = time.monotonic()
        with contextlib.suppress(se.AnswerError):
            se.decode_json_answer(content)
        assert time.monotonic() - started < 5, content[:20]


def test_decode_json_answer_turns_a_recursion_error_into_the_nesting_message(monkeypatch):
    """Should the bracket count ever miss, Python's own RecursionError still becomes the same sentence."""
    monkeypatch.setattr(se, "_nesting_exceeds", lambda text, limit: False)
    with pytest.raises(se.AnswerError, match="more than 32 levels deep"):
        se.decode_json_answer(b"[" * 100000 + b"]" * 100000)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "null"),
        (True, "the boolean true"),
        (3, "the number 3"),
        (2.5, "the number 2.5"),
        ("", "an empty string"),
        ("live", 'the string "live"'),
        ("a\x1bb", 'the string "a\\u001bb"'),
        ([1], "a list"),
        ({"a": 1}, "an object"),
    ],
)
def test_describe(value, expected):
    assert se.describe(value) == expected


def test_printable_bounds_and_escapes_server_text():
    assert se.printable("a\x1b[2J\x07b\u202ec\ufeffd\x9b") == "a\\u001b[2J\\u0007b\\u202ec\\ufeffd\\u009b"
    assert se.printable("line one\n  line two\r\n\tthree") == "line one line two three"
    assert se.printable("keep\nthe\tnewline", collapse=False) == "keep\\u000athe\\u0009newline"
    assert se.printable("x" * 1000, 10) == "x" * 10 + "..."
    assert len(se.printable("\x00" * 100000)) < 2000
    assert se.answer_text({"error": "db down", "n": [1, None]}) == '{"error":"db down","n":[1,null]}'
    assert se.answer_text(False) == "false" and se.answer_text(7) == "7" and se.answer_text(None) == ""


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ([{"status": "success"}], "it is a list, not a JSON object"),
        ("success", 'it is the string "success", not a JSON object'),
        ({"status": ["success"]}, '"status" is a list'),
        ({"status": 1}, '"status" is the number 1'),
        ({"status": True}, '"status" is the boolean true'),
        ({"status": "failure", "code": 3.0}, '"code" is the number 3.0'),
        ({"status": "failure", "code": False}, '"code" is the boolean false'),
        ({"status": "failure", "code": ["0003"]}, '"code" is a list'),
        ({"data": []}, 'neither "status" nor "code"'),
        ({}, 'neither "status" nor "code"'),
    ],
)
def test_check_envelope_refuses_what_decides_the_outcome(answer, problem):
    with pytest.raises(se.AnswerError, match=re.escape(problem)):
        se.check_envelope(answer)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": "success"},
        {"status": "failure", "code": 3},
        {"status": "failure", "code": "0003", "message": {"any": ["type"]}},
        {"code": 100},  # queued, without a status
        {"status": "success", "message": 12, "data": "checked where it is read"},
    ],
)
def test_check_envelope_accepts(answer):
    se.check_envelope(answer)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("live", '"data" is the string "live", not a list or an object'),
        (42, '"data" is the number 42'),
        (False, '"data" is the boolean false'),
        ("", '"data" is an empty string'),
        ([{"a": 1}, 7], 'item 1 of "data" is the number 7, not an object'),
        ([["nested"]], 'item 0 of "data" is a list'),
    ],
)
def test_records_refuses_what_is_not_records(data, problem):
    with pytest.raises(se.AnswerError, match=re.escape(problem)):
        se.records(data, '"data"')


def test_records_null_items_are_skipped_and_empty_means_none():
    assert se.records([None, {"a": 1}, None]) == [{"a": 1}]
    assert se.records(None) == [] and se.records({}) == [] and se.records([]) == []


def test_not_found_reads_a_message_of_any_type():
    assert se.is_not_found({"status": "failure", "message": ["Stream not found"]})
    assert not se.is_not_found({"status": "failure", "message": {"code": 7}})
    assert se.answer_message({"message": {"m": 1}}) == '{"m":1}'


# -- PushPublish sessions as the details list them ----------------------------------------------


def _details(sessions, **extra):
    return dict({"app": "demo-origin", "inst": "live", "stream": "s1", "pushpublish": sessions}, **extra)


@pytest.mark.parametrize(
    ("session", "connected"),
    [
        ({"entry_name": "a"}, True),
        ({"entry_name": "a", "connected": True}, True),
        ({"entry_name": "a", "connected": False}, False),
        ({"entry_name": "a", "connected": 0}, False),
        ({"entry_name": "a", "connected": 1}, True),
        ({"entry_name": "a", "connected": "false"}, False),
        ({"entry_name": "a", "connected": " No "}, False),
        ({"entry_name": "a", "connected": "TRUE"}, True),
        ({"entry_name": "a", "status": "Stopped"}, False),
        ({"entry_name": "a", "state": "disconnected"}, False),
        ({"entry_name": "a", "status": None, "state": "closed"}, False),
        ({"entry_name": "a", "status": "streaming"}, True),
        ("entry-name-only", True),
    ],
)
def test_sessions_connected_flag(session, connected):
    (found,) = se._sessions_of([_details([session])])
    assert found["_connected"] is connected
    assert found["stream"] == "s1"


@pytest.mark.parametrize(
    ("sessions", "problem"),
    [
        ("session_1", 'the "pushpublish" of stream "s1" is the string "session_1", not a list of sessions'),
        (5, "is the number 5, not a list of sessions"),
        ([{"entry_name": "a"}, 7], 'item 1 of the "pushpublish" of stream "s1" is the number 7, not a session'),
        ([{"entry_name": ["a"]}], 'the "entry_name" of session 0 in the "pushpublish" of stream "s1" is a list'),
        ([{"entry_name": "a", "push_service_id": 1.5}], '"push_service_id" of session 0'),
        ([{"entry_name": "a", "connected": "maybe"}], '"connected" of session 0 in the "pushpublish" of stream "s1" is the string "maybe"'),
        ([{"entry_name": "a", "connected": 2}], "is the number 2, not true or false"),
        ([{"entry_name": "a", "status": ["stopped"]}], 'the "status" of session 0'),
    ],
)
def test_sessions_of_an_odd_shape_are_refused(sessions, problem):
    with pytest.raises(se.AnswerError, match=re.escape(problem)):
        se._sessions_of([_details(sessions)])


def test_sessions_listing_rules():
    assert se._sessions_of([]) == []  # no live stream
    assert se._sessions_of([{"stream": "s1"}]) is None  # not listed: the disconnect is sent unverified
    assert se._sessions_of([_details(None)]) is None  # null says nothing either
    assert se._sessions_of([_details([])]) == []  # listed and empty
    by_name = se._sessions_of([_details({"one": {"entry_name": "one"}, "two": {"entry_name": "two", "stream": "s2"}})])
    assert [(item["entry_name"], item["stream"]) for item in by_name] == [("one", "s1"), ("two", "s2")]
    with pytest.raises(se.AnswerError, match='the "stream" of stream 0 is an object'):
        se._sessions_of([{"stream": {"x": 1}, "pushpublish": []}])


def test_same_id_compares_text_and_whole_numbers_only():
    assert se._same_id("1000", 1000) and se._same_id(" 7", "7")
    assert not se._same_id(True, 1) and not se._same_id([1000], 1000) and not se._same_id(None, None) and not se._same_id(1000.0, 1000)


# -- hostile input: refused before anything is sent --------------------------------------------


def _nested(levels):
    value = "leaf"
    for _level in range(levels):
        value = {"n": value}
    return value


def test_request_fields_are_bounded_in_depth_and_size():
    se.check_request_fields({"deep": _nested(31)}, "params.")  # the params object is level 1: 32 in all
    with pytest.raises(StreamingError, match=r"params\.deep(\.n){31} nests lists and objects more than 32 levels deep"):
        se.check_request_fields({"deep": _nested(32)}, "params.")
    with pytest.raises(StreamingError, match=r"more than 32 levels deep"):
        se.check_request_fields({"deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})
    with pytest.raises(StreamingError, match="too large to send: params hold more than 1 MiB"):
        se.check_request_fields({"note": "x" * (1024 * 1024)}, "params.")
    with pytest.raises(StreamingError, match="too large to send"):
        se.check_request_fields({"many": list(range(200000))})
    with pytest.raises(StreamingError, match="too large to send"):
        se.check_request_fields({f"k{index}": "v" for index in range(200000)})


def test_the_encoder_refuses_depth_itself():
    with pytest.raises(StreamingError, match=r"request\.a(\.n){31} nests"):
        se.php_json_encode({"a": _nested(32)})
    assert se.php_json_encode({"a": _nested(2)}) == '{"a":{"n":{"n":"leaf"}}}'


def test_run_command_refuses_huge_or_deep_params_in_check_mode_too():
    base = dict(PARAMS, command="recording.start", changed=True, read_only=False)
    with pytest.raises(StreamingError, match="too large to send"):
        se.run_command(dict(base, params={"note": "x" * (1024 * 1024 + 1)}), check_mode=True, client=object())
    with pytest.raises(StreamingError, match=r"params\.deep"):
        se.run_command(dict(base, params={"deep": _nested(40)}), check_mode=True, client=object())
    # Escapes make the encoded text longer than the raw one: the exact size is checked too.
    with pytest.raises(StreamingError, match=r"params would be [0-9.]+ MiB once encoded"):
        se.run_command(dict(base, params={"note": "\U0001f600" * 100000}), check_mode=True, client=object())
    with pytest.raises(StreamingError, match="params must be an object"):
        se.run_command(dict(base, params=["a"]), check_mode=True, client=object())
    with pytest.raises(StreamingError, match="command must look like"):
        se.run_command(dict(base, command="stream.\u212aill", params={}), check_mode=True, client=object())


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
        se.check_name(value, option)
    assert "Remove it" in str(caught.value)


def test_names_without_control_characters_pass():
    for value in ("caf\u00e9/\U0001f600 <live>", 42, None, ["a", 1], "sestore3/x/y.mp4|mystream_*"):
        assert se.check_name(value, "stream") == value


def test_work_functions_check_names_before_any_request():
    params = dict(PARAMS, app="demo-origin", inst="live", stream="my_live_stream\n", stream_id=None, origin_url=None)
    with pytest.raises(StreamingError, match="U\\+000A"):
        se.close_stream(params, client=object())
    push = dict(PARAMS, app="demo-origin", inst="live", stream=None, entry_name="a\rb", push_service_id=None, origin_url=None)
    with pytest.raises(StreamingError, match="U\\+000D"):
        se.disconnect_pushpublish(push, client=object())
    with pytest.raises(StreamingError, match="not a list"):
        se.viewer_info(dict(PARAMS, app=[["demo-origin"]], url=None), client=object())
    with pytest.raises(StreamingError, match="U\\+0000"):
        se.viewer_info(dict(PARAMS, app="demo-origin", url=["a", "\x00"]), client=object())
    with pytest.raises(StreamingError, match="U\\+000A"):
        se.run_command(dict(PARAMS, command="stream.close", params={"stream": "s\n"}, changed=True, read_only=False), client=object())


# -- the client: what may be repeated, and what it says about broken answers -------------------------


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


@pytest.mark.parametrize(
    ("command", "read_only", "repeatable"),
    [("recording.start", False, False), ("recording.status", True, True), ("stream.close", False, True), ("stream.details", False, True)],
)
def test_run_command_repeats_read_only_and_known_commands(tmp_path, command, read_only, repeatable):
    client, http, _clock = make_client({"status": "success"}, tmp_path=tmp_path)
    params = dict(PARAMS, command=command, params={"app": "a"}, changed=False, read_only=read_only)
    se.run_command(params, client=client)
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


@pytest.mark.parametrize(("body", "says"), [*BROKEN_ANSWERS, ({"status": "success", "data": "x"}, 'the answer cannot be used: "data" is the string "x"')])
def test_broken_answers_to_a_read_say_what_is_wrong(tmp_path, body, says):
    client, _http, _clock = make_client(body, tmp_path=tmp_path)
    with pytest.raises(StreamingError) as caught:
        se.viewer_info(dict(PARAMS, app="a", url=None), client=client)
    text = str(caught.value)
    assert says in text and "ScaleEngine viewer.live" in text and "api_url" in text
    assert "may have taken effect" not in text


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


def test_the_client_reads_at_most_the_json_bound():
    client = se.ScaleEngineClient(dict(PARAMS, timeout=5, validate_certs=True, ca_path=None))
    assert client.http.max_response_bytes == se.MAX_ANSWER_BYTES == 8 * 1024 * 1024
    client.close()


def test_messages_of_any_type_reach_the_result(api):
    api.add_fault(kind="status", method="POST", match='"command":"stream.close"', status=200, body='{"status":"success","message":{"closed":["s"]}}')
    result = se.close_stream(stream_params(api), client=work_client(api))
    assert result["changed"] is True and result["message"] == '{"closed":["s"]}'
