"""Pure logic of errors.py: URL redaction, excerpts, the error message."""

from __future__ import annotations

import pytest

from ansible_collections.mediaops.streaming.plugins.module_utils.errors import (
    StreamingError,
    basic_credentials,
    excerpt,
    forget_secrets,
    redact_url,
    register_secret,
    scrub,
    secret_forms,
)


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


# -- secrets: every form a value takes on the wire is masked ---------------------------------

SECRET = 'pa/ss+wö&rd "q" é'


@pytest.fixture(autouse=True)
def _no_secrets_between_tests():
    forget_secrets()
    yield
    forget_secrets()


@pytest.mark.parametrize(
    ("shown", "form"),
    [
        (SECRET, "raw"),
        ("pa%2Fss%2Bw%C3%B6%26rd+%22q%22+%C3%A9", "query string (requests' urlencode)"),
        ("pa/ss%2bw%c3%b6%26rd%20%22q%22%20%c3%a9", "path, lower-case hex"),
        ('pa/ss+w\\u00f6&rd \\"q\\" \\u00e9', "JSON"),
        ('pa\\/ss+w\\u00f6&rd \\"q\\" \\u00e9', "PHP json_encode"),
        ('pa\\/ss+w\\u00F6&rd \\"q\\" \\u00E9', "JSON, upper-case hex"),
        ("pa/ss+wö&amp;rd &quot;q&quot; é", "HTML"),
        ('pa/ss+w\\xc3\\xb6&rd "q" \\xc3\\xa9', "Python bytes repr"),
    ],
)
def test_registered_secret_is_masked_in_every_form(shown, form):
    assert scrub(f"server said: {shown}!") == f"server said: {shown}!", "nothing is masked before registration"
    register_secret(SECRET)
    assert scrub(f"server said: {shown}!") == "server said: ********!", form


def test_basic_credentials_are_the_header_token_in_utf8_and_latin1():
    tokens = basic_credentials("opérateur", "pw")
    assert tokens == {"b3DDqXJhdGV1cjpwdw==", "b3DpcmF0ZXVyOnB3"}
    assert basic_credentials("user", None) == set() and basic_credentials(None, "pw") == set()
    assert basic_credentials("ü", "€") == {"w7w64oKs"}  # outside Latin-1: UTF-8 only


def test_scrub_reaches_keys_and_nested_values_and_leaves_other_types():
    register_secret("tok-123456")
    value = {"url": "x?accessToken=tok-123456", "tok-123456": [("a", "tok-123456")], "count": 3, "ok": True, "none": None}
    assert scrub(value) == {"url": "x?accessToken=********", "********": [("a", "********")], "count": 3, "ok": True, "none": None}


def test_scrub_replaces_the_longest_form_whole():
    register_secret("a/b")
    # The URL-encoded form contains the raw "a" and "b"; it must not become half masked.
    assert scrub("a%2Fb and a/b") == "******** and ********"


def test_excerpt_masks_before_cutting_so_no_half_secret_is_shown():
    secret = "0123456789abcdefghij"
    register_secret(secret)
    body = "x" * 290 + secret + " tail"
    shown = excerpt(body)
    assert "0123456789" not in shown and "01234" not in shown
    assert shown == "x" * 290 + "********" + " t..."


def test_excerpt_masks_a_secret_split_by_whitespace_collapsing():
    register_secret("two  spaces\tand tab")
    assert excerpt("before two  spaces\tand tab after") == "before ******** after"


def test_error_text_and_result_are_scrubbed_also_for_secrets_registered_later():
    error = StreamingError("refused key k3y/ü", method="GET", url="http://h/x", status=401, body="echo k3y%2F%C3%BC", details={"sent": "k3y/ü"})
    register_secret("k3y/ü")
    assert str(error).startswith("refused key ******** (GET http://h/x returned HTTP 401); server said: echo ********. Check the credentials")
    assert error.result() == {"sent": "********", "method": "GET", "url": "http://h/x", "status": 401, "response_excerpt": "echo ********"}


def test_empty_values_register_nothing():
    register_secret("")
    register_secret(None)
    assert scrub("anything") == "anything"
    assert secret_forms("") == set()


def test_status_gets_default_advice_unless_the_caller_gives_better():
    assert "Check the credentials" in str(StreamingError("refused", method="GET", url="https://h/x", status=401))
    assert "run the task again when it is back" in str(StreamingError("busy", method="GET", url="https://h/x", status=503))
    assert "check its logs" in str(StreamingError("odd", method="GET", url="https://h/x", status=507))
    assert str(StreamingError("refused", method="GET", url="https://h/x", status=401, advice="Check USP_PASSWORD")).endswith(". Check USP_PASSWORD")
    # No status, or one that says nothing about what to do: no invented advice.
    assert str(StreamingError("no such point", method="GET", url="https://h/x", status=404)).endswith("returned HTTP 404)")
    assert StreamingError("bad input").advice is None
