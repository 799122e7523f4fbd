"""Pure logic of errors.py and http.py: redaction, messages, backoff, Retry-After."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils import http
from ansible_collections.mediaops.streaming.plugins.module_utils.errors import StreamingError, excerpt, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:secret@sm.example.com:5080/a/b", "https://sm.example.com:5080/a/b"),
        (
            "http://h/streammanager/api/4.0/admin/event?accessToken=xyz123&includeActive=true",
            "http://h/streammanager/api/4.0/admin/event?accessToken=REDACTED&includeActive=true",
        ),
        ("http://h/ch1/ch1.isml/purge?t=00:00:00-00:02:30", "http://h/ch1/ch1.isml/purge?t=00:00:00-00:02:30"),
        ("http://h/x?signature=abc&api_key=k&password=p", "http://h/x?signature=REDACTED&api_key=REDACTED&password=REDACTED"),
        ("http://h/x#fragment", "http://h/x"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_excerpt_is_one_bounded_line():
    assert excerpt("a\n  b\tc") == "a b c"
    assert excerpt(b"\xff ok") == "\ufffd ok"
    long = excerpt("x" * 1000)
    assert len(long) == 303 and long.endswith("...")
    assert excerpt(None) == ""


def test_error_message_names_request_and_advice_without_credentials():
    error = StreamingError(
        "could not delete",
        method="DELETE",
        url="http://op:pw@h/ch1/ch1.isml?accessToken=tok",
        status=403,
        body="<html>\n Forbidden </html>",
        advice="Stop the encoder first",
        details={"publishing_point_state": "started"},
    )
    text = str(error)
    assert text == (
        "could not delete (DELETE http://h/ch1/ch1.isml?accessToken=REDACTED returned HTTP 403); server said: <html> Forbidden </html>. Stop the encoder first"
    )
    assert "pw" not in text and "tok" not in text
    assert error.result() == {
        "publishing_point_state": "started",
        "method": "DELETE",
        "url": "http://h/ch1/ch1.isml?accessToken=REDACTED",
        "status": 403,
        "response_excerpt": "<html> Forbidden </html>",
    }


def test_error_without_request_is_just_the_message():
    assert str(StreamingError("bad name")) == "bad name"
    assert StreamingError("bad name").result() == {}


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
