"""Pure logic of errors.py: URL redaction, excerpts, the error message."""

from __future__ import annotations

import pytest

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
