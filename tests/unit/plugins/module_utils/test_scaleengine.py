# Copyright: mediaops.streaming contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for plugins/module_utils/scaleengine.py: PHP-compatible signing, answers, client, work functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import scaleengine as se
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError
from tests.emulators import scaleengine as emulator_module
from tests.emulators.scaleengine import ScaleEngineEmulator

# Test vectors from the field notes (measured with PHP 8.2 json_encode).
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


# -- signing: the field notes' vectors ------------------------------------------


@pytest.mark.parametrize(("command", "fields", "cdn", "text", "signature"), VECTORS, ids=["1-close", "2-push", "3-slash", "4-unicode", "5-cdn-string"])
def test_vectors(command, fields, cdn, text, signature):
    request = se.build_request(command, fields, API_KEY, cdn, TIMESTAMP)
    assert se.php_json_encode(request) == text
    assert se.sign_request(request, SECRET) == signature


def test_wrong_variants_differ():
    """What other clients get wrong gives the field notes' wrong signatures, never the right one."""
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
    def __init__(self, body, status=200):
        self.text = body if isinstance(body, str) else json.dumps(body)
        self.status_code = status

    def json(self):
        return json.loads(self.text)


class FakeHttp:
    """Stands in for HttpClient: answers in turn; calls prepare() once per answer, as each try does."""

    def __init__(self, *answers, tries_per_answer=1):
        self.answers = list(answers)
        self.tries_per_answer = tries_per_answer
        self.posted = []

    def request(self, method, url, prepare=None, repeatable=None, **kwargs):
        assert method == "POST" and repeatable is True
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
    [("<html>busy</html>", 200, "not a JSON object"), ("[1]", 200, "not a JSON object"), ("", 200, "empty body"), ("Not Found", 404, "HTTP 404")],
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


@pytest.mark.parametrize("url", ["ftp://a", "api.example.net/stable/", "https://a.example/stable/?x=1"])
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
