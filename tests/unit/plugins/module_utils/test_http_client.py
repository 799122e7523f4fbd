"""http_client.py: backoff, Retry-After, session settings, and HttpClient.request's retry decisions over a fake transport (no sockets)."""

from __future__ import annotations

import io
import ssl
import time
from collections.abc import Callable
from email.utils import formatdate

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from ansible_collections.mediaops.streaming.plugins.module_utils import http_client as http
from ansible_collections.mediaops.streaming.plugins.module_utils.context import ExecutionContext
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, excerpt
from ansible_collections.mediaops.streaming.plugins.module_utils.http_client import ApiClient, HttpClient


def test_backoff_grows_with_jitter_and_is_capped(monkeypatch):
    monkeypatch.setattr(http.random, "uniform", lambda low, high: high)
    assert [http.backoff_delay(attempt) for attempt in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert http.backoff_delay(20) == http.BACKOFF_MAX
    monkeypatch.setattr(http.random, "uniform", lambda low, high: low)
    assert http.backoff_delay(3) == 1.0  # never less than half the step


def test_retry_after_is_honoured_and_capped():
    assert http.backoff_delay(1, retry_after=7) == 7
    assert http.backoff_delay(1, retry_after=3600) == http.RETRY_AFTER_MAX
    assert http.backoff_delay(1, retry_after=-5) == 0


def test_parse_retry_after_forms():
    assert http.parse_retry_after("12") == 12.0
    assert http.parse_retry_after(None) is None
    assert http.parse_retry_after("soon") is None
    in_ten = http.parse_retry_after(formatdate(time.time() + 10, usegmt=True))
    assert 8 <= in_ten <= 11
    assert http.parse_retry_after(formatdate(time.time() - 100, usegmt=True)) == 0.0


def test_client_sends_utf8_basic_auth():
    client = http.HttpClient(username="operator", password="pa55/wörd")
    assert client.session.auth == (b"operator", "pa55/wörd".encode())


def test_client_tls_options():
    assert http.HttpClient(validate_certs=True, ca_path="/etc/ca.pem").session.verify == "/etc/ca.pem"
    assert http.HttpClient(validate_certs=False, ca_path="/etc/ca.pem").session.verify is False
    assert http.HttpClient().session.verify is True


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 86401, True, "30"])
def test_timeout_outside_its_bounds_is_refused_by_name(timeout):
    with pytest.raises(StreamingError, match="timeout must be a number of seconds above 0"):
        HttpClient(timeout=timeout)


@pytest.mark.parametrize("retries", [-1, 21, 1.5, None])
def test_retries_outside_its_bounds_is_refused_by_name(retries):
    with pytest.raises(StreamingError, match="retries must be a whole number from 0 to 20"):
        HttpClient(retries=retries)


def test_server_text_in_an_excerpt_cannot_drive_the_terminal():
    assert excerpt("a\x1b[2Jb\u202ec") == "a\\u001b[2Jb\\u202ec"


# -- HttpClient.request through a fake transport ------------------------------------------------
#
# A fake requests adapter is mounted on the client's session in place of the
# real HTTPAdapter: no socket is opened, and each request gets the next entry
# of a script (a canned answer, or the exception requests raises for that
# failure). What this cannot exercise: urllib3's own retry of a failed
# connection, which lives inside the real HTTPAdapter that the fake replaces
# (test_connection_retry_is_left_to_urllib3 checks how it is configured).

URL = "http://h/api/thing"


class Body(io.RawIOBase):
    """A response body that records how much of it was read and can fail part-way, like a connection reset mid-answer."""

    def __init__(self, data: bytes, fail_after: int | None = None):
        self.data = data
        self.fail_after = fail_after
        self.read_bytes = 0

    def readable(self):
        return True

    def read(self, size=-1):
        if self.fail_after is not None and self.read_bytes >= self.fail_after:
            raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(0 bytes read)")
        end = len(self.data) if size is None or size < 0 else self.read_bytes + size
        if self.fail_after is not None:
            end = min(end, self.fail_after)
        chunk = self.data[self.read_bytes : end]
        self.read_bytes += len(chunk)
        return chunk


def answer(status: int = 200, body: bytes | Body = b"", headers: dict | None = None) -> Callable:
    """A script entry: the server answers ``status`` with ``headers`` and ``body``."""

    def respond(request):
        response = requests.Response()
        response.status_code = status
        response.reason = "canned"
        response.headers = CaseInsensitiveDict(headers or {})
        response.raw = body if isinstance(body, Body) else Body(body)
        response.url = request.url
        response.request = request
        return response

    return respond


class FakeAdapter(BaseAdapter):
    """Plays ``script`` in order: a callable builds the answer to a request, an exception is raised as requests would."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.sent: list[dict] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append(dict(method=request.method, url=request.url, headers=dict(request.headers), body=request.body, timeout=timeout, verify=verify))
        assert self.script, f"unexpected request {request.method} {request.url}"
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step(request)

    def close(self):
        pass


def refused() -> requests.exceptions.ConnectionError:
    """What requests raises when nothing listens on the port."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, "/api/thing", reason))


def connect_timeout() -> requests.exceptions.ConnectTimeout:
    reason = ConnectTimeoutError(None, "Connection to h timed out. (connect timeout=30)")
    return requests.exceptions.ConnectTimeout(MaxRetryError(None, "/api/thing", reason))


def read_timeout() -> requests.exceptions.ReadTimeout:
    return requests.exceptions.ReadTimeout(ReadTimeoutError(None, "/api/thing", "Read timed out. (read timeout=30)"))


def reset() -> requests.exceptions.ConnectionError:
    """The server closed the connection after the request was sent, before any answer."""
    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")))


def ssl_error(reason: str) -> requests.exceptions.SSLError:
    return requests.exceptions.SSLError(MaxRetryError(None, "/", ssl.SSLError(1, reason)))


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The waits between attempts, recorded instead of slept; the jitter is pinned to its lowest value."""
    waited: list[float] = []
    monkeypatch.setattr(http.time, "sleep", waited.append)
    monkeypatch.setattr(http.random, "uniform", lambda low, high: low)
    return waited


def fake_client(script, **options) -> tuple[HttpClient, FakeAdapter, list[str]]:
    warned: list[str] = []
    client = HttpClient(warn=warned.append, **options)
    adapter = FakeAdapter(script)
    client.session.mount("http://", adapter)
    client.session.mount("https://", adapter)
    return client, adapter, warned


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_idempotent_method_is_sent_again_on_a_busy_status(sleeps, method, status):
    client, adapter, warned = fake_client([answer(status), answer(status), answer(200, b"done")])
    response = client.request(method, URL)
    assert response.status_code == 200 and response.content == b"done"
    assert response.attempts == 3
    assert [sent["method"] for sent in adapter.sent] == [method] * 3
    assert sleeps == [0.25, 0.5]
    assert warned == [
        f"{method} {URL} returned HTTP {status}; retrying in 0.2s (retry 1 of 3)",
        f"{method} {URL} returned HTTP {status}; retrying in 0.5s (retry 2 of 3)",
    ]


def test_busy_status_after_the_last_retry_is_returned_to_the_caller(sleeps):
    client, adapter, warned = fake_client([answer(503, b"busy")] * 3, retries=2)
    response = client.request("GET", URL)
    assert response.status_code == 503 and response.text == "busy"
    assert response.attempts == 3
    assert len(adapter.sent) == 3 and len(sleeps) == 2 and len(warned) == 2


@pytest.mark.parametrize("status", [200, 201, 204, 301, 400, 401, 404, 409, 500, 501])
def test_other_statuses_are_answers_not_retried(sleeps, status):
    client, adapter, warned = fake_client([answer(status)])
    response = client.request("GET", URL)
    assert response.status_code == status and response.attempts == 1
    assert len(adapter.sent) == 1 and sleeps == [] and warned == []


def test_retries_zero_sends_once(sleeps):
    client, adapter, _warned = fake_client([answer(503)], retries=0)
    assert client.request("GET", URL).status_code == 503
    assert len(adapter.sent) == 1 and sleeps == []


@pytest.mark.parametrize("method", ["POST", "PATCH", "post"])
def test_a_write_that_is_not_repeatable_is_sent_once(sleeps, method):
    client, adapter, warned = fake_client([answer(503)])
    response = client.request(method, URL, data=b"x")
    assert response.status_code == 503 and response.attempts == 1
    assert [sent["method"] for sent in adapter.sent] == [method.upper()]
    assert sleeps == [] and warned == []


def test_a_post_the_caller_calls_repeatable_is_retried(sleeps):
    client, adapter, warned = fake_client([answer(502), answer(201)])
    response = client.request("POST", URL, data=b"x", repeatable=True)
    assert response.status_code == 201 and response.attempts == 2
    assert len(adapter.sent) == 2 and warned == [f"POST {URL} returned HTTP 502; retrying in 0.2s (retry 1 of 3)"]


def test_a_put_the_caller_calls_not_repeatable_is_sent_once(sleeps):
    client, adapter, _warned = fake_client([answer(503)])
    assert client.request("PUT", URL, repeatable=False).attempts == 1
    assert len(adapter.sent) == 1


@pytest.mark.parametrize(
    ("retry_after", "waited"),
    [("7", 7.0), ("0", 0.0), ("3600", http.RETRY_AFTER_MAX), ("soon", 0.25)],
)
def test_retry_after_is_honoured_and_capped_between_attempts(sleeps, retry_after, waited):
    client, _adapter, warned = fake_client([answer(429, headers={"Retry-After": retry_after}), answer(200)])
    client.request("GET", URL)
    assert sleeps == [waited]
    assert warned == [f"GET {URL} returned HTTP 429; retrying in {waited:.1f}s (retry 1 of 3)"]


def test_retry_after_as_an_http_date(sleeps):
    client, _adapter, _warned = fake_client([answer(503, headers={"Retry-After": formatdate(time.time() + 20, usegmt=True)}), answer(200)])
    client.request("GET", URL)
    assert 18 <= sleeps[0] <= 21


def test_prepare_is_called_before_every_attempt_and_its_values_are_sent(sleeps):
    calls = []

    def prepare():
        calls.append(len(calls) + 1)
        return {"params": {"timestamp": str(len(calls))}, "headers": {"X-Signature": f"sig-{len(calls)}"}}

    client, adapter, _warned = fake_client([answer(503), read_timeout(), answer(200)])
    response = client.request("POST", URL, params={"timestamp": "0"}, data=b"body", prepare=prepare, repeatable=True)
    assert response.attempts == 3 and calls == [1, 2, 3]
    assert [sent["url"] for sent in adapter.sent] == [f"{URL}?timestamp=1", f"{URL}?timestamp=2", f"{URL}?timestamp=3"]
    assert [sent["headers"]["X-Signature"] for sent in adapter.sent] == ["sig-1", "sig-2", "sig-3"]
    assert {sent["body"] for sent in adapter.sent} == {b"body"}


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (read_timeout, "no answer within 30s (raise the timeout option if the server is slow)"),
        (reset, "the connection was reset or closed by the server"),
        (lambda: requests.exceptions.ChunkedEncodingError("IncompleteRead"), "the server closed the connection before the whole answer arrived"),
        (lambda: requests.exceptions.ContentDecodingError("bad gzip"), "the answer's Content-Encoding could not be decoded"),
        (lambda: requests.exceptions.TooManyRedirects("30 redirects"), "the server redirected too many times"),
    ],
)
def test_a_read_failure_of_an_idempotent_request_is_retried(sleeps, failure, reason):
    client, adapter, warned = fake_client([failure(), answer(200, b"ok")])
    response = client.request("GET", URL)
    assert response.content == b"ok" and response.attempts == 2
    assert len(adapter.sent) == 2 and sleeps == [0.25]
    assert warned == [f"GET {URL}: {reason}; retrying in 0.2s (retry 1 of 3)"]


def test_a_read_failure_on_every_attempt_fails_without_advice(sleeps):
    client, adapter, warned = fake_client([read_timeout(), read_timeout(), read_timeout(), read_timeout()], timeout=12.5)
    with pytest.raises(StreamingError) as raised:
        client.request("GET", URL)
    assert len(adapter.sent) == 4 and len(warned) == 3 and len(sleeps) == 3
    assert raised.value.message == "request failed: no answer within 12.5s (raise the timeout option if the server is slow)"
    assert (raised.value.method, raised.value.url, raised.value.status, raised.value.advice) == ("GET", URL, None, None)
    assert isinstance(raised.value.__cause__, requests.exceptions.ReadTimeout)


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (read_timeout, "no answer within 30s (raise the timeout option if the server is slow)"),
        (reset, "the connection was reset or closed by the server"),
    ],
)
def test_a_read_failure_of_a_write_is_not_repeated_and_says_so(sleeps, failure, reason):
    client, adapter, warned = fake_client([failure()])
    with pytest.raises(StreamingError) as raised:
        client.request("POST", URL, data=b"x")
    assert len(adapter.sent) == 1 and warned == [] and sleeps == []
    assert raised.value.advice == ("The request was not repeated because it is not safe to repeat; check the server's state before running the task again")
    assert str(raised.value).startswith(f"request failed: {reason} (POST {URL}). The request was not repeated")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (refused, "could not connect to the server (is the URL right and the server up?)"),
        (connect_timeout, "connection timed out after 30s"),
    ],
)
def test_a_connect_failure_is_raised_at_once_without_advice(sleeps, method, failure, reason):
    # Nothing was sent, so urllib3 has already retried the connection inside the real
    # adapter (not exercised here: the fake adapter replaces it); this layer only reports.
    client, adapter, warned = fake_client([failure()])
    with pytest.raises(StreamingError) as raised:
        client.request(method, URL)
    assert len(adapter.sent) == 1 and warned == [] and sleeps == []
    assert raised.value.message == f"request failed: {reason}"
    assert raised.value.advice is None


def test_connection_retry_is_left_to_urllib3():
    client = HttpClient(retries=4)
    for scheme in ("http://", "https://"):
        retry = client.session.get_adapter(scheme + "h/").max_retries
        assert (retry.connect, retry.read, retry.status, retry.other, retry.total) == (4, False, 0, 0, None)
        assert retry.backoff_factor == http.BACKOFF_FACTOR


def test_warnings_and_errors_show_the_url_redacted(sleeps):
    url = "http://op:pw@h/api/event?accessToken=tok-1&scope=live"
    client, _adapter, warned = fake_client([answer(503), read_timeout()], retries=1)
    with pytest.raises(StreamingError) as raised:
        client.request("GET", url)
    assert warned == ["GET http://h/api/event?accessToken=REDACTED&scope=live returned HTTP 503; retrying in 0.2s (retry 1 of 1)"]
    assert raised.value.url == "http://h/api/event?accessToken=REDACTED&scope=live"
    assert "tok-1" not in str(raised.value) and "pw" not in str(raised.value)


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1000)",
            "certificate verify failed: self-signed certificate",
        ),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)", "wrong version number"),
        ("EOF occurred in violation of protocol", "the TLS handshake failed"),
    ],
)
def test_a_tls_failure_is_raised_at_once_with_the_openssl_reason_and_advice(sleeps, reason, shown):
    client, adapter, warned = fake_client([ssl_error(reason)])
    with pytest.raises(StreamingError) as raised:
        client.request("GET", "https://h/x")
    assert len(adapter.sent) == 1 and warned == [] and sleeps == []
    assert raised.value.message == f"TLS certificate verification failed: {shown}"
    assert raised.value.advice == "Set ca_path to the CA bundle that signed the server certificate (validate_certs=false only for testing)"


def test_the_whole_body_is_read_before_the_answer_is_returned(sleeps):
    body = Body(b'{"ok": true}' * 10000)
    client, _adapter, _warned = fake_client([answer(200, body)])
    response = client.request("GET", URL)
    assert body.read_bytes == len(body.data)
    assert response.content == body.data


def test_a_body_cut_short_is_a_read_failure_retried_for_an_idempotent_request(sleeps):
    client, _adapter, warned = fake_client([answer(200, Body(b"x" * 200_000, fail_after=70_000)), answer(200, b"whole")])
    response = client.request("GET", URL)
    assert response.content == b"whole" and response.attempts == 2
    assert warned == [f"GET {URL}: the server closed the connection before the whole answer arrived; retrying in 0.2s (retry 1 of 3)"]


def test_a_body_declared_too_large_is_not_read(sleeps):
    body = Body(b"x" * 11)
    client, adapter, _warned = fake_client([answer(200, body, {"Content-Length": "11"})], max_response_bytes=10)
    with pytest.raises(StreamingError) as raised:
        client.request("GET", URL)
    assert body.read_bytes == 0 and len(adapter.sent) == 1
    assert raised.value.message == "the answer is larger than 10 bytes; it was not read"
    assert raised.value.status == 200
    assert raised.value.advice == "Check that the URL points at the right server: no answer of this API should be that large"


def test_a_streamed_body_is_cut_off_at_the_bound_and_not_retried(sleeps):
    body = Body(b"x" * (10 * http._READ_CHUNK))
    client, adapter, warned = fake_client([answer(200, body)], max_response_bytes=2 * http._READ_CHUNK + 1)
    with pytest.raises(StreamingError, match=r"^the answer is larger than 131073 bytes; it was not read"):
        client.request("GET", URL)
    assert body.read_bytes == 3 * http._READ_CHUNK, "reading stops at the first chunk past the bound"
    assert len(adapter.sent) == 1 and warned == [] and sleeps == []


def test_a_body_of_exactly_the_bound_is_read():
    client, _adapter, _warned = fake_client([answer(200, b"x" * 10, {"Content-Length": "10"})], max_response_bytes=10)
    assert client.request("GET", URL).content == b"x" * 10


def test_the_default_bound_is_shown_in_mib():
    assert http._size(http.MAX_RESPONSE_BYTES) == "64 MiB"
    assert HttpClient().max_response_bytes == http.MAX_RESPONSE_BYTES


def test_the_timeout_is_sent_with_every_request_and_a_call_may_override_it(sleeps):
    client, adapter, _warned = fake_client([answer(200), answer(200)], timeout=7)
    client.request("GET", URL)
    client.request("GET", URL, timeout=2.5)
    assert [sent["timeout"] for sent in adapter.sent] == [7, 2.5]


def test_a_read_timeout_message_names_the_overridden_timeout(sleeps):
    client, _adapter, _warned = fake_client([read_timeout()])
    with pytest.raises(StreamingError, match=r"no answer within 2.5s"):
        client.request("POST", URL, timeout=2.5)


@pytest.mark.parametrize(
    ("options", "verify"),
    [
        ({}, True),
        ({"ca_path": "/etc/ca.pem"}, "/etc/ca.pem"),
        ({"validate_certs": False}, False),
        ({"validate_certs": False, "ca_path": "/etc/ca.pem"}, False),
    ],
)
def test_the_task_tls_choice_reaches_the_transport_even_against_the_environment(monkeypatch, options, verify):
    # requests lets REQUESTS_CA_BUNDLE override Session.verify; the per-request value must win.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/env/bundle.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/env/curl.pem")
    client, adapter, _warned = fake_client([answer(200)], **options)
    client.request("GET", "https://h/x")
    expected = "/env/bundle.pem" if verify is True else verify  # True lets the environment's bundle apply
    assert adapter.sent[0]["verify"] == expected


def test_validate_certs_false_warns_once_when_the_client_is_made(sleeps):
    client, _adapter, warned = fake_client([answer(200), answer(200)], validate_certs=False)
    client.request("GET", URL)
    client.request("GET", URL)
    assert len(warned) == 1 and warned[0].startswith("validate_certs=false: server certificates are not verified")


def test_every_request_carries_the_collection_user_agent():
    client, adapter, _warned = fake_client([answer(200)])
    client.request("GET", URL, headers={"Accept": "application/json"})
    assert adapter.sent[0]["headers"]["User-Agent"] == http.USER_AGENT
    assert adapter.sent[0]["headers"]["Accept"] == "application/json"


def test_from_params_reads_the_connection_options():
    client = HttpClient.from_params({"timeout": 5.0, "validate_certs": True, "ca_path": "/ca.pem", "retries": 1}, username="u", password="p")
    assert (client.timeout, client.retries, client.verify, client.session.auth) == (5.0, 1, "/ca.pem", (b"u", b"p"))
    defaults = HttpClient.from_params({})
    assert (defaults.timeout, defaults.retries, defaults.verify, defaults.session.auth) == (30, 3, True, None)


def test_close_closes_the_session():
    client, _adapter, _warned = fake_client([])
    closed = []
    client.session.close = lambda: closed.append(True)
    client.close()
    assert closed == [True]


@pytest.mark.parametrize(("timeout", "retries"), [(86400, 20), (0.001, 0), (1, 3)])
def test_timeout_and_retries_at_their_bounds_are_accepted(timeout, retries):
    client = HttpClient(timeout=timeout, retries=retries)
    assert (client.timeout, client.retries) == (timeout, retries)


# -- ApiClient: the contract of every vendor client ---------------------------------------------


class RecordingHttp:
    """Stands in for HttpClient: anything with ``request`` and ``close``."""

    def __init__(self):
        self.closed = 0

    def request(self, method, url, **kwargs):
        raise AssertionError("not used")

    def close(self):
        self.closed += 1


class BasicAuthClient(ApiClient):
    @staticmethod
    def http_credentials(params):
        return {"username": params["username"], "password": params["password"]}


def test_api_client_uses_an_injected_http_and_keeps_params_and_context():
    context, fake = ExecutionContext(), RecordingHttp()
    client = ApiClient({"url": "http://h"}, context, http=fake)
    assert (client.params, client.context, client.http) == ({"url": "http://h"}, context, fake)


def test_api_client_as_a_context_manager_closes_its_http_once_also_on_error():
    fake = RecordingHttp()
    with ApiClient({}, ExecutionContext(), http=fake) as client:
        assert isinstance(client, ApiClient)
        assert fake.closed == 0
    assert fake.closed == 1

    failing = RecordingHttp()
    with pytest.raises(StreamingError, match="boom"), ApiClient({}, ExecutionContext(), http=failing):
        raise StreamingError("boom")
    assert failing.closed == 1


def test_api_client_builds_an_http_client_from_the_connection_options():
    client = ApiClient({"timeout": 4.0, "retries": 2, "validate_certs": True, "ca_path": "/ca.pem"}, ExecutionContext())
    assert isinstance(client.http, HttpClient)
    assert (client.http.timeout, client.http.retries, client.http.verify, client.http.session.auth) == (4.0, 2, "/ca.pem", None)


def test_api_client_closes_the_real_session():
    client = ApiClient({}, ExecutionContext())
    closed = []
    client.http.session.close = lambda: closed.append(True)
    with client:
        pass
    assert closed == [True]


def test_api_client_passes_the_vendor_credentials_to_basic_auth():
    client = BasicAuthClient({"username": "operator", "password": "pä55"}, ExecutionContext())
    assert client.http.session.auth == (b"operator", "pä55".encode())


def test_api_client_warnings_reach_the_context(sleeps):
    shown = []
    context = ExecutionContext(warn=shown.append)
    client = ApiClient({"validate_certs": False}, context)
    client.http.session.mount("http://", FakeAdapter([answer(503), answer(200)]))
    client.http.request("GET", URL)
    assert context.warnings == shown
    assert [text.split(":")[0] for text in context.warnings] == ["validate_certs=false", "GET http"]
    assert context.warnings[1] == f"GET {URL} returned HTTP 503; retrying in 0.2s (retry 1 of 3)"


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (requests.exceptions.InvalidURL("http://[::1"), "the URL is not valid"),
        (requests.exceptions.InvalidHeader("bad header"), "the request failed (InvalidHeader)"),
        (requests.exceptions.ConnectionError("Read timed out."), "no answer within 30s (raise the timeout option if the server is slow)"),
        (
            requests.exceptions.ConnectionError(ProtocolError("IncompleteRead(10 bytes read)")),
            "the server closed the connection before the whole answer arrived",
        ),
    ],
)
def test_other_transport_failures_are_described(sleeps, failure, reason):
    client, _adapter, _warned = fake_client([failure])
    with pytest.raises(StreamingError) as raised:
        client.request("POST", URL)
    assert raised.value.message == f"request failed: {reason}"
